"""Every figure of the course. Functions take ``ax=None`` and return the figure; none calls show()."""
from __future__ import annotations

import io

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.ticker import FuncFormatter, LogFormatterSciNotation, LogLocator, NullFormatter

from .checks import as_array, check_callable, check_keys, check_range, describe
from .utils import check_choice, check_float, check_int

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


def _check_dist(dist, dim: int | None = None):
    if not all(hasattr(dist, a) for a in ("density", "log_prob", "dim", "support")):
        raise ValueError(f"dist must be a distribution of gan_lessons.distributions, e.g. mixture_1d(...), "
                         f"got {describe(dist)}")
    if dim is not None and dist.dim != dim:
        raise ValueError(f"dist must be {dim}-D for this plot, got a {dist.dim}-D distribution")
    return dist


def _curve(name: str, values, n: int | None = None, finite: bool = True, min_size: int = 1) -> np.ndarray:
    # One value per point of a curve, (n,) or (n, 1), as many as its x values when n is given.
    out = as_array(name, values, finite=finite, min_size=min_size)
    if out.ndim > 2 or (out.ndim == 2 and out.shape[1] != 1):
        raise ValueError(f"{name} must hold one value per point, shape (n,) or (n, 1), got {out.shape}")
    out = out.reshape(-1)
    if n is not None and len(out) != n:
        raise ValueError(f"{name} must hold one value per point ({n}), got {len(out)}")
    return out


def plot_density(dist, ax=None, x=None, label: str = "$p_{data}$", color=None, fill: bool = True):
    """A 1-D distribution's exact density as a line (filled underneath)."""
    _check_dist(dist, 1)
    ax = get_ax(ax)
    x = dist.grid() if x is None else _curve("x", x)
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
    _check_dist(dist)
    bins, max_points = check_int("bins", bins, low=1), check_int("max_points", max_points, low=1)
    s = as_array("samples", samples, ndim=(1, 2))
    if (s.ndim == 2 and s.shape[1] != dist.dim) or (s.ndim == 1 and dist.dim != 1):
        want = "(n,) or (n, 1)" if dist.dim == 1 else f"(n, {dist.dim})"
        raise ValueError(f"samples must have shape {want} for this {dist.dim}-D distribution, got {s.shape}")
    ax = get_ax(ax)
    if dist.dim == 1:
        s = s.reshape(-1)
        lo, hi = check_range("x_range", x_range) if x_range is not None else dist.support()
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
    _check_dist(dist, 2)
    n, levels = check_int("n", n, low=2), check_int("levels", levels, low=1)
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
    _check_history(history, ("iteration", "d_loss", "g_loss"), smooth)
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
    _check_history(history, ("iteration", "d_real", "d_fake"), smooth)
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


def _check_history(history, keys, smooth) -> None:
    check_keys("history", history, keys)
    n = len(history["iteration"])
    for key in keys:
        _curve(f"history[{key!r}]", history[key], n, finite=False, min_size=0)
    check_int("smooth", smooth, low=1)


def _smooth(values, window: int) -> np.ndarray:
    v = np.asarray(values, dtype=float)
    if window <= 1 or len(v) < window:
        return v
    kernel = np.ones(window) / window
    head = np.cumsum(v[: window - 1]) / np.arange(1, window)
    return np.concatenate([head, np.convolve(v, kernel, mode="valid")])


def image_grid(images, nrow: int = 10, padding: int = 2, value_range=(0.0, 1.0), pad_value=1.0) -> np.ndarray:
    """Tile (B, H, W), (B, 1, H, W) or (B, 784) images into one (rows*H, nrow*W) array in [0, 1]."""
    x = as_array("images", images, ndim=(2, 3, 4)).astype(np.float32)
    nrow, padding = check_int("nrow", nrow, low=1), check_int("padding", padding, low=0)
    pad_value = check_float("pad_value", pad_value)
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
    lo, hi = check_range("value_range", value_range)
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


# The taxonomy of Goodfellow's NIPS 2016 tutorial (figure 9), as nodes and edges. The tutorial puts every
# model under maximum likelihood and sorts them by how they compute the likelihood or approximate it; a GAN
# sits there because it can be made to do maximum likelihood, not because it evaluates p_model(x).
TAXONOMY = {
    "Maximum likelihood\n(sorted by how each model handles $p_{model}(x)$)": (0.50, 0.90),
    "Explicit density": (0.25, 0.64),
    "Implicit density": (0.76, 0.64),
    "Tractable density\nautoregressive models\n(NADE, PixelRNN), flows": (0.13, 0.36),
    "Approximate density": (0.40, 0.36),
    "Variational\n(VAE)": (0.28, 0.08),
    "Markov chain\n(Boltzmann machine)": (0.53, 0.08),
    "Markov chain\n(GSN)": (0.66, 0.36),
    "Direct\n(GAN)": (0.88, 0.36),
}
_ROOT, _TRACTABLE = list(TAXONOMY)[0], list(TAXONOMY)[3]
TAXONOMY_EDGES = [
    (_ROOT, "Explicit density"), (_ROOT, "Implicit density"),
    ("Explicit density", _TRACTABLE), ("Explicit density", "Approximate density"),
    ("Approximate density", "Variational\n(VAE)"), ("Approximate density", "Markov chain\n(Boltzmann machine)"),
    ("Implicit density", "Markov chain\n(GSN)"), ("Implicit density", "Direct\n(GAN)"),
]


def plot_taxonomy(ax=None, highlight: str = "Direct\n(GAN)"):
    """The taxonomy of deep generative models (Goodfellow 2016, NIPS tutorial, figure 9)."""
    check_choice("highlight", highlight, tuple(TAXONOMY))
    ax = get_ax(ax, figsize=(9, 3.6))
    for a, b in TAXONOMY_EDGES:
        (xa, ya), (xb, yb) = TAXONOMY[a], TAXONOMY[b]
        ax.annotate("", xy=(xb, yb + 0.09), xytext=(xa, ya - 0.08),
                    arrowprops=dict(arrowstyle="-|>", color="0.4", lw=1.2))
    for name, (x, y) in TAXONOMY.items():
        hot = name == highlight
        ax.text(x, y, name, ha="center", va="center", fontsize=11, fontweight="bold" if hot else "normal",
                bbox=dict(boxstyle="round,pad=0.4", fc="#ffe08a" if hot else "white",
                          ec=COLORS["discriminator"] if hot else "0.5", lw=1.5 if hot else 1))
    ax.set_xlim(0.0, 1.0)
    ax.set_ylim(0.0, 1.0)
    ax.set_axis_off()
    return ax.figure


# --- lesson 01: discriminative against generative, and noise pushed through a map ----------

def _grid_2d(x, n: int = 150, pad: float = 0.8):
    x = as_array("x", x, ndim=2)
    lo, hi = x.min(0) - pad, x.max(0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], n), np.linspace(lo[1], hi[1], n))
    return gx, gy, np.stack([gx.ravel(), gy.ravel()], 1)


