"""The human-judgement panels of lesson 11, built headless: blind preferences and rapid categorisation."""
import io

import matplotlib

matplotlib.use("Agg")
import numpy as np
import PIL.Image
import pytest
import torch

from gan_lessons import judge_widgets, judging, plots


def numbered(n, start, shape=(1, 28, 28)):
    """Images whose every pixel is their number: start, start + 1, ..."""
    return torch.arange(start, start + n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, *shape).clone()


def decode(png: bytes) -> np.ndarray:
    return np.asarray(PIL.Image.open(io.BytesIO(png)).convert("L"))


# --- small pure helpers --------------------------------------------------------------------------------

def test_exposure_levels_are_evenly_spaced_and_rounded_to_5_ms():
    levels = judge_widgets.compute_exposure_levels
    assert levels(250, 500, 3) == [250, 375, 500]
    assert levels(50, 1000, 4) == [50, 365, 685, 1000]  # 366.7 and 683.3 rounded to 5 ms
    assert levels(50, 1000, 5) == [50, 290, 525, 765, 1000]  # 287.5 and 762.5 round up
    assert levels(250, 500, 1) == [375]  # one level: the midpoint
    assert levels(300, 300, 3) == [300]  # no duplicates
    with pytest.raises(ValueError, match="high must be between 300"):
        levels(300, 200, 2)
    with pytest.raises(ValueError, match="levels"):
        levels(100, 200, 0)


def test_stimulus_png_blows_up_each_pixel_and_the_mask_is_noise():
    image = np.array([[0.0, 1.0], [0.5, 0.25]])
    shown = decode(judge_widgets.stimulus_png(image, scale=3))
    assert shown.shape == (6, 6)
    np.testing.assert_array_equal(shown[::3, ::3], [[0, 255], [128, 64]])
    np.testing.assert_array_equal(shown[:3, 3:], 255)  # a 3 x 3 block per pixel
    mask = judge_widgets.compute_noise_mask(28, seed=1)
    assert mask.shape == (28, 28) and 0.4 < mask.mean() < 0.6 and mask.std() > 0.25
    with pytest.raises(ValueError, match="image_hw"):
        judge_widgets.stimulus_png(np.zeros((2, 2, 2)))


# --- the preference panel ------------------------------------------------------------------------------

FIRST_ID = {"dcgan": 0, "vanilla": 50, "wgan": 100}  # 200 x a pixel: the image's number, in a range per model


def model_samples():
    """Three models whose images carry their number (pixels = number / 200), each model its own range."""
    return {"dcgan": numbered(40, 0) / 200, "vanilla": numbered(40, 50) / 200,
            "wgan": numbered(36, 100).reshape(36, 784) / 200}


def test_preference_judge_shows_blind_grids_round_by_round_then_reveals_the_tally():
    samples = model_samples()
    judge = judge_widgets.PreferenceJudge(samples, n_rounds=6, n_images=16, seed=0)
    assert judge.rounds == judging.make_preference_rounds(list(samples), 6, seed=0)
    names = list(samples)
    clicks = ["left", "right", "same", "left", "left", "right"]
    for k, choice in enumerate(clicks):
        assert f"Round {k + 1} of 6" in judge.readout.value
        shown = [judge.ax_left.title.get_text(), judge.ax_right.title.get_text(), judge.readout.value]
        assert shown[:2] == ["A", "B"] and not any(n in text for n in names for text in shown)  # blind
        left_grid = plots.find_artist(judge.figure, "grid:left").get_array()
        right_grid = plots.find_artist(judge.figure, "grid:right").get_array()
        left, right = judge.round_images(k)
        np.testing.assert_allclose(left_grid, 1 - plots.image_grid(left, nrow=4, pad_value=0.0))
        np.testing.assert_allclose(right_grid, 1 - plots.image_grid(right, nrow=4, pad_value=0.0))
        for side, images in zip(judge.rounds[k], (left, right)):  # the images are that model's, none twice
            ids = torch.round(images.reshape(16, -1)[:, 0] * 200).long() - FIRST_ID[side]
            assert ids.min() >= 0 and ids.max() < len(samples[side]) and len(torch.unique(ids)) == 16
        judge.buttons[choice].click()
    assert judge.finished and judge.choices == clicks
    assert all(b.disabled for b in judge.buttons.values())
    assert judge.tally() == judging.tally_preferences(judge.rounds, clicks)
    last_left, last_right = judge.rounds[-1]
    assert judge.ax_left.title.get_text() == f"A: {last_left}" and judge.ax_right.title.get_text() == f"B: {last_right}"
    tally = judge.tally()
    for name, m in tally["models"].items():  # each model's row: name, wins, shown
        assert f"<td>{name}</td><td>{m['wins']:g}</td><td>{m['shown']}</td>" in judge.readout.value
    for pair in tally["pairs"].values():
        if pair["p_value"] is not None:
            assert f"p = {pair['p_value']:.3f}" in judge.readout.value
    assert "above 0.05" in judge.readout.value
    judge.choose("left")  # after the end: ignored
    assert len(judge.choices) == 6 and "Start again" in judge.readout.value
    judge.new_button.click()
    assert judge.seed == 1 and judge.choices == [] and not judge.buttons["same"].disabled
    assert judge.rounds == judging.make_preference_rounds(names, 6, seed=1)
    assert judge.ax_left.title.get_text() == "A" and "Round 1 of 6" in judge.readout.value


