"""MNIST: read the IDX files, download them safely, and say clearly what to do offline.

The IDX format (LeCun et al.) is a big-endian header — two zero bytes, a type code (0x08
for unsigned bytes), the number of dimensions — then one 4-byte size per dimension,
then the values. Images are (N, 28, 28) uint8, labels (N,) uint8 in 0-9.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import struct
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .utils import DATA_ENV, check_choice, check_int, default_data_dir, quick_mode


@dataclass(frozen=True)
class MnistFile:
    """One of MNIST's four files: its name, the published MD5 and size of the .gz, and its shape."""

    name: str
    md5: str
    size: int
    count: int
    dims: int  # 3 for images (N, 28, 28), 1 for labels (N,)


MNIST_FILES = {
    ("train", "images"): MnistFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873", 9912422, 60000, 3),
    ("train", "labels"): MnistFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432", 28881, 60000, 1),
    ("test", "images"): MnistFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3", 1648877, 10000, 3),
    ("test", "labels"): MnistFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c", 4542, 10000, 1),
}
MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
           "https://storage.googleapis.com/cvdf-datasets/mnist/")
SPLITS = ("train", "test")
_UBYTE = 0x08


class DataError(RuntimeError):
    """An MNIST file is missing, truncated or not what it claims to be."""


def _open_bytes(path: Path) -> bytes:
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError) as err:
            raise DataError(f"{path}: the gzip stream is damaged or truncated ({err}); "
                            "delete the file and download it again") from None
    return raw


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed or raw) into a uint8 array.

    Raises DataError naming the file if the magic number, the dimensions or the length
    of the data are wrong.
    """
    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path}: no such file")
    data = _open_bytes(path)
    if len(data) < 4:
        raise DataError(f"{path}: {len(data)} bytes is too short for an IDX header")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != _UBYTE:
        raise DataError(f"{path}: wrong magic number 0x{data[:4].hex()} (expected 0x000008NN for "
                        "unsigned bytes); this is not an MNIST IDX file")
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: the header announces {ndim} dimensions but is truncated")
    shape = struct.unpack(f">{ndim}I", data[4: 4 + 4 * ndim])
    expected = 4 + 4 * ndim + int(np.prod(shape))
    if len(data) != expected:
        raise DataError(f"{path}: the header announces shape {shape}, i.e. {expected} bytes, "
                        f"but the file holds {len(data)}; it is truncated or corrupt")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def search_folders(root: str | os.PathLike | None = None) -> list[Path]:
    """Where MNIST is looked for, in order: ``root``, GAN_LESSONS_DATA, the default cache."""
    env = os.environ.get(DATA_ENV, "").strip()
    candidates = [Path(root).expanduser() if root is not None else None,
                  Path(env).expanduser() if env else None, default_data_dir()]
    return list(dict.fromkeys(c for c in candidates if c is not None))


def _find(spec: MnistFile, folders) -> Path | None:
    for folder in folders:
        for name in (spec.name, spec.name[:-3]):  # the .gz, or the file already unpacked
            if (Path(folder) / name).is_file():
                return Path(folder) / name
    return None


def _missing_message(split: str, folders) -> str:
    names = [MNIST_FILES[(split, kind)].name for kind in ("images", "labels")]
    where = ", ".join(str(f) for f in folders)
    return (f"MNIST's {split} split was not found in {where}. Put {' and '.join(names)} in one of "
            f"those folders (or set GAN_LESSONS_DATA to the folder that holds them), or call "
            f"load_mnist('{split}', download=True) on a machine with internet access.")


def load_mnist(split: str = "train", root: str | os.PathLike | None = None, download: bool = False,
               fetch: Callable[[str, Path], None] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST images (N, 28, 28) uint8 and labels (N,) int64 of one split.

    Looks in ``root`` if given, then GAN_LESSONS_DATA, then the default cache folder.

    Args:
        split: "train" (60,000 images) or "test" (10,000).
        root: a folder to look in first.
        download: fetch missing files from the mirrors into the first folder.
        fetch: ``fetch(url, destination)``; the default uses urllib (tests pass a fake).
    """
    check_choice("split", split, SPLITS)
    folders = search_folders(root)
    arrays = {}
    for kind in ("images", "labels"):
        spec = MNIST_FILES[(split, kind)]
        path = _find(spec, folders)
        if path is None:
            if not download:
                raise DataError(_missing_message(split, folders))
            path = download_file(spec, folders[0], fetch=fetch)
        arrays[kind] = read_idx(path)
        if arrays[kind].ndim != spec.dims or len(arrays[kind]) != spec.count:
            raise DataError(f"{path}: shape {arrays[kind].shape} is not MNIST's {split} {kind} "
                            f"({spec.count} {'28x28 images' if spec.dims == 3 else 'labels'})")
    images, labels = arrays["images"], arrays["labels"]
    if images.shape[1:] != (28, 28):
        raise DataError(f"MNIST images must be 28x28, got {images.shape[1:]}")
    if labels.max() > 9:
        raise DataError(f"MNIST labels are digits 0-9, found {labels.max()}")
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def md5sum(path: Path) -> str:
    """The MD5 hex digest of a file (the checksum the MNIST mirrors publish)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _urllib_fetch(url: str, destination: Path) -> None:
    from tqdm.auto import tqdm

    with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0) or None
        with tqdm(total=total, unit="B", unit_scale=True, desc=destination.name.split(".part")[0],
                  leave=False) as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block))


def download_file(spec: MnistFile, folder: str | os.PathLike,
                  fetch: Callable[[str, Path], None] | None = None) -> Path:
    """Download one MNIST file into ``folder``, trying each mirror, and return its path.

    The bytes go to a temporary file in the same folder, which is renamed into place only
    once complete and matching the published MD5: an interrupted or corrupted download
    leaves nothing behind.
    """
    fetch = fetch or _urllib_fetch
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final = folder / spec.name
    errors = []
    for mirror in MIRRORS:
        fd, tmp_name = tempfile.mkstemp(prefix=spec.name + ".", suffix=".part", dir=folder)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            fetch(mirror + spec.name, tmp)
            digest = md5sum(tmp)
            if digest != spec.md5:
                raise DataError(f"checksum mismatch: MD5 {digest}, published {spec.md5}")
            os.replace(tmp, final)
            return final
        except Exception as err:  # try the next mirror; say everything at the end
            errors.append(f"{mirror}: {err}")
        finally:
            tmp.unlink(missing_ok=True)
    raise DataError(f"could not download {spec.name} into {folder}:\n  " + "\n  ".join(errors)
                    + f"\nOffline? Copy {spec.name} into {folder} by hand.")


SOURCE_ENV = "GAN_LESSONS_MNIST"
SOURCES = ("train", "test")
# Images 59,000-59,999 of the training split (or 8,000-8,999 of the test split standing in
# for it) are held out: Parzen's sigma is chosen on them (Goodfellow et al. 2014), and no
# model trains on them.
N_VALID = 1000
TEST_STANDIN_TRAIN = 8000


def mnist_source() -> str:
    """Which split the lessons train on: GAN_LESSONS_MNIST if set, else "test" in quick mode, else "train".

    "test" makes MNIST's 10,000-image test split stand in for the training split, cut into
    three disjoint parts (see ``load_splits``), for machines that cannot download the
    training split (tests, CI, offline classrooms).
    """
    raw = os.environ.get(SOURCE_ENV, "").strip().lower()
    if not raw:
        return "test" if quick_mode() else "train"
    return check_choice(SOURCE_ENV, raw, SOURCES)


@dataclass(frozen=True)
class MnistSplits:
    """Disjoint training, validation and test images (uint8, (N, 28, 28)) with labels (int64).

    Attributes:
        source: "train" (60,000-image training split available) or "test" (test split stands in).
        note: one line saying where each part comes from, for the lesson to print.
    """

    train_images: torch.Tensor
    train_labels: torch.Tensor
    valid_images: torch.Tensor
    valid_labels: torch.Tensor
    test_images: torch.Tensor
    test_labels: torch.Tensor
    source: str
    note: str


def load_splits(root: str | os.PathLike | None = None, download: bool = False,
                source: str | None = None) -> MnistSplits:
    """MNIST cut into training, validation and test parts that never overlap.

    With source "train": training = the training split's first 59,000 images, validation =
    its last 1,000, test = the 10,000-image test split. With source "test" (quick mode, or
    GAN_LESSONS_MNIST=test): training = test images 0-7,999, validation = 8,000-8,999,
    test = 9,000-9,999, so no model is scored on images it trained on.

    Args:
        root: a folder to look in first (see ``load_mnist``).
        download: fetch missing files (source "train" needs the training split).
        source: "train" or "test"; default ``mnist_source()``.
    """
    source = mnist_source() if source is None else check_choice("source", source, SOURCES)
    test_x, test_y = load_mnist("test", root=root, download=download)
    if source == "train":
        try:
            train_x, train_y = load_mnist("train", root=root, download=download)
        except DataError as err:
            raise DataError(f"{err}\nWithout internet access, set {SOURCE_ENV}=test to let the test "
                            "split stand in for the training split (lessons then say so).") from None
        cut = len(train_x) - N_VALID
        parts = (train_x[:cut], train_y[:cut], train_x[cut:], train_y[cut:], test_x, test_y)
        note = (f"MNIST: training on {cut:,} images of the training split; its last {N_VALID:,} "
                f"are held out for validation; the {len(test_x):,}-image test split is the test set")
    else:
        a, b = TEST_STANDIN_TRAIN, TEST_STANDIN_TRAIN + N_VALID
        parts = (test_x[:a], test_y[:a], test_x[a:b], test_y[a:b], test_x[b:], test_y[b:])
        why = "quick mode" if quick_mode() and not os.environ.get(SOURCE_ENV) else f"{SOURCE_ENV}=test"
        note = (f"MNIST ({why}): the test split stands in for the training split: training on "
                f"test images 0-{a - 1:,} ({a:,}), validation {a:,}-{b - 1:,}, test {b:,}-"
                f"{len(test_x) - 1:,} ({len(test_x) - b:,}); full mode on the 60,000-image "
                "training split scores higher")
    return MnistSplits(*parts, source=source, note=note)


def to_float(images: torch.Tensor, scale: str = "unit") -> torch.Tensor:
    """uint8 images (N, 28, 28) as float (N, 1, 28, 28): "unit" pixels in [0, 1], "symmetric" in [-1, 1]."""
    check_choice("scale", scale, ("unit", "symmetric"))
    if images.dtype != torch.uint8:
        raise ValueError(f"images must be uint8 (as load_mnist returns), got {images.dtype}")
    x = images.float().div_(255.0).unsqueeze(1)
    return x.mul_(2).sub_(1) if scale == "symmetric" else x


def load_training_images(root: str | os.PathLike | None = None, download: bool = False,
                         scale: str = "unit") -> tuple[torch.Tensor, torch.Tensor, str]:
    """The images a lesson trains on, as float (N, 1, 28, 28), with labels and a note.

    The training part of ``load_splits()``: 59,000 images of the training split in full
    mode, 8,000 of the test split in quick mode (tests, CI) or with GAN_LESSONS_MNIST=test;
    the note says which.

    Args:
        scale: "unit" for pixels in [0, 1] (sigmoid outputs) or "symmetric" for [-1, 1] (tanh).
    """
    check_choice("scale", scale, ("unit", "symmetric"))
    splits = load_splits(root=root, download=download)
    return to_float(splits.train_images, scale), splits.train_labels, splits.note


class BatchSampler:
    """Minibatches that walk through a shuffled copy of the data, one epoch after another.

    Each epoch is a fresh permutation drawn from the caller's torch.Generator, so every
    image is seen once per epoch (sampling without replacement, as a DataLoader with
    ``shuffle=True`` does) and one seed gives one order. A batch is one indexing of the
    tensor: no per-image Python calls.

    Args:
        images: (N, ...) tensor of training images.
        labels: optional (N,) tensor of labels, for ``sample_labelled``.
    Call ``sampler(n, generator)`` for images (GANTrainer's data) or
    ``sampler.sample_labelled(n, generator)`` for (images, labels).
    """

    def __init__(self, images: torch.Tensor, labels: torch.Tensor | None = None):
        if not isinstance(images, torch.Tensor) or images.ndim < 2 or len(images) == 0:
            raise ValueError("images must be a non-empty tensor of shape (N, ...)")
        if labels is not None and (not isinstance(labels, torch.Tensor) or labels.shape != (len(images),)):
            raise ValueError(f"labels must be a tensor of shape ({len(images)},), one per image")
        self.images, self.labels = images, labels
        self._order = torch.empty(0, dtype=torch.long)
        self._pos = 0
        self.drawn = 0  # images handed out so far

    def __len__(self) -> int:
        return len(self.images)

    @property
    def epoch(self) -> float:
        """Epochs completed so far (images drawn / N)."""
        return self.drawn / len(self.images)

    def _indices(self, n: int, generator: torch.Generator | None) -> torch.Tensor:
        n = check_int("n", n, low=1, high=len(self.images))
        if self._pos + n > len(self._order):  # start a new epoch; the last short remainder is dropped
            self._order = torch.randperm(len(self.images), generator=generator)
            self._pos = 0
        idx = self._order[self._pos: self._pos + n]
        self._pos += n
        self.drawn += n
        return idx

    def __call__(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self.images[self._indices(n, generator)]

    def sample_labelled(self, n: int, generator: torch.Generator | None = None):
        """``n`` images and their labels, from the same shuffled walk."""
        if self.labels is None:
            raise ValueError("this sampler was built without labels; pass labels=...")
        idx = self._indices(n, generator)
        return self.images[idx], self.labels[idx]
