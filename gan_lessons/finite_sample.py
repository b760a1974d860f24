r"""How the number of images biases the Fréchet distance (lesson 11).

The Fréchet distance of ``metrics`` is computed from a sample mean and a sample covariance
of each set. Both are noisy, and the noise does not average out: two samples of the *same*
distribution are a positive distance apart, and the gap shrinks like 1/n. So a distance
means something only beside the distance between real images at the same size, and
Chong and Forsyth (2020) show that the bias differs from model to model.

- ``frechet_terms``: the distance split into its mean term and its covariance (trace) term.
- ``expected_mean_term``: what the mean term is on average, in closed form.
- ``frechet_by_size``: the distance at several sample sizes, over random subsets.
- ``extrapolate_frechet``: Chong and Forsyth's fit of a + b / n, whose a is the distance
  with infinitely many samples; ``intercept_standard_error`` says how well the points fix a.
"""
from __future__ import annotations

import numpy as np

from .metrics import _as_rows, _same_dim, frechet_distance_from_features
from .utils import check_int

__all__ = ["expected_mean_term", "extrapolate_frechet", "frechet_by_size", "frechet_terms", "intercept_standard_error"]


def frechet_terms(features_a, features_b, eps: float = 1e-6) -> tuple[float, float]:
    r"""The Fréchet distance of two feature sets as its two terms, (mean term, trace term).

    .. math:: d^2 = \underbrace{\lVert m_a - m_b \rVert^2}_{\text{mean term}}
              + \underbrace{\operatorname{Tr}\bigl(C_a + C_b - 2 (C_a C_b)^{1/2}\bigr)}_{\text{trace term}}

    Heusel et al. 2017, section 3; the trace term is ``frechet_distance_from_features`` minus
    the mean term, so the two add up to it exactly.

    Args:
        features_a, features_b: (n_a, d) and (n_b, d) features, n_a, n_b >= 2.
        eps: see ``metrics.frechet_distance``.
    """
    a, b = _as_rows("features_a", features_a), _as_rows("features_b", features_b)
    _same_dim("features_a", a, "features_b", b)
    gap = a.mean(axis=0) - b.mean(axis=0)
    mean_term = float(gap @ gap)
    return mean_term, frechet_distance_from_features(a, b, eps=eps) - mean_term


def expected_mean_term(trace_cov_a: float, trace_cov_b: float, n_a: int, n_b: int,
                       mean_gap_sq: float = 0.0) -> float:
    r"""The average mean term of the distance between independent samples of sizes n_a and n_b.

    .. math:: \mathbb E\,\lVert \hat m_a - \hat m_b \rVert^2 = \lVert \mu_a - \mu_b \rVert^2
              + \frac{\operatorname{Tr} C_a}{n_a} + \frac{\operatorname{Tr} C_b}{n_b}

    Each sample mean scatters about its true mean with covariance C / n, and the squared
    length of a scatter averages to its trace. For two samples of one distribution the mean
    term alone is Tr C (1/n_a + 1/n_b) > 0, though the true distance is 0.

    Args:
        trace_cov_a, trace_cov_b: the traces of the two true covariances, >= 0.
        n_a, n_b: the sample sizes, >= 1 (images drawn independently, with replacement).
        mean_gap_sq: the squared distance between the true means, >= 0.
    """
    for name, value in (("trace_cov_a", trace_cov_a), ("trace_cov_b", trace_cov_b), ("mean_gap_sq", mean_gap_sq)):
        if not np.isfinite(value) or value < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    n_a, n_b = check_int("n_a", n_a, low=1), check_int("n_b", n_b, low=1)
    return float(mean_gap_sq + trace_cov_a / n_a + trace_cov_b / n_b)


