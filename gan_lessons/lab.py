r"""The training lab: train a small GAN live in the notebook and change how it trains.

Three layers, as in the house style:

* ``compute_*``: pure functions of the models and the data (densities on a grid, D and
  D* = p_data / (p_data + p_g), the JSD estimate, the z -> x mapping, the warnings);
* ``draw_*``: move the artists of a figure built once by ``build_*`` (``set_data``,
  ``set_offsets``, ``set_segments``); no new figure per frame;
* ``TrainingLab`` (and ``make_lab``): the controls, the buttons, the readout, and Play,
  an asyncio task that trains in short chunks and yields to the kernel between them.

Every setting is written to the trainer's ``TrainConfig`` and read before the next update,
so a change takes effect from the next iteration without resetting the models.
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import math
import time

import ipywidgets as W
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from . import coverage, distributions, plots, theory
from .distributions import GaussianMixture, as_distribution
from .models import ACTIVATIONS, NOISE, MLPDiscriminator, MLPGenerator
from .plots import COLORS
from .train import GANTrainer, TrainConfig, TrainingDiverged
from .utils import check_choice, check_float, check_int

__all__ = [
    "DEFAULT_TARGET",
    "LIMITS",
    "MIN_G_UPDATES_PER_MODE",
    "TARGETS",
    "TrainingLab",
    "build_lab_figure",
    "build_snapshot",
    "compute_binned_kde_1d",
    "compute_frame",
    "compute_frame_1d",
    "compute_frame_2d",
    "compute_kde_1d",
    "compute_warnings",
    "default_models",
    "draw_lab_figure",
    "draw_snapshot",
    "make_lab",
    "make_target",
    "min_g_updates_to_judge_coverage",
    "plot_snapshot",
    "render_figure",
]

# The targets offered by the lab's menu (any array of points may be passed in as well).
TARGETS = {
    "1-D Gaussian N(2, 0.5²)": lambda: distributions.gaussian_1d(2.0, 0.5),
    "1-D two modes": lambda: distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5], name="two modes"),
    "1-D three modes": lambda: distributions.mixture_1d([-4.0, 0.0, 4.0], [0.5, 0.5, 0.5], name="three modes"),
    "2-D ring of 8": lambda: distributions.ring_2d(),
    "2-D grid of 25": lambda: distributions.grid_2d(),
}
DEFAULT_TARGET = "1-D Gaussian N(2, 0.5²)"
CUSTOM = "your points"
# Ranges of the lab's controls; values set from code outside them raise a ValueError.
LIMITS = {"d_steps": (1, 10), "g_steps": (1, 10), "lr_d": (1e-5, 1.0), "lr_g": (1e-5, 1.0),
          "batch_size": (8, 2048)}
BATCH_SIZES = (8, 16, 32, 64, 128, 256, 512, 1024, 2048)
N_FIXED = 2500  # fixed noise and real batches: the literature's sample count for mode coverage
# Mode coverage is judged only after this many updates of G per mode of the target: before that G has
# not had time to reach the modes, and at iteration 0 it covers almost none. Measured with the lab's
# defaults (seeds 0-2), G first covers every mode of the 1-D mixtures after 200-300 updates and of the
# ring of 8 after 600-2,500; so two modes wait 500 updates, three 750, the ring 2,000, the grid 6,250.
MIN_G_UPDATES_PER_MODE = 250


# --- models and targets --------------------------------------------------------------------------

def default_models(dim: int = 1, seed: int = 0, noise: str | None = None,
                   activation: str = "relu") -> tuple[MLPGenerator, MLPDiscriminator]:
    """The lab's G and D: 2x32 MLPs and z ~ U(-1, 1) of size 1 in 1-D (as Figure 1 of Goodfellow
    et al. 2014); 2x64 MLPs and z ~ N(0, I) of size 2 in 2-D. D's hidden units are leaky ReLUs.

    Args:
        dim: 1 or 2, the dimension of the data.
        seed: seeds the initial weights (the trainer re-draws them from its own seed on reset).
        noise: "uniform" or "gaussian" to choose p_z instead of the default for ``dim``.
        activation: G's hidden activation, one of ``models.ACTIVATIONS`` (lesson 05's Figure 1
            uses "leaky_relu" with Gaussian noise, so that G can be the straight line 2 + 0.5 z).
    """
    dim = check_int("dim", dim, low=1, high=2)
    noise = ("uniform" if dim == 1 else "gaussian") if noise is None else check_choice("noise", noise, NOISE)
    activation = check_choice("activation", activation, ACTIVATIONS)
    width = 32 if dim == 1 else 64
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(check_int("seed", seed, low=0))
        G = MLPGenerator(latent_dim=dim, hidden_dims=(width, width), out_dim=dim, noise=noise, activation=activation)
        D = MLPDiscriminator(in_dim=dim, hidden_dims=(width, width))
    return G, D


def make_target(target):
    """The lab's data: a name from TARGETS, a distribution, or an array of 1-D or 2-D points."""
    if isinstance(target, str):
        if target not in TARGETS:
            raise ValueError(f"target must be one of {', '.join(map(repr, TARGETS))}, a distribution, "
                             f"or an array of shape (n,), (n, 1) or (n, 2); got {target!r}")
        return TARGETS[target]()
    dist = as_distribution(target)
    if dist.dim not in (1, 2):
        raise ValueError(f"target must be 1-D or 2-D data, got dimension {dist.dim}")
    return dist


# --- compute: pure functions ---------------------------------------------------------------------

