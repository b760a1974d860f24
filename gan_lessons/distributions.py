"""Toy data with exact densities: 1-D Gaussians and mixtures, the 2-D ring and grid.

Because every density here is known in closed form, lessons can draw p_data exactly,
compute the optimal discriminator D*(x) = p_data / (p_data + p_g), and measure KL and
JSD by quadrature instead of guessing them from samples.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
from scipy.special import logsumexp, ndtr

from .checks import as_array, check_generator
from .utils import check_float, check_int

__all__ = ["GaussianMixture", "gaussian_1d", "mixture_1d", "ring_2d", "grid_2d",
           "EmpiricalDistribution", "as_distribution", "TwoBranches", "two_branches"]


def _as_numpy(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    return np.asarray(x, dtype=np.float64)


@dataclass(frozen=True, eq=False)
class GaussianMixture:
    r"""A mixture of isotropic Gaussians in ``dim`` dimensions.

    .. math:: p(x) = \sum_k \pi_k \, \mathcal N(x \mid \mu_k, \sigma_k^2 I)

    Attributes:
        centres: (K, dim) mode centres mu_k.
        stds: (K,) standard deviations sigma_k (the same in every direction).
        weights: (K,) mixing weights pi_k, non-negative and summing to 1.
        name: a label for plots.
    """

    centres: np.ndarray
    stds: np.ndarray
    weights: np.ndarray
    name: str = "mixture"

    def __post_init__(self):
        centres = as_array("centres", self.centres, min_size=0, finite=False)
        if centres.ndim == 1:
            centres = centres[:, None]
        if centres.ndim != 2 or centres.shape[0] < 1:
            raise ValueError(f"centres must be a (K, dim) array with K >= 1, got shape {centres.shape}")
        if not np.all(np.isfinite(centres)):
            raise ValueError("centres must be finite numbers")
        k = centres.shape[0]
        stds = as_array("stds", self.stds, finite=False)
        stds = np.full(k, float(stds)) if stds.ndim == 0 else stds
        if stds.shape != (k,):
            raise ValueError(f"stds must have one entry per centre ({k}), got shape {stds.shape}")
        if not np.all(np.isfinite(stds)) or np.any(stds <= 0):
            raise ValueError(f"stds must be positive and finite, got {stds.tolist()}")
        weights = as_array("weights", self.weights, min_size=0, finite=False)
        if weights.shape != (k,):
            raise ValueError(f"weights must have one entry per centre ({k}), got shape {weights.shape}")
        if not np.all(np.isfinite(weights)) or np.any(weights < 0):
            raise ValueError(f"weights must be non-negative, got {weights.tolist()}")
        if abs(weights.sum() - 1.0) > 1e-6:
            raise ValueError(f"weights must sum to 1, got {weights.sum():.6g} "
                             f"(divide them by their sum)")
        for field, value in (("centres", centres), ("stds", stds), ("weights", weights)):
            value.setflags(write=False)
            object.__setattr__(self, field, value)
        # torch copies for sampling, made once rather than at every minibatch
        object.__setattr__(self, "_torch", (torch.tensor(weights), torch.tensor(centres),
                                            torch.tensor(stds)))

    # -- shape ------------------------------------------------------------------------
    @property
    def dim(self) -> int:
        """Dimension of a sample."""
        return self.centres.shape[1]

    @property
    def n_modes(self) -> int:
        """Number of mixture components K."""
        return self.centres.shape[0]

    def _points(self, x) -> np.ndarray:
        pts = as_array("x", x, min_size=0)
        shape = pts.shape
        if self.dim == 1 and pts.ndim <= 1:
            pts = pts.reshape(-1, 1)
        if pts.ndim != 2 or pts.shape[1] != self.dim:
            raise ValueError(f"x must have shape (n, {self.dim}) for this {self.dim}-D distribution, got {shape}")
        return pts

    # -- density ----------------------------------------------------------------------
    def component_log_prob(self, x) -> np.ndarray:
        r"""(n, K) array of :math:`\log \pi_k + \log \mathcal N(x \mid \mu_k, \sigma_k^2 I)`."""
        pts = self._points(x)
        sq = ((pts[:, None, :] - self.centres[None, :, :]) ** 2).sum(-1)
        var = self.stds ** 2
        with np.errstate(divide="ignore"):
            log_w = np.log(self.weights)
        return log_w - 0.5 * sq / var - 0.5 * self.dim * np.log(2 * math.pi * var)

    def log_prob(self, x) -> np.ndarray:
        r"""Exact log-density :math:`\log p(x)` at each row of ``x`` (shape (n,), float64)."""
        return logsumexp(self.component_log_prob(x), axis=1)

    def density(self, x) -> np.ndarray:
        """Exact density p(x) at each row of ``x`` (shape (n,), float64)."""
        return np.exp(self.log_prob(x))

    def nearest_mode(self, x) -> tuple[np.ndarray, np.ndarray]:
        """Index of each point's nearest centre and the distance to it, in units of that mode's std."""
        pts = self._points(x)
        dist = np.sqrt(((pts[:, None, :] - self.centres[None, :, :]) ** 2).sum(-1))
        idx = dist.argmin(axis=1)
        return idx, dist[np.arange(len(pts)), idx] / self.stds[idx]

    # -- 1-D extras -------------------------------------------------------------------
    def _require_1d(self, what: str):
        if self.dim != 1:
            raise ValueError(f"{what} is defined for 1-D distributions only; this one is {self.dim}-D")

    def cdf(self, x) -> np.ndarray:
        r"""1-D only: :math:`F(x) = \sum_k \pi_k \Phi((x - \mu_k) / \sigma_k)`."""
        self._require_1d("cdf")
        pts = self._points(x)[:, 0]
        z = (pts[:, None] - self.centres[None, :, 0]) / self.stds[None, :]
        return (self.weights[None, :] * ndtr(z)).sum(axis=1)

    def icdf(self, u, tol: float = 1e-10) -> np.ndarray:
        r"""1-D only: the inverse CDF :math:`F^{-1}(u)` for u in (0, 1), by bisection."""
        self._require_1d("icdf")
        u = as_array("u", u, finite=False).reshape(-1)
        if np.any((u <= 0) | (u >= 1)) or not np.all(np.isfinite(u)):
            raise ValueError("u must lie strictly between 0 and 1")
        lo = np.full_like(u, (self.centres[:, 0] - 40 * self.stds).min())
        hi = np.full_like(u, (self.centres[:, 0] + 40 * self.stds).max())
        # F is increasing, so bisection halves the bracket each pass; 200 passes is exact in float64.
        for _ in range(200):
            mid = 0.5 * (lo + hi)
            below = self.cdf(mid) < u
            lo = np.where(below, mid, lo)
            hi = np.where(below, hi, mid)
            if np.max(hi - lo) < tol:
                break
        return 0.5 * (lo + hi)

    def support(self, width: float = 4.0) -> tuple[np.ndarray, np.ndarray]:
        """Lower and upper corners of a box holding every mode +/- ``width`` stds."""
        width = check_float("width", width, low=0.0, low_open=True)
        pad = width * self.stds[:, None]
        return (self.centres - pad).min(axis=0), (self.centres + pad).max(axis=0)

    def grid(self, n: int = 400, width: float = 4.0) -> np.ndarray:
        """1-D only: ``n`` evenly spaced points over the support, for plots and quadrature."""
        self._require_1d("grid")
        lo, hi = self.support(width)
        return np.linspace(lo[0], hi[0], check_int("n", n, low=2))

    # -- moments ----------------------------------------------------------------------
    def mean(self) -> np.ndarray:
        """The mixture's mean vector."""
        return self.weights @ self.centres

    def variance(self) -> np.ndarray:
        """Per-coordinate variance: within-component plus between-component spread."""
        mean = self.mean()
        return self.weights @ (self.stds[:, None] ** 2 + (self.centres - mean) ** 2)

    # -- sampling ---------------------------------------------------------------------
    def sample(self, n: int, generator: torch.Generator | None = None,
               return_modes: bool = False):
        """Draw ``n`` samples as a float32 tensor of shape (n, dim).

        Args:
            n: number of samples, at least 1.
            generator: a torch.Generator for reproducible draws (None uses the global one).
            return_modes: also return the index of the component each sample came from.
        """
        n = check_int("n", n, low=1)
        check_generator(generator)
        weights, centres, stds = self._torch
        modes = torch.multinomial(weights, n, replacement=True, generator=generator)
        noise = torch.randn(n, self.dim, generator=generator, dtype=torch.float64)
        x = (centres[modes] + stds[modes, None] * noise).float()
        return (x, modes) if return_modes else x

    def __repr__(self) -> str:
        return f"GaussianMixture(name={self.name!r}, dim={self.dim}, n_modes={self.n_modes})"


