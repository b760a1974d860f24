"""The training lab's figure layer: build a figure once, then move its artists to each frame.

``build_lab_figure`` makes the figure and returns its artists; ``draw_lab_figure`` moves
them to a frame of ``lab_compute`` / ``lab_views`` and to the training history, and says
when an axis limit changed (the static background must then be drawn again);
``set_layers`` shows or hides a view's layers; ``draw_stage`` draws one stage of a
slow-motion update (``lab_stages``). ``build_snapshot`` and ``plot_snapshot`` draw one
panel of Figure 1 of Goodfellow et al. 2014, which lesson 05 uses for its own figures.
"""
from __future__ import annotations

import math

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection, PolyCollection
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory

from . import plots
from .distributions import GaussianMixture
from .plots import COLORS
from .utils import check_float

LAYERS_1D = ("p_data", "p_g", "D", "D*", "z -> x", "arrows")
LAYERS_2D = ("real samples", "G's samples", "D heat map", "D*", "manifold", "arrows")
FIGSIZE = (9.6, 4.4)
DPI = 100  # 960 x 440 pixels: drawn at its own size in most notebooks, so it stays sharp
MAX_STAGE_ARROWS = 40  # per kind of sample: more would hide each other
ARROW_FRACTION = 0.12  # the longest arrow of the first frame spans this fraction of the view
EMPTY_TEXT = "no iterations yet:\npress Step or Play"
_D_LABEL = {"probability": "$D(x)$", "pack": "$D(x, \\dots, x)$", "critic": "critic $D(x)$"}
_DSTAR_LABEL = {"probability": "$D^*(x)$", "pack": "$D^*$ of packs", "critic": ""}


# --- Figure 1 panels (lesson 05) -----------------------------------------------------------------

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


def _mapping_segments(frame: dict, lo: float, hi: float, z_y: float, x_y: float) -> np.ndarray:
    # z is drawn on its own scale: its range stretched over the middle 60 % of the x axis.
    z = frame["z_line"]
    z_span = max(z.max() - z.min(), 1e-9)
    z_pos = lo + (0.2 + 0.6 * (z - z.min()) / z_span) * (hi - lo)
    x_pos = np.clip(frame["x_line"], lo, hi)
    return np.stack([np.stack([z_pos, np.full_like(z, z_y)], 1), np.stack([x_pos, np.full_like(z, x_y)], 1)], 1)


def draw_snapshot(art: dict, frame: dict) -> None:
    """Move the artists of ``build_snapshot`` to ``frame`` (from ``compute_frame_1d``)."""
    art["p_g"].set_ydata(frame["p_g"])
    art["d"].set_ydata(frame["d"])
    if "d_star" in art:
        art["d_star"].set_ydata(_defined_d_star(frame))
    x = frame["x"]
    art["mapping"].set_segments(_mapping_segments(frame, x[0], x[-1], *art["heights"]))


def _defined_d_star(frame: dict) -> np.ndarray:
    # D* is any value where neither density has mass; leave it undrawn there.
    total = frame["p_data"] + frame["p_g"]
    return np.where(total > 1e-3 * total.max(), frame["d_star"], np.nan)


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


# --- the lab's figure ----------------------------------------------------------------------------

