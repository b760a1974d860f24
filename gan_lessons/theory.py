r"""The theory of Goodfellow et al. 2014, section 4, as numbers you can check.

The optimal discriminator D*, the KL and Jensen-Shannon divergences (on a grid and by
quadrature), the value function V(D, G) and C(G) = V(G, D*), the generator losses'
gradients, the bilinear game min_x max_y xy, and the maximum-likelihood and KL fits of
lesson 02. Everything is float64 numpy; torch tensors are accepted wherever arrays are.
"""
from __future__ import annotations

import functools
import math
from typing import NamedTuple

import numpy as np
from scipy import integrate
from scipy.optimize import minimize
from scipy.special import expit, xlogy

from .checks import as_array, check_callable
from .losses import GENERATOR_LOSSES
from .utils import check_choice, check_float, check_int

LOG2 = math.log(2.0)


def _densities(name: str, values) -> np.ndarray:
    arr = as_array(name, values, finite=False)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite density values (no NaN or inf)")
    if np.any(arr < 0):
        raise ValueError(f"{name} must hold non-negative density values, got a minimum of {arr.min():.3g}")
    return arr


def _grid_pair(p, q, dx, names=("p", "q")) -> tuple[np.ndarray, np.ndarray, float]:
    p, q = _densities(names[0], p), _densities(names[1], q)
    if p.shape != q.shape:
        raise ValueError(f"{names[0]} and {names[1]} must be density values on the same grid; "
                         f"got shapes {p.shape} and {q.shape}")
    return p, q, check_float("dx", dx, low=0.0, low_open=True)


