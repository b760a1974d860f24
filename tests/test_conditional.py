"""The conditional GAN and AC-GAN trainers against hand computations: each update replayed from
the same random draws, losses written out with torch.log(torch.sigmoid(.)) and F.cross_entropy,
update counts counted, labels traced through forward hooks."""
import copy

import pytest
import torch
import torch.nn.functional as F

from gan_lessons import conditional, models
from gan_lessons.train import HISTORY_KEYS, TrainConfig, TrainingDiverged
from gan_lessons.utils import make_generator

N_IMAGES, BATCH = 64, 16

pytestmark = pytest.mark.usefixtures("one_thread")


def fake_mnist(seed=0, n=N_IMAGES):
    """n random 28x28 "images" in [-1, 1] with labels 0-9."""
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=gen) * 2 - 1, torch.randint(10, (n,), generator=gen)


class LabelledSampler:
    """A stand-in for data.py's labelled MNIST sampler: ``sample_labelled(n, generator)``."""

    def __init__(self, images, labels, nan_from_call=None):
        self.images, self.labels = images, labels
        self.calls = 0
        self.nan_from_call = nan_from_call

    def sample_labelled(self, n, generator=None):
        self.calls += 1
        idx = torch.randint(len(self.images), (n,), generator=generator)
        x = self.images[idx]
        if self.nan_from_call is not None and self.calls >= self.nan_from_call:
            x = x * float("nan")
        return x, self.labels[idx]


def dcgan_pair():
    cfg = models.DCGANConfig(latent_dim=8, g_width=8, d_width=4, n_classes=10)
    return models.ConvGenerator(cfg), models.ConvDiscriminator(cfg)


def mlp_pair():
    G = models.ConditionalMLPGenerator(latent_dim=4, out_dim=784, hidden_dims=(16,), out_activation="tanh",
                                       n_classes=10)
    D = models.ConditionalMLPDiscriminator(in_dim=784, hidden_dims=(16,), n_classes=10)
    return G, D


def make_acgan(data=None, seed=0, **overrides):
    G, D = dcgan_pair()
    overrides.setdefault("batch_size", BATCH)
    return conditional.ACGANTrainer(G, D, fake_mnist() if data is None else data, seed=seed, device="cpu",
                                    **overrides)


def make_cgan(data=None, seed=0, **overrides):
    G, D = mlp_pair()
    overrides.setdefault("batch_size", BATCH)
    return conditional.ConditionalGANTrainer(G, D, fake_mnist() if data is None else data, seed=seed,
                                             device="cpu", **overrides)


def params(net):
    return [p.detach().clone() for p in net.parameters()]


def same(a, b):
    return all(torch.equal(x, y) for x, y in zip(a, b))


# --- label helpers ----------------------------------------------------------------------------------

def test_sample_grid_labels_gives_one_row_per_class():
    assert conditional.sample_grid_labels(3, n_classes=2).tolist() == [0, 0, 0, 1, 1, 1]
    labels = conditional.sample_grid_labels(10)
    assert labels.dtype == torch.int64 and labels.shape == (100,)
    for row in range(10):
        assert labels.view(10, 10)[row].tolist() == [row] * 10
    with pytest.raises(ValueError, match="n_per_class"):
        conditional.sample_grid_labels(0)
    with pytest.raises(ValueError, match="n_classes"):
        conditional.sample_grid_labels(2, n_classes=0)


def test_fixed_noise_shares_each_columns_noise_across_rows():
    G, _ = dcgan_pair()
    z, labels = conditional.fixed_noise_and_labels(G, n_per_class=4, seed=7)
    assert z.shape == (40, 8) and torch.equal(labels, conditional.sample_grid_labels(4, 10))
    rows = z.view(10, 4, 8)
    assert all(torch.equal(rows[k], rows[0]) for k in range(10))  # column j: the same z in every row
    assert not torch.equal(rows[0, 0], rows[0, 1])
    expected = torch.randn(4, 8, generator=torch.Generator().manual_seed(7))  # ConvGenerator's prior
    assert torch.equal(rows[0], expected)
    z2, _ = conditional.fixed_noise_and_labels(G, n_per_class=4, seed=7, shared_noise=False)
    assert len(torch.unique(z2, dim=0)) == 40
    with pytest.raises(ValueError, match="n_classes"):
        conditional.fixed_noise_and_labels(models.MLPGenerator(latent_dim=2))


