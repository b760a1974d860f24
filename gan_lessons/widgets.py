"""The interactive panels of the lessons, thin over ``theory``, ``plots`` and the models.

Three layers (the house style): ``compute_*`` are pure numpy or torch, ``draw_*`` move the artists
of a figure that a ``plots`` function drew, and each panel class wires a few controls to
them. A panel draws its figure once, with the same function the lesson uses for its
static figure, and on every change only updates artists and re-renders the image: no
new figure per frame, so a slider answers in a few tens of milliseconds.
"""
from __future__ import annotations

import base64

import ipywidgets as W
import numpy as np
from matplotlib.figure import Figure

from . import plots, theory
from .distributions import _as_numpy, gaussian_1d
from .utils import check_float, check_int

__all__ = [
    "BilinearGamePanel",
    "LikelihoodPanel",
    "NoiseMapPanel",
    "OptimalDiscriminatorPanel",
    "PanelBox",
    "compute_bilinear_paths",
    "compute_c_of_g_curve",
    "compute_discriminator_view",
    "draw_bilinear",
    "draw_discriminator",
    "draw_likelihood",
    "draw_noise_map",
]


def _figure(ncols: int = 2, figsize=(11.0, 3.8)):
    # A bare Figure, not pyplot's: the inline backend would otherwise show it a second time.
    fig = Figure(figsize=figsize, dpi=72, layout="constrained")
    return fig, fig.subplots(1, ncols)


class PanelBox(W.VBox):
    """A panel's box: a ``VBox`` whose display also carries a still of its figure and a sentence.

    A viewer that can show the widget does (the widget-view mime type comes first). One that cannot
    shows the still instead: JupyterLab in a notebook not yet trusted (a lesson fresh from git; it
    renders only "safe" types, never a widget), GitHub, nbconvert without widget state. One with no
    images shows the sentence instead of ``VBox(children=...)``.

    Args:
        children: the widgets, top to bottom.
        image: the ``ipywidgets.Image`` that shows the panel's figure; its bytes at display time are
            the still.
        name: what the panel is, for the sentence (e.g. "the training lab").
    """

    def __init__(self, children, image: W.Image | None = None, name: str = "", **kwargs):
        super().__init__(children, **kwargs)
        self.still_image, self.name = image, name

    @property
    def text(self) -> str:
        """The plain-text stand-in: a sentence saying what this is and how to use it."""
        what = f" ({self.name})" if self.name else ""
        return f"Interactive panel{what}: run this cell to use it."

    def _repr_mimebundle_(self, **kwargs):
        data = super()._repr_mimebundle_(**kwargs)
        data["text/plain"] = self.text
        image = self.still_image
        if image is not None and image.value and image.format in ("png", "jpeg"):
            data[f"image/{image.format}"] = base64.b64encode(image.value).decode("ascii")
        return data


class _Panel:
    """Controls above an image of the figure; any control's change calls ``update`` and re-renders.

    Only the ``moving`` artists are redrawn per change (``plots.Blitter``), which keeps a slider's
    answer to a few tens of milliseconds.
    """

    name = ""  # what the panel is, for its plain-text stand-in (``PanelBox``)

    def __init__(self, controls, figure, moving):
        self.figure = figure
        self.blitter = plots.Blitter(figure, moving)
        self._quiet = False
        self.image = W.Image(format="png")
        self.readout = W.HTML()
        row = W.HBox(controls, layout=W.Layout(flex_flow="row wrap"))
        self.box = PanelBox([row, self.image, self.readout], image=self.image, name=self.name)
        for control in controls:
            if hasattr(control, "value"):
                control.observe(self._changed, names="value")
        self._changed()

    def update(self) -> None:  # pragma: no cover - every panel defines it
        raise NotImplementedError

    def redraw_all(self) -> None:
        """Draw the static part of the figure again at the next render (after an axis change)."""
        self.blitter.invalidate()

    def render(self) -> bytes:
        """The figure as PNG bytes."""
        return plots.encode_png(self.blitter.frame())

    def _changed(self, change=None) -> None:
        if self._quiet:
            return
        self.update()
        self.image.value = self.render()

    def set_values(self, *pairs) -> None:
        """Set several controls, ``(control, value)`` pairs, then redraw once."""
        self._quiet = True
        try:
            for control, value in pairs:
                control.value = value
        finally:
            self._quiet = False
        self._changed()

    def _repr_mimebundle_(self, **kwargs):
        return self.box._repr_mimebundle_(**kwargs)


