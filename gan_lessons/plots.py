"""Every figure of the course. Functions take ``ax=None`` and return the figure; none calls show()."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

COLORS = {"data": "#1f77b4", "generator": "#2ca02c", "discriminator": "#d62728",
          "optimal": "#7f7f7f", "d_loss": "#d62728", "g_loss": "#2ca02c"}


def set_style(context: str = "notebook") -> None:
    """The course's one look: seaborn's whitegrid theme, readable sizes, compact figures."""
    import seaborn as sns

    sns.set_theme(context=context, style="whitegrid", palette="deep")
    plt.rcParams.update({"figure.figsize": (7.0, 3.6), "figure.dpi": 80, "savefig.dpi": 80,
                         "axes.titlesize": "medium", "legend.fontsize": "small",
                         "figure.autolayout": False, "figure.constrained_layout.use": True})


def get_ax(ax=None, figsize=None):
    """The axes to draw on: ``ax`` if given, else one new figure's axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _np(x) -> np.ndarray:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu().numpy()
    return np.asarray(x)


def plot_density(dist, ax=None, x=None, label: str = "$p_{data}$", color=None, fill: bool = True):
    """A 1-D distribution's exact density as a line (filled underneath)."""
    ax = get_ax(ax)
    x = dist.grid() if x is None else _np(x).reshape(-1)
    y = dist.density(x)
    color = color or COLORS["data"]
    ax.plot(x, y, color=color, lw=2, label=label)
    if fill:
        ax.fill_between(x, y, color=color, alpha=0.15, lw=0)
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    return ax.figure


def plot_density_vs_samples(dist, samples, ax=None, bins: int = 60, label: str = "samples",
                            x_range=None, max_points: int = 2000):
    """A true density against samples: a histogram in 1-D, a scatter over contours in 2-D.

    Args:
        dist: a distribution with ``density`` and ``dim``.
        samples: (n,) or (n, dim) samples, e.g. from the generator.
        bins: histogram bins (1-D).
        x_range: (low, high) of the x axis in 1-D; default: the support of ``dist``.
        max_points: at most this many points are scattered in 2-D.
    """
    ax = get_ax(ax)
    s = _np(samples)
    if dist.dim == 1:
        s = s.reshape(-1)
        lo, hi = x_range if x_range is not None else dist.support()
        lo, hi = float(np.min(lo)), float(np.max(hi))
        ax.hist(s, bins=bins, range=(lo, hi), density=True, color=COLORS["generator"], alpha=0.5,
                label=label)
        plot_density(dist, ax=ax, x=np.linspace(lo, hi, 400), fill=False)
        ax.set_xlim(lo, hi)
    else:
        plot_density_2d(dist, ax=ax)
        s = s.reshape(-1, 2)[:max_points]
        ax.scatter(s[:, 0], s[:, 1], s=4, color=COLORS["generator"], alpha=0.6, label=label)
    ax.legend(loc="upper right")
    return ax.figure


def plot_density_2d(dist, ax=None, n: int = 200, levels: int = 8, width: float = 4.0):
    """Filled contours of a 2-D density's log (so narrow modes stay visible)."""
    ax = get_ax(ax)
    lo, hi = dist.support(width)
    pad = 0.1 * (hi - lo)
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], n)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], n)
    gx, gy = np.meshgrid(xs, ys)
    logp = dist.log_prob(np.stack([gx.ravel(), gy.ravel()], 1)).reshape(gx.shape)
    top = logp.max()
    ax.contourf(gx, gy, np.clip(logp, top - 12, top), levels=levels, cmap="Blues")
    ax.set_aspect("equal")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax.figure


def plot_losses(history, ax=None, smooth: int = 1):
    """D's and G's losses against the iteration, optionally with a moving average."""
    ax = get_ax(ax)
    it = np.asarray(history["iteration"])
    for key, label in (("d_loss", "$L_D$"), ("g_loss", "$L_G$")):
        ax.plot(it, _smooth(history[key], smooth), color=COLORS[key], label=label)
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss")
    ax.legend(loc="upper right")
    return ax.figure


def plot_d_outputs(history, ax=None, smooth: int = 1):
    """Mean D(x) on real data and mean D(G(z)) on fakes; both tend to 1/2 at the equilibrium."""
    ax = get_ax(ax)
    it = np.asarray(history["iteration"])
    ax.plot(it, _smooth(history["d_real"], smooth), color=COLORS["data"], label="mean $D(x)$")
    ax.plot(it, _smooth(history["d_fake"], smooth), color=COLORS["generator"], label="mean $D(G(z))$")
    ax.axhline(0.5, color=COLORS["optimal"], ls="--", lw=1, label="1/2")
    ax.set_ylim(-0.02, 1.02)
    ax.set_xlabel("iteration")
    ax.set_ylabel("D output")
    ax.legend(loc="upper right")
    return ax.figure


