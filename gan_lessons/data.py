"""MNIST: read the IDX files, download them safely, and say clearly what to do offline.

The IDX format (LeCun et al.) is a big-endian header — two zero bytes, a type code (0x08
for unsigned bytes), the number of dimensions — then one 4-byte size per dimension,
then the values. Images are (N, 28, 28) uint8, labels (N,) uint8 in 0-9.
"""
from __future__ import annotations

import gzip
import hashlib
import math
import os
import struct
import tempfile
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .utils import DATA_ENV, Progress, check_choice, check_int, default_data_dir, quick_mode


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
    """The file's bytes, gunzipped if it is gzip-compressed; DataError if it cannot be read."""
    if not path.is_file():
        raise DataError(f"{path}: no such file" + (" (it is a folder)" if path.is_dir() else ""))
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise DataError(f"{path}: cannot be read ({err.strerror or err}); check its permissions") from None
    if raw[:2] == b"\x1f\x8b":  # gzip's magic number
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as err:  # truncated, or a corrupt stream or checksum
            raise DataError(f"{path}: the gzip stream is damaged or truncated ({err}); "
                            "delete the file and download it again") from None
    return raw


def _parse_idx(data: bytes, path: Path) -> np.ndarray:
    """The uint8 array in the IDX bytes ``data`` read from ``path`` (named in errors)."""
    if len(data) < 4:
        raise DataError(f"{path}: {len(data)} bytes is too short for an IDX header; "
                        "delete the file and download it again")
    zero, dtype, ndim = struct.unpack(">HBB", data[:4])
    if zero != 0 or dtype != _UBYTE:
        raise DataError(f"{path}: wrong magic number 0x{data[:4].hex()} (expected 0x000008NN for "
                        "unsigned bytes); this is not an MNIST IDX file")
    if ndim < 1 or len(data) < 4 + 4 * ndim:
        raise DataError(f"{path}: the header announces {ndim} dimensions but is truncated")
    shape = struct.unpack(f">{ndim}I", data[4: 4 + 4 * ndim])
    expected = 4 + 4 * ndim + math.prod(shape)
    if len(data) != expected:
        raise DataError(f"{path}: the header announces shape {shape}, i.e. {expected:,} bytes, "
                        f"but the file holds {len(data):,}; it is truncated or corrupt: delete it and "
                        "download it again")
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape).copy()


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file of unsigned bytes (gzip-compressed or raw) into a uint8 array.

    Raises DataError naming the file if it cannot be read or decompressed, or if the
    magic number, the dimensions or the length of the data are wrong.
    """
    path = Path(path)
    return _parse_idx(_open_bytes(path), path)


def check_mnist_arrays(images: np.ndarray, labels: np.ndarray, images_path, labels_path,
                       count: int | None = None) -> None:
    """DataError unless ``images`` is (N, 28, 28), ``labels`` (N,) digits 0-9, and N == ``count`` if given."""
    if images.ndim != 3 or images.shape[1:] != (28, 28):
        raise DataError(f"{images_path}: holds an array of shape {images.shape}; MNIST images are "
                        "(N, 28, 28): this is not an MNIST images file")
    if labels.ndim != 1:
        raise DataError(f"{labels_path}: holds an array of shape {labels.shape}; MNIST labels are (N,): "
                        "this is not an MNIST labels file")
    if count is not None and len(images) != count:
        raise DataError(f"{images_path}: holds {len(images):,} images where {count:,} were expected; "
                        "delete it and download it again")
    if len(labels) != len(images):
        raise DataError(f"{labels_path} holds {len(labels):,} labels but {images_path} holds "
                        f"{len(images):,} images; the two files do not belong together")
    bad = labels > 9
    if bad.any():
        raise DataError(f"{labels_path}: {int(bad.sum()):,} labels lie outside the digits 0-9 (the first "
                        f"is {int(labels[bad][0])} at position {int(np.flatnonzero(bad)[0])}); the file "
                        "is corrupt: delete it and download it again")


def search_folders(root: str | os.PathLike | None = None) -> list[Path]:
    """Where MNIST is looked for, in order: ``root``, GAN_LESSONS_DATA, the default cache."""
    if root is not None and not isinstance(root, (str, os.PathLike)):
        raise ValueError(f"root must be a folder's path (a str or pathlib.Path), got {root!r}")
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
        arrays[kind] = (read_idx(path), path)
    (images, images_path), (labels, labels_path) = arrays["images"], arrays["labels"]
    check_mnist_arrays(images, labels, images_path, labels_path, count=MNIST_FILES[(split, "images")].count)
    return torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))


def md5sum(path: Path) -> str:
    """The MD5 hex digest of a file (the checksum the MNIST mirrors publish)."""
    h = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _urllib_fetch(url: str, destination: Path) -> None:
    with urllib.request.urlopen(url, timeout=60) as response, open(destination, "wb") as out:
        total = int(response.headers.get("Content-Length") or 0)
        with Progress(total // 1024, "downloading " + destination.name.split(".")[0], unit="kB") as bar:
            for block in iter(lambda: response.read(1 << 16), b""):
                out.write(block)
                bar.update(len(block) // 1024)


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
SOURCES = ("train", "test", "sample")
# Images 59,000-59,999 of the training split (or 8,000-8,999 of the test split standing in
# for it) are held out: Parzen's sigma is chosen on them (Goodfellow et al. 2014), and no
# model trains on them.
N_VALID = 1000
TEST_STANDIN_TRAIN = 8000


def has_test_split(root: str | os.PathLike | None = None) -> bool:
    """Whether both files of MNIST's test split are in one of ``search_folders(root)``."""
    folders = search_folders(root)
    return all(_find(MNIST_FILES[("test", kind)], folders) is not None for kind in ("images", "labels"))


