# The course's two everyday commands:
#   make lab    set up a virtual environment (first time only) and open the course in JupyterLab
#   make test   run the unit tests and execute every lesson in quick mode
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
# Where pip looks for torch: empty for the default index; on Linux without an NVIDIA GPU,
# TORCH_INDEX=<PyTorch's CPU wheel index, from PyTorch's installation page> takes the CPU-only
# build (a few hundred MB instead of several GB of CUDA libraries).
TORCH_INDEX ?=
BIN := $(VENV)/bin

.PHONY: lab setup test test-full clean-venv

# JupyterLab refuses to start as root (containers often are) unless told it is intended.
LAB_ARGS ?= $(if $(filter 0,$(shell id -u)),--allow-root,)

# The lesson `make lab` opens. The server's root is the checkout and its default page is the lesson,
# so the address JupyterLab prints (with the token it generates, on the first free port from 8888)
# opens the lesson itself, and so does the browser it starts.
LESSON ?= notebooks/01_generative_models.ipynb

lab: setup
	$(BIN)/jupyter lab $(LAB_ARGS) "--ServerApp.root_dir=$(CURDIR)" "--LabApp.default_url=/lab/tree/$(LESSON)"

setup: $(VENV)/.installed

# torch is installed first and pinned, so the package's looser torch>=2.2 is already met.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install "$(TORCH)" $(if $(TORCH_INDEX),--index-url $(TORCH_INDEX),)
	$(BIN)/python -m pip install -e ".[test]"
	touch $@

test: setup
	GAN_LESSONS_QUICK=1 $(BIN)/python -m pytest

test-full: setup
	GAN_LESSONS_QUICK=0 $(BIN)/python -m pytest

clean-venv:
	rm -rf $(VENV)
