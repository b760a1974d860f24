"""The training lab in a real JupyterLab, checked from the page: lesson 05's (slider, Step, Play and
Pause), and the 2-D view in a scratch notebook (layers, Play, slow motion, the code, a remedy)."""
import base64
import io
import re
import time

import numpy as np
from PIL import Image

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


# --- The 2-D view: layers, Play, slow motion, the code and a remedy -------------------------------

LAB_2D_CELLS = [
    'from gan_lessons.lab import make_lab\npanel = make_lab("2-D ring of 8", seed=0)',
    "panel.trainer.train(300)\npanel.refresh()",
    "panel",
]
ARROW_RGB = (0x0B, 0x3D, 0x0B)  # G's gradient arrows (lab_figure: LineCollection colors="#0b3d0b")
ARROW_TOLERANCE = 25  # a pixel counts as an arrow's when each channel is within this of ARROW_RGB
MAIN_PANEL_COLUMNS = 320  # the 960-px figure's left third: D's heat map with G's samples, arrows, manifold

# JavaScript: the bytes of an image element's current picture (a data: or blob: URL), base64-encoded.
_IMAGE_BYTES_JS = """async (img) => {
  const buffer = await (await fetch(img.src)).arrayBuffer();
  let text = '';
  const bytes = new Uint8Array(buffer);
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}"""

# JavaScript: record, every 40 ms, each new "stage k of n" the slow-motion caption shows (in the page,
# so that no stage is missed between two round trips of the test).
_WATCH_STAGES_JS = """(root) => {
  window.__stages = [];
  const pattern = /Slow motion: one update of (D|G), stage (\\d+) of (\\d+)/;
  const read = () => {
    for (const el of root.querySelectorAll('.widget-html')) {
      const m = (el.textContent || '').match(pattern);
      if (m) return m[0];
    }
    return null;
  };
  window.__stagesTimer = setInterval(() => {
    const now = read();
    const seen = window.__stages;
    if (now !== null && seen[seen.length - 1] !== now) seen.push(now);
  }, 40);
}"""


def _lab_pixels(lab: Lab):
    """The lab's current figure as an RGB array (height, width, 3) of ints, decoded from the page."""
    data = base64.b64decode(lab.image.evaluate(_IMAGE_BYTES_JS))
    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)


def _arrow_pixels(rgb) -> int:
    """How many pixels of the main panel are (nearly) the arrows' dark green."""
    left = rgb[:, :MAIN_PANEL_COLUMNS]
    return int((np.abs(left - np.array(ARROW_RGB)).max(axis=2) <= ARROW_TOLERANCE).sum())


def _wait_new_image(lab: Lab, old_src: str, timeout_s: float, what: str) -> str:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        src = lab.image_src()
        if src and src != old_src:
            lab.page.wait_for_function("(img) => img.complete && img.naturalWidth > 0",
                                       arg=lab.image.element_handle())
            return src
        lab.page.wait_for_timeout(100)
    raise AssertionError(f"the lab's image did not change within {timeout_s:.0f} s after {what}")