def build_lab_figure(dist, x=None, p_data=None, mesh=None, d_kind: str = "probability"):
    """The lab's figure and its artists: the data view, the losses, and D's outputs with the JSD.

    1-D: densities on the left axis, D and D* on the right one, the mapping z -> x beneath.
    2-D: D's heat map with G's samples, its gradient arrows and the warped noise grid; D*
    beside it. ``d_kind`` ("probability", "pack" or "critic", from ``lab_compute.view_of``)
    labels D for PacGAN and WGAN-GP. Returns (figure, artists); ``artists["layers"]`` maps
    each name of ``LAYERS_1D`` / ``LAYERS_2D`` to its artists.
    """
    fig = Figure(figsize=FIGSIZE, dpi=DPI, layout="constrained")
    fig.get_layout_engine().set(h_pad=0.08)  # room between the two history axes for the lower one's legend
    if dist.dim == 1:
        grid = fig.add_gridspec(2, 2, width_ratios=(1.6, 1.0))
        left = grid[:, 0].subgridspec(2, 1, height_ratios=(3.2, 1.0), hspace=0.02)
        art = _build_1d(fig.add_subplot(left[0]), fig.add_subplot(left[1]), dist, x, p_data, d_kind)
    else:
        grid = fig.add_gridspec(2, 3, width_ratios=(1.0, 1.0, 1.05))
        art = _build_2d(fig.add_subplot(grid[:, 0]), fig.add_subplot(grid[:, 1]), dist, mesh, p_data, d_kind)
    ax_loss = fig.add_subplot(grid[0, -1])
    ax_out = fig.add_subplot(grid[1, -1], sharex=ax_loss)
    art["d_kind"] = d_kind
    art["loss_axes"], art["out_axes"] = ax_loss, ax_out
    art["d_loss"], = ax_loss.plot([], [], color=COLORS["d_loss"], lw=1, label="$L_D$")
    art["g_loss"], = ax_loss.plot([], [], color=COLORS["g_loss"], lw=1, label="$L_G$")
    ax_loss.set_ylabel("loss")
    ax_loss.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False, borderaxespad=0.1)
    art["empty"] = ax_loss.text(0.5, 0.5, EMPTY_TEXT, transform=ax_loss.transAxes, ha="center", va="center",
                                color="0.45", fontsize="small")
    critic = d_kind == "critic"
    art["d_real"], = ax_out.plot([], [], color=COLORS["data"], lw=1, label="$D(x)$")
    art["d_fake"], = ax_out.plot([], [], color=COLORS["generator"], lw=1, label="$D(G(z))$")
    art["jsd"], = ax_out.plot([], [], color="black", lw=1.5, marker=".", ms=3, label="JSD")
    several = isinstance(dist, GaussianMixture) and dist.n_modes > 1
    art["modes"], = ax_out.plot([], [], color="0.45", ls=":", lw=1.5, marker=".", ms=3,
                                label="modes (fraction)" if several else "_")
    if not critic:
        ax_out.axhline(0.5, color=COLORS["optimal"], ls="--", lw=0.8)
    ax_out.set_ylim(-0.03, 1.03)
    ax_out.set_ylabel(("mean scores" if critic else "mean outputs") + "\nJSD (nats)" + ("; modes" if several else ""))
    ax_out.set_xlabel("iteration")
    ax_out.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False, borderaxespad=0.1,
                  fontsize="x-small", handlelength=1.2, columnspacing=0.8, handletextpad=0.4)
    ax_loss.tick_params(labelbottom=False)  # the iterations are read off the axes below
    reset_axes(art)
    return fig, art


def _build_1d(ax, ax_map, dist, x, p_data, d_kind) -> dict:
    label = "$p_{data}$" if isinstance(dist, GaussianMixture) else "$p_{data}$ (KDE of your points)"
    ax_d = ax.twinx()
    ax_d.grid(False)
    art = {"main": ax, "d_axes": ax_d, "map_axes": ax_map, "x": x}
    data_line, = ax.plot(x, p_data, color="black", ls=":", lw=2, label=label)
    art["p_g"], = ax.plot(x, np.zeros_like(x), color=COLORS["generator"], lw=2, label="$p_g$")
    art["d"], = ax_d.plot(x, np.full_like(x, 0.5), color=COLORS["discriminator"], ls="--", lw=1.8,
                          label=_D_LABEL[d_kind])
    art["d_star"], = ax_d.plot(x, np.full_like(x, np.nan), color=COLORS["optimal"], lw=1.2,
                               label=_DSTAR_LABEL[d_kind] or "_")
    art["top"] = float(1.15 * np.max(p_data))
    ax.set_ylim(0, art["top"])
    ax.set_xlim(x[0], x[-1])
    ax.set_ylabel("density")
    ax_d.set_ylim(-0.02, 1.02)
    ax_d.set_ylabel("critic's score (scaled)" if d_kind == "critic" else "D's output")
    ax.tick_params(labelbottom=False)
    handles = [data_line, art["p_g"], art["d"]] + ([art["d_star"]] if d_kind != "critic" else [])
    ax.legend(handles=handles, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=4, frameon=False,
              borderaxespad=0.1)
    # beneath: the noise line z and the data line x, joined by G
    ax_map.axhline(0.0, color="0.3", lw=1)
    ax_map.axhline(1.0, color="0.3", lw=1)
    ax_map.set_yticks([0, 1], ["z", "x = G(z)"])
    ax_map.set_ylim(-0.25, 1.45)
    ax_map.set_xlim(x[0], x[-1])
    ax_map.set_xlabel("x (z drawn on its own scale)")
    ax_map.grid(False)
    art["mapping"] = LineCollection([], colors="0.35", lw=0.8)
    ax_map.add_collection(art["mapping"])
    art["arrows"] = LineCollection([], colors=COLORS["generator"], lw=1.4, zorder=3)
    ax_map.add_collection(art["arrows"])
    art["stage_real"] = ax_d.scatter([], [], s=14, color=COLORS["data"], zorder=4, label="real batch")
    art["stage_fake"] = ax_d.scatter([], [], s=14, color=COLORS["generator"], marker="D", zorder=4,
                                     label="fake batch")
    art["stage_push"] = LineCollection([], colors="black", lw=1.0, zorder=5)
    ax_d.add_collection(art["stage_push"])
    art["ghost_d"], = ax_d.plot(x, np.full_like(x, np.nan), color=COLORS["discriminator"], lw=1, alpha=0.45)
    art["ghost_p_g"], = ax.plot(x, np.full_like(x, np.nan), color=COLORS["generator"], lw=1, alpha=0.45)
    art["layers"] = {"p_data": [data_line], "p_g": [art["p_g"]], "D": [art["d"]], "D*": [art["d_star"]],
                     "z -> x": [art["mapping"]], "arrows": [art["arrows"]]}
    art["moving"] = [art[k] for k in ("ghost_d", "ghost_p_g", "p_g", "d", "d_star", "mapping", "arrows",
                                      "stage_real", "stage_fake", "stage_push")]
    return art