# --- Algorithm 1's counts, determinism, history ------------------------------------------------------

@pytest.mark.parametrize("make", [make_acgan, make_cgan])
def test_d_steps_and_g_steps_give_exact_update_counts(make):
    tr = make(d_steps=2, g_steps=1)
    tr.train(3)
    assert (tr.iteration, tr.d_updates, tr.g_updates) == (3, 6, 3)
    # Adam's own per-parameter step counters agree, for every parameter
    assert {int(s["step"]) for s in tr.d_opt.state.values()} == {6}
    assert {int(s["step"]) for s in tr.g_opt.state.values()} == {3}
    assert len(tr.history) == 3 and tr.history["iteration"] == [1, 2, 3]
    for key in HISTORY_KEYS:
        assert len(tr.history[key]) == 3, key


def test_acgan_history_adds_class_accuracies_averaged_over_d_updates():
    tr = make_acgan(d_steps=2)
    seen = []
    original = tr._d_update
    tr._d_update = lambda: seen.append(original()) or seen[-1]
    row = tr.step()
    assert set(conditional.ACGAN_HISTORY_KEYS) <= set(tr.history) and set(HISTORY_KEYS) <= set(tr.history)
    for key in conditional.ACGAN_HISTORY_KEYS:
        assert row[key] == pytest.approx((seen[0][key] + seen[1][key]) / 2)
        assert tr.history[key] == [row[key]] and tr.last[key] == row[key]
        assert 0.0 <= row[key] <= 1.0
    tr.reset()
    assert all(tr.history[k] == [] for k in conditional.ACGAN_HISTORY_KEYS)


@pytest.mark.parametrize("make", [make_acgan, make_cgan])
@pytest.mark.parametrize("as_sampler", [False, True])
def test_same_seed_same_history_and_another_seed_differs(make, as_sampler):
    def data():
        return LabelledSampler(*fake_mnist()) if as_sampler else fake_mnist()
    h1 = make(data(), seed=4, d_steps=2).train(3)
    h2 = make(data(), seed=4, d_steps=2).train(3)
    h3 = make(data(), seed=5, d_steps=2).train(3)
    assert h1 == h2
    assert h1["d_loss"] != h3["d_loss"]


def test_default_device_and_a_positional_config():
    G, D = dcgan_pair()
    tr = conditional.ACGANTrainer(G, D, fake_mnist(), TrainConfig(batch_size=8), 1)  # device=None: get_device()
    assert tr.config.batch_size == 8 and tr.seed == 1
    tr.step()
    assert tr.device == next(tr.G.parameters()).device


# --- each update against a hand computation ----------------------------------------------------------

@pytest.mark.parametrize("g_loss", ["nonsaturating", "minimax"])
def test_acgan_updates_match_hand_computation(g_loss):
    images, labels = fake_mnist()
    tr = make_acgan(seed=3, g_loss=g_loss)
    # Replay the trainer's draws: real indices, noise, fake labels (then noise, labels for G).
    rng = make_generator(3)
    idx = torch.randint(N_IMAGES, (BATCH,), generator=rng)
    z = torch.randn(BATCH, 8, generator=rng)
    y_fake = torch.randint(10, (BATCH,), generator=rng)
    G0, D0 = copy.deepcopy(tr.G), copy.deepcopy(tr.D)  # the weights before the update, train mode
    with torch.no_grad():
        x_fake = G0(z, y_fake)
    a_real, c_real = D0(images[idx])
    a_fake, c_fake = D0(x_fake)
    l_s = torch.log(torch.sigmoid(a_real)).mean() + torch.log(1 - torch.sigmoid(a_fake)).mean()
    l_c = -F.cross_entropy(c_real, labels[idx]) - F.cross_entropy(c_fake, y_fake)
    expected = -(l_s + l_c)
    grads = torch.autograd.grad(expected, list(D0.parameters()))
    out = tr.step_d()
    assert out["d_loss"] == pytest.approx(expected.item(), rel=1e-5)
    assert out["d_real"] == pytest.approx(torch.sigmoid(a_real).mean().item(), rel=1e-5)
    assert out["d_fake"] == pytest.approx(torch.sigmoid(a_fake).mean().item(), rel=1e-5)
    assert out["d_grad_norm"] == pytest.approx(sum((g ** 2).sum() for g in grads).sqrt().item(), rel=1e-4)
    right_real = sum(int(c_real[i].argmax()) == int(labels[idx][i]) for i in range(BATCH))
    right_fake = sum(int(c_fake[i].argmax()) == int(y_fake[i]) for i in range(BATCH))
    assert out["d_class_acc_real"] == right_real / BATCH
    assert out["d_class_acc_fake"] == right_fake / BATCH

    z2 = torch.randn(BATCH, 8, generator=rng)
    y2 = torch.randint(10, (BATCH,), generator=rng)
    G1, D1 = copy.deepcopy(tr.G), copy.deepcopy(tr.D)
    with torch.no_grad():
        a, c = D1(G1(z2, y2))
    source = -torch.log(torch.sigmoid(a)).mean() if g_loss == "nonsaturating" else torch.log(1 - torch.sigmoid(a)).mean()
    out = tr.step_g()
    assert out["g_loss"] == pytest.approx((source + F.cross_entropy(c, y2)).item(), rel=1e-5)
    assert (tr.d_updates, tr.g_updates) == (1, 1)


