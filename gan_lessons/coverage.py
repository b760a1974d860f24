r"""Mode coverage: how many modes of a known mixture a generator reaches, and how well.

The measure of VEEGAN (Srivastava et al. 2017, section 5.1) and PacGAN (Lin et al.
2018, section 4.1): draw 2,500 samples; a sample is *high quality* if it lies within 3
standard deviations of its nearest mode; a mode is *captured* if it is the nearest
mode of at least one high-quality sample. Report the number of modes captured and the
fraction of high-quality samples. PacGAN adds the reverse KL divergence between the
generator's shares of the modes and the data's (``mode_reverse_kl``).

The published rows of both papers' Table 1 (``PUBLISHED_COVERAGE``) sit beside our runs
in ``coverage_table``.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .checks import check_keys, check_module, describe
from .utils import check_choice, check_float, check_int

__all__ = [
    "COVERAGE_RUN_KEYS",
    "N_SAMPLES",
    "PUBLISHED_COVERAGE",
    "ModeCoverage",
    "coverage_table",
    "generator_coverage",
    "mode_coverage",
    "mode_reverse_kl",
    "require_modes",
    "summarise_runs",
    "track_coverage",
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


def require_modes(dist) -> None:
    """Raise a ValueError unless ``dist`` has known modes (a ``GaussianMixture``), as mode coverage needs."""
    if not (hasattr(dist, "nearest_mode") and hasattr(dist, "centres")):
        raise ValueError(f"dist must be a GaussianMixture with modes (e.g. distributions.ring_2d()), "
                         f"got {type(dist).__name__}; data without known modes has no mode coverage")


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
    require_modes(dist)
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
    check_module("G", G, ("sample",))
    was_training = G.training
    G.eval()
    try:
        x = G.sample(n_samples, generator=generator)
    finally:
        G.train(was_training)
    return mode_coverage(x, dist, n_std=n_std)


def track_coverage(trainer, dist, num_iterations: int, every: int, n_samples: int = N_SAMPLES,
                   n_std: float = 3.0, generator: torch.Generator | None = None) -> dict:
    """Train ``trainer`` for ``num_iterations`` iterations, measuring ``generator_coverage`` of
    its generator every ``every`` iterations and after the last.

    Args:
        trainer: a ``train.GANTrainer`` (or a subclass) whose ``G`` has ``sample(n, generator)``.
        dist: the target ``GaussianMixture``.
        num_iterations, every: as ``GANTrainer.train``.
        n_samples, n_std: see ``generator_coverage``.
        generator: a torch.Generator for every measurement's noise, drawn in turn.
    Returns a dict of arrays, one row per measurement: iterations (T,), counts (T, K),
    high_quality (T,) and n_captured (T,).
    """
    require_modes(dist)
    n_samples = check_int("n_samples", n_samples, low=1)
    rows = []

    def record(tr):
        rows.append((tr.iteration, generator_coverage(tr.G, dist, n_samples, n_std, generator=generator)))

    trainer.train(num_iterations, callback=record, every=every)
    k = int(dist.n_modes)
    return {"iterations": np.array([it for it, _ in rows], dtype=int),
            "counts": np.array([c.counts for _, c in rows]).reshape(len(rows), k),
            "high_quality": np.array([c.high_quality for _, c in rows], dtype=float),
            "n_captured": np.array([c.n_captured for _, c in rows], dtype=int)}


def mode_reverse_kl(coverage: ModeCoverage, weights=None) -> float:
    r"""Reverse KL divergence, in nats, from the generator's shares of the modes to the data's.

    .. math:: \mathrm{KL}(\hat p_g \,\|\, p) = \sum_k \hat p_g(k) \log \frac{\hat p_g(k)}{p(k)}, \qquad
              \hat p_g(k) = \frac{\text{high-quality samples nearest mode } k}{\text{high-quality samples}}

    PacGAN (Lin et al. 2018, section 4.1, Table 1) reports this next to the two counts.
    Low-quality samples are left out, as PacGAN's released code leaves them out of its mode
    histogram; a missed mode adds nothing (0 log 0 = 0), so a generator on one of K equal
    modes scores log K, and one that shares its samples evenly scores 0.

    Args:
        coverage: a ``ModeCoverage`` (its ``counts``) with at least one high-quality sample.
        weights: the data's mode weights p(k) (default: equal), K positive numbers.
    """
    if not isinstance(coverage, ModeCoverage):
        raise ValueError(f"coverage must be a ModeCoverage (from mode_coverage), got {describe(coverage)}")
    counts = coverage.counts.astype(np.float64)
    if counts.sum() == 0:
        raise ValueError("coverage has no high-quality sample, so the generator's shares of the modes "
                         "are undefined; the reverse KL needs at least one")
    k = len(counts)
    p = np.full(k, 1.0 / k) if weights is None else np.asarray(weights, dtype=np.float64)
    if p.shape != (k,) or not np.all(p > 0):
        raise ValueError(f"weights must be {k} positive numbers, one per mode, got {describe(weights)}")
    p = p / p.sum()
    q = counts / counts.sum()
    nz = q > 0
    return float(np.sum(q[nz] * np.log(q[nz] / p[nz])))


# The published rows beside which our runs are shown: data set -> [(source, method,
# modes captured, % high-quality samples)], each the mean over the paper's runs (VEEGAN:
# five runs; PacGAN: ten). Both tables were measured on 2,500 samples, with the measure
# of ``mode_coverage``.
PUBLISHED_COVERAGE = {
    "ring": [("VEEGAN, Table 1", "GAN", 1.0, 99.3), ("VEEGAN, Table 1", "Unrolled GAN", 7.6, 35.6),
             ("VEEGAN, Table 1", "VEEGAN", 8.0, 52.9), ("PacGAN, Table 1", "GAN", 6.3, 98.2),
             ("PacGAN, Table 1", "PacGAN2", 7.9, 95.6)],
    "grid": [("VEEGAN, Table 1", "GAN", 3.3, 0.5), ("VEEGAN, Table 1", "Unrolled GAN", 23.6, 16.0),
             ("VEEGAN, Table 1", "VEEGAN", 24.6, 40.0), ("PacGAN, Table 1", "GAN", 17.3, 94.8),
             ("PacGAN, Table 1", "PacGAN4", 24.8, 93.6)],
}


COVERAGE_RUN_KEYS = ("dist", "method", "seed", "n_captured", "n_modes", "high_quality", "seconds")


def _check_runs(runs) -> list[dict]:
    try:
        runs = list(runs)
    except TypeError:
        raise ValueError(f"runs must be a list of run dicts, got {describe(runs)}") from None
    if not runs:
        raise ValueError("runs must hold at least one run")
    for i, run in enumerate(runs):
        check_keys(f"runs[{i}]", run, COVERAGE_RUN_KEYS)
    return runs


def _mean_se(values) -> tuple[float, float]:
    """The mean and its standard error s / sqrt(n) (0 for a single value)."""
    v = np.asarray(values, dtype=np.float64)
    se = float(v.std(ddof=1) / np.sqrt(len(v))) if len(v) > 1 else 0.0
    return float(v.mean()), se


def summarise_runs(runs) -> list[dict]:
    r"""One row per (data set, label): the mean and standard error of each measure over seeds.

    .. math:: \bar x = \frac1n \sum_i x_i, \qquad \mathrm{s.e.} = \frac{s}{\sqrt n}, \quad
              s^2 = \frac{1}{n - 1} \sum_i (x_i - \bar x)^2

    Args:
        runs: run dicts as ``coverage_table`` takes them.
    Returns dicts with dist, label, n_runs, modes (mean, s.e.), high_quality (mean, s.e., in
    %), min_modes, min_high_quality (%), seconds (mean) and, where every run has it,
    reverse_kl (mean, s.e.).
    """
    runs = _check_runs(runs)
    rows = []
    for name in dict.fromkeys(r["dist"] for r in runs):
        mine = [r for r in runs if r["dist"] == name]
        for label in dict.fromkeys(r.get("label", r["method"]) for r in mine):
            sub = [r for r in mine if r.get("label", r["method"]) == label]
            row = {"dist": name, "label": label, "n_runs": len(sub), "n_modes": sub[0]["n_modes"],
                   "modes": _mean_se([r["n_captured"] for r in sub]),
                   "high_quality": _mean_se([100 * r["high_quality"] for r in sub]),
                   "min_modes": min(r["n_captured"] for r in sub),
                   "min_high_quality": 100 * min(r["high_quality"] for r in sub),
                   "seconds": float(np.mean([r["seconds"] for r in sub]))}
            if all(r.get("reverse_kl") is not None for r in sub):
                row["reverse_kl"] = _mean_se([r["reverse_kl"] for r in sub])
            rows.append(row)
    return rows


def coverage_table(runs, published: bool | str = True, per_seed: bool = False) -> str:
    """A text table of mode-coverage runs: mean ± standard error over seeds, and the papers' rows.

    Args:
        runs: dicts with keys dist ("ring" or "grid"), method, seed, n_captured, n_modes,
            high_quality (a fraction) and seconds, as ``benchmarks/bench_mode_collapse.py``
            writes them; optional keys: label (names the row; default: method; runs with the
            same label are one row) and reverse_kl.
        published: add the published rows (``PUBLISHED_COVERAGE``) under each data set; a
            paper's name ("VEEGAN" or "PacGAN") adds only that paper's rows.
        per_seed: also list every seed's two numbers.
    """
    papers = sorted({src.split(",")[0] for rows_ in PUBLISHED_COVERAGE.values() for src, *_ in rows_})
    if isinstance(published, str):
        check_choice("published", published, tuple(papers))
    elif not isinstance(published, (bool, np.bool_)):
        raise ValueError(f"published must be True, False or a paper's name ({', '.join(papers)}), got {published!r}")

    def shown(src):
        return published is True or (isinstance(published, str) and src.split(",")[0] == published)

    rows = summarise_runs(runs)
    runs = list(runs)
    lines = []
    for name in dict.fromkeys(r["dist"] for r in rows):
        mine = [r for r in rows if r["dist"] == name]
        labels = [r["label"] for r in mine] + [f"{m} ({src})" for src, m, _, _ in PUBLISHED_COVERAGE.get(name, [])
                                               if shown(src)]
        width = max(len(label) for label in labels)
        lines.append(f"{name} ({mine[0]['n_modes']} modes), {N_SAMPLES:,} samples per run: "
                     "modes captured | % high-quality samples | reverse KL (nats)")
        for r in mine:
            (m, m_se), (q, q_se) = r["modes"], r["high_quality"]
            kl = (f"{r['reverse_kl'][0]:5.2f} ± {r['reverse_kl'][1]:4.2f}" if "reverse_kl" in r
                  else f"{'-':>12s}")
            line = (f"  {r['label']:{width}s}  {m:4.1f} ± {m_se:.1f} | {q:5.1f} ± {q_se:.1f} | {kl} "
                    f"| {r['n_runs']} runs, {r['seconds']:4.0f} s each")
            lines.append(line)
            if per_seed:
                sub = [x for x in runs if x["dist"] == name and x.get("label", x["method"]) == r["label"]]
                lines.append("  " + " " * width + "  " + "  ".join(
                    f"seed {x['seed']}: {x['n_captured']} / {100 * x['high_quality']:.1f} %" for x in sub))
        for src, method, modes, hq in PUBLISHED_COVERAGE.get(name, []):
            if shown(src):
                label = f"{method} ({src})"
                lines.append(f"  {label:{width}s}  {modes:4.1f}       | {hq:5.1f}        |  (published)")
    return "\n".join(lines)
