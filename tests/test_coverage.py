"""Mode coverage against hand-made samples whose answer is known by construction; the
reverse KL over modes against a hand computation; the tables' means and standard errors."""
import numpy as np
import pytest
import torch

from gan_lessons import coverage, distributions
from gan_lessons.models import MLPGenerator


def test_ring_hand_made_samples():
    ring = distributions.ring_2d()  # 8 modes on the unit circle, std 0.01
    c = ring.centres
    samples = np.array([
        c[0] + [0.02, 0.0],     # 2 stds from mode 0: high quality, captures 0
        c[0] + [0.0, -0.029],   # 2.9 stds from mode 0: high quality
        c[3] + [0.0, 0.01],     # 1 std from mode 3: captures 3
        c[5] + [0.031, 0.0],    # 3.1 stds from mode 5: not high quality, 5 not captured
        [0.0, 0.0],             # the centre of the ring: far from every mode
    ])
    cov = coverage.mode_coverage(samples, ring)
    assert cov.n_captured == 2
    assert cov.captured.tolist() == [0, 3]
    assert cov.high_quality == pytest.approx(3 / 5)
    assert cov.counts.tolist() == [2, 0, 0, 1, 0, 0, 0, 0]
    assert cov.n_modes == 8 and cov.n_samples == 5


def test_threshold_is_in_units_of_std():
    ring = distributions.ring_2d()
    x = ring.centres[[2]] + [[0.0, 0.045]]  # 4.5 stds away
    assert coverage.mode_coverage(x, ring).n_captured == 0
    assert coverage.mode_coverage(x, ring, n_std=5.0).captured.tolist() == [2]


def test_exact_samples_from_the_target_cover_everything():
    # Samples of the target itself: every mode is captured, and the high-quality
    # fraction is P(chi_2 <= 3) = 1 - exp(-9/2) for a 2-D isotropic Gaussian.
    grid = distributions.grid_2d()
    x = grid.sample(20000, generator=torch.Generator().manual_seed(0))
    cov = coverage.mode_coverage(x, grid)
    assert cov.n_captured == 25
    expected = 1 - np.exp(-9 / 2)  # chi distribution with 2 degrees of freedom
    assert cov.high_quality == pytest.approx(expected, abs=0.005)


def test_one_dimensional_mixture_with_unequal_stds():
    mix = distributions.mixture_1d([-4.0, 0.0, 4.0], [0.5, 0.1, 1.0])
    # 1.0 from mode 0 is 2 stds (captured); 0.5 from mode 1 is 5 stds (not);
    # 6.5 is 2.5 stds from mode 2 (captured).
    cov = coverage.mode_coverage([-3.0, 0.5, 6.5], mix)
    assert cov.captured.tolist() == [0, 2]
    assert cov.high_quality == pytest.approx(2 / 3)


def test_nearest_mode_is_euclidean_not_scaled():
    # A point nearer (in distance) to a narrow mode it is far from in stds is not
    # credited to a wider mode further away: the measure uses the nearest mode.
    mix = distributions.mixture_1d([0.0, 1.0], [0.01, 1.0])
    cov = coverage.mode_coverage([0.4], mix)  # nearest mode 0 (40 stds), mode 1 is 0.6 away
    assert cov.n_captured == 0 and cov.high_quality == 0.0


def test_mode_collapse_is_detected():
    ring = distributions.ring_2d()
    x = ring.centres[4] + 0.005 * np.random.default_rng(0).standard_normal((2500, 2))
    cov = coverage.mode_coverage(torch.tensor(x, dtype=torch.float32), ring)
    assert cov.captured.tolist() == [4]
    assert cov.high_quality == 1.0
    assert "1 of 8 modes" in str(cov)


def test_generator_coverage_draws_n_samples():
    ring = distributions.ring_2d()
    G = MLPGenerator(latent_dim=2, out_dim=2, hidden_dims=(8,))
    cov = coverage.generator_coverage(G, ring, n_samples=300, generator=torch.Generator().manual_seed(1))
    assert cov.n_samples == 300
    x = G.sample(300, generator=torch.Generator().manual_seed(1))
    assert cov.counts.tolist() == coverage.mode_coverage(x, ring).counts.tolist()


@pytest.mark.parametrize("bad, match", [
    (np.zeros((4, 3)), "shape"),
    (np.zeros((0, 2)), "at least 1"),
    (np.array([[0.0, np.nan]]), "finite"),
    ("abc", "numbers|shape"),
])
def test_bad_samples_raise(bad, match):
    with pytest.raises(ValueError, match=match):
        coverage.mode_coverage(bad, distributions.ring_2d())