def _build_2d(ax, ax_star, dist, mesh, p_data, d_kind) -> dict:
    gx, gy = mesh
    extent = (gx.min(), gx.max(), gy.min(), gy.max())
    critic = d_kind == "critic"
    art = {"main": ax, "star_axes": ax_star, "extent": extent}
    cmap = matplotlib.colormaps["RdBu"].with_extremes(bad="0.88")  # grey: D* undefined (no mass)
    image = {"extent": extent, "origin": "lower", "cmap": cmap, "vmin": 0, "vmax": 1, "aspect": "equal",
             "interpolation": "bilinear"}
    # one alpha for both maps, so that the colour bar reads the same in each
    art["d_mesh"] = ax.imshow(np.full(gx.shape, 0.5), alpha=0.7, **image)
    art["d_star"] = ax_star.imshow(np.full(gx.shape, 0.5), alpha=0.7, **image)
    contours = []
    if p_data is not None and np.max(p_data) > 0:
        for a in (ax, ax_star):
            cs = a.contour(gx, gy, p_data, levels=[0.05 * np.max(p_data)], colors="black", linewidths=0.8)
            contours.append(cs)
    real = dist.sample(500).numpy() if hasattr(dist, "sample") else np.zeros((0, 2))
    # above G's samples, so that the modes stay visible when G's samples pile up on them
    art["real"] = ax.scatter(real[:, 0], real[:, 1], s=3, color="black", alpha=0.5, label="real samples", zorder=3.5)
    art["manifold"] = PolyCollection([], cmap="Greens", alpha=0.35, edgecolors="0.4", linewidths=0.3)
    peak = float(np.max(p_data)) if p_data is not None and np.max(p_data) > 0 else 1.0
    art["manifold"].set_clim(math.log10(peak) - 4, math.log10(peak))
    ax.add_collection(art["manifold"])
    art["samples"] = ax.scatter(np.zeros(1), np.zeros(1), s=4, color=COLORS["generator"], label="G(z)", zorder=3)
    art["arrows"] = LineCollection([], colors="#0b3d0b", lw=1.0, zorder=4)
    ax.add_collection(art["arrows"])
    art["stage_real"] = ax.scatter([], [], s=16, color=COLORS["data"], edgecolors="white", linewidths=0.4,
                                   zorder=5, label="real batch")
    art["stage_fake"] = ax.scatter([], [], s=16, color=COLORS["generator"], marker="D", edgecolors="white",
                                   linewidths=0.4, zorder=5, label="fake batch")
    art["stage_push"] = LineCollection([], colors="black", lw=1.0, zorder=6)
    ax.add_collection(art["stage_push"])
    art["ghost_samples"] = ax.scatter([], [], s=3, color="0.55", alpha=0.35, zorder=2)
    for a, title in ((ax, "critic's score" if critic else _D_LABEL[d_kind]),
                     (ax_star, "a critic has no $D^*$" if critic else
                      "$D^*$ of packs (blurred)" if d_kind == "pack" else "$D^*$ (densities blurred alike)")):
        a.set_xlim(extent[0], extent[1])
        a.set_ylim(extent[2], extent[3])
        # the main panel's title sits at the right, beside its legend at the left
        a.set_title(title, fontsize="small", loc="right" if a is ax else "center")
        a.set_xlabel("$x_1$")
        a.grid(False)
    ax.set_ylabel("$x_2$")
    ax_star.tick_params(labelleft=False)
    bar = ax.figure.colorbar(art["d_star"], ax=[ax, ax_star], location="bottom", shrink=0.6, aspect=40, pad=0.02)
    bar.set_label("critic's score (red: low, blue: high)" if critic else "D: 0 fake (red) to 1 real (blue); D*: grey where there is no mass",
                  fontsize="small")
    art["colorbar"] = bar
    ax.legend(handles=[art["real"], art["samples"]], loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2,
              frameon=False, borderaxespad=0.1, fontsize="x-small", markerscale=2, handletextpad=0.2,
              columnspacing=0.6)
    if critic:
        art["d_star"].set_visible(False)
    art["layers"] = {"real samples": [art["real"]], "G's samples": [art["samples"]], "D heat map": [art["d_mesh"]],
                     "D*": [art["d_star"]], "manifold": [art["manifold"]], "arrows": [art["arrows"]]}
    art["contours"] = contours
    # drawn in this order over the background (a blit ignores zorder)
    art["moving"] = [art[k] for k in ("d_mesh", "d_star", "manifold", "ghost_samples", "samples", "arrows",
                                      "stage_real", "stage_fake", "stage_push")]
    return art


