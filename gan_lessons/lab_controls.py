"""The training lab's controls and readout: the widgets of ``lab_panel.TrainingLab``, built and laid out.

``remedy_trainer`` makes the trainer for a remedy of lessons 06 and 07; ``LabControls`` builds
the controls in a grid, the buttons, the layer boxes, the slow-motion and code controls, and
writes the readout; ``TrainingLab`` wires them to the trainer and the figure.
"""
from __future__ import annotations

import html
import math

import ipywidgets as W
import torch

from . import lab_figure
from .lab_compute import (
    BATCH_SIZES,
    CUSTOM,
    LIMITS,
    TARGETS,
    compute_warnings,
    min_g_updates_to_judge_coverage,
)
from .models import MLPDiscriminator
from .train import GANTrainer
from .utils import check_choice, check_float, check_int

REMEDIES = ("none", "PacGAN", "WGAN-GP", "unrolled")
# Each remedy's parameter: (name, description, low, high, default).
REMEDY_PARAMETER = {"PacGAN": ("m", "pack size m", 2, 4, 2), "WGAN-GP": ("gp_weight", "penalty λ", 0, 20, 10),
                    "unrolled": ("unroll_steps", "look-ahead K", 1, 10, 5)}
ARROW_NAMES = {"G's gradient step": "step", "G's next Adam step": "adam", "each sample's own pull": "sample"}


def remedy_trainer(remedy: str, G, D, dist, parameter=None, **kwargs) -> GANTrainer:
    """A trainer for ``remedy`` (one of ``REMEDIES``) on ``dist`` with networks G and D.

    PacGAN gets a discriminator of input size m * d (a new one of D's hidden sizes, when D's
    does not fit); WGAN-GP Adam's betas (0, 0.9) of Gulrajani et al. 2017. ``parameter`` is the
    remedy's m, lambda or K (default ``REMEDY_PARAMETER``); ``kwargs`` go to the trainer.
    """
    from .remedies import PacGANTrainer, UnrolledGANTrainer, WGANGPTrainer

    remedy = check_choice("remedy", remedy, REMEDIES)
    if remedy == "none":
        return GANTrainer(G, D, dist, **kwargs)
    _, _, low, high, default = REMEDY_PARAMETER[remedy]
    value = default if parameter is None else parameter
    if remedy == "PacGAN":
        m = check_int("m", value, low=low, high=high)
        if getattr(D.config, "in_dim", None) != m * dist.dim:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(kwargs.get("seed", 0))
                D = MLPDiscriminator(in_dim=m * dist.dim, hidden_dims=tuple(D.config.hidden_dims))
        return PacGANTrainer(G, D, dist, m=m, **kwargs)
    if remedy == "WGAN-GP":
        kwargs.setdefault("betas", (0.0, 0.9))
        return WGANGPTrainer(G, D, dist, gp_weight=check_float("gp_weight", value, low=low, high=high), **kwargs)
    return UnrolledGANTrainer(G, D, dist, unroll_steps=check_int("unroll_steps", value, low=low, high=high), **kwargs)


