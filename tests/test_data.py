"""The MNIST reader and downloader, on tiny IDX files made here; the network is never touched."""
import gzip
import hashlib
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_lessons import data

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "mnist"


def idx_bytes(array: np.ndarray, dtype_code: int = 0x08) -> bytes:
    array = np.asarray(array, dtype=np.uint8)
    header = struct.pack(">HBB", 0, dtype_code, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


@pytest.fixture
def images():
    return np.arange(3 * 28 * 28, dtype=np.uint64).reshape(3, 28, 28).astype(np.uint8)


@pytest.mark.parametrize("compress", [False, True])
def test_read_idx_round_trips_raw_and_gzip(tmp_path, images, compress):
    raw = idx_bytes(images)
    path = tmp_path / ("x.gz" if compress else "x")
    path.write_bytes(gzip.compress(raw) if compress else raw)
    out = data.read_idx(path)
    assert out.dtype == np.uint8 and np.array_equal(out, images)


def test_truncated_file_names_the_file_and_the_problem(tmp_path, images):
    path = tmp_path / "short-idx3-ubyte"
    path.write_bytes(idx_bytes(images)[:-10])
    with pytest.raises(data.DataError, match=r"short-idx3-ubyte.*truncated"):
        data.read_idx(path)
    gz = tmp_path / "short.gz"
    gz.write_bytes(gzip.compress(idx_bytes(images))[:-8])
    with pytest.raises(data.DataError, match=r"short\.gz.*(gzip|truncated)"):
        data.read_idx(gz)


def test_wrong_magic_number(tmp_path, images):
    path = tmp_path / "float-idx"
    path.write_bytes(idx_bytes(images, dtype_code=0x0D))
    with pytest.raises(data.DataError, match="magic number"):
        data.read_idx(path)


def make_split(folder: Path, n_images: int, n_labels: int, split="test"):
    spec_i, spec_l = data.MNIST_FILES[(split, "images")], data.MNIST_FILES[(split, "labels")]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / spec_i.name).write_bytes(gzip.compress(idx_bytes(np.zeros((n_images, 28, 28)))))
    (folder / spec_l.name).write_bytes(gzip.compress(idx_bytes(np.arange(n_labels) % 10)))


def test_mismatched_counts_are_refused(tmp_path):
    make_split(tmp_path, n_images=10000, n_labels=9999)
    with pytest.raises(data.DataError, match="labels"):
        data.load_mnist("test", root=tmp_path)


