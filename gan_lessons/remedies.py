r"""Remedies for mode collapse: PacGAN and WGAN-GP, as subclasses of ``train.GANTrainer``.

Each remedy keeps Algorithm 1's loop (``d_steps`` updates of D, then ``g_steps`` of G,
history, guards, settings changed between iterations) and changes only what one update
does, through the trainer's ``_d_update`` / ``_g_update`` hooks. Each update returns the
same keys as ``train.d_step`` / ``train.g_step``.

- PacGAN (Lin et al. 2018): D judges *packs* of m samples at once, so a generator whose
  samples are all alike is easy to spot; only D's input layer changes.
- WGAN-GP (Gulrajani et al. 2017): D becomes a critic estimating the Wasserstein-1
  distance, kept 1-Lipschitz by a penalty on its input gradient; its gradient does not
  vanish where the two distributions do not overlap.
"""
from __future__ import annotations

import torch
from torch import nn

from .checks import as_tensor, check_generator, check_module, describe
from .distributions import as_distribution
from .train import GANTrainer, check_finite, d_step, g_step, grad_norm
from .utils import check_float, check_int

__all__ = [
    "PacGANTrainer",
    "PackedDiscriminator",
    "WGANGPTrainer",
    "gradient_penalty",
    "pack",
    "wgan_critic_loss",
    "wgan_generator_loss",
]


# --- PacGAN ----------------------------------------------------------------------------------

