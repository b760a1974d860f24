"""Checkpoints: round trip, architecture mismatches, no silent overwrite, atomic writes, load-or-train,
and one test per kind of malformed file or argument: each gets the package's own error, and
nothing is changed (models keep their weights, files their bytes)."""
import pickle
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from gan_lessons import checkpoints, models
from gan_lessons.checkpoints import CheckpointError


def snapshot(*nets):
    return [{k: v.clone() for k, v in net.state_dict().items()} for net in nets]


def unchanged(*nets_and_before):
    *nets, before = nets_and_before
    return all(torch.equal(a, b[k]) for net, b in zip(nets, before) for k, a in net.state_dict().items())


def pair(hidden=8):
    return models.MLPGenerator(latent_dim=2, hidden_dims=(hidden,)), models.MLPDiscriminator(in_dim=1, hidden_dims=(hidden,))


def test_round_trip_restores_weights_and_meta(tmp_path):
    G, D = pair()
    path = checkpoints.save_checkpoint(tmp_path / "gan.pt", {"G": G, "D": D}, meta={"epochs": 3, "lr": 2e-4})
    G2, D2 = pair()
    meta = checkpoints.load_checkpoint(path, {"G": G2, "D": D2})
    assert meta == {"epochs": 3, "lr": 2e-4}
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G2.state_dict().values()))


def test_other_architecture_gets_a_clear_error(tmp_path):
    G, D = pair(hidden=8)
    path = checkpoints.save_checkpoint(tmp_path / "gan.pt", {"G": G, "D": D})
    G_big, _ = pair(hidden=16)
    with pytest.raises(checkpoints.CheckpointError, match=r"(?s)another architecture.*G\.net\.0\.weight: saved \[8, 2\], this model \[16, 2\]"):
        checkpoints.load_checkpoint(path, {"G": G_big})
    with pytest.raises(checkpoints.CheckpointError, match="no module called 'classifier'"):
        checkpoints.load_checkpoint(path, {"classifier": G})


def test_existing_checkpoint_is_never_overwritten_silently(tmp_path):
    G, D = pair()
    path = checkpoints.save_checkpoint(tmp_path / "gan.pt", {"G": G})
    before = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        checkpoints.save_checkpoint(path, {"G": pair()[0]})
    assert path.read_bytes() == before
    checkpoints.save_checkpoint(path, {"G": pair()[0]}, overwrite=True)
    assert path.read_bytes() != before


def test_a_failed_save_leaves_no_partial_file(tmp_path, monkeypatch):
    def broken_save(obj, f):
        open(f, "wb").write(b"half")
        raise OSError("disk full")
    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError, match="disk full"):
        checkpoints.save_checkpoint(tmp_path / "gan.pt", {"G": pair()[0]})
    assert list(tmp_path.iterdir()) == []


class Payload:
    """An object whose unpickling would run code (it would write ``MARKER``): weights_only loading must refuse it."""

    def __reduce__(self):
        return (leave_marker, ())


MARKER = Path(tempfile.gettempdir()) / "gan_lessons_checkpoint_marker.txt"


def leave_marker():
    MARKER.write_text("code ran")


def test_arbitrary_pickles_are_refused_without_running_them(tmp_path):
    MARKER.unlink(missing_ok=True)
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "obj": Payload()}, path)
    G = pair()[0]
    before = snapshot(G)
    with pytest.raises(checkpoints.CheckpointError, match=r"not a gan-lessons checkpoint: it holds a Python object "
                                                          r"\(.*leave_marker\) that is neither a tensor nor plain data"):
        checkpoints.load_checkpoint(path, {"G": G})
    assert not MARKER.exists()
    assert unchanged(G, before)


def test_load_or_train_trains_once_then_loads(tmp_path):
    calls = []

    def train_fn():
        calls.append(1)
        with torch.no_grad():
            next(G.parameters()).fill_(0.5)
        return {"trained": True}
    G, _ = pair()
    meta, loaded = checkpoints.load_or_train(tmp_path / "g.pt", {"G": G}, train_fn)
    assert (meta, loaded, len(calls)) == ({"trained": True}, False, 1)
    G, _ = pair()
    meta, loaded = checkpoints.load_or_train(tmp_path / "g.pt", {"G": G}, train_fn)
    assert (meta, loaded, len(calls)) == ({"trained": True}, True, 1)
    assert torch.all(next(G.parameters()) == 0.5)
    checkpoints.load_or_train(tmp_path / "g.pt", {"G": G}, train_fn, retrain=True)
    assert len(calls) == 2


