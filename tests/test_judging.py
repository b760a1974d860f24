"""Human-judgement statistics (lesson 11): preference rounds and their sign tests, exposure trials and
their accuracy, each against counts made by hand, math.comb or scipy."""
import itertools
import math
from collections import Counter

import numpy as np
import pytest
import torch
from scipy import stats

from gan_lessons import judging

# --- preference rounds -------------------------------------------------------------------------------

def test_every_pair_comes_up_equally_often_and_each_side_in_turn():
    names = ["a", "b", "c", "d"]
    pairs = set(itertools.combinations(names, 2))
    for n_rounds, seed in ((20, 0), (24, 3), (7, 5)):
        rounds = judging.make_preference_rounds(names, n_rounds, seed=seed)
        assert len(rounds) == n_rounds and all(left != right for left, right in rounds)
        per_pair = Counter(tuple(sorted(r)) for r in rounds)
        counts = [per_pair.get(p, 0) for p in pairs]
        assert max(counts) - min(counts) <= 1  # equally often, +-1
        for a, b in pairs:  # a on the left as often as b, +-1
            assert abs(rounds.count((a, b)) - rounds.count((b, a))) <= 1
    rounds = judging.make_preference_rounds(names, 24, seed=3)
    cycles = [rounds[i: i + 6] for i in range(0, 24, 6)]
    for cycle in cycles:  # each cycle holds every pair once
        assert {tuple(sorted(r)) for r in cycle} == pairs
    orders = [[tuple(sorted(r)) for r in c] for c in cycles]
    assert any(o != orders[0] for o in orders[1:])  # shuffled anew per cycle
    assert any((b, a) in rounds[:6] for a, b in pairs)  # sides are not always in the names' order
    assert rounds == judging.make_preference_rounds(names, 24, seed=3)
    assert rounds != judging.make_preference_rounds(names, 24, seed=4)


def test_two_models_alternate_sides_in_every_two_rounds():
    rounds = judging.make_preference_rounds(["x", "y"], 11, seed=1)
    assert all(set(r) == {"x", "y"} for r in rounds)
    for i in range(0, 10, 2):  # cycles 2i and 2i + 1 put x on opposite sides
        assert rounds[i] == rounds[i + 1][::-1]
    assert abs(sum(r[0] == "x" for r in rounds) - sum(r[0] == "y" for r in rounds)) == 1


def test_preference_rounds_reject_bad_input():
    for names in ("ab", ["a"], ["a", "a"], ["a", ""], ["a", 3], 5):
        with pytest.raises(ValueError, match="names"):
            judging.make_preference_rounds(names, 4)
    with pytest.raises(ValueError, match="n_rounds must be between 1"):
        judging.make_preference_rounds(["a", "b"], 0)
    with pytest.raises(ValueError, match="seed"):
        judging.make_preference_rounds(["a", "b"], 4, seed=-1)


def hand_sign_test(k, n):
    """Two-sided sign test by hand: twice the lower binomial tail at p = 1/2, at most 1."""
    return min(1.0, 2 * sum(math.comb(n, i) for i in range(min(k, n - k) + 1)) / 2**n)


def test_sign_test_is_the_binomial_sum():
    for wins_a, wins_b in ((7, 3), (3, 7), (10, 0), (5, 5), (1, 0), (8, 1), (12, 30)):
        assert judging.sign_test_p_value(wins_a, wins_b) == pytest.approx(hand_sign_test(wins_a, wins_a + wins_b),
                                                                          rel=1e-12)
    assert judging.sign_test_p_value(8, 1) == pytest.approx(2 * (1 + 9) / 512)  # 0.039: unlikely to be chance
    assert judging.sign_test_p_value(0, 0) is None
    with pytest.raises(ValueError, match="wins_b"):
        judging.sign_test_p_value(1, -1)


def test_tally_counts_a_hand_made_session():
    rounds = [("a", "b"), ("b", "a"), ("a", "c"), ("c", "b"), ("a", "b")]
    tally = judging.tally_preferences(rounds, ["left", "same", "right", "left"])  # the last round unanswered
    assert tally["n"] == 4
    assert tally["models"] == {"a": {"wins": 1.5, "shown": 3, "win_share": 0.5},
                               "b": {"wins": 0.5, "shown": 3, "win_share": pytest.approx(1 / 6)},
                               "c": {"wins": 2.0, "shown": 2, "win_share": 1.0}}
    assert tally["pairs"][("a", "b")] == {"n": 2, "wins": {"a": 1, "b": 0}, "same": 1, "p_value": 1.0}
    assert tally["pairs"][("a", "c")] == {"n": 1, "wins": {"a": 0, "c": 1}, "same": 0, "p_value": 1.0}
    assert tally["pairs"][("b", "c")] == {"n": 1, "wins": {"b": 0, "c": 1}, "same": 0, "p_value": 1.0}
    assert sum(m["wins"] for m in tally["models"].values()) == tally["n"]  # one win handed out per round
    empty = judging.tally_preferences(rounds, [])
    assert empty["models"]["a"] == {"wins": 0.0, "shown": 0, "win_share": None}
    assert empty["pairs"][("a", "b")]["p_value"] is None


