"""theory.py against independent computations: scipy quadrature, closed forms, autograd, Monte Carlo."""
import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats

from gan_lessons import distributions, theory

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


# --- quadrature ---------------------------------------------------------------------------------

BIMODAL = distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5])
SKEWED = distributions.mixture_1d([-3.0, 0.0, 4.0], [0.1, 0.3, 1.0], [0.2, 0.3, 0.5])


def test_kl_quad_matches_gaussian_closed_form_and_scipy_callables():
    p, q = distributions.gaussian_1d(0.5, 1.3), distributions.gaussian_1d(-1.0, 0.6)
    exact = float(theory.gaussian_kl(0.5, 1.3, -1.0, 0.6))
    assert exact == pytest.approx(math.log(0.6 / 1.3) + (1.3**2 + 1.5**2) / (2 * 0.36) - 0.5)
    assert theory.kl_divergence_quad(p, q, -math.inf, math.inf) == pytest.approx(exact, rel=1e-8)
    # plain density callables (scipy's) take the other code path; their far tails underflow to 0,
    # which the distributions' log-densities avoid, so keep the limits where q > 0 in float64
    sp, sq = stats.norm(0.5, 1.3), stats.norm(-1.0, 0.6)
    assert theory.kl_divergence_quad(sp.pdf, sq.pdf, -12, 12) == pytest.approx(exact, rel=1e-8)
    assert theory.kl_divergence_quad(sp.pdf, sq.pdf, -30, 30) == math.inf


def test_gaussian_kl_matches_monte_carlo():
    rng = np.random.default_rng(0)
    x = rng.normal(1.0, 2.0, 400_000)
    log_ratio = stats.norm(1.0, 2.0).logpdf(x) - stats.norm(0.0, 1.5).logpdf(x)
    err = 4 * log_ratio.std() / math.sqrt(len(x))
    assert float(theory.gaussian_kl(1.0, 2.0, 0.0, 1.5)) == pytest.approx(log_ratio.mean(), abs=err)


def test_jsd_quad_matches_monte_carlo_and_grid():
    p, q = SKEWED, distributions.gaussian_1d(0.5, 2.0)
    js = theory.js_divergence_quad(p, q, -40, 40)
    gen = torch.Generator().manual_seed(0)
    xp, xq = p.sample(200_000, generator=gen).numpy(), q.sample(200_000, generator=gen).numpy()

    def log_ratio_to_m(x, own):  # log(own / m), m = (p + q) / 2
        lp, lq = p.log_prob(x), q.log_prob(x)
        return (lp if own == "p" else lq) - (np.logaddexp(lp, lq) - LOG2)

    a, b = log_ratio_to_m(xp, "p"), log_ratio_to_m(xq, "q")
    err = 4 * math.sqrt(a.var() / len(a) + b.var() / len(b)) / 2
    assert js == pytest.approx(0.5 * a.mean() + 0.5 * b.mean(), abs=err)
    x = np.linspace(-40, 40, 80_001)
    assert theory.js_divergence_on_grid(p.density(x), q.density(x), x[1] - x[0]) == pytest.approx(js, rel=1e-6)


def test_theorem_1_c_of_g_is_value_at_optimal_d_and_two_jsd_minus_log4():
    p_data, p_g = BIMODAL, distributions.gaussian_1d(0.7, 1.4)
    c = theory.virtual_training_criterion(p_data, p_g, -30, 30)
    js = theory.js_divergence_quad(p_data, p_g, -30, 30)
    assert c == pytest.approx(2 * js - math.log(4), abs=1e-9)

    def d_star(x):
        return float(theory.optimal_discriminator(p_data.density([x]), p_g.density([x]))[0])

    assert theory.value_function_quad(d_star, p_data, p_g, -30, 30) == pytest.approx(c, abs=1e-8)
    # any other discriminator does worse (D* is the pointwise maximiser)
    for other in (lambda x: 0.5, lambda x: float(d_star(x)) ** 1.3, lambda x: 1 / (1 + math.exp(-x))):
        assert theory.value_function_quad(other, p_data, p_g, -30, 30) < c - 1e-4
    # the global minimum: p_g = p_data gives C(G) = -log 4 and D* = 1/2 everywhere
    assert theory.virtual_training_criterion(p_data, p_data, -30, 30) == pytest.approx(-math.log(4), abs=1e-9)


