"""Densities against scipy, quadrature and sampling; argument errors."""
import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gan_lessons import distributions as dists


def test_gaussian_density_matches_scipy():
    g = dists.gaussian_1d(1.5, 0.7)
    x = np.linspace(-3, 5, 41)
    np.testing.assert_allclose(g.density(x), stats.norm(1.5, 0.7).pdf(x), rtol=1e-12)
    np.testing.assert_allclose(g.cdf(x), stats.norm(1.5, 0.7).cdf(x), rtol=1e-12)


def test_mixture_density_integrates_to_one_and_matches_scipy():
    m = dists.mixture_1d([-3.0, 0.0, 4.0], [0.5, 1.0, 0.3], [0.2, 0.5, 0.3])
    total, _ = integrate.quad(lambda t: m.density([t])[0], -20, 20, points=[-3, 0, 4], limit=200)
    assert total == pytest.approx(1.0, abs=1e-8)
    x = np.linspace(-6, 6, 25)
    by_scipy = 0.2 * stats.norm(-3, 0.5).pdf(x) + 0.5 * stats.norm(0, 1).pdf(x) + 0.3 * stats.norm(4, 0.3).pdf(x)
    np.testing.assert_allclose(m.density(x), by_scipy, rtol=1e-10)


def test_cdf_is_the_integral_of_the_density_and_icdf_inverts_it():
    m = dists.mixture_1d([-2.0, 2.0], [0.5, 0.8], [0.3, 0.7])
    for t in (-3.0, -1.0, 0.5, 2.5):
        assert m.cdf([t])[0] == pytest.approx(integrate.quad(lambda s: m.density([s])[0], -np.inf, t)[0], abs=1e-8)
    u = np.array([0.01, 0.2, 0.5, 0.9, 0.999])
    np.testing.assert_allclose(m.cdf(m.icdf(u)), u, atol=1e-9)
    with pytest.raises(ValueError, match="u"):
        m.icdf([0.0, 0.5])


def test_ring_and_grid_match_the_literature_and_scipy():
    ring, grid = dists.ring_2d(), dists.grid_2d()
    assert ring.n_modes == 8 and np.allclose(np.linalg.norm(ring.centres, axis=1), 1.0)
    assert np.allclose(ring.stds, 0.01)
    assert grid.n_modes == 25 and np.allclose(grid.stds, 0.05)
    assert sorted(set(grid.centres[:, 0].round(9))) == [-4, -2, 0, 2, 4]
    pts = np.random.default_rng(0).normal(size=(30, 2))
    for d in (ring, grid):
        by_scipy = sum(w * stats.multivariate_normal(c, s ** 2 * np.eye(2)).pdf(pts)
                       for c, s, w in zip(d.centres, d.stds, d.weights))
        np.testing.assert_allclose(d.density(pts), by_scipy, rtol=1e-9, atol=1e-300)