def pack(x: torch.Tensor, m: int) -> torch.Tensor:
    r"""Concatenate each run of ``m`` consecutive samples into one packed sample.

    .. math:: (x_1, \dots, x_{Bm}) \mapsto \big([x_1; \dots; x_m], \dots, [x_{(B-1)m+1}; \dots; x_{Bm}]\big)

    Lin et al. 2018 (PacGAN), section 3: the packed discriminator
    :math:`D(x_1, \dots, x_m)` sees m samples, all real or all generated.

    Args:
        x: (B * m, ...) samples; the first dimension must be a multiple of m.
        m: the packing degree, >= 1 (m = 1 is the plain GAN).
    Returns a (B, m * d) tensor, d the size of one flattened sample.
    """
    m = check_int("m", m, low=1)
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be a torch tensor of shape (B * m, ...), got {describe(x)}")
    if x.ndim < 1 or x.shape[0] % m != 0:
        raise ValueError(f"x must hold a multiple of m = {m} samples along its first dimension, "
                         f"got shape {tuple(x.shape)}")
    return x.reshape(x.shape[0] // m, -1)  # (B, m * d)


class PackedDiscriminator(nn.Module):
    """Wraps a discriminator of input size m * d so that it takes (B * m, d) samples and
    returns (B,) logits, one per pack (PacGAN, Lin et al. 2018)."""

    def __init__(self, discriminator: nn.Module, m: int):
        super().__init__()
        self.m = check_int("m", m, low=1)
        self.inner = check_module("discriminator", discriminator)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(pack(x.flatten(1), self.m))  # (B,) logits

    @torch.no_grad()
    def prob(self, x: torch.Tensor) -> torch.Tensor:
        """D(pack) = sigmoid(logit), one per pack, without gradients."""
        return torch.sigmoid(self(x))


class PacGANTrainer(GANTrainer):
    r"""PacGAN: Algorithm 1 with a discriminator over packs of m samples.

    D's loss and G's loss are those of ``losses`` applied to packs:

    .. math:: L_D = -\frac1B \sum_{j=1}^{B} \big[\log D(x_{j1}, \dots, x_{jm})
              + \log\big(1 - D(G(z_{j1}), \dots, G(z_{jm}))\big)\big]

    Lin et al. 2018 (PacGAN), section 3 and Algorithm 1 of Goodfellow et al. 2014.

    Args:
        generator: any generator of d-dimensional samples.
        discriminator: a discriminator whose input size is ``m * d`` (for an MLP:
            ``MLPDiscriminator(in_dim=m * d, ...)``); it is wrapped in ``PackedDiscriminator``.
        data, config, seed, device, init_fn, overrides: as ``GANTrainer``.
        m: the packing degree, 1-16 (PacGAN2 is m = 2, PacGAN4 is m = 4).
    ``config.batch_size`` counts packs: every update draws ``batch_size * m`` samples of
    each kind, as in the paper, where D sees as many packs as the plain GAN sees samples.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, m: int = 2, **kwargs):
        m = check_int("m", m, low=1, high=16)
        in_dim = getattr(getattr(discriminator, "config", None), "in_dim", None)
        out_dim = getattr(getattr(generator, "config", None), "out_dim", None)
        if in_dim is not None and out_dim is not None and in_dim != m * out_dim:
            raise ValueError(f"discriminator.in_dim must be m * sample size = {m} * {out_dim} = "
                             f"{m * out_dim} for PacGAN with m = {m}, got {in_dim}")
        self.m = m
        super().__init__(generator, PackedDiscriminator(discriminator, m), data, **kwargs)

    def _d_update(self) -> dict:
        n = self.config.batch_size * self.m
        out = d_step(self.D, self.G, self.d_opt, self.sample_real(n), self.sample_z(n), self.config.real_label)
        self.d_updates += 1
        return out

    def _g_update(self) -> dict:
        out = g_step(self.D, self.G, self.g_opt, self.sample_z(self.config.batch_size * self.m),
                     self.config.g_loss)
        self.g_updates += 1
        return out


# --- WGAN-GP ---------------------------------------------------------------------------------

def gradient_penalty(D: nn.Module, x_real: torch.Tensor, x_fake: torch.Tensor,
                     epsilon: torch.Tensor | None = None, generator: torch.Generator | None = None
                     ) -> torch.Tensor:
    r"""The gradient penalty of WGAN-GP, without its weight lambda.

    .. math:: \hat x = \epsilon x + (1 - \epsilon)\tilde x,\ \epsilon \sim U[0, 1], \qquad
              GP = \mathbb E_{\hat x}\big[(\lVert \nabla_{\hat x} D(\hat x) \rVert_2 - 1)^2\big]

    Gulrajani et al. 2017, equation (3) and Algorithm 1. The graph is kept
    (``create_graph=True``) so the penalty can be differentiated with respect to D's weights.

    Args:
        D: the critic, returning one score per sample.
        x_real: (B, ...) real samples x.
        x_fake: (B, ...) generated samples x~ (detached from G).
        epsilon: (B,) interpolation weights in [0, 1]; drawn uniformly if None.
        generator: a torch.Generator for drawing epsilon.
    """
    check_module("D", D)
    x_real, x_fake = as_tensor("x_real", x_real), as_tensor("x_fake", x_fake)
    if x_real.shape != x_fake.shape or x_real.ndim < 1:
        raise ValueError(f"x_real and x_fake must have the same shape (B, ...), got {tuple(x_real.shape)} "
                         f"and {tuple(x_fake.shape)}")
    b = x_real.shape[0]
    if epsilon is None:
        epsilon = torch.rand(b, generator=check_generator(generator)).to(x_real.device)
    else:
        epsilon = as_tensor("epsilon", epsilon)
        if epsilon.shape != (b,):
            raise ValueError(f"epsilon must have shape ({b},), one weight per sample, got {tuple(epsilon.shape)}")
        if epsilon.min() < 0 or epsilon.max() > 1:
            raise ValueError("epsilon must hold interpolation weights in [0, 1]")
    eps = epsilon.reshape(b, *([1] * (x_real.ndim - 1))).to(x_real.dtype)
    x_hat = (eps * x_real + (1 - eps) * x_fake.detach()).requires_grad_(True)
    scores = D(x_hat)
    (grad,) = torch.autograd.grad(scores.sum(), x_hat, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def wgan_critic_loss(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    r"""The critic's loss (before the penalty): minus its estimate of the Wasserstein-1 distance.

    .. math:: L_D = \mathbb E_{\tilde x \sim p_g}[D(\tilde x)] - \mathbb E_{x \sim p_{data}}[D(x)]

    Arjovsky et al. 2017 (WGAN), equation (3); Gulrajani et al. 2017, equation (3).
    ``d_real`` and ``d_fake`` are unbounded critic scores, not probabilities.
    """
    return as_tensor("d_fake", d_fake).mean() - as_tensor("d_real", d_real).mean()


def wgan_generator_loss(d_fake: torch.Tensor) -> torch.Tensor:
    r"""The generator's WGAN loss: :math:`L_G = -\mathbb E_{z}[D(G(z))]` (Gulrajani et al. 2017, Algorithm 1)."""
    return -as_tensor("d_fake", d_fake).mean()


class WGANGPTrainer(GANTrainer):
    r"""WGAN-GP: a critic trained on :math:`L_D + \lambda\,GP`, ``d_steps`` critic updates per G update.

    .. math:: L = \mathbb E[D(\tilde x)] - \mathbb E[D(x)]
              + \lambda\,\mathbb E[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2]

    Gulrajani et al. 2017, Algorithm 1: lambda = 10, n_critic = 5 (set ``d_steps=5``),
    Adam with lr 1e-4 and betas (0, 0.9). The critic is any discriminator network; its
    output is read as a score, not a logit. ``g_loss`` in the config is ignored.
    Returned d_real / d_fake / g_fake are mean critic *scores*, not probabilities.

    Args:
        generator, discriminator, data, config, seed, device, init_fn, overrides: as ``GANTrainer``.
        gp_weight: lambda, >= 0 (0 turns the penalty off).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, gp_weight: float = 10.0,
                 **kwargs):
        self.gp_weight = check_float("gp_weight", gp_weight, low=0.0, high=1e4)
        super().__init__(generator, discriminator, data, **kwargs)

    def _d_update(self) -> dict:
        x_real = self.sample_real()
        with torch.no_grad():
            x_fake = self.G(self.sample_z())
        d_real, d_fake = self.D(x_real), self.D(x_fake)
        w_loss = wgan_critic_loss(d_real, d_fake)
        loss = w_loss
        if self.gp_weight > 0:
            eps = torch.rand(x_real.shape[0], generator=self.rng).to(self.device)
            loss = w_loss + self.gp_weight * gradient_penalty(self.D, x_real, x_fake, eps)
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            stats = torch.stack([loss, d_real.mean(), d_fake.mean()]).tolist()
        out = {"d_loss": check_finite("the critic's loss", stats[0]), "d_real": stats[1], "d_fake": stats[2],
               "d_grad_norm": check_finite("the critic's gradient norm", grad_norm(self.D.parameters()))}
        self.d_opt.step()
        self.d_updates += 1
        return out

    def _g_update(self) -> dict:
        d_params = list(self.D.parameters())
        flags = [p.requires_grad for p in d_params]
        for p in d_params:  # gradients through the critic, not of its weights
            p.requires_grad_(False)
        try:
            d_fake = self.D(self.G(self.sample_z()))
            loss = wgan_generator_loss(d_fake)
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            for p, f in zip(d_params, flags):
                p.requires_grad_(f)
        out = {"g_loss": check_finite("the generator's loss", float(loss.detach())),
               "g_fake": float(d_fake.detach().mean()),
               "g_grad_norm": check_finite("the generator's gradient norm", grad_norm(self.G.parameters()))}
        self.g_opt.step()
        self.g_updates += 1
        return out



# --- the mode-collapse experiment (lesson 06 and benchmarks/bench_mode_collapse.py) ----------

METHODS = ("gan", "pacgan", "wgan-gp")
# Full-mode iterations per run of the experiment (1-4 minutes each on a shared 2-core CPU);
# WGAN-GP's iterations hold 5 critic updates with a double backward pass each, so fewer.
FULL_ITERATIONS = {"gan": 4000, "pacgan": 4000, "wgan-gp": 1500}
# PacGAN's packing degree per data set: PacGAN2 on the ring, PacGAN4 on the grid (PacGAN, Table 1).
PACKING = {"ring": 2, "grid": 4}


def make_mode_trainer(method: str, dist, seed: int = 0, m: int = 2, width: int = 128, depth: int = 3,
                      latent_dim: int = 2, device="cpu", **overrides) -> GANTrainer:
    """A trainer for the 2-D mode-collapse experiment: the plain GAN, PacGAN or WGAN-GP.

    The networks are ReLU MLPs (G) and leaky-ReLU MLPs (D) of ``depth`` hidden layers of
    ``width`` units for every method, so only the method differs; PacGAN's D takes
    ``m * dim`` inputs. Settings follow the papers where the CPU budget allows:
    GAN and PacGAN use Adam (betas (0.5, 0.999), DCGAN) and the non-saturating loss;
    WGAN-GP uses lambda = 10, 5 critic steps and betas (0.5, 0.9) (Gulrajani et al. 2017).

    Args:
        method: one of METHODS.
        dist: the target distribution (e.g. ``distributions.ring_2d()``).
        seed: seeds the weights and every minibatch.
        m: PacGAN's packing degree.
        width, depth, latent_dim: network sizes.
        overrides: TrainConfig fields (lr_d, lr_g, batch_size, ...).
    """
    from .models import MLPDiscriminator, MLPGenerator
    from .utils import check_choice

    check_choice("method", method, METHODS)
    dist = as_distribution(dist)
    width = check_int("width", width, low=1)
    depth = check_int("depth", depth, low=1)
    G = MLPGenerator(latent_dim=latent_dim, out_dim=dist.dim, hidden_dims=(width,) * depth)
    in_dim = dist.dim * (m if method == "pacgan" else 1)
    D = MLPDiscriminator(in_dim=in_dim, hidden_dims=(width,) * depth)
    settings = {"batch_size": 256, "lr_d": 1e-3, "lr_g": 1e-3}
    if method == "wgan-gp":
        settings.update(d_steps=5, lr_d=1e-4, lr_g=1e-4, betas=(0.5, 0.9))
    settings.update(overrides)
    if method == "pacgan":
        return PacGANTrainer(G, D, dist, m=m, seed=seed, device=device, **settings)
    if method == "wgan-gp":
        return WGANGPTrainer(G, D, dist, seed=seed, device=device, **settings)
    return GANTrainer(G, D, dist, seed=seed, device=device, **settings)


def run_mode_experiment(method: str, dist, num_iterations: int, seed: int = 0, eval_every: int = 0,
                        decay_from: float = 0.5, final_lr_fraction: float = 0.1, name: str | None = None,
                        **kwargs) -> dict:
    """Train one method on one distribution and measure its mode coverage at the end.

    The learning rates stay constant for the first ``decay_from`` of the iterations, then
    fall linearly to ``final_lr_fraction`` of their start (a departure from the papers'
    constant rates: it settles the last iterations, so the final samples are not caught
    mid-oscillation).

    Args:
        method, dist: see ``make_mode_trainer``.
        num_iterations: iterations of Algorithm 1, >= 1.
        seed: seeds the run (weights, minibatches and the 2,500 evaluation samples).
        eval_every: also measure coverage every this many iterations (0: only at the end).
        decay_from: fraction of the run after which the learning rates decay, in [0, 1].
        final_lr_fraction: final learning rate over initial, in (0, 1].
        name: the data set's name in the result (default ``dist.name``); "ring" and "grid"
            put the published numbers beside it in ``metrics.coverage_table``.
        kwargs: passed to ``make_mode_trainer``.
    Returns a dict: dist, method, label, seed, iterations, seconds, n_captured, n_modes,
    high_quality, captured, trace (a list of [iteration, n_captured, high_quality]),
    samples (the 2,500 evaluation samples, a numpy array) and the trainer.
    """
    import time

    from .metrics import N_SAMPLES, generator_coverage, mode_coverage, require_modes

    num_iterations = check_int("num_iterations", num_iterations, low=1)
    eval_every = check_int("eval_every", eval_every, low=0)
    decay_from = check_float("decay_from", decay_from, low=0.0, high=1.0)
    final_lr_fraction = check_float("final_lr_fraction", final_lr_fraction, low=0.0, high=1.0, low_open=True)
    require_modes(dist)  # before training, not after it
    trainer = make_mode_trainer(method, dist, seed=seed, **kwargs)
    lr_d0, lr_g0 = trainer.config.lr_d, trainer.config.lr_g
    start = int(decay_from * num_iterations)
    eval_rng = torch.Generator().manual_seed(10_000 + seed)
    trace = []
    t0 = time.perf_counter()
    for i in range(num_iterations):
        if i >= start:
            scale = 1 - (1 - final_lr_fraction) * (i - start + 1) / max(num_iterations - start, 1)
            trainer.config.lr_d, trainer.config.lr_g = lr_d0 * scale, lr_g0 * scale
        trainer.step()
        if eval_every and (i + 1) % eval_every == 0 and i + 1 < num_iterations:
            cov = generator_coverage(trainer.G, dist, generator=eval_rng)
            trace.append([i + 1, cov.n_captured, cov.high_quality])
    seconds = time.perf_counter() - t0
    trainer.G.eval()
    samples = trainer.G.sample(N_SAMPLES, generator=eval_rng)
    trainer.G.train()
    cov = mode_coverage(samples, dist)
    trace.append([num_iterations, cov.n_captured, cov.high_quality])
    label = {"gan": "GAN", "pacgan": f"PacGAN{kwargs.get('m', 2)}", "wgan-gp": "WGAN-GP"}[method]
    return {"dist": name or dist.name, "method": method, "label": label, "seed": seed,
            "iterations": num_iterations, "seconds": seconds, "n_captured": cov.n_captured,
            "n_modes": cov.n_modes, "high_quality": cov.high_quality, "captured": cov.captured.tolist(),
            "trace": trace, "samples": samples.cpu().numpy(), "trainer": trainer}
