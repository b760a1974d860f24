"""Every lesson, run in quick mode in a real JupyterLab: no output may show an error or a traceback.

The unit suite already executes each notebook under nbval; this checks what a learner sees in the page
(widgets that fail to display, tracebacks from callbacks, errors the browser renders).
"""
import json
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

LESSONS = sorted(p.name for p in NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def test_lessons_found():
    assert LESSONS, f"no lessons found in {NOTEBOOKS}"


@pytest.mark.parametrize("lesson", LESSONS)
def test_lesson_runs_without_errors(lesson, open_notebook, artifacts_dir):
    nb = open_notebook(f"notebooks/{lesson}")
    state = nb.run_all(timeout_s=300)
    errors = nb.errors()
    nb.screenshot(artifacts_dir / f"{lesson.removesuffix('.ipynb')}.png")
    assert not errors, f"{lesson}: {len(errors)} output(s) show an error:\n" + "\n---\n".join(errors)
    cells = json.loads((NOTEBOOKS / lesson).read_text())["cells"]
    code_cells = sum(c["cell_type"] == "code" for c in cells)
    assert state["n"] == code_cells, (
        f"{lesson}: the page shows {state['n']} code cells, the file has {code_cells}")


def test_error_check_sees_a_traceback(open_notebook, artifacts_dir):
    """The check above must be able to fail: a notebook that raises shows its traceback to it."""
    probe_dir = Path(__file__).resolve().parents[2] / "artifacts" / "e2e-probe"  # git-ignored
    probe_dir.mkdir(parents=True, exist_ok=True)
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": ["raise ValueError('probe: the e2e error check must see this')"]}
    notebook = {"cells": [cell], "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                                             "language": "python"}},
                "nbformat": 4, "nbformat_minor": 4}
    (probe_dir / "probe.ipynb").write_text(json.dumps(notebook))
    nb = open_notebook("artifacts/e2e-probe/probe.ipynb")
    nb.run_all(timeout_s=120)
    errors = nb.errors()
    assert len(errors) == 1 and "ValueError" in errors[0] and "probe" in errors[0], errors
