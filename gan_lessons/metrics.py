r"""Measures of what a generator has learnt.

Mode coverage (VEEGAN, Srivastava et al. 2017, section 5.1; PacGAN, Lin et al. 2018,
section 4.1): draw 2,500 samples; a sample is *high quality* if it lies within 3
standard deviations of its nearest mode; a mode is *captured* if it is the nearest
mode of at least one high-quality sample. Report the number of modes captured and the
fraction of high-quality samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .utils import check_float, check_int

__all__ = [
    "N_SAMPLES",
    "PUBLISHED_COVERAGE",
    "ModeCoverage",
    "coverage_table",
    "generator_coverage",
    "mode_coverage",
]

# The number of samples the literature's tables are measured on (VEEGAN, PacGAN).
N_SAMPLES = 2500


@dataclass(frozen=True)
class ModeCoverage:
    """The result of ``mode_coverage``.

    Attributes:
        n_captured: number of modes captured (the literature's "modes").
        captured: sorted indices of the captured modes (into ``dist.centres``).
        high_quality: fraction of samples within ``n_std`` stds of their nearest mode, in [0, 1].
        counts: (K,) number of high-quality samples whose nearest mode is each mode.
        n_modes: K, the number of modes of the distribution.
        n_samples: number of samples measured.
    """

    n_captured: int
    captured: np.ndarray
    high_quality: float
    counts: np.ndarray
    n_modes: int
    n_samples: int

    def __str__(self) -> str:
        return (f"{self.n_captured} of {self.n_modes} modes captured, "
                f"{100 * self.high_quality:.1f} % high-quality samples (n = {self.n_samples})")


def _check_samples(samples, dim: int) -> np.ndarray:
    if isinstance(samples, torch.Tensor):
        x = samples.detach().cpu().double().numpy()
    else:
        try:
            x = np.asarray(samples, dtype=np.float64)
        except (TypeError, ValueError):
            raise ValueError(f"samples must be an array of numbers, got {type(samples).__name__}") from None
    if dim == 1 and x.ndim == 1:
        x = x[:, None]
    if x.ndim != 2 or x.shape[1] != dim:
        shape = "(n,) or (n, 1)" if dim == 1 else f"(n, {dim})"
        raise ValueError(f"samples must have shape {shape} for this {dim}-D distribution, got {x.shape}")
    if len(x) == 0:
        raise ValueError("samples must hold at least 1 sample, got 0")
    if not np.all(np.isfinite(x)):
        raise ValueError("samples must be finite numbers (no NaN or inf); did training diverge?")
    return x


def mode_coverage(samples, dist, n_std: float = 3.0) -> ModeCoverage:
    r"""Modes captured and the fraction of high-quality samples (VEEGAN / PacGAN measure).

    With :math:`k(x) = \arg\min_k \lVert x - \mu_k \rVert` the nearest mode of a sample x,
    x is high quality when :math:`\lVert x - \mu_{k(x)} \rVert \le n_{std}\,\sigma_{k(x)}`, and

    .. math:: \text{modes} = \bigl|\{k(x_i) : x_i \text{ high quality}\}\bigr|, \qquad
              \text{high quality} = \frac1n \sum_i \mathbb 1[x_i \text{ high quality}].

    Srivastava et al. 2017 (VEEGAN), section 5.1; Lin et al. 2018 (PacGAN), section 4.1.
    Their tables use n = 2,500 samples (``N_SAMPLES``) and n_std = 3.

    Args:
        samples: (n, dim) samples (numpy or torch), or (n,) for a 1-D distribution; n >= 1.
        dist: a ``distributions.GaussianMixture`` (it has modes and stds; empirical data has not).
        n_std: how many of a mode's standard deviations count as near, > 0.
    """
    if not (hasattr(dist, "nearest_mode") and hasattr(dist, "centres")):
        raise ValueError(f"dist must be a GaussianMixture with modes (e.g. distributions.ring_2d()), "
                         f"got {type(dist).__name__}; data without known modes has no mode coverage")
    n_std = check_float("n_std", n_std, low=0.0, high=None, low_open=True)
    x = _check_samples(samples, dist.dim)
    nearest, dist_in_stds = dist.nearest_mode(x)
    good = dist_in_stds <= n_std
    counts = np.bincount(nearest[good], minlength=dist.n_modes)
    captured = np.flatnonzero(counts)
    return ModeCoverage(n_captured=len(captured), captured=captured,
                        high_quality=float(good.mean()), counts=counts,
                        n_modes=int(dist.n_modes), n_samples=len(x))


def generator_coverage(G, dist, n_samples: int = N_SAMPLES, n_std: float = 3.0,
                       generator: torch.Generator | None = None) -> ModeCoverage:
    """``mode_coverage`` of ``n_samples`` fresh samples from the generator network ``G``.

    Args:
        G: a generator with a ``sample(n, generator)`` method (``models.MLPGenerator``).
        dist: the target ``GaussianMixture``.
        n_samples: how many samples to draw, >= 1 (2,500 in the literature).
        n_std: see ``mode_coverage``.
        generator: a torch.Generator for reproducible noise (None uses the global one).
    """
    n_samples = check_int("n_samples", n_samples, low=1)
    was_training = G.training
    G.eval()
    try:
        x = G.sample(n_samples, generator=generator)
    finally:
        G.train(was_training)
    return mode_coverage(x, dist, n_std=n_std)


# Published results on the same two data sets, as (modes captured, % high-quality samples),
# each the mean over the paper's runs.
PUBLISHED_COVERAGE = {
    "ring": {"GAN (VEEGAN, Table 1)": (1.0, 99.3), "VEEGAN (VEEGAN, Table 1)": (8.0, 52.9),
             "PacGAN2 (PacGAN, Table 1)": (7.9, 95.6)},
    "grid": {"GAN (VEEGAN, Table 1)": (3.3, 0.5), "VEEGAN (VEEGAN, Table 1)": (24.6, 40.0),
             "PacGAN4 (PacGAN, Table 1)": (24.8, 93.6)},
}


def coverage_table(runs, published: bool = True) -> str:
    """A text table of mode-coverage runs: per seed, the mean, the time per run, and the papers' numbers.

    Args:
        runs: dicts with keys dist ("ring" or "grid"), method, seed, n_captured, n_modes,
            high_quality (a fraction) and seconds, as written by
            ``remedies.run_mode_experiment`` and ``benchmarks/bench_mode_collapse.py``;
            an optional key label names the row (default: method); runs with the same
            label are one row.
        published: add the published numbers (``PUBLISHED_COVERAGE``) under each data set.
    """
    runs = list(runs)
    if not runs:
        raise ValueError("runs must hold at least one run")
    lines = []
    for name in dict.fromkeys(r["dist"] for r in runs):
        mine = [r for r in runs if r["dist"] == name]
        lines.append(f"{name} ({mine[0]['n_modes']} modes): modes captured / % high-quality samples "
                     f"of {N_SAMPLES:,}")
        labels = list(dict.fromkeys(r.get("label", r["method"]) for r in mine))
        width = max(len(label) for label in labels)
        for label in labels:
            sub = [r for r in mine if r.get("label", r["method"]) == label]
            seeds = "  ".join(f"seed {r['seed']}: {r['n_captured']:2d} / {100 * r['high_quality']:5.1f} %"
                              for r in sub)
            modes = np.mean([r["n_captured"] for r in sub])
            hq = 100 * np.mean([r["high_quality"] for r in sub])
            secs = np.mean([r["seconds"] for r in sub])
            lines.append(f"  {label:{width}s}  mean {modes:4.1f} / {hq:5.1f} %  | {seeds} | {secs:4.0f} s per run")
        if published and name in PUBLISHED_COVERAGE:
            for label, (modes, hq) in PUBLISHED_COVERAGE[name].items():
                lines.append(f"  published {label}: {modes:.1f} / {hq:.1f} %")
    return "\n".join(lines)