def _slider(description, value, low, high, step, fmt=".2f"):
    return W.FloatSlider(value=value, min=low, max=high, step=step, description=description,
                         readout_format=fmt, continuous_update=True, style={"description_width": "initial"})


# --- lesson 01: sampling by transforming noise ---------------------------------------------------

def draw_noise_map(axes, u, separation: float, weight_right: float, spread: float):
    """Redraw a two-mode mixture's inverse-CDF map x = F^{-1}(u) and the samples it makes on ``axes``
    (two axes); returns the mixture."""
    from .distributions import mixture_1d

    mix = mixture_1d([-separation / 2, separation / 2], [spread, spread], [1 - weight_right, weight_right])
    grid = np.linspace(0.001, 0.999, 400)
    for ax in axes:
        ax.clear()
    plots.plot_noise_map(u, mix.icdf(u), ax=axes[0], curve=(grid, mix.icdf(grid)))
    plots.plot_density_vs_samples(mix, mix.icdf(u), ax=axes[1], label="$F^{-1}(u)$")
    axes[1].set_ylim(0, 1.3 * axes[1].get_ylim()[1])  # room for the legend above the tallest bar
    # the mixture in the titles, so two drawings of different mixtures never look alike
    axes[0].set_title(f"the map: modes {separation:g} apart, right weight {weight_right:.2f}, spread {spread:g}")
    axes[1].set_title(f"{len(u):,} samples against the mixture's density")
    return mix


class NoiseMapPanel(_Panel):
    """Sliders for a two-mode mixture's separation, right-hand weight and spread; the figure shows
    its inverse CDF applied to fixed uniform noise ``u`` and the samples that result.

    Args:
        u: (n,) uniform noise in (0, 1), kept fixed so only the map changes.
        separation, weight_right, spread: the starting mixture.
    """

    name = "noise pushed through a mixture's inverse CDF"

    def __init__(self, u, separation: float = 4.0, weight_right: float = 0.7, spread: float = 0.5):
        self.u = _as_numpy(u).reshape(-1)
        if len(self.u) == 0 or not np.all((self.u > 0) & (self.u < 1)):
            raise ValueError("u must be a non-empty array of uniform noise strictly between 0 and 1")
        self.separation = _slider("separation", separation, 0.0, 8.0, 0.5, ".1f")
        self.weight_right = _slider("right weight", weight_right, 0.05, 0.95, 0.05)
        self.spread = _slider("spread", spread, 0.1, 1.5, 0.1, ".1f")
        fig, self.axes = _figure(figsize=(11.0, 3.6))
        super().__init__([self.separation, self.weight_right, self.spread], fig, [])

    def update(self) -> None:
        mix = draw_noise_map(self.axes, self.u, self.separation.value, self.weight_right.value, self.spread.value)
        self.redraw_all()  # every artist changed: draw the whole figure
        share = float(np.mean(mix.icdf(self.u) > 0))
        self.readout.value = (f"{len(self.u):,} noise values; {100 * share:.0f} % of the samples land right of 0 "
                              f"(the mixture's weight there is {100 * self.weight_right.value:.0f} %)")


# --- lesson 02: maximum likelihood ---------------------------------------------------------------