class LabControls:
    """The lab's widgets (a mixin of ``TrainingLab``): built by ``_build_controls``, read by its callbacks."""

    def _build_controls(self, target, settings) -> None:
        def lay():  # each control its own Layout: a shared one would hide them all with one of them
            return W.Layout(width="auto")
        style = {"description_width": "70px"}
        names = list(TARGETS) + ([CUSTOM] if self._custom is not None else [])
        c = {"d_steps": W.IntSlider(settings["d_steps"], *LIMITS["d_steps"], description="D steps", style=style,
                                    layout=lay()),
             "g_steps": W.IntSlider(settings["g_steps"], *LIMITS["g_steps"], description="G steps", style=style,
                                    layout=lay()),
             "lr_d": W.FloatLogSlider(settings["lr_d"], min=-5, max=0, step=0.1, description="lr D",
                                      readout_format=".1e", style=style, layout=lay()),
             "lr_g": W.FloatLogSlider(settings["lr_g"], min=-5, max=0, step=0.1, description="lr G",
                                      readout_format=".1e", style=style, layout=lay()),
             "g_loss": W.Dropdown(options=["nonsaturating", "minimax"], value=settings["g_loss"],
                                  description="G's loss", style=style, layout=lay()),
             "batch_size": W.SelectionSlider(options=BATCH_SIZES, value=settings["batch_size"],
                                             description="batch", style=style, layout=lay()),
             "target": W.Dropdown(options=names, value=target if isinstance(target, str) else CUSTOM,
                                  description="target", style=style, layout=lay())}
        self.controls = c
        for name, control in c.items():
            control.observe(self._on_target if name == "target" else self._on_setting, names="value")
        self.remedy_menu = W.Dropdown(options=REMEDIES, value=self.remedy, description="remedy", style=style,
                                      layout=lay(), disabled=self.trainer_class is not None,
                                      tooltip="lessons 06 and 07: new models from the seed")
        self.remedy_menu.observe(self._on_remedy, names="value")
        self.remedy_slider = W.IntSlider(2, 2, 4, description="pack size m", style=style, layout=lay())
        self._sync_remedy_slider()
        self.remedy_slider.observe(self._on_remedy, names="value")
        self.play_button = W.ToggleButton(False, description="Play", icon="play", tooltip="train continuously",
                                          layout=W.Layout(width="90px"))
        self.play_button.observe(self._on_play, names="value")
        self.buttons = {}
        for label, handler, tip in (("Step", self.on_step, "one iteration: D steps updates of D, then G steps of G"),
                                    ("Step D", self.on_step_d, "one update of D only"),
                                    ("Step G", self.on_step_g, "one update of G only"),
                                    ("Reset", self.on_reset, "new weights from the seed")):
            self.buttons[label] = W.Button(description=label, tooltip=tip, layout=W.Layout(width="80px"))
            self.buttons[label].on_click(handler)
        self.slow_motion = W.Checkbox(False, description="slow motion (Step D, Step G)", indent=False,
                                      layout=W.Layout(width="auto"))
        self.stage_seconds = W.FloatSlider(1.5, min=0.3, max=4.0, step=0.1, description="pace: seconds per stage",
                                           style={"description_width": "initial"}, layout=W.Layout(width="320px"))
        self.code_button = W.ToggleButton(False, description="Show the code", icon="code",
                                          tooltip="the torch code of one step with these settings",
                                          layout=W.Layout(width="140px"))
        self.code_button.observe(lambda _change: self._update_code(), names="value")
        self.arrow_kind = W.Dropdown(options=list(ARROW_NAMES), description="arrows", style=style,
                                     layout=W.Layout(width="300px"))
        self.arrow_kind.observe(lambda _change: self._redraw_all(), names="value")
        grid = W.GridBox([c["target"], self.remedy_menu, self.remedy_slider, c["g_loss"],
                          c["d_steps"], c["g_steps"], c["lr_d"], c["lr_g"], c["batch_size"]],
                         layout=W.Layout(grid_template_columns="repeat(auto-fill, minmax(250px, 1fr))",
                                         grid_gap="2px 12px", width="100%"))
        buttons = W.HBox([self.play_button, *self.buttons.values(), self.code_button],
                         layout=W.Layout(flex_flow="row wrap"))
        motion = W.HBox([self.slow_motion, self.stage_seconds], layout=W.Layout(flex_flow="row wrap"))
        self._controls_box = W.VBox([buttons, grid, motion])
        self._layer_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.layer_boxes: dict = {}
        # drawn at its own size where the notebook is wide enough, scaled down where it is not
        self.image = W.Image(format="png", layout=W.Layout(width=f"{int(lab_figure.FIGSIZE[0] * lab_figure.DPI)}px",
                                                           max_width="100%", height="auto"))
        self.readout = W.HTML()
        self.stage_html = W.HTML()
        self.code_html = W.HTML()
        self._editor_box = W.VBox()
        self._extras = W.Accordion([self._editor_box])
        self._extras.set_title(0, "Your own points: type them or add strokes of a brush")
        self._extras.selected_index = None
        self._extras.observe(self._on_extras, names="selected_index")
        self._code_box = W.VBox([self.code_html])

    def _sync_remedy_slider(self) -> None:
        spec = REMEDY_PARAMETER.get(self.remedy_menu.value)
        slider = self.remedy_slider
        if spec is None:
            slider.layout.visibility = "hidden"
            return
        _, text, low, high, default = spec
        with slider.hold_trait_notifications():
            slider.min, slider.max = min(low, slider.min), max(high, slider.max)
            slider.value = default
            slider.min, slider.max = low, high
        slider.description = text
        slider.layout.visibility = "visible"

    def _readout_html(self, frame) -> str:
        tr, last = self.trainer, self.trainer.last
        cov = frame.get("coverage")
        critic = self.view.critic

        def num(key, fmt=".3f"):
            return format(last[key], fmt) if key in last else "–"
        cells = [("iteration", tr.iteration), ("D updates", tr.d_updates), ("G updates", tr.g_updates),
                 ("L_D", num("d_loss")), ("L_G", num("g_loss")),
                 ("mean D(x)" if not critic else "real score", num("d_real")),
                 ("mean D(G(z))" if not critic else "fake score", num("d_fake")),
                 ("D accuracy", f"{100 * frame['d_accuracy']:.0f} %"),
                 ("JSD estimate", f"{frame['jsd']:.3f} nats" if math.isfinite(frame["jsd"]) else "–"),
                 ("modes covered", _coverage_text(cov, tr.g_updates))]
        table = "".join(f"<td style='padding:0 8px;white-space:nowrap'>{k}<br><b>{v}</b></td>" for k, v in cells)
        warnings = compute_warnings(frame["d_accuracy"], last.get("g_grad_norm", 1.0), cov,
                                    tr.history["g_loss"][-200:], self.diverged, g_updates=tr.g_updates)
        if critic:  # a critic is meant to separate the two sets: its accuracy is no warning sign
            warnings = [w for w in warnings if not w.startswith("D ")]
        if frame.get("outside", 0) > 0.01:
            warnings.append(f"{100 * frame['outside']:.0f} % of G's samples lie outside the plotted range.")
        notes = "".join(f"<div style='color:#b03000'>⚠ {html.escape(w)}</div>" for w in warnings)
        remedy = self.remedy if self.trainer_class is None else type(self.trainer).__name__
        about = f"<div style='color:#555'>remedy: {html.escape(remedy)}; {self._view_note()}</div>"
        return f"<table><tr>{table}</tr></table>{notes or '<div>No warnings.</div>'}{about}"

    def _view_note(self) -> str:
        kind = self.view.kind
        if kind == "pack":
            return (f"D judges packs of {self.view.pack} samples, so the figure shows D on a pack of "
                    f"{self.view.pack} copies of x, and D* = p_data^m / (p_data^m + p_g^m) for such packs")
        if kind == "critic":
            return "the critic's score is drawn scaled to its own range; a critic has no D*"
        note = "D* = p_data / (p_data + p_g), with p_g estimated from 2,500 of G's samples"
        if self.dist.dim == 2:
            note += (" by a Gaussian kernel, and p_data blurred by the same kernel, so that the two are compared"
                     " alike (the JSD estimate too)")
        return note


def _coverage_text(coverage, g_updates: int) -> str:
    # The readout's "modes covered": the count, and until it can be judged, that it cannot be yet.
    if coverage is None:
        return "–"
    text = f"{coverage.n_captured} of {coverage.n_modes}"
    wait = min_g_updates_to_judge_coverage(coverage.n_modes)
    if coverage.n_modes > 1 and g_updates < wait:
        text += f"<br><span title='judged from {wait:,} updates of G on'>(too early to judge)</span>"
    return text
