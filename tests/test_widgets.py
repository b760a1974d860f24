"""The lessons' panels, built headless: compute against theory, draw under Agg, controls by value."""
import base64
import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from fakes import png_size
from scipy import stats

from gan_lessons import distributions, plots, theory, widgets

BIMODAL = distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5])


# --- the plot functions the lessons call before each widget ----------------------------------------

def test_lesson_plot_functions_draw_on_given_axes_and_return_the_figure():
    x = BIMODAL.sample(500).numpy()
    grid = np.linspace(-6, 6, 301)
    paths = widgets.compute_bilinear_paths(0.2, 50)
    open_before = len(plt.get_fignums())
    pairs = [
        lambda axes: plots.plot_gaussian_likelihood(x, 0.0, 1.0, dist=BIMODAL, axes=axes),
        lambda axes: plots.plot_bilinear_game(paths, axes=axes),
    ]
    for draw in pairs:
        fig, axes = plt.subplots(1, 2)
        assert draw(axes) is fig
    singles = [
        lambda ax: plots.plot_gaussian_fits(BIMODAL, {"forward": (0.0, 2.06), "reverse": (2.0, 0.5)}, ax=ax),
        lambda ax: plots.plot_generator_gradients(ax=ax),
        lambda ax: plots.plot_optimal_discriminator(grid, BIMODAL.density(grid), stats.norm(1, 1).pdf(grid), ax=ax,
                                                    d_learned=np.full_like(grid, 0.5)),
        lambda ax: plots.plot_c_of_g(grid, np.full_like(grid, -1.0), current=(0.0, -1.0), ax=ax, jsd=True),
    ]
    for draw in singles:
        fig, ax = plt.subplots()
        assert draw(ax) is fig
    assert len(plt.get_fignums()) == open_before + len(pairs) + len(singles)  # nothing drew a figure of its own


def test_plot_optimal_discriminator_draws_d_star():
    grid = np.linspace(-6, 6, 301)
    p_data, p_g = BIMODAL.density(grid), stats.norm(1, 1).pdf(grid)
    fig = plots.plot_optimal_discriminator(grid, p_data, p_g)
    np.testing.assert_allclose(plots.find_artist(fig, "d_star").get_ydata(), p_data / (p_data + p_g))
    with pytest.raises(KeyError, match="nothing"):
        plots.find_artist(fig, "nothing")


def _points_under_legend(ax, legend):
    """How many plotted points of ``ax`` (and of any twin sharing its x axis) the legend covers, on screen."""
    fig = ax.figure
    fig.canvas.draw()
    box = legend.get_window_extent()
    axes = [a for a in fig.axes if a.bbox.bounds == ax.bbox.bounds]
    covered = 0
    for a in axes:
        for line in a.get_lines():
            xy = np.column_stack(line.get_data()).astype(float)
            xy = xy[np.all(np.isfinite(xy), axis=1)]
            if len(xy):
                on_screen = a.transData.transform(xy)
                covered += int(np.sum((on_screen[:, 0] >= box.x0) & (on_screen[:, 0] <= box.x1)
                                      & (on_screen[:, 1] >= box.y0) & (on_screen[:, 1] <= box.y1)))
    return covered


