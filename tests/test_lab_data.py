"""Typed and brushed points for the training lab (``lab_data``), the editor built headless."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.figure import Figure
from scipy import stats

from gan_lessons.lab_data import (
    PointsEditor,
    append_points,
    brush_points,
    format_points,
    parse_points,
    plot_points,
    remove_stroke,
)

# --- parse_points and format_points -------------------------------------------------------------


def test_parse_reads_every_accepted_spelling_of_a_point():
    text = "# my ring\n1, 2\n\n3 4   # a comment\n-5.5,6e-1\n\t7\t8\r\n"
    np.testing.assert_array_equal(parse_points(text), [[1, 2], [3, 4], [-5.5, 0.6], [7, 8]])
    out = parse_points("0.5\n  -1  \n2e1")
    assert out.dtype == np.float64 and out.shape == (3, 1)
    np.testing.assert_array_equal(out[:, 0], [0.5, -1, 20])


def test_format_writes_rounded_lines_by_hand():
    assert format_points([[1.0, -0.0001], [2.5, 3.14159]]) == "1, 0\n2.5, 3.142"
    assert format_points(np.array([0.1234, -2.0])) == "0.123\n-2"
    assert format_points(np.zeros((0, 2))) == ""


@pytest.mark.parametrize("dim", [1, 2])
@pytest.mark.parametrize("scale", [0.01, 1.0, 300.0])
def test_parse_inverts_format_on_random_arrays(dim, scale):
    rng = np.random.default_rng(dim * 1000 + int(scale * 10))
    x = rng.normal(0, scale, size=(50, dim))
    text = format_points(x)
    back = parse_points(text)
    assert back.shape == x.shape
    np.testing.assert_allclose(back, x, rtol=0, atol=5e-4 + 1e-12)  # 3 decimals
    np.testing.assert_allclose(back, np.round(x, 3), rtol=0, atol=1e-9)
    assert format_points(back) == text  # a second round trip changes nothing


@pytest.mark.parametrize("text, line, shown", [
    ("1, 2\n3, 4\nabc, 5", 3, "'abc, 5'"),
    ("1, 2\n\n# note\n3, 4, 5", 4, "'3, 4, 5'"),
    ("1, 2\n3\n", 2, "'3'"),
    ("1\n2\n3 4", 3, "'3 4'"),
    ("1, 2\nnan, 4", 2, "'nan, 4'"),
    ("1, 2\n3, inf", 2, "'3, inf'"),
    ("1, 2\n3,, 4", 2, "'3,, 4'"),
    ("1; 2\n3 4", 1, "'1; 2'"),
])
def test_each_parse_error_names_its_line_and_its_text(text, line, shown):
    with pytest.raises(ValueError) as info:
        parse_points(text)
    message = str(info.value)
    assert f"line {line} " in message and shown in message


def test_parse_says_what_is_accepted_and_needs_two_points():
    with pytest.raises(ValueError, match="is not a number; accepted: one point per line"):
        parse_points("1, 2\nx, y")
    with pytest.raises(ValueError, match="same dimension"):
        parse_points("1, 2\n3")
    for text in ["", "# only a comment\n\n", "1, 2"]:
        with pytest.raises(ValueError, match="at least 2 points"):
            parse_points(text)
    with pytest.raises(ValueError, match="text must be a string"):
        parse_points([[1, 2], [3, 4]])


def test_format_rejects_what_parse_could_not_read():
    for bad, match in [(np.zeros((3, 3)), r"\(n, 2\)"), (np.zeros((2, 2, 2)), "1-D or 2-D"),
                       ([[1.0, np.nan]], "finite"), ("abc", "points must be numbers")]:
        with pytest.raises(ValueError, match=match):
            format_points(bad)


def test_append_and_remove_a_stroke_keep_the_other_lines():
    text = append_points("1, 1\n2, 2\n", [[3, 3], [4, 4]])
    assert text == "1, 1\n2, 2\n3, 3\n4, 4"
    assert append_points("", [[5, 5]]) == "5, 5"
    assert remove_stroke(text + "\n9, 9", "3, 3\n4, 4") == "1, 1\n2, 2\n9, 9"
    assert remove_stroke("3, 3\n1, 1\n3, 3", "3, 3") == "3, 3\n1, 1"  # the last one
    assert remove_stroke(text, "3, 3\n4.5, 4") is None

# --- brush_points -------------------------------------------------------------------------------


def test_a_2d_stroke_has_the_requested_centre_and_spread():
    n, centre, spread = 4000, np.array([1.5, -2.0]), 0.7
    x = brush_points(centre, spread, n, seed=3)
    assert x.shape == (n, 2) and x.dtype == np.float64
    se_mean, se_std = spread / np.sqrt(n), spread / np.sqrt(2 * (n - 1))  # standard errors
    assert np.all(np.abs(x.mean(0) - centre) < 3 * se_mean)
    assert np.all(np.abs(x.std(0, ddof=1) - spread) < 3 * se_std)
    assert abs(np.corrcoef(x.T)[0, 1]) < 3 / np.sqrt(n)  # independent coordinates
    for k in range(2):  # each coordinate is N(centre_k, spread^2)
        assert stats.kstest(x[:, k], "norm", args=(centre[k], spread)).pvalue > 1e-3


def test_a_1d_stroke_from_a_number_or_a_list_of_one():
    x = brush_points(-1.0, 0.2, 3000, seed=1)
    assert x.shape == (3000, 1)
    assert abs(x.mean() + 1.0) < 3 * 0.2 / np.sqrt(3000)
    np.testing.assert_array_equal(brush_points([-1.0], 0.2, 3000, seed=1), x)
    np.testing.assert_array_equal(brush_points((0.5, 2), 0.0, 4), np.tile([0.5, 2.0], (4, 1)))


def test_seeds_reproduce_strokes_and_differ_between_seeds():
    a, b = brush_points([0, 0], 1.0, 50, seed=7), brush_points([0, 0], 1.0, 50, seed=7)
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, brush_points([0, 0], 1.0, 50, seed=8))


@pytest.mark.parametrize("kwargs, name", [
    ({"centre": [1, 2, 3]}, "centre"), ({"centre": "middle"}, "centre"), ({"centre": [np.nan, 0]}, "centre"),
    ({"centre": [[0, 0]]}, "centre"), ({"spread": -0.1}, "spread"), ({"spread": "wide"}, "spread"),
    ({"spread": np.inf}, "spread"), ({"n": 0}, "n"), ({"n": 2.5}, "n"), ({"n": 10**6}, "n"),
    ({"seed": -1}, "seed"), ({"seed": 1.0}, "seed"),
])
def test_bad_brush_arguments_name_themselves(kwargs, name):
    args = {"centre": [0, 0], "spread": 0.5, "n": 10, "seed": 0, **kwargs}
    with pytest.raises(ValueError, match=rf"^{name} must"):
        brush_points(**args)

# --- plot_points --------------------------------------------------------------------------------


def test_plot_points_2d_is_an_equal_aspect_scatter_of_the_points():
    x = brush_points([1, -1], 0.5, 30, seed=0)
    fig = plot_points(x, limits=((-4, 4), (-3, 3)))
    assert isinstance(fig, Figure) and plt.get_fignums() == []  # not pyplot's: never shown twice
    ax = fig.axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), x)
    assert ax.get_aspect() == 1.0 and ax.get_xlim() == (-4, 4) and ax.get_ylim() == (-3, 3)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x", "y")


def test_plot_points_1d_is_a_density_histogram_with_a_rug():
    x = brush_points(0.5, 1.0, 400, seed=2)
    _, ax = plt.subplots()
    fig = plot_points(x[:, 0], ax=ax, limits=(-6, 6))
    assert fig is ax.figure
    bars = ax.patches
    area = sum(bar.get_width() * bar.get_height() for bar in bars)
    assert area == pytest.approx(1.0)  # a density: the histogram integrates to one
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), x[:, 0])  # the rug, one tick per point
    assert ax.get_xlim() == (-6, 6) and (ax.get_xlabel(), ax.get_ylabel()) == ("x", "density")


def test_plot_points_rejects_bad_points_and_limits():
    with pytest.raises(ValueError, match="points must hold at least 1"):
        plot_points(np.zeros((0, 2)))
    for limits in [(1, -1), ((0, 1),), ((0, 1), (2, 2)), "wide", ((0, np.nan), (0, 1))]:
        with pytest.raises(ValueError, match="limits must be"):
            plot_points(np.zeros((3, 2)), limits=limits)

# --- PointsEditor -------------------------------------------------------------------------------


def status(editor):
    return editor.status.value


def test_the_editor_parses_what_is_typed_into_points_and_status():
    editor = PointsEditor()
    assert editor.points is None and "No points yet" in status(editor)
    editor.textarea.value = "1, 2\n3, 4\n5, 6"
    np.testing.assert_array_equal(editor.points, [[1, 2], [3, 4], [5, 6]])
    assert "3 points, 2-D" in status(editor)
    editor.textarea.value = "1\n2\n9"
    assert editor.points.shape == (3, 1) and "3 points, 1-D" in status(editor)
    assert editor.dim == 1 and editor.y_slider.disabled  # typed 1-D points set the brush to 1-D
    assert "(1 outside the view)" in status(editor)  # the view is (-4, 4)


def test_a_bad_line_shows_in_the_status_without_raising():
    editor = PointsEditor()
    editor.textarea.value = "1, 2\n3, 4\noops"
    assert editor.points is None
    assert "line 3" in status(editor) and "oops" in status(editor)
    editor.use_button.click()  # pressing "Use" with a bad line reports it too
    assert "Nothing sent" in status(editor) and "line 3" in status(editor)


def test_add_stroke_appends_the_brush_points_to_the_text():
    editor = PointsEditor(seed=5)
    editor.textarea.value = "0, 0\n1, 1"
    editor.x_slider.value, editor.y_slider.value = 2.0, -1.0
    editor.spread_slider.value, editor.count_slider.value = 0.3, 12
    before = editor.image.value
    editor.add_button.click()
    stroke = parse_points(format_points(brush_points([2.0, -1.0], 0.3, 12, seed=5)))
    np.testing.assert_array_equal(editor.points, np.vstack([[[0, 0], [1, 1]], stroke]))
    assert editor.textarea.value.startswith("0, 0\n1, 1\n") and "14 points, 2-D" in status(editor)
    assert editor.image.value != before and editor.image.value[:8] == b"\x89PNG\r\n\x1a\n"
    editor.add_button.click()  # the next stroke has the next seed: other points
    assert len(editor.points) == 26 and not np.allclose(editor.points[14:], stroke)


def test_undo_takes_back_a_stroke_and_keeps_what_was_typed_since():
    editor = PointsEditor(points=[[0, 0], [1, 1]])
    typed = editor.textarea.value
    editor.add_button.click()
    editor.textarea.value += "\n3, 3  # typed after the stroke"
    editor.undo_button.click()
    assert editor.textarea.value == typed + "\n3, 3  # typed after the stroke"
    editor.undo_button.click()
    assert editor.textarea.value == typed + "\n3, 3  # typed after the stroke" and "Nothing to undo" in status(editor)


def test_undo_restores_the_text_before_clear():
    editor = PointsEditor()
    editor.textarea.value = "# mine\n1, 2\n3, 4"
    editor.add_button.click()
    full = editor.textarea.value
    editor.clear_button.click()
    assert editor.textarea.value == "" and editor.points is None
    editor.undo_button.click()
    assert editor.textarea.value == full
    editor.undo_button.click()
    assert editor.textarea.value == "# mine\n1, 2\n3, 4"
    editor.clear_button.click()
    editor.textarea.value = "7, 7"  # typed after a Clear: kept after the restored points
    editor.undo_button.click()
    assert editor.textarea.value == "# mine\n1, 2\n3, 4\n7, 7"


def test_undo_leaves_a_stroke_edited_by_hand():
    editor = PointsEditor()
    editor.add_button.click()
    edited = editor.textarea.value.replace("\n", "\n5, 5\n", 1)
    editor.textarea.value = edited
    editor.undo_button.click()
    assert editor.textarea.value == edited and "edited by hand" in status(editor)


def test_a_stroke_of_the_other_dimension_is_refused_with_a_message():
    editor = PointsEditor(points=[[0, 0], [1, 1]])
    editor.dim_toggle.value = 1
    assert editor.y_slider.disabled
    editor.add_button.click()
    assert "2-D but the brush is 1-D" in status(editor) and len(editor.points) == 2
    editor.clear_button.click()
    editor.add_button.click()
    assert editor.points.shape == (20, 1)


def test_use_calls_every_registered_callback_with_the_points():
    editor = PointsEditor(points=np.array([0.5, 1.5, 2.5]), dim=2)
    assert editor.dim == 1  # given points set the dimension
    editor.use_button.click()
    assert "Nothing is listening" in status(editor)
    got = []
    editor.on_use(got.append)

    @editor.on_use
    def second(points):
        got.append(points.sum())

    editor.use_button.click()
    np.testing.assert_array_equal(got[0], [[0.5], [1.5], [2.5]])
    assert got[1] == pytest.approx(4.5) and "Sent 3 points, 1-D" in status(editor)


def test_a_failing_callback_shows_in_the_status_without_raising():
    editor = PointsEditor(points=[[0, 0], [1, 1]])

    def train(points):
        raise RuntimeError("no GPU")

    editor.on_use(train)
    editor.use_button.click()
    assert "train raised RuntimeError: no GPU" in status(editor)


def test_the_preview_follows_the_brush_and_the_widget_displays_a_still():
    editor = PointsEditor(dim=1)
    before = editor.image.value
    editor.x_slider.value = 2.0
    assert editor.image.value != before
    bundle = editor.widget._repr_mimebundle_()
    assert "image/png" in bundle and "points" in bundle["text/plain"]


@pytest.mark.parametrize("kwargs, name", [
    ({"dim": 3}, "dim"), ({"dim": "2-D"}, "dim"), ({"points": [[1, 2, 3]]}, "points"),
    ({"points": "abc"}, "points"), ({"limits": (0, 1)}, "limits"), ({"limits": ((0, 1), (1, 0))}, "limits"),
    ({"seed": -1}, "seed"),
])
def test_bad_editor_arguments_name_themselves(kwargs, name):
    with pytest.raises(ValueError, match=rf"^{name} must"):
        PointsEditor(**kwargs)
    with pytest.raises(ValueError, match="callback must be"):
        PointsEditor().on_use("train")

