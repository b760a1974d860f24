"""Every lesson, run in quick mode in a real JupyterLab: no output may show an error or a traceback.

The unit suite already executes each notebook under nbval; this checks what a learner sees in the page
(widgets that fail to display, tracebacks from callbacks, errors the browser renders). A run stops at
its first error, which the failure then names. Each lesson with a widget panel is also opened as
committed, without running it, where every panel must show a figure.
"""
import json
import re
import time
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


WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
TQDM_BAR = re.compile(r"\d+%\|")  # tqdm's progress bars are widgets too, but not panels
# What a panel must never show: a widget that failed, one still loading, or a widget's raw repr.
BROKEN = re.compile(r"Error displaying widget[^\n]*|Loading widget|\w+\(children=")


def panel_cells(lesson: str) -> list[int]:
    """Positions among the code cells of those whose committed output displays a widget panel."""
    code = [c for c in json.loads((NOTEBOOKS / lesson).read_text())["cells"] if c["cell_type"] == "code"]
    def is_panel(out):
        data = out.get("data", {})
        return WIDGET_VIEW in data and not TQDM_BAR.search("".join(data.get("text/plain", "")))
    return [i for i, cell in enumerate(code) if any(is_panel(out) for out in cell.get("outputs", []))]


PANEL_LESSONS = [lesson for lesson in LESSONS if panel_cells(lesson)]

# JavaScript: the text and the number of loaded, visible images in the outputs of code cell i.
_OUTPUTS_JS = """(i) => {
  const nb = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
  const cell = nb ? nb.querySelectorAll('.jp-Cell.jp-CodeCell')[i] : null;
  const area = cell ? cell.querySelector('.jp-Cell-outputArea') : null;
  if (!area) return {text: '', images: 0};
  const images = [...area.querySelectorAll('img')].filter(
    img => img.complete && img.naturalWidth > 0 && img.getBoundingClientRect().height > 50);
  return {text: area.innerText, images: images.length};
}"""


def test_panel_lessons_found():
    assert {"05_training_1d_gan.ipynb", "06_mode_collapse.ipynb"} <= set(PANEL_LESSONS), PANEL_LESSONS


@pytest.mark.parametrize("lesson", PANEL_LESSONS)
def test_committed_panels_show_a_figure_without_running(lesson, open_notebook, lesson_copy, artifacts_dir):
    """Opened as committed, no cell run, every panel shows a figure: its still while the notebook is
    untrusted (a lesson fresh from git: JupyterLab then renders no widget at all), the widget from its
    saved state once trusted; never "Error displaying widget" or ``VBox(children=...)``."""
    cells = panel_cells(lesson)
    committed = (NOTEBOOKS / lesson).read_bytes()
    nb = open_notebook(lesson_copy(lesson))  # trusting saves the notebook: the copy, not the lesson
    problems = []
    for view in ("untrusted", "trusted"):
        if view == "trusted":
            nb.trust()
        deadline = time.monotonic() + 30
        while True:  # widgets render from the saved state a moment after the cells appear
            shown = {i: nb.page.evaluate(_OUTPUTS_JS, i) for i in cells}
            if time.monotonic() > deadline or all(
                    "Loading widget" not in out["text"] and (out["images"] or BROKEN.search(out["text"]))
                    for out in shown.values()):
                break
            nb.page.wait_for_timeout(250)
        first = nb.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-CodeCell").nth(cells[0])
        first.scroll_into_view_if_needed()
        first.screenshot(path=str(artifacts_dir / f"{lesson.removesuffix('.ipynb')}_unrun_{view}.png"))
        for i, out in shown.items():
            if broken := BROKEN.search(out["text"]):
                problems.append(f"{view}, code cell {i + 1}: the panel shows {broken.group(0)!r}")
            elif not out["images"]:
                problems.append(f"{view}, code cell {i + 1}: no figure in the panel's output, which reads "
                                f"{out['text'][:300]!r}")
    assert (NOTEBOOKS / lesson).read_bytes() == committed, f"{lesson}: the committed file was rewritten"
    assert not problems, f"{lesson}, opened without running it:\n" + "\n".join(problems)


# Far below run_all's timeout: opening takes a few seconds, the error shows about a second after Run All.
FAIL_FAST_S = 45


def test_run_all_stops_at_the_first_error(open_notebook, scratch_notebook):
    """A cell that raises ends the run at once, with the exception in the message; the checks above
    must be able to fail, and fail without waiting out the 300 s timeout."""
    nb = open_notebook(scratch_notebook(["print('the first cell runs')",
                                         "raise ValueError('probe: the e2e check must see this')",
                                         "print('JupyterLab runs no cell after an error')"]))
    start = time.monotonic()
    with pytest.raises(AssertionError) as failed:
        nb.run_all(timeout_s=300)
    seconds = time.monotonic() - start
    message = str(failed.value)
    # The prompt may still read [*] when the error output is already on the page (JupyterLab numbers
    # the cell a moment later); the cell's position and the error's text are what the check reports.
    assert re.search(r"code cell 2 \(prompt \[[2*]\]\) raised ValueError: probe: the e2e check must see this",
                     message), message
    assert seconds < FAIL_FAST_S, f"run_all took {seconds:.0f} s to report the error"
    errors = nb.errors()  # the end-of-run check sees the same traceback
    assert len(errors) == 1 and "ValueError" in errors[0] and "probe" in errors[0], errors


def test_run_all_stops_when_the_kernel_dies(open_notebook, scratch_notebook):
    nb = open_notebook(scratch_notebook(["print('the first cell runs')", "import os\nos._exit(1)",
                                         "print('never reached')"]))
    start = time.monotonic()
    with pytest.raises(AssertionError, match="the kernel died"):
        nb.run_all(timeout_s=300)
    seconds = time.monotonic() - start
    assert seconds < FAIL_FAST_S, f"run_all took {seconds:.0f} s to report the dead kernel"
