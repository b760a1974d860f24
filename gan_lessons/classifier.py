r"""A small MNIST classifier: the judge that lessons 08-11 use to say which digit a sample shows.

Inception-based scores need a network trained on ImageNet and a download; ours is a
two-layer CNN trained by the package on MNIST in a few minutes on a CPU. Its softmax
p(y | x) gives the classifier score and the digit histograms; its 128 penultimate
activations are the feature space of the Frechet distance, the nearest neighbours and
precision/recall (``metrics``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .checkpoints import load_checkpoint, save_checkpoint
from .checks import check_batch, check_module, check_splits, describe
from .utils import (Progress, budget, check_float, check_int, check_pixel_range, checkpoint_dir, make_generator, quick_mode,
                    short_path)

__all__ = ["ClassifierConfig", "MnistClassifier", "accuracy", "classify", "load_or_train_classifier",
           "train_classifier"]


@dataclass
class ClassifierConfig:
    """The CNN's widths: ``channels`` of its two convolutions and the size of its feature layer."""

    channels: tuple[int, int] = (32, 64)
    feature_dim: int = 128

    def __post_init__(self):
        if not isinstance(self.channels, (tuple, list)):
            raise ValueError(f"channels must be two widths, e.g. (32, 64), got {describe(self.channels)}")
        self.channels = tuple(check_int(f"channels[{i}]", c, low=1) for i, c in enumerate(self.channels))
        if len(self.channels) != 2:
            raise ValueError(f"channels must be two widths, got {self.channels}")
        check_int("feature_dim", self.feature_dim, low=1)