def _xlogy_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a log(a / b) elementwise with 0 log(0 / b) = 0 and a log(a / 0) = inf for a > 0."""
    with np.errstate(divide="ignore"):
        return xlogy(a, a) - xlogy(a, b)


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    r"""The optimal discriminator for a fixed generator, elementwise.

    .. math:: D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}

    Goodfellow et al. 2014, Proposition 1. Where both densities are 0 any value is
    optimal; we return 1/2 there (neither player has anything to say).

    Args:
        p_data, p_g: density values (numpy or torch, broadcastable shapes), non-negative.
    """
    p_data, p_g = _densities("p_data", p_data), _densities("p_g", p_g)
    try:
        total = p_data + p_g
    except ValueError:
        raise ValueError(f"p_data and p_g must have the same (or broadcastable) shapes, got {p_data.shape} "
                         f"and {p_g.shape}") from None
    out = np.full(total.shape, 0.5)
    np.divide(np.broadcast_to(p_data, total.shape), total, out=out, where=total > 0)
    return out


def kl_divergence_on_grid(p, q, dx) -> float:
    r"""KL(p || q) in nats from density values on an evenly spaced grid.

    .. math:: \mathrm{KL}(p \,\|\, q) = \int p(x) \log\frac{p(x)}{q(x)}\,dx
              \approx \sum_i p_i \log\frac{p_i}{q_i}\,\Delta x

    with 0 log 0 = 0, and +inf where p > 0 but q = 0. A Riemann sum: exact up to the grid's
    resolution and coverage; an estimate below 0 (rounding, or masses slightly off 1) is
    returned as 0, since KL >= 0.

    Args:
        p, q: density values on the same grid, arrays of any (equal) shape.
        dx: the cell's length (1-D), area (2-D) or volume, > 0.
    """
    p, q, dx = _grid_pair(p, q, dx)
    return max(float(_xlogy_ratio(p, q).sum() * dx), 0.0)


def js_divergence_on_grid(p, q, dx) -> float:
    r"""JSD(p || q) in nats from density values on an evenly spaced grid; in [0, log 2].

    .. math:: \mathrm{JSD}(p \,\|\, q) = \tfrac12 \mathrm{KL}(p \,\|\, m) + \tfrac12 \mathrm{KL}(q \,\|\, m),
              \quad m = \tfrac12 (p + q)

    Goodfellow et al. 2014, equation (6). Each point's term is between 0 and
    (p + q)/2 log 2, so the Riemann sum stays in [0, log 2] up to the grid's mass error;
    that small excess is clipped.

    Args:
        p, q: density values on the same grid, arrays of any (equal) shape.
        dx: the cell's length (1-D), area (2-D) or volume, > 0.
    """
    p, q, dx = _grid_pair(p, q, dx)
    m = 0.5 * (p + q)
    value = 0.5 * (_xlogy_ratio(p, m) + _xlogy_ratio(q, m)).sum() * dx
    return float(np.clip(value, 0.0, LOG2))


def value_function_on_grid(d, p_data, p_g, dx, logits: bool = False) -> float:
    r"""V(D, G) from values of D and the two densities on an evenly spaced grid.

    .. math:: V(D, G) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\,dx

    Goodfellow et al. 2014, equation (3), as a Riemann sum, with 0 log 0 = 0.

    Args:
        d: D(x) on the grid: probabilities in [0, 1], or logits a with D = sigmoid(a) if ``logits``
            (then log D = -log(1 + e^-a) stays finite where D rounds to 0 or 1, as in ``losses``).
        p_data, p_g: density values on the same grid.
        dx: the cell's length, area or volume, > 0.
    """
    p_data, p_g, dx = _grid_pair(p_data, p_g, dx, ("p_data", "p_g"))
    d = as_array("d", d)
    if d.shape != p_data.shape:
        raise ValueError(f"d must hold one value per grid point, shape {p_data.shape}; got {d.shape}")
    if logits:
        return float((-p_data * np.logaddexp(0.0, -d) - p_g * np.logaddexp(0.0, d)).sum() * dx)
    if not np.all((d >= 0) & (d <= 1)):
        raise ValueError("d must hold probabilities in [0, 1] (or pass logits=True)")
    with np.errstate(divide="ignore"):
        return float((xlogy(p_data, d) + xlogy(p_g, 1 - d)).sum() * dx)


def virtual_training_criterion_on_grid(p_data, p_g, dx) -> float:
    r"""C(G) = V(G, D*) from density values on an evenly spaced grid (Goodfellow et al. 2014, eq. (4)).

    .. math:: C(G) = \sum_i \Big[p_{data,i} \log\frac{p_{data,i}}{p_{data,i} + p_{g,i}}
              + p_{g,i} \log\frac{p_{g,i}}{p_{data,i} + p_{g,i}}\Big]\,\Delta x

    The same number as ``value_function_on_grid(optimal_discriminator(p_data, p_g), ...)``,
    but from the ratios directly: where p_g is below 1e-16 p_data, D* rounds to exactly 1
    and log(1 - D*) to -inf, although p_g log(1 - D*) is tiny.
    """
    p_data, p_g, dx = _grid_pair(p_data, p_g, dx, ("p_data", "p_g"))
    total = p_data + p_g
    return float((_xlogy_ratio(p_data, total) + _xlogy_ratio(p_g, total)).sum() * dx)


# --- quadrature on 1-D densities -----------------------------------------------------------------

def _log_density(f, name: str = "p"):
    """A scalar log-density from a 1-D distribution (exact log-density) or a density callable."""
    if hasattr(f, "log_prob"):
        if getattr(f, "dim", 1) != 1:
            raise ValueError(f"{name}: quadrature here is 1-D; got a {f.dim}-D distribution")
        if hasattr(f, "centres"):
            return _mixture_log_density(f)
        return lambda x: float(f.log_prob(np.array([x]))[0])
    check_callable(name, f, "a 1-D distribution or a callable density x -> p(x)")

    def log_f(x):
        v = float(f(x))
        if not (v >= 0 and math.isfinite(v)):
            raise ValueError(f"the density returned {v} at x = {x}; densities are finite and >= 0")
        return math.log(v) if v > 0 else -math.inf
    return log_f


def _mixture_log_density(p):
    """log p(x) of a 1-D GaussianMixture at one point, in plain floats.

    The same sum as ``p.log_prob``, but quad asks for one point at a time and numpy's
    per-call overhead would make each quadrature a hundred times slower.
    """
    comps = [(float(m), float(s), math.log(w) - 0.5 * math.log(2 * math.pi * s * s))
             for m, s, w in zip(p.centres[:, 0], p.stds, p.weights) if w > 0]

    def log_p(x):
        terms = [c - 0.5 * ((x - m) / s) ** 2 for m, s, c in comps]
        top = max(terms)
        return top + math.log(sum(math.exp(t - top) for t in terms))
    return log_p


def _quad(integrand, lower, upper, *dists) -> float:
    """integrate.quad with the distributions' mode centres as break points (narrow modes are not missed)."""
    try:
        lower, upper = float(lower), float(upper)
    except (TypeError, ValueError):
        raise ValueError(f"lower and upper must be numbers (or +-inf), got {lower!r:.30} and {upper!r:.30}") from None
    if not lower < upper:
        raise ValueError(f"lower must be below upper, got lower={lower}, upper={upper}")
    points = None
    if math.isfinite(lower) and math.isfinite(upper):
        centres = [c for d in dists if hasattr(d, "centres") for c in np.ravel(d.centres)]
        points = sorted({c for c in centres if lower < c < upper}) or None
    return integrate.quad(integrand, lower, upper, points=points, limit=500, epsabs=1e-11, epsrel=1e-10)[0]


