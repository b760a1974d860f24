"""The training lab's figure layer under Agg: layers, axis limits, arrows, the history axes,
legends, the critic's view, slow-motion stages and rendering, each against a hand-made frame,
a hand computation or the rendered pixels."""
import io
import math

import matplotlib
import numpy as np
import PIL.Image
import pytest

matplotlib.use("Agg")

from gan_lessons import lab_figure as lf
from gan_lessons.lab_compute import compute_frame, default_models, make_target, view_box, view_range
from gan_lessons.lab_stages import staged_update
from gan_lessons.lab_views import cell_mean_density
from gan_lessons.remedies import WGANGPTrainer
from gan_lessons.train import GANTrainer, History

HISTORY_LINES = ("d_loss", "g_loss", "d_real", "d_fake", "jsd", "modes")
NO_SCORES = ([], [], [])


# --- helpers --------------------------------------------------------------------------------------

def grid_1d(name="1-D two modes"):
    dist = make_target(name)
    x = np.linspace(*view_range(dist), 400)
    return dist, x, dist.density(x)


def mesh_2d(dist, side=80):
    lo, hi = view_box(dist)
    return np.meshgrid(np.linspace(float(lo[0]), float(hi[0]), side), np.linspace(float(lo[1]), float(hi[1]), side))


def figure_1d(d_kind="probability", name="1-D two modes"):
    dist, x, p_data = grid_1d(name)
    fig, art = lf.build_lab_figure(dist, x, p_data, d_kind=d_kind)
    return dist, x, p_data, fig, art


def figure_2d(d_kind="probability"):
    dist = make_target("2-D ring of 8")
    mesh = mesh_2d(dist)
    p_data = cell_mean_density(dist, mesh)
    fig, art = lf.build_lab_figure(dist, mesh=mesh, p_data=p_data, d_kind=d_kind)
    return dist, mesh, p_data, fig, art


def frame_1d(x, p_data, p_g=None, d=None, arrows=None):
    """A hand-made 1-D frame: G equal to the data unless ``p_g`` is given, D = 1/2."""
    p_g = p_data.copy() if p_g is None else p_g
    with np.errstate(invalid="ignore"):
        d_star = np.where(p_data + p_g > 0, p_data / (p_data + p_g), 0.5)
    frame = {"x": x, "p_data": p_data, "p_g": p_g, "d": np.full_like(x, 0.5) if d is None else d, "d_star": d_star,
             "z_line": np.linspace(-1, 1, 25), "x_line": np.linspace(-2, 2, 25)}
    if arrows is not None:
        frame["arrows"] = arrows
    return frame


def frame_2d(mesh, p_data, x_fake, arrows=None):
    gx, _ = mesh
    frame = {"d_mesh": np.full(gx.shape, 0.5), "p_data": p_data, "p_g": p_data, "d_star": np.full(gx.shape, 0.5),
             "x_fake": x_fake}
    if arrows is not None:
        frame["arrows"] = arrows
    return frame


def history_of(d_loss, g_loss=None, d_real=None, d_fake=None):
    h = History()
    n = len(d_loss)
    g_loss = np.full(n, 0.7) if g_loss is None else g_loss
    d_real = np.full(n, 0.6) if d_real is None else d_real
    d_fake = np.full(n, 0.4) if d_fake is None else d_fake
    for i in range(n):
        h.append({"iteration": i + 1, "d_loss": float(d_loss[i]), "g_loss": float(g_loss[i]),
                  "d_real": float(d_real[i]), "d_fake": float(d_fake[i])})
    return h


def cross(a, b):
    """The z component of the cross product of 2-D vectors (positive: b turns left of a)."""
    return a[..., 0] * b[..., 1] - a[..., 1] * b[..., 0]


def png_pixels(png: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("RGB"))


def shafts(art, n):
    """The n shafts (from, to) of the figure's arrows, as an (n, 2, 2) array."""
    return np.asarray(art["arrows"].get_segments())[:n]


# --- layers ---------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def trained_frames():
    """Real frames (with G's arrows and the manifold) of a briefly trained 1-D and 2-D GAN."""
    frames = {}
    for name in ("1-D two modes", "2-D ring of 8"):
        dist = make_target(name)
        G, D = default_models(dist.dim, seed=0)
        trainer = GANTrainer(G, D, dist, seed=0, device="cpu", batch_size=64)
        trainer.train(5)
        frames[dist.dim] = compute_frame(trainer, seed=0, n=400 if dist.dim == 1 else 80, arrows=True,
                                         manifold=True)
    return frames


