"""The training lab, built headless: compute functions against independent numbers, controls,
buttons, Play and Pause, rapid changes, artists updated in place, and clear errors."""
import asyncio
import base64
import io
import random

import matplotlib
import numpy as np
import PIL.Image
import pytest
import torch
from scipy import stats

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from gan_lessons import coverage, distributions, lab, theory


@pytest.fixture
def panel():
    return lab.TrainingLab(seed=0)


# --- compute ------------------------------------------------------------------------------------

def test_kde_matches_scipy():
    s = np.random.default_rng(0).normal(1.0, 2.0, 500)
    x = np.linspace(-6, 8, 101)
    np.testing.assert_allclose(lab.compute_kde_1d(s, x), stats.gaussian_kde(s)(x), rtol=1e-10)


def test_binned_kde_is_close_to_the_exact_one_and_keeps_mass():
    s = np.random.default_rng(1).normal(0.0, 1.0, 3000)
    x = np.linspace(-6, 6, 400)
    exact, binned = lab.compute_kde_1d(s, x), lab.compute_binned_kde_1d(s, x)
    assert np.max(np.abs(binned - exact)) < 0.01 * exact.max()
    assert np.sum(binned) * (x[1] - x[0]) == pytest.approx(1.0, abs=1e-3)
    # a sample far off the grid adds no mass but counts in the normalisation
    with_out = lab.compute_binned_kde_1d(np.concatenate([s, [100.0]]), x, bandwidth=0.2)
    assert np.sum(with_out) * (x[1] - x[0]) == pytest.approx(3000 / 3001, abs=1e-3)
    with pytest.raises(ValueError, match="evenly spaced"):
        lab.compute_binned_kde_1d(s, np.array([0.0, 1.0, 3.0]))


@pytest.mark.parametrize("spread", [3.0, 30.0])
def test_binned_kde_with_a_kernel_wider_than_the_grid(spread):
    # samples spread far beyond a short grid: Scott's bandwidth exceeds the grid's width / 5, and the
    # estimate must still have one value per grid point and agree with the exact sum of kernels
    s = np.random.default_rng(2).normal(2.0, spread, 2500)
    x = np.linspace(-1.5, 5.0, 400)
    exact, binned = lab.compute_kde_1d(s, x), lab.compute_binned_kde_1d(s, x)
    assert binned.shape == x.shape
    np.testing.assert_allclose(binned, exact, rtol=2e-3, atol=1e-4 * exact.max())


def test_frame_1d_matches_direct_computation(panel):
    panel.trainer.train(30)
    f = panel.compute()
    G, D = panel.trainer.G, panel.trainer.D
    with torch.no_grad():
        d = torch.sigmoid(D(torch.tensor(panel.x, dtype=torch.float32)[:, None])).double().numpy()
        x_line = G(panel.z_line).reshape(-1).double().numpy()
    np.testing.assert_allclose(f["d"], d, rtol=1e-5)
    np.testing.assert_allclose(f["x_line"], x_line, rtol=1e-5)
    np.testing.assert_allclose(f["d_star"], f["p_data"] / (f["p_data"] + f["p_g"]), rtol=1e-9)
    assert f["jsd"] == pytest.approx(theory.js_divergence_on_grid(f["p_data"], f["p_g"], panel.x[1] - panel.x[0]))
    assert f["coverage"].n_captured == coverage.mode_coverage(f["x_fake"], panel.dist).n_captured


def test_warnings_on_hand_made_cases():
    assert lab.compute_warnings(0.6, 0.5) == []
    assert "D wins outright" in lab.compute_warnings(1.0, 1e-4)[0]
    assert "D is winning" in lab.compute_warnings(0.97, 1.0)[0]
    dist = distributions.mixture_1d([-4.0, 0.0, 4.0], [0.3, 0.3, 0.3])
    collapsed = coverage.mode_coverage(np.zeros(100), dist)
    assert any("1 of 3 modes" in w for w in lab.compute_warnings(0.6, 0.5, collapsed))
    climbing = np.concatenate([np.full(100, 1.0), np.full(100, 9.0)])
    assert any("climbing" in w for w in lab.compute_warnings(0.6, 0.5, g_loss_recent=climbing))
    assert "diverged" in lab.compute_warnings(0.6, 0.5, diverged="boom")[0]


