"""Checks of a learner's arrays, tensors, models and records, shared by the package's functions.

Each raises a ValueError that names the argument, says what was given and what is
accepted. The checks of single numbers and names are in ``utils`` (``check_int``,
``check_float``, ``check_choice``, ``check_pixel_range``).
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

__all__ = ["as_array", "as_tensor", "check_batch", "check_callable", "check_generator", "check_keys",
           "check_module", "check_range", "check_splits", "describe"]


def describe(value) -> str:
    """A short description of ``value`` for an error message: its type and the start of its repr."""
    if isinstance(value, (np.ndarray, torch.Tensor)):
        return f"a {type(value).__name__} of shape {tuple(value.shape)}"
    try:
        text = " ".join(repr(value).split())
    except Exception:  # noqa: BLE001 - an object whose repr fails is still described by its type
        text = "..."
    return f"{type(value).__name__} {text[:40]}{'...' if len(text) > 40 else ''}"


def as_array(name: str, value, ndim: int | tuple[int, ...] | None = None, min_size: int = 1,
             finite: bool = True) -> np.ndarray:
    """``value`` (numpy, torch, a list or a number) as a float64 array, else a ValueError naming ``name``.

    Args:
        ndim: the accepted number(s) of dimensions (None: any).
        min_size: the fewest values it must hold.
        finite: reject NaN and inf.
    """
    if isinstance(value, torch.Tensor):
        arr = value.detach().cpu().double().numpy()
    else:
        try:
            arr = np.asarray(value, dtype=np.float64) if value is not None else None
        except (TypeError, ValueError):
            arr = None
        if arr is None:
            raise ValueError(f"{name} must be numbers (an array, tensor or list), got {describe(value)}")
    ndims = (ndim,) if isinstance(ndim, int) else ndim
    if ndims is not None and arr.ndim not in ndims:
        want = " or ".join(f"{d}-D" for d in ndims)
        raise ValueError(f"{name} must be a {want} array, got shape {arr.shape}")
    if arr.size < min_size:
        raise ValueError(f"{name} must hold at least {min_size} value{'s' if min_size > 1 else ''}, "
                         f"got shape {arr.shape}")
    if finite and not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must be finite numbers (no NaN or inf)")
    return arr


def as_tensor(name: str, value) -> torch.Tensor:
    """``value`` as a non-empty floating-point tensor (a float tensor is kept as it is), else a ValueError."""
    if isinstance(value, torch.Tensor):
        out = value if value.is_floating_point() else value.to(torch.get_default_dtype())
    else:
        out = torch.as_tensor(as_array(name, value, finite=False))
    if out.numel() == 0:
        raise ValueError(f"{name} must hold at least one value, got shape {tuple(out.shape)}")
    return out


def check_batch(name: str, x, width: int, like: torch.Tensor, flatten: bool = False) -> torch.Tensor:
    """``x`` if it is a (B, ``width``) tensor of ``like``'s dtype and device (a model's input), else a ValueError.

    With ``flatten`` any (B, ...) shape of ``width`` values per row is accepted.
    """
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor of shape (B, {width}), got {describe(x)}")
    rows_ok = x.ndim == 2 or (flatten and x.ndim > 2)
    if not rows_ok or math.prod(x.shape[1:]) != width:
        raise ValueError(f"{name} must have shape (B, {width}), got {tuple(x.shape)}"
                         + ("; for one value per sample use x.reshape(-1, 1)" if width == 1 and x.ndim == 1 else ""))
    if x.dtype != like.dtype or x.device != like.device:
        raise ValueError(f"{name} must be {like.dtype} on {like.device}, like the model's weights, got {x.dtype} "
                         f"on {x.device}; convert it with {name}.to({like.dtype}) or .to(device)")
    return x


def check_callable(name: str, value, what: str = "a function"):
    """``value`` if it can be called, else a ValueError."""
    if not callable(value):
        raise ValueError(f"{name} must be {what}, got {describe(value)}")
    return value


def check_generator(generator):
    """``generator`` if it is None or a torch.Generator, else a ValueError (a seed goes through make_generator)."""
    if generator is not None and not isinstance(generator, torch.Generator):
        raise ValueError(f"generator must be a torch.Generator, e.g. utils.make_generator(seed), or None; "
                         f"got {describe(generator)}")
    return generator


def check_module(name: str, value, methods: tuple[str, ...] = ()) -> nn.Module:
    """``value`` if it is an ``nn.Module`` with each of ``methods``, else a ValueError."""
    if not isinstance(value, nn.Module):
        raise ValueError(f"{name} must be a torch nn.Module (a network), got {describe(value)}")
    missing = [m for m in methods if not callable(getattr(value, m, None))]
    if missing:
        raise ValueError(f"{name} must have the method(s) {', '.join(missing)}, like the models of "
                         f"gan_lessons.models; {type(value).__name__} has not")
    return value


def check_keys(name: str, value, keys) -> dict:
    """``value`` if it is a dict holding each of ``keys``, else a ValueError naming the missing ones."""
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict with the keys {', '.join(map(repr, keys))}, got {describe(value)}")
    missing = [k for k in keys if k not in value]
    if missing:
        raise ValueError(f"{name} lacks the key(s) {', '.join(map(repr, missing))}; it has "
                         f"{', '.join(map(repr, list(value)[:12]))}")
    return value


def check_range(name: str, value) -> tuple[float, float]:
    """``value`` as two finite floats (low, high) with low < high, else a ValueError."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be two numbers (low, high), e.g. (0, 1), got {describe(value)}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"{name} must be (low, high) with finite low < high, got {value!r}")
    return lo, hi


SPLIT_FIELDS = ("source", "train_images", "train_labels", "test_images", "test_labels")


def check_splits(splits, fields: tuple[str, ...] = SPLIT_FIELDS):
    """``splits`` if it has each of ``fields``, as a ``data.MnistSplits`` does, else a ValueError."""
    missing = [f for f in fields if not hasattr(splits, f)]
    if missing:
        raise ValueError(f"splits must be a data.MnistSplits, from data.load_splits(); got {describe(splits)}, "
                         f"which has no {', '.join(missing)}")
    return splits