@pytest.mark.parametrize("dim", [1, 2])
def test_every_layer_hides_and_shows_what_it_draws(dim, trained_frames):
    frame = trained_frames[dim]
    if dim == 1:
        _, _, _, fig, art = figure_1d()
        names = lf.LAYERS_1D
    else:
        _, _, _, fig, art = figure_2d()
        names = lf.LAYERS_2D
    assert tuple(art["layers"]) == names
    lf.draw_lab_figure(art, frame, History(), NO_SCORES)
    lf.render_figure(fig)
    fig.set_layout_engine("none")  # keep the first layout, as the panel's blitter does
    everything = png_pixels(lf.render_figure(fig))
    for name in names:
        lf.set_layers(art, {name: False})
        assert not any(a.get_visible() for a in art["layers"][name]), name
        others = [a for other in names if other != name for a in art["layers"][other]]
        assert all(a.get_visible() for a in others), name
        hidden = png_pixels(lf.render_figure(fig))
        assert np.any(hidden != everything), f"hiding {name!r} changed no pixel"
        lf.set_layers(art, {name: True})
    np.testing.assert_array_equal(png_pixels(lf.render_figure(fig)), everything)  # all shown again
    with pytest.raises(ValueError, match="unknown layer.*'p_gg'"):
        lf.set_layers(art, {"p_gg": False})
    with pytest.raises(ValueError, match="unknown layer"):
        lf.set_layers(art, {"manifold" if dim == 1 else "z -> x": True})  # the other view's layer


# --- the density axis -----------------------------------------------------------------------------

def test_the_density_axis_grows_to_hold_a_tall_p_g_and_shrinks_back():
    _, x, p_data, _, art = figure_1d()
    top0 = art["main"].get_ylim()[1]
    assert top0 == pytest.approx(1.15 * p_data.max())
    # a narrow G whose peak is three times the axis' top (and above 1: no clipping at y = 1 either)
    p_g = 3 * top0 * np.exp(-0.5 * ((x - 2.0) / 0.05) ** 2)
    assert p_g.max() > 1.0
    assert lf.draw_lab_figure(art, frame_1d(x, p_data, p_g), History(), NO_SCORES) is True
    top = art["main"].get_ylim()[1]
    assert top >= p_g.max()
    np.testing.assert_array_equal(art["p_g"].get_ydata(), p_g)  # drawn as it is, not cut off
    for line in art["main"].get_lines() + art["d_axes"].get_lines():
        y = np.asarray(line.get_ydata(), dtype=float)
        lo, hi = line.axes.get_ylim()
        assert np.all(y[np.isfinite(y)] <= hi) and np.all(y[np.isfinite(y)] >= lo), line.get_label()
    # the same frame again changes nothing
    assert lf.draw_lab_figure(art, frame_1d(x, p_data, p_g), History(), NO_SCORES) is False
    # G back to the data's height: the axis shrinks so the curves are not squashed flat
    assert lf.draw_lab_figure(art, frame_1d(x, p_data), History(), NO_SCORES) is True
    assert art["main"].get_ylim()[1] == pytest.approx(top0)


# --- arrows ---------------------------------------------------------------------------------------

def test_arrow_segments_match_a_hand_computation():
    at = np.array([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5]])
    vec = np.array([[2.0, 0.0], [0.0, -0.5], [0.3, 0.4]])
    spans = (10.0, 2.0)
    seg = lf.arrow_segments(at, vec, spans)
    n = len(at)
    assert seg.shape == (3 * n, 2, 2)
    np.testing.assert_allclose(seg[:n, 0], at)
    np.testing.assert_allclose(seg[:n, 1], at + vec)
    for k in range(n):
        u = vec[k] / spans  # in units of the view
        length = min(0.3 * np.linalg.norm(u), 0.03)
        for stroke in (seg[n + k], seg[2 * n + k]):
            np.testing.assert_allclose(stroke[0], at[k] + vec[k])  # each stroke of the head starts at the tip
            back = (stroke[1] - stroke[0]) / spans
            assert np.linalg.norm(back) == pytest.approx(length)
            angle = math.degrees(math.acos(np.dot(back, -u) / (np.linalg.norm(back) * np.linalg.norm(u))))
            assert angle == pytest.approx(25.0)
        # the two strokes lie on either side of the shaft
        sides = [cross(u, (s[1] - s[0]) / spans) for s in (seg[n + k], seg[2 * n + k])]
        assert sides[0] * sides[1] < 0
    # the first arrow (horizontal, 0.2 of the view): head 0.03 of the view, 25 degrees off the shaft
    np.testing.assert_allclose(seg[n, 1], [2.0 - 0.3 * math.cos(math.radians(25)), -0.06 * math.sin(math.radians(25))])


