"""The training lab's panel: the controls, Play, the steps (also in slow motion), the code and your data.

Thin over ``lab_compute`` / ``lab_views`` (the frames), ``lab_figure`` (the drawing),
``lab_stages`` (slow motion), ``lab_code`` (the code shown) and ``lab_data`` (your points).
Every setting is written to the trainer's ``TrainConfig`` and read before the next update,
so a change takes effect from the next iteration without resetting the models; choosing
a remedy or another dimension starts new models from the seed.
"""
from __future__ import annotations

import asyncio
import html
import time

import ipywidgets as W
import numpy as np
import torch

from . import lab_figure, lab_stages, plots
from .distributions import GaussianMixture
from .lab_compute import (
    BATCH_SIZES,
    CUSTOM,
    DEFAULT_TARGET,
    LIMITS,
    N_FIXED,
    compute_frame_1d,
    compute_kde_1d,
    default_models,
    dim_of,
    make_target,
    one_thread,
    view_box,
    view_of,
    view_range,
    z_line,
)
from .lab_controls import ARROW_NAMES, REMEDIES, REMEDY_PARAMETER, LabControls, remedy_trainer  # noqa: F401 (re-exported)
from .lab_views import (
    N_ARROWS,
    compute_frame_2d,
    compute_g_arrows,
    compute_manifold,
    smoothed_p_data,
    smoothing_bandwidth,
)
from .train import GANTrainer, TrainConfig, TrainingDiverged
from .utils import check_choice, check_float, check_int

TARGET_FPS = 16.5  # Play trains until the next frame is due, aiming at this many frames per second
_CONTROLLED = [f for f in TrainConfig.__dataclass_fields__.values()
               if f.name in ("d_steps", "g_steps", "lr_d", "lr_g", "g_loss", "batch_size")]



