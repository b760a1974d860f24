"""The ring and grid experiments of VEEGAN's and PacGAN's Table 1, as this course runs them.

A *protocol* fixes what a paper's table fixes for every method: the networks, the
optimiser, the batch, the noise and the number of iterations. A *method* changes only
its own part: PacGAN packs D's input, the unrolled GAN looks ahead through D's updates,
WGAN-GP swaps the classifier for a critic with its penalty and its optimiser settings.
``run_mode_experiment`` trains one (protocol, method, data set, seed) from scratch and
measures it as the papers do (``coverage``: 2,500 samples, 3 standard deviations).

Lessons 06 and 07 and ``benchmarks/bench_mode_collapse.py`` use these functions, so the
lesson's live runs and the benchmark's tables come from the same code.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .coverage import N_SAMPLES, generator_coverage, mode_coverage, mode_reverse_kl, require_modes
from .distributions import grid_2d, ring_2d
from .models import MLPDiscriminator, MLPGenerator
from .remedies import PacGANTrainer, UnrolledGANTrainer, WGANGPTrainer
from .train import GANTrainer
from .utils import check_choice, check_float, check_int

__all__ = ["DATA_SETS", "METHODS", "PACKING", "PROTOCOLS", "BatchNormGenerator", "MaxoutDiscriminator", "Protocol",
           "make_mode_trainer", "maxout", "method_label", "run_mode_experiment"]

DATA_SETS = {"ring": ring_2d, "grid": grid_2d}
METHODS = ("gan", "pacgan", "unrolled", "wgan-gp")
# PacGAN's packing degree per data set: the rows of PacGAN's Table 1 we compare with.
PACKING = {"ring": 2, "grid": 4}
UNROLL_STEPS = 5            # Metz et al.'s ring demonstration; VEEGAN's unrolled baseline too
WGAN_GP = {"d_steps": 5, "betas": (0.5, 0.9), "gp_weight": 0.1}  # Gulrajani et al.'s toy code


@dataclass(frozen=True)
class Protocol:
    """What a paper's table fixes for every method.

    Attributes:
        name: a short name ("veegan").
        source: where the settings come from.
        g_hidden, d_hidden: hidden widths of G and D (ReLU).
        latent_dim: size of the Gaussian noise z.
        batch_size: samples per update (packs, for PacGAN).
        lr, betas: Adam's learning rate and betas, for both players.
        paper_iterations: the iterations the paper trained for.
        networks: "relu" (plain ReLU MLPs) or "bn-maxout" (G with batch norm, D with maxout
            units, as PacGAN's code builds them).
        maxout_pieces: the pieces of each maxout unit (bn-maxout only).
        init_std: weights drawn from N(0, init_std^2) and biases 0 (None: torch's default).
        train_size: the number of fixed training points drawn once (0: a fresh draw from the
            mixture for every minibatch).
    """

    name: str
    source: str
    g_hidden: tuple
    d_hidden: tuple
    latent_dim: int
    batch_size: int
    lr: float
    betas: tuple
    paper_iterations: int
    networks: str = "relu"
    maxout_pieces: int = 0
    init_std: float | None = None
    train_size: int = 0


def maxout(h: torch.Tensor, pieces: int) -> torch.Tensor:
    r"""Maxout (Goodfellow et al. 2013): each unit is the largest of its ``pieces`` linear pieces.

    .. math:: \mathrm{maxout}(h)_j = \max_{k = 1}^{p} h_{j p + k}

    Args:
        h: (N, units * pieces) pre-activations, the pieces of each unit adjacent.
        pieces: p, >= 1.
    Returns (N, units).
    """
    pieces = check_int("pieces", pieces, low=1)
    if h.shape[-1] % pieces:
        raise ValueError(f"h's last size {h.shape[-1]} must be a multiple of pieces = {pieces}")
    return h.unflatten(-1, (h.shape[-1] // pieces, pieces)).amax(-1)


class MaxoutDiscriminator(nn.Module):
    """D of PacGAN's 2-D code: maxout layers of ``hidden`` units, then a linear logit."""

    def __init__(self, in_dim: int = 2, hidden_dims=(200, 200, 200), pieces: int = 5):
        super().__init__()
        self.in_dim = check_int("in_dim", in_dim, low=1)
        self.pieces = check_int("pieces", pieces, low=1)
        dims = [self.in_dim, *[check_int("hidden_dims", h, low=1) for h in hidden_dims]]
        self.layers = nn.ModuleList(nn.Linear(a, b * self.pieces) for a, b in zip(dims[:-1], dims[1:]))
        self.out = nn.Linear(dims[-1], 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.flatten(1)
        for layer in self.layers:
            h = maxout(layer(h), self.pieces)
        return self.out(h).squeeze(-1)  # (N,) logits


class BatchNormGenerator(nn.Module):
    """G of PacGAN's 2-D code: linear layers without bias, each followed by batch norm and
    ReLU, then a linear output; the noise is standard Gaussian."""

    def __init__(self, latent_dim: int = 2, out_dim: int = 2, hidden_dims=(400, 400, 400, 400),
                 momentum: float = 0.05):
        super().__init__()
        self.latent_dim = check_int("latent_dim", latent_dim, low=1)
        self.out_dim = check_int("out_dim", out_dim, low=1)
        dims = [self.latent_dim, *[check_int("hidden_dims", h, low=1) for h in hidden_dims]]
        blocks = []
        for a, b in zip(dims[:-1], dims[1:]):
            blocks += [nn.Linear(a, b, bias=False), nn.BatchNorm1d(b, momentum=momentum), nn.ReLU()]
        self.net = nn.Sequential(*blocks, nn.Linear(dims[-1], self.out_dim))

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        n = check_int("n", n, low=1)
        return torch.randn(n, self.latent_dim, generator=generator).to(self.net[0].weight.device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        return self(self.sample_z(n, generator))


def _normal_init(std: float):
    def init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear):
            nn.init.normal_(module.weight, 0.0, std)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
    return init


PROTOCOLS = {
    "veegan": Protocol(
        name="veegan",
        source=("VEEGAN's 2-D notebooks (Srivastava et al. 2017): G with two hidden layers of 128 ReLU "
                "units, D with one hidden layer of 128, Adam lr 1e-3 with beta1 0.5, batch 500, "
                "100 epochs of 1,000 iterations; here with 2-D noise (VEEGAN's notebook draws 254 + 1 "
                "dimensions) and alternating updates (it updates both players in one step)"),
        g_hidden=(128, 128), d_hidden=(128,), latent_dim=2, batch_size=500, lr=1e-3, betas=(0.5, 0.999),
        paper_iterations=100_000),
    "pacgan": Protocol(
        name="pacgan",
        source=("PacGAN's 2-D code (Lin et al. 2018, synthetic_data_experiments): G with four hidden layers "
                "of 400 units, each with batch norm and ReLU, D with three maxout layers of 200 units of 5 "
                "pieces, weights from N(0, 0.02^2), Adam lr 1e-4 with beta1 0.8, batch 100, 100,000 fixed "
                "training points, 400 epochs (400,000 iterations), 2-D Gaussian noise; here with "
                "alternating updates (it updates both players in one step) and minibatches drawn from the "
                "fixed points with replacement (its stream walks through them epoch by epoch)"),
        g_hidden=(400, 400, 400, 400), d_hidden=(200, 200, 200), latent_dim=2, batch_size=100, lr=1e-4,
        betas=(0.8, 0.999), paper_iterations=400_000, networks="bn-maxout", maxout_pieces=5, init_std=0.02,
        train_size=100_000),
}


def method_label(method: str, dist_name: str) -> str:
    """The row name of a method: "GAN", "PacGAN2", "Unrolled GAN (K = 5)", "WGAN-GP"."""
    check_choice("method", method, METHODS)
    return {"gan": "GAN", "pacgan": f"PacGAN{PACKING.get(dist_name, 2)}",
            "unrolled": f"Unrolled GAN (K = {UNROLL_STEPS})", "wgan-gp": "WGAN-GP"}[method]


def make_mode_trainer(method: str, dist_name: str, protocol: str = "veegan", seed: int = 0,
                      device="cpu") -> GANTrainer:
    """A fresh trainer for one method under one protocol on the ring or the grid.

    Every method gets the protocol's networks, batch and learning rate. Then:
    GAN: the non-saturating loss, one D update per G update (Algorithm 1 with k = 1);
    PacGAN: D's input is a pack of m = ``PACKING[dist_name]`` samples (Lin et al. 2018);
    unrolled GAN: G's gradient goes through K = 5 look-ahead updates of D, with the
    minimax loss (Metz et al. 2017); WGAN-GP: a critic, 5 critic updates per G update,
    Adam betas (0.5, 0.9), penalty weight 0.1 (Gulrajani et al. 2017, their toy code).

    Args:
        method: one of METHODS.
        dist_name: "ring" or "grid".
        protocol: a key of PROTOCOLS.
        seed: seeds the weights and every minibatch.
    """
    check_choice("method", method, METHODS)
    check_choice("dist_name", dist_name, tuple(DATA_SETS))
    check_choice("protocol", protocol, tuple(PROTOCOLS))
    seed = check_int("seed", seed, low=0)
    p = PROTOCOLS[protocol]
    dist = DATA_SETS[dist_name]()
    m = PACKING[dist_name] if method == "pacgan" else 1
    if p.networks == "bn-maxout":
        G = BatchNormGenerator(latent_dim=p.latent_dim, out_dim=2, hidden_dims=p.g_hidden)
        D = MaxoutDiscriminator(in_dim=2 * m, hidden_dims=p.d_hidden, pieces=p.maxout_pieces)
    else:
        G = MLPGenerator(latent_dim=p.latent_dim, out_dim=2, hidden_dims=p.g_hidden, noise="gaussian")
        D = MLPDiscriminator(in_dim=2 * m, hidden_dims=p.d_hidden, activation="relu")
    if p.train_size:  # a fixed training set, drawn once per seed
        dist = dist.sample(p.train_size, generator=torch.Generator().manual_seed(20_000 + seed))
    settings = {"batch_size": p.batch_size, "lr_d": p.lr, "lr_g": p.lr, "betas": p.betas,
                "init_fn": None if p.init_std is None else _normal_init(p.init_std)}
    if method == "pacgan":
        return PacGANTrainer(G, D, dist, m=m, seed=seed, device=device, **settings)
    if method == "unrolled":
        return UnrolledGANTrainer(G, D, dist, unroll_steps=UNROLL_STEPS, seed=seed, device=device,
                                  g_loss="minimax", **settings)
    if method == "wgan-gp":
        settings.update(d_steps=WGAN_GP["d_steps"], betas=WGAN_GP["betas"])
        return WGANGPTrainer(G, D, dist, gp_weight=WGAN_GP["gp_weight"], seed=seed, device=device, **settings)
    return GANTrainer(G, D, dist, seed=seed, device=device, **settings)


def run_mode_experiment(method: str, dist_name: str, num_iterations: int, protocol: str = "veegan",
                        seed: int = 0, eval_every: int = 0, keep_samples: int = 500, decay_from: float = 1.0,
                        final_lr_fraction: float = 0.01, device="cpu") -> dict:
    """Train one method from scratch and measure it as VEEGAN and PacGAN do, at the end.

    Args:
        method, dist_name, protocol, seed: see ``make_mode_trainer``.
        num_iterations: iterations (G updates) to train, >= 1.
        eval_every: also measure every this many iterations (0: only at the end).
        keep_samples: how many of the 2,500 final samples the result keeps (for plots).
        decay_from: after this fraction of the iterations both learning rates fall linearly
            to ``final_lr_fraction`` of their value (1.0, the default: constant rates, as the
            papers train; a departure from them otherwise).
        final_lr_fraction: the last learning rate over the first, in (0, 1].
    Returns a dict: dist, method, label, protocol, seed, iterations, seconds, n_captured,
    n_modes, high_quality, reverse_kl (None when no sample is high quality), captured,
    counts, trace (a list of [iteration, n_captured, high_quality]), samples (a list of
    [x, y]) and the trainer.
    """
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    eval_every = check_int("eval_every", eval_every, low=0)
    keep_samples = check_int("keep_samples", keep_samples, low=0, high=N_SAMPLES)
    decay_from = check_float("decay_from", decay_from, low=0.0, high=1.0)
    final_lr_fraction = check_float("final_lr_fraction", final_lr_fraction, low=0.0, high=1.0, low_open=True)
    trainer = make_mode_trainer(method, dist_name, protocol, seed, device)
    lr_d0, lr_g0 = trainer.config.lr_d, trainer.config.lr_g
    start = int(decay_from * num_iterations)
    dist = DATA_SETS[dist_name]()
    require_modes(dist)
    eval_rng = torch.Generator().manual_seed(10_000 + seed)  # the trace's and the final samples' noise
    trace = []
    t0 = time.perf_counter()
    for i in range(num_iterations):
        if i >= start:  # linear decay over the last iterations (none when decay_from = 1)
            scale = 1 - (1 - final_lr_fraction) * (i - start + 1) / (num_iterations - start)
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
    return {"dist": dist_name, "method": method, "label": method_label(method, dist_name), "protocol": protocol,
            "seed": seed, "iterations": num_iterations, "decay_from": decay_from,
            "final_lr_fraction": final_lr_fraction, "seconds": seconds, "n_captured": cov.n_captured,
            "n_modes": cov.n_modes, "high_quality": cov.high_quality,
            "reverse_kl": mode_reverse_kl(cov) if cov.counts.sum() else None,
            "captured": cov.captured.tolist(), "counts": cov.counts.tolist(), "trace": trace,
            "samples": np.round(samples[:keep_samples].cpu().numpy(), 4).tolist(), "trainer": trainer}
