r"""The training lab's compute layer: pure functions of the models and the data.

Densities on a grid, D and D* = p_data / (p_data + p_g), the JSD estimate, the z -> x
mapping, D's accuracy, mode coverage and the warnings. Nothing here draws or changes a
model; ``lab_figure`` draws these frames and ``lab_panel`` wires them to the controls.
The 2-D views (G's gradient arrows, the manifold, the 2-D density estimate) are in
``lab_views``.
"""
from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from . import coverage, distributions, theory
from .distributions import GaussianMixture, as_distribution
from .models import ACTIVATIONS, NOISE, MLPDiscriminator, MLPGenerator
from .utils import check_choice, check_float, check_int

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


def as_tensor(x, dtype) -> torch.Tensor:
    """x as a tensor of dtype; a NumPy array is copied (it may be read-only, as a frame's arrays are)."""
    if isinstance(x, torch.Tensor):
        return x.to(dtype)
    return torch.from_numpy(np.array(x, dtype=np.float64)).to(dtype)


@torch.no_grad()
def _forward(net, x) -> np.ndarray:
    p = next(net.parameters())
    return net(as_tensor(x, p.dtype).to(p.device)).cpu().double().numpy()


def _sigmoid(a):
    return 0.5 * (1.0 + np.tanh(0.5 * a))  # = 1 / (1 + e^{-a}), without overflow


@dataclass(frozen=True)
class DiscriminatorView:
    r"""How the lab reads D's output at a point x.

    Attributes:
        pack: PacGAN's m: D scores packs of m samples, so the lab shows D on a pack of m
            copies of x, :math:`D(x, \dots, x)`, the score of a generator collapsed onto x.
        critic: WGAN-GP's critic: its output is a score (no sigmoid) and it has no D*.
    """

    pack: int = 1
    critic: bool = False

    @property
    def kind(self) -> str:
        """One of "critic", "pack" and "probability"."""
        return "critic" if self.critic else "pack" if self.pack > 1 else "probability"


PLAIN = DiscriminatorView()  # the plain GAN's D: a probability at each point


def view_of(trainer) -> DiscriminatorView:
    """The ``DiscriminatorView`` of a trainer: PacGAN's m, a WGAN-GP critic, else the plain D."""
    from .remedies import PacGANTrainer, WGANGPTrainer

    if isinstance(trainer, PacGANTrainer):
        return DiscriminatorView(pack=trainer.m)
    return DiscriminatorView(critic=isinstance(trainer, WGANGPTrainer))


def d_on_points(D, x, view: DiscriminatorView = PLAIN) -> np.ndarray:
    """D at each point of ``x`` (n, d): the probability D(x), for PacGAN D(x, ..., x) on a pack
    of m copies, for a critic its score.

    Args:
        D: the discriminator (logits), or PacGAN's ``PackedDiscriminator`` (which packs its input).
        x: (n, d) or (n,) points.
        view: from ``view_of``.
    """
    x = np.asarray(x, dtype=np.float64)
    x = x.reshape(len(x), -1)
    if view.pack > 1:
        x = np.repeat(x, view.pack, axis=0)  # m consecutive copies make one pack
    out = _forward(D, x).reshape(-1)
    return out if view.critic else _sigmoid(out)


