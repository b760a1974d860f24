r"""Measures of image generators (the toy-data measure, mode coverage, is in ``coverage``).

Measures that need no download (they take arrays: the probabilities
and penultimate features of our own MNIST classifier, or pixels in [0, 1]):

- classifier score: the Inception score (Salimans et al. 2016) with our classifier;
  high when each image is classified confidently and the classes are varied.
- Frechet distance: the FID formula (Heusel et al. 2017) between Gaussians fitted to
  real and generated features; 0 when the two fits agree.
- Parzen-window log-likelihood: the protocol of Goodfellow et al. 2014 (Table 1).
- nearest neighbours: is the generator copying its training set?
- precision and recall (Kynkäänniemi et al. 2019): quality and variety, separately.
- mean pairwise distance: how varied a set is (lesson 10 compares it within one class).

All distances are computed in blocks of ``batch_size`` x ``batch_size``, so memory does
not grow with the number of images.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from scipy.linalg import LinAlgWarning, sqrtm
from scipy.special import rel_entr

from .utils import check_float, check_int

__all__ = [
    "PUBLISHED_PARZEN_MNIST",
    "ClassifierScore",
    "ParzenResult",
    "PrecisionRecall",
    "classifier_score",
    "frechet_distance",
    "frechet_distance_from_features",
    "gaussian_fit",
    "mean_pairwise_distance",
    "nearest_neighbours",
    "parzen_evaluate",
    "parzen_log_likelihood",
    "precision_recall",
    "select_parzen_sigma",
]

# ---------------------------------------------------------------------------------------
# Measures of image generators, on arrays: classifier outputs, features or pixels.


def _as_float64(name: str, x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().double().numpy()
    try:
        return np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of numbers, got {type(x).__name__}") from None


def _as_rows(name: str, x, flatten: bool = True) -> np.ndarray:
    """``x`` as a finite float64 (n, d) array with n, d >= 1; images (n, ...) are flattened."""
    x = _as_float64(name, x)
    if x.ndim < 2 or (x.ndim > 2 and not flatten) or x.size == 0:
        accepted = "(n, d) or images (n, ...)" if flatten else "(n, d)"
        raise ValueError(f"{name} must have shape {accepted} with n, d >= 1, got {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    return x.reshape(len(x), -1)


def _same_dim(name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> None:
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"{name_a} and {name_b} must have the same number of columns (dimensions), "
                         f"got {a.shape[1]} and {b.shape[1]}")


def _sq_dist_blocks(a: np.ndarray, b: np.ndarray, batch_size: int):
    r"""Yield (rows, cols, block) with block[i, j] = :math:`\lVert a_i - b_j \rVert^2`, one
    batch_size x batch_size block at a time, so memory does not grow with len(a) or len(b).

    Expanded as :math:`\lVert a\rVert^2 + \lVert b\rVert^2 - 2\, a \cdot b` (one matrix product)
    and clamped at 0, where rounding can make it slightly negative.
    """
    a2, b2 = np.einsum("ij,ij->i", a, a), np.einsum("ij,ij->i", b, b)
    for i in range(0, len(a), batch_size):
        rows = slice(i, i + batch_size)
        for j in range(0, len(b), batch_size):
            cols = slice(j, j + batch_size)
            block = a[rows] @ b[cols].T  # (<= batch_size, <= batch_size): the only large array
            block *= -2.0
            block += a2[rows, None]
            block += b2[None, cols]
            yield rows, cols, np.maximum(block, 0.0, out=block)


class ClassifierScore(NamedTuple):
    """The result of ``classifier_score``: ``mean, std = classifier_score(probs, n_splits=10)``."""

    mean: float
    std: float

    def __str__(self) -> str:
        return f"{self.mean:.2f} ± {self.std:.2f}"


def classifier_score(probs, n_splits: int = 1) -> ClassifierScore:
    r"""The Inception score, computed with our classifier's probabilities p(y|x).

    .. math:: \mathrm{IS} = \exp\bigl(\mathbb E_x\, \mathrm{KL}(p(y|x) \,\|\, p(y))\bigr),
              \qquad p(y) = \mathbb E_x\, p(y|x)

    Salimans et al. 2016, section 4, with our MNIST classifier in place of Inception. It lies
    between 1 (every image gets the same prediction) and the number of classes (confident
    predictions spread evenly over the classes). 0 log 0 counts as 0.

    Args:
        probs: (n, n_classes) probabilities (numpy or torch); rows non-negative, summing to 1.
        n_splits: score this many near-equal consecutive parts of the rows, as the original
            protocol does (10 splits of 5,000 images); 1 <= n_splits <= n.
    Returns a named tuple ``ClassifierScore(mean, std)``: the mean and standard deviation
    (ddof 0, as in the original code) of the per-split scores; std is 0.0 for one split.
    """
    p = _as_rows("probs", probs, flatten=False)
    n_splits = check_int("n_splits", n_splits, low=1, high=len(p))
    if np.any(p < 0) or not np.allclose(p.sum(axis=1), 1.0, rtol=0.0, atol=1e-4):
        raise ValueError("probs must be probabilities: each row non-negative and summing to 1 "
                         "(softmax outputs, not logits)")
    scores = []
    for part in np.array_split(p, n_splits):
        kl = rel_entr(part, part.mean(axis=0)).sum(axis=1)  # rel_entr(p, q) = p log(p/q), 0 at p = 0
        scores.append(np.exp(kl.mean()))
    return ClassifierScore(float(np.mean(scores)), float(np.std(scores)))


def _check_gaussian(which: str, mu, cov) -> tuple[np.ndarray, np.ndarray]:
    mu, cov = _as_float64(f"mu{which}", mu), _as_float64(f"cov{which}", cov)
    if mu.ndim != 1 or mu.size == 0:
        raise ValueError(f"mu{which} must be a mean vector of shape (d,), got {mu.shape}")
    d = len(mu)
    if cov.shape != (d, d):
        raise ValueError(f"cov{which} must have shape ({d}, {d}) to match mu{which}, got {cov.shape}")
    for name, value in ((f"mu{which}", mu), (f"cov{which}", cov)):
        if not np.all(np.isfinite(value)):
            raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    scale = np.abs(cov).max()
    if np.abs(cov - cov.T).max() > 1e-6 * scale:
        raise ValueError(f"cov{which} must be symmetric (a covariance matrix)")
    if np.linalg.eigvalsh(cov)[0] < -1e-6 * scale:
        raise ValueError(f"cov{which} must be positive semi-definite (a covariance matrix)")
    return mu, cov


def _sqrtm(a: np.ndarray) -> np.ndarray:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", LinAlgWarning)  # singular input: the caller checks the result
        return sqrtm(a)


def frechet_distance(mu1, cov1, mu2, cov2, eps: float = 1e-6) -> float:
    r"""The Frechet distance between the Gaussians N(mu1, cov1) and N(mu2, cov2).

    .. math:: d^2 = \lVert \mu_1 - \mu_2 \rVert^2
              + \operatorname{Tr}\bigl(C_1 + C_2 - 2 (C_1 C_2)^{1/2}\bigr)

    Dowson and Landau 1982; used as the FID by Heusel et al. 2017, section 3, on Inception
    features: here on our classifier's features, so the numbers are not comparable with FIDs.

    Args:
        mu1, mu2: (d,) means (numpy or torch).
        cov1, cov2: (d, d) symmetric positive semi-definite covariances.
        eps: if the square root of C1 C2 fails (a near-singular product), eps is added to both
            diagonals and the whole formula is evaluated again on those; > 0.
    Returns d^2 as a float >= 0 (rounding below 0 is clamped).
    """
    mu1, cov1 = _check_gaussian("1", mu1, cov1)
    mu2, cov2 = _check_gaussian("2", mu2, cov2)
    if len(mu1) != len(mu2):
        raise ValueError(f"mu1 and mu2 must have the same dimension, got {len(mu1)} and {len(mu2)}")
    eps = check_float("eps", eps, low=0.0, low_open=True)
    product = cov1 @ cov2
    root = _sqrtm(product)
    if not (np.all(np.isfinite(root))
            and np.linalg.norm(root @ root - product) <= 1e-6 * np.linalg.norm(product)):
        # Departs from the bare formula: the offset goes into the traces too, so d(P, P) stays 0.
        cov1, cov2 = cov1 + eps * np.eye(len(mu1)), cov2 + eps * np.eye(len(mu1))
        root = _sqrtm(cov1 @ cov2)
        if not np.all(np.isfinite(root)):
            raise ValueError(f"could not take the square root of cov1 @ cov2, even with eps = {eps} "
                             "added to the diagonals; try a larger eps")
    if np.iscomplexobj(root):  # a real root exists; rounding leaves a tiny imaginary part
        imag = np.abs(root.imag).max()
        if imag > 1e-3 * np.abs(root).max():
            raise ValueError(f"the square root of cov1 @ cov2 has a large imaginary part ({imag:.3g}); "
                             "are cov1 and cov2 covariance matrices?")
        root = root.real
    diff = mu1 - mu2
    return max(float(diff @ diff + np.trace(cov1) + np.trace(cov2) - 2.0 * np.trace(root)), 0.0)


def _fit(name: str, features) -> tuple[np.ndarray, np.ndarray]:
    x = _as_rows(name, features)
    if len(x) < 2:
        raise ValueError(f"{name} must hold at least 2 rows to estimate a covariance, got {len(x)}")
    return x.mean(axis=0), np.atleast_2d(np.cov(x, rowvar=False))


def gaussian_fit(features) -> tuple[np.ndarray, np.ndarray]:
    r"""The mean and covariance of a set of feature vectors: the Gaussian the FID fits.

    .. math:: \mu = \frac1n \sum_i f_i, \qquad C = \frac1{n-1} \sum_i (f_i - \mu)(f_i - \mu)^\top

    Heusel et al. 2017, section 3 (the unbiased covariance, as in their code).

    Args:
        features: (n, d) features (numpy or torch), n >= 2; images (n, ...) are flattened.
    Returns (mu, cov): float64 arrays of shapes (d,) and (d, d).
    """
    return _fit("features", features)


def frechet_distance_from_features(features_a, features_b, eps: float = 1e-6) -> float:
    """``frechet_distance`` between the Gaussians fitted (``gaussian_fit``) to two sets of features.

    Args:
        features_a, features_b: (n_a, d) and (n_b, d) features, e.g. of real and generated
            images from ``classifier.classify``; n_a, n_b >= 2.
        eps: see ``frechet_distance``.
    """
    mu_a, cov_a = _fit("features_a", features_a)
    mu_b, cov_b = _fit("features_b", features_b)
    if len(mu_a) != len(mu_b):
        raise ValueError(f"features_a and features_b must have the same number of columns, "
                         f"got {len(mu_a)} and {len(mu_b)}")
    return frechet_distance(mu_a, cov_a, mu_b, cov_b, eps=eps)


# Goodfellow et al. 2014, Table 1, MNIST column: Parzen-window log-likelihood of the test
# set in nats, as (mean, standard error of the mean).
PUBLISHED_PARZEN_MNIST = {"DBN": (138, 2), "Stacked CAE": (121, 1.6), "Deep GSN": (214, 1.1),
                          "Adversarial nets": (225, 2)}


def _check_sigmas(sigmas) -> np.ndarray:
    s = np.logspace(-1, 0, 10) if sigmas is None else _as_float64("sigmas", sigmas).reshape(-1)
    if s.size == 0 or not np.all(np.isfinite(s)) or np.any(s <= 0):
        raise ValueError(f"sigmas must be one or more finite kernel widths > 0, got {sigmas!r}")
    return s


def _parzen_table(x: np.ndarray, samples: np.ndarray, sigmas: np.ndarray, batch_size: int) -> np.ndarray:
    """(n, len(sigmas)) Parzen log-likelihoods: one pass over the distance blocks serves every sigma."""
    top = np.full((len(x), len(sigmas)), -np.inf)  # running log-sum-exp: the largest exponent so far
    total = np.zeros((len(x), len(sigmas)))        # and the sum of exp(exponent - top)
    for rows, _, sq in _sq_dist_blocks(x, samples, batch_size):
        for t, sigma in enumerate(sigmas):
            e = sq * (-0.5 / sigma**2)  # -||x - s_i||^2 / (2 sigma^2)
            new_top = np.maximum(top[rows, t], e.max(axis=1))
            e -= new_top[:, None]
            total[rows, t] = total[rows, t] * np.exp(top[rows, t] - new_top) + np.exp(e, out=e).sum(axis=1)
            top[rows, t] = new_top
    d = x.shape[1]
    return top + np.log(total) - np.log(len(samples)) - 0.5 * d * np.log(2 * np.pi * sigmas**2)


def _parzen_inputs(samples, named: dict, batch_size: int):
    s = _as_rows("samples", samples)
    xs = [_as_rows(name, x) for name, x in named.items()]
    for name, x in zip(named, xs):
        _same_dim(name, x, "samples", s)
    return s, xs, check_int("batch_size", batch_size, low=1)


def parzen_log_likelihood(x, samples, sigma: float, batch_size: int = 1024) -> np.ndarray:
    r"""Log-likelihood of each row of x under a Gaussian Parzen window on the generator's samples.

    .. math:: \log p(x) = \log \sum_{i=1}^k \exp\Bigl(-\frac{\lVert x - s_i \rVert^2}{2\sigma^2}\Bigr)
              - \log k - \frac d2 \log(2 \pi \sigma^2)

    Goodfellow et al. 2014, section 5 and Table 1, following Breuleux et al. 2011. For their
    numbers: pixels in [0, 1] (not the [-1, 1] of a tanh generator), flattened, d = 784.

    Args:
        x: (n, d) points (numpy or torch), or images (n, ...) flattened to d pixels.
        samples: (k, d) generator samples (or images), the kernels' centres.
        sigma: the kernels' standard deviation, > 0.
        batch_size: rows of x and of samples per block; extra memory is a few
            batch_size x batch_size float64 arrays (8 MB each at 1,024), whatever n and k.
    Returns a float64 array (n,) of log-likelihoods in nats.
    """
    s, (x,), batch_size = _parzen_inputs(samples, {"x": x}, batch_size)
    sigma = check_float("sigma", sigma, low=0.0, low_open=True)
    return _parzen_table(x, s, np.array([sigma]), batch_size)[:, 0]


def select_parzen_sigma(samples, x_valid, sigmas=None, batch_size: int = 1024) -> tuple[float, dict]:
    r"""The sigma with the highest mean validation log-likelihood, as in Goodfellow et al. 2014.

    .. math:: \hat\sigma = \arg\max_\sigma \frac1m \sum_{j=1}^m \log p_\sigma(x^{valid}_j)

    with p_sigma the Parzen window of ``parzen_log_likelihood`` (Goodfellow et al. 2014, section 5).

    Args:
        samples: (k, d) generator samples (or images).
        x_valid: (m, d) validation points (or images), not the test set.
        sigmas: the widths to try, each > 0; None means np.logspace(-1, 0, 10), 0.1 to 1.
        batch_size: see ``parzen_log_likelihood``.
    Returns (best_sigma, table): table maps each sigma to its mean validation log-likelihood.
    """
    s, (x,), batch_size = _parzen_inputs(samples, {"x_valid": x_valid}, batch_size)
    sigmas = _check_sigmas(sigmas)
    means = _parzen_table(x, s, sigmas, batch_size).mean(axis=0)
    return float(sigmas[np.argmax(means)]), {float(a): float(b) for a, b in zip(sigmas, means)}


@dataclass(frozen=True)
class ParzenResult:
    """The result of ``parzen_evaluate``.

    Attributes:
        mean: mean test log-likelihood in nats (the number in Goodfellow et al.'s Table 1).
        std_error: its standard error, std / sqrt(n_test) (sample std, ddof 1).
        sigma: the kernel width chosen on the validation set.
        table: each sigma tried -> its mean validation log-likelihood.
        log_likelihoods: (n_test,) per test point.
        n_valid, n_test, n_samples: the sizes of the three sets.
    """

    mean: float
    std_error: float
    sigma: float
    table: dict
    log_likelihoods: np.ndarray
    n_valid: int
    n_test: int
    n_samples: int

    def __str__(self) -> str:
        return (f"{self.mean:.1f} ± {self.std_error:.1f} nats (sigma = {self.sigma:.2f} on "
                f"{self.n_valid:,} validation images, {self.n_samples:,} samples)")


def parzen_evaluate(samples, x_valid, x_test, sigmas=None, batch_size: int = 1024) -> ParzenResult:
    r"""Goodfellow et al.'s protocol: choose sigma on validation data, report the test mean ± s.e.

    .. math:: \overline{\log p} = \frac1n \sum_{j=1}^n \log p_{\hat\sigma}(x^{test}_j), \qquad
              \mathrm{s.e.} = \frac{\mathrm{std}_j \log p_{\hat\sigma}(x^{test}_j)}{\sqrt n}

    Goodfellow et al. 2014, section 5 and Table 1 (standard error across test examples).

    Args:
        samples: (k, d) generator samples (or images), pixels in [0, 1]; the paper uses 10,000.
        x_valid: (m, d) validation points for choosing sigma.
        x_test: (n, d) test points, n >= 2.
        sigmas, batch_size: see ``select_parzen_sigma``.
    """
    s, (xv, xt), batch_size = _parzen_inputs(samples, {"x_valid": x_valid, "x_test": x_test}, batch_size)
    if len(xt) < 2:
        raise ValueError(f"x_test must hold at least 2 rows for a standard error, got {len(xt)}")
    sigma, table = select_parzen_sigma(s, xv, sigmas, batch_size)
    ll = _parzen_table(xt, s, np.array([sigma]), batch_size)[:, 0]
    return ParzenResult(mean=float(ll.mean()), std_error=float(ll.std(ddof=1) / np.sqrt(len(ll))),
                        sigma=sigma, table=table, log_likelihoods=ll,
                        n_valid=len(xv), n_test=len(xt), n_samples=len(s))


def _knn_sq(queries: np.ndarray, references: np.ndarray, k: int, batch_size: int):
    """Indices and squared distances of each query's k nearest references, nearest first."""
    best_sq = np.full((len(queries), k), np.inf)
    best_i = np.zeros((len(queries), k), dtype=np.int64)
    for rows, cols, sq in _sq_dist_blocks(queries, references, batch_size):
        kk = min(k, sq.shape[1])
        part = np.argpartition(sq, kk - 1, axis=1)[:, :kk]  # this block's kk nearest, unordered
        cand_sq = np.concatenate([best_sq[rows], np.take_along_axis(sq, part, axis=1)], axis=1)
        cand_i = np.concatenate([best_i[rows], part + cols.start], axis=1)
        keep = np.argpartition(cand_sq, k - 1, axis=1)[:, :k]
        best_sq[rows] = np.take_along_axis(cand_sq, keep, axis=1)
        best_i[rows] = np.take_along_axis(cand_i, keep, axis=1)
    order = np.argsort(best_sq, axis=1, kind="stable")
    return np.take_along_axis(best_i, order, axis=1), np.take_along_axis(best_sq, order, axis=1)


def nearest_neighbours(queries, references, k: int = 1,
                       batch_size: int = 1024) -> tuple[np.ndarray, np.ndarray]:
    r"""The k nearest references of each query by Euclidean distance (is G copying its data?).

    .. math:: \mathrm{NN}_k(q) = \text{the } k \text{ indices } j \text{ with the smallest }
              \lVert q - r_j \rVert_2

    Goodfellow et al. 2014, Figure 2, show each sample's nearest training image this way, to
    show that the model has not memorised the training set.

    Args:
        queries: (n, d) points (numpy or torch), e.g. generated images or their features;
            images (n, ...) are flattened.
        references: (m, d) points to search, e.g. the training set.
        k: neighbours per query, 1 <= k <= m.
        batch_size: rows of queries and of references per block (see ``parzen_log_likelihood``).
    Returns (indices, distances): int64 and float64 arrays (n, k), nearest first; equal
    distances come in no particular order.
    """
    q, r = _as_rows("queries", queries), _as_rows("references", references)
    _same_dim("queries", q, "references", r)
    k = check_int("k", k, low=1, high=len(r))
    indices, sq = _knn_sq(q, r, k, check_int("batch_size", batch_size, low=1))
    return indices, np.sqrt(sq)


def _inside_any_ball(points: np.ndarray, centres: np.ndarray, radii_sq: np.ndarray,
                     batch_size: int) -> np.ndarray:
    inside = np.zeros(len(points), dtype=bool)
    for rows, cols, sq in _sq_dist_blocks(points, centres, batch_size):
        inside[rows] |= (sq <= radii_sq[cols]).any(axis=1)
    return inside


class PrecisionRecall(NamedTuple):
    """The result of ``precision_recall``: ``precision, recall = precision_recall(real, fake)``."""

    precision: float
    recall: float

    def __str__(self) -> str:
        return f"precision {self.precision:.3f}, recall {self.recall:.3f}"


def precision_recall(real_features, fake_features, k: int = 3, batch_size: int = 1024) -> PrecisionRecall:
    r"""Improved precision (quality) and recall (variety) of generated features.

    Each point's ball has radius its distance to its k-th nearest neighbour in its own set;

    .. math:: f(\phi, \Phi) = 1 \text{ if } \lVert \phi - \phi' \rVert \le
              \lVert \phi' - \mathrm{NN}_k(\phi', \Phi) \rVert \text{ for some } \phi' \in \Phi,
              \text{ else } 0,

    .. math:: \text{precision} = \frac1{|\Phi_g|} \sum_{\phi_g} f(\phi_g, \Phi_r), \qquad
              \text{recall} = \frac1{|\Phi_r|} \sum_{\phi_r} f(\phi_r, \Phi_g)

    Kynkäänniemi et al. 2019, section 2 (they use k = 3).

    Args:
        real_features: (n_r, d) features of real images (numpy or torch).
        fake_features: (n_g, d) features of generated images.
        k: the neighbour that sets each radius, 1 <= k < min(n_r, n_g).
        batch_size: rows per distance block (see ``parzen_log_likelihood``).
    Returns a named tuple ``PrecisionRecall(precision, recall)`` of fractions in [0, 1].
    """
    real, fake = _as_rows("real_features", real_features), _as_rows("fake_features", fake_features)
    _same_dim("real_features", real, "fake_features", fake)
    k = check_int("k", k, low=1)
    if k >= min(len(real), len(fake)):
        raise ValueError(f"k must be smaller than the number of real ({len(real)}) and fake "
                         f"({len(fake)}) features, got {k}")
    batch_size = check_int("batch_size", batch_size, low=1)
    # The k + 1 nearest include the point itself, at distance 0.
    radius_real = _knn_sq(real, real, k + 1, batch_size)[1][:, k]
    radius_fake = _knn_sq(fake, fake, k + 1, batch_size)[1][:, k]
    return PrecisionRecall(precision=float(_inside_any_ball(fake, real, radius_real, batch_size).mean()),
                           recall=float(_inside_any_ball(real, fake, radius_fake, batch_size).mean()))


def mean_pairwise_distance(x) -> float:
    r"""The mean Euclidean distance between two different members of a set: its spread.

    .. math:: \bar d = \frac{2}{n(n - 1)} \sum_{i < j} \lVert x_i - x_j \rVert_2

    On the classifier's features of the samples of one class, a generator that draws one
    prototype again and again scores near 0, and real images of that class set the scale.

    Args:
        x: (n, d) points, n >= 2 (images (n, ...) are flattened).
    """
    from scipy.spatial.distance import pdist

    x = _as_rows("x", x)
    if len(x) < 2:
        raise ValueError(f"x must hold at least 2 points to have a pairwise distance, got {len(x)}")
    return float(pdist(x).mean())  # the n(n - 1)/2 distances of the pairs i < j
