"""The image panels of lessons 10-11, built headless: latent interpolation and the real-or-fake quiz."""
import base64
import math

import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch
from fakes import png_size

from gan_lessons import image_widgets, models, plots

# --- latent interpolation (lessons 08-10) ------------------------------------------------------------

def test_interpolation_endpoints_are_exact_and_linear_midpoint_is_the_mean():
    gen = torch.Generator().manual_seed(0)
    z0, z1 = torch.randn(16, generator=gen), torch.randn(16, generator=gen)
    for method in image_widgets.INTERPOLATION_METHODS:
        path = image_widgets.compute_interpolation(z0, z1, [0.0, 0.5, 1.0], method)
        assert path.shape == (3, 16)
        assert torch.equal(path[0], z0) and torch.equal(path[-1], z1)
    linear = image_widgets.compute_interpolation(z0, z1, [0.5], "linear")[0]
    assert torch.allclose(linear, (z0 + z1) / 2, atol=1e-7)


def test_slerp_follows_the_great_circle():
    # Orthogonal unit vectors: slerp(t) = (cos(t pi/2), sin(t pi/2)) in their plane.
    e0, e1 = torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64), torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64)
    ts = torch.linspace(0, 1, 7, dtype=torch.float64)
    path = image_widgets.compute_interpolation(e0, e1, ts, "slerp")
    expected = torch.stack([torch.cos(ts * math.pi / 2), torch.sin(ts * math.pi / 2), torch.zeros_like(ts)], 1)
    assert torch.allclose(path, expected, atol=1e-12)
    # Equal-norm end points: every point keeps that norm; the straight line dips below it.
    gen = torch.Generator().manual_seed(1)
    z0, z1 = torch.randn(100, generator=gen, dtype=torch.float64), torch.randn(100, generator=gen, dtype=torch.float64)
    z1 = z1 / z1.norm() * z0.norm()
    norms = image_widgets.compute_interpolation(z0, z1, torch.linspace(0, 1, 21), "slerp").norm(dim=1)
    assert torch.allclose(norms, torch.full_like(norms, float(z0.norm())), rtol=1e-10)
    linear_mid = image_widgets.compute_interpolation(z0, z1, [0.5], "linear")[0].norm()
    assert linear_mid < 0.8 * z0.norm()  # near-orthogonal in 100-d: about 1/sqrt(2) of it
    # Parallel vectors: the arc is the segment
    assert torch.allclose(image_widgets.compute_interpolation(e0, 3 * e0, [0.5])[0], 2 * e0)


def test_interpolation_rejects_bad_input():
    z = torch.ones(4)
    with pytest.raises(ValueError, match="method"):
        image_widgets.compute_interpolation(z, z, [0.5], "cubic")
    with pytest.raises(ValueError, match="ts"):
        image_widgets.compute_interpolation(z, z, [1.5])
    with pytest.raises(ValueError, match="ts"):
        image_widgets.compute_interpolation(z, z, [])
    with pytest.raises(ValueError, match="same size"):
        image_widgets.compute_interpolation(z, torch.ones(5), [0.5])
    with pytest.raises(ValueError, match="opposite directions"):
        image_widgets.compute_interpolation(z, -z, [0.5])
    with pytest.raises(ValueError, match="non-zero"):
        image_widgets.compute_interpolation(z, torch.zeros(4), [0.5])


def tiny_conditional_generator():
    torch.manual_seed(0)
    return models.ConvGenerator(latent_dim=8, g_width=8, d_width=4, n_classes=10)


def ink(images, lo=-1.0, hi=1.0):
    return 1 - np.clip((images.reshape(len(images), 28, 28).numpy() - lo) / (hi - lo), 0, 1)


