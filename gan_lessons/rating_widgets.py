"""The blind rating panel of lesson 11: one model's grid per round, scored from 1 to 5.

The same three layers as ``widgets``: the statistics live in ``rating``, ``format_rating_html`` and
``draw_rating_round`` here are pure or move an artist, and ``RatingJudge`` wires six buttons to
them on ``widgets._Panel``.
"""
from __future__ import annotations

import html
import math

import ipywidgets as W
import numpy as np
import torch
from matplotlib.figure import Figure

from . import plots
from .image_widgets import _find
from .judging import check_model_samples, deal_grids
from .rating import RATING_SCALE, make_rating_rounds, tally_ratings
from .utils import check_int, check_pixel_range
from .widgets import _Panel

__all__ = [
    "RATING_WORDS",
    "RatingJudge",
    "draw_rating_round",
    "format_rating_html",
]

RATING_WORDS = {1: "1 poor", 2: "2 weak", 3: "3 fair", 4: "4 good", 5: "5 like real digits"}


def draw_rating_round(fig, images, pixel_range=(0, 1), nrow: int = 4) -> None:
    """Show one round's grid on a ``RatingJudge`` figure (the artist "grid").

    Args:
        fig: the panel's figure.
        images: (n, ...) images of the model being rated.
        pixel_range: (low, high) of the pixels.
        nrow: images per grid row.
    """
    _find(fig, "grid").set_data(1 - plots.image_grid(images, nrow=nrow, padding=2, value_range=pixel_range,
                                                     pad_value=0.0))


def format_rating_html(tally: dict) -> str:
    """A ``rating.tally_ratings`` result as HTML: per model n, mean ± standard error and the 95 % t interval."""
    def num(v):
        return "–" if v is None else f"{v:.2f}"

    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{m['n']}</td>"
        f"<td><b>{num(m['mean'])}</b> ± {num(m['standard_error'])}</td>"
        f"<td>{num(m['low'])} to {num(m['high'])}</td></tr>" for name, m in tally["models"].items())
    grids = f"{tally['n']} grid{'' if tally['n'] == 1 else 's'}"
    return (f"<b>The models revealed</b> ({grids} rated, 1 = poor, 5 = like real digits):"
            "<table><tr><th>model</th><th>n</th><th>mean rating ± SE</th><th>95 % t interval</th></tr>"
            f"{rows}</table>"
            "Where two models' intervals do not overlap, your ratings separate those models; where they "
            "overlap, they may or may not (intervals can overlap a little even when a direct test of the "
            "difference would find one). A model rated once has no interval.")