def _mass_log(a: float, log_u: float, log_v: float) -> float:
    """a (log u - log v), taken as 0 where a = 0 (0 log 0 = 0), for one point of an integrand."""
    return 0.0 if a == 0.0 else a * (log_u - log_v)


def kl_divergence_quad(p, q, lower, upper) -> float:
    r"""KL(p || q) of two 1-D densities by ``scipy.integrate.quad`` over [lower, upper].

    .. math:: \mathrm{KL}(p \,\|\, q) = \int_{lower}^{upper} p(x) \log\frac{p(x)}{q(x)}\,dx

    Args:
        p, q: 1-D distributions from ``gan_lessons.distributions`` (their exact log-densities
            are used) or callables x -> density.
        lower, upper: the limits (may be infinite).
    """
    log_p, log_q = _log_density(p, "p"), _log_density(q, "q")

    def integrand(x):
        lp = log_p(x)
        return _mass_log(math.exp(lp), lp, log_q(x))
    return _quad(integrand, lower, upper, p, q)


def js_divergence_quad(p, q, lower, upper) -> float:
    r"""JSD(p || q) of two 1-D densities by quadrature: KL of each to m = (p + q) / 2, averaged.

    Goodfellow et al. 2014, equation (6). Arguments as in ``kl_divergence_quad``.
    """
    log_p, log_q = _log_density(p, "p"), _log_density(q, "q")

    def integrand(x):
        lp, lq = log_p(x), log_q(x)
        lm = np.logaddexp(lp, lq) - LOG2
        return 0.5 * (_mass_log(math.exp(lp), lp, lm) + _mass_log(math.exp(lq), lq, lm))
    return _quad(integrand, lower, upper, p, q)


def value_function_quad(d, p_data, p_g, lower, upper, logits: bool = False) -> float:
    r"""V(D, G) of 1-D densities by quadrature (Goodfellow et al. 2014, equation (3)).

    .. math:: V(D, G) = \int p_{data}(x) \log D(x) + p_g(x) \log(1 - D(x))\,dx

    Args:
        d: a callable x -> D(x), a probability; or, if ``logits``, x -> a with D = sigmoid(a),
            which keeps log D and log(1 - D) finite where D rounds to 0 or 1.
        p_data, p_g: 1-D distributions or density callables.
        lower, upper: the limits.
    """
    check_callable("d", d, "a function x -> D(x)")
    log_pd, log_pg = _log_density(p_data, "p_data"), _log_density(p_g, "p_g")

    def log_d_pair(x):  # (log D(x), log(1 - D(x)))
        value = float(d(x))
        if logits:
            return -float(np.logaddexp(0.0, -value)), -float(np.logaddexp(0.0, value))
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"d must return probabilities in [0, 1], got {value} at x = {x} (or pass logits=True)")
        return (math.log(value) if value > 0 else -math.inf), (math.log1p(-value) if value < 1 else -math.inf)

    def integrand(x):
        log_d, log_1md = log_d_pair(x)
        return _mass_log(math.exp(log_pd(x)), log_d, 0.0) + _mass_log(math.exp(log_pg(x)), log_1md, 0.0)
    return _quad(integrand, lower, upper, p_data, p_g)