def compute_kde_1d(samples, x, bandwidth: float | None = None) -> np.ndarray:
    r"""A Gaussian kernel density estimate of 1-D samples, evaluated at ``x``.

    .. math:: \hat p(x) = \frac1n \sum_{i=1}^n \frac{1}{h\sqrt{2\pi}}
              \exp\Big(-\frac{(x - x_i)^2}{2h^2}\Big),\qquad h = \hat\sigma\, n^{-1/5}

    (Scott's rule, Scott 1992, eq. 6.42, as ``scipy.stats.gaussian_kde``). It turns the
    generator's samples into a density p_g that can be compared with p_data.

    Args:
        samples: (n,) or (n, 1) samples, n >= 2.
        x: points at which to evaluate the estimate.
        bandwidth: h > 0; default Scott's rule (with a floor of 1e-3 for identical samples).
    """
    s = np.asarray(samples.detach().cpu() if isinstance(samples, torch.Tensor) else samples,
                   dtype=np.float64).reshape(-1)
    if len(s) < 2 or not np.all(np.isfinite(s)):
        raise ValueError(f"samples must hold at least 2 finite numbers, got {len(s)} values")
    if bandwidth is None:
        bandwidth = max(float(s.std(ddof=1)) * len(s) ** (-0.2), 1e-3)
    h = check_float("bandwidth", bandwidth, low=0.0, low_open=True)
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    u = (x[:, None] - s[None, :]) / h
    return np.exp(-0.5 * u * u).sum(axis=1) / (len(s) * h * math.sqrt(2 * math.pi))


def compute_binned_kde_1d(samples, x, bandwidth: float | None = None) -> np.ndarray:
    r"""The Gaussian KDE of ``compute_kde_1d`` on an evenly spaced grid ``x``, by linear binning.

    Each sample's unit mass is split between its two neighbouring points of the grid
    extended by 5h on both sides (linear binning), then the binned masses are convolved with
    the kernel sampled on the grid (Wand and Jones 1995, Kernel Smoothing, appendix D). Cost
    O(n + len(x) h / dx) instead of O(n len(x)); the difference from the exact estimate is of
    order dx^2 / h^2. Samples more than 5h beyond the grid add no mass (their kernels reach
    it at under 4e-6 of their peak) but keep their share of the normalisation. When 5h is
    wider than the grid itself the exact ``compute_kde_1d`` is cheaper and is used instead.

    Args:
        samples: (n,) or (n, 1) samples, n >= 2.
        x: an evenly spaced, increasing grid of at least 2 points.
        bandwidth: h > 0; default Scott's rule, as ``compute_kde_1d``.
    """
    s = np.asarray(samples.detach().cpu() if isinstance(samples, torch.Tensor) else samples,
                   dtype=np.float64).reshape(-1)
    if len(s) < 2 or not np.all(np.isfinite(s)):
        raise ValueError(f"samples must hold at least 2 finite numbers, got {len(s)} values")
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    dx = (x[-1] - x[0]) / (len(x) - 1) if len(x) > 1 else 0.0
    if len(x) < 2 or dx <= 0 or not np.allclose(np.diff(x), dx, rtol=1e-6, atol=0):
        raise ValueError("x must be an evenly spaced, increasing grid of at least 2 points")
    if bandwidth is None:
        bandwidth = max(float(s.std(ddof=1)) * len(s) ** (-0.2), 1e-3)
    h = check_float("bandwidth", bandwidth, low=0.0, low_open=True)
    reach = int(np.ceil(5 * h / dx))  # the kernel's half-width, in grid steps
    if reach > len(x):
        return compute_kde_1d(s, x, h)
    n_ext = len(x) + 2 * reach      # the grid extended by ``reach`` points on each side
    pos = (s - x[0]) / dx + reach
    inside = (pos >= 0) & (pos <= n_ext - 1)
    left = np.minimum(np.floor(pos[inside]).astype(int), n_ext - 2)
    frac = pos[inside] - left
    mass = np.bincount(left, 1 - frac, n_ext) + np.bincount(left + 1, frac, n_ext)
    u = np.arange(-reach, reach + 1) * dx / h
    kernel = np.exp(-0.5 * u * u)
    kernel /= kernel.sum() * dx  # the sampled kernel integrates to exactly 1 on the grid
    return np.convolve(mass, kernel)[2 * reach:2 * reach + len(x)] / len(s)


@torch.no_grad()
def _forward(net, x) -> np.ndarray:
    p = next(net.parameters())
    return net(torch.as_tensor(x, dtype=p.dtype, device=p.device)).cpu().double().numpy()


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + e^{-a}), without overflow


def compute_frame_1d(G, D, dist, x, z_fixed, z_line, x_real, p_data=None) -> dict:
    """Everything the 1-D view shows, for the current weights (the models are not changed).

    Args:
        G, D: the generator and the discriminator (D returns logits).
        dist: the target; its exact density is used when it has one.
        x: (n,) the plotting grid, evenly spaced.
        z_fixed: (N, 1) fixed noise, for p_g and mode coverage.
        z_line: (k, 1) noise values whose images x = G(z) are drawn as in Figure 1.
        x_real: (N, 1) fixed real samples, for D's accuracy.
        p_data: density on ``x`` (default: ``dist.density(x)``).
    Returns a dict: x, p_data, p_g, d (D(x)), d_star, jsd, x_fake, z_line, x_line,
    d_accuracy, outside (fraction of G's samples off the grid), coverage (or None).
    """
    x = np.asarray(x, dtype=np.float64)
    dx = float(x[1] - x[0])
    p_data = dist.density(x) if p_data is None else np.asarray(p_data, dtype=np.float64)
    x_fake = _forward(G, z_fixed).reshape(-1)
    if not np.all(np.isfinite(x_fake)):
        raise ValueError("the generator's samples are not finite; reset the lab")
    p_g = compute_binned_kde_1d(x_fake, x)
    d = _sigmoid(_forward(D, x[:, None]))
    real_ok = _sigmoid(_forward(D, x_real)) > 0.5
    fake_ok = _sigmoid(_forward(D, x_fake[:, None])) < 0.5
    return {"x": x, "p_data": p_data, "p_g": p_g, "d": d,
            "d_star": theory.optimal_discriminator(p_data, p_g),
            "jsd": theory.js_divergence_on_grid(p_data, p_g, dx), "x_fake": x_fake,
            "z_line": np.asarray(z_line, dtype=np.float64).reshape(-1),
            "x_line": _forward(G, z_line).reshape(-1),
            "d_accuracy": 0.5 * (real_ok.mean() + fake_ok.mean()),
            "outside": float(np.mean((x_fake < x[0]) | (x_fake > x[-1]))),
            "coverage": coverage.mode_coverage(x_fake, dist) if isinstance(dist, GaussianMixture) else None}


