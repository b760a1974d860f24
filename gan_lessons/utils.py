"""Seeds, devices, quick mode, and the folders where data and checkpoints live.

Every notebook's set-up cell calls these, so that a lesson behaves the same on a
laptop, in CI (quick mode, offline data) and on a GPU machine.
"""
from __future__ import annotations

import math
import os
import random
import time
from pathlib import Path

import numpy as np
import torch

QUICK_ENV = "GAN_LESSONS_QUICK"
DEVICE_ENV = "GAN_LESSONS_DEVICE"
DATA_ENV = "GAN_LESSONS_DATA"
CHECKPOINT_ENV = "GAN_LESSONS_CHECKPOINTS"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"", "0", "false", "no", "off"}
_DEVICES = ("cpu", "cuda", "mps")


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise a ValueError naming ``name`` and the accepted range."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    value = int(value)
    if (low is not None and value < low) or (high is not None and value > high):
        lo = "-inf" if low is None else low
        hi = "inf" if high is None else high
        raise ValueError(f"{name} must be between {lo} and {hi}, got {value}")
    return value


def check_float(name: str, value, low: float | None = None, high: float | None = None,
                low_open: bool = False) -> float:
    """Return ``value`` as a finite float in [low, high] (or (low, high] if ``low_open``)."""
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number, got {value!r}") from None
    if not np.isfinite(out):
        raise ValueError(f"{name} must be finite, got {value!r}")
    too_low = low is not None and (out <= low if low_open else out < low)
    if too_low or (high is not None and out > high):
        left = "(" if low_open else "["
        lo = "-inf" if low is None else low
        hi = "inf)" if high is None else f"{high}]"
        raise ValueError(f"{name} must be in {left}{lo}, {hi}, got {out}")
    return out


def check_choice(name: str, value, choices) -> str:
    """Return ``value`` if it is one of ``choices``, else raise a ValueError listing them."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}; got {value!r}")
    return value


def check_pixel_range(value) -> tuple[float, float]:
    """``pixel_range`` as two finite floats (low, high) with low < high, e.g. (-1, 1) for tanh outputs."""
    try:
        lo, hi = (float(v) for v in value)
    except (TypeError, ValueError):
        raise ValueError(f"pixel_range must be two numbers (low, high), e.g. (-1, 1) for tanh or (0, 1) for "
                         f"sigmoid outputs, got {value!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"pixel_range must be (low, high) with high > low, e.g. (-1, 1) for tanh or (0, 1) "
                         f"for sigmoid outputs, got {value!r}")
    return lo, hi


def set_seed(seed: int = 0) -> int:
    """Seed Python's, NumPy's and torch's random number generators.

    Args:
        seed: a non-negative integer.
    Returns the seed, so a set-up cell can print it.
    """
    seed = check_int("seed", seed, low=0, high=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return seed


def make_generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A torch.Generator seeded with ``seed``: pass it to ``sample(..., generator=...)``."""
    seed = check_int("seed", seed, low=0)
    gen = torch.Generator(device=device)
    gen.manual_seed(seed)
    return gen


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def get_device(name: str | None = None) -> torch.device:
    """The device lessons train on: CUDA, else Apple's MPS, else the CPU.

    Args:
        name: force a device ("cpu", "cuda" or "mps"); if None, the environment
            variable GAN_LESSONS_DEVICE may force one, else the best available is used.
    """
    forced = name if name is not None else os.environ.get(DEVICE_ENV, "").strip().lower() or None
    if forced is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    source = "name" if name is not None else DEVICE_ENV
    kind = str(forced).split(":")[0]
    check_choice(source, kind, _DEVICES)
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"{source} asks for 'cuda' but torch sees no CUDA GPU; use 'cpu' "
                         "or install a CUDA build of torch")
    if kind == "mps" and not _mps_available():
        raise ValueError(f"{source} asks for 'mps' but Apple's MPS backend is not available; use 'cpu'")
    return torch.device(forced)