def test_1d_arrows_start_at_the_samples_and_keep_their_scale_until_one_would_leave_the_view():
    _, x, p_data, _, art = figure_1d()
    span = x[-1] - x[0]
    xs = np.array([[-1.0], [0.5], [2.0], [100.0]])  # the last lies off the grid: drawn at its edge
    dx = np.array([[0.4], [-1.0], [0.25], [0.1]])
    assert art["arrow_scale"] is None
    lf.draw_lab_figure(art, frame_1d(x, p_data, arrows={"x": xs, "dx": dx}), History(), NO_SCORES)
    first_scale = art["arrow_scale"]
    assert first_scale == pytest.approx(lf.ARROW_FRACTION * span / 1.0)  # set by the longest arrow, |dx| = 1
    seg = shafts(art, 4)
    assert len(art["arrows"].get_segments()) == 3 * 4
    np.testing.assert_allclose(seg[:, 0, 0], np.clip(xs[:, 0], x[0], x[-1]))
    np.testing.assert_allclose(seg[:, 0, 1], 1.12)  # on the x line's arrow row
    vec = seg[:, 1] - seg[:, 0]
    np.testing.assert_allclose(vec[:, 1], 0.0)
    assert np.all(np.sign(vec[:, 0]) == np.sign(dx[:, 0]))  # along dx
    np.testing.assert_allclose(vec[:, 0] / dx[:, 0], vec[0, 0] / dx[0, 0])  # one scale for all
    assert np.max(np.abs(vec[:, 0])) == pytest.approx(lf.ARROW_FRACTION * span)
    # a halved gradient: half-length arrows, no rescale
    assert lf.draw_lab_figure(art, frame_1d(x, p_data, arrows={"x": xs, "dx": dx / 2}), History(), NO_SCORES) is False
    assert art["arrow_scale"] == first_scale
    np.testing.assert_allclose(shafts(art, 4)[:, 1, 0] - shafts(art, 4)[:, 0, 0], vec[:, 0] / 2)


def test_2d_arrows_rescale_only_past_three_times_the_nominal_length():
    _, mesh, p_data, _, art = figure_2d()
    x0, x1, y0, y1 = art["extent"]
    span = max(x1 - x0, y1 - y0)
    rng = np.random.default_rng(0)
    x_fake = rng.normal(0, 0.5, (50, 2))
    dx = rng.normal(0, 1.0, (50, 2))
    longest = np.max(np.linalg.norm(dx, axis=1))

    def draw(factor):
        # "changed": whether the arrows' scale changed (it needs no full redraw: the arrows move every frame)
        before = art.get("arrow_scale")
        full_redraw = lf.draw_lab_figure(art, frame_2d(mesh, p_data, x_fake, {"x": x_fake, "dx": factor * dx}),
                                         History(), NO_SCORES)
        if before is not None:
            assert full_redraw is False
        seg = shafts(art, 50)
        return bool(art["arrow_scale"] != before), seg[:, 1] - seg[:, 0], seg

    changed, vec, seg = draw(1.0)
    assert changed is True and len(art["arrows"].get_segments()) == 150
    np.testing.assert_allclose(seg[:, 0], x_fake)  # shafts start at the samples
    scale = lf.ARROW_FRACTION * span / longest
    np.testing.assert_allclose(vec, scale * dx)  # and point along dx, the longest spanning the nominal fraction
    changed, half, _ = draw(0.5)
    assert changed is False
    np.testing.assert_allclose(half, vec / 2)
    changed, grown, _ = draw(2.9)  # under 3x the nominal fraction: still the first frame's scale
    assert changed is False
    np.testing.assert_allclose(grown, 2.9 * vec)
    changed, big, _ = draw(3.1)  # beyond: rescaled so the longest spans the nominal fraction again
    assert changed is True
    assert np.max(np.linalg.norm(big, axis=1)) == pytest.approx(lf.ARROW_FRACTION * span)
    np.testing.assert_allclose(big, vec)
    # shrinking: kept down to a tenth of the nominal length (a shrinking gradient shows), rescaled below
    changed, small, _ = draw(3.1 * 0.11)  # the scale is now that of the 3.1 x dx frame
    assert changed is False
    np.testing.assert_allclose(small, 0.11 * vec)
    changed, tiny, _ = draw(3.1 * 0.09)
    assert changed is True
    np.testing.assert_allclose(tiny, vec)


