"""Lessons 08-10's MNIST helpers: the models' architectures, sampling, digit counts, runs with
snapshots, load-or-train, and the live view, on tiny fake data made here (MNIST is never read)."""
import math
from collections import Counter

import numpy as np
import pytest
import torch
from fakes import LabelEchoG, lit_pixel_images, pixel_classifier
from matplotlib.backends.backend_agg import FigureCanvasAgg
from torch import nn

from gan_lessons import mnist_gan, plots
from gan_lessons.classifier import MnistClassifier
from gan_lessons.data import BatchSampler, MnistSplits
from gan_lessons.models import MLPGenerator, count_parameters
from gan_lessons.train import GANTrainer

pytestmark = pytest.mark.usefixtures("one_thread")


def seeded(seed):
    return torch.Generator().manual_seed(seed)


def tiny_trainer(seed=0, build=mnist_gan.source_mlp_gan, symmetric=False):
    """The source model on 64 random flattened images in [0, 1] (or [-1, 1]), batches of 16."""
    G, D = build()
    x = torch.rand(64, 784, generator=seeded(100))
    return GANTrainer(G, D, BatchSampler(2 * x - 1 if symmetric else x), batch_size=16, seed=seed, device="cpu")


def as_uint8(images, lo=0.0, hi=1.0):
    """Pixels in [lo, hi] to 0-255, written independently of the module."""
    return torch.round(torch.clamp((images - lo) / (hi - lo), 0, 1) * 255).to(torch.uint8)


def constant_classifier(digit: int) -> MnistClassifier:
    """A classifier that reads every image as ``digit``: zero head weights, one large bias."""
    model = MnistClassifier()
    with torch.no_grad():
        model.head.weight.zero_()
        model.head.bias.fill_(-5.0)
        model.head.bias[digit] = 5.0
    return model


def layer_types(net):
    return [type(m) for m in net.modules() if not isinstance(m, nn.Sequential) and m is not net]


# -- the models -----------------------------------------------------------------------------


def test_source_model_is_the_issues_architecture():
    G, D = mnist_gan.source_mlp_gan()
    assert count_parameters(G) == (128 * 256 + 256) + (256 * 784 + 784)
    assert count_parameters(D) == (784 * 256 + 256) + (256 + 1)
    assert sum(p.numel() for p in G.parameters()) == 234_512
    assert layer_types(G) == [nn.Linear, nn.ReLU, nn.Linear, nn.Sigmoid]
    assert layer_types(D) == [nn.Linear, nn.ReLU, nn.Linear]
    assert [(m.in_features, m.out_features) for m in G.modules() if isinstance(m, nn.Linear)] == [(128, 256),
                                                                                                  (256, 784)]
    assert [(m.in_features, m.out_features) for m in D.modules() if isinstance(m, nn.Linear)] == [(784, 256),
                                                                                                  (256, 1)]
    with torch.no_grad():
        x = G(10 * torch.randn(32, 128, generator=seeded(0)))  # large z: saturates the sigmoid
        assert x.shape == (32, 784) and x.min() >= 0 and x.max() <= 1
        assert D(x).shape == (32,)


def test_improved_model_is_deeper_leaky_and_symmetric():
    w = 8
    G, D = mnist_gan.improved_mlp_gan(width=w)
    assert count_parameters(G) == (128 * w + w) + (w * 2 * w + 2 * w) + (2 * w * 784 + 784)
    assert count_parameters(D) == (784 * 2 * w + 2 * w) + (2 * w * w + w) + (w + 1)
    for net in (G, D):
        leaky = [m for m in net.modules() if isinstance(m, nn.LeakyReLU)]
        assert len(leaky) == 2 and all(m.negative_slope == 0.2 for m in leaky)
        assert not any(isinstance(m, nn.ReLU) for m in net.modules())
    assert isinstance(list(G.modules())[-1], nn.Tanh)
    with torch.no_grad():
        x = G(10 * torch.randn(64, 128, generator=seeded(0)))
    assert x.min() >= -1 and x.max() <= 1 and x.min() < 0  # uses the negative half too
    with pytest.raises(ValueError, match="width"):
        mnist_gan.improved_mlp_gan(width=0)