def _points_and_labels(x, y) -> None:
    x, y = as_array("x", x, ndim=2), _curve("y", y)
    if x.shape[1] != 2 or len(y) != len(x):
        raise ValueError(f"x must be (n, 2) points and y their n labels, got shapes {x.shape} and {y.shape}")


def _scatter_classes(x, y, ax, marker="o", alpha=0.6, label_suffix=""):
    x, y = _np(x), _np(y)
    for c, color in ((0, COLORS["data"]), (1, COLORS["discriminator"])):
        pts = x[y == c]
        ax.scatter(pts[:, 0], pts[:, 1], s=10, color=color, alpha=alpha, marker=marker,
                   label=f"class {c}{label_suffix}")


def plot_decision_surface(prob_fn, x, y, ax=None, title: str | None = None):
    """p(y = 1 | x) of a two-class model as a colour map, its 1/2 boundary, and the labelled points.

    Args:
        prob_fn: maps an (n, 2) array to p(y = 1 | x), shape (n,).
        x, y: the points (n, 2) and their 0/1 labels.
    """
    check_callable("prob_fn", prob_fn, "a function from (n, 2) points to p(y = 1 | x)")
    _points_and_labels(x, y)
    ax = get_ax(ax)
    gx, gy, pts = _grid_2d(x)
    p = _curve("prob_fn's output", prob_fn(pts), gx.size).reshape(gx.shape)
    shades = ax.contourf(gx, gy, p, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.35)
    ax.figure.colorbar(shades, ax=ax, label=r"$p(y = 1 \mid x)$", ticks=[0, 0.25, 0.5, 0.75, 1])
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1.5)
    ax.plot([], [], color="k", lw=1.5, label=r"boundary, $p(y = 1 \mid x) = 1/2$")
    _scatter_classes(x, y, ax)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)  # below, off the data
    return ax.figure


JOINT_LEVELS = (0.005, 0.02, 0.05, 0.1)  # values of p(x | y) p(y) drawn as contours, the same for both classes


def plot_class_conditional(model, x, y, ax=None, n_new: int = 150, seed: int = 0, title: str | None = None):
    """A generative classifier's p(x | y) p(y) as contours labelled with their values (``JOINT_LEVELS``),
    its Bayes boundary p(y = 1 | x) = 1/2, and ``n_new`` brand-new points it sampled (crosses)."""
    import torch

    if not all(callable(getattr(model, m, None)) for m in ("log_joint", "predict_proba", "sample")):
        raise ValueError(f"model must be a fitted models.GaussianClassConditional, got {describe(model)}")
    _points_and_labels(x, y)
    n_new = check_int("n_new", n_new, low=1)
    ax = get_ax(ax)
    gx, gy, pts = _grid_2d(x)
    log_joint = _np(model.log_joint(pts))
    for c, color in ((0, COLORS["data"]), (1, COLORS["discriminator"])):
        dens = np.exp(log_joint[:, c]).reshape(gx.shape)
        levels = [v for v in JOINT_LEVELS if v < dens.max()]
        lines = ax.contour(gx, gy, dens, levels=levels, colors=color, linewidths=1)
        ax.clabel(lines, fmt="%g", fontsize=7)
    post = _np(model.predict_proba(pts)).reshape(gx.shape)
    ax.contour(gx, gy, post, levels=[0.5], colors="k", linewidths=1.5)
    ax.plot([], [], color="k", lw=1.5, label="Bayes boundary")
    ax.plot([], [], color="0.4", lw=1, label=r"$p(x \mid y)\,p(y)$ (values on the lines)")
    _scatter_classes(x, y, ax, alpha=0.25)
    new_x, new_y = model.sample(n_new, generator=torch.Generator().manual_seed(seed))
    _scatter_classes(new_x, new_y, ax, marker="x", alpha=0.9, label_suffix=" (sampled)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    if title:
        ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=2, frameon=False)  # below, off the data
    return ax.figure


def plot_noise_map(u, x, ax=None, xlabel: str = "noise $u$", ylabel: str = "sample $x = F^{-1}(u)$",
                   curve=None, max_rug: int = 300):
    """A map from noise to samples: the curve (if given as (grid, values)) and the
    pairs (u_i, x_i), with the noise as a rug on the horizontal axis and the samples on the vertical."""
    u = _curve("u", u)
    x = _curve("x", x, len(u))
    max_rug = check_int("max_rug", max_rug, low=1)
    ax = get_ax(ax)
    if curve is not None:
        ax.plot(*curve, color=COLORS["generator"], lw=2, label="the map")
    k = min(max_rug, len(u))
    ax.plot(u[:k], np.full(k, np.min(x) - 0.05 * np.ptp(x)), "|", color=COLORS["optimal"], alpha=0.5)
    ax.plot(np.full(k, np.min(u) - 0.03 * np.ptp(u)), x[:k], "_", color=COLORS["data"], alpha=0.5)
    ax.scatter(u[:k], x[:k], s=6, color=COLORS["data"], alpha=0.4, label="(noise, sample) pairs")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    # Right of the jump between modes, below the curve: empty for any two-mode map.
    ax.legend(loc="center right")
    return ax.figure


