"""Plot functions draw on the axes they are given and return its figure; the image grid tiles exactly."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from gan_lessons import distributions, plots


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def fake_history(n=50):
    it = list(range(1, n + 1))
    return {"iteration": it, "d_loss": np.linspace(1.4, 1.3, n).tolist(), "g_loss": np.linspace(0.6, 0.7, n).tolist(),
            "d_real": [0.6] * n, "d_fake": [0.4] * n}


def test_set_style_applies_the_course_theme():
    plots.set_style()
    assert plt.rcParams["axes.grid"] is True
    assert plt.rcParams["figure.dpi"] == 80


def test_functions_draw_on_the_given_axes_and_return_its_figure():
    d1, ring = distributions.mixture_1d([-2, 2], [0.5, 0.5]), distributions.ring_2d()
    cases = [
        lambda ax: plots.plot_density(d1, ax=ax),
        lambda ax: plots.plot_density_vs_samples(d1, d1.sample(500), ax=ax),
        lambda ax: plots.plot_density_vs_samples(ring, ring.sample(500), ax=ax),
        lambda ax: plots.plot_losses(fake_history(), ax=ax, smooth=5),
        lambda ax: plots.plot_d_outputs(fake_history(), ax=ax),
        lambda ax: plots.plot_image_grid(torch.rand(12, 1, 28, 28), nrow=4, ax=ax),
        lambda ax: plots.plot_taxonomy(ax=ax),
    ]
    for draw in cases:
        fig, ax = plt.subplots()
        before = len(ax.get_children())
        assert draw(ax) is fig
        assert len(ax.get_children()) > before
        assert len(plt.get_fignums()) == 1
        plt.close(fig)


def test_density_vs_samples_plots_the_exact_density():
    d = distributions.gaussian_1d(0, 1)
    fig = plots.plot_density_vs_samples(d, d.sample(1000))
    line = fig.axes[0].lines[0]
    x, y = line.get_data()
    np.testing.assert_allclose(y, np.exp(-x ** 2 / 2) / np.sqrt(2 * np.pi), rtol=1e-10)


def test_image_grid_places_each_image_in_its_cell():
    imgs = np.zeros((5, 3, 4))
    for i in range(5):
        imgs[i] = i / 4
    grid = plots.image_grid(imgs, nrow=2, padding=1, pad_value=-1)
    assert grid.shape == (3 * 4 + 1, 2 * 5 + 1)
    assert np.all(grid[1:4, 1:5] == 0) and np.all(grid[1:4, 6:10] == 0.25)
    assert np.all(grid[9:12, 1:5] == 1.0) and np.all(grid[9:12, 6:10] == -1)  # last cell stays padding
    flat = plots.image_grid(torch.rand(4, 784), nrow=2, padding=0)
    assert flat.shape == (56, 56)
    with pytest.raises(ValueError, match="square"):
        plots.image_grid(np.zeros((2, 10)))


def test_taxonomy_highlights_gans():
    fig = plots.plot_taxonomy()
    texts = {t.get_text(): t for t in fig.axes[0].texts}
    assert "Direct\n(GAN)" in texts and texts["Direct\n(GAN)"].get_fontweight() == "bold"
    assert any("VAE" in t for t in texts)


def test_many_answers_draws_the_regression_the_conditional_mean_and_the_exact_slice():
    from gan_lessons import models

    pairs = distributions.two_branches()
    x, y = pairs.sample(300, generator=torch.Generator().manual_seed(0))
    f, mdn = models.MLPRegressor(hidden_dims=(4,)), models.MixtureDensityNetwork(hidden_dims=(4,))
    fig = plots.plot_many_answers(pairs, x, y, f, lambda x_: mdn.sample(x_), x_slice=1.0)
    assert len(fig.axes) == 3 and len({ax.get_title() for ax in fig.axes}) == 3
    mean_line = fig.axes[0].lines[-1]
    np.testing.assert_allclose(mean_line.get_ydata(), pairs.conditional_mean(mean_line.get_xdata()), rtol=1e-12)
    exact = fig.axes[2].lines[0]
    np.testing.assert_allclose(exact.get_ydata(), pairs.conditional(1.0).density(exact.get_xdata()), rtol=1e-12)
    assert fig.axes[2].get_ylim()[1] >= exact.get_ydata().max()  # not clipped at the top
    with pytest.raises(ValueError, match="predict"):
        plots.plot_many_answers(pairs, x, y, 3, lambda x_: x_)


def test_density_vs_likelihood_reads_one_formula_three_ways():
    from scipy import stats

    fig = plots.plot_density_vs_likelihood(2.0, 1.0, 1.0)
    assert len(fig.axes) == 3 and len({ax.get_title() for ax in fig.axes}) == 3
    density, over_mu, over_sigma = (ax.lines[0] for ax in fig.axes)
    np.testing.assert_allclose(density.get_ydata(), stats.norm(1.0, 1.0).pdf(density.get_xdata()), rtol=1e-12)
    np.testing.assert_allclose(over_mu.get_ydata(), stats.norm(over_mu.get_xdata(), 1.0).pdf(2.0), rtol=1e-12)
    np.testing.assert_allclose(over_sigma.get_ydata(), stats.norm(1.0, over_sigma.get_xdata()).pdf(2.0), rtol=1e-12)
    assert over_sigma.get_xdata().max() == pytest.approx(10.0)
    for ax, at in zip(fig.axes, (2.0, 1.0, 1.0)):  # the dot: one number, N(2 | 1, 1), on all three curves
        dot = ax.lines[1]
        assert dot.get_xdata()[0] == at and dot.get_ydata()[0] == pytest.approx(np.exp(-0.5) / np.sqrt(2 * np.pi))
        assert ax.get_ylim()[1] >= ax.lines[0].get_ydata().max()


def test_generator_map_draws_both_maps_and_leaves_room_above_the_bars():
    d = distributions.mixture_1d([-2, 2], [0.5, 0.5], [0.3, 0.7])
    z = np.linspace(-3, 3, 61)
    derived = d.icdf(__import__("scipy").stats.norm.cdf(z))
    learned = np.tanh(3 * z) * 2
    spike = np.r_[np.full(900, 2.5), np.full(100, -2.0)]
    fig = plots.plot_generator_map(z, learned, derived, d, spike, num_iterations=100)
    ax_map, ax_samples = fig.axes
    np.testing.assert_allclose(ax_map.lines[0].get_ydata(), derived)
    np.testing.assert_allclose(ax_map.lines[1].get_ydata(), learned)
    assert "100 GAN iterations" in ax_map.get_title()
    tallest = max(p.get_height() for p in ax_samples.patches)
    assert ax_samples.get_ylim()[1] >= 1.15 * tallest
    with pytest.raises(ValueError, match="learned"):
        plots.plot_generator_map(z, learned[:5], derived, d, spike)


def test_class_conditional_contours_sit_at_their_labelled_densities():
    from gan_lessons import models

    rng = np.random.default_rng(0)
    x = np.vstack([rng.normal([-1, 0], 0.7, (300, 2)), rng.normal([1.5, 1], 0.5, (150, 2))])
    y = np.r_[np.zeros(300), np.ones(150)]
    model = models.GaussianClassConditional().fit(x, y)
    fig, ax = plt.subplots()
    plots.plot_class_conditional(model, x, y, ax=ax)
    labels = {float(t.get_text()) for t in ax.texts}
    assert labels and labels <= set(plots.JOINT_LEVELS)
    first = ax.collections[0]  # class 0's contours, one path set per level
    for level, path in zip(first.levels, first.get_paths()):
        if len(path.vertices):
            joint = np.exp(model.log_joint(path.vertices[::25]).numpy()[:, 0])
            np.testing.assert_allclose(joint, level, rtol=0.05)
    names = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Bayes boundary" in names


def test_likelihood_surface_bands_halve_towards_the_maximum_and_the_title_names_the_gaussian():
    from gan_lessons import theory

    d = distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5])
    x = d.sample(1000, generator=torch.Generator().manual_seed(0)).numpy().ravel()
    fig = plots.plot_gaussian_likelihood(x, 2.0, 0.5, dist=d)
    bands = plots.find_artist(fig, "surface")
    top = theory.gaussian_log_likelihood(x, *theory.gaussian_mle(x)) / len(x)
    np.testing.assert_allclose(bands.levels, top - np.asarray(plots.LIKELIHOOD_DEPTHS), atol=1e-3)
    start = theory.gaussian_log_likelihood(x, 2.0, 0.5) / len(x)
    assert bands.levels[0] < start < bands.levels[-3]  # a poor start has a band of its own, not the floor's
    assert len({tuple(bands.cmap(bands.norm(v))) for v in bands.levels[:-1] + 1e-6}) == len(bands.levels) - 1
    title = plots.find_artist(fig, "fit_title").get_text()
    assert "2.00" in title and "0.50" in title and f"{start:.3f}" in title


def test_neighbours_tiles_each_query_before_its_groups_and_labels_the_columns():
    rng = np.random.default_rng(0)
    queries = rng.random((2, 28, 28))
    pix, feat = rng.random((2, 3, 28, 28)), rng.random((2, 2, 784))
    fig = plots.plot_neighbours(queries, {"in pixels": pix, "in features": feat}, title="t")
    ax = fig.axes[0]
    grid = ax.images[0].get_array()
    assert grid.shape == (2 + 2 * 30, 2 + 6 * 30)  # 2 rows, 1 + 3 + 2 columns of 28 + 2 padding
    np.testing.assert_allclose(grid[2:30, 2:30], 1 - queries[0], atol=1e-6)           # query, row 0
    np.testing.assert_allclose(grid[32:60, 2 + 30 * 3: 30 * 4], 1 - pix[1, 2], atol=1e-6)  # 3rd pixel neighbour, row 1
    np.testing.assert_allclose(grid[2:30, 2 + 30 * 5: 30 * 6], 1 - feat[0, 1].reshape(28, 28), atol=1e-6)
    texts = [t.get_text() for t in ax.texts]
    assert texts.count("sample") == 1 and "in pixels" in texts and "in features" in texts
    assert texts.count("1") == 2 and texts.count("3") == 1
    assert len(ax.lines) == 2  # one separator before each group


@pytest.mark.parametrize("columns, match", [({}, "columns must be a non-empty dict"),
                                            ({"a": np.zeros((3, 2, 28, 28))}, r"columns\['a'\] must be \(n, k"),
                                            ({"a": np.zeros((2, 2, 10, 10))}, r"columns\['a'\] must be \(n, k")])
def test_neighbours_refuses_mismatched_columns(columns, match):
    with pytest.raises(ValueError, match=match):
        plots.plot_neighbours(np.zeros((2, 28, 28)), columns)


def test_frechet_by_size_plots_against_one_over_n_with_the_fit_from_zero():
    curve = {"sizes": np.array([100, 200, 400]), "mean": np.array([30.0, 20.0, 15.0]), "std": np.array([1.0, 1, 1])}
    fig = plots.plot_frechet_by_size({"real": curve}, {"real": (10.0, 2000.0)})
    ax = fig.axes[0]
    bars = ax.containers[0]
    np.testing.assert_allclose(bars.lines[0].get_xdata(), [0.01, 0.005, 0.0025])
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [30, 20, 15])
    fit = [line for line in ax.lines if line.get_linestyle() == "--"][0]
    assert fit.get_xdata()[0] == 0 and fit.get_ydata()[0] == pytest.approx(10.0)
    assert fit.get_ydata()[-1] == pytest.approx(10.0 + 2000.0 / 100)
    assert "1 / n" in ax.get_xlabel() and "real (fit: 10 + 2,000 / n)" in [t.get_text() for t in ax.get_legend().get_texts()]
    with pytest.raises(ValueError, match=r"curves\['real'\] lacks the key\(s\) 'mean', 'std'"):
        plots.plot_frechet_by_size({"real": {"sizes": [1, 2]}})


def test_measures_draws_every_row_in_three_panels():
    from gan_lessons.metrics import ClassifierScore

    results = {"real held-out images": {"classifier_score": ClassifierScore(9.7, 0.1), "frechet": 115.0,
                                        "precision": 0.85, "recall": 0.69},
               "DCGAN": {"classifier_score": ClassifierScore(7.5, 0.3), "frechet": 461.0, "precision": 0.41,
                         "recall": 0.65}}
    fig = plots.plot_measures(results, ClassifierScore(9.6, 0.2))
    score_ax, fd_ax, pr_ax = fig.axes
    assert [p.get_width() for p in score_ax.patches] == [9.7, 7.5]
    np.testing.assert_allclose(fd_ax.collections[0].get_offsets()[:, 0], [115.0, 461.0])
    assert fd_ax.get_xscale() == "log"
    assert score_ax.patches[0].get_facecolor() != score_ax.patches[1].get_facecolor()  # real against model
    np.testing.assert_allclose(np.concatenate([c.get_offsets() for c in pr_ax.collections]), [[0.69, 0.85], [0.65, 0.41]])
    assert sorted(t.get_text() for t in pr_ax.texts) == ["DCGAN", "real held-out images"]
    assert score_ax.lines[0].get_xdata()[0] == 9.6
    with pytest.raises(ValueError, match=r"results\['x'\] lacks the key"):
        plots.plot_measures({"x": {"frechet": 1.0}})