def test_value_function_quad_matches_monte_carlo_of_losses_value_function():
    from gan_lessons import losses

    p_data, p_g = SKEWED, distributions.gaussian_1d(0.0, 2.0)

    def d(x):  # a fixed, non-optimal discriminator
        return 1 / (1 + math.exp(-(0.8 * x - 0.3)))

    exact = theory.value_function_quad(d, p_data, p_g, -40, 40)
    gen = torch.Generator().manual_seed(1)
    x_real, x_fake = p_data.sample(400_000, generator=gen)[:, 0], p_g.sample(400_000, generator=gen)[:, 0]
    mc = losses.value_function(0.8 * x_real.double() - 0.3, 0.8 * x_fake.double() - 0.3).item()
    assert exact == pytest.approx(mc, abs=0.01)


def test_value_function_on_grid_matches_quadrature():
    p_data, p_g = BIMODAL, distributions.gaussian_1d(1.0, 1.0)
    x = np.linspace(-25, 25, 50_001)
    pd, pg = p_data.density(x), p_g.density(x)
    d = 1 / (1 + np.exp(-x))
    exact = theory.value_function_quad(lambda t: 1 / (1 + math.exp(-t)), p_data, p_g, -25, 25)
    assert theory.value_function_on_grid(d, pd, pg, x[1] - x[0]) == pytest.approx(exact, rel=1e-6)
    c_grid = theory.value_function_on_grid(theory.optimal_discriminator(pd, pg), pd, pg, x[1] - x[0])
    assert c_grid == pytest.approx(theory.virtual_training_criterion(p_data, p_g, -25, 25), rel=1e-6)
    with pytest.raises(ValueError, match="probabilities"):
        theory.value_function_on_grid(d * 2, pd, pg, x[1] - x[0])


def test_quadrature_rejects_bad_limits_and_densities():
    with pytest.raises(ValueError, match="lower"):
        theory.kl_divergence_quad(BIMODAL, BIMODAL, 1.0, -1.0)
    with pytest.raises(ValueError, match="density"):
        theory.kl_divergence_quad(lambda x: -1.0, BIMODAL, -1.0, 1.0)
    with pytest.raises(ValueError, match="callable"):
        theory.kl_divergence_quad(3.0, BIMODAL, -1.0, 1.0)


# --- generator gradients ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind", ["minimax", "nonsaturating"])
def test_generator_logit_gradient_matches_autograd(kind):
    from gan_lessons import losses

    a = torch.linspace(-8, 8, 33, dtype=torch.float64, requires_grad=True)
    (losses.generator_loss(a, kind) * len(a)).backward()  # the per-sample loss, summed
    np.testing.assert_allclose(theory.generator_logit_gradient(a.detach(), kind), a.grad.numpy(), rtol=1e-12)


def test_generator_logit_gradient_saturates_only_for_minimax():
    a = np.array([-6.0])  # D(G(z)) = 0.0025: D confidently rejects the fakes
    assert abs(theory.generator_logit_gradient(a, "minimax")[0]) < 0.003
    assert abs(theory.generator_logit_gradient(a, "nonsaturating")[0]) > 0.99
    with pytest.raises(ValueError, match="kind"):
        theory.generator_logit_gradient(a, "wasserstein")


# --- the bilinear game -------------------------------------------------------------------------------

def autograd_bilinear(x0, y0, lr, num_rounds, mode, x_steps, y_steps):
    """The same game played with torch's autograd on f = x y, as an independent reference."""
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    y = torch.tensor(y0, dtype=torch.float64, requires_grad=True)
    path = [(x0, y0)]

    def grad(var, other_x, other_y):
        f = other_x * other_y
        return torch.autograd.grad(f, var)[0]

    for _ in range(num_rounds):
        x_start, y_start = x.detach().clone().requires_grad_(), y.detach().clone().requires_grad_()
        y_new = y_start
        for _ in range(y_steps):
            y_var = y_new.detach().requires_grad_()
            y_new = y_var + lr * grad(y_var, x_start, y_var)
        y_seen = (y_new if mode == "alternating" else y_start).detach()
        x_new = x_start
        for _ in range(x_steps):
            x_var = x_new.detach().requires_grad_()
            x_new = x_var - lr * grad(x_var, x_var, y_seen)
        x, y = x_new.detach(), y_new.detach()
        path.append((x.item(), y.item()))
    return np.array(path)