def test_a_model_shows_new_images_each_round():
    judge = judge_widgets.PreferenceJudge({"a": numbered(40, 0) / 100, "b": numbered(40, 50) / 100}, n_rounds=4,
                                          n_images=16)
    first_a = [judge.picks[k][judge.rounds[k].index("a")] for k in range(2)]
    assert not set(first_a[0]) & set(first_a[1])  # 40 images: two grids of 16 without overlap
    small = judge_widgets.PreferenceJudge({"a": numbered(4, 0) / 10, "b": numbered(4, 5) / 10}, n_rounds=3, n_images=4)
    assert all(sorted(p) == [0, 1, 2, 3] for pick in small.picks for p in pick)  # a whole shuffle each round


def test_preference_judge_rejects_bad_input():
    good = numbered(16, 0) / 100
    with pytest.raises(ValueError, match="samples must be a dict"):
        judge_widgets.PreferenceJudge([good, good])
    with pytest.raises(ValueError, match="names must be two or more"):
        judge_widgets.PreferenceJudge({"a": good})
    with pytest.raises(ValueError, match=r"samples\['b'\] holds 8 images; each grid needs n_images = 16"):
        judge_widgets.PreferenceJudge({"a": good, "b": good[:8]})
    with pytest.raises(ValueError, match=r"samples\['b'\] must have as many pixels"):
        judge_widgets.PreferenceJudge({"a": good, "b": torch.zeros(16, 100)})
    with pytest.raises(ValueError, match="n_images"):
        judge_widgets.PreferenceJudge({"a": good, "b": good}, n_images=0)
    with pytest.raises(ValueError, match="pixel_range"):
        judge_widgets.PreferenceJudge({"a": good, "b": good}, pixel_range=(1, 0))
    judge = judge_widgets.PreferenceJudge({"a": good, "b": good}, n_rounds=2)
    with pytest.raises(ValueError, match="choice must be one of 'left', 'same', 'right'"):
        judge.choose("A")


# --- rapid categorisation ------------------------------------------------------------------------------

def rapid(**kwargs):
    kwargs = {"n_per_exposure": 4, **kwargs}
    return judge_widgets.RapidCategorisation(numbered(20, 0) / 100, numbered(20, 50) / 100, **kwargs)


def test_each_trial_is_timed_by_the_play_widget_in_the_browser():
    panel = rapid()
    play, stack = panel.play, panel.stack
    assert stack.children == (panel.stimulus, panel.mask) and stack.selected_index == 1  # the mask first
    assert (panel.link.source, panel.link.target) == ((play, "value"), (stack, "selected_index"))
    assert panel.link._model_name == "LinkModel" and (play.min, play.max, play.repeat) == (0, 1, False)
    row = panel.box.children[1]
    assert stack in row.children and play in row.children  # displayed (hidden): its view runs the timer
    assert not panel.show_button.disabled and panel.real_button.disabled and panel.fake_button.disabled
    playing = []
    play.observe(lambda change: playing.append(change["new"]), names="playing")
    for k in range(3):
        panel.show_button.click()
        assert play.interval == panel.exposure_ms[k] and play.playing
        assert play.value == play.max  # Play's animate() steps from max to min (the image), then back
        np.testing.assert_array_equal(decode(panel.stimulus.value),
                                      decode(judge_widgets.stimulus_png(panel.ink[k], panel.scale)))
        assert panel.show_button.disabled and not panel.real_button.disabled and not panel.fake_button.disabled
        panel.show_button.click()  # shown already: nothing changes
        assert play.interval == panel.exposure_ms[k] and panel.answers == [True] * k
        panel.real_button.click()
        assert panel.answers == [True] * (k + 1) and not panel.show_button.disabled and panel.real_button.disabled
    assert playing == [True, False, True, False, True]  # every trial sends playing=True afresh
    panel.answer(False)  # not shown yet: ignored
    assert len(panel.answers) == 3 and "Show image" in panel.readout.value