def d_accuracy(D, x_real, x_fake, view: DiscriminatorView = PLAIN) -> float:
    r"""D's accuracy on real against fake samples: the mean of its two hit rates at threshold 1/2.

    .. math:: \mathrm{acc} = \tfrac12\big(\Pr[D(x) > \tfrac12] + \Pr[D(G(z)) < \tfrac12]\big)

    For PacGAN the samples are packed in order (m at a time, all real or all fake); for a
    critic the threshold is the midpoint of its mean scores on the two sets.

    Args:
        D: the discriminator; x_real, x_fake: (n, d) samples; view: from ``view_of``.
    """
    real, fake = (np.asarray(v, dtype=np.float64).reshape(len(v), -1) for v in (x_real, x_fake))
    m = view.pack
    real, fake = real[:len(real) // m * m], fake[:len(fake) // m * m]
    s_real, s_fake = _forward(D, real).reshape(-1), _forward(D, fake).reshape(-1)
    if view.critic:
        t = 0.5 * (s_real.mean() + s_fake.mean())
    else:
        s_real, s_fake, t = _sigmoid(s_real), _sigmoid(s_fake), 0.5
    return float(0.5 * ((s_real > t).mean() + (s_fake < t).mean()))


def optimal_d(p_data, p_g, view: DiscriminatorView = PLAIN) -> np.ndarray:
    r"""D* for the view: :math:`p_{data}/(p_{data} + p_g)`; on packs of m copies of x
    :math:`p_{data}^m / (p_{data}^m + p_g^m)` (the packed densities are products); NaN for a critic.

    Goodfellow et al. 2014, Proposition 1; for packs, the same argument on the joint density
    of m independent samples (Lin et al. 2018, section 3).
    """
    p_data, p_g = (np.asarray(v, dtype=np.float64) for v in (p_data, p_g))
    if view.critic:
        return np.full(np.broadcast(p_data, p_g).shape, np.nan)
    if view.pack == 1:
        return theory.optimal_discriminator(p_data, p_g)
    # p^m / (p^m + q^m) = 1 / (1 + (q/p)^m), computed from logs so that small densities do not underflow
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = view.pack * (np.log(p_g) - np.log(p_data))
        out = 0.5 * (1.0 - np.tanh(0.5 * log_ratio))
    return np.where((p_data == 0) & (p_g == 0), 0.5, np.nan_to_num(out, nan=0.5))


def compute_frame_1d(G, D, dist, x, z_fixed, z_line, x_real, p_data=None,
                     view: DiscriminatorView = PLAIN) -> dict:
    """Everything the 1-D view shows, for the current weights (the models are not changed).

    Args:
        G, D: the generator and the discriminator (D returns logits).
        dist: the target; its exact density is used when it has one.
        x: (n,) the plotting grid, evenly spaced.
        z_fixed: (N, 1) fixed noise, for p_g and mode coverage.
        z_line: (k, 1) noise values whose images x = G(z) are drawn as in Figure 1.
        x_real: (N, 1) fixed real samples, for D's accuracy.
        p_data: density on ``x`` (default: ``dist.density(x)``).
        view: how D is read (``view_of(trainer)``): plain, PacGAN's packs, or a critic.
    Returns a dict: x, p_data, p_g, d (D(x)), d_star, d_kind, jsd, x_fake, z_line, x_line,
    d_accuracy, outside (fraction of G's samples off the grid), coverage (or None).
    """
    x = np.asarray(x, dtype=np.float64)
    dx = float(x[1] - x[0])
    p_data = dist.density(x) if p_data is None else np.asarray(p_data, dtype=np.float64)
    x_fake = _forward(G, z_fixed).reshape(-1)
    if not np.all(np.isfinite(x_fake)):
        raise ValueError("the generator's samples are not finite; reset the lab")
    p_g = compute_binned_kde_1d(x_fake, x)
    return {"x": x, "p_data": p_data, "p_g": p_g, "d": d_on_points(D, x[:, None], view),
            "d_star": optimal_d(p_data, p_g, view), "d_kind": view.kind,
            "jsd": theory.js_divergence_on_grid(p_data, p_g, dx), "x_fake": x_fake,
            "z_line": np.asarray(z_line, dtype=np.float64).reshape(-1),
            "x_line": _forward(G, z_line).reshape(-1),
            "d_accuracy": d_accuracy(D, x_real, x_fake[:, None], view),
            "outside": float(np.mean((x_fake < x[0]) | (x_fake > x[-1]))),
            "coverage": coverage.mode_coverage(x_fake, dist) if isinstance(dist, GaussianMixture) else None}


def compute_frame(trainer, seed: int = 0, n: int = 400, arrows: bool = False, manifold: bool = False) -> dict:
    """``compute_frame_1d`` (or ``_2d``) for a trainer, with the lab's grid and fixed batches.

    Args:
        trainer: a ``GANTrainer`` (or a remedy's trainer) on 1-D or 2-D data.
        seed: seeds the fixed noise and real batches (the same seed gives the same batches).
        n: points of the 1-D grid (or per side of the 2-D mesh, capped at 100).
        arrows: also G's gradient at fixed samples (``lab_views.compute_g_arrows``), key "arrows".
        manifold: 2-D only: also the warped noise grid (``lab_views.compute_manifold``), key "manifold".
    """
    from . import lab_views

    gen = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    dist = trainer.data
    z_fixed = trainer.G.sample_z(N_FIXED, generator=gen)
    x_real = dist.sample(N_FIXED, generator=gen)
    view = view_of(trainer)
    with one_thread():
        if dist.dim == 1:
            x = np.linspace(*view_range(dist), check_int("n", n, low=2))
            p_data = dist.density(x) if isinstance(dist, GaussianMixture) else \
                compute_kde_1d(dist.points[:5000], x)
            frame = compute_frame_1d(trainer.G, trainer.D, dist, x, z_fixed, z_line(trainer.G), x_real, p_data, view)
            z_arrows = z_line(trainer.G)
        else:
            lo, hi = view_box(dist)
            side = min(n, 100)
            mesh = np.meshgrid(np.linspace(float(lo[0]), float(hi[0]), side), np.linspace(float(lo[1]), float(hi[1]), side))
            frame = lab_views.compute_frame_2d(trainer.G, trainer.D, dist, mesh, z_fixed, x_real, view=view)
            z_arrows = z_fixed[:lab_views.N_ARROWS]
            if manifold:
                frame["manifold"] = lab_views.compute_manifold(trainer.G)
        if arrows:
            frame["arrows"] = lab_views.compute_g_arrows(trainer, z_arrows, x_real[:len(z_arrows)])
    return frame


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



@contextlib.contextmanager
def one_thread():
    """Run the block on one torch thread (restored after)."""
    # Small forward passes run faster on one thread, much faster when the cores are shared.
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(n)


def dim_of(G) -> int:
    """The dimension of G's samples (its config's out_dim), or -1 when it has none."""
    return getattr(getattr(G, "config", None), "out_dim", -1)


def view_range(dist) -> tuple[float, float]:
    """The 1-D view's x range for ``dist``: its support and a margin on both sides."""
    # The data's support and room on both sides for a generator that starts elsewhere.
    if isinstance(dist, GaussianMixture):
        lo, hi = (float(v[0]) for v in dist.support(4.0))
    else:
        pts = dist.points[:, 0].numpy()
        lo, hi = float(np.quantile(pts, 0.001)), float(np.quantile(pts, 0.999))
    span = max(hi - lo, 1e-3)
    return min(lo - 0.25 * span, -1.5), max(hi + 0.25 * span, 1.5)


def view_box(dist):
    """The 2-D view's box (lo, hi) for ``dist``: its support and a quarter of it on each side."""
    if isinstance(dist, GaussianMixture):
        lo, hi = dist.support(4.0)
    else:
        pts = dist.points.numpy()
        lo, hi = np.quantile(pts, 0.001, axis=0), np.quantile(pts, 0.999, axis=0)
    pad = 0.25 * np.maximum(hi - lo, 1e-3)
    return lo - pad, hi + pad


def z_line(G, k: int = 25) -> torch.Tensor:
    """``k`` evenly spaced noise values along z's first axis (quantiles for Gaussian noise)."""
    # Evenly spaced noise values (quantiles for Gaussian noise), as the z line of Figure 1.
    u = torch.linspace(-1, 1, k) if G.config.noise == "uniform" else torch.special.ndtri(torch.linspace(0.02, 0.98, k))
    z = torch.zeros(k, G.config.latent_dim)
    z[:, 0] = u
    return z

