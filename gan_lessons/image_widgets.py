"""The image panels of lessons 10-11: walking a generator's latent space, and a real-or-fake quiz.

The same three layers as ``widgets``: ``compute_*`` and the quiz functions are pure torch
or numpy, ``draw_*`` move the artists of a figure drawn once, and each panel class wires a
few controls to them on ``widgets._Panel``.
"""
from __future__ import annotations

import ipywidgets as W
import numpy as np
import torch
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from . import plots
from .mnist_gan import generate
from .utils import check_choice, check_int, check_pixel_range
from .widgets import _Panel, _slider

__all__ = [
    "INTERPOLATION_METHODS",
    "InterpolationPanel",
    "RealOrFakeQuiz",
    "compute_interpolation",
    "compute_quiz_summary",
    "draw_interpolation",
    "make_quiz",
    "score_quiz",
]

# --- lessons 08-10: walking the latent space of a conditional generator ----------------------------

INTERPOLATION_METHODS = ("slerp", "linear")


def compute_interpolation(z0, z1, ts, method: str = "slerp") -> torch.Tensor:
    r"""Points on a path from noise vector ``z0`` to ``z1``, one per t in ``ts``.

    .. math:: \text{linear}(t) = (1 - t)\,z_0 + t\,z_1, \qquad
              \text{slerp}(t) = \frac{\sin((1 - t)\Omega)}{\sin\Omega} z_0
              + \frac{\sin(t\Omega)}{\sin\Omega} z_1, \quad
              \cos\Omega = \frac{z_0 \cdot z_1}{\lVert z_0\rVert \lVert z_1\rVert}

    Slerp (spherical linear interpolation) comes from Shoemake 1985, "Animating rotation with
    quaternion curves" (SIGGRAPH), for quaternions; White 2016, "Sampling generative networks"
    (arXiv:1609.04468), argues for it in a generative model's latent space. Why: under a
    Gaussian prior :math:`z \sim N(0, I_d)` the norm concentrates near :math:`\sqrt d`, but
    the linear midpoint of two independent draws is :math:`N(0, I_d / 2)`, with norm near
    :math:`\sqrt{d/2}`: the straight line cuts through a region the prior almost never
    samples, where G was never trained. Slerp between two
    points of equal norm stays on their sphere. For parallel vectors slerp is the straight
    line, which is returned.

    Args:
        z0, z1: 1-D noise vectors of the same size (tensors or arrays).
        ts: the positions along the path, numbers in [0, 1]; t = 0 gives z0, t = 1 gives z1.
        method: "slerp" or "linear".
    Returns a (len(ts), d) tensor in z0's floating dtype.
    """
    check_choice("method", method, INTERPOLATION_METHODS)
    z0 = torch.as_tensor(z0)
    if not z0.is_floating_point():
        z0 = z0.float()
    z1 = torch.as_tensor(z1, dtype=z0.dtype, device=z0.device)
    if z0.ndim != 1 or z0.shape != z1.shape:
        raise ValueError(f"z0 and z1 must be 1-D vectors of the same size, got shapes {tuple(z0.shape)} "
                         f"and {tuple(z1.shape)}")
    t = torch.as_tensor(ts, dtype=z0.dtype).reshape(-1).to(z0.device)
    if t.numel() == 0 or not bool(torch.isfinite(t).all()) or t.min() < 0 or t.max() > 1:
        raise ValueError(f"ts must be one or more numbers in [0, 1], got {ts!r}")
    t = t[:, None]  # (T, 1)
    if method == "linear":
        return (1 - t) * z0 + t * z1  # (T, d)
    n0, n1 = torch.linalg.vector_norm(z0), torch.linalg.vector_norm(z1)
    if n0 == 0 or n1 == 0:
        raise ValueError("slerp needs z0 and z1 of non-zero norm: the angle between them is undefined")
    cos_omega = torch.clamp(torch.dot(z0, z1) / (n0 * n1), -1.0, 1.0)
    omega = torch.arccos(cos_omega)
    sin_omega = torch.sin(omega)
    if sin_omega < 1e-6:
        if cos_omega > 0:  # parallel: the arc is the segment
            return (1 - t) * z0 + t * z1
        raise ValueError("z0 and z1 point in opposite directions, so no single great circle joins them; "
                         "pick other seeds or method='linear'")
    return torch.sin((1 - t) * omega) / sin_omega * z0 + torch.sin(t * omega) / sin_omega * z1  # (T, d)