def test_mode_collapse_is_judged_only_after_enough_updates_of_g():
    dist = distributions.mixture_1d([-4.0, 0.0, 4.0], [0.3, 0.3, 0.3])
    collapsed = coverage.mode_coverage(np.zeros(100), dist)  # 1 of 3 modes
    wait = lab.min_g_updates_to_judge_coverage(3)
    assert wait == 3 * lab.MIN_G_UPDATES_PER_MODE == 750
    assert lab.min_g_updates_to_judge_coverage(8) == 2000  # the ring of 8
    for g_updates in (0, 1, wait - 1):
        assert lab.compute_warnings(0.6, 0.5, collapsed, g_updates=g_updates) == []
    for g_updates in (wait, 10 * wait, None):  # None: a finished run, judged as it is
        warnings = lab.compute_warnings(0.6, 0.5, collapsed, g_updates=g_updates)
        assert any("1 of 3 modes" in w for w in warnings)
    covered = coverage.mode_coverage(np.array([-4.0, 0.0, 4.0] * 10), dist)
    assert lab.compute_warnings(0.6, 0.5, covered, g_updates=10 * wait) == []
    with pytest.raises(ValueError, match="n_modes"):
        lab.min_g_updates_to_judge_coverage(0)


def test_the_lab_says_too_early_to_judge_until_g_has_trained():
    # lr_g so small that G stays where it starts, covering neither mode, for as long as the test runs
    panel = lab.TrainingLab("1-D two modes", seed=0, lr_g=1e-5)
    assert panel.frame["coverage"].n_captured < 2
    assert "Mode collapse" not in panel.readout.value and "too early to judge" in panel.readout.value
    panel.trainer.train(lab.min_g_updates_to_judge_coverage(2) - 1)
    panel.refresh()
    assert "Mode collapse" not in panel.readout.value
    panel.on_step()  # the 500th update of G
    assert panel.trainer.g_updates == 500 and panel.frame["coverage"].n_captured < 2
    assert "Mode collapse: G covers" in panel.readout.value and "too early" not in panel.readout.value


# --- display ------------------------------------------------------------------------------------

def test_the_lab_displays_its_widget_a_still_and_a_sentence(panel):
    from IPython.core.formatters import DisplayFormatter

    for shown in (panel, panel.widget):  # lessons display the lab or its widget
        data, _ = DisplayFormatter().format(shown)
        assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.widget.model_id
        assert data["text/plain"] == "Interactive panel (the training lab): run this cell to use it."
        still = base64.b64decode(data["image/png"])
        assert still == panel.image.value
        assert PIL.Image.open(io.BytesIO(still)).size == (960, 440)  # 9.6 x 4.4 inches at 100 dpi
    panel.on_step()
    assert base64.b64decode(DisplayFormatter().format(panel)[0]["image/png"]) == panel.image.value != still


# --- controls and buttons -------------------------------------------------------------------------

def test_each_control_changes_the_trainers_settings(panel):
    new = {"d_steps": 4, "g_steps": 3, "lr_d": 1e-2, "lr_g": 1e-4, "g_loss": "minimax", "batch_size": 64}
    weights = [p.clone() for p in panel.trainer.G.parameters()]
    for name, value in new.items():
        panel.controls[name].value = value
        assert getattr(panel.trainer.config, name) == pytest.approx(value)
    assert all(panel.settings[k] == pytest.approx(v) for k, v in new.items())
    # no reset: the weights are those from before
    assert all(torch.equal(a, b) for a, b in zip(weights, panel.trainer.G.parameters()))
    panel.on_step()
    assert (panel.trainer.d_updates, panel.trainer.g_updates) == (4, 3)
    # the optimisers use the new learning rates
    assert panel.trainer.d_opt.param_groups[0]["lr"] == pytest.approx(1e-2)
    assert panel.trainer.g_opt.param_groups[0]["lr"] == pytest.approx(1e-4)


