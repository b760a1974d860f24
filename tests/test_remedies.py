"""PacGAN and WGAN-GP against hand computations: packing by hand, the penalty in closed
form and by per-sample autograd, and each trainer's update against the same update
written out from the same random draws."""
import math

import pytest
import torch
from torch import nn

from gan_lessons import distributions, metrics, models, remedies
from gan_lessons.train import GANTrainer

# --- packing ---------------------------------------------------------------------------------

def test_pack_hand_made():
    x = torch.arange(12.0).reshape(6, 2)  # samples (0,1), (2,3), ..., (10,11)
    assert remedies.pack(x, 3).tolist() == [[0, 1, 2, 3, 4, 5], [6, 7, 8, 9, 10, 11]]
    assert remedies.pack(x, 1).tolist() == x.tolist()
    with pytest.raises(ValueError, match="multiple of m = 4"):
        remedies.pack(x, 4)
    with pytest.raises(ValueError, match="m must be between 1"):
        remedies.pack(x, 0)


def test_packed_discriminator_sees_whole_packs():
    inner = nn.Linear(6, 1)
    D = remedies.PackedDiscriminator(nn.Sequential(inner, nn.Flatten(0)), m=3)
    x = torch.randn(9, 2)
    by_hand = torch.stack([inner(torch.cat([x[3 * j], x[3 * j + 1], x[3 * j + 2]])) for j in range(3)])
    assert torch.allclose(D(x), by_hand.squeeze(1))


def _ring_models(m=1, width=16):
    G = models.MLPGenerator(latent_dim=2, out_dim=2, hidden_dims=(width,))
    D = models.MLPDiscriminator(in_dim=2 * m, hidden_dims=(width,))
    return G, D


def test_pacgan_update_matches_hand_computation():
    ring = distributions.ring_2d()
    G, D = _ring_models(m=2)
    trainer = remedies.PacGANTrainer(G, D, ring, m=2, batch_size=8, seed=3, device="cpu")
    # Replay the trainer's random draws: real data first, then noise, 8 packs of 2.
    rng = torch.Generator().manual_seed(3)
    x_real = ring.sample(16, generator=rng)
    z = G.sample_z(16, generator=rng)
    with torch.no_grad():
        x_fake = G(z)
        inner = trainer.D.inner
        real_packs = torch.cat([x_real[0::2], x_real[1::2]], dim=1)  # sample 2j beside 2j+1
        fake_packs = torch.cat([x_fake[0::2], x_fake[1::2]], dim=1)
        a_real, a_fake = inner(real_packs), inner(fake_packs)
        loss = -(torch.log(torch.sigmoid(a_real)).mean() + torch.log(1 - torch.sigmoid(a_fake)).mean())
    out = trainer.step_d()
    assert out["d_loss"] == pytest.approx(float(loss), rel=1e-5)
    assert out["d_real"] == pytest.approx(float(torch.sigmoid(a_real).mean()), rel=1e-5)
    assert out["d_fake"] == pytest.approx(float(torch.sigmoid(a_fake).mean()), rel=1e-5)
    assert (trainer.d_updates, trainer.g_updates) == (1, 0)
    out = trainer.step_g()
    assert set(out) == {"g_loss", "g_fake", "g_grad_norm"}
    assert (trainer.d_updates, trainer.g_updates) == (1, 1)


def test_pacgan_iteration_and_checks():
    ring = distributions.ring_2d()
    G, D = _ring_models(m=4)
    trainer = remedies.PacGANTrainer(G, D, ring, m=4, batch_size=16, d_steps=3, g_steps=2, device="cpu")
    row = trainer.step()
    assert (trainer.d_updates, trainer.g_updates, trainer.iteration) == (3, 2, 1)
    assert set(row) >= {"d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm"}
    G, D = _ring_models(m=1)
    with pytest.raises(ValueError, match="in_dim must be m"):
        remedies.PacGANTrainer(G, D, ring, m=2)
    with pytest.raises(ValueError, match="m must be between 1 and 16"):
        remedies.PacGANTrainer(G, D, ring, m=0)