def frechet_by_size(features, reference, sizes, repeats: int = 5, seed: int = 0,
                    subsample_reference: bool = False) -> dict:
    r"""The Fréchet distance between n of ``features`` and ``reference``, for each n in ``sizes``.

    .. math:: \mathrm{FD}_n = \frac1R \sum_{r=1}^{R} d^2\bigl(S_r^{(n)}, \text{reference}\bigr)

    with S_r^(n) a random subset of n rows, drawn without replacement, R = ``repeats``
    times per size (Chong and Forsyth 2020, section 3, compute FID_N this way). With
    ``subsample_reference`` the reference is cut to n random rows too, so both sides have n.

    Args:
        features: (N, d) features to subsample.
        reference: (M, d) features of the reference set.
        sizes: sample sizes, each 2 <= n <= N (and <= M with ``subsample_reference``).
        repeats: subsets per size, >= 1.
        seed: seeds the subsets, >= 0.
        subsample_reference: also draw n rows of the reference for each subset.
    Returns a dict: sizes (k,) int array, mean (k,) and std (k,) over the repeats (std 0 for one).
    """
    x, ref = _as_rows("features", features), _as_rows("reference", reference)
    _same_dim("features", x, "reference", ref)
    repeats, seed = check_int("repeats", repeats, low=1), check_int("seed", seed, low=0)
    top = min(len(x), len(ref)) if subsample_reference else len(x)
    try:
        ns = np.asarray(sizes).reshape(-1)
        ok = ns.size > 0 and np.issubdtype(ns.dtype, np.integer)
    except (TypeError, ValueError):
        ok = False
    if not ok or ns.min() < 2 or ns.max() > top:
        raise ValueError(f"sizes must be one or more whole numbers from 2 to {top:,} (the rows available), "
                         f"got {sizes!r}")
    rng = np.random.default_rng(seed)
    mean, std = [], []
    for n in ns:
        values = []
        for _ in range(repeats):
            sub = x[rng.choice(len(x), int(n), replace=False)]
            against = ref[rng.choice(len(ref), int(n), replace=False)] if subsample_reference else ref
            values.append(frechet_distance_from_features(sub, against))
        mean.append(np.mean(values))
        std.append(np.std(values))
    return {"sizes": ns.astype(np.int64), "mean": np.array(mean), "std": np.array(std)}


def _line_inputs(sizes, values) -> tuple[np.ndarray, np.ndarray]:
    n, v = np.asarray(sizes, dtype=np.float64).reshape(-1), np.asarray(values, dtype=np.float64).reshape(-1)
    if n.shape != v.shape or len(np.unique(n)) < 2 or np.any(n < 1) or not np.all(np.isfinite(v)):
        raise ValueError("sizes and values must be equally long, with two or more distinct sizes >= 1 and a "
                         f"finite value for each, got sizes {sizes!r} and values {values!r}")
    return n, v


def extrapolate_frechet(sizes, values) -> tuple[float, float]:
    r"""Fit FD_n = a + b / n by least squares; a is the distance with infinitely many samples.

    .. math:: (\hat a, \hat b) = \arg\min_{a, b} \sum_i \Bigl(\mathrm{FD}_{n_i} - a - \frac{b}{n_i}\Bigr)^2

    Chong and Forsyth 2020, section 3.2 (their FID-infinity): the bias of the distance is
    close to linear in 1/n, so the line's value at 1/n = 0 estimates the unbiased distance,
    and its slope b is the bias at n = 1, which differs between models.

    Args:
        sizes: two or more distinct sample sizes, each >= 1.
        values: the distance measured at each size (``frechet_by_size``'s mean).
    Returns (a, b).
    """
    n, v = _line_inputs(sizes, values)
    design = np.stack([np.ones_like(n), 1.0 / n], axis=1)
    (a, b), *_ = np.linalg.lstsq(design, v, rcond=None)
    return float(a), float(b)


def intercept_standard_error(sizes, values) -> float:
    r"""The standard error of the fitted a in FD_n = a + b / n, from the scatter of the points about the line.

    .. math:: \mathrm{se}(\hat a) = \sqrt{rac{\mathrm{RSS}}{m - 2}\,igl[(X^	op X)^{-1}igr]_{11}},
              \qquad X = igl[\,1 \;\; 1/n_i\,igr], \quad
              \mathrm{RSS} = \sum_i \Bigl(\mathrm{FD}_{n_i} - \hat a - rac{\hat b}{n_i}\Bigr)^2

    The textbook standard error of a least-squares intercept, treating the m points as
    independent with equal scatter (they are averages over random subsets, so roughly so).

    Args:
        sizes, values: as for ``extrapolate_frechet``, with three or more distinct sizes.
    """
    n, v = _line_inputs(sizes, values)
    if len(np.unique(n)) < 3:
        raise ValueError(f"sizes must hold three or more distinct sizes to estimate the scatter, got {sizes!r}")
    design = np.stack([np.ones_like(n), 1.0 / n], axis=1)
    coef, *_ = np.linalg.lstsq(design, v, rcond=None)
    rss = float(np.sum((v - design @ coef) ** 2))
    return float(np.sqrt(rss / (len(n) - 2) * np.linalg.inv(design.T @ design)[0, 0]))