def test_step_d_step_g_and_step_count_exactly(panel):
    tr = panel.trainer
    panel.on_step_d()
    assert (tr.iteration, tr.d_updates, tr.g_updates) == (0, 1, 0)
    panel.on_step_g()
    assert (tr.iteration, tr.d_updates, tr.g_updates) == (0, 1, 1)
    panel.controls["d_steps"].value = 5
    panel.controls["g_steps"].value = 2
    panel.on_step()
    assert (tr.iteration, tr.d_updates, tr.g_updates) == (1, 6, 3)
    # and D's optimiser really took 6 steps, G's 3
    assert {int(s["step"]) for s in tr.d_opt.state.values()} == {6}
    assert {int(s["step"]) for s in tr.g_opt.state.values()} == {3}


def test_step_d_changes_only_d(panel):
    g_before = [p.clone() for p in panel.trainer.G.parameters()]
    d_before = [p.clone() for p in panel.trainer.D.parameters()]
    panel.buttons["Step D"].click()
    assert all(torch.equal(a, b) for a, b in zip(g_before, panel.trainer.G.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(d_before, panel.trainer.D.parameters()))


def test_reset_restores_the_initial_weights(panel):
    first = [p.clone() for p in panel.trainer.G.parameters()]
    panel.on_step()
    panel.on_reset()
    assert panel.trainer.iteration == 0 and len(panel.trainer.history) == 0
    assert all(torch.equal(a, b) for a, b in zip(first, panel.trainer.G.parameters()))


def test_play_and_pause_toggle_and_train_in_the_background(panel):
    async def scenario():
        panel.play()
        assert panel.playing and panel.play_button.description == "Pause"
        await asyncio.sleep(0.5)  # other coroutines (the kernel) run meanwhile
        running = panel.trainer.iteration
        panel.pause()
        await asyncio.sleep(0.2)
        return running, panel._task.done(), panel.trainer.iteration

    frames = panel.frames
    running, done, stopped = asyncio.run(scenario())
    assert running > 0 and panel.frames > frames
    assert done and not panel.playing and panel.play_button.description == "Play"
    panel.on_step()
    assert panel.trainer.iteration == stopped + 1  # nothing else trains after Pause


def test_play_without_an_event_loop_says_so(panel):
    panel.play()
    assert not panel.playing and "event loop" in panel.readout.value


def test_200_rapid_control_changes_leave_a_consistent_state(panel):
    rng = random.Random(0)
    choices = {"d_steps": range(1, 11), "g_steps": range(1, 11), "lr_d": [1e-4, 1e-3, 1e-2],
               "lr_g": [1e-4, 1e-3, 1e-2], "g_loss": ["minimax", "nonsaturating"],
               "batch_size": [16, 32, 64, 128], "target": list(lab.TARGETS)}
    for i in range(200):
        name = rng.choice(list(choices) + ["button"] * 2)
        if name == "button":
            panel.buttons[rng.choice(["Step", "Step D", "Step G"])].click()
        elif name != "target" or i % 20 == 0:  # a new target redraws everything: fewer of those
            panel.controls[name].value = rng.choice(choices[name])
    cfg = panel.trainer.config
    for name in ("d_steps", "g_steps", "lr_d", "lr_g", "g_loss", "batch_size"):
        assert getattr(cfg, name) == pytest.approx(panel.controls[name].value)
    assert panel.dist.dim == panel.trainer.G.config.out_dim == panel.trainer.D.config.in_dim
    tr = panel.trainer
    assert tr.iteration == len(tr.history)
    tr.step()
    panel.refresh()
    assert tr.iteration == len(tr.history) and np.isfinite(tr.history["d_loss"][-1])


def test_a_new_target_of_the_same_dimension_keeps_the_models(panel):
    panel.trainer.train(5)
    weights = [p.clone() for p in panel.trainer.G.parameters()]
    panel.controls["target"].value = "1-D two modes"
    assert panel.trainer.iteration == 5
    assert all(torch.equal(a, b) for a, b in zip(weights, panel.trainer.G.parameters()))
    assert panel.trainer.data is panel.dist and panel.dist.n_modes == 2
    panel.controls["target"].value = "2-D ring of 8"
    assert panel.trainer.G.config.out_dim == 2 and panel.trainer.iteration == 0
    panel.on_step()
    assert panel.frame["x_fake"].shape == (lab.N_FIXED, 2)


@pytest.mark.parametrize("points", [np.random.default_rng(0).normal(3.0, 0.3, 400),
                                    np.random.default_rng(0).normal(0.0, 1.0, (400, 2))])
def test_custom_points(points):
    panel = lab.make_lab(points=points, batch_size=64)
    assert panel.controls["target"].value == lab.CUSTOM
    assert panel.dist.dim == (1 if points.ndim == 1 else 2)
    panel.trainer.train(10)
    panel.refresh()
    assert panel.frame["coverage"] is None
    with pytest.raises(ValueError, match="points must be an array of shape"):
        lab.make_lab(points=np.zeros((10, 3)))


# --- drawing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", ["1-D three modes", "2-D grid of 25"])
def test_draw_updates_existing_artists_and_makes_no_new_figure(target):
    panel = lab.TrainingLab(target)
    figures = plt.get_fignums()
    fig = panel.figure
    children = [list(ax.get_children()) for ax in fig.axes]
    moving = "p_g" if panel.dist.dim == 1 else "samples"
    before = np.array(panel.art[moving].get_ydata() if moving == "p_g" else panel.art[moving].get_offsets())
    for _ in range(5):
        panel.trainer.train(20)
        panel.refresh()
    assert panel.figure is fig and plt.get_fignums() == figures
    assert [list(ax.get_children()) for ax in fig.axes] == children
    after = np.array(panel.art[moving].get_ydata() if moving == "p_g" else panel.art[moving].get_offsets())
    assert before.shape != after.shape or not np.allclose(before, after)
    assert len(panel.art["d_loss"].get_xdata()) > 0
    assert bytes(panel.image.value[:4]) == b"\x89PNG"  # a PNG: sharp lines and text


def test_snapshot_and_plot_snapshot_draw_figures(panel):
    panel.trainer.train(20)
    panel.refresh()
    fig = panel.snapshot()
    assert fig is not panel.figure and len(fig.axes) == len(panel.figure.axes) == 5
    png = lab.render_figure(fig)
    assert png[:4] == b"\x89PNG"
    fig1 = lab.plot_snapshot(panel.frame, title="(a)")
    assert fig1.axes[0].get_title() == "(a)"


# --- errors ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("setting,value,message", [
    ("d_steps", 11, "d_steps must be between 1 and 10"),
    ("g_steps", 0, "g_steps must be between 1 and 10"),
    ("lr_d", 5.0, "lr_d must be in"),
    ("lr_g", 0.0, "lr_g must be in"),
    ("g_loss", "wasserstein", "g_loss must be one of"),
    ("batch_size", 100, "batch_size must be one of"),
    ("batch_size", 1, "batch_size must be between 8 and 2048"),
])
def test_out_of_range_values_set_from_code_raise_clear_errors(panel, setting, value, message):
    before = panel.settings
    with pytest.raises(ValueError, match=message):
        panel.set(**{setting: value})
    assert panel.settings == before


def test_bad_arguments_to_the_lab():
    with pytest.raises(ValueError, match="d_steps must be between 1 and 10"):
        lab.TrainingLab(d_steps=20)
    with pytest.raises(ValueError, match="target must be one of"):
        lab.TrainingLab("a cat")
    with pytest.raises(ValueError, match="unknown setting"):
        lab.TrainingLab(momentum=0.9)


def test_compute_frame_of_a_trainer_equals_the_labs_frame(panel):
    panel.trainer.train(10)
    mine, labs = lab.compute_frame(panel.trainer, seed=0), panel.compute()
    for key in ("x", "p_data", "p_g", "d", "d_star", "x_line", "x_fake"):
        np.testing.assert_allclose(mine[key], labs[key])
    assert mine["jsd"] == labs["jsd"]
