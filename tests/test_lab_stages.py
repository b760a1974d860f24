"""Tests of the lab's slow motion (``lab_stages.staged_update``).

A staged update must be the trainer's own update (the same weights as ``step_d`` / ``step_g``
on a twin trainer), and every number its captions state must be the number it claims: each is
recomputed here from copies of the networks taken before the update and a replay of the
trainer's random stream.
"""
import copy
import re

import numpy as np
import pytest
import torch
from torch import nn

from gan_lessons import lab, lab_stages, remedies
from gan_lessons.lab_panel import remedy_trainer
from gan_lessons.train import TrainingDiverged

PARAMETER = {"none": None, "PacGAN": 2, "WGAN-GP": 10.0, "unrolled": 2}
TARGETS = {1: "1-D two modes", 2: "2-D ring of 8"}
NUMBER = r"(-?\d+\.\d{3})"


def _trainer(remedy, dim, **kwargs):
    dist = lab.make_target(TARGETS[dim])
    G, D = lab.default_models(dist.dim)
    tr = remedy_trainer(remedy, G, D, dist, PARAMETER[remedy], seed=0, device="cpu", batch_size=64, **kwargs)
    tr.fast_path = False  # step_d / step_g by autograd, as the staged update
    return tr


def _weights(tr):
    return [p.detach().clone() for net in (tr.G, tr.D) for p in net.parameters()]


def _replay(tr):
    # A generator in the trainer's random state: it draws what the next update will draw.
    g = torch.Generator()
    g.set_state(tr.rng.get_state())
    return g


def _numbers(pattern, caption):
    found = re.search(pattern, caption)
    assert found is not None, f"{pattern!r} not in {caption!r}"
    return [float(v) for v in found.groups()]