# -- sample_images --------------------------------------------------------------------------


def test_sample_images_is_reproducible_and_equals_g_of_its_own_noise():
    G, _ = mnist_gan.source_mlp_gan()
    a = mnist_gan.sample_images(G, 10, seed=3)
    assert a.shape == (10, 784)
    assert torch.equal(a, mnist_gan.sample_images(G, 10, seed=3))
    assert not torch.equal(a, mnist_gan.sample_images(G, 10, seed=4))
    with torch.no_grad():
        expected = G(G.sample_z(10, generator=seeded(3)))
    assert torch.allclose(a, expected, atol=1e-6)
    assert torch.allclose(mnist_gan.sample_images(G, 10, seed=3, batch_size=3), a, atol=1e-6)  # 3+3+3+1


@pytest.mark.parametrize("training", [True, False])
def test_sample_images_generates_in_eval_mode_and_restores_the_mode(training):
    G, _ = mnist_gan.source_mlp_gan()
    G.train(training)
    seen = []
    G.net.register_forward_pre_hook(lambda m, args: seen.append(m.training))
    mnist_gan.sample_images(G, 5, batch_size=2)
    assert seen == [False, False, False]
    assert G.training is training and all(m.training is training for m in G.modules())


def test_sample_images_passes_each_label_with_its_sample_and_checks_the_shape():
    out = mnist_gan.sample_images(LabelEchoG(), 5, labels=[3, 1, 4, 1, 5], batch_size=2)
    assert out[:, 0].tolist() == [3, 1, 4, 1, 5] and torch.equal(out, out[:, :1].expand(5, 784))
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        mnist_gan.sample_images(LabelEchoG(), 5, labels=torch.zeros(4))
    with pytest.raises(ValueError, match=r"labels must have shape \(5,\)"):
        mnist_gan.sample_images(LabelEchoG(), 5, labels=torch.zeros(5, 1))
    with pytest.raises(ValueError, match="n must be"):
        mnist_gan.sample_images(LabelEchoG(), 0)


@pytest.mark.parametrize("batch_size", [0, -1])
def test_sample_images_refuses_a_bad_batch_size_by_name(batch_size):
    G, _ = mnist_gan.source_mlp_gan()
    with pytest.raises(ValueError, match="batch_size"):
        mnist_gan.sample_images(G, 3, batch_size=batch_size)


def test_sample_images_uses_the_generators_own_noise_distribution():
    G = MLPGenerator(latent_dim=4, hidden_dims=(), out_dim=4, noise="uniform")
    with torch.no_grad():  # G(z) = z
        G.net[0].weight.copy_(torch.eye(4))
        G.net[0].bias.zero_()
    x = mnist_gan.sample_images(G, 500, seed=0)
    assert x.abs().max() <= 1.0


# -- digit_counts ---------------------------------------------------------------------------


def test_digit_counts_on_a_hand_made_case():
    digits = [0, 0, 3, 9, 9, 9, 5]
    counts = mnist_gan.digit_counts(lit_pixel_images(digits), pixel_classifier())
    assert counts.shape == (10,) and np.issubdtype(counts.dtype, np.integer)
    assert counts.tolist() == [2, 0, 0, 1, 0, 1, 0, 0, 0, 3]
    symmetric = mnist_gan.digit_counts(2 * lit_pixel_images(digits) - 1, pixel_classifier(), (-1.0, 1.0))
    assert symmetric.tolist() == counts.tolist()


def test_digit_counts_match_the_argmax_of_the_softmax_counted_by_hand():
    torch.manual_seed(0)
    model = MnistClassifier().eval()
    x = torch.rand(40, 784, generator=seeded(1))
    counts = mnist_gan.digit_counts(x, model)
    assert counts.sum() == 40
    with torch.no_grad():
        hand = Counter(torch.softmax(model(x), 1).argmax(1).tolist())
    assert counts.tolist() == [hand.get(d, 0) for d in range(10)]


# -- snapshot_every -------------------------------------------------------------------------