def test_a_finished_session_plots_and_reports_accuracy_by_exposure():
    panel = rapid(exposures_ms=(250, 375, 500), n_per_exposure=4, seed=3)
    assert len(panel.images) == 12 and sorted(set(panel.exposure_ms.tolist())) == [250, 375, 500]
    with pytest.raises(KeyError):
        plots.find_artist(panel.figure, "accuracy")  # nothing plotted before the end
    for k in range(12):  # right at 500 ms, "real" always at the others
        panel.show_next()
        panel.answer(bool(panel.is_real[k]) if panel.exposure_ms[k] == 500 else True)
    assert panel.finished
    assert panel.show_button.disabled and panel.real_button.disabled and panel.fake_button.disabled
    summary = panel.summary()
    assert summary == judging.accuracy_by_exposure(panel.answers, panel.is_real, panel.exposure_ms)
    assert summary[500]["accuracy"] == 1.0 and summary[250]["accuracy"] == 0.5  # 2 real, 2 fake at each
    line = plots.find_artist(panel.figure, "accuracy")
    np.testing.assert_array_equal(line.get_xdata(), [250, 375, 500])
    np.testing.assert_allclose(line.get_ydata(), [50, 50, 100])
    assert "<td>500</td><td>4 of 4</td>" in panel.readout.value and "Wilson" in panel.readout.value
    panel.show_next()
    assert "Start again" in panel.readout.value
    panel.new_button.click()
    assert panel.seed == 4 and panel.answers == [] and not panel.show_button.disabled
    assert not panel.play.playing and panel.play.value == panel.play.max  # parked on the mask
    with pytest.raises(KeyError):
        plots.find_artist(panel.figure, "accuracy")


def test_moving_a_slider_starts_a_session_with_new_exposures():
    panel = rapid()
    panel.show_next()
    panel.answer(True)
    panel.levels.value = 2
    assert panel.exposures == [250, 500] and panel.answers == [] and panel.seed == 1
    assert len(panel.images) == 8 and sorted(set(panel.exposure_ms.tolist())) == [250, 500]
    assert "Trial 1 of 8" in panel.readout.value and not panel.show_button.disabled
    panel.exposure_range.value = (100, 300)
    assert panel.exposures == [100, 300] and panel.seed == 2
    panel.levels.value = 5
    assert panel.exposures == [100, 150, 200, 250, 300] and len(panel.images) == 20
    panel.show_next()
    assert panel.play.interval == panel.exposure_ms[0] and panel.play.interval in panel.exposures
    assert list(panel.ax.get_xticks()) == [100, 150, 200, 250, 300]  # the empty plot's axis follows


def test_rapid_categorisation_rejects_bad_input():
    real, fake = numbered(20, 0) / 100, numbered(20, 50) / 100
    with pytest.raises(ValueError, match=r"exposures_ms\[0\] must be between 16 and 5000"):
        judge_widgets.RapidCategorisation(real, fake, exposures_ms=(10,))
    with pytest.raises(ValueError, match="exposures_ms must be 1 to 5 times within the slider's 50 to 1000 ms"):
        judge_widgets.RapidCategorisation(real, fake, exposures_ms=(100, 200, 300, 400, 500, 600), n_per_exposure=2)
    with pytest.raises(ValueError, match="exposures_ms must be 1 to 5"):
        judge_widgets.RapidCategorisation(real, fake, exposures_ms=(2000,))
    with pytest.raises(ValueError, match=r"real_images holds 20 images; the levels slider goes up to 5 exposure "
                                         r"times x 5 each = 25"):
        judge_widgets.RapidCategorisation(real, fake, n_per_exposure=9)
    with pytest.raises(ValueError, match="fake_images must have as many pixels"):
        judge_widgets.RapidCategorisation(real, torch.zeros(20, 10))


def test_draw_accuracy_by_exposure_labels_and_chance_line():
    summary = judging.accuracy_by_exposure([True, False, True, True], [True, True, False, True],
                                           np.array([100, 100, 400, 400]))
    fig = judge_widgets.draw_accuracy_by_exposure(summary)
    ax = fig.axes[0]
    assert ax.get_xlabel() == "exposure (ms)" and ax.get_ylabel() == "accuracy (%)"
    chance = [line for line in ax.get_lines() if line.get_linestyle() == "--"]
    assert len(chance) == 1 and list(chance[0].get_ydata()) == [50, 50]
    line = plots.find_artist(fig, "accuracy")
    np.testing.assert_allclose(line.get_ydata(), [50, 50])
    bars = ax.collections[0].get_segments()  # one Wilson bar per exposure, in percent
    assert len(bars) == 2
    np.testing.assert_allclose([bars[0][0][1], bars[0][1][1]],
                               [100 * summary[100]["wilson_low"], 100 * summary[100]["wilson_high"]])
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "chance (50 %)" in labels and any("Wilson" in t for t in labels)
    np.testing.assert_allclose(plots.find_artist(fig, "hit_rate:fake").get_ydata(), [np.nan, 0.0])  # no fake at 100
    with pytest.raises(ValueError, match="summary"):
        judge_widgets.draw_accuracy_by_exposure([1, 2])
