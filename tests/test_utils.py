"""Seeds, devices, quick mode and folders."""
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_lessons import utils


def test_set_seed_makes_python_numpy_and_torch_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(1).item()
    utils.set_seed(123)
    a = draw()
    utils.set_seed(123)
    assert draw() == a
    utils.set_seed(124)
    assert draw() != a


@pytest.mark.parametrize("seed", [-1, 1.5, "0", None, True])
def test_set_seed_rejects_bad_seeds(seed):
    with pytest.raises(ValueError, match="seed"):
        utils.set_seed(seed)


def test_quick_mode_reads_the_environment(monkeypatch):
    for raw, expected in (("1", True), ("true", True), ("0", False), ("", False)):
        monkeypatch.setenv("GAN_LESSONS_QUICK", raw)
        assert utils.quick_mode() is expected
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    assert utils.budget(full=5000, quick=50) == 50
    monkeypatch.delenv("GAN_LESSONS_QUICK")
    assert utils.quick_mode() is False and utils.budget(full=5000, quick=50) == 5000
    monkeypatch.setenv("GAN_LESSONS_QUICK", "maybe")
    with pytest.raises(ValueError, match="GAN_LESSONS_QUICK"):
        utils.quick_mode()


def test_get_device_can_be_forced(monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_DEVICE", "cpu")
    assert utils.get_device() == torch.device("cpu")
    monkeypatch.delenv("GAN_LESSONS_DEVICE")
    best = utils.get_device()
    assert best.type == ("cuda" if torch.cuda.is_available() else best.type)
    monkeypatch.setenv("GAN_LESSONS_DEVICE", "tpu")
    with pytest.raises(ValueError, match="GAN_LESSONS_DEVICE"):
        utils.get_device()
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="cuda"):
            utils.get_device("cuda")


def test_data_dir_argument_then_environment_then_cache(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_LESSONS_DATA", str(tmp_path / "env"))
    assert utils.data_dir(tmp_path / "arg") == tmp_path / "arg"
    assert utils.data_dir() == tmp_path / "env"
    monkeypatch.delenv("GAN_LESSONS_DATA")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert utils.data_dir() == tmp_path / "cache" / "gan_lessons" / "data"
    assert not utils.data_dir().exists()  # reading never creates folders


def test_checkpoint_dir_is_created(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path / "ckpt"))
    out = utils.checkpoint_dir()
    assert out == tmp_path / "ckpt" and out.is_dir()
    assert utils.checkpoint_dir(tmp_path / "other").is_dir()


def test_make_generator_is_seeded():
    a = torch.rand(3, generator=utils.make_generator(9))
    assert torch.equal(a, torch.rand(3, generator=utils.make_generator(9)))


def test_check_helpers_name_the_argument():
    with pytest.raises(ValueError, match=r"batch_size must be between 1 and 10"):
        utils.check_int("batch_size", 11, low=1, high=10)
    with pytest.raises(ValueError, match=r"lr must be in \(0"):
        utils.check_float("lr", 0.0, low=0.0, high=1.0, low_open=True)
    with pytest.raises(ValueError, match="lr must be finite"):
        utils.check_float("lr", float("nan"))
    with pytest.raises(ValueError, match="'a', 'b'"):
        utils.check_choice("mode", "c", ("a", "b"))
    assert Path(utils.__file__).exists()


def test_check_pixel_range_accepts_an_increasing_pair_and_names_itself_otherwise():
    assert utils.check_pixel_range((-1, 1)) == (-1.0, 1.0)
    assert utils.check_pixel_range(np.array([0, 255])) == (0.0, 255.0)
    for bad in [(1, 0), (0.5, 0.5), (float("nan"), 1.0), (0, float("inf")), (0, 1, 2), "ab", 3]:
        with pytest.raises(ValueError, match="pixel_range"):
            utils.check_pixel_range(bad)


def test_progress_outside_a_notebook_rewrites_one_line_and_ends_with_the_total(capsys):
    with utils.Progress(5, "training", every=0.0) as bar:
        for _ in range(5):
            bar.update()
    err = capsys.readouterr().err
    lines = err.split("\r")
    assert "training: 3/5 it (60 %)" in err
    assert lines[-1].startswith("training: 5/5 it in ") and lines[-1].endswith(" s\n")
    with pytest.raises(ValueError, match="total"):
        utils.Progress(-1)
    with pytest.raises(ValueError, match="n must be"):
        utils.Progress(3).update(-2)


def test_progress_in_a_notebook_updates_one_display_and_makes_no_widget(monkeypatch):
    shown, updated = [], []

    class Handle:
        display_id = "bar-1"

    class Shell:
        kernel = object()

    import IPython
    import IPython.display
    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    def display(bundle, raw, display_id):
        assert raw and display_id  # a plain-text display that can be updated, never a widget
        shown.append(bundle["text/plain"])
        return Handle()

    def update_display(bundle, raw, display_id):
        updated.append((bundle["text/plain"], display_id))
    monkeypatch.setattr(IPython.display, "display", display)
    monkeypatch.setattr(IPython.display, "update_display", update_display)
    bar = utils.Progress(4, "classifier", every=0.0)
    bar.update(2)
    bar.close()
    assert shown == ["classifier: 0/4 it (0 %), 0 s"]
    assert updated[0][0].startswith("classifier: 2/4 it (50 %)")
    # closed after 2 of 4: the finished line says how far it got, in the same display
    assert updated[-1][1] == "bar-1" and updated[-1][0].startswith("classifier: 2/4 it in ")


def test_short_path_hides_the_machine_s_folders(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path / "ck"))
    assert utils.short_path(tmp_path / "ck" / "g.pt") == "g.pt in the checkpoint folder"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "home" / "data").mkdir(parents=True)
    assert utils.short_path(tmp_path / "home" / "data" / "x.gz") == "~/data/x.gz"
    assert utils.short_path("/elsewhere/x.gz") == "/elsewhere/x.gz"
