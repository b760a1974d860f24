r"""The theory of Goodfellow et al. 2014, section 4, as numbers you can check.

The optimal discriminator D*, the KL and Jensen-Shannon divergences (on a grid and by
quadrature), the value function V(D, G) and C(G) = V(G, D*), the generator losses'
gradients, the bilinear game min_x max_y xy, and the maximum-likelihood and KL fits of
lesson 02. Everything is float64 numpy; torch tensors are accepted wherever arrays are.
"""
from __future__ import annotations

import math

import numpy as np

from .distributions import _as_numpy
from .utils import check_float

LOG2 = math.log(2.0)
LOG4 = math.log(4.0)


def _densities(name: str, values) -> np.ndarray:
    arr = _as_numpy(values)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must hold finite density values (no NaN or inf)")
    if np.any(arr < 0):
        raise ValueError(f"{name} must hold non-negative density values, got a minimum of {arr.min():.3g}")
    return arr


def _grid_pair(p, q, dx) -> tuple[np.ndarray, np.ndarray, float]:
    p, q = _densities("p", p), _densities("q", q)
    if p.shape != q.shape:
        raise ValueError(f"p and q must be density values on the same grid; got shapes {p.shape} and {q.shape}")
    return p, q, check_float("dx", dx, low=0.0, low_open=True)


def _xlogy_ratio(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a log(a / b) elementwise with 0 log(0 / b) = 0 and a log(a / 0) = inf for a > 0."""
    out = np.zeros(np.broadcast(a, b).shape)
    a, b = np.broadcast_to(a, out.shape), np.broadcast_to(b, out.shape)
    pos = a > 0
    with np.errstate(divide="ignore"):
        out[pos] = a[pos] * (np.log(a[pos]) - np.log(b[pos]))
    return out


def optimal_discriminator(p_data, p_g) -> np.ndarray:
    r"""The optimal discriminator for a fixed generator, elementwise.

    .. math:: D^*_G(x) = \frac{p_{data}(x)}{p_{data}(x) + p_g(x)}

    Goodfellow et al. 2014, Proposition 1. Where both densities are 0 any value is
    optimal; we return 1/2 there (neither player has anything to say).

    Args:
        p_data, p_g: density values (numpy or torch, broadcastable shapes), non-negative.
    """
    p_data, p_g = _densities("p_data", p_data), _densities("p_g", p_g)
    total = p_data + p_g
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