def test_lesson_03_and_04_figures_keep_their_legends_off_the_data_and_title_each_panel():
    grid = np.linspace(-8, 8, 801)
    p_data, p_g = BIMODAL.density(grid), stats.norm(3, 1).pdf(grid)
    fig, ax = plt.subplots()
    d_learned = np.clip(p_data / (p_data + p_g + 1e-12), 0, 1)
    plots.plot_optimal_discriminator(grid, p_data, p_g, d_learned=d_learned, ax=ax, title="D*")
    assert _points_under_legend(ax, ax.get_legend()) == 0 and ax.get_title() == "D*"
    mus = np.linspace(-5, 5, 121)
    fig, ax = plt.subplots()
    plots.plot_c_of_g(mus, widgets.compute_c_of_g_curve(grid, p_data, mus, 1.0), current=(3.0, -0.67), ax=ax,
                      jsd=True, title="C(G)")
    assert _points_under_legend(ax, ax.get_legend()) == 0
    fig, ax = plt.subplots()
    plots.plot_generator_gradients(ax=ax)
    assert _points_under_legend(ax, ax.get_legend()) == 0 and ax.get_title()
    fig = plots.plot_bilinear_game(widgets.compute_bilinear_paths(0.1, 200))
    plane, radius = fig.axes[:2]
    assert _points_under_legend(plane, plane.get_legend()) == 0
    assert _points_under_legend(radius, radius.get_legend()) == 0
    assert plane.get_title() != radius.get_title()
    plt.close("all")


def test_bilinear_axes_fit_the_paths():
    paths = widgets.compute_bilinear_paths(0.1, 200)
    fig = plots.plot_bilinear_game(paths)
    plane, radius = fig.axes[:2]
    reach = max(np.abs(p).max() for p in paths.values())
    assert reach <= plane.get_xlim()[1] <= 1.5 * reach  # nothing leaves the window; no wide empty margin
    distances = np.concatenate([np.hypot(p[:, 0], p[:, 1]) for p in paths.values()])
    low, top = radius.get_ylim()
    assert low <= distances.min() and distances.max() <= top <= 10 * distances.max()
    # a path that overflows to inf still gets finite axes
    wild = widgets.compute_bilinear_paths(1.5, 1000, x_steps=10, y_steps=10)
    lim, (low, top) = plots.bilinear_limits(wild)
    assert all(np.isfinite(v) and v > 0 for v in (lim, low, top)) and low < top
    plt.close("all")


def test_likelihood_surface_peaks_at_the_mle():
    x = np.random.default_rng(0).normal(1.0, 0.5, 400)
    fig = plots.plot_gaussian_likelihood(x, 0.0, 1.0)
    bands = plots.find_artist(fig, "surface")
    mu_hat, sigma_hat = theory.gaussian_mle(x)
    assert bands.levels[-1] == pytest.approx(theory.gaussian_log_likelihood(x, mu_hat, sigma_hat) / len(x), abs=1e-3)
    top_band = bands.get_paths()[-1]
    assert top_band.contains_point((mu_hat, sigma_hat))
    assert not top_band.contains_point((mu_hat + 0.5, sigma_hat))


# --- compute and draw -------------------------------------------------------------------------------

def test_compute_discriminator_view_agrees_with_quadrature():
    x = np.linspace(-20, 20, 4001)
    view = widgets.compute_discriminator_view(x, BIMODAL.density(x), 1.0, 1.5)
    p_g = distributions.gaussian_1d(1.0, 1.5)
    assert view["c"] == pytest.approx(theory.virtual_training_criterion(BIMODAL, p_g, -20, 20), rel=1e-6)
    assert view["jsd"] == pytest.approx(theory.js_divergence_quad(BIMODAL, p_g, -20, 20), rel=1e-6)
    np.testing.assert_allclose(view["p_g"], stats.norm(1.0, 1.5).pdf(x), rtol=1e-12)


def test_c_of_g_curve_reaches_its_floor_only_at_p_data():
    x = np.linspace(-15, 15, 3001)
    p_data = distributions.gaussian_1d(0.5, 1.0).density(x)
    mus = np.linspace(-3, 3, 61)
    curve = widgets.compute_c_of_g_curve(x, p_data, mus, 1.0)
    assert mus[np.argmin(curve)] == pytest.approx(0.5)
    assert curve.min() == pytest.approx(-math.log(4), abs=1e-9)
    assert np.all(curve[np.abs(mus - 0.5) > 0.05] > -math.log(4) + 1e-4)