@pytest.mark.parametrize("real_label", [1.0, 0.9])
def test_cgan_passes_labels_and_its_d_loss_matches_hand_computation(real_label):
    images, labels = fake_mnist()
    tr = make_cgan(seed=2, real_label=real_label)
    calls = {"G": [], "D": []}
    for name, net in (("G", tr.G), ("D", tr.D)):
        net.register_forward_hook(lambda m, args, out, _n=name: calls[_n].append((args, out.detach())))
    rng = make_generator(2)
    idx = torch.randint(N_IMAGES, (BATCH,), generator=rng)
    z = torch.randn(BATCH, 4, generator=rng)
    y_fake = torch.randint(10, (BATCH,), generator=rng)
    out = tr.step_d()
    (g_args, x_fake), = calls["G"]
    (real_args, a_real), (fake_args, a_fake) = calls["D"]
    assert torch.equal(g_args[0], z) and torch.equal(g_args[1], y_fake)  # G(z, y')
    assert torch.equal(real_args[0], images[idx]) and torch.equal(real_args[1], labels[idx])  # D(x, y)
    assert torch.equal(fake_args[0], x_fake) and torch.equal(fake_args[1], y_fake)  # D(G(z, y'), y')
    p_real, p_fake = torch.sigmoid(a_real), torch.sigmoid(a_fake)
    expected = -(real_label * torch.log(p_real) + (1 - real_label) * torch.log(1 - p_real)).mean() \
        - torch.log(1 - p_fake).mean()
    assert out["d_loss"] == pytest.approx(expected.item(), rel=1e-5)

    calls["G"].clear(), calls["D"].clear()
    z2 = torch.randn(BATCH, 4, generator=rng)
    y2 = torch.randint(10, (BATCH,), generator=rng)
    out = tr.step_g()
    (g_args, _), = calls["G"]
    (d_args, a), = calls["D"]
    assert torch.equal(g_args[0], z2) and torch.equal(g_args[1], y2) and torch.equal(d_args[1], y2)
    assert out["g_loss"] == pytest.approx(-torch.log(torch.sigmoid(a)).mean().item(), rel=1e-5)