class RatingJudge(_Panel):
    """How good do one model's digits look? One unnamed grid per round, rated from 1 to 5.

    Each round shows a grid of one model's samples (new random samples every round, none twice in
    a grid). Every model comes up equally often, in random order and never twice in a row
    (``rating.make_rating_rounds``), and the names stay hidden until the end, when each model's
    mean rating is revealed with its standard error and a 95 % t interval (``rating.tally_ratings``).
    The interval describes this judge's ratings of these samples, not people in general.

    Where it comes from: Salimans et al. 2016, "Improved techniques for training GANs", confirm
    their samples' quality with a visual Turing test by human annotators (MNIST samples people could
    not tell from real data; a 21.3 % error rate on CIFAR-10). Zhou et al. 2019 (HYPE) call direct
    human evaluations of generative models ad hoc, neither standardised nor validated, and measure
    real-or-fake error rates (HYPE-time with limited exposures, HYPE-∞ without), not ratings.
    Theis et al. 2016, "A note on the evaluation of generative models", show that the visual
    fidelity of samples is largely independent of log-likelihood and Parzen estimates, so it is
    worth judging on its own. A 1-5 rating of a blind grid is this panel's design, not theirs; a
    mean of ratings treats the steps between scores as equal, which a judge need not.

    Args:
        samples: {model name: (N, ...) images}, two or more models, each with at least n_images.
        n_rounds: rounds per session, >= 1.
        n_images: images per grid, 1-64 (16: a 4x4 grid).
        seed: seeds the first session; "Start again" uses the next seed.
        pixel_range: (low, high) of every model's pixels; lesson 11 maps all to (0, 1).
    """

    name = "a blind rating test of models"

    def __init__(self, samples, n_rounds: int = 15, n_images: int = 16, seed: int = 0, pixel_range=(0, 1)):
        self.n_images = check_int("n_images", n_images, low=1, high=64)
        self.samples = check_model_samples(samples, self.n_images)
        self.names = list(self.samples)
        self.n_rounds = check_int("n_rounds", n_rounds, low=1)
        self.seed = check_int("seed", seed, low=0)
        self.pixel_range = check_pixel_range(pixel_range)
        self.nrow = math.ceil(math.sqrt(self.n_images))
        self._new(self.seed)
        self.buttons = {score: W.Button(description=words) for score, words in RATING_WORDS.items()}
        for score, button in self.buttons.items():
            button.on_click(lambda _b, s=score: self.rate(s))
        self.new_button = W.Button(description="Start again")
        self.new_button.on_click(self.new_session)
        self.figure = Figure(figsize=(4.6, 4.9), dpi=72, layout="constrained")
        self.ax = self.figure.subplots()
        blank = plots.image_grid(self.round_images(0), nrow=self.nrow, padding=2, value_range=self.pixel_range)
        self.ax.imshow(np.ones_like(blank), cmap="gray", vmin=0, vmax=1, interpolation="nearest", gid="grid")
        self.ax.set_axis_off()
        self._title = None
        super().__init__([*self.buttons.values(), self.new_button], self.figure, [_find(self.figure, "grid")])

    def _new(self, seed: int) -> None:
        self.rounds = make_rating_rounds(self.names, self.n_rounds, seed)
        self.picks = deal_grids({name: len(x) for name, x in self.samples.items()}, self.rounds,
                                self.n_images, seed)  # per round, the sample indices of its grid
        self.ratings: list[int] = []

    @property
    def finished(self) -> bool:
        """True once every round has been rated."""
        return len(self.ratings) == len(self.rounds)

    def round_images(self, k: int) -> torch.Tensor:
        """The images of round ``k``'s grid."""
        return self.samples[self.rounds[k]][self.picks[k]]

    def rate(self, score: int) -> None:
        """Record the current round's rating, an integer from 1 to 5; ignored, with a message, after the last."""
        score = check_int("score", score, low=RATING_SCALE[0], high=RATING_SCALE[1])
        if self.finished:
            self.readout.value = (format_rating_html(self.tally())
                                  + "<br>Press <b>Start again</b> for another session.")
            return
        self.ratings.append(score)
        self._changed()

    def new_session(self, _button=None) -> None:
        """Start again with the next seed: another order and other samples."""
        self.seed += 1
        self._new(self.seed)
        self._changed()

    def tally(self) -> dict:
        """The rated rounds so far, scored by ``rating.tally_ratings``."""
        return tally_ratings(self.rounds, self.ratings)

    def update(self) -> None:
        done = self.finished
        for button in self.buttons.values():
            button.disabled = done
        # The title names the model only at the end (the last grid's); it changes only then and on a restart.
        title = f"this grid: {self.rounds[-1]}" if done else "which model? revealed at the end"
        if title != self._title:
            self.ax.set_title(title, fontsize=13)
            self._title = title
            self.redraw_all()
        if done:
            self.readout.value = format_rating_html(self.tally())
            return
        k = len(self.ratings)
        draw_rating_round(self.figure, self.round_images(k), self.pixel_range, self.nrow)
        self.readout.value = (f"Round {k + 1} of {len(self.rounds)}: how much do these look like handwritten "
                              f"digits, from 1 (poor) to 5 (like real digits)? The model stays hidden until "
                              f"the end.")
