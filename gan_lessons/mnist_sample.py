"""The small, balanced sample of MNIST that ships inside the package.

Quick mode and the tests train and score on it whenever the real MNIST files are not on
the machine, so a fresh clone runs offline. It is taken from MNIST's test split: for each
digit, the first ``PER_DIGIT`` images of that digit in the split's order. Within the
sample the images are stored in three parts, training, validation and test, each holding
the same number of every digit and keeping the split's order, so ``load_splits`` cuts it
at fixed places. Full mode never uses it: it downloads and verifies the real MNIST.

MNIST (Y. LeCun, C. Cortes, C. J. C. Burges) is available under the Creative Commons
Attribution-Share Alike 3.0 licence; ``mnist_sample_files/README.md`` says so beside the files.

Rebuild the files from the test split (a maintainer's step; the result is byte-identical):

    python -m gan_lessons.mnist_sample path/to/folder/with/t10k-files
"""
from __future__ import annotations

import gzip
import hashlib
import struct
import sys
from pathlib import Path

import numpy as np

SAMPLE_DIR = Path(__file__).resolve().parent / "mnist_sample_files"
IMAGES_FILE = "sample-images-idx3-ubyte.gz"
LABELS_FILE = "sample-labels-idx1-ubyte.gz"
# Per digit: 200 training, 50 validation and 50 test images (3,000 in all).
PARTS = {"train": 200, "valid": 50, "test": 50}
PER_DIGIT = sum(PARTS.values())
N_SAMPLE = 10 * PER_DIGIT
# sha256 of the uncompressed IDX bytes, checked on every load.
SHA256 = {IMAGES_FILE: "8d882a3afedd04ba8e31d1971447cd960a2aa848bb393dd8c88bfd32baeb4f91",
          LABELS_FILE: "7cce3a513b1bcd632067912b15d50ca7586b2982a9b24b103944293335cc7066"}


def sample_indices(labels: np.ndarray) -> dict[str, np.ndarray]:
    """Indices into the test split of each part of the sample, in the order they are stored.

    For digit k, the first ``PER_DIGIT`` indices i with labels[i] == k are cut, in order,
    into PARTS["train"], PARTS["valid"] and PARTS["test"] of them; each part then lists
    its indices of all ten digits in ascending order.

    Args:
        labels: (N,) the test split's labels, 0-9.
    """
    labels = np.asarray(labels)
    out = {part: [] for part in PARTS}
    for digit in range(10):
        where = np.flatnonzero(labels == digit)
        if len(where) < PER_DIGIT:
            raise ValueError(f"labels holds {len(where)} images of digit {digit}; the sample needs {PER_DIGIT}")
        start = 0
        for part, n in PARTS.items():
            out[part].append(where[start: start + n])
            start += n
    return {part: np.sort(np.concatenate(chunks)) for part, chunks in out.items()}


def _idx_bytes(array: np.ndarray) -> bytes:
    """An IDX file of unsigned bytes: header (0, 0x08, ndim), one big-endian size per dim, the values."""
    header = struct.pack(">HBB", 0, 0x08, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_sample(images: np.ndarray, labels: np.ndarray, folder: str | Path = SAMPLE_DIR) -> dict[str, str]:
    """Write the sample of the test split (``images`` (10000, 28, 28), ``labels``) into ``folder``.

    Returns the sha256 of each file's uncompressed bytes (what ``SHA256`` must hold).
    The gzip header carries no time stamp, so the same input gives the same bytes.
    """
    idx = sample_indices(labels)
    order = np.concatenate([idx[part] for part in PARTS])
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    digests = {}
    for name, array in ((IMAGES_FILE, np.asarray(images)[order]), (LABELS_FILE, np.asarray(labels)[order])):
        raw = _idx_bytes(array)
        (folder / name).write_bytes(gzip.compress(raw, compresslevel=9, mtime=0))
        digests[name] = hashlib.sha256(raw).hexdigest()
    return digests


def part_slices() -> dict[str, slice]:
    """Where each part lies in the stored sample: training, then validation, then test."""
    out, start = {}, 0
    for part, n in PARTS.items():
        out[part] = slice(start, start + 10 * n)
        start += 10 * n
    return out


if __name__ == "__main__":  # pragma: no cover - a maintainer's command
    from .data import load_mnist

    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m gan_lessons.mnist_sample FOLDER_WITH_THE_T10K_FILES")
    x, y = load_mnist("test", root=sys.argv[1])
    for name, digest in write_sample(x.numpy(), y.numpy()).items():
        print(f"{name}: sha256 {digest}")
