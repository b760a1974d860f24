"""Training: Algorithm 1 of Goodfellow et al. 2014, with k = ``d_steps``.

``d_step`` and ``g_step`` are plain functions that return floats. ``GANTrainer`` runs
iterations of ``d_steps`` discriminator updates then ``g_steps`` generator updates,
keeps a history, and lets any setting change between iterations without resetting the
models (the interactive lab relies on that). The loop never plots: callers attach
callbacks.
"""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable
from dataclasses import dataclass, fields

import torch
from torch import nn

from .distributions import as_distribution
from .losses import GENERATOR_LOSSES, d_loss, generator_loss
from .mlp_grad import FastUpdates, LeanAdam
from .models import reset_parameters
from .checks import check_callable, check_module, describe
from .utils import Progress, check_choice, check_float, check_int, get_device, make_generator

OPTIMIZERS = ("adam", "sgd")
# Below this many weights, one CPU thread is faster than two: a tiny operation costs less
# than waking a second thread, and far less when other programs share the cores.
SINGLE_THREAD_MAX_PARAMS = 100_000


class TrainingDiverged(RuntimeError):
    """A loss, gradient or weight became NaN or infinite; the models keep their last finite weights."""


@dataclass
class TrainConfig:
    """How training runs. Any field may be changed between iterations.

    Attributes:
        d_steps: discriminator updates per iteration (k in Algorithm 1), 1-1000.
        g_steps: generator updates per iteration, 1-1000.
        lr_d, lr_g: learning rates of D's and G's optimisers, in (0, 10].
        batch_size: minibatch size m, 1-65536.
        g_loss: "nonsaturating" (-log D(G(z))) or "minimax" (log(1 - D(G(z)))).
        optimizer: "adam" (with ``betas``) or "sgd"; fixed when the trainer is built or reset.
        betas: Adam's (beta1, beta2); 0.5 for beta1 follows DCGAN (Radford et al. 2016).
        real_label: 1.0, or below 1 for one-sided label smoothing.
    """

    d_steps: int = 1
    g_steps: int = 1
    lr_d: float = 1e-3
    lr_g: float = 1e-3
    batch_size: int = 256
    g_loss: str = "nonsaturating"
    optimizer: str = "adam"
    betas: tuple[float, float] = (0.5, 0.999)
    real_label: float = 1.0

    def __setattr__(self, name, value):
        # Validate every assignment, so a bad value set from code or a widget fails at once.
        if name in ("d_steps", "g_steps"):
            value = check_int(name, value, low=1, high=1000)
        elif name in ("lr_d", "lr_g"):
            value = check_float(name, value, low=0.0, high=10.0, low_open=True)
        elif name == "batch_size":
            value = check_int(name, value, low=1, high=65536)
        elif name == "g_loss":
            value = check_choice(name, value, GENERATOR_LOSSES)
        elif name == "optimizer":
            value = check_choice(name, value, OPTIMIZERS)
        elif name == "betas":
            pair = tuple(value) if isinstance(value, (tuple, list)) else ()
            if len(pair) != 2:
                raise ValueError(f"betas must be a pair (beta1, beta2), e.g. (0.5, 0.999), got {value!r}")
            value = tuple(check_float(f"betas[{i}]", b, low=0.0, high=0.9999) for i, b in enumerate(pair))
        elif name == "real_label":
            value = check_float(name, value, low=0.5, high=1.0)
        elif name not in {f.name for f in fields(self)}:
            raise AttributeError(f"TrainConfig has no setting {name!r}")
        object.__setattr__(self, name, value)


def grad_norm(parameters) -> float:
    """Euclidean norm of all gradients together (0.0 when there are none)."""
    grads = [p.grad for p in parameters if p.grad is not None]
    if not grads:
        return 0.0
    return float(torch.linalg.vector_norm(torch.stack(torch._foreach_norm(grads))))


def check_finite(what: str, value: float) -> float:
    """``value`` if it is finite; else raise TrainingDiverged naming ``what`` (before any optimiser step)."""
    if not math.isfinite(value):
        raise TrainingDiverged(f"{what} is {value}")
    return value


def _check_step(D, G, name: str, opt) -> None:
    check_module("D", D)
    check_module("G", G)
    if not isinstance(opt, torch.optim.Optimizer):
        raise ValueError(f"{name} must be a torch optimiser, e.g. torch.optim.Adam(net.parameters()), "
                         f"got {describe(opt)}")


