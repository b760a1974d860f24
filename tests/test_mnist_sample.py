"""The bundled MNIST sample: what it holds, that it is the test split's selection, and when it is used."""
import gzip
import hashlib
import tomllib
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_lessons import data, mnist_sample

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data" / "mnist"


def test_the_sample_is_small_balanced_and_matches_its_checksums():
    files = [mnist_sample.SAMPLE_DIR / n for n in (mnist_sample.IMAGES_FILE, mnist_sample.LABELS_FILE)]
    assert sum(f.stat().st_size for f in files) < 1_000_000  # well under the few MB allowed
    for f in files:
        assert hashlib.sha256(gzip.decompress(f.read_bytes())).hexdigest() == mnist_sample.SHA256[f.name]
        assert mnist_sample.SHA256[f.name] in (mnist_sample.SAMPLE_DIR / "README.md").read_text()
    x, y = data.load_sample()
    sizes = {part: len(x[part]) for part in x}
    assert sizes == {"train": 2000, "valid": 500, "test": 500}
    for part, n in mnist_sample.PARTS.items():
        assert torch.bincount(y[part], minlength=10).tolist() == [n] * 10
        assert x[part].dtype == torch.uint8 and x[part].shape[1:] == (28, 28)
    # real digits, not blanks: MNIST's mean pixel is about 33 of 255
    assert 25 < torch.cat(list(x.values())).float().mean().item() < 45


def test_the_attribution_and_licence_sit_beside_the_files_and_in_the_readme():
    beside = (mnist_sample.SAMPLE_DIR / "README.md").read_text()
    assert "LeCun" in beside and "CC BY-SA 3.0" in beside
    readme = (ROOT / "README.md").read_text()
    assert "CC BY-SA 3.0" in readme and "mnist_sample_files" in readme


def test_the_wheel_carries_the_sample():
    package_data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    patterns = package_data["gan_lessons"]
    for f in mnist_sample.SAMPLE_DIR.iterdir():
        rel = f"mnist_sample_files/{f.name}"
        assert any(Path(rel).match(p) for p in patterns), f"{rel} would be left out of the wheel"


def test_sample_indices_on_a_hand_made_label_list(monkeypatch):
    monkeypatch.setattr(mnist_sample, "PARTS", {"train": 2, "valid": 1, "test": 1})
    monkeypatch.setattr(mnist_sample, "PER_DIGIT", 4)
    labels = np.array([d for _ in range(5) for d in range(10)])  # 0..9 five times
    idx = mnist_sample.sample_indices(labels)
    # digit d sits at d, d+10, d+20, ...: its first two go to training, the third to validation
    assert idx["train"].tolist() == sorted(list(range(10)) + list(range(10, 20)))
    assert idx["valid"].tolist() == list(range(20, 30)) and idx["test"].tolist() == list(range(30, 40))
    with pytest.raises(ValueError, match="digit 9"):
        mnist_sample.sample_indices(labels[labels != 9])


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared MNIST test split is not beside the checkout")
def test_the_sample_is_the_first_300_of_each_digit_of_the_real_test_split():
    images, labels = data.load_mnist("test", root=SHARED)
    labels = labels.numpy()
    x, y = data.load_sample()
    for part, (lo, hi) in {"train": (0, 200), "valid": (200, 250), "test": (250, 300)}.items():
        want = np.sort(np.concatenate([np.flatnonzero(labels == d)[lo:hi] for d in range(10)]))
        assert torch.equal(x[part], images[want]) and y[part].tolist() == labels[want].tolist()


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared MNIST test split is not beside the checkout")
def test_rebuilding_the_sample_gives_the_same_bytes(tmp_path):
    images, labels = data.load_mnist("test", root=SHARED)
    digests = mnist_sample.write_sample(images.numpy(), labels.numpy(), tmp_path)
    assert digests == mnist_sample.SHA256
    for name in digests:
        assert (tmp_path / name).read_bytes() == (mnist_sample.SAMPLE_DIR / name).read_bytes()


def no_mnist_anywhere(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(tmp_path / "empty"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("GAN_LESSONS_MNIST", raising=False)


def test_quick_mode_uses_the_sample_when_no_mnist_files_are_found_and_says_so(tmp_path, monkeypatch):
    no_mnist_anywhere(monkeypatch, tmp_path)
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    assert data.mnist_source() == "sample"
    s = data.load_splits(download=True)  # must not try to download anything
    assert s.source == "sample" and "bundled sample" in s.note and "quick mode" in s.note
    parts = [s.train_images, s.valid_images, s.test_images]
    assert [len(p) for p in parts] == [2000, 500, 500]
    flat = torch.cat(parts).reshape(3000, -1)
    assert len(torch.unique(flat, dim=0)) == 3000  # no image in two parts


def test_quick_mode_prefers_the_real_test_split_when_it_is_there(tmp_path, monkeypatch):
    no_mnist_anywhere(monkeypatch, tmp_path)
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    folder = tmp_path / "empty"
    folder.mkdir()
    for kind in ("images", "labels"):
        (folder / data.MNIST_FILES[("test", kind)].name).write_bytes(b"present")
    assert data.mnist_source() == "test"


def test_full_mode_never_falls_back_to_the_sample(tmp_path, monkeypatch):
    no_mnist_anywhere(monkeypatch, tmp_path)
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    assert data.mnist_source() == "train"
    with pytest.raises(data.DataError, match="GAN_LESSONS_MNIST=sample"):
        data.load_splits()
    monkeypatch.setenv("GAN_LESSONS_MNIST", "sample")  # asked for by name, it is used
    assert data.load_splits().source == "sample"


def test_an_altered_sample_is_refused_with_what_to_do(tmp_path, monkeypatch):
    folder = tmp_path / "copy"
    folder.mkdir()
    for name in (mnist_sample.IMAGES_FILE, mnist_sample.LABELS_FILE):
        (folder / name).write_bytes((mnist_sample.SAMPLE_DIR / name).read_bytes())
    raw = bytearray(gzip.decompress((folder / mnist_sample.LABELS_FILE).read_bytes()))
    raw[100] = (raw[100] + 1) % 10
    (folder / mnist_sample.LABELS_FILE).write_bytes(gzip.compress(bytes(raw)))
    monkeypatch.setattr(mnist_sample, "SAMPLE_DIR", folder)
    with pytest.raises(data.DataError, match=r"sample-labels.*altered.*(reinstall|git checkout)"):
        data.load_sample()