def test_bad_arguments_raise():
    ring = distributions.ring_2d()
    with pytest.raises(ValueError, match="n_std"):
        coverage.mode_coverage(ring.centres, ring, n_std=0)
    with pytest.raises(ValueError, match="dist must be a GaussianMixture"):
        coverage.mode_coverage(ring.centres, distributions.EmpiricalDistribution(ring.centres.copy()))
    with pytest.raises(ValueError, match="n_samples"):
        coverage.generator_coverage(MLPGenerator(out_dim=2), ring, n_samples=0)


def test_modes_over_time_plot_shows_shares():
    import matplotlib
    matplotlib.use("Agg")
    from gan_lessons import plots

    counts = np.array([[10, 0, 0], [0, 5, 5], [2, 2, 4]])
    fig = plots.plot_modes_over_time([100, 200, 300], counts)
    image = fig.axes[0].images[0].get_array()
    assert image.shape == (3, 3)  # modes by times
    assert np.allclose(image[:, 1], [0, 0.5, 0.5]) and np.allclose(image.sum(axis=0), 1)
    with pytest.raises(ValueError, match="counts must have shape"):
        plots.plot_modes_over_time([100, 200], counts)


def test_lesson_06_exercise_checks(capsys):
    from gan_lessons import exercises, remedies

    def coverage(samples, centres, stds):
        d = np.linalg.norm(samples[:, None] - centres[None], axis=-1)
        k = d.argmin(1)
        good = d[np.arange(len(samples)), k] <= 3 * stds[k]
        return len(set(k[good])), good.mean()

    def coverage_all_modes(samples, centres, stds):  # counts modes of every sample: wrong
        d = np.linalg.norm(samples[:, None] - centres[None], axis=-1)
        k = d.argmin(1)
        return len(set(k)), (d[np.arange(len(samples)), k] <= 3 * stds[k]).mean()

    assert exercises.check_mode_coverage(coverage) is True
    assert exercises.check_mode_coverage(coverage_all_modes) is False
    assert exercises.check_pack(remedies.pack) is True
    assert exercises.check_pack(lambda x, m: x.reshape(m, -1, 2).transpose(0, 1).reshape(-1, 2 * m)) is False
    assert exercises.check_perfect_high_quality(0.99730) is True
    assert exercises.check_perfect_high_quality(0.9889) is False
    assert exercises.check_perfect_high_quality(...) is False
    assert "count only high-quality" in capsys.readouterr().out


# --- Measures of image generators, against scipy, closed forms and hand-made cases. ---


def test_reverse_kl_over_modes_by_hand():
    ring = distributions.ring_2d()
    c = ring.centres
    # 3 high-quality samples on mode 0, 1 on mode 5, 1 far from every mode (left out)
    x = np.array([c[0], c[0], c[0], c[5], [0.0, 0.0]])
    cov = coverage.mode_coverage(x, ring)
    q = np.array([3 / 4, 1 / 4])
    by_hand = float(np.sum(q * np.log(q / (1 / 8))))
    assert coverage.mode_reverse_kl(cov) == pytest.approx(by_hand)
    assert coverage.mode_reverse_kl(coverage.mode_coverage(c[[2] * 10], ring)) == pytest.approx(np.log(8))
    assert coverage.mode_reverse_kl(coverage.mode_coverage(c, ring)) == pytest.approx(0.0, abs=1e-12)
    weights = np.arange(1, 9, dtype=float)
    w = weights / weights.sum()
    assert coverage.mode_reverse_kl(cov, weights) == pytest.approx(
        0.75 * np.log(0.75 / w[0]) + 0.25 * np.log(0.25 / w[5]))
    with pytest.raises(ValueError, match="no high-quality sample"):
        coverage.mode_reverse_kl(coverage.mode_coverage(np.zeros((3, 2)), ring))
    with pytest.raises(ValueError, match="weights must be 8 positive numbers"):
        coverage.mode_reverse_kl(cov, [1.0, 2.0])
    with pytest.raises(ValueError, match="coverage must be a ModeCoverage"):
        coverage.mode_reverse_kl({"counts": [1]})


def _run(label, seed, modes, hq, kl=None):
    return {"dist": "ring", "method": label.lower(), "label": label, "seed": seed, "n_captured": modes,
            "n_modes": 8, "high_quality": hq, "seconds": 10.0 * (seed + 1), "reverse_kl": kl}