# --- malformed checkpoints: each gets a CheckpointError naming the file and the problem ---------------


def saved_pair(tmp_path, meta=None):
    """A checkpoint of G and D, the two fresh models to load it into, their weights, and the file's bytes."""
    path = checkpoints.save_checkpoint(tmp_path / "gan.pt", dict(zip("GD", pair())), meta=meta)
    G, D = pair()
    return path, G, D


def rewrite(path, change):
    """Load the payload of ``path`` as plain data, let ``change`` edit it, and save it back."""
    payload = torch.load(path, weights_only=True)
    change(payload)
    torch.save(payload, path)
    return path.read_bytes()


def assert_refused(path, nets, pattern, **kwargs):
    """load_checkpoint raises CheckpointError naming ``path`` and matching ``pattern``; nothing changes."""
    before, data = snapshot(*nets), path.read_bytes() if path.is_file() else None
    with pytest.raises(CheckpointError, match=pattern) as err:
        checkpoints.load_checkpoint(path, dict(zip("GD", nets)), **kwargs)
    assert str(path) in str(err.value)
    assert unchanged(*nets, before)
    if data is not None:
        assert path.read_bytes() == data


def drop(key):
    return lambda p: p.pop(key)


def put(*keys_and_value):
    *keys, value = keys_and_value

    def change(p):
        for k in keys[:-1]:
            p = p[k]
        p[keys[-1]] = value(p[keys[-1]]) if callable(value) else value
    return change


@pytest.mark.parametrize("change, pattern", [
    (drop("shapes"), r"cannot be used: its 'shapes' entry is missing.*retrain=True"),
    (drop("state_dicts"), r"its 'state_dicts' entry is missing"),
    (drop("meta"), r"its 'meta' entry is missing"),
    (put("shapes", [1, 2]), r"its 'shapes' entry is a list, not a dict"),
    (put("meta", "notes"), r"its 'meta' entry is a str, not a dict"),
    (put("format", 7), r"format 7, and this gan_lessons reads format 1"),
    (put("state_dicts", "D", [1.0]), r"its entry for 'D' is not a dict"),
    (put("state_dicts", "D", "net.0.weight", lambda t: t.tolist()), r"D\.net\.0\.weight is a list, not a dense tensor"),
    (put("state_dicts", "D", "net.0.bias", lambda t: t.to_sparse()), r"D\.net\.0\.bias is a Tensor, not a dense"),
    # the 'shapes' entry still describes the model; the tensor itself does not
    (put("state_dicts", "D", "net.0.weight", lambda t: torch.zeros(3, 3)),
     r"D\.net\.0\.weight has shape \[3, 3\], but its 'shapes' entry says \[8, 1\]"),
    (put("state_dicts", "D", "net.0.weight", lambda t: torch.full_like(t, float("nan"))),
     r"D\.net\.0\.weight holds NaN or infinite values"),
    (put("state_dicts", "D", "net.0.weight", lambda t: t.long()),
     r"another architecture.*D\.net\.0\.weight: saved as torch\.int64, this model holds torch\.float32"),
])
def test_a_damaged_payload_changes_no_model(tmp_path, change, pattern):
    path, G, D = saved_pair(tmp_path)
    rewrite(path, change)
    assert_refused(path, (G, D), rf"(?s){pattern}")  # G's entry is intact, yet G is not loaded either


@pytest.mark.parametrize("where", ["shapes", "both"])
def test_a_missing_or_extra_parameter_is_named(tmp_path, where):
    path, G, D = saved_pair(tmp_path)

    def change(p):
        for part in (("shapes", "state_dicts") if where == "both" else ("shapes",)):
            p[part]["G"]["extra"] = [1] if part == "shapes" else torch.zeros(1)
            p[part]["G"].pop("net.0.bias")
    rewrite(path, change)
    pattern = (r"G\.net\.0\.bias has shape \[8\], but its 'shapes' entry says None" if where == "shapes" else
               r"(?s)another architecture.*G\.extra: saved \[1\], this model None.*G\.net\.0\.bias: saved None, "
               r"this model \[8\]")
    assert_refused(path, (G, D), pattern)


def torch_file(obj):
    def write(path):
        torch.save(obj, path)
    return write


def zip_file(path):
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("notes.txt", "not torch's")