class MnistClassifier(nn.Module):
    """Two 3x3 convolutions with max-pooling, a 128-unit feature layer, ten logits.

    Takes images with pixels in [0, 1], shape (B, 1, 28, 28) or (B, 784).
    """

    def __init__(self, config: ClassifierConfig | None = None, **kwargs):
        super().__init__()
        if config is not None and not isinstance(config, ClassifierConfig):
            raise ValueError(f"config must be a ClassifierConfig, got {describe(config)}")
        self.config = config if config is not None else ClassifierConfig(**kwargs)
        c1, c2 = self.config.channels
        self.body = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c2, 7, 7)
            nn.Flatten(),                                                 # (B, c2 * 49)
            nn.Linear(c2 * 49, self.config.feature_dim), nn.ReLU(),       # (B, 128): the features
        )
        self.head = nn.Linear(self.config.feature_dim, 10)  # (B, 10) logits

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The penultimate activations, (B, feature_dim)."""
        check_batch("x", x, 784, self.head.weight, flatten=True)  # (B, 784) or (B, 1, 28, 28)
        return self.body(x.reshape(-1, 1, 28, 28))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def _as_unit_images(images, pixel_range) -> torch.Tensor:
    try:
        x = torch.as_tensor(images)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"images must be a tensor or array of 28x28 images, got {describe(images)}") from None
    if x.numel() == 0 or x.shape[-2:] != (28, 28) and not (x.ndim == 2 and x.shape[1] == 784):
        raise ValueError(f"images must be 28x28 MNIST images, (N, 28, 28), (N, 1, 28, 28) or (N, 784), "
                         f"got shape {tuple(x.shape)}")
    if x.ndim == 4 and x.shape[1] != 1:
        raise ValueError(f"images must be 28x28 with one (grey) channel, got shape {tuple(x.shape)}")
    if x.dtype == torch.uint8:
        return x.float().div(255.0).reshape(-1, 1, 28, 28)
    lo, hi = check_pixel_range(pixel_range)
    x = x.float().reshape(-1, 1, 28, 28)
    if not torch.isfinite(x).all():
        raise ValueError("images must be finite (no NaN or inf); did training diverge?")
    slack = 1e-3 * (hi - lo)
    if x.min() < lo - slack or x.max() > hi + slack:
        raise ValueError(f"images must have pixels in pixel_range ({lo:g}, {hi:g}), got values from "
                         f"{float(x.min()):.3g} to {float(x.max()):.3g}; pass pixel_range=(-1, 1) for a tanh "
                         "generator, and uint8 images (0-255) as they are")
    return (x - lo) / (hi - lo)


def _digit_labels(labels, n: int) -> torch.Tensor:
    """``labels`` as an int64 tensor of shape (n,), digits 0-9, else a ValueError."""
    try:
        y = torch.as_tensor(labels).cpu()
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"labels must be digits 0-9, one per image, got {describe(labels)}") from None
    if y.shape != (n,):
        raise ValueError(f"labels must have shape ({n},), got {tuple(y.shape)}")
    if y.is_floating_point() or y.is_complex() or y.dtype == torch.bool or (n and (y.min() < 0 or y.max() > 9)):
        raise ValueError("labels must be integer digits 0-9")
    return y.long()


@torch.no_grad()
def classify(model: MnistClassifier, images, batch_size: int = 1000,
             pixel_range: tuple[float, float] = (0.0, 1.0)) -> tuple[np.ndarray, np.ndarray]:
    """The classifier's p(y | x) and features for a set of images, in batches.

    Args:
        model: a trained ``MnistClassifier``.
        images: (N, 1, 28, 28) or (N, 784) floats, or uint8 (N, 28, 28) as ``data.load_mnist`` gives.
        batch_size: images per forward pass, >= 1.
        pixel_range: the range of float pixels: (0, 1) for sigmoid outputs, (-1, 1) for tanh.
    Returns (probs (N, 10), features (N, feature_dim)) as float64 numpy arrays.
    """
    batch_size = check_int("batch_size", batch_size, low=1)
    check_module("model", model, ("features", "head"))
    x = _as_unit_images(images, pixel_range)
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    probs, feats = [], []
    try:
        for chunk in x.split(batch_size):
            h = model.features(chunk.to(device))
            probs.append(torch.softmax(model.head(h), 1).double().cpu())
            feats.append(h.double().cpu())
    finally:
        model.train(was_training)
    return torch.cat(probs).numpy(), torch.cat(feats).numpy()


def accuracy(model: MnistClassifier, images, labels, batch_size: int = 1000) -> float:
    """The fraction of ``images`` whose most probable digit is their label."""
    probs, _ = classify(model, images, batch_size)
    labels = _digit_labels(labels, len(probs)).numpy()
    return float((probs.argmax(1) == labels).mean())


def train_classifier(model: MnistClassifier, images, labels, num_iterations: int, batch_size: int = 128,
                     lr: float = 1e-3, seed: int = 0, progress: bool = False) -> dict:
    """Train ``model`` with Adam on cross-entropy, minibatches drawn without replacement each epoch.

    Args:
        images: uint8 (N, 28, 28) or floats in [0, 1]; labels: (N,) digits.
        num_iterations: minibatch updates, >= 1.
    Returns a dict of iterations, epochs, seconds and the last 100 losses' mean.
    """
    from .data import BatchSampler

    num_iterations = check_int("num_iterations", num_iterations, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    lr = check_float("lr", lr, low=0.0, low_open=True)
    check_module("model", model)
    x = _as_unit_images(images, (0.0, 1.0))
    y = _digit_labels(labels, len(x))
    sampler = BatchSampler(x, y)
    rng = make_generator(seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for m in model.modules():
            if hasattr(m, "reset_parameters"):
                m.reset_parameters()
    device = next(model.parameters()).device
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    losses = []
    bar = Progress(num_iterations, "training the classifier") if progress else None
    start = time.perf_counter()
    for _ in range(num_iterations):
        xb, yb = sampler.sample_labelled(min(batch_size, len(x)), rng)
        loss = nn.functional.cross_entropy(model(xb.to(device)), yb.to(device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    model.eval()
    return {"iterations": num_iterations, "epochs": round(sampler.epoch, 2),
            "seconds": round(time.perf_counter() - start, 1), "final_loss": float(np.mean(losses[-100:]))}


# What load_or_train_classifier saves beside the weights, and what its callers read back.
CHECKPOINT_META = {"test_accuracy": float, "n_test": int, "source": str, "iterations": int, "epochs": float,
                   "seconds": float, "final_loss": float}


def load_or_train_classifier(splits, path: str | Path | None = None, retrain: bool = False,
                             num_iterations: int | None = None, progress: bool = True,
                             verbose: bool = True) -> tuple[MnistClassifier, dict]:
    """The course's MNIST classifier: loaded from its checkpoint if present, else trained and saved.

    Trains on ``splits``' training images and reports accuracy on its test images, which
    it never trains on. The checkpoint's name says which data and mode made it, so a
    quick-mode classifier is never mistaken for a full one.

    Args:
        splits: a ``data.MnistSplits`` (from ``data.load_splits()``).
        path: the checkpoint file (default: ``mnist_classifier_<source>[_quick].pt`` in ``checkpoint_dir()``).
        retrain: train again and replace the checkpoint.
        num_iterations: training budget (default 1,500 iterations, 150 in quick mode).
        progress: show a progress bar while training.
        verbose: print where the weights came from and the test accuracy.
    Returns the model (in eval mode) and its meta: accuracy, iterations, epochs, seconds, source.
    """
    check_splits(splits)
    if path is not None and not isinstance(path, (str, Path)):
        raise ValueError(f"path must be a file path (a str or pathlib.Path) or None, got {describe(path)}")
    suffix = "_quick" if quick_mode() else ""
    path = Path(path) if path is not None else checkpoint_dir() / f"mnist_classifier_{splits.source}{suffix}.pt"
    model = MnistClassifier()
    if path.exists() and not retrain:
        meta = load_checkpoint(path, {"classifier": model}, required_meta=CHECKPOINT_META)
        model.eval()
        if verbose:
            print(f"classifier loaded from {short_path(path)}: test accuracy {100 * meta['test_accuracy']:.2f} %")
        return model, meta
    num_iterations = budget(full=1500, quick=150) if num_iterations is None else num_iterations
    meta = train_classifier(model, splits.train_images, splits.train_labels, num_iterations, progress=progress)
    meta["test_accuracy"] = accuracy(model, splits.test_images, splits.test_labels)
    meta["n_test"] = len(splits.test_images)
    meta["source"] = splits.source
    save_checkpoint(path, {"classifier": model}, meta, overwrite=retrain)
    if verbose:
        print(f"classifier trained in {meta['seconds']:.0f} s ({meta['epochs']} epochs): test accuracy "
              f"{100 * meta['test_accuracy']:.2f} % on {meta['n_test']:,} images; saved as {short_path(path)}")
    return model, meta
