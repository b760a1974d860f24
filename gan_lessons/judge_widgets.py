"""The human-judgement panels of lesson 11: a blind preference test between models, and rapid
real-or-fake categorisation at several exposure times.

The same three layers as ``widgets``: the statistics live in ``judging``, the ``compute_*``,
``format_*`` and ``draw_*`` functions here are pure or move artists, and each panel class wires a
few buttons to them on ``widgets._Panel``.
"""
from __future__ import annotations

import html
import math

import ipywidgets as W
import numpy as np
import torch
from matplotlib.figure import Figure

from . import plots
from .image_widgets import _find, _images_hw, _ink
from .judging import (EXPOSURE_LIMITS_MS, _check_exposures, _image_batch, accuracy_by_exposure, check_model_samples,
                      deal_grids, make_exposure_trials, make_preference_rounds, tally_preferences)
from .utils import check_choice, check_int, check_pixel_range
from .widgets import _Panel

__all__ = [
    "PreferenceJudge",
    "RapidCategorisation",
    "compute_exposure_levels",
    "compute_noise_mask",
    "draw_accuracy_by_exposure",
    "draw_preference_round",
    "format_accuracy_html",
    "format_tally_html",
    "stimulus_png",
]

SLIDER_MS = (50, 1000, 25)  # the exposure slider's min, max and step
MAX_LEVELS = 5
_CHOICE_WORDS = {"left": "A is better", "same": "About the same", "right": "B is better"}


# --- a blind preference test ----------------------------------------------------------------------

def draw_preference_round(fig, left_images, right_images, pixel_range=(0, 1), nrow: int = 4) -> None:
    """Show one round's two grids on a ``PreferenceJudge`` figure (artists "grid:left", "grid:right").

    Args:
        fig: the panel's figure.
        left_images, right_images: (n, ...) images of the model shown as A and as B.
        pixel_range: (low, high) of the pixels.
        nrow: images per grid row.
    """
    for gid, images in (("grid:left", left_images), ("grid:right", right_images)):
        _find(fig, gid).set_data(1 - plots.image_grid(images, nrow=nrow, padding=2, value_range=pixel_range,
                                                      pad_value=0.0))


def format_tally_html(tally: dict) -> str:
    """A ``tally_preferences`` result as HTML: a table of wins per model, then each pair's sign test."""
    def share(m):
        return "–" if m["win_share"] is None else f"{100 * m['win_share']:.0f} %"

    rows = "".join(f"<tr><td>{html.escape(name)}</td><td>{m['wins']:g}</td><td>{m['shown']}</td>"
                   f"<td>{share(m)}</td></tr>" for name, m in tally["models"].items())
    lines = []
    for (a, b), pair in tally["pairs"].items():
        split = f"{pair['wins'][a]} to {pair['wins'][b]}, {pair['same']} the same"
        p = pair["p_value"]
        test = "no decisive choice yet" if p is None else f"sign test p = {p:.3f}"
        lines.append(f"{html.escape(a)} against {html.escape(b)}: {split}; {test}")
    return (f"<b>The models revealed</b> ({tally['n']} rounds judged):"
            "<table><tr><th>model</th><th>wins</th><th>shown</th><th>win share</th></tr>"
            f"{rows}</table>" + "<br>".join(lines) +
            "<br>A p-value above 0.05 means choices this lopsided come often from coin flips: yours could be "
            "chance. Ties are left out of the test.")


