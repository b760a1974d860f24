"""The training loop: Algorithm 1's step counts, determinism, live settings, the divergence guard."""
import math

import pytest
import torch

from gan_lessons import distributions, models, train


def make_trainer(seed=0, **overrides):
    G = models.MLPGenerator(latent_dim=2, hidden_dims=(16,))
    D = models.MLPDiscriminator(in_dim=1, hidden_dims=(16,))
    data = distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5])
    overrides.setdefault("batch_size", 32)
    return train.GANTrainer(G, D, data, seed=seed, device="cpu", **overrides)


def adam_steps(opt):
    return {int(s["step"]) for s in opt.state.values()}


def test_d_steps_and_g_steps_count_optimizer_steps_exactly():
    tr = make_trainer(d_steps=3, g_steps=2)
    calls = {"d": 0, "g": 0}
    for key, opt in (("d", tr.d_opt), ("g", tr.g_opt)):
        original = opt.step

        def counted(*a, _key=key, _orig=original, **k):
            calls[_key] += 1
            return _orig(*a, **k)
        opt.step = counted
    tr.train(10)
    assert calls == {"d": 30, "g": 20}
    # Adam's own per-parameter step counters agree, for every parameter
    assert adam_steps(tr.d_opt) == {30} and adam_steps(tr.g_opt) == {20}
    assert (tr.iteration, tr.d_updates, tr.g_updates) == (10, 30, 20)
    assert len(tr.history) == 10 and tr.history["iteration"] == list(range(1, 11))


def test_same_seed_same_history_and_different_seed_differs():
    h1 = make_trainer(seed=5).train(25)
    h2 = make_trainer(seed=5).train(25)
    h3 = make_trainer(seed=6).train(25)
    assert h1 == h2
    assert h1["d_loss"] != h3["d_loss"]


def test_reset_gives_back_the_initial_weights_and_history():
    tr = make_trainer(seed=2)
    first = {k: v.clone() for k, v in tr.G.state_dict().items()}
    h1 = list(tr.train(10)["g_loss"])
    tr.reset()
    assert all(torch.equal(first[k], v) for k, v in tr.G.state_dict().items())
    assert len(tr.history) == 0 and tr.d_updates == 0
    assert tr.train(10)["g_loss"] == h1


def test_settings_change_between_iterations_without_resetting_models():
    tr = make_trainer()
    tr.train(5)
    weights = [p.detach().clone() for p in tr.D.parameters()]
    tr.config.d_steps = 4
    tr.config.lr_d = 3e-4
    tr.config.g_loss = "minimax"
    assert all(torch.equal(a, b) for a, b in zip(weights, tr.D.parameters()))  # nothing reset
    tr.step()
    assert (tr.d_updates, tr.g_updates, tr.iteration) == (5 + 4, 5 + 1, 6)
    assert all(g["lr"] == 3e-4 for g in tr.d_opt.param_groups)


def test_step_d_and_step_g_move_only_their_player():
    tr = make_trainer()
    g_before = [p.detach().clone() for p in tr.G.parameters()]
    tr.step_d()
    assert (tr.d_updates, tr.g_updates, tr.iteration) == (1, 0, 0)
    assert all(torch.equal(a, b) for a, b in zip(g_before, tr.G.parameters()))
    d_before = [p.detach().clone() for p in tr.D.parameters()]
    tr.step_g()
    assert (tr.d_updates, tr.g_updates, tr.iteration) == (1, 1, 0)
    assert all(torch.equal(a, b) for a, b in zip(d_before, tr.D.parameters()))
    assert all(p.requires_grad for p in tr.D.parameters())


def test_d_step_returns_floats_matching_an_independent_computation():
    torch.manual_seed(0)
    G = models.MLPGenerator(latent_dim=2, hidden_dims=(8,))
    D = models.MLPDiscriminator(in_dim=1, hidden_dims=(8,))
    x, z = torch.randn(16, 1), torch.randn(16, 2)
    with torch.no_grad():
        r, f = torch.sigmoid(D(x)), torch.sigmoid(D(G(z)))
        expected = -(torch.log(r).mean() + torch.log(1 - f).mean()).item()
    opt = torch.optim.SGD(D.parameters(), lr=0.0)
    out = train.d_step(D, G, opt, x, z)
    assert all(isinstance(v, float) for v in out.values())
    assert out["d_loss"] == pytest.approx(expected, rel=1e-5)
    assert out["d_real"] == pytest.approx(r.mean().item(), rel=1e-6)
    assert out["d_fake"] == pytest.approx(f.mean().item(), rel=1e-6)
    # the gradient norm reported is that of the loss's gradient, by autograd
    loss = -(torch.log(torch.sigmoid(D(x))).mean() + torch.log(1 - torch.sigmoid(D(G(z).detach()))).mean())
    grads = torch.autograd.grad(loss, list(D.parameters()))
    assert out["d_grad_norm"] == pytest.approx(math.sqrt(sum((g ** 2).sum().item() for g in grads)), rel=1e-4)


