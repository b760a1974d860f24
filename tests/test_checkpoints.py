"""Checkpoints: round trip, architecture mismatches, no silent overwrite, atomic writes, load-or-train."""
import pytest
import torch

from gan_lessons import checkpoints, models


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
    """Any object that is not tensors and plain data: weights_only loading must refuse it."""


def test_arbitrary_pickles_are_refused(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": 1, "obj": Payload()}, path)
    with pytest.raises(checkpoints.CheckpointError, match="not a readable checkpoint"):
        checkpoints.load_checkpoint(path, {"G": pair()[0]})


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