def mnist_source(root: str | os.PathLike | None = None) -> str:
    """Which images the lessons train on: "train", "test" or "sample".

    GAN_LESSONS_MNIST if set; else, in quick mode, "test" where MNIST's test split is on the
    machine (``root``, GAN_LESSONS_DATA or the cache folder) and "sample" (the course's bundled
    3,000 images) where it is not; else "train", the 60,000-image training split.

    "test" makes the 10,000-image test split stand in for the training split, cut into three
    disjoint parts (see ``load_splits``), for machines that cannot download the training split.
    """
    raw = os.environ.get(SOURCE_ENV, "").strip().lower()
    if raw:
        return check_choice(SOURCE_ENV, raw, SOURCES)
    if quick_mode():
        return "test" if has_test_split(root) else "sample"
    return "train"


def images_file(root: str | os.PathLike | None = None) -> Path:
    """An MNIST images file to read by hand: the test split's if it is on the machine, else the
    course's bundled sample (same IDX format, 3,000 images)."""
    from .mnist_sample import IMAGES_FILE, SAMPLE_DIR

    found = _find(MNIST_FILES[("test", "images")], search_folders(root))
    return found if found is not None else SAMPLE_DIR / IMAGES_FILE


def load_sample() -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
    """The bundled sample's images and labels, as dicts keyed "train", "valid" and "test".

    Raises DataError if the package's copy is missing or altered (its sha256 is checked).
    """
    from . import mnist_sample as ms

    arrays = {}
    for name in (ms.IMAGES_FILE, ms.LABELS_FILE):
        path = ms.SAMPLE_DIR / name
        raw = _open_bytes(path)
        if hashlib.sha256(raw).hexdigest() != ms.SHA256[name]:
            raise DataError(f"{path}: the course's MNIST sample has been altered or damaged (its sha256 "
                            "differs from the one it shipped with); restore it with `git checkout -- "
                            f"{ms.SAMPLE_DIR.name}` or reinstall the package")
        arrays[name] = (_parse_idx(raw, path), path)
    (images, images_path), (labels, labels_path) = arrays[ms.IMAGES_FILE], arrays[ms.LABELS_FILE]
    check_mnist_arrays(images, labels, images_path, labels_path, count=ms.N_SAMPLE)
    x, y = torch.from_numpy(images), torch.from_numpy(labels.astype(np.int64))
    parts = ms.part_slices()
    return {k: x[v] for k, v in parts.items()}, {k: y[v] for k, v in parts.items()}