def test_tally_sign_test_on_a_lopsided_pair():
    rounds = judging.make_preference_rounds(["new", "old"], 10, seed=0)
    choices = ["left" if left == "new" else "right" for left, _ in rounds]  # "new" chosen every time ...
    choices[3] = "same"                                                     # ... but one tie
    choices[7] = "right" if rounds[7][0] == "new" else "left"               # ... and one loss
    tally = judging.tally_preferences(rounds, choices)
    pair = tally["pairs"][("new", "old")]
    assert pair["wins"] == {"new": 8, "old": 1} and pair["same"] == 1 and pair["n"] == 10
    assert pair["p_value"] == pytest.approx(hand_sign_test(1, 9))
    assert tally["models"]["new"]["win_share"] == pytest.approx(8.5 / 10)


def test_tally_rejects_bad_input():
    rounds = [("a", "b"), ("b", "a")]
    with pytest.raises(ValueError, match=r"choices\[1\] must be one of 'left', 'right', 'same'"):
        judging.tally_preferences(rounds, ["left", "up"])
    with pytest.raises(ValueError, match="choices must hold at most one choice per round"):
        judging.tally_preferences(rounds, ["left"] * 3)
    with pytest.raises(ValueError, match="choices"):
        judging.tally_preferences(rounds, "left")
    with pytest.raises(ValueError, match="rounds"):
        judging.tally_preferences([("a", "a")], ["left"])
    with pytest.raises(ValueError, match="rounds"):
        judging.tally_preferences(["abc"], ["left"])


# --- exposure trials ----------------------------------------------------------------------------------

def numbered(n, start, shape=(1, 28, 28)):
    """Images whose every pixel is their number: start, start + 1, ..."""
    return torch.arange(start, start + n, dtype=torch.float32).reshape(n, 1, 1, 1).expand(n, *shape).clone()


def test_exposure_trials_are_balanced_interleaved_and_never_reuse_an_image():
    real, fake = numbered(30, 0), numbered(30, 100).reshape(30, 784)  # fakes flat: reshaped like the reals
    images, is_real, exposure = judging.make_exposure_trials(real, fake, [250, 500, 1000], 5, seed=2)
    ids = images[:, 0, 0, 0]
    assert images.shape == (15, 1, 28, 28) and is_real.dtype == torch.bool and exposure.dtype == np.int64
    assert torch.equal(is_real, ids < 100)  # the truth matches where each image came from
    assert len(torch.unique(ids)) == 15  # none used twice
    for ms in (250, 500, 1000):  # odd n_per_exposure: the extra one is real
        at = exposure == ms
        assert at.sum() == 5 and int(is_real[torch.from_numpy(at)].sum()) == 3
    assert not np.all(np.diff(exposure) >= 0)  # interleaved, not in blocks
    again = judging.make_exposure_trials(real, fake, [250, 500, 1000], 5, seed=2)
    other = judging.make_exposure_trials(real, fake, [250, 500, 1000], 5, seed=3)
    assert torch.equal(images, again[0]) and np.array_equal(exposure, again[2])
    assert not torch.equal(images, other[0])
    _, is_real, exposure = judging.make_exposure_trials(real, fake, (16, 5000), 4)
    assert int(is_real.sum()) == 4 and sorted(Counter(exposure.tolist()).items()) == [(16, 4), (5000, 4)]
    # exactly enough images: every real and every fake used once
    images, is_real, _ = judging.make_exposure_trials(numbered(4, 0), numbered(2, 100), [100, 200], 3)
    assert sorted(images[:, 0, 0, 0].tolist()) == [0, 1, 2, 3, 100, 101]


def test_exposure_trials_reject_bad_input():
    real, fake = numbered(6, 0), numbered(6, 100)
    for bad, pattern in (([10], r"exposures_ms\[0\] must be between 16 and 5000"),
                         ([250, 6000], r"exposures_ms\[1\] must be between 16 and 5000"),
                         ([250.0], r"exposures_ms\[0\] must be an integer"),
                         ([250, 250], "exposures_ms must be distinct"), ([], "exposures_ms must be one or more")):
        with pytest.raises(ValueError, match=pattern):
            judging.make_exposure_trials(real, fake, bad, 2)
    with pytest.raises(ValueError, match="n_per_exposure"):
        judging.make_exposure_trials(real, fake, [250], 0)
    with pytest.raises(ValueError, match=r"real_images holds 6 images; 4 exposure times x 2 each need 8"):
        judging.make_exposure_trials(real, fake, [100, 200, 300, 400], 3)
    with pytest.raises(ValueError, match="fake_images must have as many pixels"):
        judging.make_exposure_trials(real, torch.zeros(6, 100), [250], 2)
    with pytest.raises(ValueError, match="real_images must be a non-empty batch"):
        judging.make_exposure_trials(torch.zeros(0, 784), fake, [250], 2)


# --- accuracy per exposure ----------------------------------------------------------------------------