# --- the history axes -----------------------------------------------------------------------------

@pytest.mark.parametrize("dim", [1, 2])
def test_reset_axes_empties_the_history_and_shows_the_note(dim):
    if dim == 1:
        _, x, p_data, _, art = figure_1d()
        frame = frame_1d(x, p_data)
    else:
        _, mesh, p_data, _, art = figure_2d()
        frame = frame_2d(mesh, p_data, np.zeros((10, 2)))
    assert art["empty"].get_visible() and art["empty"].get_text() == lf.EMPTY_TEXT
    assert "no iterations yet" in lf.EMPTY_TEXT
    d_loss = np.linspace(1.4, 0.9, 300)
    history = history_of(d_loss)
    scores = ([0, 150, 300], [0.69, 0.4, 0.2], [0.0, 0.5, 1.0])
    assert lf.draw_lab_figure(art, frame, history, scores) is True
    assert not art["empty"].get_visible()
    np.testing.assert_allclose(art["d_loss"].get_xdata(), np.arange(1, 301))
    np.testing.assert_allclose(art["d_loss"].get_ydata(), d_loss)
    np.testing.assert_allclose(art["jsd"].get_ydata(), scores[1])
    assert art["loss_axes"].get_xlim() == (0, 512)  # the next power of two above 300 iterations
    lo, hi = art["loss_axes"].get_ylim()
    assert lo <= 0.7 and hi >= 1.4
    lf.reset_axes(art)
    for key in HISTORY_LINES:
        assert len(art[key].get_xdata()) == 0 and len(art[key].get_ydata()) == 0, key
    assert art["empty"].get_visible()
    assert art["loss_axes"].get_xlim() == (0, 100) and art["loss_axes"].get_ylim() == (0, 2)
    # a frame with an empty history keeps the note; one with history hides it again
    assert lf.draw_lab_figure(art, frame, History(), NO_SCORES) is False
    assert art["empty"].get_visible()
    lf.draw_lab_figure(art, frame, history_of([1.0]), ([1], [0.5], [0.5]))
    assert not art["empty"].get_visible()


def test_a_long_history_is_drawn_as_block_means():
    _, x, p_data, _, art = figure_1d()
    d_loss = np.random.default_rng(0).uniform(0, 2, 4000)
    lf.draw_lab_figure(art, frame_1d(x, p_data), history_of(d_loss), NO_SCORES)
    y = art["d_loss"].get_ydata()
    assert len(y) < 1000
    np.testing.assert_allclose(y, d_loss.reshape(-1, 10).mean(1))  # 4000 // 400 = blocks of 10
    np.testing.assert_allclose(art["d_loss"].get_xdata(), np.arange(1, 4001).reshape(-1, 10).mean(1))


@pytest.mark.parametrize("dim", [1, 2])
def test_the_legends_of_the_data_axes_sit_above_them(dim):
    fig, art = (figure_1d() if dim == 1 else figure_2d())[3:]
    # drawn by Agg, so that the constrained layout has placed everything (a bare Figure's own canvas is
    # matplotlib's FigureCanvasBase, whose draw() does nothing)
    lf.render_figure(fig)
    for ax in (art["main"], art["loss_axes"], art["out_axes"]):
        legend = ax.get_legend()
        assert legend is not None
        box, frame = legend.get_window_extent(), ax.get_window_extent()
        assert box.y0 >= frame.y1 - 1, ax.get_ylabel()  # above the axes, covering none of the curves
        assert box.y1 <= fig.bbox.y1 + 1 and box.x1 <= fig.bbox.x1 + 1  # and inside the figure
        if ax.get_title():
            assert box.y0 >= ax.title.get_window_extent().y1 - 1  # and above the title
    # the lower history axes' legend does not reach into the upper axes
    upper = art["loss_axes"].get_window_extent()
    assert art["out_axes"].get_legend().get_window_extent().y1 <= upper.y0