def test_jsd_map_marks_its_points_over_bands_that_span_the_values():
    # independent check: p_data is itself Gaussian, so the map's lowest value is 0, at p_data's (mu, sigma)
    mus, sigmas = np.linspace(-2, 3, 51), np.linspace(0.4, 3.0, 27)
    x = np.linspace(-20, 20, 4001)
    p_data = stats.norm(0.5, 1.0).pdf(x)
    jsd = np.array([[theory.js_divergence_on_grid(p_data, stats.norm(m, s).pdf(x), x[1] - x[0]) for m in mus]
                    for s in sigmas])
    assert jsd.min() == pytest.approx(0.0, abs=1e-9)
    assert (mus[np.argmin(jsd.min(axis=0))], sigmas[np.argmin(jsd.min(axis=1))]) == (pytest.approx(0.5), pytest.approx(1.0))
    fig, ax = plt.subplots()
    assert plots.plot_gaussian_jsd_map(mus, sigmas, jsd, minima={"best": (0.5, 1.0)}, ax=ax, title="JSD") is fig
    bands = plots.find_artist(fig, "jsd_map")
    assert bands.levels[0] <= jsd.min() and bands.levels[-1] >= np.log(2)  # every value falls in a band
    assert len(fig.axes) == 2 and "nats" in fig.axes[1].get_ylabel()  # the colour bar, with its unit
    star = [line for line in ax.get_lines() if line.get_label() == "best"][0]
    assert (star.get_xdata()[0], star.get_ydata()[0]) == (0.5, 1.0)
    assert ax.get_xlim() == (-2, 3) and ax.get_ylim() == (0.4, 3.0) and ax.get_title() == "JSD"
    assert _points_under_legend(ax, ax.get_legend()) == 0
    with pytest.raises(ValueError, match=r"jsd must have shape \(len\(sigmas\), len\(mus\)\)"):
        plots.plot_gaussian_jsd_map(mus, sigmas, jsd.T)
    with pytest.raises(ValueError, match="minima must be a dict"):
        plots.plot_gaussian_jsd_map(mus, sigmas, jsd, minima=[(0.5, 1.0)])
    plt.close("all")


def test_draw_bilinear_moves_the_paths():
    fig = plots.plot_bilinear_game(widgets.compute_bilinear_paths(0.1, 20))
    paths = widgets.compute_bilinear_paths(0.5, 40, x_steps=2)
    widgets.draw_bilinear(fig, paths)
    line = plots.find_artist(fig, "path:alternating")
    np.testing.assert_array_equal(np.column_stack(line.get_data()), paths["alternating"])
    assert fig.axes[1].get_xlim() == (0, 40)


# --- panels ---------------------------------------------------------------------------------------

def test_likelihood_panel_follows_its_sliders_and_jumps_to_the_maximum():
    x = BIMODAL.sample(800).numpy()[:, 0]
    panel = widgets.LikelihoodPanel(x, BIMODAL)
    first = panel.image.value
    assert png_size(first) == panel.blitter.canvas.get_width_height() == (792, 273)
    panel.mu.value, panel.sigma.value = 0.5, 1.5
    model = plots.find_artist(panel.figure, "model_density")
    np.testing.assert_allclose(model.get_ydata(), stats.norm(0.5, 1.5).pdf(model.get_xdata()), rtol=1e-12)
    assert f"{theory.gaussian_log_likelihood(x, 0.5, 1.5) / len(x):.3f}" in panel.readout.value
    assert panel.image.value != first
    panel.jump_to_maximum()
    mu_hat, sigma_hat = theory.gaussian_mle(x)
    assert panel.mu.value == pytest.approx(mu_hat, abs=panel.mu.step)
    assert panel.sigma.value == pytest.approx(sigma_hat, abs=panel.sigma.step)
    assert plots.find_artist(panel.figure, "current").get_xdata()[0] == panel.mu.value