def draw_likelihood(fig, x, mu: float, sigma: float) -> float:
    """Move the model curve, the (mu, sigma) dot and the title of a ``plots.plot_gaussian_likelihood``
    figure; returns the mean log-likelihood it shows."""
    model = plots.find_artist(fig, "model_density")
    model.set_ydata(gaussian_1d(mu, sigma).density(model.get_xdata()))
    plots.find_artist(fig, "current").set_data([mu], [sigma])
    mean_ll = theory.gaussian_log_likelihood(x, mu, sigma) / len(x)
    plots.find_artist(fig, "fit_title").set_text(plots.likelihood_title(mu, sigma, mean_ll))
    return mean_ll


class LikelihoodPanel(_Panel):
    """Sliders for mu and sigma of a Gaussian model, its fit to a sample and the log-likelihood surface.

    Args:
        x: the sample (1-D).
        dist: the distribution it came from, drawn for reference (optional).
        mu, sigma: the starting model; default: a deliberately poor one.
    """

    name = "a Gaussian's μ and σ against the log-likelihood"

    def __init__(self, x, dist=None, mu: float | None = None, sigma: float | None = None):
        self.x = _as_numpy(x).reshape(-1)
        (mu_lo, mu_hi), (s_lo, s_hi) = plots.likelihood_ranges(self.x)
        mu = mu_lo + 0.2 * (mu_hi - mu_lo) if mu is None else mu
        sigma = s_lo + 0.2 * (s_hi - s_lo) if sigma is None else sigma
        self.mle = theory.gaussian_mle(self.x)
        self.best = theory.gaussian_log_likelihood(self.x, *self.mle) / len(self.x)
        step = (mu_hi - mu_lo) / 200
        self.mu = _slider("μ", mu, mu_lo, mu_hi, step)
        self.sigma = _slider("σ", sigma, s_lo, s_hi, (s_hi - s_lo) / 200)
        self.to_maximum = W.Button(description="jump to the maximum")
        self.to_maximum.on_click(self.jump_to_maximum)
        fig, axes = _figure()
        plots.plot_gaussian_likelihood(self.x, self.mu.value, self.sigma.value, dist=dist, axes=axes)
        moving = [plots.find_artist(fig, gid) for gid in ("model_density", "current", "fit_title")]
        super().__init__([self.mu, self.sigma, self.to_maximum], fig, moving)

    def jump_to_maximum(self, _button=None) -> None:
        """Set the sliders to the maximum-likelihood estimate."""
        self.set_values((self.mu, self.mle[0]), (self.sigma, self.mle[1]))

    def update(self) -> None:
        mu, sigma = self.mu.value, self.sigma.value
        mean_ll = draw_likelihood(self.figure, self.x, mu, sigma)
        self.readout.value = (f"(1/n) log L(μ={mu:.2f}, σ={sigma:.2f}) = <b>{mean_ll:.3f}</b>; the maximum "
                              f"is {self.best:.3f} at μ̂ = {self.mle[0]:.3f}, σ̂ = {self.mle[1]:.3f}")


# --- lesson 03: the bilinear game ----------------------------------------------------------------

def compute_bilinear_paths(lr: float, num_rounds: int, x_steps: int = 1, y_steps: int = 1,
                           start=(1.0, 0.5)) -> dict[str, np.ndarray]:
    """Both ways of playing min_x max_y xy from ``start``: {"simultaneous": path, "alternating": path}."""
    return {mode: theory.bilinear_game(*start, lr, num_rounds, mode, x_steps=x_steps, y_steps=y_steps)
            for mode in theory.BILINEAR_MODES}


def draw_bilinear(fig, paths: dict[str, np.ndarray]) -> bool:
    """Move the paths and distance curves of a ``plots.plot_bilinear_game`` figure and refit its axes.

    Returns True when an axis changed (the caller then redraws the whole figure).
    """
    for label, path in paths.items():
        line = plots.find_artist(fig, f"path:{label}")
        line.set_data(path[:, 0], path[:, 1])
        radius = plots.find_artist(fig, f"radius:{label}")
        radius.set_data(np.arange(len(path)), np.hypot(path[:, 0], path[:, 1]))
    lim, (low, top) = plots.bilinear_limits(paths)
    limits = ((0, max(len(p) for p in paths.values()) - 1), (min(low, top / 2), top), (-lim, lim))
    before = (radius.axes.get_xlim(), radius.axes.get_ylim(), line.axes.get_xlim())
    radius.axes.set_xlim(*limits[0])
    plots.set_log_limits(radius.axes, *limits[1])
    line.axes.set_xlim(*limits[2])
    line.axes.set_ylim(*limits[2])
    return not np.allclose(np.ravel(before), np.ravel(limits))