@pytest.mark.parametrize("num_iterations, per_epoch, max_snapshots, expected", [
    (1000, 100, 30, 100),    # ten epochs: one snapshot per epoch
    (10_000, 100, 30, 334),  # a hundred epochs: spread 30 snapshots instead
    (50, 100, 30, 100),      # shorter than an epoch: one snapshot, at the end
    (30, 1, 30, 1),
    (31, 1, 30, 2),
    (100, 1, 5, 20),
])
def test_snapshot_every_cases(num_iterations, per_epoch, max_snapshots, expected):
    assert mnist_gan.snapshot_every(num_iterations, per_epoch, max_snapshots) == expected


def test_snapshot_every_is_the_smallest_gap_of_at_least_an_epoch_within_the_limit():
    for n in (1, 7, 99, 100, 101, 2999, 12_000):
        for per_epoch in (1, 3, 80, 590):
            for m in (1, 10, 30):
                every = mnist_gan.snapshot_every(n, per_epoch, m)
                assert every >= per_epoch and math.ceil(n / every) <= m
                assert every == per_epoch or math.ceil(n / (every - 1)) > m


@pytest.mark.parametrize("args, name", [((0, 10), "num_iterations"), ((10, 0), "iterations_per_epoch"),
                                        ((10.5, 10), "num_iterations")])
def test_snapshot_every_refuses_bad_arguments(args, name):
    with pytest.raises(ValueError, match=name):
        mnist_gan.snapshot_every(*args)


def test_snapshot_every_refuses_zero_snapshots():
    with pytest.raises(ValueError, match="max_snapshots"):
        mnist_gan.snapshot_every(100, 10, max_snapshots=0)


# -- train_run ------------------------------------------------------------------------------


class CountingView:
    def __init__(self):
        self.calls = []

    def update(self, history, record):
        self.calls.append((len(history), list(record["iterations"])))


def test_train_run_snapshots_grids_and_counts_and_continues():
    tr = tiny_trainer()
    fixed_z = torch.randn(6, 128, generator=seeded(7))
    view = CountingView()
    rec = mnist_gan.train_run(tr, 7, 3, fixed_z, classifier=constant_classifier(7), n_classify=20, view=view,
                              progress=False)
    assert rec["iterations"] == [3, 6, 7]
    assert view.calls == [(3, [3]), (6, [3, 6]), (7, [3, 6, 7])]
    assert len(rec["grids"]) == 3
    assert all(g.dtype == torch.uint8 and g.shape == (6, 28, 28) for g in rec["grids"])
    assert rec["counts"] == [[0] * 7 + [20] + [0, 0]] * 3  # the classifier reads every sample as 7
    assert len(rec["seconds"]) == 3 and 0 <= rec["seconds"][0] <= rec["seconds"][1] <= rec["seconds"][2]
    assert rec["history"]["iteration"] == list(range(1, 8))
    # the last grid is G(fixed_z) after training, computed here
    with torch.no_grad():
        assert torch.equal(rec["grids"][-1], as_uint8(tr.G(fixed_z)).reshape(6, 28, 28))
    # the first grid is G after 3 iterations: replay the same seed for 3 iterations
    replay = tiny_trainer()
    replay.train(3)
    with torch.no_grad():
        assert torch.equal(rec["grids"][0], as_uint8(replay.G(fixed_z)).reshape(6, 28, 28))
    assert not torch.equal(rec["grids"][0], rec["grids"][-1])

    same = mnist_gan.train_run(tr, 4, 3, fixed_z, classifier=constant_classifier(7), n_classify=20,
                               progress=False, record=rec)
    assert same is rec
    assert rec["iterations"] == [3, 6, 7, 10, 11]
    assert len(rec["grids"]) == len(rec["counts"]) == len(rec["seconds"]) == 5
    assert all(a <= b for a, b in zip(rec["seconds"], rec["seconds"][1:]))
    assert rec["history"]["iteration"] == list(range(1, 12))