def quick_mode() -> bool:
    """True when GAN_LESSONS_QUICK is set to 1 (tests and CI): lessons shrink every budget."""
    raw = os.environ.get(QUICK_ENV, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ValueError(f"{QUICK_ENV} must be 1 (quick) or 0 (full), got {raw!r}")


def budget(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise: ``budget(full=5000, quick=200)``."""
    return quick if quick_mode() else full


def _cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "gan_lessons"


def default_data_dir() -> Path:
    """The default data folder, ``~/.cache/gan_lessons/data`` (or under XDG_CACHE_HOME)."""
    return _cache_root() / "data"


def data_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder that holds data sets: ``path`` if given, else GAN_LESSONS_DATA, else
    ``~/.cache/gan_lessons/data``. It is not created here: readers look, downloaders create."""
    if path is not None:
        return Path(path).expanduser()
    env = os.environ.get(DATA_ENV, "").strip()
    return Path(env).expanduser() if env else default_data_dir()


def checkpoint_dir(path: str | os.PathLike | None = None) -> Path:
    """The folder for trained weights: ``path``, else GAN_LESSONS_CHECKPOINTS, else
    ``~/.cache/gan_lessons/checkpoints``. Created if missing."""
    if path is not None:
        out = Path(path).expanduser()
    else:
        env = os.environ.get(CHECKPOINT_ENV, "").strip()
        out = Path(env).expanduser() if env else _cache_root() / "checkpoints"
    out.mkdir(parents=True, exist_ok=True)
    return out


class Progress:
    """A progress line that rewrites itself in place and leaves one finished line behind.

    In a notebook it is a display that is updated (never a widget, so a saved lesson shows
    "training: 9,000/9,000 in 63 s" rather than a frozen bar); elsewhere it rewrites one line
    of stderr. Use ``with Progress(total, "training") as bar: bar.update(k)``.

    Args:
        total: the number of steps, at least 0.
        desc: what is counted, e.g. "training".
        unit: the name of one step, printed after the count.
        every: the fewest seconds between two redraws.
    """

    def __init__(self, total: int, desc: str = "", unit: str = "it", every: float = 0.5):
        self.total = check_int("total", total, low=0)
        self.desc, self.unit, self.every = str(desc), str(unit), check_float("every", every, low=0)
        self.n = 0
        self._start = self._drawn = time.perf_counter()
        self._handle = None
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
        if shell is not None and getattr(shell, "kernel", None) is not None:
            from IPython.display import display

            # a notebook's output, updated in place; raw text so that it shows without quotes
            self._handle = display({"text/plain": self._text()}, raw=True, display_id=True)

    def _text(self, done: bool = False) -> str:
        elapsed = time.perf_counter() - self._start
        count = f"{self.n:,}/{self.total:,} {self.unit}".rstrip()
        head = f"{self.desc}: " if self.desc else ""
        if done:
            return f"{head}{count} in {elapsed:.0f} s"
        left = elapsed / self.n * (self.total - self.n) if self.n else float("nan")
        share = 100 * self.n / self.total if self.total else 100.0
        eta = f", about {left:.0f} s left" if math.isfinite(left) else ""
        return f"{head}{count} ({share:.0f} %), {elapsed:.0f} s{eta}"

    def _show(self, text: str, final: bool = False) -> None:
        if self._handle is not None:
            from IPython.display import update_display

            update_display({"text/plain": text}, raw=True, display_id=self._handle.display_id)
        else:
            import sys

            sys.stderr.write("\r" + text + ("\n" if final else ""))
            sys.stderr.flush()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more steps; redraw at most every ``every`` seconds."""
        self.n = min(self.total, self.n + check_int("n", n, low=0))
        now = time.perf_counter()
        if now - self._drawn >= self.every:
            self._drawn = now
            self._show(self._text())

    def close(self) -> None:
        """Show the finished line: the count and the time it took."""
        self._show(self._text(done=True), final=True)

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def short_path(path: str | os.PathLike) -> str:
    """``path`` as a lesson prints it: "<name> in the checkpoint folder" for a checkpoint, else
    with the home folder written as ``~``, so a saved lesson shows no other machine's folders."""
    path = Path(path).expanduser()
    env = os.environ.get(CHECKPOINT_ENV, "").strip()
    folder = Path(env).expanduser() if env else _cache_root() / "checkpoints"
    if path.parent.resolve() == folder.resolve():
        return f"{path.name} in the checkpoint folder"
    try:
        return "~/" + str(path.resolve().relative_to(Path.home().resolve()))
    except ValueError:
        return str(path)