def _images_hw(images) -> np.ndarray:
    # (B, H, W) numpy from (B, H, W), (B, 1, H, W) or (B, H*W) square images.
    x = images.detach().cpu().numpy() if torch.is_tensor(images) else np.asarray(images)
    x = x.astype(np.float32)
    if x.ndim == 4 and x.shape[1] == 1:
        x = x[:, 0]
    elif x.ndim == 2:
        side = round(float(np.sqrt(x.shape[1])))
        if side * side != x.shape[1]:
            raise ValueError(f"images of shape (B, {x.shape[1]}) are not square; pass (B, H, W)")
        x = x.reshape(len(x), side, side)
    if x.ndim != 3:
        raise ValueError(f"images must have shape (B, H, W), (B, 1, H, W) or (B, H*W), got {x.shape}")
    return x


def _ink(images_hw: np.ndarray, pixel_range) -> np.ndarray:
    # Pixels mapped from pixel_range to [0, 1], then inverted as plots.plot_image_grid does: ink is dark.
    lo, hi = pixel_range
    return 1 - np.clip((images_hw - lo) / (hi - lo), 0, 1)


def _find(fig, gid: str):
    # plots.find_artist, remembered per figure: walking every artist (ticks included) costs ~10 ms.
    cache = fig.__dict__.setdefault("_gan_lessons_artists", {})
    if gid not in cache:
        cache[gid] = plots.find_artist(fig, gid)
    return cache[gid]


def draw_interpolation(fig, strip_images, current_image, t: float, pixel_range=(-1, 1)) -> None:
    """Show a new strip and current image on an ``InterpolationPanel`` figure and move the highlight.

    Args:
        fig: the panel's figure (artists with gids "strip", "highlight", "current_image").
        strip_images: (n_steps, ...) images along the path, at t = 0, 1/(n_steps-1), ..., 1.
        current_image: (1, ...) the image at ``t``.
        t: the slider's position in [0, 1]; the strip's nearest image is framed.
        pixel_range: the (low, high) of G's pixels, (-1, 1) for tanh, (0, 1) for sigmoid.
    """
    strip = _images_hw(strip_images)
    n_steps, _, w = strip.shape
    pad = 2
    _find(fig, "strip").set_data(
        1 - plots.image_grid(strip, nrow=n_steps, padding=pad, value_range=pixel_range, pad_value=0.0))
    _find(fig, "current_image").set_data(_ink(_images_hw(current_image)[0], pixel_range))
    k = round(float(t) * (n_steps - 1))
    _find(fig, "highlight").set_x(pad + k * (w + pad) - 1.5)  # 1 pixel into the padding


