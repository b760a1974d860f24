"""Model shapes and configs, and lesson 01's two classifiers against independent computations."""
import numpy as np
import pytest
import torch
from scipy import stats

from gan_lessons import models


def test_generator_and_discriminator_shapes_and_output_activations():
    G = models.MLPGenerator(latent_dim=5, hidden_dims=(16, 16), out_dim=784, out_activation="sigmoid",
                            out_shape=(1, 28, 28))
    z = G.sample_z(7, generator=torch.Generator().manual_seed(0))
    x = G(z)
    assert z.shape == (7, 5) and x.shape == (7, 1, 28, 28)
    assert x.min() >= 0 and x.max() <= 1
    D = models.MLPDiscriminator(in_dim=784, hidden_dims=(32,))
    logits = D(x)
    assert logits.shape == (7,)
    assert torch.allclose(D.prob(x), torch.sigmoid(logits))
    tanh_g = models.MLPGenerator(latent_dim=2, out_dim=3, out_activation="tanh")
    assert tanh_g.sample(100).abs().max() <= 1


def test_uniform_noise_lies_in_minus_one_one():
    G = models.MLPGenerator(latent_dim=3, noise="uniform")
    z = G.sample_z(5000, generator=torch.Generator().manual_seed(0))
    assert z.min() >= -1 and z.max() <= 1
    assert stats.kstest(z[:, 0].numpy(), stats.uniform(-1, 2).cdf).pvalue > 1e-3


def test_hidden_layers_follow_the_config():
    G = models.MLPGenerator(models.GeneratorConfig(latent_dim=4, hidden_dims=(8, 6), out_dim=2, activation="tanh"))
    linears = [m for m in G.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in linears] == [(4, 8), (8, 6), (6, 2)]
    assert any(isinstance(m, torch.nn.Tanh) for m in G.modules())
    assert models.count_parameters(G) == 4 * 8 + 8 + 8 * 6 + 6 + 6 * 2 + 2


@pytest.mark.parametrize("kwargs, name", [(dict(latent_dim=0), "latent_dim"), (dict(hidden_dims=(8, -1)), "hidden_dims"),
                                          (dict(activation="swish"), "activation"),
                                          (dict(out_activation="softmax"), "out_activation"),
                                          (dict(noise="cauchy"), "noise"), (dict(out_dim=4, out_shape=(3,)), "out_shape")])
def test_generator_config_errors_name_the_argument(kwargs, name):
    with pytest.raises(ValueError, match=name):
        models.GeneratorConfig(**kwargs)


def test_discriminator_config_errors_name_the_argument():
    with pytest.raises(ValueError, match="in_dim"):
        models.DiscriminatorConfig(in_dim=0)
    with pytest.raises(ValueError, match="leaky_slope"):
        models.DiscriminatorConfig(leaky_slope=2.0)


