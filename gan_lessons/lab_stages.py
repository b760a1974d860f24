r"""Slow motion: one update of D or of G taken apart into the five stages of Algorithm 1.

``staged_update(trainer, "D")`` performs one real update of D (the same numbers as
``trainer.step_d()`` with ``fast_path = False``: the same random draws, the same loss, the
same optimiser step) and returns what each stage computed, for the lab to draw in turn:

1. draw the minibatch (real samples and noise, mapped by G);
2. D's outputs on it;
3. the loss;
4. the gradient (for D: the push on each output; for G: on each sample, then on G's weights);
5. the update, and D's outputs on the same batch after it.

Goodfellow et al. 2014, Algorithm 1; the remedies' losses are those of ``remedies``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from .losses import d_loss, generator_loss
from .train import TrainingDiverged, check_finite, grad_norm
from .utils import check_choice

STAGE_TITLES = ("Draw a minibatch", "D's outputs", "The loss", "The gradient", "The update")


@dataclass
class Stage:
    """One stage of a slow-motion update: its number (1-5), title, caption and what to draw.

    ``show`` holds x_real / x_fake (the batch, as arrays), d_real / d_fake (D's outputs on it),
    push (arrows: {"at", "vec", "axis"}), and at stage 5 "ghost" (filled in by the lab with
    the frame before the update).
    """

    number: int
    title: str
    caption: str
    show: dict = field(default_factory=dict)


def _np(t) -> np.ndarray:
    return t.detach().cpu().double().numpy()


def _kind(trainer) -> str:
    from .remedies import PacGANTrainer, UnrolledGANTrainer, WGANGPTrainer

    if isinstance(trainer, WGANGPTrainer):
        return "wgan"
    if isinstance(trainer, PacGANTrainer):
        return "pacgan"
    if isinstance(trainer, UnrolledGANTrainer):
        return "unrolled"
    return "gan"


def _per_sample(values: torch.Tensor, n: int) -> np.ndarray:
    # One output per pack (PacGAN) shown at each of the pack's m samples.
    v = _np(values).reshape(-1)
    return np.repeat(v, n // len(v)) if len(v) < n else v


def _fmt(v) -> str:
    return f"{_float(v):.3f}"


def _float(v) -> float:
    return float(v.detach()) if isinstance(v, torch.Tensor) else float(v)


def staged_update(trainer, which: str) -> list[Stage]:
    """Perform one update of D (``which="D"``) or of G (``"G"``) and return its five stages.

    Counts the update (``d_updates`` / ``g_updates``) and records its losses in
    ``trainer.last``, like ``step_d`` / ``step_g``; a non-finite loss, gradient or weight
    raises ``TrainingDiverged`` with the weights as they were before the update.

    Args:
        trainer: a ``GANTrainer`` or a remedy's trainer.
        which: "D" or "G".
    """
    which = check_choice("which", which, ("D", "G"))
    trainer._apply_settings()
    with trainer._threads():
        try:
            stages = _staged_d(trainer) if which == "D" else _staged_g(trainer)
        except TrainingDiverged as err:
            trainer._diverged(err, "a discriminator update" if which == "D" else "a generator update")
        if not trainer._save_weights():
            trainer._diverged(TrainingDiverged("a weight became non-finite"),
                              "a discriminator update" if which == "D" else "a generator update")
    trainer.last.update(stages[-1].show.pop("stats"))  # as step_d / step_g: only an update that stands
    return stages


def _staged_d(trainer) -> list[Stage]:
    c, kind = trainer.config, _kind(trainer)
    m = getattr(trainer, "m", 1)
    n = c.batch_size * m
    G, D = trainer.G, trainer.D
    x_real = trainer.sample_real(n)
    z = trainer.sample_z(n)
    with torch.no_grad():
        x_fake = G(z)
    packs = f", in {c.batch_size} packs of {m}" if m > 1 else ""
    s1 = Stage(1, STAGE_TITLES[0], f"① Draw a minibatch: {n} real samples x ~ p_data (blue) and {n} noise "
               f"vectors z ~ p_z, mapped by G to fake samples G(z) (green){packs}.",
               {"x_real": _np(x_real), "x_fake": _np(x_fake)})
    out_real, out_fake = D(x_real), D(x_fake)
    if kind == "wgan":
        shown_real, shown_fake = out_real, out_fake
        w_loss = out_fake.mean() - out_real.mean()
        loss = w_loss
        gp = torch.zeros(())
        if trainer.gp_weight > 0:
            from .remedies import gradient_penalty

            eps = torch.rand(x_real.shape[0], generator=trainer.rng).to(trainer.device)
            gp = gradient_penalty(D, x_real, x_fake, eps)
            loss = w_loss + trainer.gp_weight * gp
        scores = (f"the critic scores them: mean D(x) = {_fmt(out_real.mean())} on the real batch, "
                  f"mean D(G(z)) = {_fmt(out_fake.mean())} on the fake one (scores, not probabilities)")
        loss_text = (f"③ The critic's loss: L = mean D(G(z)) − mean D(x) + λ·GP = {_fmt(w_loss)} + "
                     f"{trainer.gp_weight:g} × {_fmt(gp)} = {_fmt(loss)}; GP = mean (‖∇D(x̂)‖ − 1)² on points "
                     f"x̂ between real and fake samples.")
    else:
        shown_real, shown_fake = torch.sigmoid(out_real), torch.sigmoid(out_fake)
        loss = d_loss(out_real, out_fake, c.real_label)
        who = f"D scores each pack of {m}" if m > 1 else "D scores them"
        scores = (f"{who}: mean D(x) = {_fmt(shown_real.mean())} on the real batch, "
                  f"mean D(G(z)) = {_fmt(shown_fake.mean())} on the fake one")
        label = "" if c.real_label == 1.0 else f" (real label {c.real_label:g})"
        loss_text = (f"③ The loss: L_D = −mean log D(x) − mean log(1 − D(G(z))) = {_fmt(loss)}{label}; "
                     f"it is 2 log 2 = 1.386 when D says 1/2 everywhere.")
    d_real, d_fake = _per_sample(shown_real, n), _per_sample(shown_fake, n)
    batch = {"x_real": s1.show["x_real"], "x_fake": s1.show["x_fake"], "d_real": d_real, "d_fake": d_fake}
    if kind == "wgan":
        batch["critic_range"] = (float(min(d_real.min(), d_fake.min())), float(max(d_real.max(), d_fake.max())))
    s2 = Stage(2, STAGE_TITLES[1], f"② {scores}.", dict(batch))
    s3 = Stage(3, STAGE_TITLES[2], loss_text, dict(batch))
    check_finite("the discriminator's loss", float(loss.detach()))
    trainer.d_opt.zero_grad(set_to_none=True)
    out_real.retain_grad()
    out_fake.retain_grad()
    loss.backward()
    norm = check_finite("the discriminator's gradient norm", grad_norm(D.parameters()))
    # -dL/d(output) at each sample: how the loss wants each of D's outputs to move
    push_real = _per_sample(-out_real.grad, n) * len(out_real.grad)
    push_fake = _per_sample(-out_fake.grad, n) * len(out_fake.grad)
    at = np.concatenate([_points_at(batch["x_real"], d_real), _points_at(batch["x_fake"], d_fake)])
    vec = np.concatenate([push_real, push_fake])
    n_weights = sum(p.numel() for p in D.parameters())
    s4 = Stage(4, STAGE_TITLES[3], f"④ The gradient: backpropagation gives ∇L_D for D's {n_weights:,} weights "
               f"(norm {norm:.3g}). Arrows: −∂ℓ_i/∂a_i at each sample, how its term of the loss wants D's "
               f"{'score' if kind == 'wgan' else 'logit a'} there to move: up at the real ones and down at the fake ones.",
               {**batch, "push": {**_push(at, vec, batch["x_real"].shape[1]),
                                  "colors": ["#1f77b4"] * n + ["#2ca02c"] * n}})
    stats = {"d_loss": float(loss.detach()), "d_real": _float(shown_real.mean()), "d_fake": _float(shown_fake.mean()),
             "d_grad_norm": norm}
    lr = trainer.d_opt.param_groups[0]["lr"]
    trainer.d_opt.step()
    trainer.d_updates += 1
    with torch.no_grad():
        after_real, after_fake = D(x_real), D(x_fake)
        if kind == "wgan":  # the Wasserstein term only: the penalty's points were random
            before_loss, after_loss = float(w_loss.detach()), float(after_fake.mean() - after_real.mean())
            loss_name = "the Wasserstein term mean D(G(z)) − mean D(x)"
        else:
            before_loss, after_loss = float(loss.detach()), float(d_loss(after_real, after_fake, c.real_label))
            loss_name = "L_D"
            after_real, after_fake = torch.sigmoid(after_real), torch.sigmoid(after_fake)
    opt_name = type(trainer.d_opt).__name__.replace("Lean", "")
    s5 = Stage(5, STAGE_TITLES[4], f"⑤ The update: {opt_name} steps D's weights (lr {lr:.1e}); faint: D before, "
               f"bold: D after. On this batch {loss_name} went from {_fmt(before_loss)} to {_fmt(after_loss)}, "
               f"mean D(x) from {_fmt(shown_real.mean())} to {_fmt(after_real.mean())} and mean D(G(z)) from "
               f"{_fmt(shown_fake.mean())} to {_fmt(after_fake.mean())} ({loss_name} changed by "
               f"{_float(after_loss) - _float(before_loss):+.2g}).",
               {"x_real": batch["x_real"], "x_fake": batch["x_fake"],
                "d_real": _per_sample(after_real, n), "d_fake": _per_sample(after_fake, n),
                **({"critic_range": batch["critic_range"]} if kind == "wgan" else {})})
    s5.show["loss_before"], s5.show["loss_after"] = before_loss, after_loss
    s5.show["loss_before"], s5.show["loss_after"], s5.show["stats"] = before_loss, after_loss, stats
    return [s1, s2, s3, s4, s5]


def _points_at(x: np.ndarray, d: np.ndarray) -> np.ndarray:
    # Where a sample's arrow starts: (x, D(x)) in 1-D, the sample itself in 2-D.
    return np.stack([x[:, 0], d], 1) if x.shape[1] == 1 else x


def _push(at: np.ndarray, vec: np.ndarray, dim: int) -> dict:
    # In 1-D the push on D's output is drawn vertically; in 2-D as a radial arrow is meaningless,
    # so the arrow is drawn upwards at the sample, its length the push (down for a negative one).
    return {"at": at, "vec": np.stack([np.zeros_like(vec), vec], 1), "axis": "y"}


class _Fixed(nn.Module):
    # A stand-in for G that returns given samples, so that the loss's gradient at each sample can be read.
    def __init__(self, G, x):
        super().__init__()
        self.config, self.x = G.config, x

    def forward(self, z):
        return self.x


def _staged_g(trainer) -> list[Stage]:
    from .remedies import frozen, unrolled_generator_loss

    c, kind = trainer.config, _kind(trainer)
    m = getattr(trainer, "m", 1)
    n = c.batch_size * m
    G, D = trainer.G, trainer.D
    x_real = trainer.sample_real(n) if kind == "unrolled" else None
    z = trainer.sample_z(n)
    x_fake = G(z)
    x_leaf = x_fake.detach().requires_grad_(True)
    s1 = Stage(1, STAGE_TITLES[0], f"① Draw {n} noise vectors z ~ p_z and map them by G: fake samples G(z) "
               f"(green).", {"x_fake": _np(x_fake)})
    with frozen(D):
        out = D(x_leaf)
        shown = out if kind == "wgan" else torch.sigmoid(out)
        if kind == "wgan":
            loss = -out.mean()
            loss_text = f"③ G's loss: L_G = −mean D(G(z)) = {_fmt(loss)} (G wants high critic scores)."
        elif kind == "unrolled":
            loss = unrolled_generator_loss(D, _Fixed(G, x_leaf), trainer.d_opt, x_real, z, trainer.unroll_steps,
                                           c.g_loss, c.real_label)
            loss_text = (f"③ G's loss against D as it will be after {trainer.unroll_steps} look-ahead updates "
                         f"(the unrolled GAN): L_G = {_fmt(loss)} ({c.g_loss}).")
        else:
            loss = generator_loss(out, c.g_loss)
            formula = "−mean log D(G(z))" if c.g_loss == "nonsaturating" else "mean log(1 − D(G(z)))"
            loss_text = f"③ G's loss: L_G = {formula} = {_fmt(loss)} ({c.g_loss})."
        check_finite("the generator's loss", float(loss.detach()))
        (grad_x,) = torch.autograd.grad(loss, x_leaf)
    d_fake = _per_sample(shown, n)
    batch = {"x_fake": s1.show["x_fake"], "d_fake": d_fake}
    if kind == "wgan":
        batch["critic_range"] = (float(d_fake.min()), float(d_fake.max()))
    who = "the critic scores them" if kind == "wgan" else (f"D scores each pack of {m}" if m > 1 else "D scores them")
    s2 = Stage(2, STAGE_TITLES[1], f"② {who} (D is held fixed): mean D(G(z)) = {_fmt(shown.mean())}.", dict(batch))
    s3 = Stage(3, STAGE_TITLES[2], loss_text, dict(batch))
    trainer.g_opt.zero_grad(set_to_none=True)
    x_fake.backward(grad_x)  # the chain rule: dL/dθ = (dL/dx) (dx/dθ)
    norm = check_finite("the generator's gradient norm", grad_norm(G.parameters()))
    pull = -_np(grad_x) * n
    at = _points_at(batch["x_fake"], d_fake)
    vec = np.stack([pull[:, 0], np.zeros(n)], 1) if pull.shape[1] == 1 else pull
    n_weights = sum(p.numel() for p in G.parameters())
    s4 = Stage(4, STAGE_TITLES[3], f"④ The gradient flows back through D to each sample (arrows: −∂L_G/∂G(z), "
               f"where the loss pulls it), then through G to its {n_weights:,} weights (norm {norm:.3g}).",
               {**batch, "push": {"at": at, "vec": vec, "axis": "x", "colors": ["#0b3d0b"] * n}})
    stats = {"g_loss": float(loss.detach()), "g_grad_norm": norm}
    lr = trainer.g_opt.param_groups[0]["lr"]
    trainer.g_opt.step()
    trainer.g_updates += 1
    with torch.no_grad():
        moved = G(z)
        after_out = D(moved)
        after = after_out if kind == "wgan" else torch.sigmoid(after_out)
        # the loss on the same z after the step (for the unrolled GAN: against today's D, no look-ahead)
        before_loss = float(loss.detach()) if kind != "unrolled" else float(generator_loss(out.detach(), c.g_loss))
        after_loss = float(-after_out.mean()) if kind == "wgan" else float(generator_loss(after_out, c.g_loss))
    opt_name = type(trainer.g_opt).__name__.replace("Lean", "")
    s5 = Stage(5, STAGE_TITLES[4], f"⑤ The update: {opt_name} steps G's weights (lr {lr:.1e}) and every sample "
               f"moves ({'grey' if moved.shape[1] == 2 else 'faint'}: before). On the same z, L_G went from "
               f"{_fmt(before_loss)} to {_fmt(after_loss)} and mean D(G(z)) from {_fmt(shown.mean())} to "
               f"{_fmt(after.mean())}{' (both against today’s D, without the look-ahead)' if kind == 'unrolled' else ''}"
               f" (L_G changed by {_float(after_loss) - _float(before_loss):+.2g}).",
               {"x_fake": _np(moved), "d_fake": _per_sample(after, n),
                **({"critic_range": batch["critic_range"]} if kind == "wgan" else {})})
    s5.show["loss_before"], s5.show["loss_after"], s5.show["stats"] = before_loss, after_loss, stats
    return [s1, s2, s3, s4, s5]