def compute_frame(trainer, seed: int = 0, n: int = 400) -> dict:
    """``compute_frame_1d`` (or ``_2d``) for a trainer, with the lab's grid and fixed batches.

    Args:
        trainer: a ``GANTrainer`` on 1-D or 2-D data.
        seed: seeds the fixed noise and real batches (the same seed gives the same batches).
        n: points of the 1-D grid (or per side of the 2-D mesh, capped at 100).
    """
    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    dist = trainer.data
    z_fixed = trainer.G.sample_z(N_FIXED, generator=gen)
    x_real = dist.sample(N_FIXED, generator=gen)
    with _one_thread():
        if dist.dim == 1:
            x = np.linspace(*_view_range(dist), check_int("n", n, low=2))
            p_data = dist.density(x) if isinstance(dist, GaussianMixture) else \
                compute_kde_1d(dist.points[:5000], x)
            return compute_frame_1d(trainer.G, trainer.D, dist, x, z_fixed, _z_line(trainer.G), x_real, p_data)
        lo, hi = _view_box(dist)
        side = min(n, 100)
        mesh = np.meshgrid(np.linspace(lo[0], hi[0], side), np.linspace(lo[1], hi[1], side))
        return compute_frame_2d(trainer.G, trainer.D, dist, mesh, z_fixed, x_real)


def compute_frame_2d(G, D, dist, mesh, z_fixed, x_real) -> dict:
    """Everything the 2-D view shows: G's samples, D(x) on a mesh, D's accuracy, mode coverage.

    Args:
        G, D: the generator and the discriminator (D returns logits).
        dist: the target.
        mesh: (gx, gy) arrays from ``np.meshgrid``, where D's decision surface is drawn.
        z_fixed: (N, 2) fixed noise; x_real: (N, 2) fixed real samples.
    """
    gx, gy = mesh
    x_fake = _forward(G, z_fixed)
    if not np.all(np.isfinite(x_fake)):
        raise ValueError("the generator's samples are not finite; reset the lab")
    d_mesh = _sigmoid(_forward(D, np.stack([gx.ravel(), gy.ravel()], 1))).reshape(gx.shape)
    real_ok = _sigmoid(_forward(D, x_real)) > 0.5
    fake_ok = _sigmoid(_forward(D, x_fake)) < 0.5
    return {"x_fake": x_fake, "d_mesh": d_mesh, "d_accuracy": 0.5 * (real_ok.mean() + fake_ok.mean()),
            "jsd": float("nan"),
            "coverage": coverage.mode_coverage(x_fake, dist) if isinstance(dist, GaussianMixture) else None}


def min_g_updates_to_judge_coverage(n_modes: int) -> int:
    """How many updates of G the lab waits before it warns of mode collapse: ``MIN_G_UPDATES_PER_MODE``
    per mode of the target.

    Args:
        n_modes: the target's number of modes, >= 1.
    """
    return MIN_G_UPDATES_PER_MODE * check_int("n_modes", n_modes, low=1)


def compute_warnings(d_accuracy: float, g_grad_norm: float, coverage=None, g_loss_recent=(),
                     diverged: str | None = None, g_updates: int | None = None) -> list[str]:
    """Plain-language warnings about the state of training (an empty list when all looks well).

    Args:
        d_accuracy: D's accuracy on fixed real and fake samples, in [0, 1].
        g_grad_norm: the norm of G's latest gradient.
        coverage: a ``coverage.ModeCoverage`` of G's samples, or None.
        g_loss_recent: G's recent losses, oldest first, to spot a divergence.
        diverged: the message of a ``TrainingDiverged`` that stopped training, if any.
        g_updates: how many updates G has had; mode collapse is not judged before
            ``min_g_updates_to_judge_coverage`` (None: judge now, for a finished run).
    """
    out = []
    if diverged:
        out.append(f"Training diverged and stopped: {diverged}")
    if d_accuracy >= 0.99 and g_grad_norm < 1e-2:
        out.append(f"D wins outright: it tells real from fake {100 * d_accuracy:.0f} % of the time and G's "
                   f"gradient has nearly vanished (norm {g_grad_norm:.1e}), so G has almost nothing to "
                   f"learn from. Try the non-saturating loss, fewer D steps or a lower D learning rate.")
    elif d_accuracy >= 0.95:
        out.append(f"D is winning: {100 * d_accuracy:.0f} % accuracy on real against fake samples.")
    judged = coverage is not None and (g_updates is None or
                                       g_updates >= min_g_updates_to_judge_coverage(coverage.n_modes))
    if judged and coverage.n_modes > 1 and coverage.n_captured < coverage.n_modes:
        out.append(f"Mode collapse: G covers {coverage.n_captured} of {coverage.n_modes} modes "
                   f"(a mode counts once a sample lies within 3 std of it).")
    g = np.asarray(g_loss_recent, dtype=float)
    if len(g) >= 50 and np.isfinite(g).all():
        half = len(g) // 2
        if g[half:].mean() > 5.0 and g[half:].mean() > 1.5 * g[:half].mean():
            out.append(f"G's loss is climbing (mean {g[half:].mean():.1f}, was {g[:half].mean():.1f}): "
                       "training may be diverging. Lower the learning rates.")
    return out


