"""Save and load trained weights safely: state_dicts only, atomic writes, clear mismatches.

Loading uses ``torch.load(..., weights_only=True)``, which refuses arbitrary pickled
objects, so opening a checkpoint cannot run code. Lessons "load if present, else train".
A file is checked whole before any model is touched: a load fills every model or none.
"""
from __future__ import annotations

import math
import os
import re
import tempfile
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Callable

import torch
from torch import nn

FORMAT = 1
_RETRAIN = "Delete the file (or move it away) and train again, e.g. with retrain=True; no model was changed."
_NOT_OURS = "Pass the path of a file written by save_checkpoint, or move this file away; no model was changed."
# What torch.load(weights_only=True) reads back: anything else in meta would make the file unloadable.
_PLAIN = {type(None), bool, int, float, complex, str, bytes, torch.dtype, torch.device}
_SEQUENCES = {list, tuple, set, torch.Size}
_MAPPINGS = {dict, OrderedDict}
_TENSORS = {torch.Tensor, nn.Parameter}


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, damaged, or made for another architecture."""


def _shapes(model: nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


def _as_path(path) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise ValueError(f"path must be a file path (a str or pathlib.Path), got {type(path).__name__} {path!r:.60}")
    return Path(path)


def _check_models(models) -> dict[str, nn.Module]:
    if not isinstance(models, dict) or not models:
        raise ValueError(f"models must be a dict naming at least one module, e.g. {{'G': G, 'D': D}}, "
                         f"got {models!r:.60}")
    for name, model in models.items():
        if not isinstance(name, str):
            raise ValueError(f"models must be keyed by names (strings), e.g. {{'G': G}}, got the key {name!r:.40}")
        if not isinstance(model, nn.Module):
            raise ValueError(f"models[{name!r}] must be a torch nn.Module, got {type(model).__name__}")
    return models


def _unsafe(value, where: str) -> str | None:
    """Where ``value`` holds something weights_only loading refuses, e.g. "meta['x'] is a numpy.ndarray"."""
    kind = type(value)
    if kind in _PLAIN or kind in _TENSORS:
        return None
    if kind in _SEQUENCES:
        return next((p for i, v in enumerate(value) if (p := _unsafe(v, f"{where}[{i}]"))), None)
    if kind in _MAPPINGS:
        for k, v in value.items():
            if type(k) not in _PLAIN:
                return f"{where} has a key of type {type(k).__name__}"
            if p := _unsafe(v, f"{where}[{k!r}]"):
                return p
        return None
    return f"{where} is a {kind.__module__}.{kind.__qualname__}"


def _kinds(kind) -> tuple[type, ...]:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    if not kinds or not all(isinstance(k, type) for k in kinds):
        raise ValueError(f"required_meta must map each key to a type or a tuple of types, e.g. "
                         f"{{'test_accuracy': float}}, got {kind!r:.60}")
    return kinds


def has_kind(value, kind) -> bool:
    """Whether ``value`` is of ``kind`` (a type or tuple of types); a float is any finite number, not a bool."""
    kinds = _kinds(kind)
    if isinstance(value, bool):
        return bool in kinds
    if float in kinds and isinstance(value, (int, float)):
        return math.isfinite(value)
    return isinstance(value, kinds)


def unusable(path, problem: str) -> CheckpointError:
    """The error for a checkpoint that was read but cannot be used: names ``path``, ``problem`` and the fix."""
    return CheckpointError(f"{path} cannot be used: {problem}. It is damaged, or was written by other code or "
                           f"another version of gan_lessons. {_RETRAIN}")


def save_checkpoint(path: str | os.PathLike, models: dict[str, nn.Module], meta: dict | None = None,
                    overwrite: bool = False) -> Path:
    """Write the state_dicts of ``models`` (and plain ``meta``) to ``path``.

    The file is written next to its destination and renamed into place, so a crash never
    leaves half a checkpoint. An existing file is kept unless ``overwrite=True``.

    Args:
        path: the file to write (its folder is created).
        models: names to modules, e.g. ``{"G": G, "D": D}``.
        meta: numbers, strings, lists and dicts to keep beside the weights (epochs, settings).
        overwrite: replace an existing checkpoint.
    Raises ValueError, before anything is written, for arguments that would not load back.
    """
    path = _as_path(path)
    models = _check_models(models)
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"meta must be a dict (or None), got {type(meta).__name__}")
    meta = dict(meta or {})
    try:
        problem = _unsafe(meta, "meta")
    except RecursionError:
        problem = "meta is nested too deeply (or holds itself)"
    if problem:
        raise ValueError(f"{problem}, which torch.load(weights_only=True) would refuse to read back; keep meta "
                         "to numbers, strings, None, lists, tuples, dicts and tensors (e.g. array.tolist(), "
                         "float(x), dict(history)); nothing was written")
    states = {name: {k: v.detach().cpu() for k, v in m.state_dict().items()} for name, m in models.items()}
    for name, state in states.items():
        bad = next((k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()), None)
        if bad is not None:
            raise ValueError(f"models[{name!r}] has NaN or infinite values in {bad}: did training diverge? "
                             "Nothing was written")
    if path.is_dir():
        raise ValueError(f"path {path} is a folder; pass a file name, e.g. {path / 'gan.pt'}")
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it, "
                              "or choose another file name")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"path {path} cannot be written: part of its folder is a file, not a folder") from None
    payload = {"format": FORMAT, "meta": meta,
               "shapes": {name: _shapes(m) for name, m in models.items()}, "state_dicts": states}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def _read(path: Path) -> dict:
    """The payload of ``path``, loaded with weights_only=True, or a CheckpointError saying why not."""
    if path.is_dir():
        raise CheckpointError(f"{path} is a folder, not a checkpoint file; pass the path of a .pt file "
                              "written by save_checkpoint")
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's notes on pickle protocols mean nothing to a learner
            payload = torch.load(path, map_location="cpu", weights_only=True)
    except OSError as err:
        raise CheckpointError(f"{path} cannot be opened ({err.strerror or err}); check that it is readable") from None
    except Exception as err:  # noqa: BLE001 - torch raises many kinds for a file that is not its own
        found = re.search(r"GLOBAL (\S+)", str(err))
        why = (f"it holds a Python object ({found.group(1)}) that is neither a tensor nor plain data, and such "
               "files are refused unread, since opening them could run code" if found else
               f"torch cannot read it ({type(err).__name__}): it is empty, cut short, or another kind of file")
        raise CheckpointError(f"{path} is not a gan-lessons checkpoint: {why}. {_NOT_OURS}") from None
    if not isinstance(payload, dict) or "format" not in payload:
        what = "a dict without a 'format' entry" if isinstance(payload, dict) else f"a {type(payload).__name__}"
        raise CheckpointError(f"{path} is not a gan-lessons checkpoint: it holds {what}, not what "
                              f"save_checkpoint writes. {_NOT_OURS}")
    if payload["format"] != FORMAT:
        raise unusable(path, f"it is in format {payload['format']!r:.20}, and this gan_lessons reads format {FORMAT}")
    for key in ("meta", "shapes", "state_dicts"):
        if not isinstance(payload.get(key), dict):
            raise unusable(path, f"its {key!r} entry is missing" if key not in payload else
                           f"its {key!r} entry is a {type(payload[key]).__name__}, not a dict")
    return payload


def _shape(t) -> list[int] | None:
    return None if t is None else list(t.shape)


def _check_weights(path: Path, payload: dict, models: dict[str, nn.Module]) -> None:
    """Raise CheckpointError unless every model's saved tensors fit it exactly (keys, shapes, kinds, finite)."""
    shapes, states = payload["shapes"], payload["state_dicts"]
    problems = []
    for name, model in models.items():
        if name not in states:
            problems.append(f"it holds no module called {name!r} (it has {sorted(map(str, states))})")
            continue
        saved, sizes = states[name], shapes.get(name)
        if not isinstance(saved, dict) or not isinstance(sizes, dict):
            raise unusable(path, f"its entry for {name!r} is not a dict of parameters and their shapes")
        for key, tensor in saved.items():
            if not isinstance(tensor, torch.Tensor) or tensor.layout != torch.strided:
                raise unusable(path, f"{name}.{key} is a {type(tensor).__name__}, not a dense tensor")
            if sizes.get(key) != list(tensor.shape):
                raise unusable(path, f"{name}.{key} has shape {list(tensor.shape)}, but its 'shapes' entry "
                                     f"says {sizes.get(key)!r:.40}")
            if tensor.is_floating_point() and not torch.isfinite(tensor).all():
                raise unusable(path, f"{name}.{key} holds NaN or infinite values")
        if set(sizes) != set(saved):
            raise unusable(path, f"its 'shapes' and 'state_dicts' list different parameters for {name!r}")
        want = model.state_dict()
        for key in sorted(set(saved) | set(want), key=str):
            have, need = saved.get(key), want.get(key)
            if _shape(have) != _shape(need):
                problems.append(f"{name}.{key}: saved {_shape(have)}, this model {_shape(need)}")
            elif have.dtype != need.dtype and not (have.is_floating_point() and need.is_floating_point()):
                problems.append(f"{name}.{key}: saved as {have.dtype}, this model holds {need.dtype}")
    if problems:
        raise CheckpointError(f"{path} was made for another architecture or size:\n  "
                              + "\n  ".join(problems[:10])
                              + "\nDelete it, or load it into the model it was trained with; no model was changed.")