def test_train_run_counts_sum_to_n_classify_with_an_untrained_classifier():
    torch.manual_seed(0)
    rec = mnist_gan.train_run(tiny_trainer(), 2, 1, torch.randn(3, 128, generator=seeded(0)),
                              classifier=MnistClassifier(), n_classify=25, progress=False)
    assert len(rec["counts"]) == 2
    assert all(len(c) == 10 and sum(c) == 25 and min(c) >= 0 for c in rec["counts"])


def test_train_run_without_classifier_and_with_a_long_gap():
    rec = mnist_gan.train_run(tiny_trainer(), 2, 5, torch.randn(3, 128, generator=seeded(0)), progress=False)
    assert rec["iterations"] == [2] and rec["counts"] == [] and len(rec["grids"]) == 1


def test_train_run_maps_the_symmetric_range_to_uint8():
    tr = tiny_trainer(build=lambda: mnist_gan.improved_mlp_gan(width=8), symmetric=True)
    fixed_z = torch.randn(4, 128, generator=seeded(2))
    rec = mnist_gan.train_run(tr, 1, 1, fixed_z, pixel_range=(-1.0, 1.0), progress=False)
    with torch.no_grad():
        x = tr.G(fixed_z)
    assert x.min() < 0  # the test means something: tanh outputs below zero
    assert torch.equal(rec["grids"][0], as_uint8(x, -1.0, 1.0).reshape(4, 28, 28))


@pytest.mark.parametrize("kwargs, name", [({"num_iterations": 0}, "num_iterations"), ({"every": 0}, "every"),
                                          ({"n_classify": 0}, "n_classify")])
def test_train_run_refuses_bad_arguments(kwargs, name):
    args = {"num_iterations": 2, "every": 1, **kwargs}
    with pytest.raises(ValueError, match=name):
        mnist_gan.train_run(tiny_trainer(), fixed_z=torch.randn(2, 128), progress=False, **args)


# -- checkpoints ----------------------------------------------------------------------------


def test_checkpoint_path_names_source_length_and_mode(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    assert mnist_gan.checkpoint_path("mlp_source", "test", 300) == tmp_path / "mlp_source_test_300it_quick.pt"
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    assert mnist_gan.checkpoint_path("mlp_source", "train", 12_000) == tmp_path / "mlp_source_train_12000it.pt"
    with pytest.raises(ValueError, match="num_iterations"):
        mnist_gan.checkpoint_path("mlp_source", "train", 0)


def test_load_or_train_run_trains_once_then_loads_weights_and_record(tmp_path):
    path = tmp_path / "run.pt"
    fixed_z = torch.randn(4, 128, generator=seeded(3))
    calls = []

    def make_train_fn(G, D):
        def train_fn():
            calls.append(1)
            tr = GANTrainer(G, D, BatchSampler(torch.rand(64, 784, generator=seeded(0))), batch_size=16, device="cpu")
            return mnist_gan.train_run(tr, 3, 2, fixed_z, classifier=constant_classifier(2), n_classify=10,
                                       progress=False)
        return train_fn

    G, D = mnist_gan.source_mlp_gan()
    rec, loaded = mnist_gan.load_or_train_run(path, {"G": G, "D": D}, make_train_fn(G, D))
    assert (loaded, len(calls)) == (False, 1) and path.exists()

    torch.manual_seed(123)  # other initial weights
    G2, D2 = mnist_gan.source_mlp_gan()
    G2.train()
    rec2, loaded = mnist_gan.load_or_train_run(path, {"G": G2, "D": D2}, make_train_fn(G2, D2))
    assert (loaded, len(calls)) == (True, 1)
    assert not G2.training and not D2.training
    for a, b in ((G, G2), (D, D2)):
        assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert len(rec2["grids"]) == len(rec["grids"]) == 2
    assert all(b.dtype == torch.uint8 and torch.equal(a, b) for a, b in zip(rec["grids"], rec2["grids"]))
    for key in ("iterations", "seconds", "counts", "history"):
        assert rec2[key] == rec[key]
    assert rec2["iterations"] == [2, 3] and rec2["counts"] == [[0, 0, 10] + [0] * 7] * 2

    _, loaded = mnist_gan.load_or_train_run(path, {"G": G2, "D": D2}, make_train_fn(G2, D2), retrain=True)
    assert (loaded, len(calls)) == (False, 2)


def fake_splits(n_train=200) -> MnistSplits:
    g = seeded(0)

    def part(n):
        return torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g), torch.randint(0, 10, (n,), generator=g)
    return MnistSplits(*part(n_train), *part(4), *part(4), source="fake", note="fake splits for tests")