# --- the critic -----------------------------------------------------------------------------------

def test_a_critic_in_1d_has_no_d_star_and_its_score_is_scaled_into_0_1():
    _, x, p_data, _, art = figure_1d("critic")
    legend = [t.get_text() for t in art["main"].get_legend().get_texts()]
    assert "critic $D(x)$" in legend and not any("D^*" in t for t in legend)
    d = 3.0 * np.sin(x) - 4.0  # scores between -7 and -1
    history = history_of([0.1, -2.0, -5.0], d_real=np.array([2.0, 3.0, 4.0]), d_fake=np.array([-3.0, -2.0, -1.0]))
    lf.draw_lab_figure(art, frame_1d(x, p_data, d=d), history, NO_SCORES)
    drawn = np.asarray(art["d"].get_ydata())
    assert drawn.min() == pytest.approx(0.0) and drawn.max() == pytest.approx(1.0)
    np.testing.assert_allclose(drawn, (d - d.min()) / (d.max() - d.min()))
    assert np.all(np.isnan(art["d_star"].get_ydata()))
    lf.set_layers(art, {"D*": True})
    assert np.all(np.isnan(art["d_star"].get_ydata()))
    lo, hi = art["out_axes"].get_ylim()  # the scores' axis holds every mean score
    assert lo <= -3.0 and hi >= 4.0
    lo, hi = art["loss_axes"].get_ylim()  # and the loss axis the critic's negative losses
    assert lo <= -5.0 and hi >= 0.7


def test_a_critic_in_2d_hides_d_star_even_when_the_layer_is_on():
    _, mesh, p_data, fig, art = figure_2d("critic")
    assert not art["d_star"].get_visible()
    lf.set_layers(art, {"D*": True})
    assert not art["d_star"].get_visible()
    d = np.linspace(-2.0, 5.0, mesh[0].size).reshape(mesh[0].shape)
    frame = frame_2d(mesh, p_data, np.zeros((10, 2)))
    frame["d_mesh"] = d
    lf.draw_lab_figure(art, frame, History(), NO_SCORES)
    assert art["d_mesh"].get_clim() == (pytest.approx(-2.0), pytest.approx(5.0))  # the score's own range


# --- slow-motion stages ---------------------------------------------------------------------------