@pytest.mark.parametrize("mode", ["simultaneous", "alternating"])
@pytest.mark.parametrize("x_steps,y_steps", [(1, 1), (1, 3), (2, 1)])
def test_bilinear_game_matches_autograd(mode, x_steps, y_steps):
    got = theory.bilinear_game(1.0, 0.5, 0.15, 40, mode, x_steps=x_steps, y_steps=y_steps)
    np.testing.assert_allclose(got, autograd_bilinear(1.0, 0.5, 0.15, 40, mode, x_steps, y_steps), rtol=1e-12)


def test_simultaneous_steps_spiral_out_at_the_closed_form_rate():
    lr, n = 0.1, 500
    path = theory.bilinear_game(1.0, 0.0, lr, n, "simultaneous")
    radius = np.hypot(path[:, 0], path[:, 1])
    np.testing.assert_allclose(radius, (1 + lr**2) ** (np.arange(n + 1) / 2), rtol=1e-10)


def test_alternating_steps_conserve_a_quadratic_form_and_stay_bounded():
    # For y += a x then x -= b y, Q = a x^2 + b y^2 + a b x y is invariant (positive definite iff a b < 4).
    for lr, x_steps, y_steps in ((0.1, 1, 1), (0.3, 2, 3), (0.5, 1, 5)):
        a, b = y_steps * lr, x_steps * lr
        path = theory.bilinear_game(0.3, -1.0, lr, 2000, "alternating", x_steps=x_steps, y_steps=y_steps)
        x, y = path.T
        q = a * x**2 + b * y**2 + a * b * x * y
        np.testing.assert_allclose(q, q[0], rtol=1e-9)
        assert np.abs(path).max() < 20
    # past a b = 4 the alternating game diverges too
    path = theory.bilinear_game(0.3, -1.0, 1.0, 200, "alternating", x_steps=2, y_steps=3)
    assert not np.isfinite(path[-1]).all() or np.abs(path[-1]).max() > 1e6


def test_bilinear_game_rejects_bad_settings():
    with pytest.raises(ValueError, match="lr"):
        theory.bilinear_game(1, 1, 0.0, 10)
    with pytest.raises(ValueError, match="mode"):
        theory.bilinear_game(1, 1, 0.1, 10, mode="sequential")
    with pytest.raises(ValueError, match="y_steps"):
        theory.bilinear_game(1, 1, 0.1, 10, y_steps=0)


# --- maximum likelihood and KL fits --------------------------------------------------------------------

def test_gaussian_log_likelihood_matches_scipy_on_a_surface():
    x = np.random.default_rng(0).normal(1.0, 2.0, 300)
    mus, sigmas = np.meshgrid(np.linspace(-1, 3, 7), np.linspace(0.5, 4, 5))
    expected = np.vectorize(lambda m, s: stats.norm(m, s).logpdf(x).sum())(mus, sigmas)
    np.testing.assert_allclose(theory.gaussian_log_likelihood(x, mus, sigmas), expected, rtol=1e-10)
    assert isinstance(theory.gaussian_log_likelihood(torch.tensor(x), 0.0, 1.0), float)
    with pytest.raises(ValueError, match="sigma"):
        theory.gaussian_log_likelihood(x, 0.0, -1.0)