def d_step(D: nn.Module, G: nn.Module, d_opt: torch.optim.Optimizer, x_real: torch.Tensor,
           z: torch.Tensor, real_label: float = 1.0) -> dict[str, float]:
    """One discriminator update: descend L_D = -V(D, G) on a real and a fake minibatch.

    Returns d_loss, d_real (mean D(x)), d_fake (mean D(G(z))) and d_grad_norm. Raises
    TrainingDiverged, before touching the weights, if the loss or gradient is not finite.
    """
    _check_step(D, G, "d_opt", d_opt)
    with torch.no_grad():
        x_fake = G(z)
    d_real_logits = D(x_real)
    d_fake_logits = D(x_fake)
    loss = d_loss(d_real_logits, d_fake_logits, real_label)
    d_opt.zero_grad(set_to_none=True)
    loss.backward()
    with torch.no_grad():
        stats = torch.stack([loss, torch.sigmoid(d_real_logits).mean(), torch.sigmoid(d_fake_logits).mean()])
    out = dict(zip(("d_loss", "d_real", "d_fake"), stats.tolist()))
    out["d_grad_norm"] = grad_norm(D.parameters())
    check_finite("the discriminator's loss", out["d_loss"])
    check_finite("the discriminator's gradient norm", out["d_grad_norm"])
    d_opt.step()
    return out


def g_step(D: nn.Module, G: nn.Module, g_opt: torch.optim.Optimizer, z: torch.Tensor,
           loss: str = "nonsaturating") -> dict[str, float]:
    """One generator update on the loss named ``loss`` ("nonsaturating" or "minimax").

    Returns g_loss, g_fake (mean D(G(z)) before the update) and g_grad_norm.
    """
    check_choice("loss", loss, GENERATOR_LOSSES)
    _check_step(D, G, "g_opt", g_opt)
    d_params = list(D.parameters())
    flags = [p.requires_grad for p in d_params]
    for p in d_params:  # G's update needs gradients through D, not of D's weights
        p.requires_grad_(False)
    try:
        d_fake_logits = D(G(z))
        value = generator_loss(d_fake_logits, loss)
        g_opt.zero_grad(set_to_none=True)
        value.backward()
    finally:
        for p, f in zip(d_params, flags):
            p.requires_grad_(f)
    with torch.no_grad():
        stats = torch.stack([value, torch.sigmoid(d_fake_logits).mean()])
    out = dict(zip(("g_loss", "g_fake"), stats.tolist()))
    out["g_grad_norm"] = grad_norm(G.parameters())
    check_finite("the generator's loss", out["g_loss"])
    check_finite("the generator's gradient norm", out["g_grad_norm"])
    g_opt.step()
    return out


HISTORY_KEYS = ("iteration", "d_loss", "g_loss", "d_real", "d_fake", "d_grad_norm", "g_grad_norm")


class History(dict):
    """Lists of per-iteration records, keyed by HISTORY_KEYS; ``h["d_loss"][-1]`` is the latest."""

    def __init__(self):
        super().__init__({k: [] for k in HISTORY_KEYS})

    def append(self, row: dict) -> None:
        for k in HISTORY_KEYS:
            self[k].append(row.get(k, float("nan")))

    def __len__(self) -> int:  # number of iterations recorded
        return len(self["iteration"])


def _mean(rows: list[dict], key: str) -> float:
    return sum(r[key] for r in rows) / len(rows)