def test_pacgan_with_m_1_is_the_plain_gan():
    ring = distributions.ring_2d()
    G1, D1 = _ring_models()
    G2, D2 = _ring_models()
    plain = GANTrainer(G1, D1, ring, batch_size=32, seed=5, device="cpu")
    packed = remedies.PacGANTrainer(G2, D2, ring, m=1, batch_size=32, seed=5, device="cpu")
    for _ in range(3):
        a, b = plain.step(), packed.step()
        assert a["d_loss"] == pytest.approx(b["d_loss"], rel=1e-6)
        assert a["g_loss"] == pytest.approx(b["g_loss"], rel=1e-6)


# --- WGAN-GP ---------------------------------------------------------------------------------

def test_gradient_penalty_of_a_linear_critic_is_closed_form():
    # D(x) = w.x + b has gradient w everywhere, so GP = (|w| - 1)^2 and
    # dGP/dw = 2 (|w| - 1) w / |w|.
    lin = nn.Linear(3, 1)
    D = nn.Sequential(lin, nn.Flatten(0))
    x_real, x_fake = torch.randn(5, 3), torch.randn(5, 3)
    gp = remedies.gradient_penalty(D, x_real, x_fake)
    w = lin.weight.detach().reshape(-1)
    assert float(gp.detach()) == pytest.approx(float((w.norm() - 1) ** 2), rel=1e-5)
    gp.backward()
    expected = 2 * (w.norm() - 1) * w / w.norm()
    assert torch.allclose(lin.weight.grad.reshape(-1), expected, atol=1e-6)


def test_gradient_penalty_matches_per_sample_autograd():
    torch.manual_seed(0)
    D = models.MLPDiscriminator(in_dim=2, hidden_dims=(16, 16), activation="tanh")
    x_real, x_fake = torch.randn(6, 2), torch.randn(6, 2)
    eps = torch.rand(6)
    by_hand = []
    for i in range(6):  # one sample at a time, by autograd's jacobian
        x_hat = eps[i] * x_real[i] + (1 - eps[i]) * x_fake[i]
        g = torch.autograd.functional.jacobian(lambda v: D(v[None])[0], x_hat)
        by_hand.append((g.norm() - 1) ** 2)
    gp = remedies.gradient_penalty(D, x_real, x_fake, eps)
    assert float(gp.detach()) == pytest.approx(float(torch.stack(by_hand).mean()), rel=1e-5)
    # and by central finite differences in float64
    Dd = D.double()
    x_hat = (eps[:, None] * x_real + (1 - eps[:, None]) * x_fake).double()
    h = 1e-6
    with torch.no_grad():
        fd = torch.stack([(Dd(x_hat + h * e) - Dd(x_hat - h * e)) / (2 * h)
                          for e in torch.eye(2, dtype=torch.float64)], 1)
    assert float(gp.detach()) == pytest.approx(float(((fd.norm(dim=1) - 1) ** 2).mean()), rel=1e-4)


def test_gradient_penalty_checks_shapes():
    D = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    with pytest.raises(ValueError, match="same shape"):
        remedies.gradient_penalty(D, torch.zeros(4, 2), torch.zeros(3, 2))
    with pytest.raises(ValueError, match="epsilon must have shape"):
        remedies.gradient_penalty(D, torch.zeros(4, 2), torch.zeros(4, 2), torch.zeros(3))


def test_wgan_losses_hand_made():
    d_real, d_fake = torch.tensor([1.0, 3.0]), torch.tensor([-2.0, 0.0])
    assert float(remedies.wgan_critic_loss(d_real, d_fake)) == pytest.approx(-1.0 - 2.0)
    assert float(remedies.wgan_generator_loss(d_fake)) == pytest.approx(1.0)


