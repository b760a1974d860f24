r"""Remedies for mode collapse: PacGAN, WGAN-GP and the unrolled GAN, as subclasses of ``train.GANTrainer``.

Each remedy keeps Algorithm 1's loop (``d_steps`` updates of D, then ``g_steps`` of G,
history, guards, settings changed between iterations) and changes only what one update
does, through the trainer's ``_d_update`` / ``_g_update`` hooks. Each update returns the
same keys as ``train.d_step`` / ``train.g_step``.

- PacGAN (Lin et al. 2018): D judges *packs* of m samples at once, so a generator whose
  samples are all alike is easy to spot; only D's input layer changes.
- WGAN-GP (Gulrajani et al. 2017): D becomes a critic estimating the Wasserstein-1
  distance, kept 1-Lipschitz by a penalty on its input gradient; its gradient does not
  vanish where the two distributions do not overlap.
- Unrolled GAN (Metz et al. 2017): G's gradient is taken against D as it will be after
  K more updates, backpropagated through those updates, so G cannot profit from moving
  all its samples to where D is wrong today.
"""
from __future__ import annotations

import contextlib

import torch
from torch import nn

from .checks import as_tensor, check_generator, check_module, describe
from .mlp_grad import FastUpdates
from .train import GANTrainer, check_finite, d_step, g_step, grad_norm
from .utils import check_float, check_int

