"""theory.py against independent computations: scipy quadrature, closed forms, autograd, Monte Carlo."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gan_lessons import theory

LOG2 = math.log(2)


def quad_kl(p, q, lo, hi):
    """KL(p || q) of two scipy frozen distributions by plain quadrature of p log(p / q)."""
    return integrate.quad(lambda x: p.pdf(x) * (p.logpdf(x) - q.logpdf(x)), lo, hi, limit=200)[0]


def quad_jsd(p, q, lo, hi):
    def term(x):
        a, b = p.pdf(x), q.pdf(x)
        m = 0.5 * (a + b)
        return 0.5 * sum(v * math.log(v / m) for v in (a, b) if v > 0)
    return integrate.quad(term, lo, hi, limit=200)[0]


# --- optimal discriminator --------------------------------------------------------------------

def test_optimal_discriminator_hand_cases():
    d = theory.optimal_discriminator([1.0, 0.0, 3.0, 0.0], [1.0, 2.0, 1.0, 0.0])
    np.testing.assert_allclose(d, [0.5, 0.0, 0.75, 0.5])
    assert d.dtype == np.float64


def test_optimal_discriminator_maximises_pointwise_objective():
    # Proposition 1: y -> a log y + b log(1 - y) peaks at a / (a + b); check by brute force.
    rng = np.random.default_rng(0)
    a, b = rng.uniform(0.01, 3, 20), rng.uniform(0.01, 3, 20)
    ys = np.linspace(1e-4, 1 - 1e-4, 20001)[:, None]
    best = ys[np.argmax(a * np.log(ys) + b * np.log(1 - ys), axis=0), 0]
    np.testing.assert_allclose(theory.optimal_discriminator(a, b), best, atol=1e-4)


def test_optimal_discriminator_torch_and_broadcast():
    d = theory.optimal_discriminator(torch.tensor([[2.0], [0.0]]), np.array([2.0, 6.0]))
    assert isinstance(d, np.ndarray) and d.shape == (2, 2)
    np.testing.assert_allclose(d, [[0.5, 0.25], [0.0, 0.0]])


@pytest.mark.parametrize("bad", [[-1.0, 1.0], [np.nan, 1.0]])
def test_optimal_discriminator_rejects_bad_densities(bad):
    with pytest.raises(ValueError, match="p_data"):
        theory.optimal_discriminator(bad, [1.0, 1.0])


# --- divergences on a grid ---------------------------------------------------------------------

def test_grid_divergences_match_quadrature_1d():
    p, q = stats.norm(0.0, 1.0), stats.norm(1.5, 0.7)
    x = np.linspace(-12, 12, 4001)
    dx = x[1] - x[0]
    assert theory.kl_divergence_on_grid(p.pdf(x), q.pdf(x), dx) == pytest.approx(quad_kl(p, q, -12, 12), rel=1e-6)
    assert theory.kl_divergence_on_grid(q.pdf(x), p.pdf(x), dx) == pytest.approx(quad_kl(q, p, -12, 12), rel=1e-6)
    assert theory.js_divergence_on_grid(p.pdf(x), q.pdf(x), dx) == pytest.approx(quad_jsd(p, q, -12, 12),
                                                                              rel=1e-6)


def test_grid_divergences_in_2d_match_closed_form():
    # Independent coordinates: the KL of the product is the sum of the 1-D closed forms.
    g = np.linspace(-8, 8, 401)
    dx = (g[1] - g[0]) ** 2
    gx, gy = np.meshgrid(g, g, indexing="ij")
    p = stats.norm(0, 1).pdf(gx) * stats.norm(0.5, 1.2).pdf(gy)
    q = stats.norm(1, 0.8).pdf(gx) * stats.norm(0, 1).pdf(gy)

    def kl(m1, s1, m2, s2):
        return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5

    assert theory.kl_divergence_on_grid(p, q, dx) == pytest.approx(kl(0, 1, 1, 0.8) + kl(0.5, 1.2, 0, 1), rel=1e-6)
    js = theory.js_divergence_on_grid(p, q, dx)
    assert 0 < js < LOG2
    assert theory.js_divergence_on_grid(torch.tensor(p), torch.tensor(q), dx) == pytest.approx(js, rel=1e-12)


def test_grid_divergences_extremes():
    x = np.linspace(-1, 4, 501)
    dx = x[1] - x[0]
    left = np.where(x < 1, 0.5, 0.0)   # uniform on [-1, 1), exactly mass 1 on this grid
    right = np.where(x >= 2, 0.5, 0.0)  # disjoint from it
    right[-1] = 0.0
    right /= right.sum() * dx
    assert theory.js_divergence_on_grid(left, right, dx) == pytest.approx(LOG2, rel=1e-12)
    assert theory.kl_divergence_on_grid(left, right, dx) == math.inf
    assert theory.kl_divergence_on_grid(left, left, dx) == 0.0
    assert theory.js_divergence_on_grid(left, left, dx) == 0.0
    # 0 log 0 = 0: q's mass where p is 0 does not make KL(p || q) infinite
    both = 0.5 * (left + right)
    assert theory.kl_divergence_on_grid(left, both, dx) == pytest.approx(LOG2, rel=1e-9)


def test_jsd_on_grid_stays_in_bounds_for_any_densities():
    rng = np.random.default_rng(3)
    for _ in range(50):
        p = rng.exponential(size=(7, 5)) * rng.integers(0, 2, (7, 5))
        q = rng.exponential(size=(7, 5)) * rng.uniform(0, 3)
        js = theory.js_divergence_on_grid(p, q, rng.uniform(0.01, 1.0))
        assert 0.0 <= js <= LOG2


@pytest.mark.parametrize("fn", [theory.kl_divergence_on_grid, theory.js_divergence_on_grid])
def test_grid_divergences_reject_bad_input(fn):
    with pytest.raises(ValueError, match="same grid"):
        fn(np.ones(3), np.ones(4), 0.1)
    with pytest.raises(ValueError, match="dx"):
        fn(np.ones(3), np.ones(3), 0.0)
    with pytest.raises(ValueError, match="q"):
        fn(np.ones(3), -np.ones(3), 0.1)
