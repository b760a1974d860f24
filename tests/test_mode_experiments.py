"""The ring and grid experiments: each method gets the protocol's networks and optimiser and
changes only its own part; one run measures its own final samples as the papers do."""
import numpy as np
import pytest
import torch

from gan_lessons import coverage, mode_experiments, remedies
from gan_lessons.train import GANTrainer


@pytest.mark.parametrize("method", mode_experiments.METHODS)
def test_every_method_gets_the_protocol(method):
    p = mode_experiments.PROTOCOLS["veegan"]
    tr = mode_experiments.make_mode_trainer(method, "grid", seed=2)
    inner_d = tr.D.inner if method == "pacgan" else tr.D
    assert tuple(layer.out_features for layer in tr.G.net if hasattr(layer, "out_features"))[:-1] == p.g_hidden
    assert tuple(layer.out_features for layer in inner_d.net if hasattr(layer, "out_features"))[:-1] == p.d_hidden
    assert tr.G.config.latent_dim == p.latent_dim and tr.G.config.noise == "gaussian"
    assert (tr.config.batch_size, tr.config.lr_d, tr.config.lr_g) == (p.batch_size, p.lr, p.lr)
    expected = {"gan": (GANTrainer, 1, p.betas), "pacgan": (remedies.PacGANTrainer, 1, p.betas),
                "unrolled": (remedies.UnrolledGANTrainer, 1, p.betas),
                "wgan-gp": (remedies.WGANGPTrainer, 5, (0.5, 0.9))}[method]
    assert type(tr) is expected[0] and tr.config.d_steps == expected[1] and tr.config.betas == expected[2]
    if method == "pacgan":
        assert tr.m == 4 and inner_d.config.in_dim == 8  # PacGAN4 on the grid
    if method == "unrolled":
        assert tr.unroll_steps == 5 and tr.config.g_loss == "minimax"
    if method == "wgan-gp":
        assert tr.gp_weight == 0.1
    assert mode_experiments.method_label(method, "ring") in ("GAN", "PacGAN2", "Unrolled GAN (K = 5)", "WGAN-GP")


def test_run_measures_its_own_final_samples():
    out = mode_experiments.run_mode_experiment("pacgan", "ring", 30, seed=1, eval_every=10, keep_samples=2500)
    trainer = out["trainer"]
    assert isinstance(trainer, remedies.PacGANTrainer) and trainer.iteration == 30
    assert [row[0] for row in out["trace"]] == [10, 20, 30]
    cov = coverage.mode_coverage(np.asarray(out["samples"]), mode_experiments.DATA_SETS["ring"]())
    # the kept samples are rounded to 4 decimals, far below the modes' std of 0.01
    assert out["n_captured"] == cov.n_captured
    assert out["high_quality"] == pytest.approx(cov.high_quality, abs=2 / 2500)
    assert out["counts"] == cov.counts.tolist() or abs(sum(out["counts"]) - sum(cov.counts)) <= 2
    assert out["label"] == "PacGAN2" and out["dist"] == "ring" and out["protocol"] == "veegan"
    if sum(out["counts"]):
        assert out["reverse_kl"] == pytest.approx(coverage.mode_reverse_kl(cov), abs=0.05)
    again = mode_experiments.run_mode_experiment("pacgan", "ring", 30, seed=1, eval_every=10, keep_samples=10)
    assert again["samples"] == out["samples"][:10] and again["trace"] == out["trace"]  # one seed, one run


def test_learning_rates_decay_only_when_asked():
    out = mode_experiments.run_mode_experiment("gan", "ring", 10, seed=0, decay_from=0.5, final_lr_fraction=0.1)
    tr = out["trainer"]
    assert tr.config.lr_d == pytest.approx(1e-4) and tr.config.lr_g == pytest.approx(1e-4)  # a tenth, at the end
    assert out["decay_from"] == 0.5
    plain = mode_experiments.run_mode_experiment("gan", "ring", 10, seed=0)
    assert plain["trainer"].config.lr_d == 1e-3  # constant, as the papers train
    with pytest.raises(ValueError, match="final_lr_fraction"):
        mode_experiments.run_mode_experiment("gan", "ring", 10, final_lr_fraction=0)


def test_maxout_is_the_largest_piece_of_each_unit():
    h = torch.tensor([[1.0, -2.0, 3.0, 0.5, 7.0, -1.0]])
    assert mode_experiments.maxout(h, 3).tolist() == [[3.0, 7.0]]
    assert mode_experiments.maxout(h, 2).tolist() == [[1.0, 3.0, 7.0]]
    h = torch.randn(5, 12, generator=torch.Generator().manual_seed(0))
    by_loop = torch.stack([torch.stack([max(h[i, 4 * j:4 * j + 4].tolist()) * torch.ones(()) for j in range(3)])
                           for i in range(5)])
    assert torch.equal(mode_experiments.maxout(h, 4), by_loop)
    with pytest.raises(ValueError, match="multiple of pieces"):
        mode_experiments.maxout(h, 5)


def test_pacgan_protocol_builds_pacgans_networks():
    p = mode_experiments.PROTOCOLS["pacgan"]
    tr = mode_experiments.make_mode_trainer("pacgan", "ring", "pacgan", seed=3)
    G, D = tr.G, tr.D.inner
    linears = [m for m in G.net if isinstance(m, torch.nn.Linear)]
    assert [m.out_features for m in linears] == [400, 400, 400, 400, 2]
    assert all(m.bias is None for m in linears[:-1]) and linears[-1].bias is not None  # batch norm's shift instead
    assert sum(isinstance(m, torch.nn.BatchNorm1d) for m in G.net) == 4
    assert [layer.out_features for layer in D.layers] == [1000, 1000, 1000] and D.in_dim == 4  # 200 units x 5, 2 x 2
    # weights from N(0, 0.02^2), biases zero, as PacGAN's IsotropicGaussian(0.02) and Constant(0)
    w = torch.cat([m.weight.flatten() for m in [*linears, *D.layers, D.out]])
    assert abs(w.std().item() - 0.02) < 0.001 and abs(w.mean().item()) < 0.001
    assert all(torch.all(layer.bias == 0) for layer in D.layers)
    assert (tr.config.batch_size, tr.config.lr_d, tr.config.betas) == (100, 1e-4, (0.8, 0.999))
    assert tr._fast is None  # autograd, not the plain-MLP fast path
    # the training set is 100,000 points drawn once per seed, not a fresh draw per batch
    assert tr.data.points.shape == (p.train_size, 2)
    again = mode_experiments.make_mode_trainer("gan", "ring", "pacgan", seed=3)
    assert torch.equal(again.data.points, tr.data.points)
    out = mode_experiments.run_mode_experiment("gan", "grid", 3, protocol="pacgan", seed=0)
    assert out["protocol"] == "pacgan" and out["trainer"].iteration == 3 and out["n_modes"] == 25
