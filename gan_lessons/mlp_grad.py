r"""Hand-derived forward and backward passes for the small MLPs of ``models``.

The trainer's fast path. A 2x32 MLP on a batch of 256 does so little arithmetic that
autograd's bookkeeping (building the graph, one Python object per operation) costs more
than the maths. For a linear layer :math:`h = a W^\top + b` followed by an activation
:math:`a' = \phi(h)`, backpropagation is three products

.. math:: \frac{\partial L}{\partial W} = g^\top a, \quad
          \frac{\partial L}{\partial b} = \textstyle\sum_i g_i, \quad
          \frac{\partial L}{\partial a} = g W, \qquad g = \frac{\partial L}{\partial h},

and :math:`\partial L / \partial h = \phi'(h) \odot \partial L / \partial a'`
(Rumelhart, Hinton and Williams 1986). The functions below apply them layer by layer
with the same aten kernels autograd calls, so the numbers match autograd to float32
rounding (``tests/test_mlp_grad.py`` checks this against ``torch.autograd``).
"""
from __future__ import annotations

import torch
from torch import nn

from .models import MLPDiscriminator, MLPGenerator

_ACTS = {nn.ReLU: "relu", nn.LeakyReLU: "leaky_relu", nn.Tanh: "tanh", nn.Identity: "identity"}


class MLPPlan:
    """The layers of an MLPGenerator or MLPDiscriminator as (weight, bias, activation) triples.

    Args:
        module: an ``MLPGenerator`` (linear, sigmoid or tanh output) or ``MLPDiscriminator``.
    Build one with ``MLPPlan.of(module)``, which returns None for a network it cannot run.
    """

    def __init__(self, layers, logits: bool):
        self.layers = layers          # [(W, b, act, slope)], act applied after the layer
        self.weights_t = [W.t() for W, _, _, _ in layers]  # views: they follow in-place updates
        self.logits = logits          # True for D: the output is squeezed to (B,)
        self.params = [t for W, b, _, _ in layers for t in (W, b)]

    @classmethod
    def of(cls, module: nn.Module) -> MLPPlan | None:
        """A plan for ``module``, or None if it is not a plain MLP of this package."""
        if type(module) is MLPGenerator:
            # The output activation (sigmoid or tanh for images) becomes the last layer's;
            # a reshape (out_shape) does not matter, since D flattens its input.
            out_act = module.config.out_activation or "identity"
            logits = False
        elif type(module) is MLPDiscriminator:
            logits, out_act = True, "identity"
        else:
            return None
        mods = list(module.net)
        layers = []
        for i, m in enumerate(mods):
            if isinstance(m, nn.Linear):
                act, slope = "identity", 0.0
                if i + 1 < len(mods) and not isinstance(mods[i + 1], nn.Linear):
                    nxt = mods[i + 1]
                    if type(nxt) not in _ACTS:
                        return None
                    act = _ACTS[type(nxt)]
                    slope = float(nxt.negative_slope) if act == "leaky_relu" else 0.0
                if m.bias is None:
                    return None
                layers.append((m.weight, m.bias, act, slope))
            elif type(m) not in _ACTS:
                return None
        if any(p.dtype != torch.float32 for W, b, _, _ in layers for p in (W, b)):
            return None
        W, b, _, _ = layers[-1]
        layers[-1] = (W, b, out_act, 0.0)
        return cls(layers, logits)

    def forward(self, x: torch.Tensor, cache: list | None = None) -> torch.Tensor:
        """The network's output; with ``cache`` (a list) it records what backward needs."""
        a = x.flatten(1) if self.logits else x
        with torch.no_grad():
            for (_, b, act, slope), W_t in zip(self.layers, self.weights_t):
                h = torch.addmm(b, a, W_t)  # (B, out)
                out = _activate(h, act, slope)
                if cache is not None:
                    cache.append((a, h, out))
                a = out
        return a.squeeze(1) if self.logits else a

    def backward(self, cache: list, grad_out: torch.Tensor, grads: list[torch.Tensor] | None,
                 input_grad: bool = False) -> torch.Tensor | None:
        """Backpropagate ``grad_out`` (dL/d output) through the cached forward pass.

        Args:
            cache: the list filled by ``forward``.
            grad_out: dL/d(output), shape (B,) for D's logits or (B, out_dim) for G.
            grads: tensors shaped like ``self.params`` that receive dL/dW and dL/db
                (overwritten), or None to skip the weight gradients.
            input_grad: also return dL/dx.
        """
        g = grad_out.unsqueeze(1) if self.logits else grad_out
        with torch.no_grad():
            for i in range(len(self.layers) - 1, -1, -1):
                W, _, act, slope = self.layers[i]
                a, h, out = cache[i]
                g = _activate_backward(g, h, out, act, slope)  # dL/dh
                if grads is not None:
                    torch.mm(g.t(), a, out=grads[2 * i])       # dL/dW = g^T a
                    torch.sum(g, 0, out=grads[2 * i + 1])       # dL/db = sum_i g_i
                if i > 0 or input_grad:
                    g = torch.mm(g, W)                          # dL/da = g W
        return g if input_grad else None