def test_run_recipe_trains_saves_then_loads_into_the_view(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    G, D, rec, loaded = mnist_gan.run_recipe("mlp_source", fake_splits(), num_iterations=2, progress=False)
    assert not loaded and not G.training and not D.training
    fingerprint = mnist_gan.RECIPES["mlp_source"].fingerprint
    assert [p.name for p in tmp_path.iterdir()] == [f"mlp_source-{fingerprint}_fake_2it_quick.pt"]
    assert mnist_gan.recipe_checkpoint_path("mlp_source", "fake", 2) == tmp_path / f"mlp_source-{fingerprint}_fake_2it_quick.pt"
    assert rec["iterations"] == [2] and rec["grids"][0].shape == (100, 28, 28)
    assert rec["n_train"] == 200 and rec["iterations_per_epoch"] == 2  # batches of 100
    view = mnist_gan.LiveView(digits=False, display=False)
    G2, _, rec2, loaded = mnist_gan.run_recipe("mlp_source", fake_splits(), num_iterations=2, view=view,
                                                progress=False)
    assert loaded and torch.equal(rec2["grids"][0], rec["grids"][0])
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G2.state_dict().values()))
    assert list(view.lines["d_loss"].get_xdata()) == [1, 2]  # the loaded run is drawn


# -- LiveView -------------------------------------------------------------------------------


def fake_history(n):
    it = list(range(1, n + 1))
    return {"iteration": it, "d_loss": [1 + 0.01 * i for i in it], "g_loss": [2 - 0.01 * i for i in it],
            "d_real": [0.9] * n, "d_fake": [0.1 + 0.001 * i for i in it]}


def test_live_view_shows_history_latest_grid_and_digit_shares():
    view = mnist_gan.LiveView(title="run", nrow=2, display=False)
    fig, image = view.fig, view.image
    first = torch.full((3, 28, 28), 255, dtype=torch.uint8)
    latest = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8, generator=seeded(0))
    record = {"iterations": [5, 10], "grids": [first, latest], "counts": [[1] * 10, [0, 2, 0, 6, 0, 0, 0, 0, 0, 12]]}
    history = fake_history(10)
    view.update(history, record)

    for key, line in view.lines.items():
        assert list(line.get_xdata()) == history["iteration"]
        np.testing.assert_allclose(line.get_ydata(), history[key])
    # the latest grid, inverted (ink is dark): 2 per row, 2 pixels of padding (0 before inversion)
    shown = np.asarray(image.get_array())
    assert shown.shape == (2 * 30 + 2, 2 * 30 + 2)
    for i, (top, left) in enumerate([(2, 2), (2, 32), (32, 2)]):
        np.testing.assert_allclose(shown[top: top + 28, left: left + 28], 1 - latest[i].numpy() / 255, atol=1e-6)
    np.testing.assert_allclose(shown[32:60, 32:60], 1.0)  # the empty fourth cell
    np.testing.assert_allclose(shown[:2], 1.0)            # padding
    assert [b.get_height() for b in view.bars] == pytest.approx([0, 10, 0, 30, 0, 0, 0, 0, 0, 60])
    assert view.ax_hist.get_ylim()[1] >= 60
    assert "10" in view.ax_grid.get_title()

    view.update(fake_history(12), {**record, "iterations": [5, 10, 12], "grids": [first, latest, first],
                                   "counts": record["counts"] + [[10] * 10]})
    assert view.fig is fig and view.image is image and len(view.ax_grid.images) == 1  # updated in place
    assert len(view.lines["g_loss"].get_xdata()) == 12
    assert np.asarray(view.image.get_array())[2:30, 2:30].max() == pytest.approx(0.0)  # white digit -> black
    assert [b.get_height() for b in view.bars] == pytest.approx([10] * 10)