def test_bilinear_panel_refits_its_axes_to_the_paths():
    panel = widgets.BilinearGamePanel(lr=0.1, num_rounds=100)
    plane = panel.figure.axes[0]
    before = plane.get_xlim()
    panel.set_values((panel.lr, 0.3), (panel.num_rounds, 300))  # simultaneous play spirals much further out
    reach = max(np.abs(p[np.all(np.isfinite(p), axis=1)]).max() for p in panel.paths.values())
    assert plane.get_xlim()[1] > before[1]
    assert plane.get_xlim()[1] >= min(reach, 10 * np.hypot(*panel.start))


def test_bilinear_panel_replays_the_game_for_its_settings():
    panel = widgets.BilinearGamePanel(lr=0.1, num_rounds=100)
    panel.set_values((panel.lr, 0.4), (panel.y_steps, 3), (panel.num_rounds, 50))
    expected = theory.bilinear_game(1.0, 0.5, 0.4, 50, "alternating", x_steps=1, y_steps=3)
    np.testing.assert_array_equal(panel.paths["alternating"], expected)
    assert "circles it" in panel.readout.value  # (1 * 0.4) (3 * 0.4) = 0.48 < 4
    panel.set_values((panel.lr, 1.2), (panel.x_steps, 2))
    assert "thrown out" in panel.readout.value  # (2 * 1.2) (3 * 1.2) = 8.64 >= 4
    assert png_size(panel.image.value) == panel.blitter.canvas.get_width_height()


def test_bilinear_panel_starts_with_the_steps_it_is_given():
    panel = widgets.BilinearGamePanel(lr=0.5, num_rounds=30, x_steps=2, y_steps=9)
    assert (panel.x_steps.value, panel.y_steps.value) == (2, 9)
    expected = theory.bilinear_game(1.0, 0.5, 0.5, 30, "alternating", x_steps=2, y_steps=9)
    np.testing.assert_array_equal(panel.paths["alternating"], expected)
    assert "thrown out" in panel.readout.value  # (2 * 0.5) (9 * 0.5) = 4.5 >= 4
    with pytest.raises(ValueError, match="y_steps must be between 1 and 10"):
        widgets.BilinearGamePanel(y_steps=0)


def test_optimal_discriminator_panel_tracks_c_of_g():
    panel = widgets.OptimalDiscriminatorPanel(BIMODAL, mu_g=3.0, sigma_g=1.0)
    panel.mu_g.value = -1.0
    dx = panel.x[1] - panel.x[0]
    p_g = stats.norm(-1.0, 1.0).pdf(panel.x)
    c = theory.virtual_training_criterion_on_grid(panel.p_data, p_g, dx)
    assert plots.find_artist(panel.figure, "current").get_ydata()[0] == pytest.approx(c, rel=1e-12)
    assert f"{c:.4f}" in panel.readout.value
    before = plots.find_artist(panel.figure, "c_curve").get_ydata().copy()
    panel.sigma_g.value = 2.0  # a wider p_g: a new curve, and the axes rescale
    after = plots.find_artist(panel.figure, "c_curve").get_ydata()
    assert not np.allclose(before, after)
    assert panel.ax_d.get_ylim()[1] == pytest.approx(plots.DENSITY_HEADROOM * panel.p_data.max())
    with pytest.raises(ValueError, match="mu_g"):
        widgets.OptimalDiscriminatorPanel(BIMODAL, mu_g=9.0)


def test_panels_display_as_their_widget_box():
    panel = widgets.BilinearGamePanel(num_rounds=20)
    bundle = panel._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.box.model_id


@pytest.mark.parametrize("make", [lambda: widgets.LikelihoodPanel(BIMODAL.sample(200).numpy()),
                                  lambda: widgets.BilinearGamePanel(num_rounds=20),
                                  lambda: widgets.OptimalDiscriminatorPanel(BIMODAL)],
                         ids=["likelihood", "bilinear", "optimal_discriminator"])