def reset_axes(art: dict) -> None:
    """The history axes as before the first iteration: 0-100 iterations, losses 0-2, and a note."""
    art["loss_axes"].set_xlim(0, 100)
    art["loss_axes"].set_ylim(0, 2)
    if art["d_kind"] == "critic":
        art["out_axes"].set_ylim(-1.0, 1.0)
    art["empty"].set_visible(True)
    art["arrow_scale"] = None
    for key in ("d_loss", "g_loss", "d_real", "d_fake", "jsd", "modes"):
        art[key].set_data([], [])


def set_layers(art: dict, visible: dict) -> None:
    """Show or hide layers by name (``{"arrows": False, ...}``); unknown names raise a ValueError."""
    unknown = set(visible) - set(art["layers"])
    if unknown:
        raise ValueError(f"unknown layer(s) {sorted(unknown)}; this view has {', '.join(art['layers'])}")
    for name, on in visible.items():
        for artist in art["layers"][name]:
            if not (name == "D*" and art["d_kind"] == "critic"):
                artist.set_visible(bool(on))


def _arrow_scale(art: dict, dx: np.ndarray, span: float) -> bool:
    # Fixed after the first frame with arrows, so that a shrinking gradient shows as shrinking
    # arrows; rescaled (True) only when the longest would span over 3 times its first length or
    # under a tenth of it (by then the arrows are a few pixels long and read as dots). True when rescaled.
    longest = float(np.max(np.linalg.norm(dx.reshape(len(dx), -1), axis=1))) if len(dx) else 0.0
    if longest <= 0 or not math.isfinite(longest):
        return False
    scale = art.get("arrow_scale")
    if scale is None or longest * scale > 3 * ARROW_FRACTION * span or longest * scale < 0.1 * ARROW_FRACTION * span:
        art["arrow_scale"] = ARROW_FRACTION * span / longest
        return True
    return False


def draw_lab_figure(art: dict, frame: dict, history, scores) -> bool:
    """Move the lab figure's artists to ``frame`` and the histories; True when an axis limit
    changed (then the static part of the figure must be drawn again).

    Args:
        art: from ``build_lab_figure``.
        frame: from ``lab_compute.compute_frame_1d`` or ``lab_views.compute_frame_2d`` (with
            "arrows" and "manifold" when those layers are drawn).
        history: the trainer's history.
        scores: (iterations, JSD estimates, fractions of modes covered).
    """
    changed = _draw_1d(art, frame) if "d_axes" in art else _draw_2d(art, frame)
    it = np.asarray(history["iteration"], dtype=float)
    for key in ("d_loss", "g_loss", "d_real", "d_fake"):
        art[key].set_data(_block_mean(it), _block_mean(np.asarray(history[key], dtype=float)))
    art["jsd"].set_data(scores[0], scores[1])
    art["modes"].set_data(scores[0], scores[2])
    if art["empty"].get_visible() != (len(it) == 0):
        art["empty"].set_visible(len(it) == 0)
        changed = True
    ax_loss = art["loss_axes"]
    right = max(100, 2 ** math.ceil(math.log2(max(len(it), 1))))
    if ax_loss.get_xlim()[1] != right:
        ax_loss.set_xlim(0, right)
        changed = True
    changed |= _fit(ax_loss, history["d_loss"][-5000:], history["g_loss"][-5000:], floor=0.0)
    if art["d_kind"] == "critic":
        changed |= _fit(art["out_axes"], history["d_real"][-5000:], history["d_fake"][-5000:], [0.0, 1.0])
    return changed