def test_lab_2d_views_in_browser(scratch_notebook, open_notebook, artifacts_dir):
    from playwright.sync_api import expect

    start = time.monotonic()
    nb = open_notebook(scratch_notebook(LAB_2D_CELLS))
    nb.run_all(timeout_s=180)
    assert nb.errors() == [], "\n---\n".join(nb.errors())
    page = nb.page
    lab = Lab(page)
    lab.image.wait_for(state="visible", timeout=120_000)
    lab.root.scroll_into_view_if_needed()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=lab.image.element_handle())

    # 1. The view after 300 iterations: G's arrows and the manifold are drawn; unticking "arrows" takes
    # the arrows away, and unticking "manifold" then changes the main panel and nothing else. Measured
    # in the kernel's PNG decoded in Python (seed 0, 300 iterations; the page showed the same arrow
    # counts before): 2,051 arrow-coloured pixels in the main panel with the arrows shown, 12 once
    # unticked (dark antialiased edges); unticking the manifold then changes 4,393 pixels of the main
    # panel and none elsewhere. Hence the bounds: arrows >= 800 shown and <= min(100, a tenth of that)
    # hidden; the manifold >= 1,500 changed pixels, all in the main panel.
    lab.root.screenshot(path=str(artifacts_dir / "lab_2d.png"))
    rgb = _lab_pixels(lab)
    assert rgb.shape == (440, 960, 3), f"the lab's image is {rgb.shape[1]} x {rgb.shape[0]}, not 960 x 440"
    assert lab.counts()[0] == 300, f"the readout shows {lab.counts()}, not 300 iterations"
    arrows_on = _arrow_pixels(rgb)
    print(f"arrow-coloured pixels {arrows_on} (all layers shown)")
    assert arrows_on >= 800, f"only {arrows_on} pixels of the arrows' colour #0b3d0b in the main panel"
    arrows_box = lab.root.get_by_role("checkbox", name="arrows", exact=True)
    manifold_box = lab.root.get_by_role("checkbox", name="manifold", exact=True)
    assert arrows_box.is_checked() and manifold_box.is_checked()
    src = lab.image_src()
    arrows_box.click()
    expect(arrows_box).not_to_be_checked()
    src = _wait_new_image(lab, src, 30, "unticking the arrows")
    rgb_off = _lab_pixels(lab)
    arrows_off = _arrow_pixels(rgb_off)
    print(f"arrows unticked: arrow-coloured pixels {arrows_off}")
    lab.root.screenshot(path=str(artifacts_dir / "lab_2d_no_arrows.png"))
    assert arrows_off <= min(100, arrows_on // 10), (
        f"unticking the arrows left {arrows_off} of {arrows_on} arrow-coloured pixels")
    manifold_box.click()
    expect(manifold_box).not_to_be_checked()
    src = _wait_new_image(lab, src, 30, "unticking the manifold")
    changed = np.abs(_lab_pixels(lab) - rgb_off).max(axis=2) > 8
    in_main, elsewhere = int(changed[:, :MAIN_PANEL_COLUMNS].sum()), int(changed[:, MAIN_PANEL_COLUMNS:].sum())
    print(f"manifold unticked: {in_main} pixels of the main panel changed, {elsewhere} elsewhere")
    assert in_main >= 1500, f"unticking the manifold changed only {in_main} pixels of the main panel"
    assert elsewhere == 0, f"unticking the manifold changed {elsewhere} pixels outside the main panel"
    manifold_box.click()
    expect(manifold_box).to_be_checked()
    src = _wait_new_image(lab, src, 30, "ticking the manifold again")
    assert (np.abs(_lab_pixels(lab) - rgb_off).max(axis=2) > 8).sum() == 0, "the manifold did not come back as it was"

    # 2. Play until 200 more iterations, Pause: the figure moved on.
    # Ticking "arrows" again brings them back, so the slow-motion screenshot below shows every layer.
    arrows_box.click()
    expect(arrows_box).to_be_checked()
    src = _wait_new_image(lab, src, 30, "ticking the arrows again")
    rgb_again = _lab_pixels(lab)
    arrows_again = _arrow_pixels(rgb_again)
    print(f"arrows ticked again: arrow-coloured pixels {arrows_again}")
    assert arrows_again >= 800, f"ticking the arrows again drew only {arrows_again} arrow-coloured pixels"

    it0, _, _ = lab.counts()
    before_play = rgb_again
    lab.play_button("Play").click()
    lab.play_button("Pause").wait_for()
    lab.wait_counts(lambda c: c[0] >= it0 + 200, 60, "Play to train 200 iterations")
    lab.play_button("Pause").click()
    lab.play_button("Play").wait_for(timeout=60_000)
    it1, d1, g1 = lab.wait_stable(seconds=2, timeout_s=60)
    assert it1 >= it0 + 200
    assert lab.image_src() != src, "Play sent no new image"
    after_play = _lab_pixels(lab)
    changed = int((abs(after_play - before_play).max(axis=2) > 8).sum())
    print(f"Play: {it1 - it0} iterations, {changed} pixels changed")
    assert changed > 1000, f"after {it1 - it0} iterations of Play only {changed} pixels of the figure changed"
    lab.root.screenshot(path=str(artifacts_dir / "lab_2d_after_play.png"))

    # 3. Slow motion: Step G plays its five stages in order; one update of G, no iteration.
    slow = lab.root.get_by_role("checkbox", name="slow motion (Step D, Step G)", exact=True)
    slow.click()
    expect(slow).to_be_checked()
    page.wait_for_timeout(300)  # let the kernel see the tick before the click on Step G
    lab.root.evaluate(_WATCH_STAGES_JS)
    lab.button("Step G").click()
    try:
        page.wait_for_function(
            "() => window.__stages.some(s => s.endsWith('stage 5 of 5'))", timeout=30_000)
    except Exception:
        raise AssertionError(f"slow motion never reached stage 5 of 5; stages seen: "
                             f"{page.evaluate('() => window.__stages')}")
    stages = page.evaluate("() => { clearInterval(window.__stagesTimer); return window.__stages; }")
    print("slow-motion stages seen:", stages)
    assert stages == [f"Slow motion: one update of G, stage {k} of 5" for k in range(1, 6)], stages
    it2, d2, g2 = lab.wait_counts(lambda c: c[2] > g1, 30, "the readout to count the update of G")
    assert (it2, d2, g2) == (it1, d1, g1 + 1), (
        f"slow-motion Step G: readout went from {(it1, d1, g1)} to {(it2, d2, g2)}")
    lab.root.screenshot(path=str(artifacts_dir / "lab_2d_slow_motion.png"))

    # 4. Show the code: a <pre> with the torch code of one step (gan_lessons/lab_code.py), the plain
    # GAN's with the lab's settings written in.
    lab.root.get_by_role("button", name=re.compile("Show the code")).click()
    pre = lab.root.locator("pre", has_text="g_opt.step()")
    pre.wait_for(state="visible", timeout=30_000)
    code = pre.inner_text()
    for expected in ("d_opt.step()", "g_opt.step()", "Plain GAN", "batch_size=256"):
        assert expected in code, f"the code shown lacks {expected!r}:\n{code[:3000]}"
    lab.root.screenshot(path=str(artifacts_dir / "lab_2d_code.png"))

    # 5. WGAN-GP: the readout names the remedy and the D* box is disabled (a critic has no D*).
    remedy = lab.root.locator(".widget-dropdown").filter(
        has=page.locator(".widget-label", has_text=re.compile("^remedy$"))).locator("select")
    remedy.wait_for(state="attached")
    if not remedy.is_visible():
        hidden = lab.root.evaluate("""(root) => [...root.querySelectorAll('.widget-gridbox > *')]
            .filter(c => getComputedStyle(c).visibility === 'hidden')
            .map(c => (c.querySelector('.widget-label') || c).textContent.trim())""")
        raise AssertionError(
            f"the remedy menu is in the page but hidden (CSS visibility: hidden), so a learner cannot "
            f"choose a remedy; hidden settings controls: {hidden}")
    remedy.select_option("WGAN-GP")
    readout = lab.root.locator(".widget-html").filter(has=page.locator("td")).filter(has_text="remedy:")
    expect(readout).to_contain_text("remedy: WGAN-GP", timeout=30_000)
    d_star = lab.root.get_by_role("checkbox", name=re.compile(r"^D\*"))
    expect(d_star).to_be_disabled(timeout=30_000)
    assert lab.counts()[0] == 0, f"choosing WGAN-GP should start new models; readout {lab.counts()}"
    expect(lab.root.locator("pre")).to_contain_text("WGAN-GP", timeout=30_000)  # the code follows the remedy
    lab.root.screenshot(path=str(artifacts_dir / "lab_2d_wgan_gp.png"))
    nb.screenshot(artifacts_dir / "lab_2d_page.png")
    assert nb.errors() == [], "\n---\n".join(nb.errors())
    print(f"test_lab_2d_views_in_browser: {time.monotonic() - start:.0f} s")