# --- draw: a figure built once, artists moved ----------------------------------------------------

def build_snapshot(ax, x, p_data, label_data: str = "$p_{data}$", optimal: bool = True, top=None) -> dict:
    """Set up a Figure-1 panel on ``ax``: p_data, p_g, D, D* and the mapping z -> x beneath.

    Returns the artists for ``draw_snapshot``. The z line is drawn at height -0.3 (in units
    of ``top``), the x line at -0.05, as in Goodfellow et al. 2014, Figure 1.
    """
    top = float(max(1.0, 1.1 * np.max(p_data))) if top is None else top
    art = {"top": top}
    ax.plot(x, p_data, color="black", ls=":", lw=2, label=label_data)
    art["p_g"], = ax.plot(x, np.zeros_like(x), color=COLORS["generator"], lw=2, label="$p_g$")
    art["d"], = ax.plot(x, np.full_like(x, 0.5), color=COLORS["data"], ls="--", lw=2, label="$D(x)$")
    if optimal:
        art["d_star"], = ax.plot(x, np.full_like(x, 0.5), color=COLORS["optimal"], lw=1.2,
                                 label="$D^*(x)$")
    z_y, x_y = -0.3 * top, -0.05 * top
    ax.axhline(z_y, color="0.3", lw=1)
    ax.axhline(x_y, color="0.3", lw=1)
    left_edge = blended_transform_factory(ax.transAxes, ax.transData)  # x in axes units, y in data
    ax.text(0.005, z_y - 0.05 * top, "z", va="top", fontsize=9, transform=left_edge)
    ax.text(0.005, x_y + 0.01 * top, "x", va="bottom", fontsize=9, transform=left_edge)
    art["mapping"] = LineCollection([], colors="0.35", lw=0.8)
    ax.add_collection(art["mapping"])
    art["heights"] = (z_y, x_y)
    ax.set_xlim(x[0], x[-1])
    ax.set_ylim(-0.4 * top, 1.05 * top)
    ax.set_xlabel("x")
    ax.legend(loc="upper left", ncol=2, fontsize="x-small")
    return art


def draw_snapshot(art: dict, frame: dict) -> None:
    """Move the artists of ``build_snapshot`` to ``frame`` (from ``compute_frame_1d``)."""
    art["p_g"].set_ydata(frame["p_g"])
    art["d"].set_ydata(frame["d"])
    if "d_star" in art:
        # D* is any value where neither density has mass; leave it undrawn there.
        total = frame["p_data"] + frame["p_g"]
        art["d_star"].set_ydata(np.where(total > 1e-3 * total.max(), frame["d_star"], np.nan))
    x = frame["x"]
    lo, hi = x[0], x[-1]
    z_y, x_y = art["heights"]
    z = frame["z_line"]
    # z is drawn on its own scale: its range stretched over the middle 60 % of the x axis.
    z_span = max(z.max() - z.min(), 1e-9)
    z_pos = lo + (0.2 + 0.6 * (z - z.min()) / z_span) * (hi - lo)
    x_pos = np.clip(frame["x_line"], lo, hi)
    art["mapping"].set_segments(np.stack([np.stack([z_pos, np.full_like(z, z_y)], 1),
                                          np.stack([x_pos, np.full_like(z, x_y)], 1)], 1))


def plot_snapshot(frame: dict, ax=None, title: str | None = None, optimal: bool = False, top=None):
    """One panel of Figure 1 (Goodfellow et al. 2014) from a ``compute_frame_1d`` frame; returns the figure.

    Args:
        frame: from ``compute_frame_1d`` (or ``compute_frame``).
        ax: the axes to draw on (default: a new figure).
        title: the panel's title.
        optimal: also draw D*(x).
        top: the height of the density axis; default 1.1 times the highest of p_data, p_g and 1,
            so no curve is cut off (give panels that share an axis the same value).
    """
    if ax is None:
        fig = Figure(figsize=(4.0, 3.2), dpi=80, layout="constrained")
        ax = fig.subplots()
    if top is None:
        top = 1.1 * max(1.0, float(np.max(frame["p_data"])), float(np.max(frame["p_g"])))
    else:
        top = check_float("top", top, low=0.0, low_open=True)
    art = build_snapshot(ax, frame["x"], frame["p_data"], optimal=optimal, top=top)
    draw_snapshot(art, frame)
    if title:
        ax.set_title(title)
    return ax.figure