def two_blobs(n=400, seed=0):
    rng = np.random.default_rng(seed)
    x0 = rng.multivariate_normal([-1, 0], [[1.0, 0.3], [0.3, 0.5]], n)
    x1 = rng.multivariate_normal([1.5, 1], [[0.6, -0.2], [-0.2, 0.8]], n // 2)
    return np.vstack([x0, x1]), np.r_[np.zeros(n), np.ones(n // 2)]


def test_logistic_regression_reaches_the_optimum():
    x, y = two_blobs()
    lr = models.LogisticRegression().fit(x, y)
    # First-order optimality: the mean cross-entropy's gradient vanishes at the fit.
    p = lr.predict_proba(x).numpy()
    grad_w = ((p - y)[:, None] * x).mean(0)
    grad_b = (p - y).mean()
    assert np.abs(grad_w).max() < 1e-5 and abs(grad_b) < 1e-5
    assert ((p > 0.5) == y).mean() > 0.85


def test_gaussian_class_conditional_is_bayes_rule_with_mle_gaussians():
    x, y = two_blobs()
    gc = models.GaussianClassConditional().fit(x, y)
    rv = [stats.multivariate_normal(x[y == c].mean(0), np.cov(x[y == c].T, bias=True)) for c in (0, 1)]
    prior1 = (y == 1).mean()
    pts = np.random.default_rng(1).normal(size=(20, 2))
    joint1, joint0 = rv[1].pdf(pts) * prior1, rv[0].pdf(pts) * (1 - prior1)
    np.testing.assert_allclose(gc.predict_proba(pts).numpy(), joint1 / (joint0 + joint1), rtol=1e-8)
    new_x, new_y = gc.sample(20000, generator=torch.Generator().manual_seed(0))
    assert abs(new_y.double().mean().item() - prior1) < 0.02
    np.testing.assert_allclose(new_x[new_y == 1].mean(0).numpy(), x[y == 1].mean(0), atol=0.05)


def test_classifiers_say_what_to_do_before_fit():
    with pytest.raises(RuntimeError, match="fit"):
        models.LogisticRegression().predict_proba(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match="fit"):
        models.GaussianClassConditional().sample(3)


def test_dcgan_shapes_layer_by_layer_and_outputs():
    G = models.ConvGenerator(latent_dim=16, g_width=32)
    D = models.ConvDiscriminator(d_width=8)
    z = G.sample_z(4, generator=torch.Generator().manual_seed(0))
    shapes = []
    h = z[:, :, None, None]
    for layer in G.net:
        h = layer(h)
        if isinstance(layer, torch.nn.ConvTranspose2d):
            shapes.append(tuple(h.shape[1:]))
    assert shapes == [(32, 7, 7), (16, 14, 14), (1, 28, 28)]
    x = G(z)
    assert x.shape == (4, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (4,)
    assert not isinstance(D.features[1], torch.nn.BatchNorm2d)  # no batch norm on D's input layer


def test_dcgan_init_draws_from_n_0_002():
    G = models.ConvGenerator(latent_dim=64, g_width=64)
    G.apply(models.dcgan_init)
    w = G.net[0].weight.detach()
    assert abs(w.mean().item()) < 1e-3 and w.std().item() == pytest.approx(0.02, rel=0.05)
    bn = G.net[1]
    assert torch.all(bn.bias == 0) and bn.weight.mean().item() == pytest.approx(1.0, abs=0.01)


def test_conditional_models_use_the_label():
    G = models.ConditionalMLPGenerator(latent_dim=4, hidden_dims=(16,), out_dim=6, n_classes=3)
    D = models.ConditionalMLPDiscriminator(in_dim=6, hidden_dims=(16,), n_classes=3)
    z = torch.randn(5, 4)
    y0, y1 = torch.zeros(5, dtype=torch.long), torch.ones(5, dtype=torch.long)
    assert G.latent_dim == 4 and G(z, y0).shape == (5, 6)
    assert not torch.allclose(G(z, y0), G(z, y1))
    # the label enters as a one-hot vector: D(x, y) equals the plain MLP on [x, onehot(y)]
    x = torch.randn(5, 6)
    by_hand = D.net(torch.cat([x, torch.nn.functional.one_hot(y1, 3).float()], 1)).squeeze(1)
    assert torch.allclose(D(x, y1), by_hand)
    with pytest.raises(ValueError, match="labels"):
        G(z)
    with pytest.raises(ValueError, match=r"labels must be integers in 0\.\.2"):
        D(x, torch.full((5,), 3))


def test_acgan_discriminator_returns_source_and_class_logits():
    D = models.ConvDiscriminator(d_width=8, n_classes=10)
    logit, class_logits = D(torch.rand(3, 1, 28, 28))
    assert logit.shape == (3,) and class_logits.shape == (3, 10)
    Gc = models.ConvGenerator(latent_dim=8, g_width=16, n_classes=10)
    assert Gc(torch.randn(3, 8), torch.tensor([0, 5, 9])).shape == (3, 1, 28, 28)


def test_mixture_density_network_samples_its_own_mixture():
    mdn = models.MixtureDensityNetwork(hidden_dims=(8,), n_components=2)
    assert torch.allclose(mdn.net[-1].bias[2:4], torch.tensor([-1.0, 1.0]))  # the means start apart
    with torch.no_grad():  # a network that ignores x: weights 0.25 / 0.75, means -3 / 2, stds 0.5 / 0.1
        mdn.net[-1].weight.zero_()
        mdn.net[-1].bias.copy_(torch.tensor([np.log(0.25), np.log(0.75), -3.0, 2.0, np.log(0.5), np.log(0.1)]))
    x = torch.zeros(40_000, 1)
    logits, means, log_stds = mdn(x)
    assert logits.shape == means.shape == log_stds.shape == (40_000, 2)
    y = mdn.sample(x, torch.Generator().manual_seed(0)).numpy().ravel()
    assert (y < 0).mean() == pytest.approx(0.25, abs=0.01)
    assert y[y < 0].mean() == pytest.approx(-3.0, abs=0.02) and y[y < 0].std() == pytest.approx(0.5, rel=0.03)
    assert y[y > 0].std() == pytest.approx(0.1, rel=0.03)
    mixture = 0.25 * stats.norm(-3, 0.5).pdf(np.array([-3.0, 2.0])) + 0.75 * stats.norm(2, 0.1).pdf(np.array([-3.0, 2.0]))
    nll = mdn.nll(torch.zeros(2, 1), torch.tensor([[-3.0], [2.0]])).item()
    assert nll == pytest.approx(-np.log(mixture).mean(), rel=1e-5)


def test_regressor_gives_one_prediction_per_row_and_checks_its_input():
    f = models.MLPRegressor(hidden_dims=(8, 8))
    assert f(torch.zeros(5, 1)).shape == (5, 1)
    with pytest.raises(ValueError, match=r"shape \(B, 1\)"):
        f(torch.zeros(5))
    with pytest.raises(ValueError, match="n_components"):
        models.MixtureDensityNetwork(n_components=0)


def test_layer_costs_match_torchs_flop_counter_and_the_parameter_count():
    from torch.utils.flop_counter import FlopCounterMode

    from gan_lessons import mnist_gan

    G, D = mnist_gan.dcgan()
    z = torch.randn(3, 100)
    for net, x in ((G, z), (D, G(z).detach())):
        rows = models.layer_costs(net, x)
        net.eval()
        with FlopCounterMode(display=False) as counter, torch.no_grad():
            net(x)
        # torch counts a multiply-add as 2 floating-point operations, for the whole batch of 3.
        assert 2 * 3 * sum(r["multiply_adds"] for r in rows) == counter.get_total_flops()
        assert sum(r["parameters"] for r in rows) == models.count_parameters(net)
    g_rows = models.layer_costs(G, z)
    assert [r["kind"] for r in g_rows][:2] == ["ConvTranspose2d", "BatchNorm2d"]
    assert g_rows[0]["parameters"] == g_rows[0]["multiply_adds"] == 100 * 64 * 7 * 7  # a 1x1 input: a dense layer
    with pytest.raises(ValueError, match="x must be"):
        models.layer_costs(G, [1, 2])


def test_conditional_conv_discriminator_is_the_planes_computation_by_hand():
    import torch.nn.functional as F

    D = models.ConditionalConvDiscriminator(models.DCGANConfig(d_width=4, n_classes=3)).eval()
    gen = torch.Generator().manual_seed(0)
    x, y = torch.randn(5, 1, 28, 28, generator=gen), torch.tensor([0, 2, 1, 1, 0])
    one_hot = F.one_hot(y, 3).float()
    with torch.no_grad():
        planes = one_hot[:, :, None, None] * torch.ones(5, 3, 28, 28)
        h = F.leaky_relu(F.conv2d(torch.cat([x, planes], 1), D.down1[0].weight, D.down1[0].bias, 2, 1), 0.2)
        h = D.down2(torch.cat([h, planes[:, :, :14, :14]], 1))
        by_hand = (torch.cat([h, one_hot], 1) @ D.source.weight.T + D.source.bias)[:, 0]
        assert torch.allclose(D(x, y), by_hand, atol=1e-6)
        # The label matters: the same images with other labels give other logits.
        assert not torch.allclose(D(x, y), D(x, (y + 1) % 3))
    with pytest.raises(ValueError, match="labels"):
        D(x)
    with pytest.raises(ValueError, match="n_classes must be at least 1"):
        models.ConditionalConvDiscriminator(n_classes=0)