def test_gaussian_mle_matches_scipy_fit_and_zeroes_the_gradient():
    x = np.random.default_rng(1).normal(-0.5, 0.7, 500)
    mu, sigma = theory.gaussian_mle(x)
    s_mu, s_sigma = stats.norm.fit(x)
    assert (mu, sigma) == pytest.approx((s_mu, s_sigma), rel=1e-10)
    params = torch.tensor([mu, sigma], dtype=torch.float64, requires_grad=True)
    torch.distributions.Normal(params[0], params[1]).log_prob(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(params.grad.numpy(), 0.0, atol=1e-8)


def test_forward_and_reverse_kl_match_quadrature():
    for p in (BIMODAL, SKEWED):
        for mu, sigma in ((0.3, 1.7), (2.0, 0.5), (-3.0, 0.2)):
            q = distributions.gaussian_1d(mu, sigma)
            assert float(theory.forward_kl_gaussian(p, mu, sigma)) == pytest.approx(
                theory.kl_divergence_quad(p, q, -40, 40), rel=1e-7)
            assert float(theory.reverse_kl_gaussian(p, mu, sigma)) == pytest.approx(
                theory.kl_divergence_quad(q, p, -40, 40), rel=1e-7)


def test_forward_kl_fit_is_moment_matching_found_by_a_generic_optimiser():
    from scipy.optimize import minimize

    p = SKEWED
    fit = theory.fit_gaussian_forward_kl(p)

    x = np.linspace(-30, 30, 30_001)
    p_x = p.density(x)

    def grid_objective(theta):  # KL straight from the two densities, no moments involved
        return theory.kl_divergence_on_grid(p_x, stats.norm(theta[0], math.exp(theta[1])).pdf(x), x[1] - x[0])

    res = minimize(grid_objective, [0.0, 0.0], method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-12})
    assert (fit.mu, fit.sigma) == pytest.approx((res.x[0], math.exp(res.x[1])), abs=1e-4)
    assert fit.kl == pytest.approx(res.fun, abs=1e-8)
    # ... and maximum likelihood on many samples of p lands there too
    x = p.sample(200_000, generator=torch.Generator().manual_seed(0))
    assert theory.gaussian_mle(x) == pytest.approx((fit.mu, fit.sigma), abs=0.02)


def test_reverse_kl_fit_sits_on_one_mode():
    # Two far-apart equal modes: q = one mode gives KL(q || p) close to log(1 / weight) = log 2.
    fit = theory.fit_gaussian_reverse_kl(BIMODAL)
    assert abs(abs(fit.mu) - 2.0) < 0.01 and fit.sigma == pytest.approx(0.5, abs=0.01)
    assert fit.kl == pytest.approx(LOG2, abs=1e-3)
    q = distributions.gaussian_1d(fit.mu, fit.sigma)
    assert fit.kl == pytest.approx(theory.kl_divergence_quad(q, BIMODAL, -40, 40), rel=1e-7)
    for dmu, dsig in ((0.05, 0), (-0.05, 0), (0, 0.05), (0, -0.05)):  # a local minimum of the quadrature KL
        nudged = distributions.gaussian_1d(fit.mu + dmu, fit.sigma + dsig)
        assert theory.kl_divergence_quad(nudged, BIMODAL, -40, 40) > fit.kl
    # the forward fit straddles both modes instead
    assert abs(theory.fit_gaussian_forward_kl(BIMODAL).mu) < 1e-9


def test_reverse_kl_fit_breaks_a_tie_between_symmetric_modes_the_same_way_everywhere():
    # The two modes tie up to rounding, which differs between machines; the right-hand mode wins,
    # in whichever order the mixture lists its modes.
    assert theory.fit_gaussian_reverse_kl(BIMODAL).mu == pytest.approx(2.0, abs=0.01)
    mirrored = distributions.mixture_1d([2.0, -2.0], [0.5, 0.5])
    assert theory.fit_gaussian_reverse_kl(mirrored).mu == pytest.approx(2.0, abs=0.01)


def test_reverse_kl_fit_from_a_start_finds_that_modes_minimum():
    fit = theory.fit_gaussian_reverse_kl(SKEWED, mu0=-3.0, sigma0=0.2)
    assert fit.mu == pytest.approx(-3.0, abs=0.01) and fit.sigma == pytest.approx(0.1, abs=0.01)
    assert fit.kl == pytest.approx(math.log(1 / 0.2), abs=1e-3)
    with pytest.raises(ValueError, match="mu0"):
        theory.fit_gaussian_reverse_kl(SKEWED, mu0=1.0)
    with pytest.raises(ValueError, match="1-D"):
        theory.fit_gaussian_reverse_kl(distributions.ring_2d())


