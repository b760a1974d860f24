"""The blind rating panel of lesson 11, built headless."""
import matplotlib

matplotlib.use("Agg")
import numpy as np
import pytest
import torch

from gan_lessons import plots, rating, rating_widgets


def numbered(n, start, shape=(1, 28, 28)):
    """Images whose every pixel is their number: start, start + 1, ..."""
    return torch.arange(start, start + n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, *shape).clone()


FIRST_ID = {"dcgan": 0, "vanilla": 50, "wgan": 100}  # 200 x a pixel: the image's number, in a range per model


def model_samples():
    """Three models whose images carry their number (pixels = number / 200), each model its own range."""
    return {"dcgan": numbered(40, 0) / 200, "vanilla": numbered(40, 50) / 200,
            "wgan": numbered(36, 100).reshape(36, 784) / 200}


def shown_text(judge):
    return judge.ax.title.get_text() + " " + judge.readout.value


def test_rating_judge_shows_blind_grids_round_by_round_then_reveals_the_tally():
    samples = model_samples()
    names = list(samples)
    judge = rating_widgets.RatingJudge(samples, n_rounds=7, n_images=16, seed=0)
    assert judge.rounds == rating.make_rating_rounds(names, 7, seed=0)
    assert [b.description for b in judge.buttons.values()] == ["1 poor", "2 weak", "3 fair", "4 good",
                                                                "5 like real digits"]
    scores = [1, 5, 3, 4, 2, 5, 3]
    for k, score in enumerate(scores):
        assert f"Round {k + 1} of 7" in judge.readout.value
        assert not any(n in shown_text(judge) for n in names)  # blind
        grid = plots.find_artist(judge.figure, "grid").get_array()
        images = judge.round_images(k)
        np.testing.assert_allclose(grid, 1 - plots.image_grid(images, nrow=4, pad_value=0.0))
        ids = torch.round(images.reshape(16, -1)[:, 0] * 200).long() - FIRST_ID[judge.rounds[k]]
        assert ids.min() >= 0 and ids.max() < len(samples[judge.rounds[k]])  # that model's images ...
        assert len(torch.unique(ids)) == 16  # ... none twice in a grid
        judge.buttons[score].click()
    assert judge.finished and judge.ratings == scores
    assert all(b.disabled for b in judge.buttons.values())
    tally = judge.tally()
    assert tally == rating.tally_ratings(judge.rounds, scores)
    assert judge.ax.title.get_text() == f"this grid: {judge.rounds[-1]}"  # revealed at the end
    for name, m in tally["models"].items():  # each model's row: name, n, mean
        assert f"<td>{name}</td><td>{m['n']}</td><td><b>{m['mean']:.2f}</b>" in judge.readout.value
        if m["low"] is not None:
            assert f"{m['low']:.2f} to {m['high']:.2f}" in judge.readout.value
    assert "intervals do not overlap, your ratings separate" in judge.readout.value
    judge.rate(4)  # after the end: ignored, with a message
    assert judge.ratings == scores and "Start again" in judge.readout.value
    judge.new_button.click()
    assert judge.seed == 1 and judge.ratings == [] and not judge.finished
    assert not any(b.disabled for b in judge.buttons.values())
    assert judge.rounds == rating.make_rating_rounds(names, 7, seed=1)
    assert "Round 1 of 7" in judge.readout.value and not any(n in shown_text(judge) for n in names)


def test_the_revealed_table_matches_a_hand_made_session():
    judge = rating_widgets.RatingJudge({"a": numbered(40, 0) / 100, "b": numbered(40, 50) / 100}, n_rounds=4)
    assert sorted(judge.rounds) == ["a", "a", "b", "b"]
    for name in judge.rounds:  # a rated 2 then 4, b 5 twice
        judge.rate(5 if name == "b" else (2 if 2 not in judge.ratings else 4))
    # a: mean 3, s = sqrt(2), SE = 1, t_{1, 0.975} = 12.706; b: mean 5, SE 0
    assert "<td>a</td><td>2</td><td><b>3.00</b> ± 1.00</td><td>-9.71 to 15.71</td>" in judge.readout.value
    assert "<td>b</td><td>2</td><td><b>5.00</b> ± 0.00</td><td>5.00 to 5.00</td>" in judge.readout.value


def test_a_model_shows_new_images_each_round():
    judge = rating_widgets.RatingJudge({"a": numbered(40, 0) / 100, "b": numbered(40, 50) / 100}, n_rounds=4)
    first_a, second_a = [judge.picks[k] for k in range(4) if judge.rounds[k] == "a"]
    assert not set(first_a) & set(second_a)  # 40 images: two grids of 16 without overlap
    small = rating_widgets.RatingJudge({"a": numbered(4, 0) / 10, "b": numbered(4, 5) / 10}, n_rounds=4,
                                       n_images=4)
    assert all(sorted(p) == [0, 1, 2, 3] for p in small.picks)  # a whole shuffle each round


def test_format_rating_html_marks_missing_values():
    text = rating_widgets.format_rating_html(rating.tally_ratings(["a", "b", "a"], [4]))
    assert "<td>a</td><td>1</td><td><b>4.00</b> ± –</td><td>– to –</td>" in text
    assert "<td>b</td><td>0</td><td><b>–</b>" in text and "(1 grid rated," in text


def test_rating_judge_rejects_bad_input():
    good = numbered(16, 0) / 100
    with pytest.raises(ValueError, match="samples must be a dict"):
        rating_widgets.RatingJudge([good, good])
    with pytest.raises(ValueError, match="names must be two or more"):
        rating_widgets.RatingJudge({"a": good})
    with pytest.raises(ValueError, match=r"samples\['b'\] holds 8 images; each grid needs n_images = 16"):
        rating_widgets.RatingJudge({"a": good, "b": good[:8]})
    with pytest.raises(ValueError, match=r"samples\['b'\] must have as many pixels"):
        rating_widgets.RatingJudge({"a": good, "b": torch.zeros(16, 100)})
    with pytest.raises(ValueError, match="n_images must be between 1 and 64"):
        rating_widgets.RatingJudge({"a": good, "b": good}, n_images=0)
    with pytest.raises(ValueError, match="n_rounds must be between 1"):
        rating_widgets.RatingJudge({"a": good, "b": good}, n_rounds=0)
    with pytest.raises(ValueError, match="pixel_range"):
        rating_widgets.RatingJudge({"a": good, "b": good}, pixel_range=(1, 0))
    judge = rating_widgets.RatingJudge({"a": good, "b": good}, n_rounds=2)
    for bad, pattern in ((6, "score must be between 1 and 5, got 6"), (0, "score must be between 1 and 5"),
                         (2.5, "score must be an integer")):
        with pytest.raises(ValueError, match=pattern):
            judge.rate(bad)
    assert judge.ratings == []