def test_the_stages_of_a_d_update_in_1d_put_the_batch_on_the_figure():
    dist, x, p_data, _, art = figure_1d()
    G, D = default_models(1, seed=0)
    trainer = GANTrainer(G, D, dist, seed=0, device="cpu", batch_size=64)
    stages = staged_update(trainer, "D")
    assert [s.number for s in stages] == [1, 2, 3, 4, 5]
    lf.draw_stage(art, stages[0])
    real, fake = art["stage_real"].get_offsets(), art["stage_fake"].get_offsets()
    assert len(real) == len(fake) == 64
    np.testing.assert_allclose(real[:, 0], stages[0].show["x_real"][:, 0])
    np.testing.assert_allclose(fake[:, 0], stages[0].show["x_fake"][:, 0])
    lf.draw_stage(art, stages[1])  # now at D's outputs
    np.testing.assert_allclose(art["stage_real"].get_offsets()[:, 1], stages[1].show["d_real"])
    np.testing.assert_allclose(art["stage_fake"].get_offsets()[:, 1], stages[1].show["d_fake"])
    lf.draw_stage(art, stages[3])  # arrows on D's outputs, at most MAX_STAGE_ARROWS of each colour
    n_arrows = 2 * len(range(0, 64, math.ceil(64 / lf.MAX_STAGE_ARROWS)))
    segs = art["stage_push"].get_segments()
    assert len(segs) == 3 * n_arrows
    push = stages[3].show["push"]
    np.testing.assert_allclose([s[0] for s in segs[:n_arrows // 2]], push["at"][:64:2])
    vertical = np.array([s[1] - s[0] for s in segs[:n_arrows]])
    np.testing.assert_allclose(vertical[:, 0], 0.0, atol=1e-12)
    assert np.all(np.sign(vertical[:, 1]) == np.sign(np.concatenate([push["vec"][:64:2, 1], push["vec"][64::2, 1]])))
    stages[4].show["ghost"] = {"d": np.full_like(x, 0.3), "p_g": p_data / 2}
    lf.draw_stage(art, stages[4])
    np.testing.assert_allclose(art["ghost_d"].get_ydata(), 0.3)
    np.testing.assert_allclose(art["ghost_p_g"].get_ydata(), p_data / 2)
    assert len(art["stage_push"].get_segments()) == 0  # stage 5 draws no arrows
    lf.clear_stage(art)
    assert len(art["stage_real"].get_offsets()) == len(art["stage_fake"].get_offsets()) == 0
    assert np.all(np.isnan(art["ghost_d"].get_ydata())) and np.all(np.isnan(art["ghost_p_g"].get_ydata()))


def test_the_stages_of_a_g_update_in_2d_put_the_samples_and_their_pull_on_the_figure():
    dist, mesh, p_data, _, art = figure_2d()
    G, D = default_models(2, seed=0)
    trainer = GANTrainer(G, D, dist, seed=0, device="cpu", batch_size=32)
    stages = staged_update(trainer, "G")
    lf.draw_stage(art, stages[0])
    np.testing.assert_allclose(art["stage_fake"].get_offsets(), stages[0].show["x_fake"])
    assert len(art["stage_fake"].get_offsets()) == 32 and len(art["stage_real"].get_offsets()) == 0
    lf.draw_stage(art, stages[3])
    segs = np.asarray(art["stage_push"].get_segments())
    assert len(segs) == 3 * 32  # 32 arrows of one colour: all drawn
    np.testing.assert_allclose(segs[:32, 0], stages[3].show["push"]["at"])
    vec, pull = segs[:32, 1] - segs[:32, 0], stages[3].show["push"]["vec"]
    np.testing.assert_allclose(cross(vec, pull), 0.0, atol=1e-9)  # parallel to the pull
    assert np.all(np.sum(vec * pull, axis=1) > 0)  # and the same way
    stages[4].show["ghost"] = {"x_fake": stages[0].show["x_fake"]}
    lf.draw_stage(art, stages[4])
    np.testing.assert_allclose(art["ghost_samples"].get_offsets(), stages[0].show["x_fake"])
    np.testing.assert_allclose(art["stage_fake"].get_offsets(), stages[4].show["x_fake"])
    lf.clear_stage(art)
    assert len(art["stage_fake"].get_offsets()) == len(art["ghost_samples"].get_offsets()) == 0
    assert len(art["stage_push"].get_segments()) == 0


def test_a_critics_stage_draws_its_scores_scaled_into_0_1():
    dist, x, p_data, _, art = figure_1d("critic")
    G, D = default_models(1, seed=0)
    trainer = WGANGPTrainer(G, D, dist, seed=0, device="cpu", batch_size=64)
    stage = staged_update(trainer, "D")[1]
    lf.draw_stage(art, stage)
    heights = np.concatenate([art["stage_real"].get_offsets()[:, 1], art["stage_fake"].get_offsets()[:, 1]])
    scores = np.concatenate([stage.show["d_real"], stage.show["d_fake"]])
    assert heights.min() == pytest.approx(0.0) and heights.max() == pytest.approx(1.0)
    np.testing.assert_allclose(heights, (scores - scores.min()) / (scores.max() - scores.min()))


# --- rendering ------------------------------------------------------------------------------------

def test_render_figure_draws_animated_artists_too_and_leaves_them_animated():
    _, x, p_data, fig, art = figure_1d()
    lf.draw_lab_figure(art, frame_1d(x, p_data, p_g=2 * p_data), History(), NO_SCORES)
    lf.render_figure(fig)  # constrained layout moves the axes by a pixel or two between its first and second draw
    png = lf.render_figure(fig)
    assert png[:4] == b"\x89PNG"
    assert PIL.Image.open(io.BytesIO(png)).size == (960, 440)
    for artist in art["moving"]:
        artist.set_animated(True)  # as the panel's blitter marks them
    assert np.array_equal(png_pixels(lf.render_figure(fig)), png_pixels(png))
    assert all(a.get_animated() for a in art["moving"])
    lf.set_layers(art, {"p_g": False})
    assert not np.array_equal(png_pixels(lf.render_figure(fig)), png_pixels(png))
