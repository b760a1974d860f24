"""Each loss against its formula written out by hand and against torch's binary cross-entropy."""
import math

import pytest
import torch
import torch.nn.functional as F

from gan_lessons import losses


@pytest.fixture
def logits():
    gen = torch.Generator().manual_seed(3)
    return torch.randn(64, generator=gen, dtype=torch.float64) * 2, torch.randn(64, generator=gen, dtype=torch.float64) * 2


def test_discriminator_loss_matches_hand_formula_and_bce(logits):
    real, fake = logits
    d_x, d_gz = torch.sigmoid(real), torch.sigmoid(fake)
    by_hand = -(torch.log(d_x).mean() + torch.log(1 - d_gz).mean())
    by_bce = F.binary_cross_entropy(d_x, torch.ones_like(d_x)) + F.binary_cross_entropy(d_gz, torch.zeros_like(d_gz))
    got = losses.d_loss(real, fake)
    assert torch.allclose(got, by_hand, atol=1e-12)
    assert torch.allclose(got, by_bce, atol=1e-12)


def test_value_function_is_minus_discriminator_loss(logits):
    real, fake = logits
    by_hand = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(losses.value_function(real, fake), by_hand, atol=1e-12)
    assert torch.allclose(losses.value_function(real, fake), -losses.d_loss(real, fake), atol=1e-12)


def test_generator_losses_match_hand_formulas_and_bce(logits):
    _, fake = logits
    d_gz = torch.sigmoid(fake)
    assert torch.allclose(losses.g_loss_minimax(fake), torch.log(1 - d_gz).mean(), atol=1e-12)
    assert torch.allclose(losses.g_loss_minimax(fake), -F.binary_cross_entropy(d_gz, torch.zeros_like(d_gz)), atol=1e-12)
    assert torch.allclose(losses.g_loss_nonsaturating(fake), -torch.log(d_gz).mean(), atol=1e-12)
    assert torch.allclose(losses.g_loss_nonsaturating(fake), F.binary_cross_entropy(d_gz, torch.ones_like(d_gz)), atol=1e-12)
    assert torch.equal(losses.generator_loss(fake, "minimax"), losses.g_loss_minimax(fake))
    assert torch.equal(losses.generator_loss(fake, "nonsaturating"), losses.g_loss_nonsaturating(fake))


def test_one_sided_label_smoothing_matches_bce_with_soft_target(logits):
    real, fake = logits
    expected = (F.binary_cross_entropy_with_logits(real, torch.full_like(real, 0.9))
                + F.binary_cross_entropy_with_logits(fake, torch.zeros_like(fake)))
    assert torch.allclose(losses.d_loss(real, fake, real_label=0.9), expected, atol=1e-12)


def test_generator_gradients_at_d_of_g_z_one_in_a_thousand():
    # At D(G(z)) = 0.001 the minimax loss gives G almost nothing to follow, the non-saturating ~1.
    a = torch.tensor([math.log(0.001 / 0.999)], dtype=torch.float64, requires_grad=True)
    (g_mm,) = torch.autograd.grad(losses.g_loss_minimax(a), a)
    (g_ns,) = torch.autograd.grad(losses.g_loss_nonsaturating(a), a)
    # Closed forms: d/da log(1 - sigmoid(a)) = -sigmoid(a); d/da -log sigmoid(a) = -(1 - sigmoid(a)).
    assert g_mm.item() == pytest.approx(-0.001, rel=1e-9)
    assert g_ns.item() == pytest.approx(-0.999, rel=1e-9)
    assert abs(g_ns.item() / g_mm.item()) == pytest.approx(999, rel=1e-6)


def test_losses_stay_finite_when_d_saturates():
    real = torch.tensor([200.0, -200.0])
    fake = torch.tensor([-200.0, 200.0])
    for value in (losses.d_loss(real, fake), losses.g_loss_minimax(fake), losses.g_loss_nonsaturating(fake),
                  losses.value_function(real, fake)):
        assert torch.isfinite(value)
    # the naive formula rounds log(sigmoid(-200)) to -inf; the stable one gives -200
    assert losses.log_d(torch.tensor(-200.0)).item() == pytest.approx(-200.0)


def test_bad_arguments_name_themselves():
    x = torch.zeros(3)
    with pytest.raises(ValueError, match="kind"):
        losses.generator_loss(x, "wasserstein")
    with pytest.raises(ValueError, match="real_label"):
        losses.d_loss(x, x, real_label=1.5)