def plot_many_answers(pairs, x, y, predict, sample, x_slice: float = 1.0, axes=None, n_slice: int = 4000):
    """One answer against many: a regression trained with squared error and a model of p(y | x),
    on pairs with two right answers for every x (``distributions.TwoBranches``).

    Left: the data, the regression's prediction and the conditional mean E[y | x]. Middle: the
    model's samples, one y for each of the data's x (the data themselves are on the left). Right: at one x, the exact p(y | x), a
    histogram of the model's samples and the regression's single answer.

    Args:
        pairs: the ``TwoBranches`` the data came from.
        x, y: (n, 1) the data.
        predict: the regression, a function from (m, 1) x to (m, 1) predictions (a tensor function).
        sample: the model's sampler, a function from (m, 1) x to (m, 1) samples of y.
        x_slice: the x of the right-hand panel.
        n_slice: how many samples the right-hand histogram draws at ``x_slice``.
    """
    check_callable("predict", predict, "a function from (m, 1) x to (m, 1) predictions")
    check_callable("sample", sample, "a function from (m, 1) x to (m, 1) samples of y")
    x_slice, n_slice = check_float("x_slice", x_slice), check_int("n_slice", n_slice, low=1)
    xs, ys = _curve("x", x), _curve("y", y, None)
    if len(ys) != len(xs):
        raise ValueError(f"y must hold one value per x ({len(xs)}), got {len(ys)}")
    ax_fit, ax_samples, ax_slice = get_axes(axes, ncols=3, figsize=(13.0, 4.2))
    grid = torch.linspace(pairs.x_low, pairs.x_high, 300)[:, None]
    with torch.no_grad():
        prediction = _curve("predict's output", predict(grid), len(grid))
        y_model = _curve("sample's output", sample(torch.as_tensor(xs, dtype=torch.float32)[:, None]), len(xs))
        at_slice = _curve("sample's output", sample(torch.full((n_slice, 1), x_slice)), n_slice)
    g = grid.numpy().ravel()
    lo, hi = min(ys.min(), y_model.min()), max(ys.max(), y_model.max())
    ax_fit.scatter(xs, ys, s=5, color=COLORS["data"], alpha=0.25, lw=0, label="data")
    for ax in (ax_fit, ax_samples):
        ax.axvline(x_slice, color="0.3", ls=":", lw=1, label=f"$x = {x_slice:g}$ (right panel)")
        ax.set_xlim(pairs.x_low, pairs.x_high)
        ax.set_ylim(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo))
        ax.set_xlabel("input $x$")
        ax.set_ylabel("answer $y$")
    ax_fit.plot(g, prediction, color=COLORS["discriminator"], lw=2.5, label="regression (squared error)")
    ax_fit.plot(g, pairs.conditional_mean(g), color="k", ls="--", lw=1.2, label=r"$\mathbb{E}[y \mid x]$")
    ax_fit.set_title("squared error: one answer per $x$")
    ax_samples.scatter(xs, y_model, s=5, color=COLORS["generator"], alpha=0.35, lw=0, label="model samples")
    ax_samples.set_title(r"a model of $p(y \mid x)$: many answers")

    exact = pairs.conditional(x_slice)
    upper, lower = pairs.branches([x_slice])
    y_grid = np.linspace(lower[0] - 5 * pairs.std, upper[0] + 5 * pairs.std, 400)
    ax_slice.hist(at_slice, bins=60, range=(y_grid[0], y_grid[-1]), density=True, color=COLORS["generator"],
                  alpha=0.5, label="model samples")
    density = exact.density(y_grid)
    ax_slice.plot(y_grid, density, color=COLORS["data"], lw=2, label=rf"exact $p(y \mid x = {x_slice:g})$")
    ax_slice.axvline(prediction[np.abs(g - x_slice).argmin()], color=COLORS["discriminator"], lw=2.5,
                     label="regression's answer")
    ax_slice.set_xlim(y_grid[0], y_grid[-1])
    ax_slice.set_ylim(0, 1.15 * max(density.max(), np.histogram(at_slice, bins=60, range=(y_grid[0], y_grid[-1]),
                                                                 density=True)[0].max()))
    ax_slice.set_xlabel("answer $y$")
    ax_slice.set_ylabel("density")
    ax_slice.set_title(f"the answers at $x = {x_slice:g}$")
    for ax in (ax_fit, ax_samples, ax_slice):
        legend = ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2, frameon=False, markerscale=3)
        for handle in legend.legend_handles:
            handle.set_alpha(1)  # faint points on the plot, clear markers in the legend
    return ax_fit.figure


def plot_generator_map(z, learned, derived, dist, samples, axes=None, num_iterations: int | None = None):
    """A 1-D generator's learned map from noise to samples beside the derived one, and what it draws.

    Left: G(z) and the derived map F^{-1}(Phi(z)) over the noise grid ``z``. Right: a histogram of
    ``samples`` (drawn from G) over the exact density of ``dist``, with room above the tallest bar.

    Args:
        z: (m,) the noise grid; learned, derived: (m,) the two maps on it.
        dist: the 1-D distribution G was trained on.
        samples: (n,) samples drawn from G.
        num_iterations: the training length, for the left title (optional).
    """
    z = _curve("z", z)
    learned, derived = _curve("learned", learned, len(z)), _curve("derived", derived, len(z))
    ax_map, ax_samples = get_axes(axes, figsize=(11.0, 4.0))
    ax_map.plot(z, derived, color=COLORS["optimal"], ls="--", lw=2, label=r"$F^{-1}(\Phi(z))$, derived")
    ax_map.plot(z, learned, color=COLORS["generator"], lw=2, label=r"$G_\theta(z)$, learned")
    ax_map.set_xlabel("noise $z$")
    ax_map.set_ylabel("sample $x$")
    ax_map.legend(loc="upper left")
    after = f" after {num_iterations:,} GAN iterations" if num_iterations is not None else ""
    ax_map.set_title(f"the map from noise to samples{after}")
    plot_density_vs_samples(dist, samples, ax=ax_samples, label="$G(z)$ samples")
    tallest = max([p.get_height() for p in ax_samples.patches] + [line.get_ydata().max() for line in ax_samples.lines])
    ax_samples.set_ylim(0, 1.2 * tallest)  # room for the legend above the tallest bar
    ax_samples.legend(loc="upper left")
    ax_samples.set_title("what the generator draws")
    return ax_map.figure


# --- lesson 06: mode collapse -----------------------------------------------------------------

def plot_modes_over_time(iterations, counts, ax=None, mode_labels=None, title: str | None = None):
    """Which modes the generator covers as training runs: a mode-by-time heat map.

    Args:
        iterations: (T,) iterations at which coverage was measured.
        counts: (T, K) high-quality samples per mode at each time (``ModeCoverage.counts``);
            each row is shown as fractions of the samples measured at that time; a time
            with no high-quality sample at all is shaded grey.
        mode_labels: K labels for the rows (default: mode indices).
    """
    c = as_array("counts", counts, min_size=0)
    it = _curve("iterations", iterations)
    if c.ndim != 2 or c.shape[0] != len(it):
        raise ValueError(f"counts must have shape (len(iterations), K) = ({len(it)}, K), got {c.shape}")
    if mode_labels is not None and len(mode_labels) != c.shape[1]:
        raise ValueError(f"mode_labels must name each of the {c.shape[1]} modes, got {len(mode_labels)}")
    ax = get_ax(ax)
    frac = c / np.maximum(c.sum(axis=1, keepdims=True), 1)
    step = it[1] - it[0] if len(it) > 1 else 1.0
    extent = (it[0] - step / 2, it[-1] + step / 2, c.shape[1] - 0.5, -0.5)
    im = ax.imshow(frac.T, aspect="auto", cmap="Greens", vmin=0, vmax=1, extent=extent, interpolation="nearest")
    ax.set_yticks(range(c.shape[1]))
    ax.set_yticklabels(mode_labels if mode_labels is not None else range(c.shape[1]))
    ax.set_xlabel("iteration")
    ax.set_ylabel("mode")
    ax.grid(False)
    ax.figure.colorbar(im, ax=ax, label="share of high-quality samples")
    empty = np.flatnonzero(c.sum(axis=1) == 0)  # no high-quality sample at all: grey, not white
    for k in empty:
        ax.axvspan(it[k] - step / 2, it[k] + step / 2, color="0.8", lw=0,
                   label="no high-quality sample" if k == empty[0] else None)
    if len(empty):
        ax.legend(loc="upper left", bbox_to_anchor=(0, -0.18), fontsize="small", frameon=False)
    if title:
        ax.set_title(title)
    return ax.figure


# --- lessons 02-04: likelihood, the minimax game, the optimal discriminator ----------------
# Artists that the lessons' widgets move carry a gid; ``find_artist`` fetches them, so a
# panel draws its figure once with these same functions and then only updates the data.

