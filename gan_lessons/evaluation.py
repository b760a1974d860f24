"""Lesson 11's measurements of a generator, in one place for the lesson and ``benchmarks/``.

``generate_unit`` draws samples from any lesson model (conditional ones get every digit
equally often) with pixels in [0, 1]; ``evaluate_samples`` measures them every way
``metrics`` knows against the real images of ``data.load_splits``; ``real_references``
gives the same measures for real images, the ceiling and floor each model is read
against.

Every set is compared at the same size, ``comparison_size(splits)`` images (the number of
held-out validation images, real digits no model or classifier trained on), against the
same reference, all the test images: the Fréchet distance and precision and recall depend
on the number of images (``finite_sample``), so sets of different sizes do not compare.
The Parzen window alone uses more samples, 10,000, as its protocol does.
"""
from __future__ import annotations

import numpy as np
import torch

from . import metrics
from .checks import as_array, check_splits, describe
from .classifier import classify
from .data import to_float
from .mnist_gan import RECIPES, recipe_checkpoint_path, run_recipe, sample_images
from .utils import check_choice, check_int, check_pixel_range

__all__ = ["comparison_size", "evaluate_samples", "generate_unit", "lesson_samples", "real_references"]

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


def lesson_samples(name: str, splits, n: int, classifier=None, seed: int = 0):
    """``n`` samples of lesson model ``name`` in [0, 1]: from its lesson's checkpoint, else trained briefly here.

    When the checkpoint its lesson saves (the recipe's full budget, this data source) is
    missing, the model is trained, or loaded if trained before, at a quarter of that budget.

    Args:
        name: a key of ``mnist_gan.RECIPES``.
        splits: ``data.load_splits()``.
        n: samples to draw, >= 1 (conditional models get each digit equally often).
        classifier: the course's classifier, for the digit histograms of a training run.
        seed: seeds the noise, >= 0.
    Returns (samples, from_lesson, iterations): (n, 1, 28, 28) floats; whether the lesson's own
    checkpoint was loaded; the iterations the model trained for.
    """
    check_choice("name", name, tuple(RECIPES))
    recipe = RECIPES[name]
    have = recipe_checkpoint_path(name, splits.source, recipe.num_iterations).exists()
    iterations = recipe.num_iterations if have else max(1, recipe.num_iterations // 4)
    G, _, _, loaded = run_recipe(name, splits, iterations, classifier=classifier, progress=False, note=False)
    x = generate_unit(G, n, conditional=recipe.conditional, pixel_range=recipe.pixel_range, seed=seed)
    return x, bool(have and loaded), iterations


def _digit_share(probs: np.ndarray) -> np.ndarray:
    return np.bincount(probs.argmax(1), minlength=10) / len(probs)


def comparison_size(splits) -> int:
    """How many images of each set the measures compare: as many as ``splits`` has validation images.

    The validation images are the real-against-real floor (real digits that neither the
    generators nor the classifier trained on), so no set can be compared at a larger size.
    """
    check_splits(splits, ("valid_images",))
    return len(splits.valid_images)


def _size(splits, n) -> int:
    if n is not None:
        return check_int("n", n, low=11)  # 10 splits of the score, and k = 3 neighbours, need more than 10
    n = comparison_size(splits)
    if n < 11:
        raise ValueError(f"splits must hold at least 11 validation images, the size every set is compared at, "
                         f"got {n}; or pass n")
    return n


def _as_images(samples) -> torch.Tensor:
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
    if x.min() < 0 or x.max() > 1:
        raise ValueError("samples must have pixels in [0, 1]; map a tanh generator's output with (x + 1) / 2")
    return x


def evaluate_samples(samples, classifier, splits, n: int | None = None, test_features: np.ndarray | None = None,
                     parzen: bool = True, batch_size: int = 1024) -> dict:
    """Every measure of lesson 11 for the first ``n`` of ``samples`` (pixels in [0, 1]) against the test images.

    The classifier score, digit shares, Fréchet distance and precision and recall use the
    first n samples, n = ``comparison_size(splits)`` by default, so every set is compared at
    one size against one reference (all of ``splits``' test images). The Parzen window uses
    every sample given (its protocol uses 10,000), sigma chosen on the validation images.

    Returns a dict: n (the samples compared), classifier_score (mean, std over 10 splits),
    frechet (to the test features), precision, recall (k = 3), digit_share (10,),
    digits_covered (shares of 3 % or more), parzen (a ``metrics.ParzenResult`` or None).

    Args:
        samples: (N, 1, 28, 28), (N, 28, 28) or (N, 784) floats in [0, 1], N >= n.
        classifier: the course's ``MnistClassifier``.
        splits: ``data.load_splits()``.
        n: the number of samples to compare, 11 or more (10 splits of the score, k = 3);
            None means ``comparison_size(splits)``.
        test_features: the classifier's features of the test images, if already computed.
        parzen: also compute the Parzen-window log-likelihood (the slowest measure).
    """
    x = _as_images(samples)
    check_splits(splits, ("test_images", "valid_images"))
    if test_features is not None:
        test_features = as_array("test_features", test_features, ndim=2)
    n = _size(splits, n)
    if len(x) < n:
        raise ValueError(f"samples must hold at least n = {n:,} images, so that every set is compared at the "
                         f"same size; got {len(x):,} (draw more, or pass a smaller n to every set)")
    probs, feats = classify(classifier, x[:n])
    if test_features is None:
        _, test_features = classify(classifier, splits.test_images)
    share = _digit_share(probs)
    pr = metrics.precision_recall(test_features, feats, k=3, batch_size=batch_size)
    out = {"n": n, "classifier_score": metrics.classifier_score(probs, n_splits=10),
           "frechet": metrics.frechet_distance_from_features(feats, test_features),
           "precision": pr.precision, "recall": pr.recall, "digit_share": share,
           "digits_covered": int((share >= 0.03).sum()), "parzen": None}
    if parzen:
        out["parzen"] = metrics.parzen_evaluate(x.numpy(), to_float(splits.valid_images).reshape(-1, 784).numpy(),
                                                to_float(splits.test_images).reshape(-1, 784).numpy(),
                                                batch_size=batch_size)
    return out


def real_references(classifier, splits, n: int | None = None, parzen: bool = True,
                    batch_size: int = 1024, seed: int = 0) -> dict[str, dict]:
    """The measures of real images at the same size n: the floor and the ceiling models are read against.

    - "real held-out images": the first n validation images, real digits that no generator
      and no classifier trained on. Their Fréchet distance to the test images is the floor
      at this size: the distance a perfect generator would score. No Parzen score (sigma is
      chosen on these very images).
    - "real training images": n training images drawn at random (``seed``), what a generator
      that reproduced its training data exactly would score: the floor for the course's
      models. Random, because MNIST's file is not in random order and a block of it is not a
      fair sample. The classifier trained on these very images, so their scores may flatter them.
      Parzen, when asked for, uses up to 10,000 of them, as the protocol does.

    Args:
        classifier, splits, n, batch_size: see ``evaluate_samples``.
        parzen: also score the training images with the Parzen window.
        seed: seeds the random choice of training images, >= 0.
    """
    check_splits(splits, ("train_images", "test_images", "valid_images"))
    n = _size(splits, n)
    if len(splits.train_images) < n:
        raise ValueError(f"splits must hold at least n = {n:,} training images, got {len(splits.train_images):,}")
    _, test_features = classify(classifier, splits.test_images)
    held_out = evaluate_samples(to_float(splits.valid_images), classifier, splits, n, test_features, False, batch_size)
    order = torch.randperm(len(splits.train_images), generator=torch.Generator().manual_seed(check_int("seed", seed, low=0)))
    train = to_float(splits.train_images[order[: max(n, min(PARZEN_SAMPLES, len(splits.train_images)))]])
    return {"real held-out images": held_out,
            "real training images": evaluate_samples(train, classifier, splits, n, test_features, parzen, batch_size)}
