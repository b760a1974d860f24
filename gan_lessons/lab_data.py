"""Your own points for the training lab, typed or drawn with a brush, with ipywidgets alone.

ipywidgets gives no mouse position on an image, so "drawing" is a brush moved by sliders: each
stroke adds a Gaussian blob of points at the brush. The typed text is the one source of truth;
strokes are appended to it as lines, so a learner can always read and edit what they drew.
Three layers: ``parse_points``, ``format_points``, ``brush_points`` and the text edits are pure;
``plot_points`` and ``draw_brush`` draw; ``PointsEditor`` wires the controls to them.
"""
from __future__ import annotations

import html
import re

import ipywidgets as W
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle

from . import plots
from .checks import as_array, check_callable, describe
from .utils import check_float, check_int
from .widgets import PanelBox  # the box that also carries a still of the preview

__all__ = ["ACCEPTED", "PointsEditor", "append_points", "brush_points", "draw_brush", "format_points",
           "parse_points", "plot_points", "remove_stroke"]

ACCEPTED = "one point per line, 'x' (1-D) or 'x, y' / 'x y' (2-D); blank lines and '#' comments are ignored"
_SEPARATOR = re.compile(r"\s*,\s*|\s+")  # a comma (spaces around it allowed) or a run of spaces


def _quote(line: str) -> str:
    return repr(line if len(line) <= 40 else line[:37] + "...")


def parse_points(text: str) -> np.ndarray:
    """The points written in ``text`` as a float64 array of shape (n, d), d = 1 or 2.

    Args:
        text: one point per line, "x" or "x, y" / "x y"; blank lines and "#" comments are ignored.
            Every line must have the same dimension, there must be at least 2 points, all finite.
    Raises a ValueError naming the line (counted from 1, blank lines included) and its text.
    """
    if not isinstance(text, str):
        raise ValueError(f"text must be a string ({ACCEPTED}), got {describe(text)}")  # noqa: TRY004
    rows, first = [], None  # first: (line number, dimension) of the first point
    for number, raw in enumerate(text.splitlines(), start=1):
        body = raw.split("#", 1)[0].strip()
        if not body:
            continue
        fields = _SEPARATOR.split(body)
        where = f"line {number} ({_quote(raw.strip())})"
        if len(fields) not in (1, 2):
            raise ValueError(f"{where} has {len(fields)} values; accepted: {ACCEPTED}")
        row = []
        for field in fields:
            try:
                value = float(field)
            except ValueError:
                raise ValueError(f"{where}: {field!r} is not a number; accepted: {ACCEPTED}") from None
            if not np.isfinite(value):
                raise ValueError(f"{where}: {field!r} is not finite; coordinates must be finite numbers")
            row.append(value)
        if first is None:
            first = (number, len(row))
        elif len(row) != first[1]:
            raise ValueError(f"{where} is {len(row)}-D but line {first[0]} is {first[1]}-D; "
                             f"all points must have the same dimension")
        rows.append(row)
    if len(rows) < 2:
        raise ValueError(f"text must hold at least 2 points, got {len(rows)}; accepted: {ACCEPTED}")
    return np.array(rows, dtype=np.float64)


def _as_points(name: str, points, min_points: int = 0) -> np.ndarray:
    """``points`` as an (n, d) float64 array, d = 1 or 2 (an (n,) array is 1-D), else a ValueError."""
    arr = as_array(name, points, ndim=(1, 2), min_size=0)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.shape[1] not in (1, 2):
        raise ValueError(f"{name} must have shape (n,), (n, 1) or (n, 2), got {arr.shape}")
    if len(arr) < min_points:
        raise ValueError(f"{name} must hold at least {min_points} point(s), got {len(arr)}")
    return arr


def _number(value: float) -> str:
    # +0.0 turns a rounded -0.0 into 0, so the text never shows "-0".
    return np.format_float_positional(round(float(value), 3) + 0.0, precision=3, trim="-")


def format_points(points) -> str:
    """``points`` ((n,), (n, 1) or (n, 2)) as text that ``parse_points`` reads: one line each, 3 decimals."""
    arr = _as_points("points", points)
    return "\n".join(", ".join(_number(v) for v in row) for row in arr)