def find_artist(fig, gid: str):
    """The artist in ``fig`` whose gid is ``gid`` (set by the plot functions below)."""
    found = fig.findobj(lambda a: a.get_gid() == gid)
    if not found:
        raise KeyError(f"no artist with gid {gid!r} in this figure")
    return found[0]


class Blitter:
    """Redraw only a figure's moving artists over a cached background (blitting with Agg).

    The static part is drawn once, the layout then frozen, and each ``frame()`` restores
    that background and draws the ``moving`` artists on it: a few milliseconds instead of
    a full draw. Call ``invalidate()`` after changing anything static (an axis limit).
    """

    def __init__(self, figure, moving):
        self.figure = figure
        self.canvas = FigureCanvasAgg(figure)
        self.moving = list(moving)
        for artist in self.moving:
            artist.set_animated(True)  # left out of the background, drawn on top of it per frame
        self._background = None

    def invalidate(self) -> None:
        """Draw the static part again at the next frame."""
        self._background = None

    def frame(self) -> np.ndarray:
        """The figure as an (H, W, 4) RGBA array: the background plus the moving artists."""
        if self._background is None:
            self.canvas.draw()
            self.figure.set_layout_engine("none")  # keep the first layout; frames then only move data
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        for artist in self.moving:
            self.figure.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())


def _check_frame(rgba) -> None:
    if not (isinstance(rgba, np.ndarray) and rgba.dtype == np.uint8 and rgba.ndim == 3 and rgba.shape[2] == 4):
        raise ValueError(f"rgba must be an (H, W, 4) uint8 array, as Blitter.frame() returns, got {describe(rgba)}")


def encode_png(rgba: np.ndarray) -> bytes:
    """An (H, W, 4) RGBA frame (``Blitter.frame()``) as PNG bytes, compressed lightly for speed."""
    import PIL.Image

    _check_frame(rgba)
    buf = io.BytesIO()
    PIL.Image.fromarray(np.ascontiguousarray(rgba[..., :3])).save(buf, format="png", compress_level=1)
    return buf.getvalue()


def encode_jpeg(rgba: np.ndarray, quality: int = 90) -> bytes:
    """An (H, W, 4) RGBA frame as JPEG bytes: several times faster to encode than PNG for live views."""
    import PIL.Image

    _check_frame(rgba)
    quality = check_int("quality", quality, low=1, high=95)
    buf = io.BytesIO()
    image = PIL.Image.frombuffer("RGBA", (rgba.shape[1], rgba.shape[0]), rgba, "raw", "RGBA", 0, 1)  # no copy
    image.convert("RGB").save(buf, format="jpeg", quality=quality)
    return buf.getvalue()


def get_axes(axes=None, ncols: int = 2, figsize=(11.0, 3.8)):
    """``axes`` if given, else ``ncols`` side-by-side axes of one new figure."""
    if axes is None:
        ncols = check_int("ncols", ncols, low=1)
        _, axes = plt.subplots(1, ncols, figsize=figsize)
    return axes


def likelihood_ranges(x) -> tuple[tuple[float, float], tuple[float, float]]:
    """(mu_range, sigma_range) around a sample's maximum-likelihood Gaussian, for surfaces and sliders."""
    from .theory import gaussian_mle

    mu, sigma = gaussian_mle(_np(x))
    return (mu - 2.5 * sigma, mu + 2.5 * sigma), (0.15 * sigma, 2.5 * sigma)


def likelihood_title(mu: float, sigma: float, mean_ll: float) -> str:
    """The title of the fit panel: which Gaussian, and its mean log-likelihood."""
    return rf"$\mathcal{{N}}(\mu = {mu:.2f}, \sigma = {sigma:.2f})$: $\frac{{1}}{{n}}\log L$ = {mean_ll:.3f} nats"


# Bands of the likelihood surface, in nats below its maximum: fine near the top, coarse far down, so both
# the peak and a poor start some 15 nats lower sit in bands of their own.
LIKELIHOOD_DEPTHS = (64.0, 32.0, 16.0, 8.0, 4.0, 2.0, 1.0, 0.5, 0.25, 0.0)


def plot_gaussian_likelihood(x, mu: float, sigma: float, dist=None, axes=None, n: int = 90):
    """Fitting N(mu, sigma^2) to a sample by maximum likelihood.

    Left: the sample's histogram, the true density (if ``dist``) and the model. Right: the
    mean log-likelihood (1/n) log L over (mu, sigma), its maximum (star) and (mu, sigma) (dot).
    The bands are ``LIKELIHOOD_DEPTHS`` nats below the maximum, halving towards it; the lowest
    band holds everything further down.
    """
    from .distributions import gaussian_1d
    from .theory import gaussian_log_likelihood, gaussian_mle

    x = _curve("x", x)
    mu, sigma = check_float("mu", mu), check_float("sigma", sigma, low=0.0, low_open=True)
    n = check_int("n", n, low=2)
    ax_fit, ax_surface = get_axes(axes)
    (mu_lo, mu_hi), (s_lo, s_hi) = likelihood_ranges(x)
    grid = np.linspace(min(x.min(), mu_lo), max(x.max(), mu_hi), 400)
    heights = ax_fit.hist(x, bins=50, density=True, color=COLORS["data"], alpha=0.3, label="sample")[0]
    if dist is not None:
        ax_fit.plot(grid, dist.density(grid), color=COLORS["data"], lw=1.5, label="$p_{data}$")
    model = gaussian_1d(mu, sigma).density(grid)
    ax_fit.plot(grid, model, color=COLORS["generator"], lw=2, label=r"$\mathcal{N}(\mu, \sigma^2)$",
                gid="model_density")
    ax_fit.set_ylim(0, 1.3 * max(model.max(), heights.max()))
    ax_fit.set_xlabel("x")
    ax_fit.set_ylabel("density")
    ax_fit.legend(loc="upper right")
    ax_fit.set_title(likelihood_title(mu, sigma, gaussian_log_likelihood(x, mu, sigma) / x.size), gid="fit_title")

    mus, sigmas = np.linspace(mu_lo, mu_hi, n), np.linspace(s_lo, s_hi, n)
    surface = gaussian_log_likelihood(x, mus[None, :], sigmas[:, None]) / x.size  # (sigma, mu)
    top = surface.max()
    levels = top - np.asarray(LIKELIHOOD_DEPTHS)
    from matplotlib.colors import BoundaryNorm

    # one distinct colour per band, however unequal the bands' depths
    bands = ax_surface.contourf(mus, sigmas, np.clip(surface, levels[0], top), levels=levels, cmap="viridis",
                                norm=BoundaryNorm(levels, plt.get_cmap("viridis").N), gid="surface")
    bar = ax_fit.figure.colorbar(bands, ax=ax_surface, label=r"$\frac{1}{n}\log L$ (nats)", ticks=levels,
                                 spacing="uniform")
    bar.ax.set_yticklabels([f"{v:.1f}" for v in levels[:-1]] + [f"{top:.2f} (max)"], fontsize=8)
    ax_surface.plot(*gaussian_mle(x), marker="*", ms=14, color="gold", mec="k", ls="", label="maximum")
    ax_surface.plot([mu], [sigma], marker="o", ms=8, color=COLORS["generator"], mec="white", ls="",
                    label=r"$(\mu, \sigma)$", gid="current")
    ax_surface.set_xlim(mu_lo, mu_hi)
    ax_surface.set_ylim(s_lo, s_hi)
    ax_surface.set_xlabel(r"$\mu$")
    ax_surface.set_ylabel(r"$\sigma$")
    ax_surface.set_title(r"the surface $\frac{1}{n}\log L(\mu, \sigma)$")
    ax_surface.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)  # below, off the surface
    return ax_fit.figure


