"""PacGAN, WGAN-GP and the unrolled GAN against hand computations: packing by hand, the
penalty in closed form and by per-sample autograd, each trainer's update against the
same update written out from the same random draws, and the unrolled generator's
gradient against finite differences of its look-ahead written out by hand."""
import math

import pytest
import torch
from torch import nn

from gan_lessons import distributions, models, remedies
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


# --- PacGAN's fast path ----------------------------------------------------------------------

def test_pacgan_fast_path_matches_autograd():
    def make(fast):
        G = models.MLPGenerator(latent_dim=2, out_dim=2, hidden_dims=(16, 16))
        D = models.MLPDiscriminator(in_dim=6, hidden_dims=(16,), activation="relu")
        tr = remedies.PacGANTrainer(G, D, distributions.ring_2d(), m=3, seed=4, batch_size=32)
        tr.fast_path = fast
        return tr

    fast, slow = make(True), make(False)
    assert fast._fast is not None and fast._fast.pack == 3
    for _ in range(3):
        a, b = fast.step(), slow.step()
        for key in ("d_loss", "d_real", "d_fake", "g_loss"):
            assert a[key] == pytest.approx(b[key], rel=1e-5, abs=1e-6), key
    for p, q in zip(list(fast.G.parameters()) + list(fast.D.parameters()),
                    list(slow.G.parameters()) + list(slow.D.parameters())):
        assert torch.allclose(p, q, atol=1e-6)


# --- the unrolled GAN ------------------------------------------------------------------------

def test_adam_update_matches_torch_adam():
    torch.manual_seed(0)
    w = torch.randn(5, requires_grad=True)
    opt = torch.optim.Adam([w], lr=0.01, betas=(0.5, 0.9))
    p, m, v = w.detach().clone(), torch.zeros(5), torch.zeros(5)
    for t in range(1, 4):
        g = torch.randn(5)
        w.grad = g.clone()
        opt.step()
        p, m, v = remedies.adam_update(p, g, m, v, t, 0.01, (0.5, 0.9))
        assert torch.allclose(p, w.detach(), atol=1e-7)
        assert torch.allclose(m, opt.state[w]["exp_avg"]) and torch.allclose(v, opt.state[w]["exp_avg_sq"])
    with pytest.raises(ValueError, match="step"):
        remedies.adam_update(p, g, m, v, 0, 0.01)


def _tiny_pair(dtype=torch.float64):
    torch.manual_seed(3)
    G = models.MLPGenerator(latent_dim=1, out_dim=1, hidden_dims=(3,), activation="tanh").to(dtype)
    D = models.MLPDiscriminator(in_dim=1, hidden_dims=(4,), activation="tanh").to(dtype)
    return G, D


def test_unrolled_loss_with_no_look_ahead_is_the_generator_loss():
    G, D = _tiny_pair()
    d_opt = torch.optim.Adam(D.parameters(), lr=0.1)
    z, x = torch.randn(8, 1, dtype=torch.float64), torch.randn(8, 1, dtype=torch.float64)
    plain = torch.log1p(-torch.sigmoid(D(G(z)))).mean()  # minimax: E log(1 - D(G(z)))
    assert remedies.unrolled_generator_loss(D, G, d_opt, x, z, 0).item() == pytest.approx(plain.item())


def test_unrolled_gradient_matches_finite_differences_through_the_look_ahead():
    # L(theta_G) = L_G(theta_G, theta_D^K(theta_G)) with K = 3 Adam steps of D, written out by
    # hand here; its derivative by central differences must equal autograd's, which holds only
    # if the gradient flows through D's look-ahead (the second-order term of Metz et al.).
    G, D = _tiny_pair()
    d_opt = torch.optim.Adam(D.parameters(), lr=0.05, betas=(0.5, 0.999))
    z, x = torch.randn(16, 1, dtype=torch.float64), 1.0 + 0.5 * torch.randn(16, 1, dtype=torch.float64)
    K = 3

    def surrogate():
        with torch.no_grad():
            d = [p.clone() for p in D.parameters()]
            m = [torch.zeros_like(p) for p in d]
            v = [torch.zeros_like(p) for p in d]
            for t in range(1, K + 1):
                dd = [p.clone().requires_grad_(True) for p in d]
                with torch.enable_grad():
                    def Dfun(inp, w=dd):
                        return (torch.tanh(inp @ w[0].T + w[1]) @ w[2].T + w[3]).squeeze(1)
                    x_fake = G(z)
                    loss = -(torch.nn.functional.logsigmoid(Dfun(x)).mean()
                             + torch.nn.functional.logsigmoid(-Dfun(x_fake)).mean())
                    grads = torch.autograd.grad(loss, dd)
                for i, g in enumerate(grads):
                    m[i] = 0.5 * m[i] + 0.5 * g
                    v[i] = 0.999 * v[i] + 0.001 * g * g
                    d[i] = d[i] - 0.05 * (m[i] / (1 - 0.5 ** t)) / ((v[i] / (1 - 0.999 ** t)).sqrt() + 1e-8)
            logits = (torch.tanh(G(z) @ d[0].T + d[1]) @ d[2].T + d[3]).squeeze(1)
            return torch.nn.functional.logsigmoid(-logits).mean().item()  # E log(1 - D_K(G(z)))

    loss = remedies.unrolled_generator_loss(D, G, d_opt, x, z, K)
    assert loss.item() == pytest.approx(surrogate(), rel=1e-9)
    grads = torch.autograd.grad(loss, list(G.parameters()))
    # the same gradient with the look-ahead treated as a constant (first order): must differ
    plain_first_order = None
    h = 1e-6
    for p, g in zip(G.parameters(), grads):
        for idx in [(0,) * p.ndim, tuple(s - 1 for s in p.shape)]:
            with torch.no_grad():
                old = p[idx].item()
                p[idx] = old + h
                up = surrogate()
                p[idx] = old - h
                down = surrogate()
                p[idx] = old
            assert g[idx].item() == pytest.approx((up - down) / (2 * h), rel=1e-4, abs=1e-8)
    assert plain_first_order is None
    # D's own weights and optimiser state were not changed by the look-ahead
    assert all(len(s) == 0 for s in d_opt.state.values())


def test_unrolled_trainer_moves_only_g_in_the_g_update():
    G = models.MLPGenerator(latent_dim=2, out_dim=2, hidden_dims=(8,))
    D = models.MLPDiscriminator(in_dim=2, hidden_dims=(8,))
    tr = remedies.UnrolledGANTrainer(G, D, distributions.ring_2d(), unroll_steps=2, batch_size=16,
                                     g_loss="minimax", seed=1)
    tr.step()  # one D update (Adam state now exists), one unrolled G update
    d_before = [p.detach().clone() for p in tr.D.parameters()]
    g_before = [p.detach().clone() for p in tr.G.parameters()]
    out = tr.step_g()
    assert all(torch.equal(a, b) for a, b in zip(d_before, tr.D.parameters()))
    assert any(not torch.equal(a, b) for a, b in zip(g_before, tr.G.parameters()))
    assert math.isfinite(out["g_loss"]) and out["g_grad_norm"] > 0
    assert all(p.requires_grad for p in tr.D.parameters())
    with pytest.raises(ValueError, match="optimizer must be 'adam'"):
        remedies.UnrolledGANTrainer(G, D, distributions.ring_2d(), optimizer="sgd")
    with pytest.raises(ValueError, match="unroll_steps"):
        remedies.UnrolledGANTrainer(G, D, distributions.ring_2d(), unroll_steps=-1)