def brush_points(centre, spread: float, n: int, seed: int = 0) -> np.ndarray:
    """A brush stroke: ``n`` points x = centre + spread * eps, eps ~ N(0, I), as an (n, d) array.

    Args:
        centre: a number or [x] (1-D points) or [x, y] (2-D points).
        spread: the standard deviation of every coordinate, >= 0 (0 puts every point on the centre).
        n: the number of points, 1 to 10,000.
        seed: seeds the stroke's own generator, >= 0; the same seed gives the same points.
    """
    if np.ndim(centre) == 0:
        mu = np.array([check_float("centre", centre)])
    else:
        mu = as_array("centre", centre, ndim=1)
        if mu.size not in (1, 2):
            raise ValueError(f"centre must be a number, [x] or [x, y], got {mu.size} values")
    spread = check_float("spread", spread, low=0)
    n = check_int("n", n, low=1, high=10_000)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    return mu + spread * rng.standard_normal((n, mu.size))


def append_points(text: str, points) -> str:
    """``text`` with ``points`` added as lines at its end (after a newline if it has none)."""
    block = format_points(points)
    body = text.rstrip("\n")
    return f"{body}\n{block}" if body else block


def remove_stroke(text: str, block: str) -> str | None:
    """``text`` without the last run of lines equal to ``block``'s, or None if it is no longer there."""
    lines, target = text.splitlines(), block.splitlines()
    for start in range(len(lines) - len(target), -1, -1):
        if lines[start:start + len(target)] == target:
            return "\n".join(lines[:start] + lines[start + len(target):])
    return None


def _check_limits(limits, dim: int) -> np.ndarray:
    """``limits`` as (k, 2) rows of (low, high), k >= ``dim``: ((x_lo, x_hi), (y_lo, y_hi)) or (x_lo, x_hi)."""
    try:
        arr = np.atleast_2d(np.asarray(limits, dtype=np.float64))
    except (TypeError, ValueError):
        arr = np.zeros((0, 0))
    if (arr.ndim != 2 or arr.shape[1] != 2 or not dim <= len(arr) <= 2 or not np.all(np.isfinite(arr))
            or np.any(arr[:, 0] >= arr[:, 1])):
        raise ValueError(f"limits must be ((x_low, x_high), (y_low, y_high)) with low < high (for 1-D points "
                         f"(x_low, x_high) also works), got {describe(limits)}")
    return arr


def plot_points(points, ax=None, limits=None):
    """A preview of ``points``: 1-D a histogram with a rug below it, 2-D a scatter at equal aspect.

    Args:
        points: at least one point, shape (n,), (n, 1) or (n, 2).
        ax: the axes to draw on; None makes a new ``Figure`` (not pyplot's, so it is shown only once).
        limits: the view, ((x_lo, x_hi), (y_lo, y_hi)) (1-D: (x_lo, x_hi) also works); None fits the points.
    Returns the figure.
    """
    arr = _as_points("points", points, min_points=1)
    dim = arr.shape[1]
    view = None if limits is None else _check_limits(limits, dim)
    if ax is None:
        ax = Figure(figsize=(4.4, 3.6), dpi=72, layout="constrained").subplots()
    x = arr[:, 0]
    if dim == 1:
        span = view[0] if view is not None else (x.min() - 0.5, x.max() + 0.5)
        edges = np.histogram_bin_edges(x, bins="auto")  # numpy's bin width for these points, over the view
        bins = int(np.clip((span[1] - span[0]) / max(edges[1] - edges[0], 1e-9), 10, 80))
        ax.hist(x, bins=bins, range=span, density=True, color=plots.COLORS["data"], alpha=0.6)
        # The rug sits at the bottom of the axes whatever the histogram's height (axes coordinates in y).
        ax.plot(x, np.full_like(x, 0.02), "|", color="black", markersize=12, transform=ax.get_xaxis_transform())
        ax.set(xlim=span, xlabel="x", ylabel="density")
    else:
        ax.scatter(x, arr[:, 1], s=10, alpha=0.7, color=plots.COLORS["data"])
        if view is not None:
            ax.set(xlim=view[0], ylim=view[1])
        ax.set(aspect="equal", xlabel="x", ylabel="y")
    ax.set_title(f"{len(arr)} points, {dim}-D")
    return ax.figure