def plot_density_vs_likelihood(x_obs: float, mu: float, sigma: float, axes=None,
                               sigma_max: float = 10.0):
    """The Gaussian formula N(x | mu, sigma^2) read two ways, in three panels.

    Left: the density, a function of x with (mu, sigma) fixed. Middle: the likelihood of one
    observation ``x_obs`` as a function of mu (sigma fixed). Right: the same as a function of sigma
    (mu fixed), up to ``sigma_max``. A black dot marks the one number the three curves share.
    """
    from scipy import stats

    x_obs, mu = check_float("x_obs", x_obs), check_float("mu", mu)
    sigma = check_float("sigma", sigma, low=0.0, low_open=True)
    sigma_max = check_float("sigma_max", sigma_max, low=sigma, low_open=True)
    ax_x, ax_mu, ax_sigma = get_axes(axes, ncols=3, figsize=(13.0, 3.8))
    shared = stats.norm(mu, sigma).pdf(x_obs)
    xs = np.linspace(mu - 4 * sigma, mu + 4 * sigma, 400)
    mus = np.linspace(x_obs - 4 * sigma, x_obs + 4 * sigma, 400)
    sigmas = np.linspace(0.02 * sigma_max, sigma_max, 400)
    curves = ((ax_x, xs, stats.norm(mu, sigma).pdf(xs), x_obs, COLORS["data"]),
              (ax_mu, mus, stats.norm(mus, sigma).pdf(x_obs), mu, COLORS["discriminator"]),
              (ax_sigma, sigmas, stats.norm(mu, sigmas).pdf(x_obs), sigma, COLORS["generator"]))
    for ax, grid, values, at, color in curves:
        ax.plot(grid, values, color=color, lw=2)
        ax.plot([at], [shared], "o", color="k", ms=6)
        ax.set_xlim(grid[0], grid[-1])
        ax.set_ylim(0, 1.15 * values.max())
    ax_x.set_xlabel(rf"$x$  (fixed: $\mu = {mu:g}$, $\sigma = {sigma:g}$)")
    ax_x.set_ylabel(rf"density $\mathcal{{N}}(x \mid {mu:g}, {sigma:g}^2)$")
    ax_x.set_title("density: a function of $x$")
    ax_mu.set_xlabel(rf"$\mu$  (fixed: $x = {x_obs:g}$, $\sigma = {sigma:g}$)")
    ax_mu.set_ylabel(rf"likelihood $\mathcal{{N}}({x_obs:g} \mid \mu, {sigma:g}^2)$")
    ax_mu.set_title(r"likelihood: a function of $\mu$")
    ax_sigma.set_xlabel(rf"$\sigma$  (fixed: $x = {x_obs:g}$, $\mu = {mu:g}$)")
    ax_sigma.set_ylabel(rf"likelihood $\mathcal{{N}}({x_obs:g} \mid {mu:g}, \sigma^2)$")
    ax_sigma.set_title(r"likelihood: a function of $\sigma$")
    return ax_x.figure


def plot_gaussian_fits(dist, fits: dict, ax=None):
    """A 1-D distribution and Gaussians fitted to it: ``fits`` maps a label to (mu, sigma)."""
    from .distributions import gaussian_1d

    _check_dist(dist, 1)
    if not isinstance(fits, dict):
        raise ValueError(f"fits must be a dict of label -> (mu, sigma), got {describe(fits)}")
    for label, pair in fits.items():
        try:
            _, sigma = (float(v) for v in pair)
        except (TypeError, ValueError):
            raise ValueError(f"fits[{label!r}] must be a pair (mu, sigma), got {describe(pair)}") from None
        check_float(f"the sigma of fits[{label!r}]", sigma, low=0.0, low_open=True)
    ax = get_ax(ax)
    lo, hi = dist.support()
    lo, hi = float(lo[0]), float(hi[0])
    x = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 500)
    plot_density(dist, ax=ax, x=x)
    for (label, (mu, sigma)), color in zip(fits.items(), (COLORS["generator"], COLORS["discriminator"], "#9467bd")):
        ax.plot(x, gaussian_1d(mu, sigma).density(x), color=color, lw=2, ls="--", label=label)
    ax.legend(loc="upper right")
    return ax.figure


def bilinear_limits(paths: dict) -> tuple[float, tuple[float, float]]:
    """Axes that fit gradient paths of ``plot_bilinear_game``: the plane's half-width and the
    distance panel's (bottom, top), the top twice the farthest distance (room for the legend).

    The plane shows at most ten times the start's distance from (0, 0), so a path that flies
    apart still shows its first turns; non-finite points (a path overflowed to inf) are ignored.
    """
    points = np.concatenate([_np(p).reshape(-1, 2) for p in paths.values()])
    start = float(np.hypot(*_np(next(iter(paths.values())))[0]))
    with np.errstate(over="ignore", invalid="ignore"):  # near-overflowing points give inf here: dropped
        radius = np.hypot(points[:, 0], points[:, 1])
    radius = radius[np.isfinite(radius)]
    if not len(radius):
        radius = np.array([max(start, 1.0)])
    reach = min(float(radius.max()), 10 * start) if start > 0 else float(radius.max())
    lim = 1.15 * max(reach, 1e-3)
    low = max(float(radius.min()) / 2, 1e-300)
    return lim, (low, min(max(2 * float(radius.max()), 2 * low), 1e300))


def set_log_limits(ax, low: float, top: float) -> None:
    """Set a log-scale y axis to (low, top), labelling 1, 2 and 5 of each decade when it spans few decades."""
    ax.set_ylim(low, top)
    ax.yaxis.set_minor_formatter(NullFormatter())  # on a short axis matplotlib would label minor ticks too
    if top / low < 300:
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    else:  # many decades: matplotlib's own choice of decades
        ax.yaxis.set_major_locator(LogLocator(base=10))
        ax.yaxis.set_major_formatter(LogFormatterSciNotation())