def virtual_training_criterion(p_data, p_g, lower, upper) -> float:
    r"""C(G) = max_D V(D, G) = V(D*_G, G) of 1-D densities, by quadrature.

    .. math:: C(G) = \int p_{data} \log\frac{p_{data}}{p_{data} + p_g}
              + p_g \log\frac{p_g}{p_{data} + p_g}\,dx \;=\; -\log 4 + 2\,\mathrm{JSD}(p_{data} \,\|\, p_g)

    Goodfellow et al. 2014, equation (4) and Theorem 1. Computed from the first form, so
    the second is a check, not a definition. Arguments as in ``kl_divergence_quad``.
    """
    log_pd, log_pg = _log_density(p_data, "p_data"), _log_density(p_g, "p_g")

    def integrand(x):
        lp, lg = log_pd(x), log_pg(x)
        lt = np.logaddexp(lp, lg)
        return _mass_log(math.exp(lp), lp, lt) + _mass_log(math.exp(lg), lg, lt)
    return _quad(integrand, lower, upper, p_data, p_g)


def gaussian_kl(mu_p, sigma_p, mu_q, sigma_q):
    r"""KL(N(mu_p, sigma_p^2) || N(mu_q, sigma_q^2)) in closed form (broadcasts over arrays).

    .. math:: \log\frac{\sigma_q}{\sigma_p} + \frac{\sigma_p^2 + (\mu_p - \mu_q)^2}{2\sigma_q^2} - \frac12
    """
    mu_p, sigma_p, mu_q, sigma_q = (as_array(name, v) for name, v in
                                    (("mu_p", mu_p), ("sigma_p", sigma_p), ("mu_q", mu_q), ("sigma_q", sigma_q)))
    if np.any(sigma_p <= 0) or np.any(sigma_q <= 0):
        raise ValueError("sigma_p and sigma_q must be positive")
    return np.log(sigma_q / sigma_p) + (sigma_p**2 + (mu_p - mu_q) ** 2) / (2 * sigma_q**2) - 0.5


# --- the generator's gradient -------------------------------------------------------------------

def generator_logit_gradient(d_fake_logits, kind: str = "minimax") -> np.ndarray:
    r"""d(loss)/da of one sample's generator loss, where a = logit D(G(z)).

    .. math:: \frac{\partial}{\partial a}\log(1 - \sigma(a)) = -\sigma(a) = -D(G(z))
              \qquad \frac{\partial}{\partial a}\big[-\log \sigma(a)\big] = -(1 - D(G(z)))

    Goodfellow et al. 2014, section 3: when D rejects the fakes (D(G(z)) near 0) the
    minimax loss ("minimax") has almost no gradient and the non-saturating one
    ("nonsaturating") has nearly its largest. The chain rule multiplies both by the same
    da/dtheta_g, so the ratio is the whole story.

    Args:
        d_fake_logits: logits of D on generated samples (numpy or torch).
        kind: "minimax" or "nonsaturating".
    """
    check_choice("kind", kind, GENERATOR_LOSSES)
    d_fake = expit(as_array("d_fake_logits", d_fake_logits))
    return -d_fake if kind == "minimax" else -(1.0 - d_fake)


# --- the bilinear game min_x max_y xy ------------------------------------------------------------

BILINEAR_MODES = ("simultaneous", "alternating")


def bilinear_game(x0: float, y0: float, lr: float, num_rounds: int, mode: str = "alternating",
                  x_steps: int = 1, y_steps: int = 1) -> np.ndarray:
    r"""Gradient play on :math:`\min_x \max_y f(x, y) = xy`; returns the (num_rounds + 1, 2) path of (x, y).

    Each round the maximiser y (in the role of D) takes ``y_steps`` ascent steps
    :math:`y \leftarrow y + \eta\,\partial_y f = y + \eta x` and the minimiser x (G) takes
    ``x_steps`` descent steps :math:`x \leftarrow x - \eta\,\partial_x f = x - \eta y`.
    "simultaneous": both players compute their steps from the round's starting point.
    "alternating": y moves first, then x answers the new y (Algorithm 1's order: k steps
    of D, then G). The equilibrium is (0, 0); simultaneous steps spiral away from it
    (the radius grows by sqrt(1 + lr^2) per round when both take one step), alternating
    ones circle it while (x_steps lr)(y_steps lr) < 4. Goodfellow 2016, NIPS tutorial, section 8.2.

    Args:
        x0, y0: the starting point.
        lr: the step size eta, > 0.
        num_rounds: rounds to play, >= 0.
        mode: "simultaneous" or "alternating".
        x_steps, y_steps: steps per round of each player, 1-1000.
    """
    x, y = check_float("x0", x0), check_float("y0", y0)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    num_rounds = check_int("num_rounds", num_rounds, low=0)
    check_choice("mode", mode, BILINEAR_MODES)
    x_steps, y_steps = check_int("x_steps", x_steps, 1, 1000), check_int("y_steps", y_steps, 1, 1000)
    path = np.empty((num_rounds + 1, 2))
    path[0] = x, y
    with np.errstate(over="ignore", invalid="ignore"):  # a diverging path may overflow to inf: that is the lesson
        for t in range(1, num_rounds + 1):
            y_start = y
            for _ in range(y_steps):
                y = y + lr * x           # ascent on f for the maximiser: df/dy = x
            y_seen = y if mode == "alternating" else y_start
            for _ in range(x_steps):
                x = x - lr * y_seen      # descent for the minimiser: df/dx = y
            path[t] = x, y
    return path


