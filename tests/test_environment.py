"""pyproject.toml and environment.yml name the same packages; CI runs the README's test command;
`make lab` opens lesson 01."""
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import tomllib

ROOT = Path(__file__).resolve().parents[1]
CONDA_TO_PIP = {"pytorch": "torch"}
NOT_PACKAGES = {"python", "pip"}


def name_of(requirement: str) -> str:
    return re.split(r"[<>=!~ \[;]", requirement.strip(), maxsplit=1)[0].lower().replace("_", "-")


def pyproject_packages() -> set[str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(meta["dependencies"])
    for extra in meta["optional-dependencies"].values():
        reqs += extra
    return {name_of(r) for r in reqs}


def conda_packages() -> tuple[set[str], list[str]]:
    names, pip_lines, in_deps, in_pip = set(), [], False, False
    for line in (ROOT / "environment.yml").read_text().splitlines():
        if line.startswith("dependencies:"):
            in_deps = True
            continue
        if in_deps and (m := re.match(r"^  - (\S.*)$", line)):
            in_pip = m.group(1).rstrip() == "pip:"
            name = name_of(m.group(1))
            if not in_pip and name not in NOT_PACKAGES:
                names.add(CONDA_TO_PIP.get(name, name))
        elif in_deps and in_pip and (m := re.match(r"^      - (.+)$", line)):
            pip_lines.append(m.group(1).strip())
    return names, pip_lines


def test_environment_yml_and_pyproject_name_the_same_packages():
    conda, pip_lines = conda_packages()
    from_pip = {name_of(line.split("#")[0]) for line in pip_lines if not line.startswith("-e")}
    assert conda | from_pip == pyproject_packages()
    assert not conda & from_pip  # each package comes from one place
    assert "-e ." in pip_lines  # the package itself, editable


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    assert "make test" in readme
    assert ci[-1].strip() == "make test"
    assert "pip install --quiet torch==2.13.0" in "\n".join(ci)


def make_lab_command() -> list[str]:
    """The JupyterLab command line that `make lab` runs (from `make -n`, which runs nothing)."""
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    printed = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout
    lines = [line for line in printed.splitlines() if "jupyter lab" in line]
    assert len(lines) == 1, printed
    return shlex.split(lines[0])


def test_make_lab_prints_the_address_of_lesson_01():
    # jupyter_server prints http://<host>:<port><default_url>?token=<token>, and default_url is
    # relative to root_dir: together they must name lesson 01's file.
    options = dict(arg[2:].split("=", 1) for arg in make_lab_command() if arg.startswith("--") and "=" in arg)
    root, page = Path(options["ServerApp.root_dir"]), options["LabApp.default_url"]
    assert root == ROOT
    assert page.startswith("/lab/tree/")
    assert root / page.removeprefix("/lab/tree/") == ROOT / "notebooks" / "01_generative_models.ipynb"
    assert (root / page.removeprefix("/lab/tree/")).is_file()