def _activate(h, act, slope):
    if act == "relu":
        return torch.relu(h)
    if act == "leaky_relu":
        return torch.nn.functional.leaky_relu(h, slope)
    if act == "tanh":
        return torch.tanh(h)
    if act == "sigmoid":
        return torch.sigmoid(h)
    return h


def _activate_backward(g, h, out, act, slope):
    # The derivative kernels autograd itself uses for these activations.
    if act == "relu":
        return torch.ops.aten.threshold_backward(g, out, 0)
    if act == "leaky_relu":
        return torch.ops.aten.leaky_relu_backward(g, h, slope, False)
    if act == "tanh":
        return torch.ops.aten.tanh_backward(g, out)
    if act == "sigmoid":
        return torch.ops.aten.sigmoid_backward(g, out)
    return g


class FastUpdates:
    """Gradients of Algorithm 1's two losses by the hand-derived passes, and optimiser steps.

    The trainer uses it when both networks are plain MLPs of ``models``. Updates go through
    the optimiser's own ``step()``, so the trainer may mix them with autograd ones
    (``d_step`` / ``g_step``) on the same optimiser.

    Args:
        G, D: an ``MLPGenerator`` and an ``MLPDiscriminator``.
        pack: PacGAN's m: D reads packs of ``pack`` consecutive samples (input size
            ``pack * out_dim``), so a batch of B * m samples gives B logits.
    Build one with ``FastUpdates.of(G, D)``, which returns None when a network is not supported.
    """

    def __init__(self, g_plan: MLPPlan, d_plan: MLPPlan, G: MLPGenerator, pack: int = 1):
        self.g_plan, self.d_plan = g_plan, d_plan
        self.pack = pack
        self.latent_dim, self.noise = G.config.latent_dim, G.config.noise
        self.device = g_plan.params[0].device
        self.grads = {"G": _flat_like(g_plan.params), "D": _flat_like(d_plan.params)}
        self._targets: dict = {}

    @classmethod
    def of(cls, G: nn.Module, D: nn.Module, pack: int = 1) -> FastUpdates | None:
        """Fast updates for ``G`` and ``D`` (D on packs of ``pack`` samples), or None if either
        is not a plain MLP on one device."""
        g_plan, d_plan = MLPPlan.of(G), MLPPlan.of(D)
        if g_plan is None or d_plan is None:
            return None
        if pack * G.config.out_dim != D.config.in_dim or g_plan.params[0].device != d_plan.params[0].device:
            return None
        return cls(g_plan, d_plan, G, pack)

    def draw_z(self, n: int, generator: torch.Generator) -> torch.Tensor:
        """The same draws as ``MLPGenerator.sample_z(n, generator)``, without its checks."""
        if self.noise == "uniform":
            z = torch.rand((n, self.latent_dim), generator=generator).mul_(2).sub_(1)
        else:
            z = torch.randn((n, self.latent_dim), generator=generator)
        return z.to(self.device)

    def _target(self, n: int, real_label: float) -> torch.Tensor:
        # Labels of the stacked batch [x_real; G(z)]: real_label then 0 (cached per size).
        key = (n, real_label)
        t = self._targets.get(key)
        if t is None:
            t = torch.cat([torch.full((n,), real_label), torch.zeros(n)]).to(self.device)
            self._targets = {key: t}
        return t

    def d_grads(self, x_real: torch.Tensor, z: torch.Tensor, real_label: float) -> dict[str, float]:
        r"""D's gradient of :math:`L_D = -\frac1m\sum_i[\log D(x_i) + \log(1 - D(G(z_i)))]`.

        Real and fake minibatches go through D as one stacked batch. With logits a and
        targets t (``real_label`` for real, 0 for fake), :math:`\partial L_D / \partial a_i =
        (\sigma(a_i) - t_i) / m`. Returns d_loss, d_real, d_fake and d_grad_norm, as ``d_step``.
        """
        k = self.pack  # with packs, m counts packs of k samples: (m * k, d) -> (m, k * d)
        m = x_real.shape[0] // k
        x_fake = self.g_plan.forward(z)
        cache: list = []
        logits = self.d_plan.forward(torch.cat([x_real.reshape(m, -1), x_fake.reshape(m, -1)]), cache)  # (2m,)
        t = self._target(m, real_label)
        loss = torch.nn.functional.binary_cross_entropy_with_logits(logits, t, reduction="sum") / m
        s = torch.sigmoid(logits)
        flat, grads = self.grads["D"]
        self.d_plan.backward(cache, (s - t).div_(m), grads)
        d_real, d_fake = s.view(2, m).mean(1).tolist()
        return {"d_loss": loss.item(), "d_real": d_real, "d_fake": d_fake,
                "d_grad_norm": torch.linalg.vector_norm(flat).item()}

    def g_grads(self, z: torch.Tensor, loss: str) -> dict[str, float]:
        r"""G's gradient of the non-saturating or minimax loss, through D (D's weights fixed).

        Non-saturating :math:`L_G = -\frac1m\sum\log\sigma(a_i)` gives
        :math:`\partial L_G/\partial a_i = (\sigma(a_i) - 1)/m`; minimax
        :math:`L_G = \frac1m\sum\log(1-\sigma(a_i))` gives :math:`-\sigma(a_i)/m`.
        Returns g_loss, g_fake and g_grad_norm, as ``g_step``.
        """
        m = z.shape[0] // self.pack  # packs
        g_cache: list = []
        x_fake = self.g_plan.forward(z, g_cache)
        d_cache: list = []
        logits = self.d_plan.forward(x_fake.reshape(m, -1), d_cache)  # (m,)
        s = torch.sigmoid(logits)
        bce = torch.nn.functional.binary_cross_entropy_with_logits
        if loss == "minimax":
            value = -bce(logits, torch.zeros_like(logits))  # mean log(1 - D(G(z)))
            grad = s.div(-m)
        else:
            value = bce(logits, torch.ones_like(logits))    # -mean log D(G(z))
            grad = (s - 1).div_(m)
        grad_x = self.d_plan.backward(d_cache, grad, None, input_grad=True)
        flat, grads = self.grads["G"]
        self.g_plan.backward(g_cache, grad_x.view_as(x_fake), grads)
        return {"g_loss": value.item(), "g_fake": s.mean().item(),
                "g_grad_norm": torch.linalg.vector_norm(flat).item()}

    def apply(self, which: str, opt: torch.optim.Optimizer) -> None:
        """One ``opt.step()`` on the gradients just made (``"G"`` or ``"D"``).

        The gradients are handed over as the parameters' ``.grad``, so the optimiser runs
        exactly as after ``loss.backward()``: its own update rule, state and step counts.
        """
        plan = self.g_plan if which == "G" else self.d_plan
        for p, g in zip(plan.params, self.grads[which][1]):
            if p.grad is not g:
                p.grad = g
        opt.step()


