"""The training lab's panel, built headless: controls set through ``.value``, buttons pressed
through their handlers, and the state that results checked against the trainer, the remedies,
the code module, the figure's artists and the PNG that is shown."""
import asyncio
import html
import io
import re

import ipywidgets as W
import matplotlib
import numpy as np
import PIL.Image
import pytest
import torch

matplotlib.use("Agg")

from gan_lessons import lab_panel
from gan_lessons.lab_compute import CUSTOM, TARGETS
from gan_lessons.lab_controls import ARROW_NAMES, REMEDY_PARAMETER
from gan_lessons.lab_views import compute_g_arrows
from gan_lessons.remedies import PacGANTrainer, UnrolledGANTrainer, WGANGPTrainer
from gan_lessons.train import GANTrainer, TrainConfig

HISTORY_LINES = ("d_loss", "g_loss", "d_real", "d_fake")


@pytest.fixture
def panel():
    return lab_panel.TrainingLab(seed=0, batch_size=64)


@pytest.fixture
def panel_2d():
    return lab_panel.TrainingLab("2-D ring of 8", seed=0, batch_size=64)


def descendants(widget):
    yield widget
    for child in getattr(widget, "children", ()):
        yield from descendants(child)


def png_size(png) -> tuple[int, int]:
    png = bytes(png)
    assert png[:4] == b"\x89PNG"
    return PIL.Image.open(io.BytesIO(png)).size