@dataclass(frozen=True)
class MnistSplits:
    """Disjoint training, validation and test images (uint8, (N, 28, 28)) with labels (int64).

    Attributes:
        source: "train" (60,000-image training split available), "test" (test split stands
            in) or "sample" (the course's bundled sample of 3,000 test-split images).
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


def _why(source: str) -> str:
    return f"{SOURCE_ENV}={source}" if os.environ.get(SOURCE_ENV, "").strip() else "quick mode"


def load_splits(root: str | os.PathLike | None = None, download: bool = False,
                source: str | None = None) -> MnistSplits:
    """MNIST cut into training, validation and test parts that never overlap.

    With source "train": training = the training split's first 59,000 images, validation =
    its last 1,000, test = the 10,000-image test split. With source "test" (quick mode with
    the test split on the machine, or GAN_LESSONS_MNIST=test): training = test images
    0-7,999, validation = 8,000-8,999, test = 9,000-9,999, so no model is scored on images
    it trained on. With source "sample" (quick mode without MNIST's files, or
    GAN_LESSONS_MNIST=sample): the bundled sample's 2,000 training, 500 validation and 500
    test images, each part balanced by digit; nothing is read from disk outside the package.

    Args:
        root: a folder to look in first (see ``load_mnist``).
        download: fetch missing files (source "train" needs the training split).
        source: "train", "test" or "sample"; default ``mnist_source(root)``.
    """
    source = mnist_source(root) if source is None else check_choice("source", source, SOURCES)
    if source == "sample":
        from .mnist_sample import PARTS

        x, y = load_sample()
        parts = (x["train"], y["train"], x["valid"], y["valid"], x["test"], y["test"])
        words = {"train": "training", "valid": "validation", "test": "test"}
        sizes = ", ".join(f"{10 * n:,} {words[part]}" for part, n in PARTS.items())
        note = (f"MNIST ({_why(source)}): the course's bundled sample of {sum(len(v) for v in x.values()):,} "
                f"test-split images ({sizes}, each part balanced by digit)"
                + ("" if os.environ.get(SOURCE_ENV, "").strip() else ", since MNIST's own files are not on this machine")
                + "; full mode downloads MNIST and scores far higher")
        return MnistSplits(*parts, source=source, note=note)
    try:
        test_x, test_y = load_mnist("test", root=root, download=download)
        if source == "train":
            train_x, train_y = load_mnist("train", root=root, download=download)
    except DataError as err:
        hint = (f"set {SOURCE_ENV}=test to let the test split stand in for the training split (lessons "
                "then say so), or " if source == "train" else "set ")
        raise DataError(f"{err}\nWithout internet access, {hint}{SOURCE_ENV}=sample for the course's "
                        "small bundled sample (3,000 test-split images).") from None
    if source == "train":
        cut = len(train_x) - N_VALID
        parts = (train_x[:cut], train_y[:cut], train_x[cut:], train_y[cut:], test_x, test_y)
        note = (f"MNIST: training on {cut:,} images of the training split; its last {N_VALID:,} "
                f"are held out for validation; the {len(test_x):,}-image test split is the test set")
    else:
        a, b = TEST_STANDIN_TRAIN, TEST_STANDIN_TRAIN + N_VALID
        parts = (test_x[:a], test_y[:a], test_x[a:b], test_y[a:b], test_x[b:], test_y[b:])
        note = (f"MNIST ({_why(source)}): the test split stands in for the training split: training on "
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