def _flat_like(params):
    # One flat buffer whose slices are the gradients, so their norm is one operation.
    flat = torch.zeros(sum(p.numel() for p in params), device=params[0].device)
    views, start = [], 0
    for p in params:
        views.append(flat[start:start + p.numel()].view_as(p))
        start += p.numel()
    return flat, views


class LeanAdam(torch.optim.Adam):
    """``torch.optim.Adam(fused=True)`` whose ``step()`` goes straight to the fused kernel.

    torch's generic ``step()`` spends about 0.15 ms in Python per call on a small network
    (grouping tensors, checks), more than the update itself. For the common case (one
    parameter group, every gradient present, no weight decay, amsgrad or maximize) this
    calls the same kernel, ``torch._fused_adam_``, on cached lists of the optimiser's own
    state, so the update rule and the saved state are exactly Adam's; any other case goes
    to ``torch.optim.Adam.step``. The step counts are views of one tensor, so counting a
    step is one operation.
    """

    def __init__(self, params, **kwargs):
        kwargs["fused"] = True
        super().__init__(params, **kwargs)
        self._lean = None

    def step(self, closure=None):
        """One Adam update of every parameter (as ``torch.optim.Adam.step``)."""
        if self._optimizer_step_pre_hooks or self._optimizer_step_post_hooks or _has_global_hooks():
            return _hooked_step(self, closure)  # torch's wrapper runs the hooks around the update
        with torch.no_grad():
            return self._update(closure)

    step.hooked = True  # torch would otherwise wrap step() in its profiler and hook wrapper (~20 us)

    def _update(self, closure=None):
        group = self.param_groups[0]
        if (closure is not None or len(self.param_groups) != 1 or group["amsgrad"] or group["maximize"]
                or group["weight_decay"] != 0 or group["capturable"] or group["differentiable"]
                or group.get("decoupled_weight_decay", False) or not isinstance(group["lr"], float)):
            return _adam_step(self, closure)
        params = group["params"]
        grads = [p.grad for p in params]
        if any(g is None for g in grads):
            return _adam_step(self, closure)
        lean = self._lean
        first = self.state.get(params[0])
        if lean is None or first is None or lean[0][0] is not first.get("exp_avg"):
            lean = self._lean = self._cache(params)
        exp_avgs, exp_avg_sqs, steps, all_steps = lean
        all_steps.add_(1)
        beta1, beta2 = group["betas"]
        torch._fused_adam_(params, grads, exp_avgs, exp_avg_sqs, [], steps, amsgrad=False, lr=group["lr"],
                           beta1=beta1, beta2=beta2, weight_decay=0.0, eps=group["eps"], maximize=False,
                           grad_scale=None, found_inf=None)
        return None

    def _cache(self, params):
        # Adam's state, created as torch.optim.Adam(fused=True) creates it when missing.
        for p in params:
            st = self.state[p]
            if len(st) == 0:
                st["step"] = torch.zeros((), dtype=torch.float32, device=p.device)
                st["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                st["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
        states = [self.state[p] for p in params]
        all_steps = torch.stack([s["step"] for s in states])
        for i, s in enumerate(states):
            s["step"] = all_steps[i]  # a view: torch's own step() still counts it in place
        return ([s["exp_avg"] for s in states], [s["exp_avg_sq"] for s in states],
                [s["step"] for s in states], all_steps)


def _adam_step(opt, closure):
    # torch.optim.Adam's own update, without torch's hook wrapper (our step() ran the hooks already).
    step = torch.optim.Adam.step
    return getattr(step, "__wrapped__", step)(opt, closure)


def _has_global_hooks() -> bool:
    from torch.optim import optimizer
    return bool(optimizer._global_optimizer_pre_hooks or optimizer._global_optimizer_post_hooks)


_hooked_step = torch.optim.Optimizer.profile_hook_step(LeanAdam._update)