def build_lab_figure(dist, x=None, p_data=None, mesh=None):
    """The lab's figure and its moving artists: the data view, the losses, D's outputs and the JSD.

    1-D: a Figure-1 panel with D*; 2-D: p_data's log-density, D's decision surface and G's
    samples. Returns (figure, artists).
    """
    fig = Figure(figsize=(10.0, 4.2), dpi=80, layout="constrained")
    grid = fig.add_gridspec(2, 2, width_ratios=(1.5, 1.0))
    ax_main = fig.add_subplot(grid[:, 0])
    ax_loss = fig.add_subplot(grid[0, 1])
    ax_out = fig.add_subplot(grid[1, 1], sharex=ax_loss)
    if dist.dim == 1:
        label = "$p_{data}$" if isinstance(dist, GaussianMixture) else "$p_{data}$ (KDE of your points)"
        art = build_snapshot(ax_main, x, p_data, label_data=label)
        ax_main.set_ylim(-0.4 * art["top"], 1.3 * art["top"])  # a band above D = 1 for the legend
        ax_main.legend(loc="upper center", ncol=4, fontsize="x-small")
        ax_main.set_title("data, generator and discriminator")
    else:
        art = _build_2d(ax_main, dist, mesh)
    art["axes"] = (ax_main, ax_loss, ax_out)
    art["d_loss"], = ax_loss.plot([], [], color=COLORS["d_loss"], lw=1, label="$L_D$")
    art["g_loss"], = ax_loss.plot([], [], color=COLORS["g_loss"], lw=1, label="$L_G$")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="upper right", fontsize="x-small")
    art["d_real"], = ax_out.plot([], [], color=COLORS["data"], lw=1, label="mean $D(x)$")
    art["d_fake"], = ax_out.plot([], [], color=COLORS["generator"], lw=1, label="mean $D(G(z))$")
    art["jsd"], = ax_out.plot([], [], color="black", lw=1.5, marker=".", ms=3,
                              label="JSD estimate" if dist.dim == 1 else "modes covered (fraction)")
    ax_out.axhline(0.5, color=COLORS["optimal"], ls="--", lw=1)
    ax_out.set_ylim(-0.02, 1.3)  # room above 1 for the legend
    ax_out.set_ylabel("D's outputs; JSD (nats)" if dist.dim == 1 else "D's outputs; modes")
    ax_out.set_xlabel("iteration")
    ax_out.legend(loc="upper right", fontsize="x-small", ncol=3)
    return fig, art


