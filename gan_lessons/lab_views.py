r"""The lab's 2-D views, as pure functions: G's gradient at fixed samples, the manifold, p_g and D*.

* ``compute_g_arrows``: where G's next update moves each of a fixed set of samples,
  computed before the update: a gradient step or G's next Adam step (``adam_step``) pushed
  through G's Jacobian, or the pull of each sample's own loss (GAN Lab's arrows).
* ``compute_manifold``: a grid of noise points warped by G, each cell shaded by the density
  that G puts there (probability mass of the cell in z over its area in x).
* ``compute_binned_kde_2d``: p_g on a mesh from G's samples, so that D* = p_data / (p_data + p_g)
  and the JSD can be drawn in 2-D as in 1-D.
* ``smoothing_bandwidth`` and ``smoothed_p_data``: the kernel that estimates p_g from G's samples
  blurs p_g, so p_data is blurred by the same kernel before the two are compared; otherwise the
  ring's narrow modes (std 0.01 against a kernel of about 0.2) make the JSD close to log 2 and D*
  close to 0 or 1 even for a perfect generator.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch.func import functional_call, jvp

from . import coverage, theory
from .distributions import GaussianMixture
from .lab_compute import PLAIN, DiscriminatorView, _forward, as_tensor, d_accuracy, d_on_points, optimal_d
from .losses import generator_loss
from .utils import check_choice, check_float, check_int

N_ARROWS = 200          # fixed samples that carry an arrow
MANIFOLD_CELLS = 20     # cells per side of the warped noise grid
ARROW_KINDS = ("step", "adam", "sample")


def generator_objective(trainer, z: torch.Tensor, x_real: torch.Tensor) -> torch.Tensor:
    r"""The loss G's next update descends, on the noise ``z``, for any of the lab's trainers.

    Plain GAN and PacGAN: ``losses.generator_loss`` of D's logits (on packs for PacGAN);
    WGAN-GP: :math:`-\mathbb E[D(G(z))]`; unrolled GAN: the loss against D after K look-ahead
    updates (``remedies.unrolled_generator_loss``, which uses ``x_real``). Differentiable in
    G's weights; D's weights and optimiser are not changed.
    """
    from .remedies import UnrolledGANTrainer, WGANGPTrainer, unrolled_generator_loss, wgan_generator_loss

    c = trainer.config
    if isinstance(trainer, UnrolledGANTrainer):
        return unrolled_generator_loss(trainer.D, trainer.G, trainer.d_opt, x_real, z, trainer.unroll_steps,
                                       c.g_loss, c.real_label)
    if isinstance(trainer, WGANGPTrainer):
        return wgan_generator_loss(trainer.D(trainer.G(z)))
    return generator_loss(trainer.D(trainer.G(z)), c.g_loss)


def compute_g_arrows(trainer, z, x_real=None, kind: str = "step") -> dict:
    r"""G's gradient at the samples x_i = G(z_i): the direction its next update moves each one.

    ``kind="step"``: the first-order motion of each sample under a gradient step on G's weights θ,

    .. math:: \Delta x_i = -J_i\,\nabla_\theta L_G, \qquad J_i = \partial G(z_i) / \partial\theta,

    with :math:`L_G` the trainer's own generator loss over these samples (a step of size 1;
    an SGD step of rate η moves them by η Δx_i). Samples move together: G's weights are shared.
    ``kind="adam"``: the same with the step G's Adam optimiser would take for that gradient,
    :math:`\Delta x_i = J_i\,\Delta\theta` with Δθ from ``adam_step``: where the lab's next
    update moves the samples, to first order, had it drawn them as its minibatch.
    ``kind="sample"``: each sample's own pull, :math:`-\partial \ell_i / \partial x_i` with
    :math:`\ell_i` its term of the loss (for PacGAN its pack's term), as GAN Lab draws it; for
    the unrolled GAN this is taken against today's D, without the look-ahead.

    Args:
        trainer: the lab's trainer (plain GAN or a remedy of ``remedies``).
        z: (n, latent_dim) noise; for PacGAN n is trimmed to a multiple of m.
        x_real: (n, d) real samples for the unrolled look-ahead (default: drawn from the data
            with a fixed seed, so the trainer's own random stream is not touched).
        kind: "step", "adam" or "sample".
    Returns a dict: x (n, d) the samples, dx (n, d) the arrows, kind.
    """
    from .remedies import PacGANTrainer, WGANGPTrainer

    kind = check_choice("kind", kind, ARROW_KINDS)
    G = trainer.G
    z = as_tensor(z, next(G.parameters()).dtype)
    if isinstance(trainer, PacGANTrainer):
        z = z[:len(z) // trainer.m * trainer.m]
    if x_real is None:
        x_real = trainer.data.sample(len(z), generator=torch.Generator().manual_seed(0))
    x_real = as_tensor(x_real, z.dtype)[:len(z)]
    d_params = list(trainer.D.parameters())
    saved = [p.requires_grad for p in d_params]
    for p in d_params:
        p.requires_grad_(False)  # gradients through D, never of its weights
    try:
        if kind == "sample":
            with torch.no_grad():
                x = G(z)
            x = x.detach().requires_grad_(True)
            logits = trainer.D(x)
            if isinstance(trainer, WGANGPTrainer):
                per_sample = -logits
            else:
                per_sample = generator_loss(logits, trainer.config.g_loss) * logits.numel()  # mean -> sum
            (grad_x,) = torch.autograd.grad(per_sample.sum() if per_sample.ndim else per_sample, x)
            dx = -grad_x
        else:
            names = [n for n, _ in G.named_parameters()]
            params = tuple(p.detach() for _, p in G.named_parameters())
            weights = [p.detach().requires_grad_(True) for p in params]
            loss = _objective_with(trainer, dict(zip(names, weights)), z, x_real)
            grads = torch.autograd.grad(loss, weights)
            if kind == "adam":
                tangent = adam_step(trainer.g_opt, [p for _, p in G.named_parameters()], grads)
            else:
                tangent = tuple(-g for g in grads)
            with torch.no_grad():
                x, dx = jvp(lambda *w: functional_call(G, dict(zip(names, w)), (z,)), params, tangent)
    finally:
        for p, flag in zip(d_params, saved):
            p.requires_grad_(flag)
    return {"x": x.detach().double().numpy(), "dx": dx.detach().double().numpy(), "kind": kind}


def adam_step(opt, params, grads) -> tuple:
    r"""The change Adam's next step would make to each parameter, given its gradient (nothing is changed).

    .. math:: m' = \beta_1 m + (1 - \beta_1) g, \quad v' = \beta_2 v + (1 - \beta_2) g^2, \quad
              \Delta\theta = -\eta\, \frac{m' / (1 - \beta_1^{t+1})}{\sqrt{v' / (1 - \beta_2^{t+1})} + \epsilon}

    Kingma and Ba 2015, Algorithm 1, with m, v and t read from the optimiser's state (zero
    before its first step). Each weight's step is scaled by its own history, so Δθ is not
    parallel to the gradient.

    Args:
        opt: a ``torch.optim.Adam`` (one parameter group, no weight decay or amsgrad).
        params: the parameters, in the order of ``grads``.
        grads: their gradients.
    """
    if not isinstance(opt, torch.optim.Adam):
        raise ValueError(f"kind='adam' needs G's optimiser to be torch.optim.Adam, got {type(opt).__name__}")
    group = opt.param_groups[0]
    if len(opt.param_groups) != 1 or group["weight_decay"] or group["amsgrad"] or group["maximize"]:
        raise ValueError("kind='adam' needs plain Adam: one parameter group, no weight decay, amsgrad or maximize")
    (b1, b2), eps, lr = group["betas"], group["eps"], float(group["lr"])
    out = []
    for p, g in zip(params, grads):
        state = opt.state.get(p, {})
        m = state.get("exp_avg", torch.zeros_like(g))
        v = state.get("exp_avg_sq", torch.zeros_like(g))
        t = float(state["step"]) if "step" in state else 0.0
        m_new, v_new = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        m_hat, v_hat = m_new / (1 - b1 ** (t + 1)), v_new / (1 - b2 ** (t + 1))
        out.append(-lr * m_hat / (v_hat.sqrt() + eps))
    return tuple(out)


def _objective_with(trainer, weights, z, x_real):
    # generator_objective with G's weights replaced by ``weights`` (leaf tensors to differentiate).
    G = trainer.G

    class _Swapped(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.config = G.config

        def forward(self, z_in):
            return functional_call(G, weights, (z_in,))

    original = trainer.G
    trainer.G = _Swapped()
    try:
        return generator_objective(trainer, z, x_real)
    finally:
        trainer.G = original


def manifold_noise(noise: str, cells: int = MANIFOLD_CELLS):
    r"""The vertices of a (cells + 1)^2 grid in 2-D noise space and each cell's probability mass.

    Uniform noise on [-1, 1]^2: an even grid, each cell of mass 1 / cells^2. Gaussian noise:
    the grid of quantiles :math:`z = \Phi^{-1}(u)` for u evenly spaced in [0.01, 0.99], so that
    each cell holds the same mass, :math:`(0.98 / \text{cells})^2` (the outer 2 % of each axis is left out).

    Returns (z (cells+1, cells+1, 2) as a tensor, mass (cells, cells)).
    """
    cells = check_int("cells", cells, low=2, high=200)
    noise = check_choice("noise", noise, ("uniform", "gaussian"))
    if noise == "uniform":
        u = torch.linspace(-1, 1, cells + 1, dtype=torch.float64)
        du = 2.0 / cells / 2.0  # the probability of one interval of U(-1, 1)
    else:
        q = torch.linspace(0.01, 0.99, cells + 1, dtype=torch.float64)
        u = torch.special.ndtri(q)
        du = 0.98 / cells
    gz, gy = torch.meshgrid(u, u, indexing="xy")
    return torch.stack([gz, gy], -1), np.full((cells, cells), du * du)


def quad_areas(vertices: np.ndarray) -> np.ndarray:
    r"""The area of each quadrilateral cell of a warped grid (shoelace formula).

    .. math:: A = \tfrac12 \lvert (x_3 - x_1) \times (x_4 - x_2) \rvert

    for the cell with corners x_1, x_2, x_3, x_4 in order (the cross product of its diagonals).

    Args:
        vertices: (r + 1, c + 1, 2) grid points.
    Returns (r, c) areas.
    """
    v = np.asarray(vertices, dtype=np.float64)
    a, b, c, d = v[:-1, :-1], v[:-1, 1:], v[1:, 1:], v[1:, :-1]
    d1, d2 = c - a, d - b
    return 0.5 * np.abs(d1[..., 0] * d2[..., 1] - d1[..., 1] * d2[..., 0])


def compute_manifold(G, cells: int = MANIFOLD_CELLS) -> dict | None:
    r"""The noise grid of ``manifold_noise`` warped by G, with the density G puts on each cell.

    .. math:: p_g(\text{cell}) \approx \frac{P_z(\text{cell in } z)}{\text{area of } G(\text{cell})}

    (the change of variables for an invertible map, averaged over the cell; where G folds the
    plane, several cells cover one place and each shows only its own share).
    Returns a dict: vertices (cells+1, cells+1, 2), quads (cells^2, 4, 2), density (cells^2,);
    None when G's noise is not 2-D.
    """
    if getattr(G.config, "latent_dim", None) != 2 or getattr(G.config, "out_dim", None) != 2:
        return None
    z, mass = manifold_noise(G.config.noise, cells)
    n = z.shape[0]
    x = _forward(G, z.reshape(-1, 2)).reshape(n, n, 2)
    area = quad_areas(x)
    quads = np.stack([x[:-1, :-1], x[:-1, 1:], x[1:, 1:], x[1:, :-1]], axis=2).reshape(-1, 4, 2)
    density = mass / np.maximum(area, 1e-12)
    return {"vertices": x, "quads": quads, "density": density.reshape(-1)}


def compute_binned_kde_2d(samples, mesh, bandwidth=None) -> np.ndarray:
    r"""A Gaussian kernel density estimate of 2-D samples on an even mesh, by linear binning.

    .. math:: \hat p(x) = \frac1n \sum_i \prod_{j=1}^{2} \frac{1}{h_j\sqrt{2\pi}}
              \exp\Big(-\frac{(x_j - x_{ij})^2}{2h_j^2}\Big), \qquad h_j = \hat\sigma_j\, n^{-1/6}

    (Scott's rule in two dimensions, with a diagonal bandwidth). Each sample's mass is split
    between the four nearest points of the mesh extended by 5h (bilinear binning), and the
    binned masses are smoothed along each axis by the sampled kernel (Wand and Jones 1995,
    appendix D), as ``lab_compute.compute_binned_kde_1d`` does in 1-D.

    Args:
        samples: (n, 2), n >= 2.
        mesh: (gx, gy) from ``np.meshgrid`` of two even, increasing grids.
        bandwidth: (h_x, h_y) > 0; default Scott's rule (floor 1e-3).
    Returns the density on the mesh, shape gx.shape.
    """
    s = np.asarray(samples, dtype=np.float64).reshape(-1, 2)
    if len(s) < 2 or not np.all(np.isfinite(s)):
        raise ValueError(f"samples must hold at least 2 finite 2-D points, got {len(s)}")
    gx, gy = (np.asarray(g, dtype=np.float64) for g in mesh)
    xs, ys = gx[0], gy[:, 0]
    if bandwidth is None:
        bandwidth = np.maximum(s.std(axis=0, ddof=1) * len(s) ** (-1 / 6), 1e-3)
    h = [check_float(f"bandwidth[{j}]", float(b), low=0.0, low_open=True) for j, b in enumerate(bandwidth)]
    mats = [_smoother(axis, hj) for axis, hj in ((xs, h[0]), (ys, h[1]))]
    (kx, ext_x), (ky, ext_y) = mats
    mass = np.zeros((len(ext_y), len(ext_x)))
    px = (s[:, 0] - ext_x[0]) / (ext_x[1] - ext_x[0])
    py = (s[:, 1] - ext_y[0]) / (ext_y[1] - ext_y[0])
    inside = (px >= 0) & (px <= len(ext_x) - 1) & (py >= 0) & (py <= len(ext_y) - 1)
    px, py = px[inside], py[inside]
    ix = np.minimum(np.floor(px).astype(int), len(ext_x) - 2)
    iy = np.minimum(np.floor(py).astype(int), len(ext_y) - 2)
    fx, fy = px - ix, py - iy
    size = mass.size
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dxx, wx in ((0, 1 - fx), (1, fx)):
            mass += np.bincount((iy + dy) * len(ext_x) + ix + dxx, wx * wy, size).reshape(mass.shape)
    return ky @ mass @ kx.T / len(s)


def _smoother(axis: np.ndarray, h: float):
    # The grid extended by 5h each side, and the matrix that smooths binned masses on it onto ``axis``.
    if len(axis) < 2:
        raise ValueError("mesh must have at least 2 points along each axis")
    step = (axis[-1] - axis[0]) / (len(axis) - 1)
    if step <= 0 or not np.allclose(np.diff(axis), step, rtol=1e-4, atol=0):
        raise ValueError("mesh must be made of evenly spaced, increasing grids")
    reach = math.ceil(5 * h / step)
    ext = axis[0] + step * np.arange(-reach, len(axis) + reach)
    u = (axis[:, None] - ext[None, :]) / h
    k = np.exp(-0.5 * u * u)
    # the sampled kernel sums to exactly 1 over the grid's steps (as in 1-D), even when h is below a step
    stencil = np.arange(-reach - len(axis), reach + len(axis) + 1) * step / h
    k /= step * np.exp(-0.5 * stencil * stencil).sum()
    return k, ext


def cell_mean_density(dist: GaussianMixture, mesh) -> np.ndarray:
    r"""A 2-D Gaussian mixture's density averaged over each cell of an even mesh (cells centred on its points).

    .. math:: \bar p(\text{cell}) = \frac{1}{\Delta x \Delta y} \sum_k \pi_k
              \big[\Phi(\tfrac{b - \mu_{k1}}{\sigma_k}) - \Phi(\tfrac{a - \mu_{k1}}{\sigma_k})\big]
              \big[\Phi(\tfrac{d - \mu_{k2}}{\sigma_k}) - \Phi(\tfrac{c - \mu_{k2}}{\sigma_k})\big]

    for the cell [a, b] x [c, d]: an isotropic Gaussian's mass in a box is a product of
    differences of its normal CDF. Unlike the density at the mesh points it keeps a mode
    narrower than a cell (the ring's modes have std 0.01; a cell is 0.04 wide), so D* and the
    JSD on the mesh are those of the two distributions coarsened to the cells.

    Args:
        dist: a 2-D ``GaussianMixture``.
        mesh: (gx, gy) from ``np.meshgrid`` of even, increasing grids.
    """
    from scipy.special import ndtr

    gx, gy = (np.asarray(g, dtype=np.float64) for g in mesh)
    masses = []
    for j, axis in enumerate((gx[0], gy[:, 0])):
        step = (axis[-1] - axis[0]) / (len(axis) - 1)
        edges = np.concatenate([axis - step / 2, axis[-1:] + step / 2])
        u = (edges[None, :] - dist.centres[:, j:j + 1]) / dist.stds[:, None]
        lower, upper = u[:, :-1], u[:, 1:]
        # above a mode both CDFs round to 1: there take the difference of the survival functions
        mass = np.where(lower > 0, ndtr(-lower) - ndtr(-upper), ndtr(upper) - ndtr(lower))
        masses.append((mass, step))
    (mx, sx), (my, sy) = masses
    return np.einsum("k,ky,kx->yx", dist.weights, my, mx) / (sx * sy)


def smoothing_bandwidth(dist, n: int) -> float:
    r"""The width of the kernel that estimates p_g from n samples of G in 2-D, fixed by the target.

    .. math:: h = \bar\sigma\, n^{-1/6}, \qquad \bar\sigma^2 = \tfrac12 (\mathrm{Var}\,x_1 + \mathrm{Var}\,x_2)
              \ \text{under } p_{data}

    Scott's rule in two dimensions (Scott 1992, section 6.3), with one width for both axes and
    the spread of p_data rather than of G's samples, so that the kernel, and with it the JSD
    estimate, stays the same while G moves.

    Args:
        dist: a 2-D ``GaussianMixture`` or a target that holds ``points``.
        n: how many samples of G the estimate uses, >= 2.
    """
    n = check_int("n", n, low=2)
    if isinstance(dist, GaussianMixture):
        w, mu = dist.weights, dist.centres
        mean = w @ mu
        var = w @ (mu ** 2 + dist.stds[:, None] ** 2) - mean ** 2  # per axis
    else:
        var = dist.points.double().numpy().var(axis=0, ddof=1)
    return float(np.sqrt(var.mean()) * n ** (-1 / 6))


def smoothed_p_data(dist, mesh, bandwidth: float) -> np.ndarray:
    r"""p_data seen through the kernel that estimates p_g, averaged over each cell of the mesh.

    .. math:: \tilde p_{data} = p_{data} * \mathcal N(0, h^2 I) = \sum_k \pi_k\,
              \mathcal N\big(\mu_k, (\sigma_k^2 + h^2) I\big)

    for a Gaussian mixture (a sum of independent Gaussians is Gaussian), then averaged over the
    cells by ``cell_mean_density``; for a target of points, their KDE with the same kernel. The
    expected KDE of G's samples is :math:`p_g * \mathcal N(0, h^2 I)`, so D* and the JSD on the
    mesh compare the two distributions blurred alike: a perfect G gives D* near 1/2 and a JSD
    near 0, and the convolution is one-to-one, so the smoothed pair is equal only if p_g = p_data.

    Args:
        dist: a 2-D ``GaussianMixture`` or a target that holds ``points``.
        mesh: (gx, gy) from ``np.meshgrid`` of even, increasing grids.
        bandwidth: h > 0, as from ``smoothing_bandwidth``.
    """
    h = check_float("bandwidth", bandwidth, low=0.0, low_open=True)
    if isinstance(dist, GaussianMixture):
        wide = GaussianMixture(dist.centres, np.sqrt(dist.stds ** 2 + h ** 2), dist.weights)
        return cell_mean_density(wide, mesh)
    return compute_binned_kde_2d(dist.points.numpy()[:5000], mesh, bandwidth=(h, h))


def compute_frame_2d(G, D, dist, mesh, z_fixed, x_real, view: DiscriminatorView = PLAIN,
                     p_data=None) -> dict:
    """Everything the 2-D view shows: G's samples, D on a mesh, p_data, p_g, D*, the JSD,
    D's accuracy and mode coverage (the models are not changed).

    Args:
        G, D: the generator and the discriminator (D returns logits).
        dist: the target: a Gaussian mixture, or a target that holds points.
        mesh: (gx, gy) arrays from ``np.meshgrid`` of even grids, where the surfaces are drawn.
        z_fixed: (N, 2) fixed noise; x_real: (N, 2) fixed real samples.
        view: how D is read (``lab_compute.view_of``).
        p_data: ``smoothed_p_data(dist, mesh, smoothing_bandwidth(dist, len(z_fixed)))``, if
            already computed (it does not change while training).
    Returns a dict: x_fake, d_mesh, p_data and p_g (both smoothed by the same kernel of width
    ``bandwidth``), d_star, d_kind, jsd, d_accuracy, coverage, bandwidth.
    """
    gx, gy = mesh
    x_fake = _forward(G, z_fixed)
    if not np.all(np.isfinite(x_fake)):
        raise ValueError("the generator's samples are not finite; reset the lab")
    points = np.stack([gx.ravel(), gy.ravel()], 1)
    d_mesh = d_on_points(D, points, view).reshape(gx.shape)
    h = smoothing_bandwidth(dist, len(x_fake))
    if p_data is not None:
        p_data = np.asarray(p_data, dtype=np.float64)
    else:
        p_data = smoothed_p_data(dist, mesh, h)
    p_g = compute_binned_kde_2d(x_fake, mesh, bandwidth=(h, h))
    cell = float((gx[0, 1] - gx[0, 0]) * (gy[1, 0] - gy[0, 0]))
    return {"x_fake": x_fake, "d_mesh": d_mesh, "p_data": p_data, "p_g": p_g,
            "d_star": optimal_d(p_data, p_g, view), "d_kind": view.kind,
            "jsd": theory.js_divergence_on_grid(p_data, p_g, cell),
            "d_accuracy": d_accuracy(D, x_real, x_fake, view),
            "coverage": coverage.mode_coverage(x_fake, dist) if isinstance(dist, GaussianMixture) else None,
            "bandwidth": h}