def test_interpolation_panel_shows_g_along_the_path_and_restores_train_mode():
    G = tiny_conditional_generator()
    seen_labels = []
    G.register_forward_hook(lambda m, args, out: seen_labels.append(args[1].clone()))
    panel = image_widgets.InterpolationPanel(G, n_steps=5, seeds=(3, 4))
    assert G.training  # eval mode while drawing, train mode after
    fig, strip_artist = panel.figure, plots.find_artist(panel.figure, "strip")
    panel.set_values((panel.digit, 7), (panel.t, 0.75), (panel.method, "linear"))
    assert all(torch.equal(y, torch.full_like(y, 7)) for y in seen_labels[-2:])  # G(z, 7) for strip and big image
    z0 = G.sample_z(1, generator=torch.Generator().manual_seed(3))[0]
    z1 = G.sample_z(1, generator=torch.Generator().manual_seed(4))[0]
    G.eval()
    with torch.no_grad():
        strip = G(torch.stack([(1 - t) * z0 + t * z1 for t in (0, 0.25, 0.5, 0.75, 1)]), torch.full((5,), 7))
        current = G((0.25 * z0 + 0.75 * z1)[None], torch.tensor([7]))
    G.train()
    assert torch.allclose(panel.strip_images, strip, atol=1e-6)
    np.testing.assert_allclose(plots.find_artist(fig, "current_image").get_array(), ink(current)[0], atol=1e-6)
    shown = strip_artist.get_array()
    np.testing.assert_allclose(shown[2:30, 2:30], ink(strip)[0], atol=1e-6)  # tile 0 after 2 pixels of padding
    np.testing.assert_allclose(shown[2:30, 32:60], ink(strip)[1], atol=1e-6)
    assert plots.find_artist(fig, "highlight").get_x() == 2 + 3 * 30 - 1.5  # t = 0.75: tile 3 of 0..4
    linear = plots.find_artist(fig, "norm:linear").get_ydata()
    assert linear[50] == pytest.approx(float(((z0 + z1) / 2).norm()), rel=1e-5)  # t = 0.5 on the 101-point grid
    assert "‖z(t)‖" in panel.readout.value
    # Every change moved the same artists of the same figure
    panel.seed1.value = 9
    assert panel.figure is fig and plots.find_artist(fig, "strip") is strip_artist
    assert png_size(panel.image.value) == panel.blitter.canvas.get_width_height()
    G.eval()
    image_widgets.InterpolationPanel(G, n_steps=3)
    assert not G.training  # a G in eval mode stays in it


def test_draw_interpolation_maps_the_pixel_range():
    G = tiny_conditional_generator()
    panel = image_widgets.InterpolationPanel(G, n_steps=3)
    zeros = torch.zeros(3, 1, 28, 28)
    image_widgets.draw_interpolation(panel.figure, zeros, zeros[:1], 0.0, pixel_range=(-1, 1))
    assert np.allclose(plots.find_artist(panel.figure, "current_image").get_array(), 0.5)  # 0 is mid-grey in [-1, 1]
    image_widgets.draw_interpolation(panel.figure, zeros, zeros[:1], 1.0, pixel_range=(0, 1))
    assert np.allclose(plots.find_artist(panel.figure, "current_image").get_array(), 1.0)  # 0 is background in [0, 1]
    assert plots.find_artist(panel.figure, "highlight").get_x() == 2 + 2 * 30 - 1.5


def test_interpolation_panel_with_an_unconditional_generator_and_bad_arguments():
    G = models.MLPGenerator(latent_dim=3, out_dim=784, hidden_dims=(8,), out_activation="sigmoid")
    panel = image_widgets.InterpolationPanel(G, n_classes=0, pixel_range=(0, 1))
    assert panel.digit.disabled and panel.strip_images.shape == (9, 784)
    with pytest.raises(ValueError, match="n_steps"):
        image_widgets.InterpolationPanel(G, n_classes=0, n_steps=1)
    with pytest.raises(ValueError, match="pixel_range"):
        image_widgets.InterpolationPanel(G, n_classes=0, pixel_range=(1, 0))


# --- the real-or-fake quiz ---------------------------------------------------------------------------

def numbered(n, start, shape=(1, 28, 28)):
    """Images whose every pixel is their number: start, start + 1, ..."""
    return torch.arange(start, start + n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, *shape).clone()


def test_make_quiz_draws_half_and_half_without_repeats_and_shuffles():
    real, fake = numbered(30, 0), numbered(30, 100).reshape(30, 784)  # fakes flat: reshaped like the reals
    images, is_real = image_widgets.make_quiz(real, fake, n=20, seed=3)
    ids = images[:, 0, 0, 0]
    assert images.shape == (20, 1, 28, 28) and is_real.dtype == torch.bool
    assert torch.equal(is_real, ids < 100)  # the truth matches where each image came from
    assert int(is_real.sum()) == 10 and len(torch.unique(ids)) == 20
    assert not torch.equal(is_real, is_real.sort(descending=True).values)  # not all the reals first
    again, _ = image_widgets.make_quiz(real, fake, n=20, seed=3)
    other, _ = image_widgets.make_quiz(real, fake, n=20, seed=4)
    assert torch.equal(images, again) and not torch.equal(images, other)
    _, odd = image_widgets.make_quiz(real, fake, n=7)
    assert int(odd.sum()) == 4  # the extra one is real
    _, short = image_widgets.make_quiz(real[:3], fake, n=10)
    assert int(short.sum()) == 3  # three reals, the fakes fill in