def test_missing_data_says_which_files_to_put_where(tmp_path, monkeypatch):
    monkeypatch.delenv("GAN_LESSONS_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(data.DataError) as err:
        data.load_mnist("train", root=tmp_path / "mine")
    msg = str(err.value)
    assert "train-images-idx3-ubyte.gz" in msg and "train-labels-idx1-ubyte.gz" in msg
    assert str(tmp_path / "mine") in msg and "GAN_LESSONS_DATA" in msg and "download=True" in msg
    with pytest.raises(ValueError, match="split"):
        data.load_mnist("validation", root=tmp_path)


def test_search_order_is_root_then_environment_then_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(tmp_path / "env"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.search_folders(tmp_path / "root") == [tmp_path / "root", tmp_path / "env",
                                                      tmp_path / "cache" / "gan_lessons" / "data"]
    make_split(tmp_path / "env", 10000, 10000)
    images, labels = data.load_mnist("test", root=tmp_path / "root")  # falls through to the environment
    assert images.shape == (10000, 28, 28) and labels.dtype == torch.int64


def fake_fetcher(payload: bytes, fail_first: int = 0, log=None):
    state = {"calls": 0}

    def fetch(url, destination):
        state["calls"] += 1
        if log is not None:
            log.append(url)
        if state["calls"] <= fail_first:
            Path(destination).write_bytes(payload[: len(payload) // 2])  # interrupted mid-way
            raise ConnectionError("connection reset")
        Path(destination).write_bytes(payload)
    return fetch


def spec_for(payload: bytes):
    return data.MnistFile("toy-idx1-ubyte.gz", hashlib.md5(payload).hexdigest(), len(payload), 10, 1)


def test_download_verifies_then_renames_into_place(tmp_path):
    payload = gzip.compress(idx_bytes(np.arange(10)))
    urls = []
    path = data.download_file(spec_for(payload), tmp_path, fetch=fake_fetcher(payload, fail_first=1, log=urls))
    assert path == tmp_path / "toy-idx1-ubyte.gz" and path.read_bytes() == payload
    assert len(urls) == 2 and urls[0].startswith(data.MIRRORS[0]) and urls[1].startswith(data.MIRRORS[1])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["toy-idx1-ubyte.gz"]  # no .part left


def test_interrupted_or_corrupt_downloads_leave_nothing_behind(tmp_path):
    payload = gzip.compress(idx_bytes(np.arange(10)))
    with pytest.raises(data.DataError, match=r"(?s)connection reset.*Offline\?"):
        data.download_file(spec_for(payload), tmp_path, fetch=fake_fetcher(payload, fail_first=99))
    with pytest.raises(data.DataError, match="checksum mismatch"):
        data.download_file(spec_for(payload), tmp_path, fetch=fake_fetcher(b"not mnist at all"))
    assert list(tmp_path.iterdir()) == []


def test_published_checksums_are_the_mirrors():
    assert data.MNIST_FILES[("train", "images")].md5 == "f68b3c2dcbeaaa9fbdd348bbdeb94873"
    assert {f.count for f in data.MNIST_FILES.values()} == {60000, 10000}


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared MNIST test split is not beside the checkout")
def test_the_real_test_split_reads_as_published():
    images, labels = data.load_mnist("test", root=SHARED)
    # sha256 of the uncompressed labels file as given in the shared folder's README
    raw = gzip.decompress((SHARED / "t10k-labels-idx1-ubyte.gz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"
    assert images.shape == (10000, 28, 28)
    assert torch.bincount(labels).tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]
    assert images.float().mean().item() == pytest.approx(33.79, abs=0.01)


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared MNIST test split is not beside the checkout")
def test_quick_mode_trains_on_part_of_the_test_split_and_says_so(monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    monkeypatch.delenv("GAN_LESSONS_MNIST", raising=False)
    x, y, note = data.load_training_images(root=SHARED, scale="symmetric")
    assert x.shape == (8000, 1, 28, 28) and x.min() == -1 and x.max() == 1
    assert "quick mode" in note and "test split stands in" in note


@pytest.mark.skipif(not SHARED.is_dir(), reason="the shared MNIST test split is not beside the checkout")
def test_stand_in_splits_are_disjoint_and_cover_the_test_split(monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_MNIST", "test")
    s = data.load_splits(root=SHARED)
    assert s.source == "test" and "GAN_LESSONS_MNIST=test" in s.note
    assert (len(s.train_images), len(s.valid_images), len(s.test_images)) == (8000, 1000, 1000)
    images, labels = data.load_mnist("test", root=SHARED)
    joined = torch.cat([s.train_images, s.valid_images, s.test_images])
    assert torch.equal(joined, images)  # the three parts are the split, in order, without overlap
    assert torch.equal(torch.cat([s.train_labels, s.valid_labels, s.test_labels]), labels)


def test_full_mode_without_the_training_split_says_how_to_stand_in(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    monkeypatch.delenv("GAN_LESSONS_MNIST", raising=False)
    monkeypatch.setenv("GAN_LESSONS_DATA", str(tmp_path))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    make_split(tmp_path, n_images=10000, n_labels=10000)  # only the test split is there
    assert data.mnist_source() == "train"
    with pytest.raises(data.DataError, match="GAN_LESSONS_MNIST=test"):
        data.load_splits()


def test_mnist_source_rejects_unknown_values(monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_MNIST", "valid")
    with pytest.raises(ValueError, match="GAN_LESSONS_MNIST"):
        data.mnist_source()


def test_to_float_scales_and_checks_dtype():
    images = torch.tensor([[[0, 255]]], dtype=torch.uint8)
    assert data.to_float(images).flatten().tolist() == [0.0, 1.0]
    assert data.to_float(images, "symmetric").flatten().tolist() == [-1.0, 1.0]
    with pytest.raises(ValueError, match="uint8"):
        data.to_float(images.float())


def test_batch_sampler_sees_every_image_once_per_epoch():
    images = torch.arange(10).float().view(10, 1)
    labels = torch.arange(10) % 3
    sampler = data.BatchSampler(images, labels)
    g = torch.Generator().manual_seed(0)
    first = torch.cat([sampler(5, g) for _ in range(2)]).flatten()
    assert sorted(first.tolist()) == list(range(10)) and sampler.epoch == 1.0
    x, y = sampler.sample_labelled(4, g)
    assert torch.equal(y, x.flatten().long() % 3)  # labels travel with their images
    again = data.BatchSampler(images, labels)
    g2 = torch.Generator().manual_seed(0)
    assert torch.equal(torch.cat([again(5, g2) for _ in range(2)]).flatten(), first)  # one seed, one order


def test_batch_sampler_rejects_bad_input():
    with pytest.raises(ValueError, match="labels"):
        data.BatchSampler(torch.zeros(4, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="n"):
        data.BatchSampler(torch.zeros(4, 2))(5)
    with pytest.raises(ValueError, match="without labels"):
        data.BatchSampler(torch.zeros(4, 2)).sample_labelled(2)


def write_split(folder: Path, images: np.ndarray, labels: np.ndarray, split="test"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / data.MNIST_FILES[(split, "images")].name).write_bytes(gzip.compress(idx_bytes(images)))
    (folder / data.MNIST_FILES[(split, "labels")].name).write_bytes(gzip.compress(idx_bytes(labels)))


def test_a_corrupt_gzip_stream_gets_a_data_error_not_a_zlib_error(tmp_path, images):
    packed = bytearray(gzip.compress(idx_bytes(images)))
    packed[len(packed) // 2] ^= 0xFF  # damage the middle of the deflate stream
    path = tmp_path / "x-idx3-ubyte.gz"
    path.write_bytes(bytes(packed))
    with pytest.raises(data.DataError, match=r"x-idx3-ubyte\.gz.*damaged.*download it again"):
        data.read_idx(path)
    crc = bytearray(gzip.compress(idx_bytes(images)))
    crc[-6] ^= 0xFF  # a wrong CRC-32 in the trailer
    path.write_bytes(bytes(crc))
    with pytest.raises(data.DataError, match="damaged"):
        data.read_idx(path)


def test_a_folder_or_unreadable_path_gets_a_data_error(tmp_path):
    with pytest.raises(data.DataError, match="is a folder"):
        data.read_idx(tmp_path)
    with pytest.raises(ValueError, match="root must be a folder"):
        data.load_mnist("test", root=42)


def test_images_of_the_wrong_shape_are_refused(tmp_path):
    write_split(tmp_path, np.zeros((10000, 28, 27)), np.arange(10000) % 10)
    with pytest.raises(data.DataError, match=r"t10k-images.*\(10000, 28, 27\).*\(N, 28, 28\)"):
        data.load_mnist("test", root=tmp_path)
    write_split(tmp_path, np.zeros((10000, 784)), np.arange(10000) % 10)
    with pytest.raises(data.DataError, match="not an MNIST images file"):
        data.load_mnist("test", root=tmp_path)


def test_labels_outside_0_to_9_name_the_file_and_the_first_bad_one(tmp_path):
    labels = np.arange(10000) % 10
    labels[1234] = 12
    write_split(tmp_path, np.zeros((10000, 28, 28)), labels)
    with pytest.raises(data.DataError, match=r"t10k-labels.*1 labels lie outside the digits 0-9.*12 at position 1234"):
        data.load_mnist("test", root=tmp_path)


def test_images_and_labels_that_do_not_belong_together(tmp_path):
    write_split(tmp_path, np.zeros((10000, 28, 28)), np.arange(9999) % 10)
    with pytest.raises(data.DataError, match="9,999 labels but .* 10,000 images"):
        data.load_mnist("test", root=tmp_path)


def test_a_header_that_announces_more_than_the_file_holds(tmp_path, images):
    raw = bytearray(idx_bytes(images))
    raw[4:8] = struct.pack(">I", 5)  # says 5 images, holds 3
    path = tmp_path / "liar-idx3-ubyte"
    path.write_bytes(bytes(raw))
    with pytest.raises(data.DataError, match=r"liar-idx3-ubyte.*\(5, 28, 28\).*holds 2,368"):
        data.read_idx(path)