@pytest.mark.parametrize("write, why", [
    (lambda p: p.write_bytes(np.random.default_rng(0).bytes(500)), "torch cannot read it"),
    (lambda p: p.write_bytes(b""), "torch cannot read it"),
    (lambda p: p.write_text("epochs: 3\n"), "torch cannot read it"),
    (zip_file, "torch cannot read it"),
    (lambda p: p.write_bytes(pickle.dumps({"w": np.zeros(3)})), "torch cannot read it"),
    (torch_file({"format": 1, "w": np.zeros(3)}), r"it holds a Python object \(numpy.*\) that is neither"),
    (lambda p: p.write_bytes(pickle.dumps([1, 2])), "torch cannot read it"),
    (torch_file([1, 2, 3]), "it holds a list"),
    (torch_file(torch.zeros(3)), "it holds a Tensor"),
    (torch_file({"G": torch.zeros(3)}), "it holds a dict without a 'format' entry"),
])
def test_a_file_that_is_not_a_checkpoint_is_named_so(tmp_path, write, why):
    path = tmp_path / "gan.pt"
    write(path)
    assert_refused(path, pair(), rf"is not a gan-lessons checkpoint: {why}.*written by save_checkpoint")


def test_a_cut_short_checkpoint_is_not_a_checkpoint(tmp_path):
    path, G, D = saved_pair(tmp_path)
    path.write_bytes(path.read_bytes()[:300])
    assert_refused(path, (G, D), "not a gan-lessons checkpoint: torch cannot read it")


def test_a_folder_or_a_missing_file_is_named(tmp_path):
    assert_refused(tmp_path, pair(), "is a folder, not a checkpoint file")
    assert_refused(tmp_path / "nothing.pt", pair(), "no such checkpoint")
    G = pair()[0]
    before = snapshot(G)
    with pytest.raises(CheckpointError, match="is a folder"):
        checkpoints.load_or_train(tmp_path, {"G": G}, lambda: pytest.fail("a folder must not be trained over"))
    assert unchanged(G, before)


@pytest.mark.parametrize("meta, required, pattern", [
    ({"epochs": 3}, {"test_accuracy": float}, r"its meta has no 'test_accuracy' \(of type float\)"),
    ({"test_accuracy": "high"}, {"test_accuracy": float}, r"meta\['test_accuracy'\] should be of type float, got str 'high'"),
    ({"test_accuracy": float("nan")}, {"test_accuracy": float}, r"meta\['test_accuracy'\] should be of type float, got float nan"),
    ({"n_test": True}, {"n_test": int}, r"meta\['n_test'\] should be of type int, got bool"),
    ({"n_test": 2.5}, {"n_test": int}, r"meta\['n_test'\] should be of type int, got float"),
    ({"grids": {}}, {"grids": (list, tuple)}, r"meta\['grids'\] should be of type list or tuple, got dict"),
])
def test_a_meta_key_that_is_missing_or_of_the_wrong_type_is_named(tmp_path, meta, required, pattern):
    path, G, D = saved_pair(tmp_path, meta=meta)
    assert_refused(path, (G, D), rf"{pattern}.*Delete the file.*retrain=True", required_meta=required)


def test_required_meta_accepts_what_it_asks_for(tmp_path):
    path, G, D = saved_pair(tmp_path, meta={"test_accuracy": 1, "n_test": 12, "source": "test"})
    meta = checkpoints.load_checkpoint(path, {"G": G}, required_meta={"test_accuracy": float, "n_test": int,
                                                                       "source": str})
    assert meta["n_test"] == 12
    with pytest.raises(ValueError, match="required_meta must map each key to a type"):
        checkpoints.load_checkpoint(path, {"G": G}, required_meta={"n_test": "int"})


def test_the_classifier_and_a_run_refuse_a_checkpoint_without_their_meta(tmp_path):
    from gan_lessons import classifier, mnist_gan
    from gan_lessons.data import MnistSplits

    images, labels = torch.zeros(4, 28, 28, dtype=torch.uint8), torch.zeros(4, dtype=torch.long)
    splits = MnistSplits(images, labels, images, labels, images, labels, source="fake", note="")
    path = tmp_path / "judge.pt"
    checkpoints.save_checkpoint(path, {"classifier": classifier.MnistClassifier()}, meta={"test_accuracy": 0.9})
    data = path.read_bytes()
    with pytest.raises(CheckpointError, match=rf"{path}.*its meta has no 'n_test' \(of type int\)"):
        classifier.load_or_train_classifier(splits, path=path, verbose=False, progress=False)
    assert path.read_bytes() == data

    G, D = mnist_gan.source_mlp_gan()
    run = {"iterations": [1], "seconds": [0.5], "counts": [], "history": {k: [1.0] for k in mnist_gan.HISTORY_KEYS}}
    for grids, pattern in (([[[1, 2]]], r"meta\['grids'\]\[0\] is not a stack of 28x28 images"),
                           ([np.full((2, 28, 28), 300).tolist()], r"meta\['grids'\]\[0\] is not a stack"),
                           ([np.zeros((2, 28, 28), dtype=int).tolist()] * 2, r"meta\['iterations'\] should hold "
                                                                             r"integers, one per grid \(2\)")):
        path = tmp_path / "run.pt"
        checkpoints.save_checkpoint(path, {"G": G, "D": D}, meta={**run, "grids": grids}, overwrite=True)
        G2, D2 = mnist_gan.source_mlp_gan()
        before = snapshot(G2, D2)
        with pytest.raises(CheckpointError, match=rf"{path} cannot be used: {pattern}"):
            mnist_gan.load_or_train_run(path, {"G": G2, "D": D2}, lambda: pytest.fail("must not train"))
        assert unchanged(G2, D2, before)  # the weights were fine, but a file is loaded whole or not at all


