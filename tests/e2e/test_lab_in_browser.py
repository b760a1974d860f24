"""Lesson 05's training lab in a real JupyterLab: slider, Step, Play and Pause, checked from the page."""
import time

LESSON = "notebooks/05_training_1d_gan.ipynb"

# JavaScript: the lab's readout table as {label: text of the bold value}.
_READOUT_JS = """(root) => {
  const out = {};
  for (const td of root.querySelectorAll('.widget-html td')) {
    const b = td.querySelector('b');
    if (b) out[td.firstChild.textContent.trim()] = b.textContent.trim();
  }
  return out;
}"""


class Lab:
    """The training lab's widget in the page, found by its Step D button."""

    def __init__(self, page):
        self.page = page
        self.root = page.locator(".jp-OutputArea-output").filter(
            has=page.get_by_role("button", name="Step D", exact=True))
        self.image = self.root.locator("img.widget-image")

    def slider(self, label: str):
        """The slider whose description is ``label`` (e.g. "D steps")."""
        return self.root.locator(".widget-slider").filter(
            has=self.page.locator(".widget-label", has_text=label))

    def slider_value(self, label: str) -> int:
        """The value the slider's readout shows."""
        return int(self.slider(label).locator(".widget-readout").inner_text().strip())

    def button(self, name: str):
        """A push button by its label ("Step", "Step D", ...)."""
        return self.root.get_by_role("button", name=name, exact=True)

    def play_button(self, label: str):
        """The Play/Pause toggle (its icon's glyph is part of its accessible name), showing ``label``."""
        return self.root.locator("button.widget-toggle-button", has_text=label)

    def counts(self) -> tuple[int, int, int]:
        """(iteration, D updates, G updates) as the readout shows them."""
        cells = self.root.evaluate(_READOUT_JS)
        return int(cells["iteration"]), int(cells["D updates"]), int(cells["G updates"])

    def wait_counts(self, condition, timeout_s: float, what: str) -> tuple[int, int, int]:
        """Poll the readout until ``condition(counts)`` holds."""
        deadline = time.monotonic() + timeout_s
        counts = None
        while time.monotonic() < deadline:
            counts = self.counts()
            if condition(counts):
                return counts
            self.page.wait_for_timeout(200)
        raise AssertionError(f"timed out after {timeout_s:.0f} s waiting for {what}; readout {counts}")

    def wait_stable(self, seconds: float, timeout_s: float) -> tuple[int, int, int]:
        """Wait until the readout has not changed for ``seconds``, and return its counts."""
        deadline = time.monotonic() + timeout_s
        last, since = self.counts(), time.monotonic()
        while time.monotonic() < deadline:
            self.page.wait_for_timeout(250)
            now = self.counts()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= seconds:
                return now
        raise AssertionError(f"the readout kept changing for {timeout_s:.0f} s after Pause (last {last})")

    def image_src(self) -> str:
        return self.image.get_attribute("src") or ""


def test_training_lab_responds_to_its_controls(open_notebook, artifacts_dir):
    nb = open_notebook(LESSON)
    nb.run_all(timeout_s=300)
    assert nb.errors() == [], f"{LESSON} shows errors:\n" + "\n---\n".join(nb.errors())

    lab = Lab(nb.page)
    lab.image.wait_for(state="visible", timeout=120_000)
    lab.root.scroll_into_view_if_needed()
    lab.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                               arg=lab.image.element_handle())
    nb.screenshot(artifacts_dir / "05_lab_loaded.png")

    # The D-steps slider, moved from its default with the keyboard: focus the handle, press ArrowRight.
    d_default, g_steps = lab.slider_value("D steps"), lab.slider_value("G steps")
    handle = lab.slider("D steps").locator(".noUi-handle")
    handle.focus()
    handle.press("ArrowRight")
    deadline = time.monotonic() + 30
    while lab.slider_value("D steps") == d_default and time.monotonic() < deadline:
        lab.page.wait_for_timeout(100)
    d_steps = lab.slider_value("D steps")
    assert d_steps == d_default + 1, f"ArrowRight moved D steps from {d_default} to {d_steps}"

    # Step: one iteration of d_steps updates of D and g_steps of G, with the new d_steps.
    it0, d0, g0 = lab.counts()
    lab.button("Step").click()
    it1, d1, g1 = lab.wait_counts(lambda c: c[0] > it0, 60, "Step to finish one iteration")
    assert (it1 - it0, d1 - d0, g1 - g0) == (1, d_steps, g_steps), (
        f"Step with D steps {d_steps}, G steps {g_steps}: readout went from {(it0, d0, g0)} "
        f"to {(it1, d1, g1)}")
    src1 = lab.image_src()
    before = lab.image.screenshot(path=str(artifacts_dir / "05_lab_after_step.png"))

    # Play, wait until it has trained a while, Pause; the counts must advance in the same ratio.
    lab.play_button("Play").click()
    lab.play_button("Pause").wait_for()
    lab.wait_counts(lambda c: c[0] >= it1 + 50, 120, "Play to train 50 iterations")
    nb.screenshot(artifacts_dir / "05_lab_playing.png")
    lab.play_button("Pause").click()
    lab.play_button("Play").wait_for(timeout=60_000)
    # The page may still be drawing frames that were sent before Pause: wait until the readout settles.
    it2, d2, g2 = lab.wait_stable(seconds=3, timeout_s=60)
    n = it2 - it1
    assert n >= 50
    assert (d2 - d1, g2 - g1) == (d_steps * n, g_steps * n), (
        f"Play with D steps {d_steps}, G steps {g_steps}: {n} iterations but {d2 - d1} D updates "
        f"and {g2 - g1} G updates")

    # The figure changed: a new image was sent and it looks different.
    assert lab.image_src() != src1
    after = lab.image.screenshot(path=str(artifacts_dir / "05_lab_after_pause.png"))
    assert after != before, "the figure did not change while the lab played"
    lab.root.screenshot(path=str(artifacts_dir / "lab.png"))
    nb.screenshot(artifacts_dir / "05_lab_paused.png")