def _smooth(values, window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) < window:
        return v
    kernel = np.ones(window) / window
    head = np.cumsum(v[: window - 1]) / np.arange(1, window)
    return np.concatenate([head, np.convolve(v, kernel, mode="valid")])


def image_grid(images, nrow: int = 10, padding: int = 2, value_range=(0.0, 1.0), pad_value=1.0) -> np.ndarray:
    """Tile (B, H, W), (B, 1, H, W) or (B, 784) images into one (rows*H, nrow*W) array in [0, 1]."""
    x = _np(images).astype(np.float32)
    b = x.shape[0]
    if x.ndim == 2:
        side = int(round(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"images of shape (B, {x.shape[1]}) are not square; pass (B, H, W)")
        x = x.reshape(b, side, side)
    if x.ndim == 4:
        if x.shape[1] != 1:
            raise ValueError(f"images must have one channel, got shape {x.shape}")
        x = x[:, 0]
    if x.ndim != 3:
        raise ValueError(f"images must have shape (B, H, W), (B, 1, H, W) or (B, H*W), got {x.shape}")
    lo, hi = value_range
    x = np.clip((x - lo) / (hi - lo), 0, 1)
    h, w = x.shape[1:]
    ncol = min(nrow, b)
    nrows = int(np.ceil(b / ncol))
    grid = np.full((nrows * (h + padding) + padding, ncol * (w + padding) + padding), pad_value, np.float32)
    for i in range(b):
        r, c = divmod(i, ncol)
        top, left = padding + r * (h + padding), padding + c * (w + padding)
        grid[top: top + h, left: left + w] = x[i]
    return grid


def plot_image_grid(images, nrow: int = 10, ax=None, title: str | None = None, value_range=(0.0, 1.0)):
    """Show a batch of greyscale images as one grid (white is 1, black is 0: ink is dark)."""
    ax = get_ax(ax)
    ax.imshow(1 - image_grid(images, nrow=nrow, value_range=value_range, pad_value=0.0),
              cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return ax.figure


# The taxonomy of Goodfellow's NIPS 2016 tutorial (figure 9), as nodes and edges.
TAXONOMY = {
    "Maximum likelihood": (0.50, 0.92),
    "Explicit density": (0.25, 0.70),
    "Implicit density": (0.75, 0.70),
    "Tractable density\nfully visible belief nets\n(PixelRNN, NADE), flows": (0.10, 0.42),
    "Approximate density": (0.38, 0.42),
    "Variational\n(VAE)": (0.28, 0.14),
    "Markov chain\n(Boltzmann machine)": (0.50, 0.14),
    "Markov chain\n(GSN)": (0.66, 0.42),
    "Direct\n(GAN)": (0.88, 0.42),
}
TAXONOMY_EDGES = [
    ("Maximum likelihood", "Explicit density"), ("Maximum likelihood", "Implicit density"),
    ("Explicit density", "Tractable density\nfully visible belief nets\n(PixelRNN, NADE), flows"),
    ("Explicit density", "Approximate density"),
    ("Approximate density", "Variational\n(VAE)"), ("Approximate density", "Markov chain\n(Boltzmann machine)"),
    ("Implicit density", "Markov chain\n(GSN)"), ("Implicit density", "Direct\n(GAN)"),
]


def plot_taxonomy(ax=None, highlight: str = "Direct\n(GAN)"):
    """The taxonomy of deep generative models (Goodfellow 2016, NIPS tutorial, figure 9)."""
    ax = get_ax(ax, figsize=(9, 4.8))
    for a, b in TAXONOMY_EDGES:
        (xa, ya), (xb, yb) = TAXONOMY[a], TAXONOMY[b]
        ax.annotate("", xy=(xb, yb + 0.06), xytext=(xa, ya - 0.05),
                    arrowprops=dict(arrowstyle="-|>", color="0.4", lw=1.2))
    for name, (x, y) in TAXONOMY.items():
        hot = name == highlight
        ax.text(x, y, name, ha="center", va="center", fontsize=9, fontweight="bold" if hot else "normal",
                bbox=dict(boxstyle="round,pad=0.4", fc="#ffe08a" if hot else "white",
                          ec=COLORS["discriminator"] if hot else "0.5", lw=1.5 if hot else 1))
    ax.set_xlim(-0.05, 1.05)
    ax.set_ylim(0.0, 1.02)
    ax.set_axis_off()
    return ax.figure
