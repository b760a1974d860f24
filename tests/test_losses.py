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


# --- AC-GAN (Odena et al. 2017, section 3) ---------------------------------------------------------

@pytest.fixture
def acgan_batch():
    gen = torch.Generator().manual_seed(11)
    def draw(n):
        source = torch.randn(n, generator=gen, dtype=torch.float64) * 2
        classes = torch.randn(n, 10, generator=gen, dtype=torch.float64) * 2
        return source, classes, torch.randint(10, (n,), generator=gen)
    return draw(32) + draw(24)  # real: a, class logits, labels; then the same for fake


def test_acgan_log_likelihoods_match_hand_formulas(acgan_batch):
    a_r, c_r, y_r, a_f, c_f, y_f = acgan_batch
    l_s = torch.log(torch.sigmoid(a_r)).mean() + torch.log(1 - torch.sigmoid(a_f)).mean()
    assert torch.allclose(losses.acgan_source_loglik(a_r, a_f), l_s, atol=1e-12)
    # log P(C = c | X) from the softmax, picked out one row at a time
    p_r, p_f = torch.softmax(c_r, 1), torch.softmax(c_f, 1)
    by_hand = (sum(math.log(p_r[i, y_r[i]]) for i in range(32)) / 32
               + sum(math.log(p_f[i, y_f[i]]) for i in range(24)) / 24)
    l_c = losses.acgan_class_loglik(c_r, y_r, c_f, y_f)
    assert l_c.item() == pytest.approx(by_hand, rel=1e-12)
    assert torch.allclose(l_c, -F.cross_entropy(c_r, y_r) - F.cross_entropy(c_f, y_f), atol=1e-12)
    assert l_c < 0 and l_s < 0  # log-probabilities


def test_acgan_d_loss_is_minus_both_log_likelihoods(acgan_batch):
    a_r, c_r, y_r, a_f, c_f, y_f = acgan_batch
    expected = -(torch.log(torch.sigmoid(a_r)).mean() + torch.log(1 - torch.sigmoid(a_f)).mean()
                 - F.cross_entropy(c_r, y_r) - F.cross_entropy(c_f, y_f))
    assert torch.allclose(losses.acgan_d_loss(a_r, a_f, c_r, y_r, c_f, y_f), expected, atol=1e-12)
    smoothed = (F.binary_cross_entropy_with_logits(a_r, torch.full_like(a_r, 0.9))
                + F.binary_cross_entropy_with_logits(a_f, torch.zeros_like(a_f))
                + F.cross_entropy(c_r, y_r) + F.cross_entropy(c_f, y_f))
    assert torch.allclose(losses.acgan_d_loss(a_r, a_f, c_r, y_r, c_f, y_f, real_label=0.9), smoothed, atol=1e-12)


def test_acgan_g_loss_kinds_match_hand_formulas(acgan_batch):
    _, _, _, a_f, c_f, y_f = acgan_batch
    class_nll = F.cross_entropy(c_f, y_f)
    minimax = torch.log(1 - torch.sigmoid(a_f)).mean() + class_nll
    nonsaturating = -torch.log(torch.sigmoid(a_f)).mean() + class_nll
    assert torch.allclose(losses.acgan_g_loss(a_f, c_f, y_f, "minimax"), minimax, atol=1e-12)
    assert torch.allclose(losses.acgan_g_loss(a_f, c_f, y_f), nonsaturating, atol=1e-12)


def test_acgan_minimax_g_loss_has_the_gradient_of_minus_lc_minus_ls(acgan_batch):
    # G maximises L_C - L_S; the terms on real images do not depend on G, so they drop from the gradient.
    a_r, c_r, y_r, a_f, c_f, y_f = acgan_batch
    a_f, c_f = a_f.clone().requires_grad_(True), c_f.clone().requires_grad_(True)
    full = -(losses.acgan_class_loglik(c_r, y_r, c_f, y_f) - losses.acgan_source_loglik(a_r, a_f))
    g_full = torch.autograd.grad(full, (a_f, c_f))
    g_ours = torch.autograd.grad(losses.acgan_g_loss(a_f, c_f, y_f, "minimax"), (a_f, c_f))
    assert all(torch.allclose(u, v, atol=1e-12) for u, v in zip(g_full, g_ours))
    assert not torch.allclose(full, losses.acgan_g_loss(a_f, c_f, y_f, "minimax"))  # only constants differ


def test_acgan_losses_reject_bad_shapes_and_labels():
    c, y = torch.zeros(4, 10), torch.zeros(4, dtype=torch.int64)
    with pytest.raises(ValueError, match="real_class_logits must have shape"):
        losses.acgan_class_loglik(torch.zeros(4), y, c, y)
    with pytest.raises(ValueError, match=r"fake_labels must have shape \(4,\)"):
        losses.acgan_class_loglik(c, y, c, torch.zeros(3, dtype=torch.int64))
    with pytest.raises(ValueError, match=r"real_labels must be integers in 0\.\.9"):
        losses.acgan_class_loglik(c, torch.full((4,), 10), c, y)
    with pytest.raises(ValueError, match="fake_labels must be integers"):
        losses.acgan_g_loss(torch.zeros(4), c, torch.zeros(4))
    with pytest.raises(ValueError, match="kind"):
        losses.acgan_g_loss(torch.zeros(4), c, y, kind="hinge")


def test_mixture_nll_matches_the_mixture_density_written_by_hand():
    from scipy import stats

    gen = torch.Generator().manual_seed(0)
    logits, means = torch.randn(20, 3, generator=gen, dtype=torch.float64), torch.randn(20, 3, generator=gen, dtype=torch.float64)
    log_stds, y = 0.3 * torch.randn(20, 3, generator=gen, dtype=torch.float64), torch.randn(20, 1, generator=gen, dtype=torch.float64)
    w = torch.softmax(logits, 1).numpy()
    density = (w * stats.norm(means.numpy(), log_stds.exp().numpy()).pdf(y.numpy())).sum(1)
    assert losses.mixture_nll(logits, means, log_stds, y).item() == pytest.approx(-math.log(density.prod()) / 20, rel=1e-12)
    # one component is a Gaussian's negative log-likelihood
    one = losses.mixture_nll(torch.zeros(20, 1), means[:, :1], log_stds[:, :1], y.ravel())
    assert one.item() == pytest.approx(-stats.norm(means[:, 0].numpy(), log_stds[:, 0].exp().numpy()).logpdf(y.ravel().numpy()).mean(), rel=1e-6)


def test_mixture_nll_stays_finite_far_from_every_component_and_checks_shapes():
    far = losses.mixture_nll(torch.zeros(1, 2), torch.zeros(1, 2), torch.full((1, 2), -3.0), torch.tensor([[50.0]]))
    assert math.isfinite(far.item()) and far.item() > 1e5
    with pytest.raises(ValueError, match=r"shape \(n, K\)"):
        losses.mixture_nll(torch.zeros(4, 2), torch.zeros(4, 3), torch.zeros(4, 2), torch.zeros(4))
    with pytest.raises(ValueError, match="one target per row"):
        losses.mixture_nll(torch.zeros(4, 2), torch.zeros(4, 2), torch.zeros(4, 2), torch.zeros(3))