def _fit(ax, *series, floor=None) -> bool:
    # Grow the y range to hold every value (with a margin), shrink it when the values use under half.
    values = np.concatenate([np.asarray(s, dtype=float).ravel() for s in series])
    values = values[np.isfinite(values)]
    if not len(values):
        return False
    lo, hi = ax.get_ylim()
    need_lo = min(values.min(), 0.0) if floor is not None else values.min()
    need_hi = values.max()
    pad = 0.15 * max(need_hi - need_lo, 1e-3)
    if need_hi > hi or need_lo < lo or (need_hi - need_lo) < 0.5 * (hi - lo):
        ax.set_ylim(need_lo - (0 if floor is not None and need_lo >= 0 else pad), need_hi + pad)
        return True
    return False


def _draw_1d(art: dict, frame: dict) -> bool:
    changed = False
    art["p_g"].set_ydata(frame["p_g"])
    d = frame["d"]
    if art["d_kind"] == "critic":  # a score on its own scale: drawn between its lowest and highest
        lo, hi = float(np.min(d)), float(np.max(d))
        d = (d - lo) / max(hi - lo, 1e-12)
    art["d"].set_ydata(d)
    art["d_star"].set_ydata(_defined_d_star(frame) if art["d_kind"] != "critic" else np.full_like(d, np.nan))
    x = art["x"]
    art["mapping"].set_segments(_mapping_segments(frame, x[0], x[-1], 0.0, 1.0))
    peak = max(float(np.max(frame["p_g"])), float(np.max(frame["p_data"])))
    if peak > art["top"] or peak < 0.5 * art["top"]:  # no curve runs off the top; none is squashed flat
        art["top"] = 1.15 * peak
        art["main"].set_ylim(0, art["top"])
        changed = True
    arrows = frame.get("arrows")
    if arrows is not None:
        _arrow_scale(art, arrows["dx"], x[-1] - x[0])  # the arrows are redrawn every frame: no full redraw
        s = art["arrow_scale"] or 1.0
        xs = np.clip(arrows["x"].reshape(-1), x[0], x[-1])
        vec = np.stack([s * arrows["dx"].reshape(-1), np.zeros_like(xs)], 1)
        art["arrows"].set_segments(arrow_segments(np.stack([xs, np.full_like(xs, 1.12)], 1), vec,
                                                  (x[-1] - x[0], 1.7)))
    return changed


def _draw_2d(art: dict, frame: dict) -> bool:
    changed = False
    d = frame["d_mesh"]
    if art["d_kind"] == "critic":
        lo, hi = float(np.min(d)), float(np.max(d))
        art["d_mesh"].set_clim(lo, max(hi, lo + 1e-9))
    art["d_mesh"].set_data(d)
    if art["d_kind"] != "critic":
        art["d_star"].set_data(_defined_d_star(frame))  # grey where neither density has mass
    art["samples"].set_offsets(frame["x_fake"][:1000])
    manifold = frame.get("manifold")
    if manifold is not None:
        art["manifold"].set_verts(manifold["quads"])
        art["manifold"].set_array(np.log10(np.maximum(manifold["density"], 1e-30)))
    arrows = frame.get("arrows")
    if arrows is not None:
        (x0, x1, y0, y1) = art["extent"]
        _arrow_scale(art, arrows["dx"], max(x1 - x0, y1 - y0))  # the arrows are redrawn every frame: no full redraw
        s = art["arrow_scale"] or 1.0
        art["arrows"].set_segments(arrow_segments(arrows["x"], s * arrows["dx"], (x1 - x0, y1 - y0)))
    return changed


def clear_stage(art: dict) -> None:
    """Hide every overlay of a slow-motion stage."""
    empty = np.zeros((0, 2))
    art["stage_real"].set_offsets(empty)
    art["stage_fake"].set_offsets(empty)
    art["stage_push"].set_segments([])
    art["stage_push"].set_color("black")
    if "ghost_d" in art:
        art["ghost_d"].set_ydata(np.full_like(art["x"], np.nan))
        art["ghost_p_g"].set_ydata(np.full_like(art["x"], np.nan))
    else:
        art["ghost_samples"].set_offsets(empty)