def plot_bilinear_game(paths: dict, axes=None, lim: float | None = None, max_radius: float | None = None):
    r"""Gradient play on :math:`\min_x \max_y xy`: the paths in the (x, y) plane (left) and their
    distance from the equilibrium (0, 0) against the round (right, log scale).

    Args:
        paths: a label -> (num_rounds + 1, 2) array, e.g. from ``theory.bilinear_game``.
        lim: the left panel shows [-lim, lim]^2; default: fit the paths (``bilinear_limits``).
        max_radius: the right panel's top; default: fit the paths, with room for the legend.
    """
    if not isinstance(paths, dict) or not paths:
        raise ValueError(f"paths must be a dict of label -> (num_rounds + 1, 2) path, got {describe(paths)}")
    for label, path in paths.items():
        path = as_array(f"paths[{label!r}]", path, ndim=2, finite=False)  # a diverging path may reach inf
        if path.shape[1] != 2:
            raise ValueError(f"paths[{label!r}] must have shape (num_rounds + 1, 2), got {path.shape}")
    fit_lim, (low, top) = bilinear_limits(paths)
    lim = fit_lim if lim is None else check_float("lim", lim, low=0.0, low_open=True)
    top = top if max_radius is None else check_float("max_radius", max_radius, low=0.0, low_open=True)
    ax_plane, ax_radius = get_axes(axes)
    colors = (COLORS["discriminator"], COLORS["generator"], COLORS["data"], "#9467bd")
    for (label, path), color in zip(paths.items(), colors):
        path = _np(path)
        ax_plane.plot(path[:, 0], path[:, 1], color=color, lw=1.2, marker=".", ms=3, label=label,
                      gid=f"path:{label}")
        ax_radius.semilogy(np.hypot(path[:, 0], path[:, 1]), color=color, lw=1.5, label=label,
                           gid=f"radius:{label}")
    first = _np(next(iter(paths.values())))[0]
    ax_plane.plot(*first, marker="o", ms=7, color="k", ls="", label="start", gid="start")
    ax_plane.plot(0, 0, marker="*", ms=14, color="gold", mec="k", ls="", label="equilibrium")
    ax_plane.set_xlim(-lim, lim)
    ax_plane.set_ylim(-lim, lim)
    ax_plane.set_aspect("equal")
    ax_plane.set_xlabel("x (the minimiser, like G)")
    ax_plane.set_ylabel("y (the maximiser, like D)")
    ax_plane.set_title("the players' path in the (x, y) plane")
    ax_plane.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize="x-small")  # beside the plane
    ax_radius.set_xlim(0, max(len(_np(p)) - 1 for p in paths.values()))
    set_log_limits(ax_radius, min(low, top / 2), top)
    ax_radius.set_xlabel("round")
    ax_radius.set_ylabel("distance from (0, 0)")
    ax_radius.set_title("distance from the equilibrium")
    ax_radius.legend(loc="upper left", ncol=2)  # in the room left above the curves
    return ax_plane.figure


def plot_generator_gradients(ax=None):
    """|dL_G/da| against D(G(z)) for the minimax and the non-saturating generator losses."""
    from .theory import generator_logit_gradient

    ax = get_ax(ax)
    d_fake = np.linspace(1e-3, 1 - 1e-3, 400)
    logits = np.log(d_fake) - np.log1p(-d_fake)
    ax.axvspan(0, 0.1, color=COLORS["optimal"], alpha=0.15, lw=0, label="early training: D rejects fakes")
    for kind, label, color in (("minimax", r"minimax $\log(1 - D(G(z)))$", COLORS["discriminator"]),
                               ("nonsaturating", r"non-saturating $-\log D(G(z))$", COLORS["generator"])):
        ax.plot(d_fake, np.abs(generator_logit_gradient(logits, kind)), color=color, lw=2, label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.05)  # both gradients lie between 0 and 1
    ax.set_xlabel("$D(G(z))$")
    ax.set_ylabel(r"$|\partial L_G / \partial a|$, $a$ = D's logit")
    ax.set_title("the generator's gradient against $D(G(z))$")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)  # below, off the curves
    return ax.figure


# Plots of densities with D on a second axis leave this much room above the data for their legend.
DENSITY_HEADROOM = 1.5


def plot_optimal_discriminator(x, p_data, p_g, d_learned=None, ax=None, title: str | None = None):
    """Two densities on a grid ``x``, the optimal discriminator D* = p_data / (p_data + p_g)
    on a second axis (0 to 1), and optionally a learned D on the same axis; the legend sits
    in the room above both (``DENSITY_HEADROOM``)."""
    from .theory import optimal_discriminator

    x = _curve("x", x)
    p_data, p_g = _curve("p_data", p_data, len(x)), _curve("p_g", p_g, len(x))
    if d_learned is not None:
        _curve("d_learned", d_learned, len(x))
    ax = get_ax(ax)
    ax.plot(x, p_data, color=COLORS["data"], lw=2, label="$p_{data}$")
    ax.plot(x, p_g, color=COLORS["generator"], lw=2, label="$p_g$", gid="p_g")
    ax.set_ylim(0, DENSITY_HEADROOM * max(p_data.max(), p_g.max()))
    ax.set_xlabel("x")
    ax.set_ylabel("density")
    if title is not None:
        ax.set_title(title)
    ax_d = ax.twinx()
    ax_d.grid(False)
    ax_d.axhline(0.5, color=COLORS["optimal"], ls=":", lw=1, label="$D = 1/2$")
    ax_d.plot(x, optimal_discriminator(p_data, p_g), color=COLORS["discriminator"], lw=2, ls="--",
              label="$D^*(x)$", gid="d_star")
    if d_learned is not None:
        ax_d.plot(x, _np(d_learned), color="k", lw=1.5, label="learned $D(x)$", gid="d_learned")
    ax_d.set_ylim(-0.02, DENSITY_HEADROOM)
    ax_d.set_yticks(np.linspace(0, 1, 5))
    ax_d.set_ylabel("D(x)")
    lines = ax.get_lines() + [a for a in ax_d.get_lines() if not a.get_label().startswith("_")]
    ax.legend(lines, [a.get_label() for a in lines], loc="upper center", ncol=3)
    return ax.figure