def test_callback_every_n_iterations_and_after_the_last():
    seen = []
    make_trainer().train(25, callback=lambda t: seen.append(t.iteration), every=10)
    assert seen == [10, 20, 25]


def test_nan_stops_training_with_iteration_and_keeps_last_finite_weights():
    data = distributions.gaussian_1d(0, 1)
    calls = {"n": 0}

    def poisoned(n, generator=None):
        calls["n"] += 1
        x = data.sample(n, generator=generator)
        return x * float("nan") if calls["n"] > 4 else x  # 5th minibatch is NaN: iteration 5

    G = models.MLPGenerator(latent_dim=2, hidden_dims=(8,))
    D = models.MLPDiscriminator(in_dim=1, hidden_dims=(8,))
    tr = train.GANTrainer(G, D, poisoned, seed=0, device="cpu", batch_size=8)
    tr.train(4)
    saved = [t.clone() for t in list(G.state_dict().values()) + list(D.state_dict().values())]
    with pytest.raises(train.TrainingDiverged, match=r"iteration 5.*(?i:learning rate)"):
        tr.train(10)
    now = list(G.state_dict().values()) + list(D.state_dict().values())
    assert all(torch.equal(a, b) for a, b in zip(saved, now))
    assert tr.iteration == 4 and len(tr.history) == 4


def test_weights_overflowing_after_an_update_are_rolled_back():
    tr = make_trainer()
    tr.train(3)
    saved = [p.detach().clone() for p in tr.G.parameters()]
    original = tr.g_opt.step

    def exploding_step(*a, **k):
        original(*a, **k)
        with torch.no_grad():
            next(tr.G.parameters()).fill_(float("inf"))
    tr.g_opt.step = exploding_step
    with pytest.raises(train.TrainingDiverged, match="iteration 4"):
        tr.step()
    assert all(torch.equal(a, b) for a, b in zip(saved, tr.G.parameters()))


@pytest.mark.parametrize("name, value", [("d_steps", 0), ("g_steps", 1001), ("lr_d", -1e-3), ("lr_g", 0.0),
                                         ("batch_size", 0), ("g_loss", "hinge"), ("real_label", 0.2),
                                         ("optimizer", "rmsprop"), ("d_steps", 2.5)])
def test_out_of_range_settings_get_clear_errors(name, value):
    cfg = train.TrainConfig()
    with pytest.raises(ValueError, match=name):
        setattr(cfg, name, value)
    with pytest.raises(ValueError, match=name):
        train.TrainConfig(**{name: value})


def test_unknown_setting_and_bad_train_arguments():
    with pytest.raises(AttributeError, match="d_step"):
        train.TrainConfig().d_step = 2
    tr = make_trainer()
    with pytest.raises(ValueError, match="num_iterations"):
        tr.train(-1)
    with pytest.raises(ValueError, match="every"):
        tr.train(5, every=0)


def test_fit_conditional_squared_error_learns_the_conditional_mean_and_likelihood_both_branches():
    import numpy as np

    pairs = distributions.two_branches()
    torch.manual_seed(0)
    f, mdn = models.MLPRegressor(hidden_dims=(32, 32)), models.MixtureDensityNetwork(hidden_dims=(32, 32))
    n_threads = torch.get_num_threads()
    losses = train.fit_conditional(f, pairs, lambda m, x, y: ((m(x) - y) ** 2).mean(), 600, seed=0)
    assert len(losses) == 600 and torch.get_num_threads() == n_threads
    train.fit_conditional(mdn, pairs, lambda m, x, y: m.nll(x, y), 600, seed=0)
    grid = torch.linspace(-2.5, 2.5, 51)[:, None]
    with torch.no_grad():
        prediction = f(grid).numpy().ravel()
    # E[y | x] = sin x + 1.5 (2 * 0.7 - 1): the average of the two answers, on neither branch
    assert np.abs(prediction - pairs.conditional_mean(grid)).max() < 0.2
    x, _ = pairs.sample(5000, generator=torch.Generator().manual_seed(1))
    y = mdn.sample(x, torch.Generator().manual_seed(2))
    assert pairs.on_upper_branch(x, y).mean() == pytest.approx(0.7, abs=0.05)


def test_fit_conditional_rejects_bad_arguments_and_a_non_finite_loss():
    f, pairs = models.MLPRegressor(hidden_dims=(4,)), distributions.two_branches()
    with pytest.raises(ValueError, match="pairs"):
        train.fit_conditional(f, object(), lambda m, x, y: m(x).mean(), 1)
    with pytest.raises(ValueError, match="num_steps"):
        train.fit_conditional(f, pairs, lambda m, x, y: m(x).mean(), 0)
    with pytest.raises(train.TrainingDiverged, match="step 1"):
        train.fit_conditional(f, pairs, lambda m, x, y: m(x).mean() * float("nan"), 3)