def _build_2d(ax, dist, mesh) -> dict:
    gx, gy = mesh
    extent = (gx.min(), gx.max(), gy.min(), gy.max())
    if isinstance(dist, GaussianMixture):
        logp = dist.log_prob(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
        ax.contour(gx, gy, logp, levels=[logp.max() - 6.0], colors=COLORS["data"], linewidths=1)
    else:
        pts = dist.points.numpy()[:2000]
        ax.scatter(pts[:, 0], pts[:, 1], s=3, color=COLORS["data"], alpha=0.4, label="your points")
    art = {"d_mesh": ax.imshow(np.full(gx.shape, 0.5), extent=extent, origin="lower", cmap="RdBu",
                               vmin=0, vmax=1, alpha=0.45, aspect="auto"),
           "samples": ax.scatter(np.zeros(1), np.zeros(1), s=3, color=COLORS["generator"], label="G(z)")}
    ax.set_xlim(extent[0], extent[1])
    ax.set_ylim(extent[2], extent[3])
    ax.set_title("G's samples over p_data; shading: D(x) (red: fake, blue: real)")
    return art


def draw_lab_figure(art: dict, frame: dict, history, scores) -> bool:
    """Move the lab figure's artists to ``frame`` and the histories; True when axis limits changed
    (then the static part of the figure must be drawn again).

    Args:
        art: from ``build_lab_figure``.
        frame: from ``compute_frame_1d`` or ``compute_frame_2d``.
        history: the trainer's history.
        scores: (iterations, values) of the JSD estimate (1-D) or of the modes covered (2-D).
    """
    if "d_mesh" in art:
        art["d_mesh"].set_data(frame["d_mesh"])
        art["samples"].set_offsets(frame["x_fake"][:1000])
    else:
        draw_snapshot(art, frame)
    it = np.asarray(history["iteration"], dtype=float)
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        art[key].set_data(_block_mean(it), _block_mean(np.asarray(history[key], dtype=float)))
    art["jsd"].set_data(*scores)
    _, ax_loss, _ = art["axes"]
    changed = False
    right = max(100, 2 ** math.ceil(math.log2(max(len(it), 1))))
    if ax_loss.get_xlim()[1] != right:
        ax_loss.set_xlim(0, right)
        changed = True
    if len(it):
        losses = np.concatenate([history["d_loss"][-5000:], history["g_loss"][-5000:]])
        losses = losses[np.isfinite(losses)]
        if len(losses):
            lo, hi = ax_loss.get_ylim()
            need_lo, need_hi = min(0.0, losses.min()), losses.max()
            if need_hi > hi or need_lo < lo or need_hi < 0.5 * hi:
                ax_loss.set_ylim(need_lo, 1.25 * need_hi + 1e-3)
                changed = True
    return changed


def _block_mean(values: np.ndarray, points: int = 400) -> np.ndarray:
    # Means of consecutive blocks, so a long history is drawn with at most ~2 * points points.
    width = len(values) // points
    if width <= 1:
        return values
    n = len(values) // width * width
    return np.concatenate([values[:n].reshape(-1, width).mean(1), values[n:]])


def render_figure(fig) -> bytes:
    """The whole figure, moving artists included, drawn by Agg as PNG bytes."""
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    animated = [a for a in fig.findobj() if a.get_animated()]
    for a in animated:
        a.set_animated(False)
    try:
        canvas.draw()
        return plots.encode_png(np.asarray(canvas.buffer_rgba()))
    finally:
        for a in animated:
            a.set_animated(True)


# --- the panel -----------------------------------------------------------------------------------

class TrainingLab:
    """A GAN trained live: controls, Play/Pause, Step, Step D, Step G, Reset, a figure and a readout.

    Args:
        target: a name from ``TARGETS``, a distribution, or an array of 1-D or 2-D points.
        seed: seeds the weights (Reset draws them again from it), the minibatches and the
            fixed noise the figure uses.
        generator, discriminator: the networks; default ``default_models(dim)``.
        trainer_class: a ``GANTrainer`` or a subclass of it (lesson 07 passes its remedies).
        trainer_kwargs: extra keyword arguments for ``trainer_class``.
        chunk_seconds: how long Play trains between two frames.
        **settings: d_steps, g_steps, lr_d, lr_g, g_loss, batch_size (see ``LIMITS``).
    Display it as the last line of a cell; ``lab.widget`` is the ipywidgets box.
    """

    def __init__(self, target=DEFAULT_TARGET, seed: int = 0, generator=None, discriminator=None,
                 trainer_class=GANTrainer, trainer_kwargs=None, chunk_seconds: float = 0.04, **settings):
        self.seed = check_int("seed", seed, low=0)
        self.chunk_seconds = check_float("chunk_seconds", chunk_seconds, low=0.0, high=1.0, low_open=True)
        self.trainer_class, self.trainer_kwargs = trainer_class, dict(trainer_kwargs or {})
        self._custom = None if isinstance(target, str) else target
        self.dist = make_target(target)
        self._models = (generator, discriminator)
        settings = {**{f.name: getattr(TrainConfig(), f.name) for f in _CONTROLLED}, **settings}
        self._validate(settings)
        self._task = None
        self._quiet = False
        self.frames = 0
        self.diverged = None
        self.frame: dict | None = None
        self._build_controls(target, settings)
        self._build_trainer(settings)
        from .widgets import PanelBox  # here, not at the top: widgets re-exports make_lab from this module

        # Its display carries the last frame as a still, for viewers that show no widgets.
        self.widget = PanelBox([self._controls_box, self.image, self.readout], image=self.image,
                               name="the training lab")
        self.refresh()

    # -- settings ------------------------------------------------------------------------------
    @staticmethod
    def _validate(settings: dict) -> None:
        unknown = set(settings) - {f.name for f in _CONTROLLED}
        if unknown:
            raise ValueError(f"unknown setting(s) {sorted(unknown)}; the lab controls "
                             f"{', '.join(f.name for f in _CONTROLLED)}")
        for name, value in settings.items():
            if name in ("d_steps", "g_steps", "batch_size"):
                check_int(name, value, *LIMITS[name])
                if name == "batch_size" and value not in BATCH_SIZES:
                    raise ValueError(f"batch_size must be one of {list(BATCH_SIZES)}, got {value}")
            elif name in ("lr_d", "lr_g"):
                check_float(name, value, *LIMITS[name])
            else:
                check_choice(name, value, ("nonsaturating", "minimax"))

    def set(self, **settings) -> None:
        """Change settings from code, e.g. ``lab.set(d_steps=5, lr_d=1e-2)``: the controls move and
        the trainer uses the new values from its next iteration. Out-of-range values raise a
        ValueError naming the setting and its range (``LIMITS``)."""
        self._validate(settings)
        for name, value in settings.items():
            self.controls[name].value = value

    @property
    def settings(self) -> dict:
        """The current settings, as the trainer uses them."""
        return {f.name: getattr(self.trainer.config, f.name) for f in _CONTROLLED}

    # -- building ------------------------------------------------------------------------------
    def _build_controls(self, target, settings) -> None:
        style = {"description_width": "initial"}
        names = list(TARGETS) + ([CUSTOM] if self._custom is not None else [])
        c = {"d_steps": W.IntSlider(settings["d_steps"], *LIMITS["d_steps"], description="D steps", style=style),
             "g_steps": W.IntSlider(settings["g_steps"], *LIMITS["g_steps"], description="G steps", style=style),
             "lr_d": W.FloatLogSlider(settings["lr_d"], min=-5, max=0, step=0.1, description="lr D",
                                      readout_format=".1e", style=style),
             "lr_g": W.FloatLogSlider(settings["lr_g"], min=-5, max=0, step=0.1, description="lr G",
                                      readout_format=".1e", style=style),
             "g_loss": W.ToggleButtons(options=["nonsaturating", "minimax"], value=settings["g_loss"],
                                       description="G's loss", style=style),
             "batch_size": W.SelectionSlider(options=BATCH_SIZES, value=settings["batch_size"],
                                             description="batch", style=style),
             "target": W.Dropdown(options=names, value=target if isinstance(target, str) else CUSTOM,
                                  description="target", style=style)}
        self.controls = c
        for name, control in c.items():
            control.observe(self._on_target if name == "target" else self._on_setting, names="value")
        self.play_button = W.ToggleButton(False, description="Play", icon="play", tooltip="train continuously")
        self.play_button.observe(self._on_play, names="value")
        self.buttons = {}
        for label, handler, tip in (("Step", self.on_step, "one iteration"),
                                    ("Step D", self.on_step_d, "one update of D only"),
                                    ("Step G", self.on_step_g, "one update of G only"),
                                    ("Reset", self.on_reset, "new weights from the seed")):
            self.buttons[label] = W.Button(description=label, tooltip=tip, layout=W.Layout(width="80px"))
            self.buttons[label].on_click(handler)
        row = W.Layout(flex_flow="row wrap")
        self._controls_box = W.VBox([
            W.HBox([self.play_button, *self.buttons.values(), c["target"]], layout=row),
            W.HBox([c["d_steps"], c["g_steps"], c["lr_d"], c["lr_g"]], layout=row),
            W.HBox([c["g_loss"], c["batch_size"]], layout=row)])
        self.image = W.Image(format="jpeg")  # encodes ten times faster than PNG (measured)
        self.readout = W.HTML()

    def _build_trainer(self, settings) -> None:
        dim = self.dist.dim
        G, D = self._models
        if G is None or D is None or _dim_of(G) != dim:
            G, D = default_models(dim, self.seed)
        config = TrainConfig(**settings)
        self.trainer = self.trainer_class(G, D, self.dist, config=config, seed=self.seed,
                                          device="cpu", **self.trainer_kwargs)
        self._prepare_view()

    def _prepare_view(self) -> None:
        # Fixed noise and real batches (drawn once from the seed), the grid, and a new figure.
        gen = torch.Generator().manual_seed(self.seed)
        G = self.trainer.G
        self.z_fixed = G.sample_z(N_FIXED, generator=gen)
        self.x_real = self.dist.sample(N_FIXED, generator=gen)
        self.scores = ([], [])
        if self.dist.dim == 1:
            lo, hi = _view_range(self.dist)
            self.x = np.linspace(lo, hi, 400)
            if isinstance(self.dist, GaussianMixture):
                self.p_data = self.dist.density(self.x)
            else:
                self.p_data = compute_kde_1d(self.dist.points[:5000], self.x)
            self.z_line = _z_line(G)
            self.figure, self.art = build_lab_figure(self.dist, self.x, self.p_data)
        else:
            lo, hi = _view_box(self.dist)
            self.mesh = np.meshgrid(np.linspace(lo[0], hi[0], 80), np.linspace(lo[1], hi[1], 80))
            self.figure, self.art = build_lab_figure(self.dist, mesh=self.mesh)
        moving = [a for k, a in self.art.items() if hasattr(a, "set_animated") and k != "axes"]
        self.blitter = plots.Blitter(self.figure, moving)

    # -- the three layers wired ----------------------------------------------------------------
    def compute(self) -> dict:
        """The current frame (``compute_frame_1d`` or ``compute_frame_2d``) for the trainer's models."""
        tr = self.trainer
        with _one_thread():
            if self.dist.dim == 1:
                return compute_frame_1d(tr.G, tr.D, self.dist, self.x, self.z_fixed, self.z_line,
                                        self.x_real, self.p_data)
            return compute_frame_2d(tr.G, tr.D, self.dist, self.mesh, self.z_fixed, self.x_real)

    def draw(self, frame: dict) -> None:
        """Move the figure's artists to ``frame`` and the histories."""
        it = self.trainer.iteration
        if not self.scores[0] or self.scores[0][-1] != it:
            value = frame["jsd"] if self.dist.dim == 1 else (
                frame["coverage"].n_captured / frame["coverage"].n_modes if frame["coverage"] else float("nan"))
            self.scores[0].append(it)
            self.scores[1].append(value)
        if draw_lab_figure(self.art, frame, self.trainer.history, self.scores):
            self.blitter.invalidate()  # an axis rescaled: the background must be drawn again

    def render(self) -> bytes:
        """The figure as JPEG bytes: a cached background plus the moving artists (blitting)."""
        return plots.encode_jpeg(self.blitter.frame())

    def snapshot(self):
        """A new static figure of the current state, drawn by the plain functions (for a saved notebook)."""
        frame = self.compute() if self.frame is None else self.frame
        if self.dist.dim == 1:
            fig, art = build_lab_figure(self.dist, self.x, self.p_data)
        else:
            fig, art = build_lab_figure(self.dist, mesh=self.mesh)
        draw_lab_figure(art, frame, self.trainer.history, self.scores)
        return fig

    def refresh(self) -> None:
        """Compute, draw and render the current state, and update the readout."""
        try:
            self.frame = self.compute()
        except ValueError as err:
            self.readout.value = f"<b>{html.escape(str(err))}</b>"
            return
        self.draw(self.frame)
        self.image.value = self.render()
        self.readout.value = self._readout_html(self.frame)
        self.frames += 1

    def _readout_html(self, frame) -> str:
        tr, last = self.trainer, self.trainer.last
        cov = frame.get("coverage")

        def num(key, fmt=".3f"):
            return format(last[key], fmt) if key in last else "–"
        cells = [("iteration", tr.iteration), ("D updates", tr.d_updates), ("G updates", tr.g_updates),
                 ("L_D", num("d_loss")), ("L_G", num("g_loss")), ("mean D(x)", num("d_real")),
                 ("mean D(G(z))", num("d_fake")), ("D accuracy", f"{100 * frame['d_accuracy']:.0f} %"),
                 ("JSD estimate", f"{frame['jsd']:.3f} nats" if math.isfinite(frame["jsd"]) else "–"),
                 ("modes covered", _coverage_text(cov, tr.g_updates))]
        table = "".join(f"<td style='padding:0 8px'>{k}<br><b>{v}</b></td>" for k, v in cells)
        warnings = compute_warnings(frame["d_accuracy"], last.get("g_grad_norm", 1.0), cov,
                                    tr.history["g_loss"][-200:], self.diverged, g_updates=tr.g_updates)
        if frame.get("outside", 0) > 0.01:
            warnings.append(f"{100 * frame['outside']:.0f} % of G's samples lie outside the plotted range.")
        notes = "".join(f"<div style='color:#b03000'>⚠ {html.escape(w)}</div>" for w in warnings)
        return f"<table><tr>{table}</tr></table>{notes or '<div>No warnings.</div>'}"

    # -- callbacks -----------------------------------------------------------------------------
    def _on_setting(self, change) -> None:
        name = next(k for k, c in self.controls.items() if c is change["owner"])
        setattr(self.trainer.config, name, change["new"])  # read before the next update

    def _on_target(self, change) -> None:
        name = change["new"]
        dist = make_target(self._custom) if name == CUSTOM else make_target(name)
        self._switch_target(dist)

    def _switch_target(self, dist) -> None:
        same_dim = dist.dim == self.dist.dim
        self.dist = dist
        if same_dim:
            self.trainer.set_data(dist)  # the models keep training, now on the new data
            self._prepare_view()
        else:  # 1-D and 2-D need networks of another shape: new models from the seed
            self._models = (None, None)
            self._build_trainer(self.settings)
        self.diverged = None
        self.refresh()

    def _guarded(self, action) -> None:
        try:
            action()
        except TrainingDiverged as err:
            self.diverged = str(err)
            self.pause()
        self.refresh()

    def on_step(self, _button=None) -> None:
        """Step: one iteration (``d_steps`` updates of D, then ``g_steps`` of G)."""
        self._guarded(self.trainer.step)

    def on_step_d(self, _button=None) -> None:
        """Step D: one update of D only."""
        self._guarded(self.trainer.step_d)

    def on_step_g(self, _button=None) -> None:
        """Step G: one update of G only."""
        self._guarded(self.trainer.step_g)

    def on_reset(self, _button=None) -> None:
        """Reset: new initial weights from the seed, fresh optimisers, empty history."""
        self.pause()
        self.trainer.reset()
        self.diverged = None
        self.scores = ([], [])
        self.blitter.invalidate()
        self.refresh()

    # -- Play and Pause ------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        """True while Play is on."""
        return self.play_button.value

    def play(self) -> None:
        """Start training continuously (as pressing Play)."""
        self.play_button.value = True

    def pause(self) -> None:
        """Stop after the current chunk of iterations (as pressing Pause)."""
        self.play_button.value = False

    def _on_play(self, change) -> None:
        self.play_button.description = "Pause" if change["new"] else "Play"
        self.play_button.icon = "pause" if change["new"] else "play"
        if change["new"] and (self._task is None or self._task.done()):
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                self.readout.value = ("<b>Play needs a running event loop (Jupyter has one); "
                                      "use Step, or call trainer.train(n).</b>")
                self.play_button.value = False
                return
            self._task = loop.create_task(self._play_loop())

    async def _play_loop(self) -> None:
        # Train for chunk_seconds, draw one frame, then yield so the kernel handles widget
        # events and runs other cells; Pause is seen at the next chunk boundary.
        try:
            while self.playing:
                end = time.perf_counter() + self.chunk_seconds
                while self.playing and time.perf_counter() < end:
                    self.trainer.step()
                self.refresh()
                await asyncio.sleep(0.001)
        except TrainingDiverged as err:
            self.diverged = str(err)
            self.refresh()
        finally:
            self.play_button.value = False

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _coverage_text(coverage, g_updates: int) -> str:
    # The readout's "modes covered": the count, and until it can be judged, that it cannot be yet.
    if coverage is None:
        return "–"
    text = f"{coverage.n_captured} of {coverage.n_modes}"
    wait = min_g_updates_to_judge_coverage(coverage.n_modes)
    if coverage.n_modes > 1 and g_updates < wait:
        text += f" <span title='judged from {wait:,} updates of G on'>(too early to judge)</span>"
    return text


_CONTROLLED = [f for f in TrainConfig.__dataclass_fields__.values()
               if f.name in ("d_steps", "g_steps", "lr_d", "lr_g", "g_loss", "batch_size")]


@contextlib.contextmanager
def _one_thread():
    # Small forward passes run faster on one thread, much faster when the cores are shared.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def _dim_of(G) -> int:
    return getattr(getattr(G, "config", None), "out_dim", -1)


def _view_range(dist) -> tuple[float, float]:
    # The data's support and room on both sides for a generator that starts elsewhere.
    if isinstance(dist, GaussianMixture):
        lo, hi = (float(v[0]) for v in dist.support(4.0))
    else:
        pts = dist.points[:, 0].numpy()
        lo, hi = float(np.quantile(pts, 0.001)), float(np.quantile(pts, 0.999))
    span = max(hi - lo, 1e-3)
    return min(lo - 0.25 * span, -1.5), max(hi + 0.25 * span, 1.5)


def _view_box(dist):
    if isinstance(dist, GaussianMixture):
        lo, hi = dist.support(4.0)
    else:
        pts = dist.points.numpy()
        lo, hi = np.quantile(pts, 0.001, axis=0), np.quantile(pts, 0.999, axis=0)
    pad = 0.25 * np.maximum(hi - lo, 1e-3)
    return lo - pad, hi + pad


def _z_line(G, k: int = 25) -> torch.Tensor:
    # Evenly spaced noise values (quantiles for Gaussian noise), as the z line of Figure 1.
    u = torch.linspace(-1, 1, k) if G.config.noise == "uniform" else torch.special.ndtri(torch.linspace(0.02, 0.98, k))
    z = torch.zeros(k, G.config.latent_dim)
    z[:, 0] = u
    return z


def make_lab(target=DEFAULT_TARGET, points=None, **kwargs) -> TrainingLab:
    """Build a ``TrainingLab``: ``make_lab("1-D two modes", d_steps=5)`` or ``make_lab(points=my_array)``.

    Args:
        target: a name from ``TARGETS`` or a distribution.
        points: an array of 1-D or 2-D points to train on instead (shape (n,), (n, 1) or (n, 2)).
        **kwargs: passed to ``TrainingLab`` (seed, settings, trainer_class, ...).
    """
    return TrainingLab(target=points if points is not None else target, **kwargs)

