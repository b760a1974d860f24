"""The code of one step against the trainer's own step: two trainers built alike from one seed, one
runs ``trainer.step()`` (autograd, ``fast_path = False``), the other ``exec`` of ``step_code``;
every weight, and the random generator's state, must agree afterwards."""
import pytest
import torch

from gan_lessons import lab, models, remedies
from gan_lessons.lab_code import exec_namespace, step_code
from gan_lessons.train import GANTrainer

TARGETS = {1: "1-D two modes", 2: "2-D ring of 8"}
SETTINGS = dict(d_steps=2, g_steps=3, batch_size=64)


def _trainer(remedy: str, dim: int, **kwargs) -> GANTrainer:
    G, D = lab.default_models(dim)
    dist = lab.make_target(TARGETS[dim])
    kwargs = {**SETTINGS, "seed": 5, "device": "cpu", **kwargs}
    if remedy == "none":
        trainer = GANTrainer(G, D, dist, **kwargs)
    elif remedy == "PacGAN":
        width = 32 if dim == 1 else 64
        D = models.MLPDiscriminator(in_dim=2 * dim, hidden_dims=(width, width))
        trainer = remedies.PacGANTrainer(G, D, dist, m=2, **kwargs)
    elif remedy == "WGAN-GP":
        trainer = remedies.WGANGPTrainer(G, D, dist, betas=(0.0, 0.9), **kwargs)
    else:
        trainer = remedies.UnrolledGANTrainer(G, D, dist, unroll_steps=2, **kwargs)
    trainer.fast_path = False
    return trainer


def _weights(trainer) -> list[torch.Tensor]:
    return [p.detach().clone() for net in (trainer.G, trainer.D) for p in net.parameters()]


CASES = [
    ("none", 1, dict(g_loss="nonsaturating", optimizer="adam", real_label=0.9)),
    ("none", 1, dict(g_loss="minimax", optimizer="sgd")),
    ("none", 2, dict(g_loss="minimax", optimizer="adam")),
    ("none", 2, dict(g_loss="nonsaturating", optimizer="sgd")),
    ("PacGAN", 1, {}),
    ("PacGAN", 2, dict(real_label=0.9)),
    ("WGAN-GP", 1, {}),
    ("WGAN-GP", 2, dict(gp_weight=0.0)),
    ("unrolled", 1, dict(g_loss="minimax")),
    ("unrolled", 2, {}),
]


@pytest.mark.parametrize("remedy, dim, kwargs", CASES,
                         ids=[f"{r}-{d}d-{i}" for i, (r, d, _) in enumerate(CASES)])
def test_code_does_what_the_trainer_does(remedy, dim, kwargs, one_thread):
    # one_thread: as trainer.step() runs a model this small, and several times faster on shared cores
    trainer_a, trainer_b = _trainer(remedy, dim, **kwargs), _trainer(remedy, dim, **kwargs)
    start = _weights(trainer_a)
    for a, b in zip(start, _weights(trainer_b)):
        assert torch.equal(a, b)  # the same start, or the comparison would mean nothing
    for iteration in range(2):  # the second iteration starts from the optimisers' saved state
        if iteration == 1:
            for t in (trainer_a, trainer_b):  # a setting changed between iterations reaches the code
                t.config.lr_d, t.config.batch_size = 3e-3, 32
        trainer_a.step()
        exec(compile(step_code(trainer_b), "<step_code>", "exec"), exec_namespace(trainer_b))
        moved = max(float((a - s).abs().max()) for a, s in zip(_weights(trainer_a), start))
        assert moved > 1e-5  # the step did train
        for a, b in zip(_weights(trainer_a), _weights(trainer_b)):
            assert torch.allclose(a, b, rtol=0, atol=1e-6), float((a - b).abs().max())
        # the same random draws, in the same number: the next minibatch is the same too
        assert torch.equal(trainer_a.rng.get_state(), trainer_b.rng.get_state())


def test_code_names_the_current_settings():
    trainer = _trainer("none", 1)
    code = step_code(trainer)
    compile(code, "<step_code>", "exec")
    assert "# d_opt = torch.optim.Adam(D.parameters(), lr=0.001, betas=(0.5, 0.999))" in code
    assert "sample_real(64)" in code and "range(2)" in code and "range(3)" in code
    assert "g_loss = F.softplus(-d_fake_logits).mean()" in code
    assert "torch.rand(n, 1, generator=rng) * 2 - 1" in code  # 1-D: z ~ U(-1, 1)
    trainer.config.lr_d = 2.5e-4
    trainer.config.g_loss = "minimax"
    trainer.config.real_label = 0.9
    changed = step_code(trainer)
    assert "# d_opt = torch.optim.Adam(D.parameters(), lr=0.00025, betas=(0.5, 0.999))" in changed
    assert "g_loss = -F.softplus(d_fake_logits).mean()" in changed
    assert "g_loss = F.softplus(-d_fake_logits).mean()" not in changed  # only the branch that runs
    assert "0.9 * F.softplus(-d_real_logits)" in changed
    assert "if " not in changed  # no branches over settings
    assert "torch.optim.SGD(G.parameters(), lr=0.001)" in step_code(_trainer("none", 2, optimizer="sgd"))
    assert "torch.randn(n, 2, generator=rng)" in step_code(_trainer("none", 2))  # 2-D: z ~ N(0, I)


def test_remedy_code_names_its_parameter():
    pac = step_code(_trainer("PacGAN", 2))
    assert "sample_real(128)" in pac and "D(pack(x_real))" in pac  # 64 packs of 2
    wgan = _trainer("WGAN-GP", 2)
    assert "w_loss + 10.0 * gp" in step_code(wgan)
    wgan.gp_weight = 2.5
    assert "w_loss + 2.5 * gp" in step_code(wgan)
    assert "unroll_steps=2" in step_code(_trainer("unrolled", 1))
    for remedy in ("PacGAN", "WGAN-GP", "unrolled"):
        compile(step_code(_trainer(remedy, 1)), "<step_code>", "exec")


def test_pacgan_namespace_trains_the_trainers_discriminator():
    trainer = _trainer("PacGAN", 1)
    ns = exec_namespace(trainer)
    assert ns["D"] is trainer.D.inner  # the packs' network: the same weights as trainer.D
    trained = {id(p) for group in trainer.d_opt.param_groups for p in group["params"]}
    assert {id(p) for p in ns["D"].parameters()} == trained


def test_bad_input():
    for bad in (None, "trainer", lab.default_models(1)[0]):
        with pytest.raises(ValueError, match="trainer must be a gan_lessons.train.GANTrainer"):
            step_code(bad)
        with pytest.raises(ValueError, match="trainer must be"):
            exec_namespace(bad)

    class Custom(GANTrainer):
        def _g_update(self):
            return super()._g_update()

    G, D = lab.default_models(1)
    with pytest.raises(ValueError, match="overrides _g_update"):
        step_code(Custom(G, D, lab.make_target(TARGETS[1]), device="cpu"))