def test_wilson_interval_matches_scipy_and_its_closed_form_at_the_ends():
    for k, n in ((7, 10), (0, 10), (10, 10), (1, 3), (13, 40), (50, 100)):
        ci = stats.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        assert judging.wilson_interval(k, n) == pytest.approx((ci.low, ci.high), abs=1e-12)
    z2 = stats.norm.ppf(0.975) ** 2
    assert judging.wilson_interval(0, 10) == pytest.approx((0.0, z2 / (10 + z2)))  # k = 0: [0, z^2 / (n + z^2)]
    assert judging.wilson_interval(10, 10) == pytest.approx((10 / (10 + z2), 1.0))
    low, high = judging.wilson_interval(7, 10, z=1.0)
    assert (low + high) / 2 == pytest.approx((7 + 0.5) / (10 + 1))  # the centre (k + z^2/2) / (n + z^2)
    with pytest.raises(ValueError, match="n_correct must be between 0 and 3"):
        judging.wilson_interval(4, 3)
    with pytest.raises(ValueError, match="z must be a positive number"):
        judging.wilson_interval(1, 3, z=0)


def test_standard_error_is_the_std_of_the_outcomes_over_root_n():
    outcomes = np.array([1, 1, 1, 0, 1, 0, 0, 1])
    assert judging.binomial_standard_error(5, 8) == pytest.approx(outcomes.std() / np.sqrt(8))
    assert judging.binomial_standard_error(0, 5) == 0.0
    with pytest.raises(ValueError, match="n must be between 1"):
        judging.binomial_standard_error(0, 0)


def test_accuracy_by_exposure_counts_a_hand_made_session():
    is_real = torch.tensor([True, False, True, False, True, False])
    exposure = np.array([100, 100, 200, 200, 100, 200])
    answers = [True, True, True, False, False]  # the last trial unanswered
    s = judging.accuracy_by_exposure(answers, is_real, exposure)
    assert list(s) == [100, 200]
    # 100 ms: real called real (right), fake called real (wrong), real called fake (wrong)
    assert {k: s[100][k] for k in ("n", "n_correct", "n_real", "hit_rate_real", "n_fake", "hit_rate_fake")} == \
        {"n": 3, "n_correct": 1, "n_real": 2, "hit_rate_real": 0.5, "n_fake": 1, "hit_rate_fake": 0.0}
    assert s[100]["accuracy"] == pytest.approx(1 / 3)
    assert s[100]["standard_error"] == pytest.approx(math.sqrt(1 / 3 * 2 / 3 / 3))
    ci = stats.binomtest(1, 3).proportion_ci(method="wilson")
    assert (s[100]["wilson_low"], s[100]["wilson_high"]) == pytest.approx((ci.low, ci.high))
    # 200 ms: both answered right; the third trial is not answered yet
    assert (s[200]["n"], s[200]["n_correct"], s[200]["accuracy"]) == (2, 2, 1.0)
    assert (s[200]["hit_rate_real"], s[200]["hit_rate_fake"]) == (1.0, 1.0)
    assert judging.accuracy_by_exposure([True], is_real, exposure)[100]["hit_rate_fake"] is None
    assert judging.accuracy_by_exposure([], is_real, exposure) == {}


def test_accuracy_by_exposure_rejects_bad_input():
    is_real, exposure = [True, False], np.array([100, 200])
    with pytest.raises(ValueError, match="answers must hold at most one answer per trial"):
        judging.accuracy_by_exposure([True] * 3, is_real, exposure)
    with pytest.raises(ValueError, match="answers must be a sequence of booleans"):
        judging.accuracy_by_exposure(["yes"], is_real, exposure)
    with pytest.raises(ValueError, match="is_real and exposure_ms"):
        judging.accuracy_by_exposure([True], is_real, np.array([100]))
    with pytest.raises(ValueError, match="is_real must be a sequence of booleans"):
        judging.accuracy_by_exposure([True], [0.5, 1], exposure)
    with pytest.raises(ValueError, match="answers must be a sequence of booleans"):
        judging.accuracy_by_exposure(True, is_real, exposure)


def test_deal_grids_never_repeats_an_image_in_a_grid_and_shows_all_before_any_again():
    from gan_lessons.judging import deal_grids

    grids = deal_grids({"a": 10, "b": 7}, ["a", "b", "a", "b", "a"], n_images=4, seed=3)
    assert [len(g) for g in grids] == [4, 4, 4, 4, 4]
    assert all(len(set(g)) == 4 for g in grids)
    assert set(grids[0]).isdisjoint(grids[2])       # a's first deck of 10 covers two grids of 4
    assert all(i < 10 for g in grids[0::2] for i in g) and all(i < 7 for g in grids[1::2] for i in g)
    # a's third grid: only 2 of its first deck were left, so it comes from a fresh shuffle of all 10
    assert len(set(grids[0]) | set(grids[2])) == 8
    assert deal_grids({"a": 10, "b": 7}, ["a", "b", "a", "b", "a"], 4, seed=3) == grids
    assert deal_grids({"a": 10, "b": 7}, ["a", "b", "a", "b", "a"], 4, seed=4) != grids