def text_of(html_value: str) -> str:
    """What an HTML widget shows, as plain text."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_value))


def counts(tr):
    return tr.iteration, tr.d_updates, tr.g_updates, len(tr.history)


def another_value(control):
    """A valid value of ``control`` other than its current one."""
    if isinstance(control, (W.Dropdown, W.SelectionSlider)):
        options = [o[1] if isinstance(o, tuple) else o for o in control.options]
        same_dim = [o for o in options if o != control.value and str(o)[:3] == str(control.value)[:3]]
        return (same_dim or [o for o in options if o != control.value])[0]
    if isinstance(control, W.FloatLogSlider):
        return control.value * 10 if control.value * 10 <= control.base ** control.max else control.value / 10
    return control.value + 1 if control.value < control.max else control.value - 1


def poison(net):
    with torch.no_grad():
        next(net.parameters()).view(-1)[0] = float("nan")


# --- controls ---------------------------------------------------------------------------------------

def test_the_controls_sit_in_a_grid_and_each_one_reaches_the_trainer(panel):
    grids = [w for w in descendants(panel.widget) if isinstance(w, W.GridBox)]
    assert len(grids) == 1
    grid = grids[0].children
    for control in [*panel.controls.values(), panel.remedy_menu, panel.remedy_slider]:
        assert control in grid
    weights = [p.clone() for p in panel.trainer.G.parameters()]
    for name, control in panel.controls.items():
        value = another_value(control)
        control.value = value
        if name == "target":  # the data, not a setting: the trainer now samples the new target
            assert panel.dist.name == TARGETS[value]().name
            assert panel.trainer.data is panel.dist
        else:
            assert name in TrainConfig.__dataclass_fields__
            assert getattr(panel.trainer.config, name) == pytest.approx(value), name
    # none of them started new models
    assert all(torch.equal(a, b) for a, b in zip(weights, panel.trainer.G.parameters()))


# --- remedies ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("remedy,cls,attr,moved", [("PacGAN", PacGANTrainer, "m", 3),
                                                   ("WGAN-GP", WGANGPTrainer, "gp_weight", 4),
                                                   ("unrolled", UnrolledGANTrainer, "unroll_steps", 2)])
def test_each_remedy_builds_its_trainer_with_the_sliders_parameter(panel, remedy, cls, attr, moved):
    name, _, low, high, default = REMEDY_PARAMETER[remedy]
    assert name == attr
    panel.on_step()
    panel.remedy_menu.value = remedy
    tr = panel.trainer
    assert type(tr) is cls
    assert panel.remedy_slider.layout.visibility == "visible"
    assert (panel.remedy_slider.min, panel.remedy_slider.max, panel.remedy_slider.value) == (low, high, default)
    assert getattr(tr, attr) == default
    assert tr.iteration == 0  # new models from the seed
    assert f"remedy: {remedy}" in text_of(panel.readout.value)
    if remedy == "PacGAN":
        assert tr.D.inner.config.in_dim == default * panel.dist.dim
    panel.remedy_slider.value = moved
    assert panel.trainer is not tr and type(panel.trainer) is cls
    assert getattr(panel.trainer, attr) == moved
    if remedy == "PacGAN":
        assert panel.trainer.D.inner.config.in_dim == moved * panel.dist.dim
        assert panel.view.pack == moved
    panel.on_step()
    assert panel.trainer.iteration == 1 and np.isfinite(panel.trainer.history["d_loss"][-1])


def test_wgan_gp_takes_five_critic_steps_and_going_back_takes_one(panel):
    panel.remedy_menu.value = "WGAN-GP"
    assert panel.controls["d_steps"].value == 5 and panel.trainer.config.d_steps == 5
    assert panel.view.critic and panel.layer_boxes["D*"].disabled
    panel.remedy_slider.value = 12  # a new penalty: rebuilt, still five critic steps
    assert panel.trainer.gp_weight == 12 and panel.trainer.config.d_steps == 5
    panel.on_step()
    assert counts(panel.trainer)[:3] == (1, 5, 1)
    panel.remedy_menu.value = "none"
    assert type(panel.trainer) is GANTrainer
    assert panel.controls["d_steps"].value == 1 and panel.trainer.config.d_steps == 1
    assert panel.remedy_slider.layout.visibility == "hidden"
    # a learner's own choice of D steps is left alone both ways
    panel.controls["d_steps"].value = 3
    panel.remedy_menu.value = "WGAN-GP"
    assert panel.trainer.config.d_steps == 3
    panel.remedy_menu.value = "none"
    assert panel.trainer.config.d_steps == 3


# --- layers and arrows ------------------------------------------------------------------------------

def test_the_arrows_layer_and_the_arrow_kind_in_1d(panel):
    assert panel.layers["arrows"] is False and "arrows" not in panel.frame
    panel.show_layers(arrows=True)
    arrows = panel.frame["arrows"]
    assert arrows["kind"] == "step" and arrows["x"].shape == (len(panel.z_arrows), 1)
    assert panel.art["arrows"].get_visible() and len(panel.art["arrows"].get_segments()) == 3 * len(panel.z_arrows)
    sample_kind = next(k for k, v in ARROW_NAMES.items() if v == "sample")
    panel.arrow_kind.value = sample_kind
    assert panel.frame["arrows"]["kind"] == "sample"
    expected = compute_g_arrows(panel.trainer, panel.z_arrows, panel.x_real[:len(panel.z_arrows)], kind="sample")
    np.testing.assert_allclose(panel.frame["arrows"]["dx"], expected["dx"], rtol=1e-6)
    panel.arrow_kind.value = next(k for k, v in ARROW_NAMES.items() if v == "step")
    assert panel.frame["arrows"]["kind"] == "step"
    panel.show_layers(arrows=False)
    assert "arrows" not in panel.frame and not panel.art["arrows"].get_visible()
    with pytest.raises(ValueError, match="unknown layer.*manifold"):
        panel.show_layers(manifold=True)  # a 2-D layer


def test_the_manifold_and_arrows_layers_in_2d(panel_2d):
    p = panel_2d
    assert png_size(p.image.value) == (960, 440)
    assert p.layers["manifold"] and p.layers["arrows"]
    assert len(p.frame["manifold"]["quads"]) == len(p.art["manifold"].get_paths()) > 0
    assert p.frame["arrows"]["x"].shape == (len(p.z_arrows), 2)
    p.show_layers(manifold=False, arrows=False)
    assert "manifold" not in p.frame and "arrows" not in p.frame
    assert not p.art["manifold"].get_visible() and not p.art["arrows"].get_visible()
    p.show_layers(manifold=True)
    assert "manifold" in p.frame and "arrows" not in p.frame and p.art["manifold"].get_visible()
    p.show_layers(arrows=True)
    p.arrow_kind.value = next(k for k, v in ARROW_NAMES.items() if v == "sample")
    assert p.frame["arrows"]["kind"] == "sample"


# --- slow motion ------------------------------------------------------------------------------------

@pytest.mark.parametrize("which", ["D", "G"])
def test_slow_motion_takes_one_update_apart_into_five_stages(panel, which):
    panel.on_step()
    before_frame = panel.frame
    it, d_up, g_up, n_hist = counts(panel.trainer)
    image = panel.image.value
    panel.slow_motion.value = True
    (panel.on_step_d if which == "D" else panel.on_step_g)()  # no event loop: every stage drawn at once
    assert [s.number for s in panel.stages] == [1, 2, 3, 4, 5]
    shown = text_of(panel.stage_html.value)
    assert f"one update of {which}, stage 5 of 5" in shown
    for stage in panel.stages:
        assert stage.caption[2:] in shown  # each caption, without its circled number
    moved = (d_up + 1, g_up) if which == "D" else (d_up, g_up + 1)
    assert counts(panel.trainer) == (it, *moved, n_hist)
    assert panel.image.value != image
    # each stage's picture is kept, the last being the one shown; the batch (1), the arrows (4) and the
    # update (5) each look different (2 and 3 both show the batch at D's outputs)
    assert len(panel.stage_images) == 5 and panel.stage_images[-1] == panel.image.value
    assert all(png_size(b) == (960, 440) for b in panel.stage_images)
    assert len({panel.stage_images[k] for k in (0, 3, 4)}) == 3
    # the last stage: the batch after the update, over a ghost of the frame before it
    fake = panel.art["stage_fake"].get_offsets()
    assert len(fake) == panel.trainer.config.batch_size
    if which == "D":
        assert len(panel.art["stage_real"].get_offsets()) == panel.trainer.config.batch_size
        np.testing.assert_allclose(panel.art["ghost_d"].get_ydata(), before_frame["d"])
    else:
        np.testing.assert_allclose(panel.art["ghost_p_g"].get_ydata(), before_frame["p_g"])
    # a normal Step clears the stages from the panel and the figure
    panel.on_step()
    assert panel.stages == [] and panel.stage_html.value == ""
    assert len(panel.art["stage_fake"].get_offsets()) == 0
    assert np.all(np.isnan(panel.art["ghost_d"].get_ydata()))
    assert counts(panel.trainer)[0] == it + 1


def test_slow_motion_off_steps_d_without_stages(panel):
    panel.on_step_d()
    assert panel.stages == [] and panel.stage_html.value == ""
    assert counts(panel.trainer)[:3] == (0, 1, 0)


# --- the code -----------------------------------------------------------------------------------

def test_show_the_code_shows_the_torch_code_of_one_step_and_follows_the_settings(panel):
    lab_code = pytest.importorskip("gan_lessons.lab_code")

    def code_box_shown():
        return any(panel.code_html in getattr(c, "children", ()) for c in panel.widget.children)

    def shown_code():
        match = re.search(r"<pre[^>]*>(.*)</pre>", panel.code_html.value, re.DOTALL)
        assert match, panel.code_html.value
        return html.unescape(match.group(1))

    assert panel.code_html.value == "" and not code_box_shown()
    panel.code_button.value = True
    assert code_box_shown()
    assert shown_code() == lab_code.step_code(panel.trainer)
    before = shown_code()
    panel.controls["lr_d"].value = 1e-2
    assert shown_code() != before and shown_code() == lab_code.step_code(panel.trainer)
    assert "lr=0.01" in shown_code()
    panel.remedy_menu.value = "PacGAN"
    assert shown_code() == lab_code.step_code(panel.trainer) and "PacGAN" in shown_code()
    panel.code_button.value = False
    assert panel.code_html.value == "" and not code_box_shown()
    assert panel.readout in panel.widget.children  # the rest of the panel is untouched


# --- your own points --------------------------------------------------------------------------------

@pytest.mark.parametrize("shape", [(300,), (300, 2)])
def test_use_points_trains_on_your_points(panel, shape):
    rng = np.random.default_rng(1)
    points = rng.normal(1.0, 0.3, shape)
    panel.on_step()
    panel.use_points(points)
    dim = 1 if len(shape) == 1 else 2
    assert panel.controls["target"].value == CUSTOM and CUSTOM in panel.controls["target"].options
    assert panel.dist.dim == dim and panel.trainer.data is panel.dist
    assert panel.trainer.G.config.out_dim == dim == panel.trainer.D.config.in_dim
    assert panel.trainer.iteration == (1 if dim == 1 else 0)  # same dimension: the models keep training
    batch = panel.trainer.sample_real(64).numpy().reshape(64, dim)
    rows = {tuple(r) for r in points.reshape(len(points), dim).astype(np.float32)}
    assert all(tuple(r) in rows for r in batch)  # every real sample is one of your points
    panel.on_step()
    assert np.isfinite(panel.trainer.history["d_loss"][-1]) and panel.frame["coverage"] is None
    # other points while "your points" is already chosen: switched to those
    other = points + 5.0
    panel.use_points(other)
    rows = {tuple(r) for r in other.reshape(len(other), dim).astype(np.float32)}
    assert all(tuple(r) in rows for r in panel.trainer.sample_real(64).numpy().reshape(64, dim))


def test_opening_your_points_builds_the_editor_and_its_points_reach_the_lab(panel):
    lab_data = pytest.importorskip("gan_lessons.lab_data")
    accordions = [w for w in descendants(panel.widget) if isinstance(w, W.Accordion)]
    assert len(accordions) == 1 and panel.editor is None
    accordions[0].selected_index = 0
    editor = panel.editor
    assert isinstance(editor, lab_data.PointsEditor) and editor.dim == panel.dist.dim
    assert editor.widget in list(descendants(accordions[0]))
    editor.textarea.value = "1.0\n1.5\n2.0\n2.5\n"
    editor.use_button.click()
    assert panel.controls["target"].value == CUSTOM
    assert set(np.unique(panel.trainer.sample_real(50).numpy())) <= {1.0, 1.5, 2.0, 2.5}
    accordions[0].selected_index = None
    accordions[0].selected_index = 0
    assert panel.editor is editor  # opened again: the same editor, with what was typed


# --- reset, the image, Play, divergence -------------------------------------------------------------

def test_reset_after_training_empties_the_history_axes(panel):
    first_image = panel.image.value
    panel.set(lr_d=0.1, lr_g=1e-5, d_steps=10)  # D wins at once: G's loss leaves the axis' first range
    panel.trainer.train(20)
    panel.on_step()
    assert len(panel.art["d_loss"].get_xdata()) == 21 and not panel.art["empty"].get_visible()
    assert panel.art["loss_axes"].get_ylim()[1] > 2
    panel.on_reset()
    tr = panel.trainer
    assert counts(tr) == (0, 0, 0, 0)
    for key in HISTORY_LINES:
        assert len(panel.art[key].get_xdata()) == 0, key
    assert list(panel.art["jsd"].get_xdata()) == [0]  # the JSD of the reset models, at iteration 0
    assert panel.art["empty"].get_visible()
    assert panel.art["loss_axes"].get_xlim() == (0, 100) and panel.art["loss_axes"].get_ylim() == (0, 2)
    assert png_size(panel.image.value) == (960, 440)
    assert panel.image.value == first_image  # the same picture as a lab that never trained


def test_play_trains_draws_frames_and_stops_on_pause(panel_2d):
    p = panel_2d
    frames, image = p.frames, p.image.value

    async def scenario():
        p.play()
        await asyncio.sleep(1.0)
        shown_while_playing = p.image.value
        p.pause()
        await asyncio.sleep(0.3)
        return shown_while_playing

    shown_while_playing = asyncio.run(scenario())
    assert shown_while_playing != image  # frames were sent while it trained, not only at the end
    assert not p.playing and p._task.done() and p._task.exception() is None
    tr = p.trainer
    assert tr.iteration > 0 and p.frames > frames + 1
    # every iteration is drawn, as block means once the history is long (over 800 iterations)
    width = max(1, tr.iteration // 400)
    expected = tr.iteration if width <= 1 else tr.iteration // width + tr.iteration % width
    assert len(p.art["d_loss"].get_xdata()) == expected and not p.art["empty"].get_visible()
    assert p.art["d_loss"].get_xdata()[-1] == tr.iteration
    with torch.no_grad():  # the last frame shows the models as they stopped
        x_fake = tr.G(p.z_fixed).double().numpy()
    np.testing.assert_allclose(p.frame["x_fake"], x_fake, rtol=1e-5, atol=1e-6)
    assert png_size(p.image.value) == (960, 440) and p.image.value != image


def test_a_nan_weight_stops_step_and_play_with_a_readable_message(panel):
    panel.on_step()
    good = [p.clone() for p in panel.trainer.D.parameters()]
    poison(panel.trainer.D)
    panel.on_step()  # no exception
    assert panel.diverged and "Training diverged" in panel.diverged
    shown = text_of(panel.readout.value)
    assert "Training diverged and stopped" in shown and "lr_d" in shown
    assert panel.trainer.iteration == 1  # the failed iteration is not counted
    assert all(torch.equal(a, b) for a, b in zip(good, panel.trainer.D.parameters()))  # weights restored
    poison(panel.trainer.G)

    async def scenario():
        panel.play()
        await asyncio.sleep(0.3)

    asyncio.run(scenario())
    assert not panel.playing and panel._task.done() and panel._task.exception() is None
    assert "Training diverged and stopped" in text_of(panel.readout.value)
    assert panel.trainer.iteration == 1
    panel.slow_motion.value = True
    poison(panel.trainer.D)
    panel.on_step_d()
    assert "Training diverged and stopped" in text_of(panel.readout.value) and panel.trainer.d_updates == 1


def test_the_divergence_warning_goes_once_training_runs_again(panel):
    poison(panel.trainer.D)
    panel.on_step()
    assert "Training diverged and stopped" in text_of(panel.readout.value)
    panel.controls["lr_d"].value = 1e-4
    panel.on_step()  # the restored weights train again
    assert panel.trainer.iteration == 1
    assert "diverged" not in text_of(panel.readout.value)


# --- slow motion on a running event loop, with other buttons pressed meanwhile ---------------------

@pytest.fixture
def animated(panel):
    panel.slow_motion.value = True
    panel.stage_seconds.value = panel.stage_seconds.min  # 0.3 s per stage
    return panel


def test_slow_motion_on_an_event_loop_plays_the_stages_in_turn(animated):
    p = animated

    async def scenario():
        p.on_step_d()
        await asyncio.sleep(0.1)
        first = text_of(p.stage_html.value)
        await asyncio.sleep(1.5)
        return first

    first = asyncio.run(scenario())
    assert "stage 1 of 5" in first
    assert "stage 5 of 5" in text_of(p.stage_html.value) and p._stage_task.exception() is None
    assert counts(p.trainer)[:3] == (0, 1, 0)


def test_step_during_a_slow_motion_animation_stops_it_cleanly(animated):
    p = animated

    async def scenario():
        p.on_step_d()
        await asyncio.sleep(0.4)  # at stage 2
        p.on_step()
        await asyncio.sleep(1.4)

    asyncio.run(scenario())
    assert counts(p.trainer)[:3] == (1, 2, 1)
    assert p._stage_task.done() and p._stage_task.exception() is None


def test_play_during_a_slow_motion_animation_trains_or_says_why_not(animated):
    p = animated

    async def scenario():
        p.on_step_d()
        await asyncio.sleep(0.4)
        p.play()
        await asyncio.sleep(1.6)  # the animation has ended meanwhile
        state = p.playing, p.trainer.iteration
        p.pause()
        await asyncio.sleep(0.1)
        return state

    playing, iteration = asyncio.run(scenario())
    assert iteration > 0 or not playing  # either Play trains, or it is not shown as playing


def test_slow_motion_step_d_during_play_takes_its_update(animated):
    p = animated

    async def scenario():
        p.play()
        await asyncio.sleep(0.4)
        d_before = p.trainer.d_updates
        p.on_step_d()
        await asyncio.sleep(0.5)
        return d_before

    d_before = asyncio.run(scenario())
    assert not p.playing
    assert p.trainer.d_updates == d_before + 1 and len(p.stages) == 5


def test_play_trains_until_the_next_frame_but_never_less_than_a_frame_takes(panel):
    period = 1.0 / lab_panel.TARGET_FPS
    panel.frame_seconds = 0.010  # a fast machine: train for the rest of the frame's period
    assert panel._chunk() == pytest.approx(period - 0.010)
    panel.frame_seconds = 0.055  # a slow one: training keeps half of the time, the frame rate drops
    assert panel._chunk() == pytest.approx(0.055)
    panel.frame_seconds = 0.030  # the two meet at half the period
    assert panel._chunk() == pytest.approx(max(period - 0.030, 0.030))
    fixed = lab_panel.TrainingLab(seed=0, chunk_seconds=0.2)
    fixed.frame_seconds = 0.5
    assert fixed._chunk() == 0.2


def test_close_closes_every_widget_but_keeps_the_trainer(panel):
    panel.on_step()
    widgets = [panel.widget, panel.image, panel.readout, panel.stage_html, *panel.layer_boxes.values()]
    assert all(w.comm is not None for w in widgets)
    panel.close()
    assert all(w.comm is None for w in widgets)
    assert panel.image.layout.comm is None
    it = panel.trainer.iteration
    panel.trainer.step()
    assert panel.trainer.iteration == it + 1
    fig = panel.snapshot()  # still drawn from code, as a lesson does after closing the panel
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) >= 3
    matplotlib.pyplot.close(fig)