def test_summarise_runs_means_and_standard_errors():
    runs = [_run("A", s, m, q, k) for s, (m, q, k) in enumerate([(8, 0.9, 0.1), (6, 0.8, 0.3), (7, 1.0, 0.2)])]
    runs.append(_run("B", 0, 1, 0.99))
    rows = coverage.summarise_runs(runs)
    a, b = rows
    assert a["label"] == "A" and a["n_runs"] == 3
    assert a["modes"] == pytest.approx((7.0, 1.0 / np.sqrt(3)))  # s = 1
    assert a["high_quality"][0] == pytest.approx(90.0)
    assert a["high_quality"][1] == pytest.approx(10.0 / np.sqrt(3))  # s = 10 points
    assert a["reverse_kl"] == pytest.approx((0.2, 0.1 / np.sqrt(3)))
    assert a["min_modes"] == 6 and a["min_high_quality"] == pytest.approx(80.0)
    assert a["seconds"] == pytest.approx(20.0)
    assert b["modes"] == (1.0, 0.0) and "reverse_kl" not in b  # one run: no spread, no KL
    text = coverage.coverage_table(runs, per_seed=True)
    assert "7.0 ± 0.6" in text and "90.0 ± 5.8" in text and "seed 1: 6 / 80.0 %" in text
    assert "GAN (VEEGAN, Table 1)" in text and "99.3" in text
    assert "VEEGAN" not in coverage.coverage_table(runs, published=False)


def test_modes_over_time_shades_times_without_high_quality_samples():
    import matplotlib
    matplotlib.use("Agg")
    from gan_lessons import plots

    fig = plots.plot_modes_over_time([100, 200, 300], np.array([[10, 0, 0], [0, 0, 0], [2, 2, 4]]))
    ax = fig.axes[0]
    grey = [p for p in ax.patches if p.get_label() == "no high-quality sample"]
    assert len(grey) == 1 and grey[0].get_x() == pytest.approx(150)  # the column of iteration 200


def test_track_coverage_measures_every_k_iterations_as_a_callback_would():
    from gan_lessons.models import MLPDiscriminator
    from gan_lessons.train import GANTrainer

    ring = distributions.ring_2d()

    def trainer():
        G = MLPGenerator(latent_dim=2, out_dim=2, hidden_dims=(16,), noise="gaussian")
        return GANTrainer(G, MLPDiscriminator(in_dim=2, hidden_dims=(16,)), ring, seed=4, batch_size=64)

    out = coverage.track_coverage(trainer(), ring, 25, every=10, n_samples=300,
                                  generator=torch.Generator().manual_seed(7))
    # by hand: the same trainer, measured by a callback with the same noise generator
    by_hand, noise = [], torch.Generator().manual_seed(7)
    trainer().train(25, callback=lambda tr: by_hand.append(
        (tr.iteration, coverage.generator_coverage(tr.G, ring, 300, generator=noise))), every=10)
    assert out["iterations"].tolist() == [10, 20, 25] == [it for it, _ in by_hand]
    assert out["counts"].shape == (3, 8)
    assert np.array_equal(out["counts"], np.array([c.counts for _, c in by_hand]))
    assert out["high_quality"].tolist() == [c.high_quality for _, c in by_hand]
    assert out["n_captured"].tolist() == [c.n_captured for _, c in by_hand]
    with pytest.raises(ValueError, match="GaussianMixture"):
        coverage.track_coverage(trainer(), distributions.EmpiricalDistribution(torch.zeros(5, 2)), 5, every=1)


def test_coverage_table_can_show_one_papers_rows():
    runs = [{"dist": "ring", "method": "gan", "seed": s, "n_captured": 8, "n_modes": 8, "high_quality": 0.9,
             "seconds": 1.0} for s in range(2)]
    every = coverage.coverage_table(runs)
    only_pacgan = coverage.coverage_table(runs, published="PacGAN")
    assert "(VEEGAN, Table 1)" in every and "(PacGAN, Table 1)" in every
    assert "(VEEGAN, Table 1)" not in only_pacgan and only_pacgan.count("(PacGAN, Table 1)") == 2
    assert "published" not in coverage.coverage_table(runs, published=False)
    with pytest.raises(ValueError, match="published"):
        coverage.coverage_table(runs, published="ALI")
    with pytest.raises(ValueError, match="published"):
        coverage.coverage_table(runs, published=1)