def test_wgan_gp_update_matches_hand_computation():
    ring = distributions.ring_2d()
    G, D = _ring_models()
    trainer = remedies.WGANGPTrainer(G, D, ring, gp_weight=10.0, batch_size=8, seed=2, device="cpu")
    rng = torch.Generator().manual_seed(2)
    x_real = ring.sample(8, generator=rng)
    z = G.sample_z(8, generator=rng)
    eps = torch.rand(8, generator=rng)
    with torch.no_grad():
        x_fake = G(z)
    d_real, d_fake = D(x_real).detach(), D(x_fake).detach()
    x_hat = (eps[:, None] * x_real + (1 - eps[:, None]) * x_fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat)
    expected = d_fake.mean() - d_real.mean() + 10.0 * ((grad.norm(dim=1) - 1) ** 2).mean()
    out = trainer.step_d()
    assert out["d_loss"] == pytest.approx(float(expected), rel=1e-5)
    assert out["d_real"] == pytest.approx(float(d_real.mean()), rel=1e-5)
    assert (trainer.d_updates, trainer.g_updates) == (1, 0)
    w_before = [p.detach().clone() for p in trainer.D.parameters()]
    out = trainer.step_g()
    assert set(out) == {"g_loss", "g_fake", "g_grad_norm"}
    assert out["g_loss"] == pytest.approx(-out["g_fake"])
    assert all(torch.equal(a, b) for a, b in zip(w_before, trainer.D.parameters()))  # G's update leaves D
    assert all(p.requires_grad for p in trainer.D.parameters())
    assert (trainer.d_updates, trainer.g_updates) == (1, 1)


def test_wgan_gp_iteration_uses_d_steps():
    G, D = _ring_models()
    trainer = remedies.WGANGPTrainer(G, D, distributions.grid_2d(), d_steps=5, batch_size=16, device="cpu")
    trainer.train(2)
    assert (trainer.d_updates, trainer.g_updates, trainer.iteration) == (10, 2, 2)
    assert all(math.isfinite(v) for v in trainer.history["d_loss"])
    with pytest.raises(ValueError, match="gp_weight"):
        remedies.WGANGPTrainer(G, D, distributions.grid_2d(), gp_weight=-1.0)


# --- the experiment runner -------------------------------------------------------------------

def test_run_mode_experiment_measures_its_own_samples():
    ring = distributions.ring_2d()
    out = remedies.run_mode_experiment("pacgan", ring, 20, seed=1, m=2, eval_every=5, width=16, depth=1,
                                       name="ring")
    trainer = out["trainer"]
    assert isinstance(trainer, remedies.PacGANTrainer) and trainer.iteration == 20
    assert trainer.D.inner.config.in_dim == 4
    # the learning rates decayed linearly to a tenth over the second half
    assert trainer.config.lr_d == pytest.approx(1e-4) and trainer.config.lr_g == pytest.approx(1e-4)
    assert [row[0] for row in out["trace"]] == [5, 10, 15, 20]
    cov = metrics.mode_coverage(out["samples"], ring)
    assert (out["n_captured"], out["high_quality"]) == (cov.n_captured, cov.high_quality)
    assert out["samples"].shape == (metrics.N_SAMPLES, 2)
    assert out["label"] == "PacGAN2" and out["dist"] == "ring"


def test_make_mode_trainer_settings_and_errors():
    grid = distributions.grid_2d()
    w = remedies.make_mode_trainer("wgan-gp", grid, width=8, depth=1)
    assert isinstance(w, remedies.WGANGPTrainer)
    assert (w.config.d_steps, w.config.lr_d, w.config.betas) == (5, 1e-4, (0.5, 0.9))
    g = remedies.make_mode_trainer("gan", grid, width=8, depth=1, lr_d=2e-3)
    assert type(g) is GANTrainer and g.config.lr_d == 2e-3
    with pytest.raises(ValueError, match="method must be one of"):
        remedies.make_mode_trainer("vae", grid)
    with pytest.raises(ValueError, match="num_iterations"):
        remedies.run_mode_experiment("gan", grid, 0)


def test_coverage_table_and_trace_plot():
    import matplotlib
    matplotlib.use("Agg")
    from gan_lessons import plots

    runs = [{"dist": "ring", "method": "gan", "label": "GAN", "seed": s, "n_captured": n, "n_modes": 8,
             "high_quality": hq, "seconds": 10.0, "trace": [[100, 2, 0.1], [200, n, hq]]}
            for s, n, hq in ((0, 8, 0.9), (1, 6, 0.5))]
    text = metrics.coverage_table(runs)
    assert "mean  7.0 /  70.0 %" in text and "PacGAN2 (PacGAN, Table 1): 7.9 / 95.6 %" in text
    fig = plots.plot_coverage_traces(runs)
    assert len(fig.axes[0].lines) == 3  # two runs and the dotted line at 8 modes
    with pytest.raises(ValueError, match="at least one run"):
        metrics.coverage_table([])