# --- maximum likelihood and KL fits of one Gaussian (lesson 02) ------------------------------------

def gaussian_log_likelihood(x, mu, sigma):
    r"""The log-likelihood of a sample under N(mu, sigma^2), summed over the sample.

    .. math:: \log L(\mu, \sigma) = \sum_{i=1}^n \log \mathcal N(x_i \mid \mu, \sigma^2)
              = -\frac n2 \log(2\pi\sigma^2) - \frac{1}{2\sigma^2}\sum_i (x_i - \mu)^2

    ``mu`` and ``sigma`` may be arrays (they broadcast), so one call fills a whole
    likelihood surface; the sample enters only through n, its mean and its spread.

    Args:
        x: the sample, any shape (flattened).
        mu: the mean(s).
        sigma: the standard deviation(s), > 0.
    """
    x = as_array("x", x).reshape(-1)
    mu, sigma = as_array("mu", mu), as_array("sigma", sigma)
    if np.any(sigma <= 0):
        raise ValueError("sigma must be positive")
    n, x_bar = x.size, x.mean()
    squares = ((x - x_bar) ** 2).sum() + n * (x_bar - mu) ** 2  # sum_i (x_i - mu)^2, without cancellation
    out = -0.5 * n * np.log(2 * math.pi * sigma**2) - squares / (2 * sigma**2)
    return float(out) if out.ndim == 0 else out


def gaussian_mle(x) -> tuple[float, float]:
    r"""The maximum-likelihood (mu, sigma) of a Gaussian: the sample mean and the *biased* std.

    .. math:: \hat\mu = \frac1n \sum_i x_i, \qquad \hat\sigma^2 = \frac1n \sum_i (x_i - \hat\mu)^2

    Setting the derivatives of ``gaussian_log_likelihood`` to 0 gives these (1/n, not 1/(n-1)).
    """
    x = as_array("x", x).reshape(-1)
    mu = float(x.mean())
    return mu, float(np.sqrt(((x - mu) ** 2).mean()))


class GaussianFit(NamedTuple):
    """A Gaussian N(mu, sigma^2) fitted to a distribution, and the KL it reached."""

    mu: float
    sigma: float
    kl: float


def _require_1d_mixture(p):
    if getattr(p, "dim", None) != 1 or not hasattr(p, "mean"):
        raise ValueError(f"p must be a 1-D distribution from gan_lessons.distributions, got {p!r}")


@functools.lru_cache(maxsize=32)  # distributions are immutable and hash by identity
def _entropy(p) -> float:
    """The differential entropy H(p) = -int p log p of a 1-D mixture, by quadrature."""
    log_p = _log_density(p, "p")
    lo, hi = p.support(width=12.0)

    def integrand(x):
        lp = log_p(x)
        return -_mass_log(math.exp(lp), lp, 0.0)
    return _quad(integrand, lo[0], hi[0], p)


def forward_kl_gaussian(p, mu, sigma):
    r"""KL(p || N(mu, sigma^2)) for a 1-D mixture p; broadcasts over arrays of mu and sigma.

    .. math:: \mathrm{KL}(p \,\|\, q) = -H(p) - \mathbb E_p[\log q]
              = -H(p) + \tfrac12\log(2\pi\sigma^2) + \frac{\mathrm{Var}_p + (\mathbb E_p[x] - \mu)^2}{2\sigma^2}

    Only the entropy H(p) needs quadrature (once); the rest uses p's mean and variance,
    which is why the forward-KL fit is moment matching.
    """
    _require_1d_mixture(p)
    mu, sigma = as_array("mu", mu), as_array("sigma", sigma)
    if np.any(sigma <= 0):
        raise ValueError("sigma must be positive")
    cross = 0.5 * np.log(2 * math.pi * sigma**2) + (p.variance()[0] + (p.mean()[0] - mu) ** 2) / (2 * sigma**2)
    return cross - _entropy(p)