def test_make_quiz_rejects_bad_input():
    real, fake = numbered(5, 0), numbered(5, 100)
    with pytest.raises(ValueError, match="n must be between 1 and 10"):
        image_widgets.make_quiz(real, fake, n=11)
    with pytest.raises(ValueError, match="n must be between"):
        image_widgets.make_quiz(real, fake, n=0)
    with pytest.raises(ValueError, match="fake_images"):
        image_widgets.make_quiz(real, torch.zeros(5, 100))
    with pytest.raises(ValueError, match="real_images"):
        image_widgets.make_quiz(torch.zeros(0, 784), fake)


def test_score_and_summary_count_by_hand():
    answers, truth = [True, False, True, True, False], [True, False, False, True, True]
    assert image_widgets.score_quiz(answers, truth) == 0.6
    s = image_widgets.compute_quiz_summary(answers, torch.tensor(truth))
    assert s == {"accuracy": 0.6, "n_correct": 3, "n": 5, "real_correct": 2, "n_real": 3,
                 "fake_correct": 1, "n_fake": 2}
    with pytest.raises(ValueError, match="answers"):
        image_widgets.score_quiz([True], truth)
    with pytest.raises(ValueError, match="answers"):
        image_widgets.score_quiz(["yes"] * 5, truth)


def test_quiz_answered_correctly_scores_one_and_reveals_the_fakes():
    quiz = image_widgets.RealOrFakeQuiz(numbered(30, 0) / 200, numbered(30, 100) / 200, n=12, seed=0, pixel_range=(0, 1))
    assert "Image 1 of 12" in quiz.readout.value
    for k, real in enumerate(quiz.is_real.tolist()):
        np.testing.assert_allclose(plots.find_artist(quiz.figure, "quiz_image").get_array(), quiz.ink[k])
        (quiz.real_button if real else quiz.fake_button).click()
    assert quiz.finished and image_widgets.score_quiz(quiz.answers, quiz.is_real) == 1.0
    assert "100 %" in quiz.readout.value and "(12 of 12)" in quiz.readout.value
    assert "6 of 6" in quiz.readout.value and quiz.real_button.disabled
    grid = plots.find_artist(quiz.figure, "reveal_grid").get_array()
    for i, real in enumerate(quiz.is_real.tolist()):  # each tile's frame: blue if real, orange if fake
        r, c = divmod(i, 10)
        frame = np.asarray(grid[3 + r * 31 - 1, 3 + c * 31 - 1])
        np.testing.assert_allclose(frame, [0.0, 0.45, 0.70] if real else [0.90, 0.62, 0.0], atol=1e-6)
    assert len(plots.find_artist(quiz.figure, "reveal_wrong").get_offsets()) == 0
    quiz.fake_button.click()  # after the end: ignored, no crash
    assert len(quiz.answers) == 12 and "New quiz" in quiz.readout.value
    quiz.new_button.click()
    assert quiz.seed == 1 and quiz.answers == [] and not quiz.real_button.disabled
    assert torch.equal(quiz.images, image_widgets.make_quiz(numbered(30, 0) / 200, numbered(30, 100) / 200, 12, seed=1)[0])
    assert "Image 1 of 12" in quiz.readout.value


def test_quiz_marks_every_mistake():
    quiz = image_widgets.RealOrFakeQuiz(torch.rand(10, 784), torch.rand(10, 784), n=8, seed=2)
    for real in quiz.is_real.tolist():
        quiz.answer(not real)
    assert "0 %" in quiz.readout.value and "0 of 4" in quiz.readout.value
    marks = plots.find_artist(quiz.figure, "reveal_wrong").get_offsets()
    assert len(marks) == 8
    np.testing.assert_allclose(marks[1], [3 + 31 + 13.5, 3 + 13.5])  # tile 1's centre: column 1 of row 0


def test_image_panels_display_a_still_and_a_sentence_for_viewers_without_widgets():
    from IPython.core.formatters import DisplayFormatter

    quiz = image_widgets.RealOrFakeQuiz(torch.rand(10, 784), torch.rand(10, 784), n=8, seed=2)
    walk = image_widgets.InterpolationPanel(tiny_conditional_generator(), n_steps=3)
    for panel, name in ((quiz, "the real-or-fake quiz"), (walk, "a walk through G's noise space")):
        data, _ = DisplayFormatter().format(panel.box)  # lessons 10 and 11 display the box
        assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == panel.box.model_id
        assert data["text/plain"] == f"Interactive panel ({name}): run this cell to use it."
        assert base64.b64decode(data["image/png"]) == panel.image.value