def draw_stage(art: dict, stage) -> None:
    """Draw one stage of a slow-motion update (a ``lab_stages.Stage``) over the current frame.

    Stage 1 shows the minibatch, 2 and 3 the batch at D's outputs, 4 the gradient as arrows
    (on D's outputs for D's update, on the samples for G's), 5 the frame before the update as
    a faint ghost.
    """
    clear_stage(art)
    show = stage.show
    one_d = "ghost_d" in art
    for key, name in (("x_real", "stage_real"), ("x_fake", "stage_fake")):
        if key not in show:
            continue
        pts = np.asarray(show[key], dtype=float)
        if one_d:
            heights = show.get("d_" + key[2:], np.full(len(pts), 0.02)) if stage.number >= 2 else np.full(len(pts), 0.02)
            if art["d_kind"] == "critic" and stage.number >= 2:
                heights = _scaled(heights, show.get("critic_range"))
            pts = np.stack([pts.reshape(-1), np.asarray(heights, dtype=float).reshape(-1)], 1)
        art[name].set_offsets(pts)
    push = show.get("push")
    if push is not None:
        at, vec = np.asarray(push["at"], dtype=float), np.asarray(push["vec"], dtype=float)
        colors = np.asarray(push.get("colors", ["black"] * len(at)))
        keep = _spread_subset(colors)
        at, vec, colors = at[keep], vec[keep], colors[keep]
        if one_d:
            spans = (art["x"][-1] - art["x"][0], 1.04)
        else:
            x0, x1, y0, y1 = art["extent"]
            spans = (x1 - x0, y1 - y0)
        longest = float(np.max(np.linalg.norm(vec / np.asarray(spans), axis=1))) if len(vec) else 0.0
        s = (0.25 if one_d and push["axis"] == "y" else ARROW_FRACTION) / longest if longest > 0 else 1.0
        art["stage_push"].set_segments(arrow_segments(at, s * vec, spans))
        art["stage_push"].set_color(np.concatenate([colors] * 3))  # shafts, then the two strokes of each head
    if "ghost" in show:
        if one_d:
            g = show["ghost"]
            d = g["d"]
            if art["d_kind"] == "critic":
                d = _scaled(d, (float(np.min(d)), float(np.max(d))))
            art["ghost_d"].set_ydata(d)
            art["ghost_p_g"].set_ydata(g["p_g"])
        else:
            art["ghost_samples"].set_offsets(show["ghost"]["x_fake"][:1000])


def arrow_segments(at, vec, spans, head: float = 0.3, angle: float = 25.0) -> np.ndarray:
    """Line segments of arrows from ``at`` (n, 2) along ``vec`` (n, 2): a shaft and two strokes of the head.

    The head is a fraction ``head`` of the shaft (at most 3 % of the view), turned by ``angle``
    degrees each way, drawn in the axes' own proportions (``spans``: the x and y ranges) so that
    it is not skewed when the two axes have different units. Returns (3n, 2, 2).
    """
    at, vec = np.asarray(at, dtype=float).reshape(-1, 2), np.asarray(vec, dtype=float).reshape(-1, 2)
    spans = np.asarray(spans, dtype=float)
    tip = at + vec
    u = vec / spans  # in units of the view
    length = np.linalg.norm(u, axis=1, keepdims=True)
    back = -u / np.maximum(length, 1e-12) * np.minimum(head * length, 0.03)
    strokes = []
    for sign in (1, -1):
        a = math.radians(sign * angle)
        rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
        strokes.append(np.stack([tip, tip + (back @ rot.T) * spans], 1))
    return np.concatenate([np.stack([at, tip], 1), *strokes])


def _spread_subset(colors: np.ndarray) -> np.ndarray:
    # Indices of at most MAX_STAGE_ARROWS arrows of each colour, evenly spread over the batch.
    keep = []
    for c in dict.fromkeys(colors.tolist()):
        idx = np.flatnonzero(colors == c)
        step = max(1, math.ceil(len(idx) / MAX_STAGE_ARROWS))
        keep.append(idx[::step])
    return np.concatenate(keep) if keep else np.zeros(0, dtype=int)


def _scaled(values, value_range):
    lo, hi = value_range if value_range is not None else (float(np.min(values)), float(np.max(values)))
    return (np.asarray(values, dtype=float) - lo) / max(hi - lo, 1e-12)


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
