r"""Lesson 09: what a generator's latent space does, measured.

Radford, Metz and Chintala (2016, section 6) give two demonstrations on DCGAN. Walking
a straight line between two noise vectors should change the images smoothly; a sharp jump
would hint that G has memorised training images and switches between them. And
arithmetic on the *averaged* noise vectors of a few chosen samples (they average three
per concept, since single samples gave unstable results) should add or remove a visual
attribute. These functions turn both into numbers: the size of each step along a walk,
the result vector of the arithmetic, and two pixel statistics (stroke share, isolated
pixels) to judge it and to compare generators.
"""
from __future__ import annotations

import numpy as np
import torch

from .checks import as_array, describe
from .utils import check_float, check_int, check_pixel_range

__all__ = ["isolated_share", "jitter", "largest_step_share", "latent_arithmetic", "step_distances", "stroke_share",
           "stroke_pixels"]


def _flat(name: str, images) -> np.ndarray:
    # (T, D) float64 rows from (T, ...) images (tensors or arrays).
    x = as_array(name, images)  # tensors and arrays alike, as float64
    if x.ndim < 2:
        raise ValueError(f"{name} must be a batch of images of shape (T, ...), got shape {x.shape}")
    return x.reshape(len(x), -1)


def step_distances(images) -> np.ndarray:
    r"""The Euclidean distance between consecutive images along a path.

    .. math:: d_t = \lVert x_{t+1} - x_t \rVert_2, \qquad t = 0, \dots, T - 2

    Args:
        images: (T, ...) images in the order of the path, T ≥ 2.
    Returns a (T - 1,) array.
    """
    x = _flat("images", images)
    if len(x) < 2:
        raise ValueError(f"images must hold at least 2 images along the path, got {len(x)}")
    return np.linalg.norm(np.diff(x, axis=0), axis=1)


def largest_step_share(images) -> float:
    r"""The share of a path's total change made in its single largest step.

    .. math:: J = \frac{\max_t d_t}{\sum_t d_t}, \qquad \frac{1}{T - 1} \le J \le 1

    An evenly paced path of T images gives the lower bound 1/(T − 1). A generator that
    switched between memorised images would change little within each image's region of z
    and all at once at the boundaries: a few steps carry the change, so J is large.
    """
    d = step_distances(images)
    total = float(d.sum())
    if total == 0:
        raise ValueError("the images do not change along the path: the share of its change is undefined")
    return float(d.max() / total)


def latent_arithmetic(groups, signs) -> torch.Tensor:
    r"""Add and subtract the mean noise vectors of groups of samples.

    .. math:: y = \sum_k s_k \, \bar z_k, \qquad \bar z_k = \frac{1}{n_k} \sum_{i=1}^{n_k} z_{k,i},
              \quad s_k \in \{-1, +1\}

    Radford et al.'s "smiling woman − neutral woman + neutral man" is three groups with
    signs (+1, −1, +1).

    Args:
        groups: a list of (n_k, d) tensors of noise vectors, one per concept, same d.
        signs: one sign (+1 or −1) per group.
    Returns the (d,) result vector y.
    """
    if not isinstance(groups, (list, tuple)) or len(groups) == 0:
        raise ValueError(f"groups must be a non-empty list of (n, d) noise tensors, got {describe(groups)}")
    if not isinstance(signs, (list, tuple)) or len(signs) != len(groups):
        raise ValueError(f"signs must be a list with one sign per group ({len(groups)}), got {signs!r}")
    if any(s not in (1, -1) for s in signs):
        raise ValueError(f"every sign must be +1 or -1, got {list(signs)}")
    means = []
    for k, z in enumerate(groups):
        if not torch.is_tensor(z) or z.ndim != 2 or len(z) == 0:
            raise ValueError(f"groups[{k}] must be a non-empty (n, d) tensor of noise vectors, got {describe(z)}")
        if z.shape[1] != groups[0].shape[1]:
            raise ValueError(f"every group needs vectors of the same size: groups[0] has {groups[0].shape[1]}, "
                             f"groups[{k}] has {z.shape[1]}")
        means.append(z.mean(0))
    return sum(s * m for s, m in zip(signs, means))


def jitter(y: torch.Tensor, n: int, scale: float = 0.25, generator: torch.Generator | None = None) -> torch.Tensor:
    r"""``y`` and ``n - 1`` neighbours of it, each coordinate moved by uniform noise.

    .. math:: y^{(0)} = y, \qquad y^{(j)} = y + u^{(j)}, \quad u^{(j)}_i \sim U(-a, a)

    Radford et al. show each arithmetic result with 8 such neighbours at a = 0.25, to show
    that the result is a region of z, not one lucky point.

    Returns an (n, d) tensor whose first row is y.
    """
    if not torch.is_tensor(y) or y.ndim != 1:
        raise ValueError(f"y must be a 1-D noise vector, got {describe(y)}")
    n = check_int("n", n, low=1)
    scale = check_float("scale", scale, low=0.0)
    u = (2 * torch.rand(n - 1, len(y), generator=generator) - 1) * scale
    return torch.cat([y[None], y[None] + u.to(y.dtype)])


def stroke_pixels(images, pixel_range=(-1.0, 1.0)) -> np.ndarray:
    r"""Which pixels are pen strokes: brightness above half of the pixel range.

    .. math:: s_{ij} = \big[\, (x_{ij} - \text{lo}) / (\text{hi} - \text{lo}) > 1/2 \,\big]

    MNIST's digits are bright strokes on a dark background (the course's figures show them
    inverted, dark on white). Returns a (B, H, W) boolean array for (B, H, W), (B, 1, H, W)
    or (B, H·W) square images.
    """
    lo, hi = check_pixel_range(pixel_range)
    x = _flat("images", images)
    side = round(float(np.sqrt(x.shape[1])))
    if side * side != x.shape[1]:
        raise ValueError(f"images must be square, got {x.shape[1]} pixels per image")
    return ((x - lo) / (hi - lo) > 0.5).reshape(len(x), side, side)


def stroke_share(images, pixel_range=(-1.0, 1.0)) -> np.ndarray:
    r"""The share of each image's pixels that are strokes: a measure of stroke thickness.

    .. math:: \text{share} = \frac{1}{HW} \sum_{ij} s_{ij}

    The same digit drawn with a thicker pen covers more pixels. Returns a (B,) array.
    """
    s = stroke_pixels(images, pixel_range)
    return s.reshape(len(s), -1).mean(1)


def isolated_share(images, pixel_range=(-1.0, 1.0)) -> np.ndarray:
    r"""The share of each image's stroke pixels that have no stroke pixel among their 8 neighbours.

    .. math:: \text{isolated} = \frac{\#\{(i, j) : s_{ij} \wedge \neg \bigvee_{(k, l) \in N_8(i, j)} s_{kl}\}}
              {\max(1, \#\{(i, j) : s_{ij}\})}

    A pen draws connected strokes, so real digits have almost no isolated pixels; a
    generator that sets each pixel on its own (an MLP) can scatter specks. Returns a (B,) array.
    """
    s = stroke_pixels(images, pixel_range)
    padded = np.pad(s, ((0, 0), (1, 1), (1, 1)))
    h, w = s.shape[1:]
    neighbours = np.zeros_like(s)
    for di in (-1, 0, 1):
        for dj in (-1, 0, 1):
            if di or dj:
                neighbours |= padded[:, 1 + di:1 + di + h, 1 + dj:1 + dj + w]
    isolated = (s & ~neighbours).reshape(len(s), -1).sum(1)
    return isolated / np.maximum(1, s.reshape(len(s), -1).sum(1))