def gaussian_1d(mu: float = 0.0, sigma: float = 1.0) -> GaussianMixture:
    """A 1-D Gaussian N(mu, sigma^2), as a one-component mixture."""
    mu, sigma = check_float("mu", mu), check_float("sigma", sigma, low=0.0, low_open=True)
    return GaussianMixture([[float(mu)]], [sigma], [1.0], name=f"N({mu:g}, {sigma:g}^2)")


def mixture_1d(means, stds, weights=None, name: str = "1-D mixture") -> GaussianMixture:
    """A 1-D mixture of Gaussians; equal weights if ``weights`` is None."""
    means = as_array("means", means).reshape(-1)
    if weights is None:
        weights = np.full(len(means), 1.0 / max(len(means), 1))
    return GaussianMixture(means[:, None], stds, weights, name=name)


def ring_2d(n_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
    """The ring of Gaussians used by VEEGAN and PacGAN: ``n_modes`` modes evenly on a circle."""
    n_modes = check_int("n_modes", n_modes, low=1)
    radius = check_float("radius", radius, low=0.0, low_open=True)
    std = check_float("std", std, low=0.0, low_open=True)
    angles = 2 * np.pi * np.arange(n_modes) / n_modes
    centres = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
    return GaussianMixture(centres, std, np.full(n_modes, 1.0 / n_modes), name=f"ring of {n_modes}")


def grid_2d(side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
    """The grid of Gaussians: side x side modes at {-4, -2, 0, 2, 4}^2 by default."""
    side = check_int("side", side, low=1)
    spacing = check_float("spacing", spacing, low=0.0, low_open=True)
    std = check_float("std", std, low=0.0, low_open=True)
    axis = spacing * (np.arange(side) - (side - 1) / 2)
    centres = np.array([[a, b] for a in axis for b in axis])
    k = side * side
    return GaussianMixture(centres, std, np.full(k, 1.0 / k), name=f"grid of {k}")


class EmpiricalDistribution:
    """Any array of 1-D or 2-D points, sampled uniformly with replacement.

    It has no exact density; lessons estimate one from samples where needed.
    """

    def __init__(self, points, name: str = "your data"):
        pts = as_array("points", points, min_size=0, finite=False)
        shape = pts.shape
        if pts.ndim == 1:
            pts = pts[:, None]
        if pts.ndim != 2 or pts.shape[1] not in (1, 2):
            raise ValueError(f"points must be an array of shape (n,), (n, 1) or (n, 2), got {shape}")
        if len(pts) < 2:
            raise ValueError(f"points must hold at least 2 points, got {len(pts)}")
        if not np.all(np.isfinite(pts)):
            raise ValueError("points must be finite numbers (no NaN or inf)")
        self.points = torch.tensor(pts, dtype=torch.float32)  # a copy: the caller's array may be read-only
        self.name = name

    @property
    def dim(self) -> int:
        """Dimension of a sample."""
        return self.points.shape[1]

    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` points drawn uniformly with replacement, shape (n, dim)."""
        n = check_int("n", n, low=1)
        check_generator(generator)
        idx = torch.randint(len(self.points), (n,), generator=generator)
        return self.points[idx]

    def __repr__(self) -> str:
        return f"EmpiricalDistribution(name={self.name!r}, n={len(self.points)}, dim={self.dim})"


def as_distribution(data):
    """A GaussianMixture or EmpiricalDistribution as given, or an array wrapped as empirical data."""
    if isinstance(data, (GaussianMixture, EmpiricalDistribution)):
        return data
    if hasattr(data, "sample") and hasattr(data, "dim"):
        return data
    try:
        return EmpiricalDistribution(data)
    except ValueError as err:
        raise ValueError(f"data must be a distribution of gan_lessons.distributions, an object with sample(n, "
                         f"generator) and dim, or an array of points; as points: {err}") from None


# --- lesson 01: pairs (x, y) with two right answers y for every x --------------------------

@dataclass(frozen=True, eq=False)
class TwoBranches:
    r"""Pairs (x, y) where every x has two right answers: y lies on one of two branches.

    .. math:: x \sim U(x_{low}, x_{high}), \qquad
              y \mid x \sim w\,\mathcal N(\sin x + a, s^2) + (1 - w)\,\mathcal N(\sin x - a, s^2)

    A regression trained with squared error learns the conditional mean
    :math:`\mathbb E[y \mid x] = \sin x + a(2w - 1)`, which lies between the branches, where
    no data is; a model of p(y | x) can sample both.

    Attributes:
        offset: a, each branch's distance from sin x.
        weight_upper: w, the share of points on the upper branch.
        std: s, the noise around each branch.
        x_low, x_high: the range of x.
    """

    offset: float = 1.5
    weight_upper: float = 0.7
    std: float = 0.2
    x_low: float = -3.0
    x_high: float = 3.0

    def __post_init__(self):
        check_float("offset", self.offset, low=0.0, low_open=True)
        check_float("weight_upper", self.weight_upper, low=0.0, high=1.0)
        check_float("std", self.std, low=0.0, low_open=True)
        check_float("x_low", self.x_low)
        check_float("x_high", self.x_high)
        if not self.x_high > self.x_low:
            raise ValueError(f"x_high must be above x_low, got x_low={self.x_low}, x_high={self.x_high}")

    def branches(self, x) -> tuple[np.ndarray, np.ndarray]:
        """The upper and lower branch, sin x + a and sin x - a, at each x."""
        centre = np.sin(as_array("x", x).reshape(-1))
        return centre + self.offset, centre - self.offset

    def conditional_mean(self, x) -> np.ndarray:
        r""":math:`\mathbb E[y \mid x] = \sin x + a(2w - 1)`, what squared error rewards, at each x."""
        upper, lower = self.branches(x)
        return self.weight_upper * upper + (1 - self.weight_upper) * lower

    def conditional(self, x: float) -> GaussianMixture:
        """The exact p(y | x) at one x, a two-component 1-D mixture."""
        upper, lower = self.branches([check_float("x", x)])
        return mixture_1d([upper[0], lower[0]], [self.std, self.std],
                          [self.weight_upper, 1 - self.weight_upper], name=f"p(y | x = {x:g})")

    def on_upper_branch(self, x, y) -> np.ndarray:
        """True where y lies above sin x, the midpoint of the two branches."""
        x = as_array("x", x).reshape(-1)
        y = as_array("y", y).reshape(-1)
        if len(y) != len(x):
            raise ValueError(f"y must hold one value per x ({len(x)}), got {len(y)}")
        return y > np.sin(x)

    def distance_to_branch(self, x, y) -> np.ndarray:
        """How far each y lies from the nearer branch at its x, in units of the noise std s."""
        upper, lower = self.branches(x)
        y = as_array("y", y).reshape(-1)
        if len(y) != len(upper):
            raise ValueError(f"y must hold one value per x ({len(upper)}), got {len(y)}")
        return np.minimum(np.abs(y - upper), np.abs(y - lower)) / self.std

    def sample(self, n: int, generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """``n`` pairs as two float32 tensors x and y of shape (n, 1).

        Args:
            n: number of pairs, at least 1.
            generator: a torch.Generator for reproducible draws (None uses the global one).
        """
        n = check_int("n", n, low=1)
        check_generator(generator)
        x = self.x_low + (self.x_high - self.x_low) * torch.rand(n, 1, generator=generator, dtype=torch.float64)
        upper = torch.rand(n, 1, generator=generator, dtype=torch.float64) < self.weight_upper
        noise = torch.randn(n, 1, generator=generator, dtype=torch.float64)
        y = torch.sin(x) + torch.where(upper, self.offset, -self.offset) + self.std * noise
        return x.float(), y.float()


def two_branches(offset: float = 1.5, weight_upper: float = 0.7, std: float = 0.2) -> TwoBranches:
    """Pairs (x, y) with two right answers for every x: y = sin x +/- offset, plus noise (see TwoBranches)."""
    return TwoBranches(offset=offset, weight_upper=weight_upper, std=std)
