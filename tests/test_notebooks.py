"""Every lesson follows the course's shape and is committed executed (nbval runs them separately)."""
import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def cells(nb):
    return json.loads(nb.read_text())["cells"]


def source(cell):
    return "".join(cell["source"])


def test_lessons_are_numbered_in_order():
    numbers = [int(nb.name[:2]) for nb in NOTEBOOKS]
    assert numbers == list(range(1, len(numbers) + 1))


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_title_cell_links_previous_and_next_lesson(nb):
    first = cells(nb)[0]
    assert first["cell_type"] == "markdown" and source(first).startswith("# ")
    links = re.findall(r"\]\(([0-9]{2}_[a-z0-9_]+\.ipynb)\)", source(first))
    n = int(nb.name[:2])
    for link in links:
        if int(link[:2]) <= len(NOTEBOOKS):
            assert (nb.parent / link).exists(), f"link to a lesson that does not exist: {link}"
    if n > 1:
        assert any(link.startswith(f"{n - 1:02d}_") for link in links), "no link to the previous lesson"
    if n < int(NOTEBOOKS[-1].name[:2]):  # the last lesson has no next
        assert any(link.startswith(f"{n + 1:02d}_") for link in links), "no link to the next lesson"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_one_setup_cell_with_seed_device_and_quick_mode(nb):
    code = [c for c in cells(nb) if c["cell_type"] == "code"]
    setup = source(code[0])
    for needed in ("set_seed(SEED)", "get_device()", "quick_mode()", "set_style()"):
        assert needed in setup
    assert sum("set_seed(SEED)" in source(c) for c in code) == 1


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_executed_without_errors_and_with_exercise_checks(nb):
    code = [c for c in cells(nb) if c["cell_type"] == "code" and source(c).strip()]
    assert all(c.get("execution_count") is not None for c in code), "run the notebook before committing"
    for c in code:
        assert not any(o.get("output_type") == "error" for o in c.get("outputs", []))
    assert any("exercises.check_" in source(c) for c in code)
    assert nb.stat().st_size < 3_000_000


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_names_its_kernel(nb):
    # Without a kernelspec JupyterLab asks the learner to pick a kernel before anything runs.
    kernelspec = json.loads(nb.read_text())["metadata"].get("kernelspec", {})
    assert kernelspec.get("name") == "python3"


def outputs_text(nb):
    """Every saved output's text, cell by cell: streams, plain text and error values."""
    for c in cells(nb):
        for o in c.get("outputs", []):
            yield c, "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) + o.get("evalue", "")


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_from_a_full_mode_run_with_every_claim_holding(nb):
    texts = [t for _, t in outputs_text(nb)]
    assert any("quick mode: False" in t for t in texts), "commit the lesson from a full-mode run (GAN_LESSONS_QUICK=0)"
    assert not any("quick mode: True" in t for t in texts)
    failed = [line for t in texts for line in t.splitlines() if line.startswith(("❌", "⏳"))]
    assert not failed, f"claims that do not hold in the committed run: {failed}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_outputs_show_no_machine_paths_warnings_or_frozen_progress_bars(nb):
    for c, text in outputs_text(nb):
        where = source(c)[:60]
        assert not re.search(r"(/tmp/|/root/|/home/|/work/|/Users/|[A-Z]:\\)", text), f"a machine's path in {where!r}"
        assert "Warning:" not in text, f"a warning in the output of {where!r}"
        assert not re.search(r"\b0%\|", text), f"a progress bar frozen at 0 % in {where!r}"
        assert not any(o.get("output_type") == "stream" and o.get("name") == "stderr" for o in c["outputs"]), \
            f"a stderr box in {where!r}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.name)
def test_every_displayed_widget_has_its_state_saved(nb):
    # Without it JupyterLab shows "Error displaying widget: model not found" in place of the panel:
    # execute with nbclient's default store_widget_state=True (benchmarks/bench_lessons.py does).
    notebook = json.loads(nb.read_text())
    saved = notebook["metadata"].get("widgets", {}).get("application/vnd.jupyter.widget-state+json", {})
    for c in cells(nb):
        for out in c.get("outputs", []):
            view = out.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                assert view["model_id"] in saved.get("state", {}), \
                    f"no saved state for the widget shown by {source(c)[:60]!r}"
