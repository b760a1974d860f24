"""Lesson 11's rapid categorisation in a real JupyterLab: the browser, not the kernel, ends each exposure."""
EXPOSURE_MS = 300

# JavaScript: watch every animation frame for the stimulus image; record when it appears and leaves.
_WATCH_JS = """() => {
  window.__glance = {appeared: null, left: null};
  const tick = (now) => {
    const shown = document.querySelector('.gan-stimulus') !== null;
    const w = window.__glance;
    if (shown && w.appeared === null) w.appeared = now;
    if (!shown && w.appeared !== null && w.left === null) w.left = now;
    if (w.left === null) requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
}"""

PROBE = f"""
import torch
from gan_lessons import judge_widgets
g = torch.Generator().manual_seed(0)
real, fake = torch.rand(100, 1, 28, 28, generator=g), torch.rand(100, 1, 28, 28, generator=g)
glance = judge_widgets.RapidCategorisation(real, fake, exposures_ms=({EXPOSURE_MS},), n_per_exposure=4, seed=0)
glance.box
"""


def test_the_stimulus_shows_for_its_exposure_then_the_mask(open_notebook, scratch_notebook, artifacts_dir):
    nb = open_notebook(scratch_notebook([PROBE]))
    nb.run_all(timeout_s=120)
    assert nb.errors() == [], "\n---\n".join(nb.errors())
    page = nb.page
    show = page.get_by_role("button", name="Show image", exact=True)
    show.wait_for(state="visible", timeout=60_000)
    page.locator(".gan-mask").wait_for(state="attached", timeout=30_000)
    assert page.locator(".gan-stimulus").count() == 0, "the stimulus is on screen before any trial"
    page.evaluate(_WATCH_JS)
    show.click()
    try:
        page.wait_for_function("() => window.__glance.left !== null", timeout=10_000)
    except Exception:
        raise AssertionError(f"the stimulus never came and went within 10 s: {page.evaluate('() => window.__glance')}")
    timing = page.evaluate("() => window.__glance")
    nb.screenshot(artifacts_dir / "11_glance_after_trial.png")
    shown_ms = timing["left"] - timing["appeared"]
    print(f"exposure {EXPOSURE_MS} ms: the stimulus was on screen for {shown_ms:.0f} ms")
    # A timer never fires early; the frames on either side can each be one refresh (about 17 ms) late
    # to notice, so the lower bound allows two. The upper bound only catches a kernel round trip gone wrong.
    assert EXPOSURE_MS - 34 <= shown_ms <= EXPOSURE_MS + 700, f"the stimulus stayed {shown_ms:.0f} ms"
    assert page.locator(".gan-mask").count() == 1, "the mask does not cover the image after the exposure"
    assert page.get_by_role("button", name="Real", exact=True).is_enabled()
