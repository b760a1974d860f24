"""Lesson 09's latent-space measures, each against an independent computation."""
import numpy as np
import pytest
import torch

from gan_lessons import latent


def test_step_distances_are_the_norms_of_consecutive_differences():
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(6, 1, 4, 4, generator=gen)
    d = latent.step_distances(images)
    expected = [torch.dist(images[t], images[t + 1]).item() for t in range(5)]
    np.testing.assert_allclose(d, expected, rtol=1e-6)


def test_largest_step_share_is_one_over_the_steps_on_an_even_path_and_near_one_on_a_switching_one():
    a, b = torch.zeros(16), torch.ones(16)
    even = torch.stack([(1 - t) * a + t * b for t in torch.linspace(0, 1, 11)])
    assert latent.largest_step_share(even) == pytest.approx(1 / 10, rel=1e-5)
    # Two "memorised" images with tiny noise inside each region and one switch between them.
    gen = torch.Generator().manual_seed(1)
    switching = torch.stack([a if t < 5 else b for t in range(11)]) + 1e-3 * torch.randn(11, 16, generator=gen)
    assert latent.largest_step_share(switching) > 0.95


def test_latent_arithmetic_adds_and_subtracts_group_means():
    gen = torch.Generator().manual_seed(2)
    g1, g2, g3 = (torch.randn(3, 5, generator=gen) for _ in range(3))
    y = latent.latent_arithmetic([g1, g2, g3], [1, -1, 1])
    expected = torch.tensor([sum(g1[i, j] for i in range(3)) / 3 - sum(g2[i, j] for i in range(3)) / 3
                             + sum(g3[i, j] for i in range(3)) / 3 for j in range(5)])
    assert torch.allclose(y, expected, atol=1e-6)


def test_jitter_keeps_y_first_and_moves_each_coordinate_by_at_most_the_scale():
    y = torch.arange(4.0)
    out = latent.jitter(y, 2001, scale=0.25, generator=torch.Generator().manual_seed(3))
    assert out.shape == (2001, 4) and torch.equal(out[0], y)
    u = out[1:] - y
    assert u.abs().max() <= 0.25
    # U(-a, a) has mean 0 and variance a^2 / 3.
    assert u.mean().abs() < 0.01 and u.var().item() == pytest.approx(0.25 ** 2 / 3, rel=0.05)


def _loop_stroke_and_isolated(image, lo, hi):
    h, w = len(image), len(image[0])
    s = [[(image[i][j] - lo) / (hi - lo) > 0.5 for j in range(w)] for i in range(h)]
    strokes = isolated = 0
    for i in range(h):
        for j in range(w):
            if not s[i][j]:
                continue
            strokes += 1
            if not any(s[k][l] for k in range(max(0, i - 1), min(h, i + 2)) for l in range(max(0, j - 1), min(w, j + 2))
                       if (k, l) != (i, j)):
                isolated += 1
    return strokes / (h * w), isolated / max(1, strokes)


def test_stroke_and_isolated_shares_match_a_pixel_loop():
    gen = torch.Generator().manual_seed(4)
    images = torch.rand(5, 9, 9, generator=gen) * 2 - 1
    images[0] = -1  # no strokes at all: isolated share 0
    shares = latent.stroke_share(images, (-1, 1))
    iso = latent.isolated_share(images, (-1, 1))
    for b in range(5):
        want_share, want_iso = _loop_stroke_and_isolated(images[b].tolist(), -1, 1)
        assert shares[b] == pytest.approx(want_share)
        assert iso[b] == pytest.approx(want_iso)
    # One speck and one 2x2 block: 1 of 5 stroke pixels is isolated; (B, 784)-style flat input works too.
    image = np.zeros((1, 6, 6))
    image[0, 0, 0] = 1
    image[0, 3:5, 3:5] = 1
    assert latent.isolated_share(image.reshape(1, 36), (0, 1))[0] == pytest.approx(1 / 5)


@pytest.mark.parametrize("call, match", [
    (lambda: latent.step_distances(torch.zeros(1, 4)), "at least 2"),
    (lambda: latent.largest_step_share(torch.zeros(3, 4)), "do not change"),
    (lambda: latent.latent_arithmetic([torch.zeros(2, 3)], [2]), "sign"),
    (lambda: latent.latent_arithmetic([torch.zeros(2, 3), torch.zeros(2, 4)], [1, -1]), "same size"),
    (lambda: latent.latent_arithmetic(torch.zeros(2, 3), [1]), "groups"),
    (lambda: latent.jitter(torch.zeros(2, 3), 4), "1-D"),
    (lambda: latent.stroke_share(torch.zeros(2, 10), (-1, 1)), "square"),
    (lambda: latent.stroke_share(torch.zeros(2, 9), (1, -1)), "pixel_range"),
])
def test_bad_input_names_the_argument(call, match):
    with pytest.raises(ValueError, match=match):
        call()
