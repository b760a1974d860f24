"""The hand-derived forward and backward passes against torch.autograd, and the trainer's fast path
against its autograd path."""
import pytest
import torch

from gan_lessons import distributions, losses, models, train
from gan_lessons.mlp_grad import FastUpdates, LeanAdam, MLPPlan


def make_pair(act_g="relu", act_d="leaky_relu", latent=3, out=2, hidden=(16, 8), seed=0, out_act=None):
    torch.manual_seed(seed)
    G = models.MLPGenerator(latent_dim=latent, hidden_dims=hidden, out_dim=out, activation=act_g,
                            out_activation=out_act)
    D = models.MLPDiscriminator(in_dim=out, hidden_dims=hidden, activation=act_d, leaky_slope=0.1)
    return G, D


@pytest.mark.parametrize("act,out_act", [("relu", None), ("leaky_relu", "tanh"), ("tanh", "sigmoid")])
def test_forward_and_backward_match_autograd(act, out_act):
    G, D = make_pair(act_g=act, act_d=act, out_act=out_act)
    for net, x in ((G, torch.randn(50, 3)), (D, torch.randn(50, 2))):
        plan = MLPPlan.of(net)
        cache = []
        out = plan.forward(x, cache)
        x_auto = x.clone().requires_grad_(True)
        out_auto = net(x_auto)
        torch.testing.assert_close(out, out_auto.detach())
        grad_out = torch.randn_like(out)
        net.zero_grad()
        out_auto.backward(grad_out)
        grads = [torch.empty_like(p) for p in plan.params]
        grad_x = plan.backward(cache, grad_out, grads, input_grad=True)
        torch.testing.assert_close(grad_x, x_auto.grad, rtol=1e-5, atol=1e-6)
        for g, p in zip(grads, plan.params):
            torch.testing.assert_close(g, p.grad, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("real_label", [1.0, 0.9])
def test_discriminator_gradient_matches_d_step(real_label):
    G, D = make_pair()
    fast = FastUpdates.of(G, D)
    x_real, z = torch.randn(64, 2), torch.randn(64, 3)
    out = fast.d_grads(x_real, z, real_label)
    # autograd on the package's loss function, the reference
    loss = losses.d_loss(D(x_real), D(G(z).detach()), real_label)
    D.zero_grad()
    loss.backward()
    assert out["d_loss"] == pytest.approx(loss.item(), rel=1e-5)
    assert out["d_real"] == pytest.approx(torch.sigmoid(D(x_real)).mean().item(), rel=1e-5)
    assert out["d_fake"] == pytest.approx(torch.sigmoid(D(G(z))).mean().item(), rel=1e-5)
    for g, p in zip(fast.grads["D"][1], D.parameters()):
        torch.testing.assert_close(g, p.grad, rtol=1e-5, atol=1e-6)
    assert out["d_grad_norm"] == pytest.approx(train.grad_norm(D.parameters()), rel=1e-5)


@pytest.mark.parametrize("kind,out_act", [("nonsaturating", None), ("minimax", None), ("nonsaturating", "sigmoid")])
def test_generator_gradient_matches_autograd(kind, out_act):
    G, D = make_pair(out_act=out_act)
    fast = FastUpdates.of(G, D)
    z = torch.randn(64, 3)
    out = fast.g_grads(z, kind)
    value = losses.generator_loss(D(G(z)), kind)
    G.zero_grad()
    value.backward()
    assert out["g_loss"] == pytest.approx(value.item(), rel=1e-5)
    for g, p in zip(fast.grads["G"][1], G.parameters()):
        torch.testing.assert_close(g, p.grad, rtol=1e-5, atol=1e-6)


def test_unsupported_networks_fall_back_to_autograd():
    G = models.MLPGenerator(latent_dim=2, hidden_dims=(8,), activation="elu")
    D = models.MLPDiscriminator(in_dim=1, hidden_dims=(8,))
    assert FastUpdates.of(G, D) is None
    G2 = models.MLPGenerator(latent_dim=2, hidden_dims=(8,), activation="silu")
    assert FastUpdates.of(G2, D) is None
    tr = train.GANTrainer(G, D, distributions.gaussian_1d(), seed=0, device="cpu", batch_size=16)
    tr.train(3)
    assert tr.iteration == 3 and tr.d_updates == 3


@pytest.mark.parametrize("optimizer,kind", [("adam", "nonsaturating"), ("sgd", "minimax")])
def test_trainer_fast_path_follows_the_autograd_path(optimizer, kind):
    def run(fast):
        G, D = make_pair(out=1, latent=1, hidden=(32, 32))
        tr = train.GANTrainer(G, D, distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5]), seed=3, device="cpu",
                              batch_size=64, d_steps=2, optimizer=optimizer, g_loss=kind, lr_d=1e-2)
        tr.fast_path = fast
        tr.train(30)
        return tr
    fast, slow = run(True), run(False)
    assert fast._use_fast() and not slow._use_fast()
    for key in train.HISTORY_KEYS:
        torch.testing.assert_close(torch.tensor(fast.history[key]), torch.tensor(slow.history[key]),
                                   rtol=1e-3, atol=1e-4)
    for a, b in zip(fast.G.parameters(), slow.G.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-4)
    assert fast.d_updates == slow.d_updates == 60


def test_lean_adam_matches_torch_adam_step_for_step():
    torch.manual_seed(0)
    net_a = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    net_b = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(), torch.nn.Linear(8, 1))
    net_b.load_state_dict(net_a.state_dict())
    lean = LeanAdam(net_a.parameters(), lr=1e-2, betas=(0.5, 0.999))
    ref = torch.optim.Adam(net_b.parameters(), lr=1e-2, betas=(0.5, 0.999), foreach=False)
    for i in range(12):
        x = torch.randn(16, 3)
        for net, opt in ((net_a, lean), (net_b, ref)):
            opt.zero_grad()
            net(x).pow(2).mean().backward()
            if i == 6:  # a learning-rate change, as the lab makes, between steps
                opt.param_groups[0]["lr"] = 3e-3
            if i == 9 and opt is lean:  # torch's own step on the same state keeps counting
                torch.optim.Adam.step(lean)
            else:
                opt.step()
    for a, b in zip(net_a.parameters(), net_b.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6)
    assert {int(s["step"]) for s in lean.state.values()} == {12}
    for p in net_a.parameters():
        torch.testing.assert_close(lean.state[p]["exp_avg_sq"], ref.state[dict(zip(
            net_a.parameters(), net_b.parameters()))[p]]["exp_avg_sq"], rtol=1e-5, atol=1e-8)


def test_lean_adam_runs_step_hooks_once_and_falls_back_when_a_grad_is_missing():
    torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))])  # torch wraps Adam.step on first use
    a, b = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
    opt = LeanAdam([a, b], lr=0.1)
    calls = []
    opt.register_step_pre_hook(lambda o, args, kwargs: calls.append("pre"))
    opt.register_step_post_hook(lambda o, args, kwargs: calls.append("post"))
    a.grad = torch.ones(2)  # b has no gradient: torch's own path
    opt.step()
    assert calls == ["pre", "post"]
    torch.testing.assert_close(a.detach(), torch.full((2,), 0.9))
    torch.testing.assert_close(b.detach(), torch.ones(2))