def plot_c_of_g(params, c_values, current=None, ax=None, xlabel: str = r"$\mu_g$", jsd=False,
                title: str | None = None):
    r"""C(G) = max_D V(D, G) against a parameter of p_g, its floor -log 4, and the current value.

    C(G) = -log 4 + 2 JSD is at most 0, so the band above 0 holds the legend.

    Args:
        params, c_values: the curve, e.g. C(G) for a range of p_g's means.
        current: (param, C) marked with a dot, or None.
        jsd: also label the right axis with JSD = (C(G) + log 4) / 2.
        title: the panel's title, or None.
    """
    params = _curve("params", params)
    c_values = _curve("c_values", c_values, len(params))
    if current is not None:
        try:
            pair = [check_float("current", v) for v in current]
        except TypeError:
            pair = []
        if len(pair) != 2:
            raise ValueError(f"current must be a pair (param, C), got {describe(current)}")
    ax = get_ax(ax)
    ax.plot(_np(params), _np(c_values), color=COLORS["discriminator"], lw=2, label="$C(G)$", gid="c_curve")
    ax.axhline(-np.log(4), color=COLORS["optimal"], ls="--", lw=1, label=r"$-\log 4$ (at $p_g = p_{data}$)")
    if current is not None:
        ax.plot(*current, marker="o", ms=9, color=COLORS["generator"], mec="white", ls="", gid="current")
    ax.set_xlim(np.min(_np(params)), np.max(_np(params)))
    ax.set_ylim(-np.log(4) - 0.05, 0.45)
    ax.set_yticks(np.arange(-1.4, 0.01, 0.2))
    ax.set_xlabel(xlabel)
    ax.set_ylabel("$C(G)$ (nats)")
    if title is not None:
        ax.set_title(title)
    if jsd:
        right = ax.secondary_yaxis("right", functions=(lambda c: (c + np.log(4)) / 2, lambda j: 2 * j - np.log(4)))
        right.set_yticks(np.arange(0.0, 0.61, 0.1))
        right.set_ylabel("JSD$(p_{data} \\| p_g)$ (nats)")
    ax.legend(loc="upper center", ncol=2)
    return ax.figure


JSD_MAP_MARKERS = (("*", 16, COLORS["discriminator"]), ("D", 8, "white"), ("s", 7, "#9467bd"))
JSD_MAP_STEP = 0.0125  # nats per colour band: fine enough to tell minima 0.015 apart


def plot_gaussian_jsd_map(mus, sigmas, jsd, minima=None, ax=None, title: str | None = None):
    r"""The JSD between p_data and each Gaussian :math:`\mathcal N(\mu_g, \sigma_g^2)` of a grid, as
    coloured bands (colour bar in nats, from the lowest value to log 2), and named points marked.

    Args:
        mus, sigmas: the grid's axes, each increasing.
        jsd: the JSD at each grid point, shape (len(sigmas), len(mus)).
        minima: label -> (mu_g, sigma_g), marked in turn with a red star, a white diamond and a
            square (at most three), e.g. the best Gaussian and a local minimum; or None.
        title: the panel's title, or None.
    """
    mus, sigmas = _curve("mus", mus, min_size=2), _curve("sigmas", sigmas, min_size=2)
    jsd = as_array("jsd", jsd, ndim=2)
    if jsd.shape != (len(sigmas), len(mus)):
        raise ValueError(f"jsd must have shape (len(sigmas), len(mus)) = ({len(sigmas)}, {len(mus)}), "
                         f"got {jsd.shape}")
    minima = {} if minima is None else minima
    if not isinstance(minima, dict) or len(minima) > len(JSD_MAP_MARKERS):
        raise ValueError(f"minima must be a dict of at most {len(JSD_MAP_MARKERS)} label -> (mu_g, sigma_g), "
                         f"got {describe(minima)}")
    ax = get_ax(ax)
    low = np.floor(jsd.min() / JSD_MAP_STEP) * JSD_MAP_STEP
    levels = np.append(np.arange(low, np.log(2), JSD_MAP_STEP), np.log(2) + 1e-9)
    bands = ax.contourf(mus, sigmas, np.clip(jsd, low, np.log(2)), levels=levels, cmap="viridis_r", gid="jsd_map")
    ax.figure.colorbar(bands, ax=ax, label=r"JSD$(p_{data} \| p_g)$ (nats)",
                       ticks=np.arange(np.ceil(low * 10) / 10, np.log(2), 0.1))
    for (label, point), (marker, size, color) in zip(minima.items(), JSD_MAP_MARKERS):
        mu_g, sigma_g = (check_float(f"minima[{label!r}]", v) for v in point)
        ax.plot([mu_g], [sigma_g], marker=marker, ms=size, color=color, mec="k", ls="", label=label)
    ax.set_xlim(mus[0], mus[-1])
    ax.set_ylim(sigmas[0], sigmas[-1])
    ax.set_xlabel(r"$\mu_g$, the generator's mean")
    ax.set_ylabel(r"$\sigma_g$, its standard deviation")
    if title is not None:
        ax.set_title(title)
    if minima:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=len(minima), frameon=False)  # below the map
    return ax.figure


# --- lessons 06-07 (continued) ---------------------------------------------------------

def plot_coverage_traces(runs, ax=None, title: str | None = None):
    """Modes captured against the iteration, one line per run (``mode_experiments.run_mode_experiment`` results).

    Args:
        runs: dicts with ``trace`` ([iteration, n_captured, high_quality] rows), ``label``
            (or ``method``), ``seed`` and ``n_modes``.
    """
    runs = list(runs) if isinstance(runs, (list, tuple)) else []
    if not runs:
        raise ValueError("runs must be a non-empty list of mode_experiments.run_mode_experiment results")
    for i, run in enumerate(runs):
        check_keys(f"runs[{i}]", run, ("trace", "n_modes"))
        check_keys(f"runs[{i}]", run, ("label",) if "label" in run else ("method",))
        trace = as_array(f"runs[{i}]['trace']", run["trace"], ndim=2)
        if trace.shape[1] < 2:
            raise ValueError(f"runs[{i}]['trace'] must have rows [iteration, n_captured, ...], got {trace.shape}")
    ax = get_ax(ax)
    labels = list(dict.fromkeys(r.get("label", r["method"]) for r in runs))
    palette = dict(zip(labels, ["#7f7f7f", COLORS["generator"], COLORS["discriminator"], COLORS["data"]]))
    shown = set()
    for r in runs:
        label = r.get("label", r["method"])
        t = np.asarray(r["trace"], dtype=float)
        ax.plot(t[:, 0], t[:, 1], color=palette.get(label), alpha=0.8, lw=1.5,
                label=None if label in shown else label)
        shown.add(label)
    ax.axhline(runs[0]["n_modes"], color="k", ls=":", lw=1)
    ax.set_ylim(-0.5, runs[0]["n_modes"] + 0.8)
    ax.set_xlabel("iteration")
    ax.set_ylabel("modes captured")
    ax.legend(loc="lower right")
    if title:
        ax.set_title(title)
    return ax.figure


# --- lesson 11 -----------------------------------------------------------------------------