class TrainingLab(LabControls):
    """A GAN trained live: controls, Play/Pause, Step, Step D, Step G (also in slow motion), Reset,
    remedies, layers, the code of one step, your own points, a figure and a readout.

    Args:
        target: a name from ``TARGETS``, a distribution, or an array of 1-D or 2-D points.
        seed: seeds the weights (Reset draws them again from it), the minibatches and the
            fixed noise the figure uses.
        generator, discriminator: the networks; default ``default_models(dim)``.
        remedy: one of ``REMEDIES`` ("none", "PacGAN", "WGAN-GP", "unrolled").
        trainer_class: a ``GANTrainer`` subclass of your own (then the remedy menu is disabled).
        trainer_kwargs: extra keyword arguments for ``trainer_class``.
        chunk_seconds: how long Play trains between two frames; default: until the next frame
            is due at ``TARGET_FPS``.
        **settings: d_steps, g_steps, lr_d, lr_g, g_loss, batch_size (see ``LIMITS``).
    Display it as the last line of a cell; ``lab.widget`` is the ipywidgets box.
    """

    def __init__(self, target=DEFAULT_TARGET, seed: int = 0, generator=None, discriminator=None,
                 remedy: str = "none", trainer_class=None, trainer_kwargs=None, chunk_seconds: float | None = None,
                 **settings):
        self.seed = check_int("seed", seed, low=0)
        self.chunk_seconds = None if chunk_seconds is None else check_float(
            "chunk_seconds", chunk_seconds, low=0.0, high=1.0, low_open=True)
        self.remedy = check_choice("remedy", remedy, REMEDIES)
        if trainer_class is not None and not (isinstance(trainer_class, type) and issubclass(trainer_class, GANTrainer)):
            raise ValueError(f"trainer_class must be GANTrainer or a subclass of it, got {trainer_class!r}")
        self.trainer_class, self.trainer_kwargs = trainer_class, dict(trainer_kwargs or {})
        self._custom = None if isinstance(target, str) else target
        self.dist = make_target(target)
        self._models = (generator, discriminator)
        settings = {**{f.name: getattr(TrainConfig(), f.name) for f in _CONTROLLED}, **settings}
        self._validate(settings)
        self._task = None        # the Play loop
        self._stage_task = None  # a slow-motion animation
        self.frames = 0
        self.frame_seconds = 0.0
        self.diverged = None
        self.frame: dict | None = None
        self.stages: list = []
        self.stage_images: list = []  # PNG bytes of each stage of the last slow-motion update, as drawn
        self.editor = None
        self._build_controls(target, settings)
        self._build_trainer(settings)
        from .widgets import PanelBox  # here, not at the top: widgets re-exports make_lab from lab

        # Its display carries the last frame as a still, for viewers that show no widgets.
        self.widget = PanelBox([self._controls_box, self._layer_box, self.stage_html, self.image, self.readout,
                                self._extras], image=self.image, name="the training lab")
        self.refresh()

    # -- settings ------------------------------------------------------------------------------
    @staticmethod
    def _validate(settings: dict) -> None:
        unknown = set(settings) - {f.name for f in _CONTROLLED}
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; the lab controls "
                             f"{', '.join(f.name for f in _CONTROLLED)}")
        for name, value in settings.items():
            if name in ("d_steps", "g_steps", "batch_size"):
                check_int(name, value, *LIMITS[name])
                if name == "batch_size" and value not in BATCH_SIZES:
                    raise ValueError(f"batch_size must be one of {list(BATCH_SIZES)}, got {value}")
            elif name in ("lr_d", "lr_g"):
                check_float(name, value, *LIMITS[name])
            else:
                check_choice(name, value, ("nonsaturating", "minimax"))

    def set(self, **settings) -> None:
        """Change settings from code, e.g. ``lab.set(d_steps=5, lr_d=1e-2)``: the controls move and
        the trainer uses the new values from its next iteration. Out-of-range values raise a
        ValueError naming the setting and its range (``LIMITS``)."""
        self._validate(settings)
        for name, value in settings.items():
            self.controls[name].value = value

    @property
    def settings(self) -> dict:
        """The current settings, as the trainer uses them."""
        return {f.name: getattr(self.trainer.config, f.name) for f in _CONTROLLED}

    @property
    def layers(self) -> dict:
        """The view's layers and whether each is shown, e.g. ``{"arrows": True, ...}``."""
        return {name: box.value for name, box in self.layer_boxes.items()}

    def show_layers(self, **visible) -> None:
        """Show or hide layers from code: ``lab.show_layers(arrows=True, manifold=False)``
        (names with spaces or symbols: ``lab.show_layers(**{"D*": False})``)."""
        unknown = set(visible) - set(self.layer_boxes)
        if unknown:
            raise ValueError(f"unknown layer(s) {sorted(unknown)}; this view has {', '.join(self.layer_boxes)}")
        for name, on in visible.items():
            self.layer_boxes[name].value = bool(on)

    # -- building ------------------------------------------------------------------------------
    def _on_extras(self, change) -> None:
        if change["new"] == 0 and self.editor is None:  # built on first opening: it draws a preview
            from .lab_data import PointsEditor

            dim = self.dist.dim
            self.editor = PointsEditor(dim=dim)
            self.editor.on_use(self.use_points)
            self._editor_box.children = [self.editor.widget]

    def _build_trainer(self, settings) -> None:
        dim = self.dist.dim
        G, D = self._models
        if G is None or D is None or dim_of(G) != dim:
            G, D = default_models(dim, self.seed)
        config = TrainConfig(**settings)
        if self.trainer_class is not None:
            self.trainer = self.trainer_class(G, D, self.dist, config=config, seed=self.seed, device="cpu",
                                              **self.trainer_kwargs)
        else:
            parameter = self.remedy_slider.value if self.remedy != "none" else None
            self.trainer = remedy_trainer(self.remedy, G, D, self.dist, parameter, config=config, seed=self.seed,
                                          device="cpu", **self.trainer_kwargs)
        self.view = view_of(self.trainer)
        self._prepare_view()

    def _prepare_view(self) -> None:
        # Fixed noise and real batches (drawn once from the seed), the grid, and a new figure.
        gen = torch.Generator().manual_seed(self.seed)
        G = self.trainer.G
        self.z_fixed = G.sample_z(N_FIXED, generator=gen)
        self.x_real = self.dist.sample(N_FIXED, generator=gen)
        self.scores = ([], [], [])
        if self.dist.dim == 1:
            lo, hi = view_range(self.dist)
            self.x = np.linspace(lo, hi, 400)
            if isinstance(self.dist, GaussianMixture):
                self.p_data = self.dist.density(self.x)
            else:
                self.p_data = compute_kde_1d(self.dist.points[:5000], self.x)
            self.z_line = self.z_arrows = z_line(G)  # the mapping's lines, and the arrows at their ends
            self.figure, self.art = lab_figure.build_lab_figure(self.dist, self.x, self.p_data, d_kind=self.view.kind)
            names, default_on = lab_figure.LAYERS_1D, {"arrows": False}
        else:
            lo, hi = view_box(self.dist)
            self.mesh = np.meshgrid(np.linspace(float(lo[0]), float(hi[0]), 80), np.linspace(float(lo[1]), float(hi[1]), 80))
            self.p_data = smoothed_p_data(self.dist, self.mesh, smoothing_bandwidth(self.dist, len(self.z_fixed)))
            self.z_arrows = self.z_fixed[:N_ARROWS]
            self.figure, self.art = lab_figure.build_lab_figure(self.dist, mesh=self.mesh, p_data=self.p_data,
                                                                d_kind=self.view.kind)
            names, default_on = lab_figure.LAYERS_2D, {}
        self._make_layer_boxes(names, default_on)
        self.blitter = plots.Blitter(self.figure, self.art["moving"] + [
            self.art[k] for k in ("d_loss", "g_loss", "d_real", "d_fake", "jsd", "modes")])
        lab_figure.set_layers(self.art, self.layers)

    def _make_layer_boxes(self, names, default_on) -> None:
        old = {k: b.value for k, b in self.layer_boxes.items()}
        self.layer_boxes = {}
        for name in names:
            box = W.Checkbox(old.get(name, default_on.get(name, True)), description=name, indent=False,
                             layout=W.Layout(width="auto"))
            box.observe(self._on_layer, names="value")
            self.layer_boxes[name] = box
        if self.view.critic and "D*" in self.layer_boxes:
            self.layer_boxes["D*"].disabled = True
            self.layer_boxes["D*"].description = "D* (none for a critic)"
        self._layer_box.children = [W.HTML("<b>show:</b>"), *self.layer_boxes.values(), self.arrow_kind]

    # -- the three layers wired ----------------------------------------------------------------
    def compute(self) -> dict:
        """The current frame for the trainer's models, with G's arrows and the manifold when shown."""
        tr, layers = self.trainer, self.layers
        with one_thread():
            if self.dist.dim == 1:
                frame = compute_frame_1d(tr.G, tr.D, self.dist, self.x, self.z_fixed, self.z_arrows, self.x_real,
                                         self.p_data, self.view)
            else:
                frame = compute_frame_2d(tr.G, tr.D, self.dist, self.mesh, self.z_fixed, self.x_real,
                                         view=self.view, p_data=self.p_data)
                if layers.get("manifold"):
                    frame["manifold"] = compute_manifold(tr.G)
            if layers.get("arrows"):
                frame["arrows"] = compute_g_arrows(tr, self.z_arrows, self.x_real[:len(self.z_arrows)],
                                                   kind=ARROW_NAMES[self.arrow_kind.value])
        return frame

    def draw(self, frame: dict) -> None:
        """Move the figure's artists to ``frame`` and the histories."""
        it = self.trainer.iteration
        if not self.scores[0] or self.scores[0][-1] != it:
            cov = frame.get("coverage")
            self.scores[0].append(it)
            self.scores[1].append(frame["jsd"])
            self.scores[2].append(cov.n_captured / cov.n_modes if cov is not None and cov.n_modes > 1 else np.nan)
        if lab_figure.draw_lab_figure(self.art, frame, self.trainer.history, self.scores):
            self.blitter.invalidate()  # an axis rescaled: the background must be drawn again

    def render(self) -> bytes:
        """The figure as PNG bytes: a cached background plus the moving artists (blitting)."""
        return plots.encode_png(self.blitter.frame())

    def close(self) -> None:
        """Stop playing and close every widget of the panel, so that a saved notebook keeps no state
        for it; the trainer, the last frame and ``snapshot()`` still work from code."""
        self.pause()
        seen, stack = set(), [self.widget]
        while stack:
            w = stack.pop()
            if id(w) in seen:
                continue
            seen.add(id(w))
            stack.extend(getattr(w, "children", ()) or ())
            stack.extend(v for v in (getattr(w, "layout", None), getattr(w, "style", None)) if isinstance(v, W.Widget))
            w.close()

    def snapshot(self):
        """A new static figure of the current state, drawn by the plain functions (for a saved notebook)."""
        frame = self.compute() if self.frame is None else self.frame
        if self.dist.dim == 1:
            fig, art = lab_figure.build_lab_figure(self.dist, self.x, self.p_data, d_kind=self.view.kind)
        else:
            fig, art = lab_figure.build_lab_figure(self.dist, mesh=self.mesh, p_data=self.p_data, d_kind=self.view.kind)
        lab_figure.set_layers(art, self.layers)
        lab_figure.draw_lab_figure(art, frame, self.trainer.history, self.scores)
        return fig

    def refresh(self) -> None:
        """Compute, draw and render the current state, and update the readout."""
        start = time.perf_counter()
        try:
            self.frame = self.compute()
        except ValueError as err:
            self.readout.value = f"<b>{html.escape(str(err))}</b>"
            return
        self.draw(self.frame)
        self.image.value = self.render()
        self.readout.value = self._readout_html(self.frame)
        self.frames += 1
        self.frame_seconds = time.perf_counter() - start

    def _redraw_all(self) -> None:
        self.art["arrow_scale"] = None
        self.blitter.invalidate()
        self.refresh()

    def _update_code(self) -> None:
        if not self.code_button.value:
            self.code_html.value = ""
            self._show_code_box(False)
            return
        from .lab_code import step_code

        try:
            code = step_code(self.trainer)
        except ValueError as err:  # a trainer of your own whose updates cannot be written out
            self.code_html.value = f"<b>{html.escape(str(err))}</b>"
            self._show_code_box(True)
            return
        self.code_html.value = ("<div style='color:#555'>One iteration as plain torch with autograd; the lab "
                                "runs the same update with hand-derived gradients, the same numbers.</div>"
                                f"<pre style='font-size:12px;line-height:1.3'>{html.escape(code)}</pre>")
        self._show_code_box(True)

    def _show_code_box(self, on: bool) -> None:
        children = list(self.widget.children)
        if on and self._code_box not in children:
            children.insert(children.index(self.readout) + 1, self._code_box)
        elif not on and self._code_box in children:
            children.remove(self._code_box)
        self.widget.children = children

    # -- callbacks -----------------------------------------------------------------------------
    def _on_setting(self, change) -> None:
        name = next(k for k, c in self.controls.items() if c is change["owner"])
        setattr(self.trainer.config, name, change["new"])  # read before the next update
        if self.code_button.value:
            self._update_code()

    def _on_layer(self, change) -> None:
        lab_figure.set_layers(self.art, self.layers)
        self._redraw_all()

    def _on_target(self, change) -> None:
        name = change["new"]
        dist = make_target(self._custom) if name == CUSTOM else make_target(name)
        self._switch_target(dist)

    def _on_remedy(self, change) -> None:
        if change["owner"] is self.remedy_menu:
            self._sync_remedy_slider()
        self.pause()
        self.remedy = self.remedy_menu.value
        self._models = (None, None)
        self._build_trainer(self.settings)
        d_steps = self.controls["d_steps"]
        if self.remedy == "WGAN-GP" and d_steps.value == 1:
            d_steps.value = 5  # n_critic = 5 of Gulrajani et al. 2017, Algorithm 1
            self._critic_steps_set = True
        elif self.remedy != "WGAN-GP" and getattr(self, "_critic_steps_set", False):
            if d_steps.value == 5:
                d_steps.value = 1  # back to the plain GAN's one D step, which choosing WGAN-GP had changed
            self._critic_steps_set = False
        self._restart_view()

    def use_points(self, points) -> None:
        """Train on ``points`` (an (n,), (n, 1) or (n, 2) array) from now on: "your points" in the menu."""
        dist = make_target(points)
        self._custom = points
        target = self.controls["target"]
        if CUSTOM not in target.options:
            target.options = [*target.options, CUSTOM]
        if target.value == CUSTOM:
            self._switch_target(dist)
        else:
            target.value = CUSTOM  # its observer switches the target

    def _switch_target(self, dist) -> None:
        self.pause()
        same_dim = dist.dim == self.dist.dim
        self.dist = dist
        if same_dim:
            self.trainer.set_data(dist)  # the models keep training, now on the new data
            self._prepare_view()
        else:  # 1-D and 2-D need networks of another shape: new models from the seed
            self._models = (None, None)
            self._build_trainer(self.settings)
        self._restart_view()

    def _restart_view(self) -> None:
        # After a new trainer or target: no stale warning, no slow-motion overlay, the code and figure anew.
        self.diverged = None
        self._clear_stages()
        self._update_code()
        self.refresh()

    def _guarded(self, action) -> None:
        try:
            action()
            self.diverged = None  # training runs again from the restored weights
        except TrainingDiverged as err:
            self.diverged = str(err)
            self.pause()
        self.refresh()

    def on_step(self, _button=None) -> None:
        """Step: one iteration (``d_steps`` updates of D, then ``g_steps`` of G)."""
        self._clear_stages()
        self._guarded(self.trainer.step)

    def on_step_d(self, _button=None) -> None:
        """Step D: one update of D only (in slow motion: its five stages, drawn in turn)."""
        self._step_one("D")

    def on_step_g(self, _button=None) -> None:
        """Step G: one update of G only (in slow motion: its five stages, drawn in turn)."""
        self._step_one("G")

    def slow_step(self, which: str, animate: bool | None = None) -> list:
        """One update of D (``which="D"``) or G (``"G"``) in five stages, drawn in turn; returns the stages.

        Args:
            which: "D" or "G".
            animate: play the stages ``stage_seconds`` apart on the running event loop (the
                buttons do); False draws them all at once and ends on the last (for a script or a
                lesson's cell); default: animate when an event loop is running.
        """
        which = check_choice("which", which, ("D", "G"))
        self._slow_step(which, animate)
        return self.stages

    def _step_one(self, which: str) -> None:
        if not self.slow_motion.value:
            self._clear_stages()
            self._guarded(self.trainer.step_d if which == "D" else self.trainer.step_g)
            return
        self._slow_step(which, None)

    def _slow_step(self, which: str, animate) -> None:
        self.pause()  # Play stops at its next chunk; this update is taken now, between two chunks
        if self._stage_task is not None and not self._stage_task.done():
            return  # a slow-motion update is still playing: this press waits for none
        before = self.frame if self.frame is not None else self.compute()
        try:
            stages = lab_stages.staged_update(self.trainer, which)
        except TrainingDiverged as err:
            self.diverged = str(err)
            self.refresh()
            return
        ghost = {"d": before.get("d"), "p_g": before.get("p_g"), "x_fake": before.get("x_fake")}
        stages[-1].show["ghost"] = ghost
        self.stages, self._stage_which = stages, which
        self.stage_images = []  # the PNG of each stage as drawn, for a lesson to show any of them
        try:
            loop = asyncio.get_running_loop() if animate is not False else None
        except RuntimeError:  # no event loop (a script, a test)
            loop = None
        if loop is None:  # draw every stage at once, ending on the last
            for k in range(len(stages)):
                self._show_stage(k, before)
            return
        self._stage_task = loop.create_task(self._play_stages(stages, before))

    async def _play_stages(self, stages, before) -> None:
        for k in range(len(stages)):
            if self.stages is not stages:  # Step, Play, Reset or another target ended the animation
                return
            self._show_stage(k, before)
            if k < len(stages) - 1:
                await asyncio.sleep(self.stage_seconds.value)

    def _show_stage(self, k: int, before: dict) -> None:
        stage = self.stages[k]
        if stage.number == len(self.stages):  # the update has been applied: draw the new state under the ghost
            self.refresh()
        lab_figure.draw_stage(self.art, stage)
        self.image.value = self.render()
        self.stage_images.append(self.image.value)
        items = "".join(
            f"<li style='{'font-weight:bold' if i == k else 'color:#777' if i > k else ''}'>"
            f"{html.escape(s.caption[2:] if i <= k else s.title)}</li>" for i, s in enumerate(self.stages))
        which = self._stage_which
        self.stage_html.value = (f"<div><b>Slow motion: one update of {which}, stage {stage.number} of "
                                 f"{len(self.stages)}</b><ol style='margin:2px 0'>{items}</ol></div>")

    def clear_stages(self) -> None:
        """Take a slow-motion update's captions and overlay off the figure (Step, Play and Reset do too)."""
        self._clear_stages()
        self.refresh()

    def _clear_stages(self) -> None:
        if self.stages:
            self.stages, self.stage_images = [], []
            self.stage_html.value = ""
            lab_figure.clear_stage(self.art)

    def on_reset(self, _button=None) -> None:
        """Reset: new initial weights from the seed, fresh optimisers, empty history and empty curves."""
        self.pause()
        self.trainer.reset()
        self.diverged = None
        self.scores = ([], [], [])
        self._clear_stages()
        lab_figure.reset_axes(self.art)
        self.blitter.invalidate()
        self.refresh()

    # -- Play and Pause ------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        """True while Play is on."""
        return self.play_button.value

    def play(self) -> None:
        """Start training continuously (as pressing Play)."""
        self.play_button.value = True

    def pause(self) -> None:
        """Stop after the current chunk of iterations (as pressing Pause)."""
        self.play_button.value = False

    def _on_play(self, change) -> None:
        self.play_button.description = "Pause" if change["new"] else "Play"
        self.play_button.icon = "pause" if change["new"] else "play"
        if change["new"] and (self._task is None or self._task.done()):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.readout.value = ("<b>Play needs a running event loop (Jupyter has one); "
                                      "use Step, or call trainer.train(n).</b>")
                self.play_button.value = False
                return
            if self._stage_task is not None:
                self._stage_task.cancel()  # Play ends a slow-motion animation
            self._clear_stages()
            self._task = loop.create_task(self._play_loop())

    def _chunk(self) -> float:
        # Train until the next frame is due, so the frame rate stays near TARGET_FPS; but at least
        # as long as a frame takes, so that on a slow machine training keeps half of the time and
        # the frame rate drops instead (a frame of 55 ms would otherwise leave 10 ms in 65 to train).
        if self.chunk_seconds is not None:
            return self.chunk_seconds
        return max(0.01, 1.0 / TARGET_FPS - self.frame_seconds, self.frame_seconds)

    async def _play_loop(self) -> None:
        # Train for a chunk, draw one frame, then yield so the kernel handles widget events and
        # runs other cells; Pause is seen at the next chunk boundary. The frame's PNG is encoded
        # on a second thread while the next chunk trains (zlib releases the GIL), and sent when
        # that chunk ends.
        from concurrent.futures import ThreadPoolExecutor

        pending = None
        with ThreadPoolExecutor(max_workers=1) as encoder:
            try:
                while self.playing:
                    begin = time.perf_counter()
                    end = begin + self._chunk()
                    while self.playing and time.perf_counter() < end:
                        self.trainer.step()
                    trained = time.perf_counter() - begin
                    if pending is not None:
                        self.image.value = pending.result()
                    pending = self._refresh_async(encoder)
                    await asyncio.sleep(0.001)
                    # the time a frame costs beyond training (drawing, sending, the kernel's own work)
                    self.frame_seconds = 0.7 * self.frame_seconds + 0.3 * (time.perf_counter() - begin - trained)
            except TrainingDiverged as err:
                self.diverged = str(err)
            finally:
                if pending is not None:
                    pending.result()
                self.play_button.value = False
                if not self.stages:  # a slow-motion update taken meanwhile draws its own stages
                    self.refresh()

    def _refresh_async(self, encoder):
        # refresh(), with the encoding of the image handed to ``encoder``; returns its future.
        try:
            self.frame = self.compute()
        except ValueError as err:
            self.readout.value = f"<b>{html.escape(str(err))}</b>"
            return None
        self.draw(self.frame)
        rgba = self.blitter.frame().copy()  # the canvas is drawn again for the next frame
        self.readout.value = self._readout_html(self.frame)
        self.frames += 1
        return encoder.submit(plots.encode_png, rgba)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def make_lab(target=DEFAULT_TARGET, points=None, **kwargs) -> TrainingLab:
    """Build a ``TrainingLab``: ``make_lab("1-D two modes", d_steps=5)`` or ``make_lab(points=my_array)``.

    Args:
        target: a name from ``TARGETS`` or a distribution.
        points: an array of 1-D or 2-D points to train on instead (shape (n,), (n, 1) or (n, 2)).
        **kwargs: passed to ``TrainingLab`` (seed, remedy, settings, trainer_class, ...).
    """
    return TrainingLab(target=points if points is not None else target, **kwargs)