def test_panels_display_a_still_and_a_sentence_for_viewers_without_widgets(make):
    # What IPython sends for the panel (and for its box, which some lessons display): the widget first,
    # then what a viewer that renders no widget shows: the figure as it is, else a sentence.
    from IPython.core.formatters import DisplayFormatter

    panel = make()
    for shown in (panel, panel.box):
        data, _ = DisplayFormatter().format(shown)
        assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.box.model_id
        assert data["text/plain"] == f"Interactive panel ({panel.name}): run this cell to use it."
        still = base64.b64decode(data["image/png"])
        assert still == panel.image.value
        assert png_size(still) == png_size(panel.render())
    assert "children=" in repr(panel.box)  # repr() is ipywidgets' own; only the display changes
    slider = next(c for c in panel.box.children[0].children if isinstance(c, widgets.W.FloatSlider))
    slider.value = slider.min + 0.9 * (slider.max - slider.min)
    moved = base64.b64decode(DisplayFormatter().format(panel)[0]["image/png"])
    assert moved == panel.image.value != still  # the still is the figure at display time


def test_panel_box_without_an_image_is_the_sentence_and_the_widget():
    box = widgets.PanelBox([widgets.W.HTML("hi")])
    bundle = box._repr_mimebundle_()
    assert set(bundle) == {"text/plain", "application/vnd.jupyter.widget-view+json"}
    assert bundle["text/plain"] == "Interactive panel: run this cell to use it."


def test_blitter_leaves_no_trace_of_earlier_frames():
    fig = plots.plot_bilinear_game(widgets.compute_bilinear_paths(0.1, 50))
    line = plots.find_artist(fig, "path:alternating")
    blitter = plots.Blitter(fig, [line])
    original = line.get_data()
    first = blitter.frame().copy()
    line.set_data([0, 1], [0, 1])
    moved = blitter.frame().copy()
    assert not np.array_equal(first, moved)
    line.set_data(*original)
    np.testing.assert_array_equal(blitter.frame(), first)  # the moved line left nothing behind
    blitter.invalidate()
    np.testing.assert_array_equal(blitter.frame(), first)  # a fresh background draws the same


def test_noise_map_panel_follows_its_sliders():
    from scipy import stats

    u = (np.arange(4000) + 0.5) / 4000  # evenly spread noise: the share right of 0 is 1 - F(0), to 1/4000
    panel = widgets.NoiseMapPanel(u)
    panel.set_values((panel.separation, 4.0), (panel.weight_right, 0.3), (panel.spread, 1.0))
    f0 = 0.7 * stats.norm.cdf(0, -2, 1.0) + 0.3 * stats.norm.cdf(0, 2, 1.0)  # the mixture's CDF at 0, by hand
    assert f"{100 * (1 - f0):.0f} % of the samples land right of 0" in panel.readout.value
    assert panel.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    line = [ln for ln in panel.axes[0].get_lines() if ln.get_label() == "the map"][0]
    x_grid, y_map = line.get_data()
    assert np.allclose(0.7 * stats.norm.cdf(y_map, -2, 1.0) + 0.3 * stats.norm.cdf(y_map, 2, 1.0), x_grid, atol=1e-6)
    assert "Interactive panel" in panel.box._repr_mimebundle_()["text/plain"]
    with pytest.raises(ValueError, match="u must be"):
        widgets.NoiseMapPanel(np.array([0.0, 0.5]))


def test_noise_map_titles_name_the_mixture_so_two_mixtures_never_look_alike():
    import matplotlib.pyplot as plt

    u = (np.arange(500) + 0.5) / 500
    titles = []
    for separation, weight in ((4.0, 0.7), (3.0, 0.5)):
        fig, axes = plt.subplots(1, 2)
        mix = widgets.draw_noise_map(axes, u, separation=separation, weight_right=weight, spread=0.5)
        np.testing.assert_allclose(mix.weights, [1 - weight, weight])
        titles.append(tuple(ax.get_title() for ax in axes))
        plt.close(fig)
    assert titles[0][0] != titles[1][0] and "0.70" in titles[0][0] and "500 samples" in titles[0][1]