class BilinearGamePanel(_Panel):
    """Step size, steps per player and rounds for min_x max_y xy, simultaneous against alternating.

    Args:
        lr, num_rounds, start: the step size, the number of rounds and the starting point (x, y).
        x_steps, y_steps: the steps each player takes per round at the start (1 to 10).
    """

    name = "gradient play on min_x max_y xy"

    def __init__(self, lr: float = 0.1, num_rounds: int = 200, start=(1.0, 0.5), x_steps: int = 1,
                 y_steps: int = 1):
        self.start = tuple(float(v) for v in start)
        x_steps, y_steps = check_int("x_steps", x_steps, 1, 10), check_int("y_steps", y_steps, 1, 10)
        self.lr = _slider("step size η", lr, 0.01, 1.5, 0.01)
        self.y_steps = W.IntSlider(value=y_steps, min=1, max=10, description="y (D) steps")
        self.x_steps = W.IntSlider(value=x_steps, min=1, max=10, description="x (G) steps")
        self.num_rounds = W.IntSlider(value=num_rounds, min=10, max=1000, step=10, description="rounds")
        fig, axes = _figure()
        self.paths = compute_bilinear_paths(lr, num_rounds, x_steps, y_steps, start=self.start)
        plots.plot_bilinear_game(self.paths, axes=axes)
        moving = [plots.find_artist(fig, f"{kind}:{mode}") for kind in ("path", "radius") for mode in self.paths]
        super().__init__([self.lr, self.y_steps, self.x_steps, self.num_rounds], fig, moving)

    def update(self) -> None:
        lr, kx, ky = self.lr.value, self.x_steps.value, self.y_steps.value
        self.paths = compute_bilinear_paths(lr, self.num_rounds.value, kx, ky, self.start)
        if draw_bilinear(self.figure, self.paths):
            self.redraw_all()  # the axes were refitted to the new paths
        product = (kx * lr) * (ky * lr)
        ends = ", ".join(f"{m}: {np.hypot(*p[-1]):.3g}" for m, p in self.paths.items())
        verdict = "circles it" if product < 4 else "is thrown out too"
        self.readout.value = (f"distance from (0, 0) at the end: {ends}. Alternating play {verdict}: "
                              f"(x steps · η)(y steps · η) = {product:.2f} {'<' if product < 4 else '≥'} 4.")


# --- lesson 04: the optimal discriminator and C(G) -------------------------------------------------

def compute_discriminator_view(x, p_data, mu_g: float, sigma_g: float) -> dict:
    """p_g = N(mu_g, sigma_g^2) on the grid ``x``, D*, C(G) = V(G, D*) and the JSD, all on the grid.

    Args:
        x: an evenly spaced grid; p_data: the data density's values on it.
    """
    dx = float(x[1] - x[0])
    p_g = gaussian_1d(mu_g, sigma_g).density(x)
    d_star = theory.optimal_discriminator(p_data, p_g)
    return {"p_g": p_g, "d_star": d_star, "c": theory.virtual_training_criterion_on_grid(p_data, p_g, dx),
            "jsd": theory.js_divergence_on_grid(p_data, p_g, dx)}


def compute_c_of_g_curve(x, p_data, mus, sigma_g: float) -> np.ndarray:
    """C(G) for p_g = N(mu, sigma_g^2) at each mu in ``mus``, on the grid ``x``."""
    return np.array([compute_discriminator_view(x, p_data, mu, sigma_g)["c"] for mu in mus])


