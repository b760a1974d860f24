"""Save and load trained weights safely: state_dicts only, atomic writes, clear mismatches.

Loading uses ``torch.load(..., weights_only=True)``, which refuses arbitrary pickled
objects, so opening a checkpoint cannot run code. Lessons "load if present, else train".
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable

import torch
from torch import nn

FORMAT = 1


class CheckpointError(RuntimeError):
    """A checkpoint is missing, unreadable, or made for another architecture."""


def _shapes(model: nn.Module) -> dict[str, list[int]]:
    return {k: list(v.shape) for k, v in model.state_dict().items()}


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
    """
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} already exists; pass overwrite=True to replace it, "
                              "or choose another file name")
    if not models:
        raise ValueError("models must name at least one module, e.g. {'G': G}")
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "meta": dict(meta or {}),
               "shapes": {name: _shapes(m) for name, m in models.items()},
               "state_dicts": {name: {k: v.detach().cpu() for k, v in m.state_dict().items()}
                               for name, m in models.items()}}
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | os.PathLike, models: dict[str, nn.Module]) -> dict:
    """Load weights from ``path`` into ``models`` and return the saved ``meta``.

    Raises CheckpointError naming each module, parameter and shape that does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise CheckpointError(f"{path}: not a readable checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a gan-lessons checkpoint (format {FORMAT})")
    problems = []
    for name, model in models.items():
        saved = payload["shapes"].get(name)
        if saved is None:
            problems.append(f"it holds no module called {name!r} (it has {sorted(payload['shapes'])})")
            continue
        want = _shapes(model)
        for key in sorted(set(saved) | set(want)):
            if saved.get(key) != want.get(key):
                problems.append(f"{name}.{key}: saved {saved.get(key)}, this model {want.get(key)}")
    if problems:
        raise CheckpointError(f"{path} was made for another architecture or size:\n  "
                              + "\n  ".join(problems[:10])
                              + "\nDelete it, or load it into the model it was trained with.")
    for name, model in models.items():
        model.load_state_dict(payload["state_dicts"][name])
    return payload["meta"]


def load_or_train(path: str | os.PathLike, models: dict[str, nn.Module], train_fn: Callable[[], dict | None],
                  retrain: bool = False) -> tuple[dict, bool]:
    """Load ``models`` from ``path`` if it exists, else call ``train_fn()`` and save.

    ``train_fn`` trains the models in place and may return meta to save. Returns the meta
    and whether the weights were loaded (True) or trained (False). ``retrain=True`` trains
    and replaces the checkpoint.
    """
    path = Path(path)
    if path.exists() and not retrain:
        return load_checkpoint(path, models), True
    meta = train_fn() or {}
    save_checkpoint(path, models, meta, overwrite=retrain)
    return meta, False