def check_meta(path, meta: dict, required_meta: dict | None) -> dict:
    """``meta`` if it has each key of ``required_meta`` with a value of its type, else a CheckpointError."""
    if required_meta is not None and not isinstance(required_meta, dict):
        raise ValueError(f"required_meta must be a dict of keys to types, e.g. {{'test_accuracy': float}}, "
                         f"got {type(required_meta).__name__}")
    for key, kind in (required_meta or {}).items():
        name = " or ".join(k.__name__ for k in _kinds(kind))
        if key not in meta:
            raise unusable(path, f"its meta has no {key!r} (of type {name})")
        if not has_kind(meta[key], kind):
            raise unusable(path, f"meta[{key!r}] should be of type {name}, got {type(meta[key]).__name__} "
                                 f"{meta[key]!r:.40}")
    return meta


def load_checkpoint(path: str | os.PathLike, models: dict[str, nn.Module],
                    required_meta: dict | None = None, convert: Callable[[dict], object] | None = None):
    """Load weights from ``path`` into ``models`` and return the saved ``meta``.

    The whole file is checked first, so on any error no model has changed.

    Args:
        path: a file written by ``save_checkpoint``.
        models: names to modules, e.g. ``{"G": G, "D": D}``, built as when they were saved.
        required_meta: keys the meta must hold, each with its type, e.g. ``{"test_accuracy": float}``
            (a float may be any finite number; a tuple of types accepts any of them).
        convert: applied to the meta before any model is loaded, and returned in its place; it
            may raise ``unusable(path, problem)`` to refuse the file (e.g. a malformed record).
    Raises CheckpointError naming the file and what is wrong: not a checkpoint, damaged, a
    missing or mistyped meta key, or each module, parameter and shape that does not match.
    """
    path = _as_path(path)
    models = _check_models(models)
    payload = _read(path)
    _check_weights(path, payload, models)
    meta = check_meta(path, payload["meta"], required_meta)
    out = meta if convert is None else convert(meta)
    for name, model in models.items():
        model.load_state_dict(payload["state_dicts"][name])
    return out


def load_or_train(path: str | os.PathLike, models: dict[str, nn.Module], train_fn: Callable[[], dict | None],
                  retrain: bool = False) -> tuple[dict, bool]:
    """Load ``models`` from ``path`` if it exists, else call ``train_fn()`` and save.

    ``train_fn`` trains the models in place and may return meta to save. Returns the meta
    and whether the weights were loaded (True) or trained (False). ``retrain=True`` trains
    and replaces the checkpoint.
    """
    path = _as_path(path)
    models = _check_models(models)
    if not callable(train_fn):
        raise ValueError(f"train_fn must be a function that trains the models, got {type(train_fn).__name__}")
    if path.exists() and not retrain:
        return load_checkpoint(path, models), True
    if path.is_dir():
        raise ValueError(f"path {path} is a folder; pass a file name, e.g. {path / 'gan.pt'}")
    meta = train_fn()
    if meta is not None and not isinstance(meta, dict):
        raise ValueError(f"train_fn must return a dict of meta (or None), got {type(meta).__name__}; the models "
                         "are trained, but nothing was saved")
    meta = meta or {}
    save_checkpoint(path, models, meta, overwrite=retrain)
    return meta, False