class PreferenceJudge(_Panel):
    """Which model's digits look better? Two grids per round, named only A and B until the end.

    Each round shows a grid of one model's samples beside a grid of another's (new random samples
    every round). Every pair of models comes up equally often, each side in turn in random order
    (``judging.make_preference_rounds``), so neither position nor name can sway the choice; at the
    end the names are revealed with wins, win shares and a sign test per pair
    (``judging.tally_preferences``).

    Where it comes from: Salimans et al. 2016, "Improved techniques for training GANs", report a
    visual Turing test by human annotators (MNIST samples people could not tell from real data; a
    21.3 % error rate on CIFAR-10), and Zhou et al. 2019 (HYPE) quote them that such results "change
    drastically" with the details of the task, hence the blinding and balancing here. Those
    studies asked real or fake; a side-by-side choice between two models is this panel's design.

    Args:
        samples: {model name: (N, ...) images}, two or more models, each with at least n_images.
        n_rounds: rounds per session, >= 1.
        n_images: images per grid, 1-64 (16: a 4x4 grid).
        seed: seeds the first session; "Start again" uses the next seed.
        pixel_range: (low, high) of every model's pixels; lesson 11 maps all to (0, 1).
    """

    name = "a blind preference test between models"

    def __init__(self, samples, n_rounds: int = 12, n_images: int = 16, seed: int = 0, pixel_range=(0, 1)):
        self.n_images = check_int("n_images", n_images, low=1, high=64)
        self.samples = check_model_samples(samples, self.n_images)
        self.names = list(self.samples)
        self.n_rounds = check_int("n_rounds", n_rounds, low=1)
        self.seed = check_int("seed", seed, low=0)
        self.pixel_range = check_pixel_range(pixel_range)
        self.nrow = math.ceil(math.sqrt(self.n_images))
        self._new(self.seed)
        self.buttons = {c: W.Button(description=_CHOICE_WORDS[c]) for c in ("left", "same", "right")}
        for choice, button in self.buttons.items():
            button.on_click(lambda _b, c=choice: self.choose(c))
        self.new_button = W.Button(description="Start again")
        self.new_button.on_click(self.new_session)
        self._build_figure()
        self._titles = None
        super().__init__([*self.buttons.values(), self.new_button], self.figure,
                         [_find(self.figure, "grid:left"), _find(self.figure, "grid:right")])

    def _new(self, seed: int) -> None:
        self.rounds = make_preference_rounds(self.names, self.n_rounds, seed)
        grids = deal_grids({name: len(x) for name, x in self.samples.items()},
                           [name for pair in self.rounds for name in pair], self.n_images, seed)
        self.picks = list(zip(grids[0::2], grids[1::2]))  # per round, the sample indices of A's and B's grids
        self.choices: list[str] = []

    @property
    def finished(self) -> bool:
        """True once every round has been judged."""
        return len(self.choices) == len(self.rounds)

    def round_images(self, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """The images of round ``k``'s grids A and B."""
        (left, right), (pick_left, pick_right) = self.rounds[k], self.picks[k]
        return self.samples[left][pick_left], self.samples[right][pick_right]

    def _build_figure(self) -> None:
        fig = Figure(figsize=(8.4, 4.6), dpi=72, layout="constrained")
        fig.get_layout_engine().set(wspace=0.12)  # a clear gap between model A's grid and model B's
        ax_left, ax_right = fig.subplots(1, 2)
        blank = 1 - plots.image_grid(self.round_images(0)[0], nrow=self.nrow, padding=2,
                                     value_range=self.pixel_range, pad_value=0.0)
        for ax, side in ((ax_left, "left"), (ax_right, "right")):
            ax.imshow(np.ones_like(blank), cmap="gray", vmin=0, vmax=1, interpolation="nearest", gid=f"grid:{side}")
            ax.set_axis_off()
            ax.set_title("A" if side == "left" else "B", fontsize=14)
        self.figure, self.ax_left, self.ax_right = fig, ax_left, ax_right

    def choose(self, choice: str) -> None:
        """Record the judgement of the current round: "left" (A), "right" (B) or "same"; ignored after the last."""
        check_choice("choice", choice, tuple(_CHOICE_WORDS))
        if self.finished:
            self.readout.value = format_tally_html(self.tally()) + "<br>Press <b>Start again</b> for another session."
            return
        self.choices.append(choice)
        self._changed()

    def new_session(self, _button=None) -> None:
        """Start again with the next seed: other pairings, sides and samples."""
        self.seed += 1
        self._new(self.seed)
        self._changed()

    def tally(self) -> dict:
        """The judged rounds so far, scored by ``judging.tally_preferences``."""
        return tally_preferences(self.rounds, self.choices)

    def update(self) -> None:
        done = self.finished
        for button in self.buttons.values():
            button.disabled = done
        # The titles change only at the end (the last round's names revealed) and on a restart.
        titles = ("A: " + self.rounds[-1][0], "B: " + self.rounds[-1][1]) if done else ("A", "B")
        if titles != self._titles:
            self.ax_left.set_title(titles[0], fontsize=14)
            self.ax_right.set_title(titles[1], fontsize=14)
            self._titles = titles
            self.redraw_all()
        if done:
            self.readout.value = format_tally_html(self.tally())
            return
        k = len(self.choices)
        draw_preference_round(self.figure, *self.round_images(k), self.pixel_range, self.nrow)
        self.readout.value = (f"Round {k + 1} of {len(self.rounds)}: which grid looks more like handwritten "
                              f"digits? The models behind A and B stay hidden until the end.")


# --- rapid categorisation at several exposure times ----------------------------------------------

def compute_exposure_levels(low: int, high: int, levels: int) -> list[int]:
    """``levels`` exposure times evenly spaced from ``low`` to ``high`` ms, rounded to 5 ms, distinct.

    One level is the midpoint. Times that round to the same value are kept once.

    Args:
        low, high: the range in ms, 16 <= low <= high <= 5000.
        levels: how many times, >= 1.
    """
    lo_ms, hi_ms = EXPOSURE_LIMITS_MS
    low = check_int("low", low, low=lo_ms, high=hi_ms)
    high = check_int("high", high, low=low, high=hi_ms)
    levels = check_int("levels", levels, low=1)
    times = [(low + high) / 2] if levels == 1 else np.linspace(low, high, levels)
    return sorted({int(5 * math.floor(t / 5 + 0.5)) for t in times})


def compute_noise_mask(side: int = 28, seed: int = 0) -> np.ndarray:
    """A (side, side) mask of uniform pixel noise in [0, 1] (1 is the white background, as ``_ink``)."""
    side = check_int("side", side, low=1)
    return np.random.default_rng(check_int("seed", seed, low=0)).random((side, side)).astype(np.float32)


def stimulus_png(image_hw: np.ndarray, scale: int = 7) -> bytes:
    """An (H, W) image in [0, 1] as PNG bytes, each pixel a ``scale`` x ``scale`` block (no browser smoothing)."""
    scale = check_int("scale", scale, low=1)
    x = np.asarray(image_hw, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"image_hw must be one (H, W) image, got shape {x.shape}")
    grey = np.round(255 * np.clip(x, 0, 1)).astype(np.uint8).repeat(scale, 0).repeat(scale, 1)
    rgba = np.concatenate([np.repeat(grey[:, :, None], 3, 2), np.full(grey.shape + (1,), 255, np.uint8)], 2)
    return plots.encode_png(rgba)


def draw_accuracy_by_exposure(summary: dict, ax=None):
    """Accuracy against exposure time with 95 % Wilson intervals, against the 50 % of guessing.

    Args:
        summary: an ``judging.accuracy_by_exposure`` result; an empty one draws only the axes.
        ax: the axes to draw on (cleared first); default a new figure's.
    Returns the figure. The accuracy line has gid "accuracy", the hit rates "hit_rate:real" and
    "hit_rate:fake".
    """
    if not isinstance(summary, dict):
        raise ValueError(f"summary must be the dict accuracy_by_exposure returns, got {type(summary).__name__}")
    ax = plots.get_ax(ax)
    ax.clear()
    ms = np.array(sorted(summary), dtype=float)
    rows = [summary[int(t)] for t in ms]
    acc = np.array([100 * r["accuracy"] for r in rows])
    low = np.array([100 * r["wilson_low"] for r in rows])
    high = np.array([100 * r["wilson_high"] for r in rows])
    ax.axhline(50, ls="--", color="0.4", lw=1.2, label="chance (50 %)")
    if len(ms):
        ax.errorbar(ms, acc, yerr=np.vstack([acc - low, high - acc]), fmt="none", ecolor="#0072B2", capsize=4)
        for kind, marker, colour in (("real", "^", "#56B4E9"), ("fake", "v", "#E69F00")):
            rate = [np.nan if r[f"hit_rate_{kind}"] is None else 100 * r[f"hit_rate_{kind}"] for r in rows]
            ax.plot(ms, rate, marker, ls=":", color=colour, gid=f"hit_rate:{kind}",
                    label="real images called real" if kind == "real" else "generated images called fake")
        ax.plot(ms, acc, "o-", color="#0072B2", lw=2, gid="accuracy", label="accuracy (bars: 95 % Wilson interval)")
        pad = max(25.0, 0.08 * (ms.max() - ms.min()))
        ax.set_xlim(ms.min() - pad, ms.max() + pad)
        ax.set_xticks(ms)
    else:
        ax.text(0.5, 0.75, "your accuracy appears here after the last trial", ha="center",
                transform=ax.transAxes, color="0.4")
    ax.set_ylim(0, 105)
    ax.set_xlabel("exposure (ms)")
    ax.set_ylabel("accuracy (%)")
    ax.legend(loc="best", fontsize=9)
    return ax.figure


def format_accuracy_html(summary: dict) -> str:
    """An ``accuracy_by_exposure`` result as an HTML table, one row per exposure time."""
    def pct(v):
        return "–" if v is None else f"{100 * v:.0f} %"

    rows = "".join(
        f"<tr><td>{ms}</td><td>{r['n_correct']} of {r['n']}</td><td><b>{pct(r['accuracy'])}</b> ± "
        f"{100 * r['standard_error']:.0f}</td><td>{pct(r['wilson_low'])} to {pct(r['wilson_high'])}</td>"
        f"<td>{pct(r['hit_rate_real'])}</td><td>{pct(r['hit_rate_fake'])}</td></tr>" for ms, r in summary.items())
    return ("<table><tr><th>exposure (ms)</th><th>correct</th><th>accuracy ± SE</th><th>95 % Wilson interval</th>"
            "<th>real called real</th><th>generated called fake</th></tr>" + rows + "</table>"
            "Chance is 50 %: an interval that covers it means you could be guessing at that exposure.")


class RapidCategorisation(_Panel):
    """Real or fake, at a glance: each image is shown for a fixed exposure, then covered by noise.

    A session has ``n_per_exposure`` trials at each exposure time, half real and half generated,
    the exposures interleaved at random (``judging.make_exposure_trials``). Press "Show image",
    then answer; at the end the panel plots accuracy against exposure with Wilson intervals
    (``judging.accuracy_by_exposure``). The sliders set the exposure range and how many evenly
    spaced levels it holds; changing either starts a new session.

    Where it comes from: Denton et al. 2015 (LAPGAN) had people judge real against
    generated images; their abstract reports LAPGAN's CIFAR-10 samples taken for real about 40 % of
    the time against 10 % for a plain GAN's. Zhou et al. 2019 (HYPE) ground such tests in
    psychophysics: HYPE-time limits how long each image is seen and moves the exposure with a
    staircase (shorter after a right answer, longer after a wrong one) to find the time at which a
    model's images pass for real (e.g. 250 ms); HYPE-∞ counts errors on real and fake images with no
    time limit. Here the exposures are fixed levels, interleaved, not a staircase; the noise mask
    after each image (backward masking, so the image does not linger as an after-image) is this
    panel's choice, not taken from those papers.

    Timing runs in the browser, not the kernel: a ``Stack`` holds the stimulus and the mask, its
    ``selected_index`` jslinked to a hidden ``Play(min=0, max=1, interval=exposure)``. In ipywidgets
    8.1's front end the Play *view* reacts to ``playing`` turning True by calling the model's
    ``animate()``: from ``value == max`` that sets ``value = min`` (the stimulus) and arms
    ``setTimeout(interval)``, whose step sets ``value = max`` (the mask); one interval later the next
    step would pass max, so with ``repeat`` False it pauses (``playing`` back to False). From
    ``value == min`` it would step to max at once, a 0 ms exposure; so each trial parks the Play at
    max (the mask) and then sets ``playing``. The view starts the timer, so the Play must be
    displayed (it is, hidden; a second view adds no second timer). Expect the exposure to within a
    screen refresh or two (about 17 ms each at 60 Hz): timers fire at or after ``interval``, a
    switch shows at the next frame, and each switch builds a new image view and decodes a small
    PNG (onset and offset both pay it, so it mostly cancels). A busy page delays timers and a
    background tab throttles them to a second or more, so keep the notebook in front.

    Args:
        real_images: (N, ...) real images.
        fake_images: (M, ...) generated images, as many pixels each, in the same pixel range.
        exposures_ms: 1 to 5 distinct exposure times within the slider's 50-1000 ms.
        n_per_exposure: trials per exposure time, >= 1; both sets must hold enough images for five
            levels (the slider's most) without reuse.
        seed: seeds the first session; each new session uses the next seed.
        pixel_range: (low, high) of both sets' pixels; lesson 11 maps all to (0, 1).
    """

    name = "rapid real-or-fake categorisation"
    scale = 7  # screen pixels per image pixel: 28 x 28 digits shown at 196 x 196

    def __init__(self, real_images, fake_images, exposures_ms=(250, 375, 500), n_per_exposure: int = 8,
                 seed: int = 0, pixel_range=(0, 1)):
        self.real_images = _image_batch("real_images", real_images)
        self.fake_images = _image_batch("fake_images", fake_images, like=self.real_images)
        self.exposures = sorted(_check_exposures(exposures_ms))
        low, high, step = SLIDER_MS
        if len(self.exposures) > MAX_LEVELS or self.exposures[0] < low or self.exposures[-1] > high:
            raise ValueError(f"exposures_ms must be 1 to {MAX_LEVELS} times within the slider's {low} to {high} ms, "
                             f"got {list(exposures_ms)}")
        self.n_per_exposure = check_int("n_per_exposure", n_per_exposure, low=1)
        for name, pool, each in (("real_images", self.real_images, (self.n_per_exposure + 1) // 2),
                                 ("fake_images", self.fake_images, self.n_per_exposure // 2)):
            if MAX_LEVELS * each > len(pool):  # checked now, not in a slider's callback
                raise ValueError(f"{name} holds {len(pool)} images; the levels slider goes up to {MAX_LEVELS} "
                                 f"exposure times x {each} each = {MAX_LEVELS * each}, none used twice")
        self.seed = check_int("seed", seed, low=0)
        self.pixel_range = check_pixel_range(pixel_range)
        style = {"description_width": "initial"}
        self.exposure_range = W.IntRangeSlider(value=(self.exposures[0], self.exposures[-1]), min=low, max=high,
                                               step=step, description="exposure (ms)", continuous_update=False,
                                               style=style)
        self.levels = W.IntSlider(value=len(self.exposures), min=1, max=MAX_LEVELS, description="levels",
                                  continuous_update=False, style=style)
        self._slider_key = self._sliders()
        self._new(self.seed)
        self.show_button = W.Button(description="Show image", button_style="primary")
        self.real_button = W.Button(description="Real", button_style="info")
        self.fake_button = W.Button(description="Fake", button_style="warning")
        self.new_button = W.Button(description="Start again")
        self.show_button.on_click(self.show_next)
        self.real_button.on_click(lambda _b: self.answer(True))
        self.fake_button.on_click(lambda _b: self.answer(False))
        self.new_button.on_click(self.new_session)
        side = _images_hw(self.real_images[:1]).shape[1]
        px = str(side * self.scale)  # fixed size: the layout does not jump while an image decodes
        self.stimulus = W.Image(value=stimulus_png(np.ones((side, side)), self.scale), format="png", width=px,
                                height=px)
        self.mask = W.Image(value=stimulus_png(compute_noise_mask(side, seed), self.scale), format="png", width=px,
                            height=px)
        self.stimulus.add_class("gan-stimulus")  # names the browser tests find the two images by
        self.mask.add_class("gan-mask")
        self.stack = W.Stack([self.stimulus, self.mask], selected_index=1)
        self.play = W.Play(value=1, min=0, max=1, step=1, interval=self.exposures[0], repeat=False,
                           show_repeat=False, layout=W.Layout(display="none"))
        self.link = W.jslink((self.play, "value"), (self.stack, "selected_index"))
        self.figure = Figure(figsize=(6.4, 3.4), dpi=72, layout="constrained")
        self.ax = self.figure.subplots()
        self._drawn_final = None
        controls = [self.exposure_range, self.levels, self.show_button, self.real_button, self.fake_button,
                    self.new_button]
        super().__init__(controls, self.figure, [])
        self.box.children = (self.box.children[0], W.HBox([self.stack, self.play]), self.image, self.readout)

    def _sliders(self) -> tuple:
        return tuple(self.exposure_range.value), self.levels.value

    def _new(self, seed: int) -> None:
        self.images, self.is_real, self.exposure_ms = make_exposure_trials(
            self.real_images, self.fake_images, self.exposures, self.n_per_exposure, seed)
        self.ink = _ink(_images_hw(self.images), self.pixel_range)
        self.answers: list[bool] = []
        self.shown = False

    def _park(self) -> None:
        # Stop any trial on its timer and show the mask: the state Play's animate() starts a trial from.
        if hasattr(self, "play"):
            self.play.playing = False
            self.play.value = self.play.max

    @property
    def finished(self) -> bool:
        """True once every trial has been answered."""
        return len(self.answers) == len(self.images)

    def show_next(self, _button=None) -> None:
        """Flash the next trial's image for its exposure (timed by the browser), then the mask."""
        if self.finished or self.shown:
            self.readout.value = ("The session is over: press <b>Start again</b>." if self.finished else
                                  "Answer <b>Real</b> or <b>Fake</b> first.")
            return
        k = len(self.answers)
        self._park()  # first, so a trial still on its timer never shows the new image
        self.stimulus.value = stimulus_png(self.ink[k], self.scale)
        self.play.interval = int(self.exposure_ms[k])
        self.play.playing = True  # the browser: stimulus now, mask after `interval` ms
        self.shown = True
        self._set_buttons()
        self.readout.value = f"Trial {k + 1} of {len(self.images)}: real or fake?"

    def answer(self, says_real: bool) -> None:
        """Record the answer for the image just shown (True: "real"); ignored before it is shown or after the end."""
        if self.finished or not self.shown:
            self.readout.value = ("The session is over: press <b>Start again</b>." if self.finished else
                                  "Press <b>Show image</b> first.")
            return
        self.answers.append(bool(says_real))
        self.shown = False
        self._changed()

    def new_session(self, _button=None) -> None:
        """Start again with the next seed: other images, in another order."""
        self.seed += 1
        self._new(self.seed)
        self._park()
        self._changed()

    def summary(self) -> dict:
        """The answered trials so far, by ``judging.accuracy_by_exposure``."""
        return accuracy_by_exposure(self.answers, self.is_real, self.exposure_ms)

    def _set_buttons(self) -> None:
        done = self.finished
        self.show_button.disabled = done or self.shown
        self.real_button.disabled = self.fake_button.disabled = done or not self.shown

    def update(self) -> None:
        if self._sliders() != self._slider_key:  # new exposure times: a new session
            self._slider_key = self._sliders()
            (low, high), levels = self._slider_key
            self.exposures = compute_exposure_levels(low, high, levels)
            self.seed += 1
            self._new(self.seed)
            self._park()
        self._set_buttons()
        done = self.finished
        if (done, tuple(self.exposures)) != self._drawn_final:
            draw_accuracy_by_exposure(self.summary() if done else {}, ax=self.ax)
            if not done:  # the axis the result will have, so the first layout leaves room for its ticks
                self.ax.set_xlim(self.exposures[0] - 50, self.exposures[-1] + 50)
                self.ax.set_xticks(self.exposures)
            self.redraw_all()
            self._drawn_final = (done, tuple(self.exposures))
        times = ", ".join(map(str, self.exposures))
        if done:
            self.readout.value = format_accuracy_html(self.summary())
        else:
            k = len(self.answers)
            self.readout.value = (f"Trial {k + 1} of {len(self.images)} (exposures {times} ms, mixed): press "
                                  f"<b>Show image</b>, watch the box, then answer <b>Real</b> or <b>Fake</b>.")