def test_scalar_mixture_log_density_used_by_quadrature_matches_log_prob():
    x = np.linspace(-50, 50, 201)
    for p in (BIMODAL, SKEWED, distributions.mixture_1d([0.0, 1.0], [1.0, 2.0], [1.0, 0.0])):
        log_p = theory._log_density(p)
        np.testing.assert_allclose([log_p(v) for v in x], p.log_prob(x), rtol=1e-12)


def test_c_of_g_on_grid_matches_quadrature_even_where_d_star_rounds_to_one():
    x = np.linspace(-15, 15, 6001)
    p_data, p_g = distributions.gaussian_1d(0.5, 1.0), distributions.gaussian_1d(-3.0, 1.0)
    pd, pg = p_data.density(x), p_g.density(x)
    c = theory.virtual_training_criterion_on_grid(pd, pg, x[1] - x[0])
    assert c == pytest.approx(theory.virtual_training_criterion(p_data, p_g, -15, 15), rel=1e-7)
    assert c == pytest.approx(2 * theory.js_divergence_on_grid(pd, pg, x[1] - x[0]) - math.log(4), rel=1e-9)
    # the value function at the rounded D* is -inf here: log(1 - 1.0) where p_g > 0
    assert theory.value_function_on_grid(theory.optimal_discriminator(pd, pg), pd, pg, x[1] - x[0]) == -math.inf


# --- the exercise checks of lessons 02-04 (right, typical wrong and unfinished answers) ---------------

def test_lesson_02_to_04_checks_accept_the_answer_and_name_the_usual_mistakes(capsys):
    from gan_lessons import exercises

    def unfinished(*args):
        ...

    cases = [
        (exercises.check_gaussian_mle, lambda x: (x.mean(), x.std()), lambda x: (x.mean(), x.std(ddof=1)), "n - 1"),
        (exercises.check_gaussian_log_likelihood, lambda x, m, s: stats.norm(m, s).logpdf(x).sum(),
         lambda x, m, s: stats.norm(m, s).logpdf(x).mean(), "sum"),
        (exercises.check_nonsaturating_gradient, lambda a: -(1 - 1 / (1 + np.exp(-a))),
         lambda a: -1 / (1 + np.exp(-a)), "minimax"),
        (exercises.check_alternating_round, lambda x, y, lr: (x - lr * (y + lr * x), y + lr * x),
         lambda x, y, lr: (x - lr * y, y + lr * x), "simultaneous"),
        (exercises.check_optimal_discriminator, lambda pd, pg: pd / (pd + pg), lambda pd, pg: pg / (pd + pg),
         "upside down"),
        (exercises.check_js_divergence, theory.js_divergence_on_grid,
         lambda p, q, dx: theory.js_divergence_on_grid(p, q, dx) / LOG2, "bits"),
    ]
    for check, right, wrong, hint in cases:
        capsys.readouterr()
        assert check(right) is True
        assert check(wrong) is False
        assert hint in capsys.readouterr().out
        assert check(unfinished) is False
        assert capsys.readouterr().out.startswith("✏️")


def test_value_function_with_logits_stays_finite_where_d_rounds_to_one():
    import warnings

    from gan_lessons import losses

    p_data, p_g = BIMODAL, distributions.gaussian_1d(0.0, 1.5)

    def a(t):
        return 1.5 * (t**2 - 2.5)

    # at |x| = 12, D = sigmoid(212) is 1.0 in float64, so log(1 - D) = -inf in probabilities
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", integrate.IntegrationWarning)
        assert theory.value_function_quad(lambda t: 1 / (1 + math.exp(-a(t))), p_data, p_g, -12, 12) == -math.inf
    exact = theory.value_function_quad(a, p_data, p_g, -12, 12, logits=True)
    x = np.linspace(-12, 12, 24_001)
    grid = theory.value_function_on_grid(a(x), p_data.density(x), p_g.density(x), x[1] - x[0], logits=True)
    assert grid == pytest.approx(exact, rel=1e-7)
    gen = torch.Generator().manual_seed(2)
    x_real, x_fake = p_data.sample(400_000, generator=gen).double()[:, 0], p_g.sample(400_000, generator=gen).double()[:, 0]
    assert exact == pytest.approx(losses.value_function(a(x_real), a(x_fake)).item(), abs=0.02)