def draw_discriminator(fig, view: dict, mu_g: float) -> None:
    """Move p_g, D* and the C(G) dot of a figure drawn by ``plot_optimal_discriminator`` and ``plot_c_of_g``."""
    plots.find_artist(fig, "p_g").set_ydata(view["p_g"])
    plots.find_artist(fig, "d_star").set_ydata(view["d_star"])
    plots.find_artist(fig, "current").set_data([mu_g], [view["c"]])


SIGMA_G_MAX = 3.0


class OptimalDiscriminatorPanel(_Panel):
    """A slider moves p_g = N(mu_g, sigma_g^2) against a fixed p_data; D* and C(G) follow.

    Args:
        p_data: a 1-D distribution from ``gan_lessons.distributions``.
        mu_range: the range of p_g's mean.
        mu_g, sigma_g: p_g's starting mean and standard deviation.
    """

    name = "p_g against p_data, with D* and C(G)"

    def __init__(self, p_data, mu_range=(-5.0, 5.0), mu_g: float = 3.0, sigma_g: float = 1.0, n: int = 1201):
        lo, hi = (float(v) for v in mu_range)
        check_float("mu_g", mu_g, lo, hi)
        pad = 4 * SIGMA_G_MAX  # room for p_g's tails at the widest sigma_g the slider allows
        data_lo, data_hi = p_data.support(width=6.0)
        self.x = np.linspace(min(lo - pad, data_lo[0]), max(hi + pad, data_hi[0]), n)
        self.p_data = p_data.density(self.x)
        self.mus = np.linspace(lo, hi, 121)
        self.mu_g = _slider("μ_g", mu_g, lo, hi, (hi - lo) / 200)
        self.sigma_g = _slider("σ_g", sigma_g, 0.2, SIGMA_G_MAX, 0.05)
        self._curve_sigma = sigma_g
        fig, (ax_d, ax_c) = _figure()
        view = compute_discriminator_view(self.x, self.p_data, mu_g, sigma_g)
        plots.plot_optimal_discriminator(self.x, self.p_data, view["p_g"], ax=ax_d,
                                         title="$p_g$ against $p_{data}$, and $D^*$")
        ax_d.set_xlim(lo - 3, hi + 3)
        plots.plot_c_of_g(self.mus, compute_c_of_g_curve(self.x, self.p_data, self.mus, sigma_g),
                          current=(mu_g, view["c"]), ax=ax_c, jsd=True)
        self.ax_d, self.ax_c = ax_d, ax_c
        moving = [plots.find_artist(fig, gid) for gid in ("p_g", "d_star", "current", "c_curve")] + [ax_c.title]
        super().__init__([self.mu_g, self.sigma_g], fig, moving)

    def update(self) -> None:
        mu_g, sigma_g = self.mu_g.value, self.sigma_g.value
        if sigma_g != self._curve_sigma:  # the C(G) curve and p_g's height depend on sigma_g only
            curve = compute_c_of_g_curve(self.x, self.p_data, self.mus, sigma_g)
            plots.find_artist(self.figure, "c_curve").set_ydata(curve)
            self.ax_d.set_ylim(0, plots.DENSITY_HEADROOM * max(self.p_data.max(),
                                                               1 / (sigma_g * np.sqrt(2 * np.pi))))
            self._curve_sigma = sigma_g
            self.redraw_all()
        self.view = compute_discriminator_view(self.x, self.p_data, mu_g, sigma_g)
        draw_discriminator(self.figure, self.view, mu_g)
        self.ax_c.set_title(f"C(G) = {self.view['c']:.4f},  2 JSD − log 4 = {2 * self.view['jsd'] - np.log(4):.4f}")
        self.readout.value = (f"C(G) = V(G, D*) = <b>{self.view['c']:.4f}</b>; JSD(p_data ‖ p_g) = "
                              f"{self.view['jsd']:.4f} nats (at most log 2 = {np.log(2):.4f})")
from .lab import TrainingLab, make_lab  # noqa: F401