def test_2d_density_integrates_to_one():
    # Simpson's rule on a grid fine enough to resolve each mode (8 points per std)
    for d, half in ((dists.ring_2d(std=0.05), 1.5), (dists.grid_2d(std=0.1), 5.0)):
        step = d.stds.min() / 8
        axis = np.arange(-half, half + step / 2, step)
        gx, gy = np.meshgrid(axis, axis, indexing="ij")
        p = d.density(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
        total = integrate.simpson(integrate.simpson(p, x=axis, axis=1), x=axis)
        assert total == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("dist", [dists.gaussian_1d(-1, 2), dists.mixture_1d([-2, 3], [0.5, 1], [0.25, 0.75]),
                                  dists.ring_2d(), dists.grid_2d()], ids=lambda d: d.name)
def test_sample_moments_match(dist):
    gen = torch.Generator().manual_seed(0)
    x = dist.sample(200_000, generator=gen).double().numpy()
    assert x.shape == (200_000, dist.dim)
    # mean and variance by the law of total variance, computed independently of the class
    mean = (dist.weights[:, None] * dist.centres).sum(0)
    var = (dist.weights[:, None] * (dist.stds[:, None] ** 2 + dist.centres ** 2)).sum(0) - mean ** 2
    se = np.sqrt(var / len(x))
    assert np.all(np.abs(x.mean(0) - mean) < 5 * se + 1e-12)
    np.testing.assert_allclose(x.var(0), var, rtol=0.02)


def test_samples_come_from_their_modes_in_proportion():
    grid = dists.grid_2d()
    x, modes = grid.sample(25_000, generator=torch.Generator().manual_seed(1), return_modes=True)
    idx, dist_in_std = grid.nearest_mode(x)
    assert np.mean(idx == modes.numpy()) > 0.999
    assert np.percentile(dist_in_std, 99) < 3.1  # 2-D radius: 99 % lie within ~3.03 std
    counts = np.bincount(modes.numpy(), minlength=25) / 25_000
    assert np.all(np.abs(counts - 0.04) < 0.006)


def test_same_generator_seed_gives_same_samples():
    m = dists.ring_2d()
    a = m.sample(100, generator=torch.Generator().manual_seed(7))
    b = m.sample(100, generator=torch.Generator().manual_seed(7))
    c = m.sample(100, generator=torch.Generator().manual_seed(8))
    assert torch.equal(a, b) and not torch.equal(a, c)


@pytest.mark.parametrize("kwargs, name", [
    (dict(centres=[[0.0], [1.0]], stds=[1, 1], weights=[0.5, 0.6]), "weights"),
    (dict(centres=[[0.0], [1.0]], stds=[1, -1], weights=[0.5, 0.5]), "stds"),
    (dict(centres=[[0.0], [1.0]], stds=[1, 0], weights=[0.5, 0.5]), "stds"),
    (dict(centres=[[0.0], [1.0]], stds=[1, 1], weights=[1.5, -0.5]), "weights"),
    (dict(centres=[[0.0], [1.0]], stds=[1, 1, 1], weights=[0.5, 0.5]), "stds"),
    (dict(centres=[[np.nan]], stds=[1], weights=[1]), "centres"),
])
def test_bad_parameters_raise_value_error_naming_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dists.GaussianMixture(**kwargs)


def test_bad_sample_sizes_and_shapes():
    g = dists.gaussian_1d()
    for n in (0, -5, 2.5, "10"):
        with pytest.raises(ValueError, match="n must"):
            g.sample(n)
    with pytest.raises(ValueError, match="x must have shape"):
        dists.ring_2d().density(np.zeros((4, 3)))
    with pytest.raises(ValueError, match="1-D"):
        dists.ring_2d().cdf([[0.0, 0.0]])
    with pytest.raises(ValueError, match="sigma|stds"):
        dists.gaussian_1d(0, -1)


def test_empirical_distribution_resamples_the_given_points():
    pts = np.array([[0.0, 1.0], [2.0, 3.0], [4.0, 5.0]])
    e = dists.as_distribution(pts)
    s = e.sample(500, generator=torch.Generator().manual_seed(0)).numpy()
    assert e.dim == 2 and s.shape == (500, 2)
    assert {tuple(r) for r in s} == {tuple(r) for r in pts}
    with pytest.raises(ValueError, match="points"):
        dists.EmpiricalDistribution(np.zeros((5, 3)))
    with pytest.raises(ValueError, match="points"):
        dists.EmpiricalDistribution([1.0, np.inf, 2.0])


def test_empirical_distribution_accepts_read_only_arrays_without_warning(recwarn):
    ring = dists.ring_2d()
    e = dists.EmpiricalDistribution(ring.centres)  # read-only numpy array
    assert e.sample(10).shape == (10, 2)
    assert not [w for w in recwarn if "not writable" in str(w.message)]


# --- TwoBranches: two right answers for every x (lesson 01) --------------------------------------

def test_two_branches_conditional_is_the_stated_mixture_and_its_mean_the_integral():
    pairs = dists.two_branches(offset=1.5, weight_upper=0.7, std=0.2)
    for x in (-2.0, 0.3, 1.0):
        cond = pairs.conditional(x)
        y = np.linspace(-4, 4, 33)
        by_scipy = 0.7 * stats.norm(np.sin(x) + 1.5, 0.2).pdf(y) + 0.3 * stats.norm(np.sin(x) - 1.5, 0.2).pdf(y)
        np.testing.assert_allclose(cond.density(y), by_scipy, rtol=1e-10)
        mean, _ = integrate.quad(lambda t: t * cond.density([t])[0], -6, 6, points=[np.sin(x) - 1.5, np.sin(x) + 1.5])
        assert pairs.conditional_mean([x])[0] == pytest.approx(mean, abs=1e-8)


def test_two_branches_samples_follow_the_branches_in_proportion():
    pairs = dists.two_branches(offset=1.5, weight_upper=0.7, std=0.2)
    x, y = pairs.sample(40_000, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (40_000, 1) and x.dtype == torch.float32
    assert float(x.min()) >= -3.0 and float(x.max()) <= 3.0
    assert stats.kstest(x.numpy().ravel(), stats.uniform(-3, 6).cdf).pvalue > 0.01
    upper = pairs.on_upper_branch(x, y)
    assert upper.mean() == pytest.approx(0.7, abs=0.01)
    residual = y.numpy().ravel() - np.sin(x.numpy().ravel()) - np.where(upper, 1.5, -1.5)
    assert residual.std() == pytest.approx(0.2, rel=0.02)
    # |y - branch| / s is the absolute value of a standard normal: P(<= 3) = erf(3 / sqrt 2)
    assert (pairs.distance_to_branch(x, y) <= 3).mean() == pytest.approx(0.9973, abs=0.002)


@pytest.mark.parametrize("kwargs, name", [({"offset": 0.0}, "offset"), ({"weight_upper": 1.5}, "weight_upper"),
                                          ({"std": -1.0}, "std")])
def test_two_branches_bad_parameters_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        dists.two_branches(**kwargs)
    with pytest.raises(ValueError, match="x_high"):
        dists.TwoBranches(x_low=1.0, x_high=0.0)
    with pytest.raises(ValueError, match="one value per x"):
        dists.two_branches().distance_to_branch(np.zeros(3), np.zeros(2))
