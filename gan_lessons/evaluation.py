"""Lesson 11's measurements of a generator, in one place for the lesson and ``benchmarks/``.

``generate_unit`` draws samples from any lesson model (conditional ones get every digit
equally often) with pixels in [0, 1]; ``evaluate_samples`` measures them every way
``metrics`` knows against the real images of ``data.load_splits``; ``real_references``
gives the same measures for real images, the ceiling and floor each model is read
against.
"""
from __future__ import annotations

import numpy as np
import torch

from . import metrics
from .checks import as_array, check_splits, describe
from .classifier import classify
from .data import to_float
from .mnist_gan import sample_images
from .utils import check_int, check_pixel_range

__all__ = ["evaluate_samples", "generate_unit", "real_references"]

PARZEN_SAMPLES = 10_000  # Goodfellow et al. 2014 used 10,000 generator samples


def generate_unit(G, n: int, conditional: bool = False, pixel_range=(-1.0, 1.0), seed: int = 0) -> torch.Tensor:
    """``n`` samples of ``G`` as (n, 1, 28, 28) floats in [0, 1].

    A conditional G is asked for each digit equally often (labels 0, 1, ..., 9, 0, ...).
    """
    n = check_int("n", n, low=1)
    labels = torch.arange(n) % 10 if conditional else None
    x = sample_images(G, n, seed=seed, labels=labels).reshape(n, 1, 28, 28)
    lo, hi = check_pixel_range(pixel_range)
    return ((x - lo) / (hi - lo)).clamp_(0, 1)


def _digit_share(probs: np.ndarray) -> np.ndarray:
    return np.bincount(probs.argmax(1), minlength=10) / len(probs)


def evaluate_samples(samples, classifier, splits, test_features: np.ndarray | None = None,
                     parzen: bool = True, batch_size: int = 1024) -> dict:
    """Every measure of lesson 11 for ``samples`` (pixels in [0, 1]) against ``splits``' test images.

    Returns a dict: classifier_score (mean, std over 10 splits), frechet (to the test
    features), parzen (a ``metrics.ParzenResult``, sigma chosen on the validation images,
    or None), precision, recall, digit_share (10,), digits_covered (shares of 3 % or more),
    n (number of samples).

    Args:
        samples: (n, 1, 28, 28) or (n, 784) floats in [0, 1]; the Parzen protocol uses 10,000.
        classifier: the course's ``MnistClassifier``.
        splits: ``data.load_splits()``.
        test_features: the classifier's features of the test images, if already computed.
        parzen: also compute the Parzen-window log-likelihood (the slowest measure).
    """
    try:
        x = torch.as_tensor(samples).float()
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"samples must be a tensor or array of images, got {describe(samples)}") from None
    if x.ndim < 2 or len(x) == 0 or x[0].numel() != 784:
        raise ValueError(f"samples must be 28x28 images, (n, 1, 28, 28), (n, 28, 28) or (n, 784), got shape "
                         f"{tuple(x.shape)}")
    x = x.reshape(-1, 784)
    if not torch.isfinite(x).all():
        raise ValueError("samples must be finite (no NaN or inf); did training diverge?")
    check_splits(splits, ("test_images", "valid_images") if parzen else ("test_images",))
    if test_features is not None:
        test_features = as_array("test_features", test_features, ndim=2)
    if x.min() < 0 or x.max() > 1:
        raise ValueError("samples must have pixels in [0, 1]; map a tanh generator's output with (x + 1) / 2")
    probs, feats = classify(classifier, x)
    if test_features is None:
        _, test_features = classify(classifier, splits.test_images)
    share = _digit_share(probs)
    pr = metrics.precision_recall(test_features, feats[: len(test_features)], k=3, batch_size=batch_size)
    out = {"n": len(x), "classifier_score": metrics.classifier_score(probs, n_splits=min(10, len(x))),
           "frechet": metrics.frechet_distance_from_features(feats, test_features),
           "precision": pr.precision, "recall": pr.recall, "digit_share": share,
           "digits_covered": int((share >= 0.03).sum()), "parzen": None}
    if parzen:
        out["parzen"] = metrics.parzen_evaluate(x.numpy(), to_float(splits.valid_images).reshape(-1, 784).numpy(),
                                                to_float(splits.test_images).reshape(-1, 784).numpy(),
                                                batch_size=batch_size)
    return out


def real_references(classifier, splits, parzen: bool = True, batch_size: int = 1024) -> dict[str, dict]:
    """The measures of real images: the ceiling and floor that models are read against.

    "real training images" scores training images as if a model had drawn them (as many as
    the Parzen protocol's 10,000 samples, or all when there are fewer): its Frechet distance to
    the test set is the floor, and its Parzen score what real digits get. Its classifier score
    is inflated (the classifier trained on these images): the ceiling is the test images' score.
    """
    check_splits(splits, ("train_images", "test_images", "valid_images"))
    n = min(PARZEN_SAMPLES, len(splits.train_images))
    real = to_float(splits.train_images[:n])
    _, test_features = classify(classifier, splits.test_images)
    return {"real training images": evaluate_samples(real, classifier, splits, test_features, parzen, batch_size)}