class InterpolationPanel(_Panel):
    r"""Walk from one noise vector to another for a chosen digit and watch G's images change.

    Controls: the digit, the seeds of the two end points :math:`z_0, z_1`, the position
    t in [0, 1] and the path ("slerp" or "linear", see ``compute_interpolation``). The figure
    shows the strip of ``n_steps`` images along the path (the one nearest t framed), the
    image at t larger, and the norm :math:`\lVert z(t)\rVert` along both paths against the
    band where the prior puts 90 % of its draws: the linear path sags out of it.

    Args:
        G: a generator called as ``G(z, labels)`` (``labels`` int64), or ``G(z)`` when
            ``n_classes`` is 0. It runs without gradients in eval mode; its mode is restored.
        n_classes: number of digits to choose from, >= 0 (0: an unconditional G).
        latent_dim: size of z; default ``G.latent_dim``.
        n_steps: images in the strip, 2-25.
        pixel_range: (low, high) of G's pixels: (-1, 1) for tanh outputs, (0, 1) for sigmoid.
        seeds: the starting seeds of z0 and z1.
    """

    name = "a walk through G's noise space"

    def __init__(self, G, n_classes: int = 10, latent_dim: int | None = None, n_steps: int = 9,
                 pixel_range=(-1, 1), seeds=(0, 1)):
        self.G = G
        self.n_classes = check_int("n_classes", n_classes, low=0)
        latent_dim = getattr(G, "latent_dim", None) if latent_dim is None else latent_dim
        if latent_dim is None:
            raise ValueError("latent_dim must be given: the generator has no latent_dim attribute")
        self.latent_dim = check_int("latent_dim", latent_dim, low=1)
        self.n_steps = check_int("n_steps", n_steps, low=2, high=25)
        self.pixel_range = check_pixel_range(pixel_range)
        self.digit = W.Dropdown(options=list(range(max(self.n_classes, 1))), value=0, description="digit",
                                disabled=self.n_classes == 0)
        self.seed0 = W.BoundedIntText(value=check_int("seeds[0]", seeds[0], low=0), min=0, max=2**31 - 1,
                                      description="seed of z₀")
        self.seed1 = W.BoundedIntText(value=check_int("seeds[1]", seeds[1], low=0), min=0, max=2**31 - 1,
                                      description="seed of z₁")
        self.t = _slider("t", 0.5, 0.0, 1.0, 0.01)
        self.method = W.ToggleButtons(options=list(INTERPOLATION_METHODS), value="slerp", description="path")
        self.ts = torch.linspace(0, 1, self.n_steps)
        self.t_fine = torch.linspace(0, 1, 101)
        # Where the prior's norms lie: 2,000 draws from a fixed generator, so the band never moves.
        norms = torch.linalg.vector_norm(self._noise(torch.Generator().manual_seed(12345), 2000), dim=1)
        self.norm_band = tuple(float(q) for q in torch.quantile(norms.double(), torch.tensor([0.05, 0.5, 0.95],
                                                                                           dtype=torch.float64)))
        self._key = None
        self._build_figure()
        super().__init__([self.digit, self.seed0, self.seed1, self.t, self.method], self.figure,
                         [_find(self.figure, gid) for gid in
                          ("strip", "highlight", "current_image", "norm:slerp", "norm:linear", "norm_current")]
                         + [self.ax_current.title])

    def _noise(self, generator: torch.Generator, n: int = 1) -> torch.Tensor:
        # The generator's own prior when it has one (Gaussian or uniform), else N(0, I).
        if hasattr(self.G, "sample_z") and getattr(self.G, "latent_dim", None) == self.latent_dim:
            return self.G.sample_z(n, generator=generator).detach().cpu()
        return torch.randn(n, self.latent_dim, generator=generator)

    def noise(self, seed: int) -> torch.Tensor:
        """The noise vector of ``seed``, shape (latent_dim,), from G's prior.

        Args:
            seed: a non-negative integer (the seed boxes' value).
        """
        return self._noise(torch.Generator().manual_seed(int(seed)))[0]

    def _labels(self, n: int) -> torch.Tensor | None:
        return None if self.n_classes == 0 else torch.full((n,), int(self.digit.value), dtype=torch.int64)

    def _build_figure(self) -> None:
        fig = Figure(figsize=(11.0, 4.6), dpi=72, layout="constrained")
        grid = fig.add_gridspec(2, 3, height_ratios=[1, 2.4])
        ax_strip = fig.add_subplot(grid[0, :])
        ax_current = fig.add_subplot(grid[1, 0])
        ax_norm = fig.add_subplot(grid[1, 1:])
        side, pad = 28, 2
        blank_strip = np.ones((side + 2 * pad, self.n_steps * (side + pad) + pad), np.float32)
        ax_strip.imshow(blank_strip, cmap="gray", vmin=0, vmax=1, interpolation="nearest", gid="strip")
        ax_strip.add_patch(Rectangle((pad - 1.5, pad - 1.5), side + 2, side + 2, fill=False, lw=2.5,
                                     edgecolor="#E69F00", gid="highlight"))
        ax_strip.set_axis_off()
        ax_strip.set_title("G(z(t), digit) for t = 0 … 1")
        ax_current.imshow(np.ones((side, side), np.float32), cmap="gray", vmin=0, vmax=1,
                          interpolation="nearest", gid="current_image")
        ax_current.set_axis_off()
        ax_current.set_title("t")
        lo, mid, hi = self.norm_band
        ax_norm.axhspan(lo, hi, color="0.85", label="90 % of the prior's draws")
        ax_norm.axhline(mid, color="0.5", lw=1, ls=":", label="the prior's median ‖z‖")
        x = self.t_fine.numpy()
        ax_norm.plot(x, np.full_like(x, mid), color="#0072B2", lw=2, label="slerp", gid="norm:slerp")
        ax_norm.plot(x, np.full_like(x, mid), color="#D55E00", lw=2, ls="--", label="linear", gid="norm:linear")
        ax_norm.plot([0.5], [mid], "o", color="k", gid="norm_current")
        ax_norm.set_xlim(0, 1)
        ax_norm.set_ylim(0, 1.6 * hi)
        ax_norm.set_xlabel("t")
        ax_norm.set_ylabel("‖z(t)‖")
        ax_norm.legend(loc="upper center", ncols=2, fontsize=9)  # above the curves, which stay near the band
        self.figure, self.ax_strip, self.ax_current, self.ax_norm = fig, ax_strip, ax_current, ax_norm

    def update(self) -> None:
        method, t = self.method.value, float(self.t.value)
        key = (self.digit.value, self.seed0.value, self.seed1.value, method)
        if key != self._key:  # the path changed: new strip and norm curves; a t change reuses them
            self.z0, self.z1 = self.noise(self.seed0.value), self.noise(self.seed1.value)
            self.path = compute_interpolation(self.z0, self.z1, self.ts, method)
            self.strip_images = generate(self.G, self.path, self._labels(self.n_steps))
            for m in INTERPOLATION_METHODS:
                norms = torch.linalg.vector_norm(compute_interpolation(self.z0, self.z1, self.t_fine, m), dim=1)
                _find(self.figure, f"norm:{m}").set_ydata(norms.numpy())
            top = 1.15 * max(float(torch.linalg.vector_norm(self.z0)), float(torch.linalg.vector_norm(self.z1)),
                             self.norm_band[2])
            if top > self.ax_norm.get_ylim()[1]:
                self.ax_norm.set_ylim(0, 1.3 * top)
                self.redraw_all()
            self._key = key
        self.z_t = compute_interpolation(self.z0, self.z1, [t], method)[0]
        self.current_image = generate(self.G, self.z_t[None], self._labels(1))
        draw_interpolation(self.figure, self.strip_images, self.current_image, t, self.pixel_range)
        norm_t = float(torch.linalg.vector_norm(self.z_t))
        _find(self.figure, "norm_current").set_data([t], [norm_t])
        what = f"digit {self.digit.value}, " if self.n_classes else ""
        self.ax_current.set_title(f"{what}t = {t:.2f}")
        lo, mid, hi = self.norm_band
        inside = lo <= norm_t <= hi
        verdict = ("inside the band where the prior puts 90 % of its draws" if inside else
                   "<b>outside</b> the band where the prior puts 90 % of its draws: G was rarely trained on such z")
        self.readout.value = (f"{method} path, t = {t:.2f}: ‖z(t)‖ = <b>{norm_t:.2f}</b>, {verdict} "
                              f"({lo:.2f} to {hi:.2f}, median {mid:.2f}). End points: ‖z₀‖ = "
                              f"{float(torch.linalg.vector_norm(self.z0)):.2f}, ‖z₁‖ = "
                              f"{float(torch.linalg.vector_norm(self.z1)):.2f}.")