def test_live_view_smooths_a_long_history_with_a_running_mean():
    view = mnist_gan.LiveView(digits=False, display=False)
    assert view.bars is None
    history = fake_history(250)
    history["d_loss"] = [float(i % 2) for i in range(250)]  # 0, 1, 0, 1, ...
    view.update(history, {"iterations": [], "grids": [], "counts": []})
    y = view.lines["d_loss"].get_ydata()
    window = 250 // 100
    hand = [np.mean(history["d_loss"][max(0, i - window + 1): i + 1]) for i in range(250)]
    assert len(y) == 250 and list(view.lines["d_loss"].get_xdata()) == history["iteration"]
    np.testing.assert_allclose(y, hand)
    np.testing.assert_allclose(y[1:], 0.5)


def test_live_view_figure_draws_headless():
    view = mnist_gan.LiveView(display=False)
    view.update(fake_history(3), {"iterations": [3], "grids": [torch.zeros(10, 28, 28, dtype=torch.uint8)],
                                  "counts": [[5] * 10]})
    canvas = FigureCanvasAgg(view.fig)  # renders without a display
    canvas.draw()
    assert np.asarray(canvas.buffer_rgba()).std() > 0  # something was drawn
    assert plots.image_grid(torch.zeros(10, 28, 28), nrow=6).shape == np.asarray(view.image.get_array()).shape


def test_a_changed_recipe_gets_its_own_checkpoint():
    import dataclasses
    recipe = mnist_gan.RECIPES["mlp_source"]
    assert len(recipe.fingerprint) == 8 and recipe.fingerprint == mnist_gan.RECIPES["mlp_source"].fingerprint
    assert dataclasses.replace(recipe, iterations=(5, 1)).fingerprint == recipe.fingerprint  # the budget is in the name
    for change in ({"init_fn": None}, {"settings": {**recipe.settings, "lr_g": 1e-3}}, {"scale": "symmetric"}):
        assert dataclasses.replace(recipe, **change).fingerprint != recipe.fingerprint, change
    fingerprints = {r.fingerprint for r in mnist_gan.RECIPES.values()}
    assert len(fingerprints) == len(mnist_gan.RECIPES)


def test_source_init_draws_weights_from_n_0_001_and_zero_biases():
    torch.manual_seed(0)
    G, D = mnist_gan.source_mlp_gan()
    G.apply(mnist_gan.source_init)
    D.apply(mnist_gan.source_init)
    w = torch.cat([m.weight.flatten() for net in (G, D) for m in net.modules() if isinstance(m, torch.nn.Linear)])
    assert w.numel() == 128 * 256 + 256 * 784 + 784 * 256 + 256
    assert abs(w.std().item() - 0.01) < 2e-4 and abs(w.mean().item()) < 1e-4
    assert all(torch.all(m.bias == 0) for net in (G, D) for m in net.modules() if isinstance(m, torch.nn.Linear))
    assert mnist_gan.RECIPES["mlp_source"].init_fn is mnist_gan.source_init


def test_live_view_shows_a_readable_part_of_the_grid():
    view = mnist_gan.LiveView(digits=False, display=False)
    assert (view.nrow, view.n_show) == (6, 36)
    history = {"iteration": [1], "d_loss": [1.0], "g_loss": [1.0], "d_real": [0.5], "d_fake": [0.5]}
    grids = [torch.zeros(100, 28, 28, dtype=torch.uint8)]
    view.update(history, {"iterations": [1], "grids": grids, "counts": []})
    shown = view.image.get_array()
    assert shown.shape[0] == shown.shape[1] and 6 * 28 <= shown.shape[0] < 7 * 28  # six images a side
    every = mnist_gan.LiveView(digits=False, nrow=10, n_show=100, display=False)
    every.update(history, {"iterations": [1], "grids": grids, "counts": []})
    assert 10 * 28 <= every.image.get_array().shape[0] < 11 * 28