__all__ = [
    "PacGANTrainer",
    "PackedDiscriminator",
    "UnrolledGANTrainer",
    "WGANGPTrainer",
    "adam_update",
    "frozen",
    "gradient_penalty",
    "pack",
    "wgan_critic_loss",
    "unrolled_generator_loss",
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

    def reset(self, seed: int | None = None) -> None:
        super().reset(seed)
        # the hand-derived passes of mlp_grad, reading packs (the same numbers as autograd)
        self._fast = FastUpdates.of(self.G, self.D.inner, pack=self.m)

    def _d_update(self) -> dict:
        n = self.config.batch_size * self.m
        if self._use_fast():
            x_real = self.sample_real(n)
            out = self._fast.d_grads(x_real, self._fast.draw_z(n, self.rng), self.config.real_label)
            check_finite("the discriminator's loss", out["d_loss"])
            check_finite("the discriminator's gradient norm", out["d_grad_norm"])
            self._fast.apply("D", self.d_opt)
        else:
            out = d_step(self.D, self.G, self.d_opt, self.sample_real(n), self.sample_z(n), self.config.real_label)
        self.d_updates += 1
        return out

    def _g_update(self) -> dict:
        n = self.config.batch_size * self.m
        if self._use_fast():
            out = self._fast.g_grads(self._fast.draw_z(n, self.rng), self.config.g_loss)
            check_finite("the generator's loss", out["g_loss"])
            check_finite("the generator's gradient norm", out["g_grad_norm"])
            self._fast.apply("G", self.g_opt)
        else:
            out = g_step(self.D, self.G, self.g_opt, self.sample_z(n), self.config.g_loss)
        self.g_updates += 1
        return out


@contextlib.contextmanager
def frozen(module: nn.Module):
    """Within the block, ``module``'s weights take no gradient (G's updates back-propagate
    through D without accumulating into D's weights); their flags are restored after."""
    params = list(module.parameters())
    flags = [p.requires_grad for p in params]
    for p in params:
        p.requires_grad_(False)
    try:
        yield module
    finally:
        for p, f in zip(params, flags):
            p.requires_grad_(f)


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
        with frozen(self.D):  # gradients through the critic, not of its weights
            d_fake = self.D(self.G(self.sample_z()))
            loss = wgan_generator_loss(d_fake)
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
        out = {"g_loss": check_finite("the generator's loss", float(loss.detach())),
               "g_fake": float(d_fake.detach().mean()),
               "g_grad_norm": check_finite("the generator's gradient norm", grad_norm(self.G.parameters()))}
        self.g_opt.step()
        self.g_updates += 1
        return out


# --- Unrolled GAN ----------------------------------------------------------------------------

def adam_update(param: torch.Tensor, grad: torch.Tensor, exp_avg: torch.Tensor, exp_avg_sq: torch.Tensor,
                step: int, lr: float, betas: tuple[float, float] = (0.5, 0.999), eps: float = 1e-8):
    r"""One Adam update written with differentiable operations (so it can be unrolled).

    .. math:: m_t = \beta_1 m_{t-1} + (1 - \beta_1) g, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g^2,
    .. math:: \theta_t = \theta_{t-1} - \eta\, \frac{m_t / (1 - \beta_1^t)}{\sqrt{v_t / (1 - \beta_2^t)} + \epsilon}

    Kingma and Ba 2015, Algorithm 1 (torch's ``Adam`` puts epsilon in the same place; v is
    clamped at 1e-30 under the square root so that its derivative stays finite).
    Returns (new param, new exp_avg, new exp_avg_sq), each still attached to ``grad``'s graph.

    Args:
        param, grad, exp_avg, exp_avg_sq: tensors of one shape (Adam's moments m and v).
        step: t, the number of this update, >= 1.
        lr, betas, eps: Adam's eta, (beta1, beta2) and epsilon.
    """
    step = check_int("step", step, low=1)
    beta1, beta2 = betas
    exp_avg = beta1 * exp_avg + (1 - beta1) * grad
    exp_avg_sq = beta2 * exp_avg_sq + (1 - beta2) * grad * grad
    m_hat = exp_avg / (1 - beta1 ** step)
    v_hat = exp_avg_sq / (1 - beta2 ** step)
    # sqrt has an infinite derivative at 0 (a unit whose gradient is exactly 0): clamping v at
    # 1e-30 keeps the graph finite and moves the update by under 1e-15 / (1e-15 + eps).
    return param - lr * m_hat / (v_hat.clamp_min(1e-30).sqrt() + eps), exp_avg, exp_avg_sq


def unrolled_generator_loss(D: nn.Module, G: nn.Module, d_opt: torch.optim.Optimizer, x_real: torch.Tensor,
                            z: torch.Tensor, unroll_steps: int, g_loss: str = "minimax",
                            real_label: float = 1.0) -> torch.Tensor:
    r"""G's loss against D after ``unroll_steps`` look-ahead updates of D, differentiable in G.

    .. math:: \theta_D^0 = \theta_D, \qquad
              \theta_D^{k+1} = \theta_D^k - \eta\,\mathrm{Adam}\big(\nabla_{\theta_D} L_D(\theta_G, \theta_D^k)\big),
    .. math:: L_G^K(\theta_G) = L_G\big(\theta_G, \theta_D^K(\theta_G)\big)

    Metz et al. 2017 (Unrolled GANs), section 2.2, equations (7)-(8): the gradient of
    :math:`L_G^K` flows through every look-ahead step (``create_graph=True``), the term
    that lets G anticipate how D will answer its move. D's weights are not changed; the
    look-ahead starts from D's optimiser state and uses one minibatch (``x_real``, ``z``)
    for all its steps, as the authors' demonstration does.

    Args:
        D, G: the networks (D returns logits).
        d_opt: D's Adam optimiser, whose learning rate, betas and moments the look-ahead uses.
        x_real: (B, ...) real samples for the look-ahead.
        z: (B, latent_dim) noise, for the look-ahead and for G's loss.
        unroll_steps: K >= 0 (K = 0 is the plain generator loss).
        g_loss: "minimax" (the zero-sum game, as Metz et al. use) or "nonsaturating".
        real_label: the target of real samples in D's loss.
    """
    from torch.func import functional_call

    from .losses import d_loss, generator_loss

    unroll_steps = check_int("unroll_steps", unroll_steps, low=0, high=100)
    names = [n for n, _ in D.named_parameters()]
    params = [p for _, p in D.named_parameters()]
    group = d_opt.param_groups[0]
    lr, betas, eps = group["lr"], group["betas"], group["eps"]
    moments = []
    for p in params:
        st = d_opt.state.get(p, {})
        m = st.get("exp_avg")
        moments.append((torch.zeros_like(p) if m is None else m.detach().clone(),
                        torch.zeros_like(p) if m is None else st["exp_avg_sq"].detach().clone(),
                        int(st["step"]) if m is not None else 0))
    x_fake = G(z)
    current = [p.detach().requires_grad_(True) for p in params]
    for _ in range(unroll_steps):
        weights = dict(zip(names, current))
        loss = d_loss(functional_call(D, weights, (x_real,)), functional_call(D, weights, (x_fake,)),
                      real_label)
        grads = torch.autograd.grad(loss, current, create_graph=True)
        stepped, new_moments = [], []
        for p, g, (m, v, t) in zip(current, grads, moments):
            p, m, v = adam_update(p, g, m, v, t + 1, lr, betas, eps)
            stepped.append(p)
            new_moments.append((m, v, t + 1))
        current, moments = stepped, new_moments
    logits = functional_call(D, dict(zip(names, current)), (x_fake,))
    return generator_loss(logits, g_loss)


class UnrolledGANTrainer(GANTrainer):
    r"""Unrolled GAN: G is updated against D as it will be after K more updates of D.

    .. math:: \theta_G \leftarrow \theta_G - \eta\,\frac{d L_G\big(\theta_G, \theta_D^K(\theta_G)\big)}{d\theta_G},
              \qquad \theta_D \leftarrow \text{one ordinary update of D}

    Metz et al. 2017, section 2.2. D's own updates are those of the plain GAN; only G's
    gradient changes, by backpropagating through K look-ahead updates of D
    (``unrolled_generator_loss``). Each G update costs about K + 1 double backward passes.

    Args:
        generator, discriminator, data, config, seed, device, init_fn, overrides: as ``GANTrainer``
            (use ``optimizer="adam"``: the look-ahead follows Adam's rule).
        unroll_steps: K, 0-100 (Metz et al.'s ring demonstration uses 5; 0 is the plain GAN).
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, unroll_steps: int = 5, **kwargs):
        self.unroll_steps = check_int("unroll_steps", unroll_steps, low=0, high=100)
        super().__init__(generator, discriminator, data, **kwargs)
        if self.config.optimizer != "adam":
            raise ValueError(f"optimizer must be 'adam' for UnrolledGANTrainer (the look-ahead follows Adam's "
                             f"update), got {self.config.optimizer!r}")

    def _g_update(self) -> dict:
        c = self.config
        loss = unrolled_generator_loss(self.D, self.G, self.d_opt, self.sample_real(), self.sample_z(),
                                       self.unroll_steps, c.g_loss, c.real_label)
        with frozen(self.D):  # only G's weights get this gradient
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
        out = {"g_loss": check_finite("the generator's loss", float(loss.detach())),
               "g_grad_norm": check_finite("the generator's gradient norm", grad_norm(self.G.parameters()))}
        self.g_opt.step()
        self.g_updates += 1
        return out