def _close(shown, value):
    # a number printed with 3 decimals against the value computed here
    return abs(shown - value) <= 5e-4 + 1e-6


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("remedy", ["none", "PacGAN", "WGAN-GP", "unrolled"])
def test_staged_update_is_the_trainers_own_update(remedy, dim):
    staged, plain = _trainer(remedy, dim), _trainer(remedy, dim)
    assert all(torch.equal(a, b) for a, b in zip(_weights(staged), _weights(plain)))
    for which in "DGDG":
        before = _weights(staged)
        counts = staged.d_updates, staged.g_updates
        stages = lab_stages.staged_update(staged, which)
        out = plain.step_d() if which == "D" else plain.step_g()
        after = _weights(staged)
        # the same weights as step_d / step_g, and the update really moved them
        for a, b in zip(after, _weights(plain)):
            assert torch.allclose(a, b, rtol=0, atol=1e-6), (remedy, dim, which)
        moved = max(float((a - b).abs().max()) for a, b in zip(after, before))
        assert moved > 1e-6, (remedy, which)
        # only the player that was updated changed
        n_g = len(list(staged.G.parameters()))
        frozen = after[n_g:] if which == "G" else after[:n_g]
        still = before[n_g:] if which == "G" else before[:n_g]
        assert all(torch.equal(a, b) for a, b in zip(frozen, still))
        # the same random draws (so the two trainers stay in step)
        assert torch.equal(staged.rng.get_state(), plain.rng.get_state())
        assert (staged.d_updates, staged.g_updates) == (counts[0] + (which == "D"), counts[1] + (which == "G"))
        for key in ("d_loss", "d_real", "d_fake", "d_grad_norm") if which == "D" else ("g_loss", "g_grad_norm"):
            assert staged.last[key] == pytest.approx(out[key], rel=1e-5, abs=1e-7), (remedy, which, key)
        assert [s.number for s in stages] == [1, 2, 3, 4, 5]
        assert tuple(s.title for s in stages) == lab_stages.STAGE_TITLES
        assert all(isinstance(s, lab_stages.Stage) for s in stages)


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("remedy", ["none", "PacGAN", "WGAN-GP", "unrolled"])
def test_d_stages_state_the_numbers_they_claim(remedy, dim):
    tr = _trainer(remedy, dim)
    tr.step()  # Adam's moments are set: the update is not the first
    m = getattr(tr, "m", 1)
    n = 64 * m
    D0, G0 = copy.deepcopy(tr.D), copy.deepcopy(tr.G)
    g = _replay(tr)
    x_real = tr.data.sample(n, generator=g)
    z = tr.G.sample_z(n, generator=g)
    eps = torch.rand(n, generator=g) if remedy == "WGAN-GP" else None
    s1, s2, s3, s4, s5 = lab_stages.staged_update(tr, "D")

    # 1: the batch
    assert f"{n} real samples" in s1.caption and f"{n} noise" in s1.caption
    assert (f"in 64 packs of {m}" in s1.caption) == (m > 1)
    with torch.no_grad():
        x_fake = G0(z)
    np.testing.assert_allclose(s1.show["x_real"], x_real.numpy(), atol=1e-7)
    np.testing.assert_allclose(s1.show["x_fake"], x_fake.numpy(), atol=1e-7)
    assert s1.show["x_real"].shape == (n, dim)

    # 2: D's outputs, one per pack shown at each of its members
    with torch.no_grad():
        r, f = D0(x_real).double(), D0(x_fake).double()
    critic = remedy == "WGAN-GP"
    shown_r, shown_f = (r, f) if critic else (torch.sigmoid(r), torch.sigmoid(f))
    np.testing.assert_allclose(s2.show["d_real"], np.repeat(shown_r.numpy(), m), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(s2.show["d_fake"], np.repeat(shown_f.numpy(), m), rtol=1e-5, atol=1e-7)
    mean_r, mean_f = _numbers(rf"mean D\(x\) = {NUMBER} on the real batch, mean D\(G\(z\)\) = {NUMBER}", s2.caption)
    assert _close(mean_r, float(shown_r.mean())) and _close(mean_f, float(shown_f.mean()))
    assert f"mean D(x) = {tr.last['d_real']:.3f}" in s2.caption
    assert ("scores, not probabilities" in s2.caption) == critic
    if critic:
        lo, hi = s2.show["critic_range"]
        assert lo == pytest.approx(float(min(r.min(), f.min())), abs=1e-6)
        assert hi == pytest.approx(float(max(r.max(), f.max())), abs=1e-6)

    # 3: the loss
    assert f"{tr.last['d_loss']:.3f}" in s3.caption
    w = float(f.mean() - r.mean())
    if critic:
        x_hat = (eps[:, None] * x_real + (1 - eps[:, None]) * x_fake).requires_grad_(True)
        (grad,) = torch.autograd.grad(D0(x_hat).sum(), x_hat)
        gp = float(((grad.norm(dim=1) - 1) ** 2).mean())
        loss = w + 10.0 * gp
        shown_w, shown_gp, shown_loss = _numbers(rf"= {NUMBER} \+ 10 × {NUMBER} = {NUMBER}", s3.caption)
        assert _close(shown_w, w) and _close(shown_gp, gp)
    else:
        loss = float(nn.functional.softplus(-r).mean() + nn.functional.softplus(f).mean())
        (shown_loss,) = _numbers(rf"log\(1 − D\(G\(z\)\)\) = {NUMBER}", s3.caption)
    assert _close(shown_loss, loss)
    assert tr.last["d_loss"] == pytest.approx(loss, rel=1e-5)

    # 4: the gradient, its norm and the push on each output: -dL/d(output) times the number of outputs
    n_weights = sum(p.numel() for p in D0.parameters())
    assert f"for D's {n_weights:,} weights" in s4.caption
    assert f"(norm {tr.last['d_grad_norm']:.3g})" in s4.caption
    push = s4.show["push"]
    if critic:  # L = mean D(G(z)) - mean D(x) + penalty: -dL/dD(x_i) * B = 1, -dL/dD(G(z_i)) * B = -1
        expected = np.concatenate([np.ones(n), -np.ones(n)])
    else:  # binary cross-entropy: 1 - D(x) at real samples, -D(G(z)) at fake ones
        expected = np.concatenate([np.repeat(1 - torch.sigmoid(r).numpy(), m), np.repeat(-torch.sigmoid(f).numpy(), m)])
    np.testing.assert_allclose(push["vec"][:, 1], expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(push["vec"][:, 0], 0.0)
    start = np.concatenate([x_real.numpy(), x_fake.numpy()]) if dim == 2 else \
        np.stack([np.concatenate([x_real.numpy()[:, 0], x_fake.numpy()[:, 0]]),
                  np.concatenate([s2.show["d_real"], s2.show["d_fake"]])], 1)
    np.testing.assert_allclose(push["at"], start, rtol=1e-5, atol=1e-6)
    assert len(push["colors"]) == 2 * n

    # 5: the update, and D's outputs on the same batch after it
    with torch.no_grad():
        r1, f1 = tr.D(x_real).double(), tr.D(x_fake).double()
    after_r, after_f = (r1, f1) if critic else (torch.sigmoid(r1), torch.sigmoid(f1))
    a, b, c, d, e, h = _numbers(rf"went from {NUMBER} to {NUMBER}, mean D\(x\) from {NUMBER} to {NUMBER} and "
                                rf"mean D\(G\(z\)\) from {NUMBER} to {NUMBER}", s5.caption)
    if critic:
        assert "the Wasserstein term" in s5.caption
        assert _close(a, w) and _close(b, float(f1.mean() - r1.mean()))
        assert s5.show["loss_before"] == pytest.approx(w, rel=1e-5)
    else:
        assert a == shown_loss  # the same number as stage 3's
        assert _close(b, float(nn.functional.softplus(-r1).mean() + nn.functional.softplus(f1).mean()))
        assert s5.show["loss_before"] == pytest.approx(tr.last["d_loss"], rel=1e-12)
    assert (c, e) == (mean_r, mean_f)  # "from" is stage 2's mean
    assert _close(d, float(after_r.mean())) and _close(h, float(after_f.mean()))
    np.testing.assert_allclose(s5.show["d_real"], np.repeat(after_r.numpy(), m), rtol=1e-5, atol=1e-7)
    assert "lr 1.0e-03" in s5.caption and "Adam steps D's weights" in s5.caption


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("remedy", ["none", "PacGAN", "WGAN-GP", "unrolled"])
def test_g_stages_state_the_numbers_they_claim(remedy, dim):
    tr = _trainer(remedy, dim)
    tr.step()
    m = getattr(tr, "m", 1)
    n = 64 * m
    D0, d_opt0, G0 = copy.deepcopy((tr.D, tr.d_opt, tr.G))  # one deepcopy: d_opt0's state is keyed by D0's weights
    g = _replay(tr)
    x_real = tr.data.sample(n, generator=g) if remedy == "unrolled" else None
    z = tr.G.sample_z(n, generator=g)
    s1, s2, s3, s4, s5 = lab_stages.staged_update(tr, "G")

    assert f"Draw {n} noise vectors" in s1.caption
    with torch.no_grad():
        x_fake = G0(z)
    np.testing.assert_allclose(s1.show["x_fake"], x_fake.numpy(), atol=1e-7)

    critic = remedy == "WGAN-GP"
    with torch.no_grad():
        out = D0(x_fake).double()
    shown = out if critic else torch.sigmoid(out)
    (mean_f,) = _numbers(rf"mean D\(G\(z\)\) = {NUMBER}", s2.caption)
    assert _close(mean_f, float(shown.mean()))
    assert "D is held fixed" in s2.caption
    np.testing.assert_allclose(s2.show["d_fake"], np.repeat(shown.numpy(), m), rtol=1e-5, atol=1e-7)

    # 3: the loss, written out here for each remedy
    if critic:
        loss_of = lambda x: -D0(x).mean()
    elif remedy == "unrolled":
        loss_of = lambda x: remedies.unrolled_generator_loss(D0, _ReturnsX(x), d_opt0, x_real, z, 2,
                                                             "nonsaturating")
    else:
        loss_of = lambda x: nn.functional.softplus(-D0(x)).mean()
    x_leaf = x_fake.clone().requires_grad_(True)
    loss = loss_of(x_leaf)
    (grad_x,) = torch.autograd.grad(loss, x_leaf)
    loss = float(loss)
    (shown_loss,) = _numbers(rf"L_G = [^=]*?{NUMBER}" if remedy == "unrolled" else rf"= {NUMBER}", s3.caption)
    assert _close(shown_loss, loss)
    assert f"{tr.last['g_loss']:.3f}" in s3.caption
    assert tr.last["g_loss"] == pytest.approx(loss, rel=1e-5)
    if remedy == "unrolled":
        assert "after 2 look-ahead updates" in s3.caption

    # 4: the pull on each sample, -dL_G/dG(z) times the batch's size, and the norm of G's gradient
    n_weights = sum(p.numel() for p in G0.parameters())
    assert f"to its {n_weights:,} weights (norm {tr.last['g_grad_norm']:.3g})" in s4.caption
    pull = -grad_x.numpy() * n
    vec = s4.show["push"]["vec"]
    expected = np.stack([pull[:, 0], np.zeros(n)], 1) if dim == 1 else pull
    np.testing.assert_allclose(vec, expected, rtol=1e-4, atol=1e-6 * np.abs(pull).max())
    assert np.abs(pull).max() > 1e-4
    g_params = list(G0.parameters())
    G0_grads = torch.autograd.grad(G0(z), g_params, grad_x)  # the chain rule, dL/dtheta = dL/dx dx/dtheta
    norm = float(torch.linalg.vector_norm(torch.stack([gg.norm() for gg in G0_grads])))
    assert tr.last["g_grad_norm"] == pytest.approx(norm, rel=1e-4)

    # 5: the samples moved, and the loss on the same z after the step (against today's D)
    with torch.no_grad():
        moved = tr.G(z)
        after = D0(moved).double()
    np.testing.assert_allclose(s5.show["x_fake"], moved.numpy(), atol=1e-7)
    assert float((moved - x_fake).abs().max()) > 1e-6
    a, b, c, d = _numbers(rf"went from {NUMBER} to {NUMBER} and mean D\(G\(z\)\) from {NUMBER} to {NUMBER}", s5.caption)
    if critic:
        before_loss, after_loss = float(-out.mean()), float(-after.mean())
    else:
        before_loss = float(nn.functional.softplus(-out).mean())
        after_loss = float(nn.functional.softplus(-after).mean())
    if remedy == "unrolled":
        assert "without the look-ahead" in s5.caption
    else:
        assert a == shown_loss  # stage 3's loss
    assert _close(a, before_loss) and _close(b, after_loss)
    assert c == mean_f  # stage 2's mean
    assert _close(d, float((after if critic else torch.sigmoid(after)).mean()))


class _ReturnsX(nn.Module):
    # A "generator" that returns the given samples, so that the loss is a function of them.
    def __init__(self, x):
        super().__init__()
        self.x = x

    def forward(self, z):
        return self.x


def test_staged_update_reads_the_settings_first():
    staged, plain = _trainer("none", 2), _trainer("none", 2)
    for tr in (staged, plain):
        tr.config.lr_d = 0.02
        tr.config.g_loss = "minimax"
    stages = lab_stages.staged_update(staged, "D")
    plain.step_d()
    assert "lr 2.0e-02" in stages[4].caption
    stages = lab_stages.staged_update(staged, "G")
    plain.step_g()
    assert "mean log(1 − D(G(z)))" in stages[2].caption and "(minimax)" in stages[2].caption
    for a, b in zip(_weights(staged), _weights(plain)):
        assert torch.allclose(a, b, rtol=0, atol=1e-6)


def test_staged_update_rejects_a_bad_player():
    with pytest.raises(ValueError, match="which"):
        lab_stages.staged_update(_trainer("none", 1), "both")


def _finite(tr):
    return all(bool(torch.isfinite(p).all()) for net in (tr.G, tr.D) for p in net.parameters())


@pytest.mark.parametrize("remedy", ["none", "WGAN-GP"])
def test_a_diverging_d_update_raises_and_keeps_the_last_finite_weights(remedy):
    tr = _trainer(remedy, 2, optimizer="sgd") if remedy == "none" else _trainer(remedy, 2)
    tr.step()
    saved = _weights(tr)
    tr.config.lr_d = 10.0
    with torch.no_grad():
        for p in tr.D.parameters():
            p.mul_(1e15)  # D's outputs overflow
    d_updates = tr.d_updates
    with pytest.raises(TrainingDiverged, match="discriminator"):
        lab_stages.staged_update(tr, "D")
    assert _finite(tr)
    assert all(torch.equal(a, b) for a, b in zip(_weights(tr), saved))
    assert tr.d_updates == d_updates


@pytest.mark.parametrize("which", ["D", "G"])
def test_a_nan_weight_raises_and_restores_the_weights(which):
    tr = _trainer("none", 1)
    tr.step()
    saved = _weights(tr)
    with torch.no_grad():
        next(tr.D.parameters())[0, 0] = float("nan")
    with pytest.raises(TrainingDiverged, match="discriminator" if which == "D" else "generator"):
        lab_stages.staged_update(tr, which)
    assert _finite(tr)
    assert all(torch.equal(a, b) for a, b in zip(_weights(tr), saved))
    assert (tr.d_updates, tr.g_updates) == (1, 1)


def _poison_after_step(opt):
    # The optimiser's step leaves a NaN in the first weight: the loss and gradient were finite.
    step = opt.step

    def poisoned(*args, **kwargs):
        out = step(*args, **kwargs)
        with torch.no_grad():
            opt.param_groups[0]["params"][0].view(-1)[0] = float("nan")
        return out

    opt.step = poisoned


def test_a_weight_made_non_finite_by_the_step_is_undone():
    staged, plain = _trainer("none", 2), _trainer("none", 2)
    for tr in (staged, plain):
        tr.step()
        _poison_after_step(tr.d_opt)
    saved = _weights(staged)
    with pytest.raises(TrainingDiverged, match="non-finite"):
        lab_stages.staged_update(staged, "D")
    with pytest.raises(TrainingDiverged, match="non-finite"):
        plain.step_d()
    assert _finite(staged)
    assert all(torch.equal(a, b) for a, b in zip(_weights(staged), saved))
    assert staged.d_updates == plain.d_updates


def test_an_undone_update_leaves_trainer_last_as_step_d_does():
    staged, plain = _trainer("none", 2), _trainer("none", 2)
    for tr in (staged, plain):
        tr.step()
        _poison_after_step(tr.d_opt)
    with pytest.raises(TrainingDiverged):
        lab_stages.staged_update(staged, "D")
    with pytest.raises(TrainingDiverged):
        plain.step_d()
    assert staged.last == plain.last
