r"""The code of one training iteration, as plain PyTorch: what the lab's "Show the code" prints.

``step_code(trainer)`` writes the torch source of one iteration of ``trainer.step()``
(``d_steps`` updates of D, then ``g_steps`` of G) with the current settings written in:
the batch size, the loss that runs, the label, the remedy's parameter. It is the autograd
path (``trainer.fast_path = False``), random draws in the trainer's order, so the lab's
hand-derived gradients (``mlp_grad``) and this code give the same numbers.
``exec_namespace(trainer)`` binds the names the code uses to that trainer, so that

    exec(step_code(trainer), exec_namespace(trainer))

runs one iteration's updates on the trainer's own networks and optimisers
(``tests/test_lab_code.py`` checks them against ``trainer.step()``).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

import gan_lessons.remedies

from .checks import describe
from .remedies import PacGANTrainer, UnrolledGANTrainer, WGANGPTrainer
from .train import GANTrainer

__all__ = ["exec_namespace", "step_code"]

# The trainers whose updates the code writes out, and the class that defines each one's updates.
_KINDS = ((PacGANTrainer, "pacgan"), (WGANGPTrainer, "wgan-gp"), (UnrolledGANTrainer, "unrolled"),
          (GANTrainer, "gan"))
_TITLES = {"gan": "Plain GAN (Goodfellow et al. 2014, Algorithm 1)",
           "pacgan": "PacGAN{m} (Lin et al. 2018): D judges packs of m = {m} samples",
           "wgan-gp": "WGAN-GP (Gulrajani et al. 2017, Algorithm 1): D is a critic",
           "unrolled": "Unrolled GAN (Metz et al. 2017): G looks {k} updates of D ahead"}


def _kind(trainer) -> str:
    for cls, kind in _KINDS:
        if isinstance(trainer, cls):
            break
    else:
        raise ValueError("trainer must be a gan_lessons.train.GANTrainer, PacGANTrainer, WGANGPTrainer or "
                         f"UnrolledGANTrainer, got {describe(trainer)}")
    for hook in ("_d_update", "_g_update"):
        if getattr(type(trainer), hook) is not getattr(cls, hook):
            raise ValueError(f"trainer must be a GANTrainer, PacGANTrainer, WGANGPTrainer or "
                             f"UnrolledGANTrainer whose updates are their own; {type(trainer).__name__} "
                             f"overrides {hook}, so its code cannot be written out")
    return kind


def _num(x: float) -> str:
    """A number as short as it can be written and still read back exactly."""
    x = float(x)
    short = f"{x:.6g}"
    if float(short) != x:
        short = repr(x)
    return short if any(ch in short for ch in ".en") else short + ".0"  # 1.0, not 1: a float


def _updates(k: int) -> str:
    return f"{k} update{'' if k == 1 else 's'}"


def _shape(n: int, dim) -> str:
    return f"({n}, {dim if dim is not None else 'd'})"


def _noise(G) -> str:
    cfg = getattr(G, "config", None)
    noise, latent = getattr(cfg, "noise", "gaussian"), getattr(cfg, "latent_dim", "latent_dim")
    if noise == "uniform":
        return f"torch.rand(n, {latent}, generator=rng) * 2 - 1   (z ~ U(-1, 1))"
    return f"torch.randn(n, {latent}, generator=rng)   (z ~ N(0, I))"


def _header(trainer, kind: str) -> list[str]:
    c = trainer.config
    title = _TITLES[kind].format(m=getattr(trainer, "m", ""), k=getattr(trainer, "unroll_steps", ""))
    lines = [f"# One iteration of {type(trainer).__name__}, as plain torch with autograd.", f"# {title}.",
             f"# Settings: d_steps={c.d_steps}, g_steps={c.g_steps}, batch_size={c.batch_size}"
             + ("" if kind == "wgan-gp" else f", g_loss={c.g_loss!r}, real_label={_num(c.real_label)}")
             + {"pacgan": f", m={getattr(trainer, 'm', '')}",
                "wgan-gp": f", gp_weight={_num(getattr(trainer, 'gp_weight', 0.0))}",
                "unrolled": f", unroll_steps={getattr(trainer, 'unroll_steps', '')}"}.get(kind, "")]
    for opt, net, lr in (("d_opt", "D", c.lr_d), ("g_opt", "G", c.lr_g)):
        if c.optimizer == "sgd":
            lines.append(f"# {opt} = torch.optim.SGD({net}.parameters(), lr={_num(lr)})")
        else:
            betas = ", ".join(_num(b) for b in c.betas)
            lines.append(f"# {opt} = torch.optim.Adam({net}.parameters(), lr={_num(lr)}, betas=({betas}))")
    if kind == "pacgan":
        lines.append(f"# D takes packs: its input size is m * d ({trainer.m} samples side by side)")
    lines += ["# rng: the trainer's torch.Generator, seeded with its seed; it draws every batch, in order",
              "# sample_real(n): n real samples x ~ p_data, drawn with rng",
              f"# sample_z(n) = {_noise(trainer.G)}"]
    return lines


def _d_lines(trainer, kind: str) -> list[str]:
    c, dim = trainer.config, getattr(trainer.data, "dim", None)
    latent = getattr(trainer.G, "latent_dim", "latent_dim")
    n = c.batch_size * getattr(trainer, "m", 1) if kind == "pacgan" else c.batch_size
    what = "the critic" if kind == "wgan-gp" else "D"
    out = [f"for _ in range({c.d_steps}):  # d_steps = {_updates(c.d_steps)} of {what} (k in Algorithm 1)",
           f"    x_real = sample_real({n})  # {_shape(n, dim)} real samples x"]
    if kind == "wgan-gp":
        out += [f"    z = sample_z({n})  # {_shape(n, latent)} noise z",
                "    with torch.no_grad():  # the critic's update does not train G",
                "        x_fake = G(z)  # x~ = G(z)",
                "    d_real, d_fake = D(x_real), D(x_fake)  # critic scores, not logits",
                "    # L = E[D(x~)] - E[D(x)]: minus the critic's estimate of the Wasserstein-1 distance",
                "    w_loss = d_fake.mean() - d_real.mean()"]
        gp_weight = getattr(trainer, "gp_weight", 0.0)
        if gp_weight > 0:
            extra = len(getattr(getattr(trainer.G, "config", None), "out_shape", None) or (1,))
            ones = ", ".join(["1"] * extra)
            to = "" if trainer.device.type == "cpu" else ".to(x_real.device)"
            norm = "grad.norm(dim=1)" if extra == 1 else "grad.flatten(1).norm(dim=1)"
            out += ["    # x^ = eps x + (1 - eps) x~, eps ~ U[0, 1], one per sample",
                    f"    eps = torch.rand({n}, {ones}, generator=rng){to}",
                    "    x_hat = (eps * x_real + (1 - eps) * x_fake).requires_grad_(True)",
                    "    # GP = E[(||grad_x^ D(x^)||_2 - 1)^2]; create_graph: GP is differentiated in D",
                    "    (grad,) = torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)",
                    f"    gp = (({norm} - 1) ** 2).mean()",
                    f"    d_loss = w_loss + {_num(gp_weight)} * gp  # L + lambda GP, lambda = gp_weight"]
        else:
            out.append("    d_loss = w_loss  # gp_weight = 0: no gradient penalty")
    else:
        packed = "pack(x_real)" if kind == "pacgan" else "x_real"
        fake = "pack(x_fake)" if kind == "pacgan" else "x_fake"
        if kind == "pacgan":
            out.append(f"    # batch_size = {c.batch_size} packs of m = {trainer.m}: {n} samples each kind")
        out += [f"    z = sample_z({n})  # {_shape(n, latent)} noise z",
                "    with torch.no_grad():  # D's update does not train G",
                "        x_fake = G(z)  # x~ = G(z)",
                f"    d_real_logits = D({packed})  # a = logit D(x)",
                f"    d_fake_logits = D({fake})  # logit D(G(z))"]
        y = _num(c.real_label)
        if c.real_label == 1.0:
            out += ["    # L_D = -[log D(x) + log(1 - D(G(z)))], with logits:",
                    "    # log D = -softplus(-a) and log(1 - D) = -softplus(a), finite where D saturates",
                    "    d_loss = F.softplus(-d_real_logits).mean() + F.softplus(d_fake_logits).mean()"]
        else:
            out += [f"    # L_D = -[{y} log D(x) + (1 - {y}) log(1 - D(x)) + log(1 - D(G(z)))], with logits:",
                    f"    # real label {y}, one-sided label smoothing (Salimans et al. 2016);",
                    "    # log D = -softplus(-a) and log(1 - D) = -softplus(a), finite where D saturates",
                    f"    d_real_term = ({y} * F.softplus(-d_real_logits)",
                    f"                   + (1 - {y}) * F.softplus(d_real_logits))",
                    "    d_loss = d_real_term.mean() + F.softplus(d_fake_logits).mean()"]
    out += ["    d_opt.zero_grad(set_to_none=True)",
            "    d_loss.backward()",
            "    d_opt.step()"]
    return out


def _g_loss_lines(kind: str, g_loss: str, indent: str = "    ") -> list[str]:
    if kind == "wgan-gp":
        return [f"{indent}g_loss = -d_fake.mean()  # L_G = -E[D(G(z))]"]
    if g_loss == "minimax":
        return [f"{indent}# L_G = log(1 - D(G(z))) = -softplus(a): the minimax loss (Algorithm 1)",
                f"{indent}g_loss = -F.softplus(d_fake_logits).mean()"]
    return [f"{indent}# L_G = -log D(G(z)) = softplus(-a): the non-saturating loss (Goodfellow et al.,",
            f"{indent}# section 3: the same fixed point as the minimax loss, strong gradients early on)",
            f"{indent}g_loss = F.softplus(-d_fake_logits).mean()"]


def _g_lines(trainer, kind: str) -> list[str]:
    c, latent = trainer.config, getattr(trainer.G, "latent_dim", "latent_dim")
    n = c.batch_size * getattr(trainer, "m", 1) if kind == "pacgan" else c.batch_size
    out = [f"for _ in range({c.g_steps}):  # g_steps = {_updates(c.g_steps)} of G"]
    if kind == "unrolled":
        out += [f"    x_real = sample_real({n})  # {_shape(n, getattr(trainer.data, 'dim', None))} "
                "real samples for the look-ahead",
                f"    z = sample_z({n})  # {_shape(n, latent)} noise z",
                f"    # L_G^K: G's loss against D after K = {trainer.unroll_steps} look-ahead Adam updates",
                "    # of D on (x_real, G(z)), differentiable in G's weights (Metz et al. 2017, eqs. 7-8).",
                "    # It works on copies of D's weights and d_opt's moments: D itself does not change.",
                "    g_loss = gan_lessons.remedies.unrolled_generator_loss(",
                f"        D, G, d_opt, x_real, z, unroll_steps={trainer.unroll_steps}, g_loss={c.g_loss!r}, "
                f"real_label={_num(c.real_label)})",
                "    g_opt.zero_grad(set_to_none=True)",
                "    g_loss.backward()",
                "    g_opt.step()"]
        return out
    d_of = "D(pack(G(z)))" if kind == "pacgan" else "D(G(z))"
    name = "d_fake" if kind == "wgan-gp" else "d_fake_logits"
    out += [f"    z = sample_z({n})  # {_shape(n, latent)} noise z",
            "    D.requires_grad_(False)  # G's loss flows back through D, but D's weights take no gradient",
            f"    {name} = {d_of}"]
    out += _g_loss_lines(kind, c.g_loss)
    out += ["    g_opt.zero_grad(set_to_none=True)",
            "    g_loss.backward()",
            "    D.requires_grad_(True)",
            "    g_opt.step()"]
    return out


def step_code(trainer) -> str:
    r"""The torch source of one iteration of ``trainer.step()``, with its current settings written in.

    For the plain GAN and PacGAN (on packs of m samples, Lin et al. 2018), with logits a:

    .. math:: L_D = -\big[y \log D(x) + (1 - y) \log(1 - D(x)) + \log(1 - D(G(z)))\big],
              \qquad \log D = -\operatorname{softplus}(-a), \ \log(1 - D) = -\operatorname{softplus}(a)

    (y = ``real_label``; Goodfellow et al. 2014, Algorithm 1), and
    :math:`L_G = -\log D(G(z))` (non-saturating) or :math:`\log(1 - D(G(z)))` (minimax).
    WGAN-GP (Gulrajani et al. 2017, equation 3):

    .. math:: L_D = \mathbb E[D(\tilde x)] - \mathbb E[D(x)]
              + \lambda\, \mathbb E\big[(\lVert\nabla_{\hat x} D(\hat x)\rVert_2 - 1)^2\big],
              \qquad L_G = -\mathbb E[D(G(z))]

    The unrolled GAN (Metz et al. 2017) calls
    ``gan_lessons.remedies.unrolled_generator_loss`` for G's look-ahead loss.

    Args:
        trainer: a ``GANTrainer``, ``PacGANTrainer``, ``WGANGPTrainer`` or ``UnrolledGANTrainer``
            (not a subclass that overrides their updates).
    Returns Python source using ``G``, ``D``, ``d_opt``, ``g_opt``, ``sample_real``, ``sample_z``,
    ``rng``, ``torch``, ``F`` and ``gan_lessons`` (see ``exec_namespace``). The header gives how
    the optimisers are made; the lab's Adam runs torch's fused kernel, the same update.
    """
    kind = _kind(trainer)
    lines = _header(trainer, kind)
    if kind == "pacgan":
        m = trainer.m
        lines += ["", f"def pack(x):  # ({m}B, d) -> (B, {m}d): {m} consecutive samples side by side",
                  f"    return x.reshape(x.shape[0] // {m}, -1)"]
    lines += [""] + _d_lines(trainer, kind) + [""] + _g_lines(trainer, kind)
    return "\n".join(lines) + "\n"


def exec_namespace(trainer) -> dict:
    """The names ``step_code(trainer)`` uses, bound to ``trainer``'s networks, optimisers and draws.

    ``D`` is the network the optimiser trains: for PacGAN, the inner discriminator of packs
    (``trainer.D.inner``, whose weights are ``trainer.D``'s). As ``trainer.step()`` does before
    every iteration, the optimisers' learning rates and betas are set from ``trainer.config``.
    The trainer's counters and history are not updated by running the code.

    Args:
        trainer: as ``step_code``.
    """
    kind = _kind(trainer)
    trainer._apply_settings()  # the lab reads lr_d, lr_g and betas before every iteration
    D = trainer.D.inner if kind == "pacgan" else trainer.D
    return {"G": trainer.G, "D": D, "d_opt": trainer.d_opt, "g_opt": trainer.g_opt,
            "sample_real": trainer.sample_real, "sample_z": trainer.sample_z, "rng": trainer.rng,
            "torch": torch, "F": F, "gan_lessons": gan_lessons}