class GANTrainer:
    """Runs Algorithm 1 of Goodfellow et al. 2014 on any data with a ``sample`` method.

    Args:
        generator, discriminator: the two networks (D returns logits).
        data: a distribution from ``gan_lessons.distributions``, an array of points, or
            a callable ``(n, generator) -> tensor`` of real samples.
        config: a TrainConfig; keyword arguments override its fields.
        seed: seeds the initial weights and every minibatch, so one seed gives one history.
        device: where to train (default ``get_device()``).
        init_fn: optional ``fn(module)`` applied after the default initialisation.

    When both networks are plain MLPs of ``gan_lessons.models``, updates use the
    hand-derived gradients of ``gan_lessons.mlp_grad`` (the same numbers as autograd, about
    three times faster on a small model); set ``trainer.fast_path = False`` to use autograd.
    """

    fast_path = True

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data,
                 config: TrainConfig | None = None, seed: int = 0, device=None,
                 init_fn: Callable[[nn.Module], None] | None = None, **overrides):
        self.G = check_module("generator", generator, ("sample_z",))
        self.D = check_module("discriminator", discriminator)
        self._set_real(data)
        if config is not None and not isinstance(config, TrainConfig):
            raise ValueError(f"config must be a TrainConfig, got {describe(config)}")
        self.config = config if config is not None else TrainConfig()
        settings = [f.name for f in fields(TrainConfig)]
        for k, v in overrides.items():
            if k not in settings:
                raise ValueError(f"{k!r} is not a training setting; the settings are {', '.join(settings)}")
            setattr(self.config, k, v)
        if device is not None:
            check_choice("device", str(device).split(":")[0], ("cpu", "cuda", "mps"))
        self.device = get_device(device)
        self.init_fn = None if init_fn is None else check_callable("init_fn", init_fn, "a function fn(module)")
        self.seed = check_int("seed", seed, low=0)
        self.G.to(self.device)
        self.D.to(self.device)
        self.reset()

    # -- state ------------------------------------------------------------------------
    def reset(self, seed: int | None = None) -> None:
        """New initial weights and fresh optimisers from ``seed`` (default: the current seed)."""
        if seed is not None:
            self.seed = check_int("seed", seed, low=0)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            for net in (self.G, self.D):
                reset_parameters(net)
                if self.init_fn is not None:
                    net.apply(self.init_fn)
        self.rng = make_generator(self.seed)
        self._fast = FastUpdates.of(self.G, self.D)
        n_params = sum(p.numel() for net in (self.G, self.D) for p in net.parameters())
        self._one_thread = self.device.type == "cpu" and n_params <= SINGLE_THREAD_MAX_PARAMS
        self.d_opt = self._make_optimizer(self.D, self.config.lr_d)
        self.g_opt = self._make_optimizer(self.G, self.config.lr_g)
        self.iteration = 0
        self.d_updates = 0
        self.g_updates = 0
        self.history = History()
        self.last: dict[str, float] = {}
        self._tensors = [t.detach() for net in (self.G, self.D) for t in net.state_dict().values()
                         if t.is_floating_point()]
        self._saved = [t.detach().clone() for t in self._tensors]

    def _make_optimizer(self, net: nn.Module, lr: float) -> torch.optim.Optimizer:
        if self.config.optimizer == "sgd":
            return torch.optim.SGD(net.parameters(), lr=lr)
        # Adam's fused kernel, called without torch's per-step Python bookkeeping (see LeanAdam).
        if self.device.type in ("cpu", "cuda") and all(p.dtype == torch.float32 for p in net.parameters()):
            return LeanAdam(net.parameters(), lr=lr, betas=self.config.betas)
        return torch.optim.Adam(net.parameters(), lr=lr, betas=self.config.betas)

    def _apply_settings(self) -> None:
        # Learning rates and betas are read from the config before every update.
        for opt, lr in ((self.d_opt, self.config.lr_d), (self.g_opt, self.config.lr_g)):
            for group in opt.param_groups:
                group["lr"] = lr
                if "betas" in group:
                    group["betas"] = self.config.betas

    def _save_weights(self) -> bool:
        # A NaN or inf in any tensor makes its norm, and so the sum of norms, non-finite.
        if not math.isfinite(torch.stack(torch._foreach_norm(self._tensors)).sum().item()):
            return False
        torch._foreach_copy_(self._saved, self._tensors)
        return True

    def _restore_weights(self) -> None:
        with torch.no_grad():
            torch._foreach_copy_(self._tensors, self._saved)

    def _diverged(self, err: Exception, where: str):
        self._restore_weights()
        c = self.config
        msg = (f"Training diverged in {where} at iteration {self.iteration + 1}: {err}. "
               f"Likely cause: a learning rate too high for this model (lr_d={c.lr_d:g}, "
               f"lr_g={c.lr_g:g}) or one player overpowering the other until D's outputs "
               f"saturate. The models keep their weights from the end of iteration "
               f"{self.iteration}; lower lr_d / lr_g, or call reset() to start again.")
        raise TrainingDiverged(msg) from None

    def set_data(self, data) -> None:
        """Train on ``data`` from the next update on, keeping the models and optimisers."""
        self._set_real(data)

    def _set_real(self, data) -> None:
        if callable(data) and not hasattr(data, "sample"):
            self.data, self._sample_real = None, data
            return
        self.data = as_distribution(data)
        self._sample_real = self.data.sample
        # A sample size that the networks cannot take would fail at the first update, in torch's words.
        dim = getattr(self.data, "dim", None)
        for net, key, what in ((self.G, "out_dim", "generator makes"), (self.D, "in_dim", "discriminator takes")):
            size = getattr(getattr(net, "config", None), key, None)
            if dim is not None and size is not None and size != dim:
                raise ValueError(f"data has {dim}-D samples, but the {what} {size}-D ones ({key}={size}); "
                                 f"build it with {key}={dim}")

    # -- sampling ---------------------------------------------------------------------
    def sample_real(self, n: int | None = None) -> torch.Tensor:
        """A minibatch of real data drawn with the trainer's own random generator."""
        n = self.config.batch_size if n is None else n
        return self._sample_real(n, generator=self.rng).to(self.device)

    def sample_z(self, n: int | None = None) -> torch.Tensor:
        """A minibatch of noise drawn with the trainer's own random generator."""
        n = self.config.batch_size if n is None else n
        return self.G.sample_z(n, generator=self.rng)

    # -- updates ----------------------------------------------------------------------
    def _use_fast(self) -> bool:
        return self.fast_path and self._fast is not None and isinstance(self.d_opt, (torch.optim.Adam, torch.optim.SGD))

    def _d_update(self) -> dict:
        """One update of D; returns d_step's keys. Subclasses may override it (and count it)."""
        c = self.config
        if self._use_fast():
            fast = self._fast
            x_real = self.sample_real()
            out = fast.d_grads(x_real, fast.draw_z(x_real.shape[0], self.rng), c.real_label)
            check_finite("the discriminator's loss", out["d_loss"])
            check_finite("the discriminator's gradient norm", out["d_grad_norm"])
            fast.apply("D", self.d_opt)
        else:
            out = d_step(self.D, self.G, self.d_opt, self.sample_real(), self.sample_z(), c.real_label)
        self.d_updates += 1
        return out

    def _g_update(self) -> dict:
        """One update of G; returns g_step's keys. Subclasses may override it (and count it)."""
        c = self.config
        if self._use_fast():
            fast = self._fast
            out = fast.g_grads(fast.draw_z(c.batch_size, self.rng), c.g_loss)
            check_finite("the generator's loss", out["g_loss"])
            check_finite("the generator's gradient norm", out["g_grad_norm"])
            fast.apply("G", self.g_opt)
        else:
            out = g_step(self.D, self.G, self.g_opt, self.sample_z(), c.g_loss)
        self.g_updates += 1
        return out

    @contextlib.contextmanager
    def _threads(self):
        # One CPU thread for a small model (see SINGLE_THREAD_MAX_PARAMS), restored after.
        n = torch.get_num_threads()
        if not self._one_thread or n == 1:
            yield
            return
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(n)

    def step_d(self) -> dict[str, float]:
        """One discriminator update only (the iteration count does not move)."""
        with self._threads():
            return self._step_d()

    def step_g(self) -> dict[str, float]:
        """One generator update only (the iteration count does not move)."""
        with self._threads():
            return self._step_g()

    def step(self) -> dict[str, float]:
        """One iteration of Algorithm 1: ``d_steps`` updates of D, then ``g_steps`` of G.

        Returns the iteration's record: losses and D outputs averaged over its updates.
        """
        with self._threads():
            return self._step()

    def _step_d(self) -> dict[str, float]:
        self._apply_settings()
        try:
            out = self._d_update()
        except TrainingDiverged as err:
            self._diverged(err, "a discriminator update")
        if not self._save_weights():
            self._diverged(TrainingDiverged("a weight became non-finite"), "a discriminator update")
        self.last.update(out)
        return out

    def _step_g(self) -> dict[str, float]:
        self._apply_settings()
        try:
            out = self._g_update()
        except TrainingDiverged as err:
            self._diverged(err, "a generator update")
        if not self._save_weights():
            self._diverged(TrainingDiverged("a weight became non-finite"), "a generator update")
        self.last.update(out)
        return out

    def _step(self) -> dict[str, float]:
        self._apply_settings()
        c = self.config
        try:
            d_rows = [self._d_update() for _ in range(c.d_steps)]
            g_rows = [self._g_update() for _ in range(c.g_steps)]
        except TrainingDiverged as err:
            self._diverged(err, "training")
        if not self._save_weights():
            self._diverged(TrainingDiverged("a weight became non-finite after an update"), "training")
        self.iteration += 1
        row = {"iteration": self.iteration}
        for key in ("d_loss", "d_real", "d_fake", "d_grad_norm"):
            row[key] = _mean(d_rows, key)
        for key in ("g_loss", "g_grad_norm"):
            row[key] = _mean(g_rows, key)
        self.history.append(row)
        self.last.update(row)
        return row

    def train(self, num_iterations: int, callback: Callable[[GANTrainer], None] | None = None,
              every: int = 100, progress: bool = False) -> History:
        """Run ``num_iterations`` iterations, calling ``callback(trainer)`` every ``every``.

        Args:
            num_iterations: iterations to run, at least 0.
            callback: called after every ``every``-th iteration and after the last.
            every: how often to call back, at least 1.
            progress: show a progress line (``utils.Progress``).
        """
        num_iterations = check_int("num_iterations", num_iterations, low=0)
        every = check_int("every", every, low=1)
        if callback is not None:
            check_callable("callback", callback, "a function callback(trainer)")
        bar = Progress(num_iterations, "training") if progress else None
        for i in range(num_iterations):
            self.step()
            if bar is not None:
                bar.update()
            if callback is not None and ((i + 1) % every == 0 or i + 1 == num_iterations):
                callback(self)
        if bar is not None:
            bar.close()
        return self.history