def draw_brush(ax, centre, spread: float) -> None:
    """Mark where the next stroke lands on ``ax``: a span (1-D) or circle (2-D) of centre +- 2 spread."""
    mu = as_array("centre", centre, ndim=(0, 1)).reshape(-1)
    reach = max(2 * check_float("spread", spread, low=0), 1e-3)  # a zero spread still shows a mark
    style = {"color": plots.COLORS["generator"], "alpha": 0.25, "gid": "brush"}
    if mu.size == 1:
        ax.axvspan(mu[0] - reach, mu[0] + reach, **style)
    else:
        ax.add_patch(Circle((mu[0], mu[1]), reach, **style))
        ax.plot(mu[0], mu[1], "+", color=plots.COLORS["generator"])


class PointsEditor:
    """Type points, or draw them with a brush, then send them to the lab with "Use these points".

    Args:
        points: the starting points, shape (n,), (n, 1) or (n, 2), or None for an empty box.
        dim: the brush's dimension when ``points`` is None, 1 or 2 (given points set it).
        limits: the view and the brush's range, ((x_lo, x_hi), (y_lo, y_hi)).
        seed: the first stroke's seed; stroke k uses seed + k.
    ``editor.widget`` is the box to display, ``editor.points`` the parsed array (None while the
    text does not parse), and ``editor.on_use(callback)`` registers ``callback(points)``.
    """

    def __init__(self, points=None, dim: int = 2, limits=((-4, 4), (-4, 4)), seed: int = 0):
        dim = check_int("dim", dim, low=1, high=2)
        text = ""
        if points is not None:
            arr = _as_points("points", points)
            text, dim = format_points(arr), (arr.shape[1] if len(arr) else dim)
        self.limits = _check_limits(limits, 2)
        self.seed, self._strokes = check_int("seed", seed, low=0), 0
        self._undo: list[tuple[str, str]] = []  # ("stroke", its lines) or ("clear", the text it cleared)
        self._callbacks, self._quiet, self.points, self._error = [], False, None, ""
        (x_lo, x_hi), (y_lo, y_hi) = self.limits.tolist()
        self.textarea = W.Textarea(value=text, continuous_update=False,
                                   placeholder="one point per line: x, y (or x for 1-D)",
                                   rows=12, layout=W.Layout(width="14em"))
        self.dim_toggle = W.ToggleButtons(options=[("1-D", 1), ("2-D", 2)], value=dim, description="points")
        self.x_slider = W.FloatSlider(value=(x_lo + x_hi) / 2, min=x_lo, max=x_hi, step=0.05, description="x")
        self.y_slider = W.FloatSlider(value=(y_lo + y_hi) / 2, min=y_lo, max=y_hi, step=0.05, description="y")
        width = min(x_hi - x_lo, y_hi - y_lo)
        self.spread_slider = W.FloatSlider(value=round(width / 40, 2), min=0.0, max=round(width / 4, 2),
                                           step=0.01, description="spread")
        self.count_slider = W.IntSlider(value=20, min=1, max=200, description="count")
        self.add_button = W.Button(description="Add stroke", button_style="primary")
        self.undo_button, self.clear_button = W.Button(description="Undo"), W.Button(description="Clear")
        self.use_button = W.Button(description="Use these points", button_style="success")
        self.image, self.status = W.Image(format="png"), W.HTML()
        for button, handler in [(self.add_button, self.add_stroke), (self.undo_button, self.undo),
                                (self.clear_button, self.clear), (self.use_button, self.use)]:
            button.on_click(lambda _b, h=handler: h())
        self.textarea.observe(self._text_changed, names="value")
        for control in (self.dim_toggle, self.x_slider, self.y_slider, self.spread_slider):
            control.observe(self._brush_changed, names="value")
        self.figure = Figure(figsize=(4.4, 3.6), dpi=72, layout="constrained")
        self.canvas, self.ax = FigureCanvasAgg(self.figure), self.figure.subplots()
        brush = W.VBox([self.dim_toggle, self.x_slider, self.y_slider, self.spread_slider, self.count_slider,
                        W.HBox([self.add_button, self.undo_button, self.clear_button]), self.use_button])
        self.widget = PanelBox([W.HBox([self.textarea, brush, self.image]), self.status], image=self.image,
                               name="your points for the training lab")
        self._text_changed()

    @property
    def dim(self) -> int:
        """The brush's dimension, 1 or 2."""
        return self.dim_toggle.value

    def on_use(self, callback):
        """Call ``callback(points)`` whenever "Use these points" is pressed; returns it (a decorator too)."""
        self._callbacks.append(check_callable("callback", callback, "a function of the points array"))
        return callback

    def add_stroke(self) -> None:
        """Append a stroke of points at the brush to the text (refused if the text is of the other dimension)."""
        text_dim = None if self.points is None else self.points.shape[1]
        if text_dim not in (None, self.dim):
            self._show(f"The points are {text_dim}-D but the brush is {self.dim}-D: switch back, or Clear "
                       f"first (Undo brings them back).", error=True)
            return
        centre = [self.x_slider.value, self.y_slider.value][:self.dim]
        stroke = brush_points(centre, self.spread_slider.value, self.count_slider.value,
                              seed=self.seed + self._strokes)
        self._strokes += 1
        self._undo.append(("stroke", format_points(stroke)))
        self.textarea.value = append_points(self.textarea.value, stroke)

    def clear(self) -> None:
        """Empty the text; Undo restores it."""
        if self.textarea.value.strip():
            self._undo.append(("clear", self.textarea.value))
        self.textarea.value = ""

    def undo(self) -> None:
        """Take back the last stroke or Clear, keeping whatever was typed since."""
        if not self._undo:
            self._show("Nothing to undo.")
            return
        kind, saved = self._undo.pop()
        current = self.textarea.value
        if kind == "clear":  # points typed after the Clear are kept, after the restored ones
            self.textarea.value = saved.rstrip("\n") + ("\n" + current if current.strip() else "")
            return
        text = remove_stroke(current, saved)
        if text is None:
            self._show("The last stroke was edited by hand, so Undo left the text as it is.", error=True)
            return
        self.textarea.value = text

    def use(self) -> None:
        """Send the parsed points to every callback registered with ``on_use``; errors go to the status."""
        if self.points is None:
            self._show(f"Nothing sent: {self._error}", error=True)
            return
        if not self._callbacks:
            self._show("Nothing is listening: register a function with editor.on_use(...).", error=True)
            return
        for callback in self._callbacks:
            try:
                callback(self.points.copy())
            except Exception as err:  # noqa: BLE001 - a learner's callback must not break the panel
                self._show(f"{getattr(callback, '__name__', 'a callback')} raised {type(err).__name__}: "
                           f"{err}", error=True)
                return
        self._show(f"Sent {len(self.points)} points, {self.points.shape[1]}-D.")

    def _text_changed(self, change=None) -> None:
        text = self.textarea.value
        try:
            self.points, self._error = parse_points(text), ""
        except ValueError as err:
            self.points = None
            self._error = ("No points yet: type some, one per line, or add a brush stroke."
                           if not text.strip() else str(err))
        if self.points is not None and self.points.shape[1] != self.dim:
            self._quiet = True  # the typed points set the brush's dimension; one redraw below
            self.dim_toggle.value, self._quiet = self.points.shape[1], False
        self._brush_changed()
        failed = self.points is None and bool(text.strip())
        self._show(self._error if self.points is None else self._summary(), error=failed)

    def _brush_changed(self, change=None) -> None:
        if self._quiet:
            return
        self.y_slider.disabled = self.dim == 1
        self.image.value = self.render()

    def _summary(self) -> str:
        n, dim = self.points.shape
        lows, highs = self.limits[:dim].T
        outside = int(np.sum(np.any((self.points < lows) | (self.points > highs), axis=1)))
        return f"{n} points, {dim}-D" + (f" ({outside} outside the view)" if outside else "")

    def _show(self, message: str, error: bool = False) -> None:
        colour = "#b00020" if error else "inherit"
        self.status.value = f'<span style="color:{colour}">{html.escape(message, quote=False)}</span>'

    def render(self) -> bytes:
        """The preview, the points and the brush, as PNG bytes."""
        self.ax.clear()
        if self.points is not None and self.points.shape[1] == self.dim:
            plot_points(self.points, ax=self.ax, limits=self.limits)
        else:
            two = self.dim == 2
            title = (f"the points are {self.points.shape[1]}-D" if self.points is not None
                     else "see the message below" if self.textarea.value.strip() else "no points yet")
            self.ax.set(xlim=self.limits[0], ylim=self.limits[1] if two else (0, 1), xlabel="x", title=title,
                        ylabel="y" if two else "density", aspect="equal" if two else "auto")
        draw_brush(self.ax, [self.x_slider.value, self.y_slider.value][:self.dim], self.spread_slider.value)
        self.canvas.draw()
        return plots.encode_png(np.asarray(self.canvas.buffer_rgba()))