def plot_neighbours(queries, columns: dict, ax=None, title: str | None = None):
    """Each query image beside its nearest neighbours: one row per query, columns labelled by group.

    Args:
        queries: (n, 28, 28), (n, 1, 28, 28) or (n, 784) images, pixels in [0, 1].
        columns: group label -> (n, k, ...) images in [0, 1], the k neighbours of each query
            nearest first, e.g. {"nearest training images in pixels": ..., "... in features": ...}.
    """
    q = as_array("queries", queries, ndim=(2, 3, 4)).astype(np.float32)
    n = len(q)
    q = q.reshape(n, -1)
    if not isinstance(columns, dict) or not columns:
        raise ValueError(f"columns must be a non-empty dict of group label -> (n, k, ...) images, got {describe(columns)}")
    groups = []
    for label, images in columns.items():
        x = as_array(f"columns[{label!r}]", images, ndim=(3, 4, 5)).astype(np.float32)
        if len(x) != n or x.reshape(n, x.shape[1], -1).shape[2] != q.shape[1]:
            raise ValueError(f"columns[{label!r}] must be (n, k, ...) images with n = {n} queries of "
                             f"{q.shape[1]} pixels, got shape {x.shape}")
        groups.append((str(label), x.reshape(n, x.shape[1], -1)))
    per_row = 1 + sum(x.shape[1] for _, x in groups)
    tiles = np.concatenate([q[:, None]] + [x for _, x in groups], axis=1).reshape(n * per_row, -1)
    side, pad = int(round(np.sqrt(q.shape[1]))), 2
    ax = get_ax(ax, figsize=(1.2 + 0.8 * per_row, 1.4 + 0.62 * n))
    ax.imshow(1 - image_grid(tiles, nrow=per_row, padding=pad, pad_value=0.0), cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_axis_off()

    def centre(col):  # x of a column's middle, in pixels of the grid
        return pad + col * (side + pad) + (side - 1) / 2

    ax.text(centre(0), -3, "sample", ha="center", va="bottom", fontsize="small", fontweight="bold")
    col = 1
    for label, x in groups:
        k = x.shape[1]
        ax.axvline(pad / 2 + col * (side + pad) - pad / 2, color=COLORS["discriminator"], lw=1.5)
        ax.text((centre(col) + centre(col + k - 1)) / 2, -side * 0.6, label, ha="center", va="bottom",
                fontsize="small", fontweight="bold", wrap=True)
        for j in range(k):
            ax.text(centre(col + j), -3, f"{j + 1}", ha="center", va="bottom", fontsize="x-small")
        col += k
    if title:  # above the column labels, which sit above the axes in data coordinates
        ax.text((centre(0) + centre(per_row - 1)) / 2, -side * 1.25, title, ha="center", va="bottom",
                fontsize="medium")
    return ax.figure


def plot_frechet_by_size(curves: dict, fits: dict | None = None, ax=None):
    """The Fréchet distance against 1/n, one line per pair of sets, with each fit a + b/n dashed.

    Args:
        curves: label -> ``finite_sample.frechet_by_size`` result (sizes, mean, std).
        fits: label -> (a, b) of ``finite_sample.extrapolate_frechet``; drawn from 1/n = 0,
            where the line's height a is the distance with infinitely many images.
    """
    if not isinstance(curves, dict) or not curves:
        raise ValueError(f"curves must be a non-empty dict of label -> frechet_by_size result, got {describe(curves)}")
    fits = {} if fits is None else fits
    ax = get_ax(ax, figsize=(10.0, 3.8))
    for i, (label, c) in enumerate(curves.items()):
        check_keys(f"curves[{label!r}]", c, ("sizes", "mean", "std"))
        sizes = _curve(f"curves[{label!r}]['sizes']", c["sizes"])
        mean = _curve(f"curves[{label!r}]['mean']", c["mean"], len(sizes))
        std = _curve(f"curves[{label!r}]['std']", c["std"], len(sizes))
        colour = f"C{i}"
        fit_text = f" (fit: {fits[label][0]:.0f} + {fits[label][1]:,.0f} / n)" if label in fits else ""
        ax.errorbar(1 / sizes, mean, yerr=std, fmt="o", ms=4, color=colour, capsize=2, label=label + fit_text)
        if label in fits:
            a, b = fits[label]
            x = np.linspace(0, 1 / sizes.min(), 50)
            ax.plot(x, a + b * x, ls="--", lw=1, color=colour)
    ax.set_xlim(left=0)
    ax.set_ylim(bottom=0)
    ax.set_xlabel("1 / n  (n images in each set; n = ∞ at the left edge)")
    ax.set_ylabel("Fréchet distance")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="x-small")  # beside the axes, off the data
    return ax.figure


def plot_measures(results: dict, reference_score=None, axes=None):
    """Lesson 11's table as three panels: classifier score, Fréchet distance (log scale), precision against recall.

    Rows whose label starts with "real" are drawn in the data's colour, models in the generator's.

    Args:
        results: label -> ``evaluation.evaluate_samples`` result (classifier_score, frechet,
            precision, recall).
        reference_score: a ``metrics.ClassifierScore`` of real test images, drawn as a dotted line.
        axes: three axes, or None for a new figure.
    """
    if not isinstance(results, dict) or not results:
        raise ValueError(f"results must be a non-empty dict of label -> evaluate_samples result, got {describe(results)}")
    for label, r in results.items():
        check_keys(f"results[{label!r}]", r, ("classifier_score", "frechet", "precision", "recall"))
    if axes is None:
        _, axes = plt.subplots(1, 3, figsize=(14, 3.8), width_ratios=[1, 1, 1.15])
    labels = list(results)
    colors = [COLORS["data"] if label.startswith("real") else COLORS["generator"] for label in labels]
    axes[0].barh(labels, [r["classifier_score"][0] for r in results.values()], color=colors,
                 xerr=[r["classifier_score"][1] for r in results.values()], ecolor="k", capsize=2)
    if reference_score is not None:
        axes[0].axvline(reference_score[0], color="k", ls=":", lw=1.5, label="real test images")
        axes[0].legend(fontsize="x-small", loc="lower center", bbox_to_anchor=(0.5, 1.0), frameon=False)
    axes[0].set(xlabel="classifier score (higher is better)", xlim=(0, 10))
    frechet = [r["frechet"] for r in results.values()]
    axes[1].scatter(frechet, labels, color=colors, s=40, zorder=3)  # dots, not bars: a bar's length means nothing on a log axis
    axes[1].set(xscale="log", xlabel="Fréchet distance (log scale, lower is better)")
    ticks = [t for t in (10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000) if min(frechet) / 2 <= t <= max(frechet) * 2]
    axes[1].set_xticks(ticks, [f"{t:,}" for t in ticks])
    axes[1].minorticks_off()
    for ax in axes[:2]:
        ax.invert_yaxis()
    axes[1].set_yticklabels([])
    for label, r, colour in zip(labels, results.values(), colors):
        axes[2].scatter(r["recall"], r["precision"], color=colour, s=30)
    order = sorted(range(len(labels)), key=lambda i: results[labels[i]]["precision"])
    for rank, i in enumerate(order):  # labels to the right, nudged apart where points sit at similar heights
        r = results[labels[i]]
        right = r["recall"] > 0.8  # labels of points near the right edge go to their left
        axes[2].annotate(labels[i], (r["recall"], r["precision"]), fontsize=7, textcoords="offset points",
                         xytext=(-5 if right else 5, -9 if rank % 2 else 4), ha="right" if right else "left")
    axes[2].set(xlabel="recall (variety)", ylabel="precision (quality)", xlim=(-0.02, 1.02), ylim=(0.3, 1.0),
                title="blue: real images · green: models")
    return axes[0].figure