# --- lesson 01: fitting a model of y given x (a regression, or a model of p(y | x)) -------------

def fit_conditional(model: nn.Module, pairs, loss_fn: Callable, num_steps: int, lr: float = 3e-3,
                    batch_size: int = 256, seed: int = 0) -> list[float]:
    """Fit ``model`` to pairs (x, y) by Adam on ``loss_fn(model, x, y)``; returns the loss of every step.

    Each step draws a fresh minibatch from ``pairs.sample(batch_size, generator)``. The learning
    rate decays from ``lr`` to 0 along a cosine, which averages out the minibatch noise at the
    end, so the fit settles where the loss's expectation is smallest.

    Args:
        model: the network, e.g. ``models.MLPRegressor`` or ``models.MixtureDensityNetwork``.
        pairs: data with ``sample(n, generator) -> (x, y)``, e.g. ``distributions.two_branches()``.
        loss_fn: ``loss_fn(model, x, y)`` -> a scalar tensor to minimise.
        num_steps: Adam steps, at least 1.
        lr: the starting learning rate.
        batch_size: pairs per step.
        seed: seeds the minibatches.
    """
    check_module("model", model)
    if not callable(getattr(pairs, "sample", None)):
        raise ValueError(f"pairs must have a sample(n, generator) -> (x, y) method, got {describe(pairs)}")
    check_callable("loss_fn", loss_fn, "a function loss_fn(model, x, y) returning a scalar tensor")
    num_steps, batch_size = check_int("num_steps", num_steps, low=1), check_int("batch_size", batch_size, low=1)
    lr, seed = check_float("lr", lr, low=0.0, low_open=True), check_int("seed", seed, low=0)
    weight = next(model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(opt, num_steps)
    batches = make_generator(seed)
    small = weight.device.type == "cpu" and sum(p.numel() for p in model.parameters()) <= SINGLE_THREAD_MAX_PARAMS
    n_threads = torch.get_num_threads()
    losses = []
    try:
        if small:
            torch.set_num_threads(1)  # see SINGLE_THREAD_MAX_PARAMS
        for _ in range(num_steps):
            x, y = (t.to(weight.device) for t in pairs.sample(batch_size, generator=batches))
            loss = loss_fn(model, x, y)
            losses.append(check_finite(f"the loss at step {len(losses) + 1}", loss.item()))
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
    finally:
        torch.set_num_threads(n_threads)
    return losses