def reverse_kl_gaussian(p, mu, sigma):
    r"""KL(N(mu, sigma^2) || p) for a 1-D mixture p; broadcasts over arrays of mu and sigma.

    .. math:: \mathrm{KL}(q \,\|\, p) = -H(q) - \mathbb E_q[\log p]
              = -\tfrac12 \log(2\pi e \sigma^2) - \mathbb E_{t \sim \mathcal N(0, 1)}[\log p(\mu + \sigma t)]

    The expectation is a trapezoid sum over t in [-9, 9] with step 0.01: for a smooth
    integrand under a Gaussian weight an even grid is accurate to many digits.
    """
    _require_1d_mixture(p)
    mu, sigma = np.broadcast_arrays(as_array("mu", mu), as_array("sigma", sigma))
    if np.any(sigma <= 0):
        raise ValueError("sigma must be positive")
    x = mu[..., None] + sigma[..., None] * _STD_NODES  # (..., nodes)
    expected_log_p = p.log_prob(x.reshape(-1)).reshape(x.shape) @ _STD_WEIGHTS
    return -0.5 * np.log(2 * math.pi * math.e * sigma**2) - expected_log_p


_STD_NODES = np.linspace(-9.0, 9.0, 1801)
_STD_WEIGHTS = np.exp(-0.5 * _STD_NODES**2) / math.sqrt(2 * math.pi) * (_STD_NODES[1] - _STD_NODES[0])


def fit_gaussian_forward_kl(p) -> GaussianFit:
    """The Gaussian closest to p in forward KL(p || q): the one with p's mean and variance.

    Maximum likelihood on many samples of p converges to this fit; it covers every mode.
    """
    _require_1d_mixture(p)
    mu, sigma = float(p.mean()[0]), float(np.sqrt(p.variance()[0]))
    return GaussianFit(mu, sigma, float(forward_kl_gaussian(p, mu, sigma)))


def fit_gaussian_reverse_kl(p, mu0: float | None = None, sigma0: float | None = None) -> GaussianFit:
    """The Gaussian closest to p in reverse KL(q || p), by numerical minimisation.

    Reverse KL punishes q for putting mass where p has none, so the fit locks onto one
    mode (lesson 06 shows GANs doing the same: mode collapse). It has a local minimum per
    mode; with no start given every mode centre and the moment-matched fit are tried and
    the best kept (of equally good ones, as the modes of a symmetric mixture are, the one
    furthest right).

    Args:
        p: a 1-D mixture.
        mu0, sigma0: one starting point (both or neither).
    """
    _require_1d_mixture(p)
    if (mu0 is None) != (sigma0 is None):
        raise ValueError("give both mu0 and sigma0, or neither")
    if mu0 is not None:
        starts = [(check_float("mu0", mu0), check_float("sigma0", sigma0, low=0.0, low_open=True))]
    else:
        moment = fit_gaussian_forward_kl(p)
        starts = [(float(c), float(s)) for c, s in zip(p.centres[:, 0], p.stds)] + [(moment.mu, moment.sigma)]

    def objective(theta):  # sigma = exp(log sigma) keeps the search unconstrained
        return float(reverse_kl_gaussian(p, theta[0], math.exp(theta[1])))

    results = [minimize(objective, [m, math.log(s)], method="Nelder-Mead",
                        options={"xatol": 1e-8, "fatol": 1e-12, "maxiter": 4000}) for m, s in starts]
    # Modes of a symmetric mixture tie up to rounding, which differs between machines: of the fits
    # within 1e-9 of the best, the one with the largest mean wins, so every machine picks the same mode.
    lowest = min(r.fun for r in results)
    best = max((r for r in results if r.fun <= lowest + 1e-9 * max(1.0, abs(lowest))), key=lambda r: r.x[0])
    return GaussianFit(float(best.x[0]), float(math.exp(best.x[1])), float(best.fun))