def test_trained_conditional_generator_uses_its_label():
    tr = make_cgan()
    tr.train(3)
    z = tr.G.sample_z(4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        x3 = tr.G(z, torch.full((4,), 3))
        x7 = tr.G(z, torch.full((4,), 7))
    assert (x3 - x7).abs().max() > 1e-4


def test_fake_labels_are_uniform_whatever_the_data_frequencies():
    images, _ = fake_mnist()
    skewed = torch.zeros(N_IMAGES, dtype=torch.int64)  # every real image is a 0
    tr = make_cgan((images, skewed))
    counts = torch.bincount(tr.sample_labels(20_000), minlength=10)
    assert counts.shape == (10,)
    # Binomial(20000, 0.1) has standard deviation 42: +-200 is almost 5 of them
    assert ((counts - 2000).abs() < 200).all(), counts.tolist()
    assert set(tr.sample_real_labelled(50)[1].tolist()) == {0}


@pytest.mark.parametrize("make", [make_acgan, make_cgan])
def test_each_update_moves_only_its_player(make):
    tr = make()
    g_before, d_before = params(tr.G), params(tr.D)
    tr.step_d()
    assert same(g_before, params(tr.G)) and not same(d_before, params(tr.D))
    d_before, g_before = params(tr.D), params(tr.G)
    tr.step_g()
    assert same(d_before, params(tr.D)) and not same(g_before, params(tr.G))
    assert all(p.requires_grad for p in tr.D.parameters())  # G's update gave D's flags back


# --- the divergence guard -----------------------------------------------------------------------------

@pytest.mark.parametrize("make", [make_acgan, make_cgan])
def test_nan_data_stops_training_naming_the_iteration_and_keeps_the_weights(make):
    sampler = LabelledSampler(*fake_mnist(), nan_from_call=3)  # the 3rd minibatch is NaN: iteration 3
    tr = make(sampler)
    tr.train(2)
    # Weights and batch norm's running statistics; GANTrainer leaves integer counters alone.
    def floats():
        return [t for net in (tr.G, tr.D) for t in net.state_dict().values() if t.is_floating_point()]
    saved = [t.clone() for t in floats()]
    with pytest.raises(TrainingDiverged, match=r"iteration 3.*(?i:learning rate)"):
        tr.train(5)
    assert all(torch.equal(a, b) for a, b in zip(saved, floats()))
    # Caught before D's optimiser stepped: Adam's state neither counted the update nor took a NaN.
    assert {int(s["step"]) for s in tr.d_opt.state.values()} == {2}
    assert all(torch.isfinite(s["exp_avg"]).all() for s in tr.d_opt.state.values())
    assert tr.iteration == 2 and len(tr.history) == 2
    assert all(len(v) == 2 for v in tr.history.values())


def test_a_nan_weight_is_caught_in_the_next_update():
    tr = make_acgan()
    tr.train(2)
    with torch.no_grad():
        tr.D.source.weight[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="iteration 3"):
        tr.step()
    assert torch.isfinite(tr.D.source.weight).all()  # the last finite weights are back
    assert tr.iteration == 2


# --- bad arguments ------------------------------------------------------------------------------------

@pytest.mark.parametrize("data, match", [
    ("mnist", "sample_labelled"),
    (fake_mnist() + (None,), "sample_labelled"),
    ((torch.rand(8, 784), torch.rand(8)), "labels must be integers"),
    ((torch.rand(8, 784), torch.randint(10, (7,))), r"labels must have shape \(8,\)"),
    ((torch.rand(8, 784), torch.tensor([0, 1, 2, 3, 4, 5, 6, 10])), r"integers in 0\.\.9"),
    ((torch.randint(255, (8, 784)), torch.randint(10, (8,))), "float tensor"),
    ((torch.rand(0, 784), torch.zeros(0, dtype=torch.int64)), "at least one image"),
])
def test_bad_data_is_a_value_error_naming_it(data, match):
    with pytest.raises(ValueError, match=match):
        make_cgan(data)
    with pytest.raises(ValueError, match=match):
        make_acgan(data)


def test_bad_networks_and_sampler_labels_are_value_errors():
    G, _ = mlp_pair()
    with pytest.raises(ValueError, match="ACGANTrainer"):
        conditional.ConditionalGANTrainer(G, models.ConvDiscriminator(n_classes=10, d_width=4), fake_mnist())
    G, _ = dcgan_pair()
    with pytest.raises(ValueError, match="class head"):
        conditional.ACGANTrainer(G, models.ConvDiscriminator(d_width=4), fake_mnist())
    _, D = dcgan_pair()
    with pytest.raises(ValueError, match="n_classes=5"):
        conditional.ACGANTrainer(models.ConvGenerator(latent_dim=8, g_width=8, n_classes=5), D, fake_mnist())
    images, labels = fake_mnist()
    tr = make_cgan(LabelledSampler(images, labels + 10))  # a sampler's labels are checked per minibatch
    with pytest.raises(ValueError, match="sample_labelled"):
        tr.step()


def test_set_data_switches_the_labelled_data():
    tr = make_cgan()
    ones = torch.ones(4, 1, 28, 28)
    tr.set_data((ones, torch.full((4,), 9)))
    x, y = tr.sample_real_labelled(6)
    assert torch.equal(x, torch.ones(6, 1, 28, 28)) and y.tolist() == [9] * 6
    assert torch.equal(tr.sample_real(3), torch.ones(3, 1, 28, 28))  # GANTrainer's own sampler follows
    tr.step()