# --- lessons 08-10: can you tell real digits from generated ones? -----------------------------------

def make_quiz(real_images, fake_images, n: int = 20, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """A shuffled quiz of ``n`` images, half real and half generated when there are enough of each.

    With n odd the real images get the extra one; when one kind runs short the other fills in.
    Images are drawn without replacement. Both sets must be in the same pixel range, or the
    quiz tests the brightness, not the digits.

    Args:
        real_images: (N, ...) real images.
        fake_images: (M, ...) generated images, as many pixels each as a real one.
        n: the quiz's length, 1 to N + M.
        seed: seeds the choice and the order, >= 0.
    Returns ``(images, is_real)``: (n, ...) float images shaped like ``real_images``' and an
    (n,) bool tensor, True where the image is real.
    """
    real = torch.as_tensor(real_images).detach().cpu().float()
    fake = torch.as_tensor(fake_images).detach().cpu().float()
    if real.ndim < 2 or len(real) == 0:
        raise ValueError(f"real_images must be a non-empty batch (N, ...), got shape {tuple(real.shape)}")
    if fake.ndim < 2 or len(fake) == 0:
        raise ValueError(f"fake_images must be a non-empty batch (M, ...), got shape {tuple(fake.shape)}")
    if fake[0].numel() != real[0].numel():
        raise ValueError(f"fake_images must have as many pixels per image as real_images ({real[0].numel()}), "
                         f"got shape {tuple(fake.shape)}")
    fake = fake.reshape(len(fake), *real.shape[1:])
    n = check_int("n", n, low=1, high=len(real) + len(fake))
    rng = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    n_fake = min(n // 2, len(fake))
    n_real = min(n - n_fake, len(real))
    n_fake = n - n_real
    real_pick = torch.randperm(len(real), generator=rng)[:n_real]
    fake_pick = torch.randperm(len(fake), generator=rng)[:n_fake]
    images = torch.cat([real[real_pick], fake[fake_pick]])
    is_real = torch.cat([torch.ones(n_real, dtype=torch.bool), torch.zeros(n_fake, dtype=torch.bool)])
    order = torch.randperm(n, generator=rng)
    return images[order], is_real[order]


def _check_answers(answers, is_real) -> tuple[np.ndarray, np.ndarray]:
    truth = np.asarray(is_real.cpu() if torch.is_tensor(is_real) else is_real)
    said = np.asarray(answers.cpu() if torch.is_tensor(answers) else list(answers))
    if truth.ndim != 1 or len(truth) == 0 or not np.isin(truth, (0, 1)).all():
        raise ValueError(f"is_real must be a non-empty 1-D sequence of booleans, got {is_real!r}")
    if said.shape != truth.shape or not np.isin(said, (0, 1)).all():
        raise ValueError(f"answers must hold one boolean per image (True = 'real'), {len(truth)} in all, "
                         f"got {answers!r}")
    return said.astype(bool), truth.astype(bool)


def score_quiz(answers, is_real) -> float:
    r"""The fraction of images judged correctly: :math:`\frac1n \sum_i [a_i = r_i]`.

    Args:
        answers: the learner's answers, one boolean per image, True meaning "real".
        is_real: the truth, from ``make_quiz``.
    """
    said, truth = _check_answers(answers, is_real)
    return float((said == truth).mean())


def compute_quiz_summary(answers, is_real) -> dict:
    """How the learner did: accuracy, n_correct, n, real_correct of n_real, fake_correct of n_fake.

    Args:
        answers: the learner's answers, one boolean per image, True meaning "real".
        is_real: the truth, from ``make_quiz``.
    """
    said, truth = _check_answers(answers, is_real)
    right = said == truth
    return {"accuracy": float(right.mean()), "n_correct": int(right.sum()), "n": len(truth),
            "real_correct": int(right[truth].sum()), "n_real": int(truth.sum()),
            "fake_correct": int(right[~truth].sum()), "n_fake": int((~truth).sum())}


_REAL_COLOUR = np.array([0.0, 0.45, 0.70])  # Okabe-Ito blue
_FAKE_COLOUR = np.array([0.90, 0.62, 0.0])  # Okabe-Ito orange


def _reveal_grid(images_ink: np.ndarray, is_real, ncol: int, pad: int = 3, shown: bool = True):
    # An RGB grid of the quiz: each tile framed blue (real) or orange (fake); white before the end.
    n, h, w = images_ink.shape
    nrows = int(np.ceil(n / ncol))
    grid = np.ones((nrows * (h + pad) + pad, ncol * (w + pad) + pad, 3), np.float32)
    centres = []
    for i in range(n):
        r, c = divmod(i, ncol)
        top, left = pad + r * (h + pad), pad + c * (w + pad)
        centres.append((left + (w - 1) / 2, top + (h - 1) / 2))
        if shown:
            grid[top - pad: top + h + pad, left - pad: left + w + pad] = _REAL_COLOUR if is_real[i] else _FAKE_COLOUR
            grid[top: top + h, left: left + w] = images_ink[i][:, :, None]
    return grid, np.array(centres)


class RealOrFakeQuiz(_Panel):
    """Real or generated? One image at a time; at the end, your accuracy and which were fake.

    A human visual Turing test, the "rapid categorisation" evaluation of generative
    models: Denton et al. 2015 (LAPGAN) asked people to tell real images from
    generated ones, and Salimans et al. 2016, section 4, had human annotators judge samples.
    An accuracy near 50 % (chance) means the generator fools you; note that people judge
    quickly and inconsistently, which is why the papers also use automatic scores.

    Args:
        real_images: (N, ...) real images.
        fake_images: (M, ...) generated images in the same pixel range.
        n: images per quiz (see ``make_quiz``).
        seed: seeds the first quiz; each "New quiz" uses the next seed.
        pixel_range: (low, high) of both sets' pixels, (-1, 1) or (0, 1).
    """

    name = "the real-or-fake quiz"

    def __init__(self, real_images, fake_images, n: int = 20, seed: int = 0, pixel_range=(-1, 1)):
        self.real_images, self.fake_images = real_images, fake_images
        self.n = n
        self.seed = check_int("seed", seed, low=0)
        self.pixel_range = check_pixel_range(pixel_range)
        self._new(self.seed)
        self.real_button = W.Button(description="Real", button_style="info")
        self.fake_button = W.Button(description="Fake", button_style="warning")
        self.new_button = W.Button(description="New quiz")
        self.real_button.on_click(lambda _b: self.answer(True))
        self.fake_button.on_click(lambda _b: self.answer(False))
        self.new_button.on_click(self.new_quiz)
        self._build_figure()
        moving = [_find(self.figure, gid) for gid in ("quiz_image", "reveal_grid", "reveal_wrong")]
        super().__init__([self.real_button, self.fake_button, self.new_button], self.figure,
                         moving + [self.ax_image.title, self.ax_reveal.title])

    def _new(self, seed: int) -> None:
        self.images, self.is_real = make_quiz(self.real_images, self.fake_images, self.n, seed)
        self.n = len(self.images)
        self.ink = _ink(_images_hw(self.images), self.pixel_range)
        self.answers: list[bool] = []

    @property
    def finished(self) -> bool:
        """True once every image has been answered."""
        return len(self.answers) == self.n

    def _build_figure(self) -> None:
        fig = Figure(figsize=(9.0, 3.6), dpi=72, layout="constrained")
        ax_image, ax_reveal = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2.4]})
        ax_image.imshow(self.ink[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest", gid="quiz_image")
        ax_image.set_axis_off()
        self.ncol = min(10, self.n)
        grid, _ = _reveal_grid(self.ink, self.is_real.tolist(), self.ncol, shown=False)
        ax_reveal.imshow(grid, interpolation="nearest", gid="reveal_grid")
        ax_reveal.scatter([], [], marker="x", s=90, linewidths=2.5, color="#CC0000", gid="reveal_wrong")
        ax_reveal.set_axis_off()
        ax_image.set_title(" ")
        ax_reveal.set_title(" ")
        self.figure, self.ax_image, self.ax_reveal = fig, ax_image, ax_reveal

    def answer(self, says_real: bool) -> None:
        """Record the learner's answer for the current image (True: "real"); ignored after the last."""
        if self.finished:
            self.readout.value = self._summary_text() + " The quiz is over: press <b>New quiz</b> for another."
            return
        self.answers.append(bool(says_real))
        self._changed()

    def new_quiz(self, _button=None) -> None:
        """Start again with the next seed: other images, in another order."""
        self.seed += 1
        self._new(self.seed)
        self._changed()

    def _summary_text(self) -> str:
        s = compute_quiz_summary(self.answers, self.is_real)
        return (f"Your accuracy: <b>{100 * s['accuracy']:.0f} %</b> ({s['n_correct']} of {s['n']}). Real images "
                f"judged correctly: {s['real_correct']} of {s['n_real']}; generated: {s['fake_correct']} of "
                f"{s['n_fake']}. Chance is 50 %: the nearer you are to it, the better the generator fools you.")

    def update(self) -> None:
        done = self.finished
        self.real_button.disabled = self.fake_button.disabled = done
        grid_artist = _find(self.figure, "reveal_grid")
        wrong_artist = _find(self.figure, "reveal_wrong")
        grid, centres = _reveal_grid(self.ink, self.is_real.tolist(), self.ncol, shown=done)
        grid_artist.set_data(grid)
        if not done:
            k = len(self.answers)
            _find(self.figure, "quiz_image").set_data(self.ink[k])
            self.ax_image.set_title(f"image {k + 1} of {self.n}: real or fake?")
            self.ax_reveal.set_title("the answers are revealed after the last image")
            wrong_artist.set_offsets(np.empty((0, 2)))
            self.readout.value = f"Image {k + 1} of {self.n}; {k} answered."
            return
        wrong = np.array(self.answers) != self.is_real.numpy()
        wrong_artist.set_offsets(centres[wrong] if wrong.any() else np.empty((0, 2)))
        self.ax_image.set_title("done")
        self.ax_reveal.set_title("blue frame: real, orange frame: generated; × marks your mistakes")
        self.readout.value = self._summary_text()
