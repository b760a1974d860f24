# The course's two everyday commands:
#   make lab    set up a virtual environment (first time only) and open the course in JupyterLab
#   make test   run the unit tests and execute every lesson in quick mode
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
BIN := $(VENV)/bin

.PHONY: lab setup test test-full clean-venv

# JupyterLab refuses to start as root (containers often are) unless told it is intended.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: setup
	$(BIN)/jupyter lab $(LAB_ARGS) notebooks/01_generative_models.ipynb

setup: $(VENV)/.installed

# torch is installed first and pinned, so the package's looser torch>=2.2 is already met.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)"
	$(BIN)/python -m pip install -e ".[test]"
	touch $@

test: setup
	GAN_LESSONS_QUICK=1 $(BIN)/python -m pytest

test-full: setup
	GAN_LESSONS_QUICK=0 $(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