# --- save_checkpoint: arguments that would not load back are refused before anything is written ----


class Custom:
    pass


@pytest.mark.parametrize("kwargs, pattern", [
    ({"models": []}, r"models must be a dict naming at least one module"),
    ({"models": {}}, r"models must be a dict naming at least one module"),
    ({"models": {"G": "generator"}}, r"models\['G'\] must be a torch nn.Module, got str"),
    ({"models": {1: models.MLPGenerator()}}, r"models must be keyed by names"),
    ({"meta": [1, 2]}, r"meta must be a dict \(or None\), got list"),
    ({"meta": {"scores": np.zeros(3)}}, r"meta\['scores'\] is a numpy.ndarray, which torch.load\(weights_only=True\)"),
    ({"meta": {"loss": np.float64(0.5)}}, r"meta\['loss'\] is a numpy.float64"),
    ({"meta": {"runs": [{"obj": Custom()}]}}, r"meta\['runs'\]\[0\]\['obj'\] is a .*Custom"),
    ({"meta": {"history": __import__("gan_lessons.train", fromlist=["History"]).History()}},
     r"meta\['history'\] is a gan_lessons.train.History.*dict\(history\)"),
    ({"path": 3}, r"path must be a file path"),
])
def test_save_checkpoint_refuses_what_would_not_load_back(tmp_path, kwargs, pattern):
    old = checkpoints.save_checkpoint(tmp_path / "gan.pt", {"G": pair()[0]})
    data = old.read_bytes()
    args = {"path": old, "models": {"G": pair()[0]}, "meta": None, "overwrite": True, **kwargs}
    with pytest.raises(ValueError, match=pattern):
        checkpoints.save_checkpoint(**args)
    assert old.read_bytes() == data and [p.name for p in tmp_path.iterdir()] == ["gan.pt"]


def test_save_checkpoint_refuses_diverged_weights_and_a_folder(tmp_path):
    G = pair()[0]
    with torch.no_grad():
        next(G.parameters())[0, 0] = float("inf")
    with pytest.raises(ValueError, match=r"models\['G'\] has NaN or infinite values in net.0.weight"):
        checkpoints.save_checkpoint(tmp_path / "gan.pt", {"G": G})
    with pytest.raises(ValueError, match="is a folder"):
        checkpoints.save_checkpoint(tmp_path, {"G": pair()[0]}, overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(ValueError, match="part of its folder is a file"):
        checkpoints.save_checkpoint(tmp_path / "file" / "gan.pt", {"G": pair()[0]})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


def test_load_or_train_checks_its_arguments_before_training(tmp_path):
    with pytest.raises(ValueError, match="train_fn must be a function"):
        checkpoints.load_or_train(tmp_path / "g.pt", {"G": pair()[0]}, "train")
    with pytest.raises(ValueError, match="models must be a dict"):
        checkpoints.load_or_train(tmp_path / "g.pt", pair()[0], lambda: pytest.fail("must not train"))
    with pytest.raises(ValueError, match="train_fn must return a dict of meta.*nothing was saved"):
        checkpoints.load_or_train(tmp_path / "g.pt", {"G": pair()[0]}, lambda: [1])
    assert list(tmp_path.iterdir()) == []


def test_load_or_train_never_retrains_over_a_damaged_checkpoint(tmp_path):
    path = tmp_path / "g.pt"
    path.write_text("my notes")
    with pytest.raises(CheckpointError, match="not a gan-lessons checkpoint"):
        checkpoints.load_or_train(path, {"G": pair()[0]}, lambda: pytest.fail("must not train"))
    assert path.read_text() == "my notes"
