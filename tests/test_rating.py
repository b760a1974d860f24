"""Blind-rating statistics (lesson 11): balanced rounds, and means, standard errors and t intervals
against hand computations, numpy and scipy."""
import math
from collections import Counter

import numpy as np
import pytest
from scipy import stats

from gan_lessons import rating

# --- rounds -------------------------------------------------------------------------------------------

def test_every_model_comes_up_equally_often_shuffled_and_never_twice_in_a_row():
    for names in (["a", "b"], ["a", "b", "c"], ["a", "b", "c", "d", "e"]):
        for n_rounds in (1, 7, 15, 16, 31):
            for seed in range(20):
                rounds = rating.make_rating_rounds(names, n_rounds, seed=seed)
                assert len(rounds) == n_rounds and set(rounds) <= set(names)
                counts = [Counter(rounds)[n] for n in names]
                assert max(counts) - min(counts) <= 1  # equally often, +-1
                assert all(x != y for x, y in zip(rounds, rounds[1:]))  # never the same model twice in a row
    rounds = rating.make_rating_rounds(["a", "b", "c"], 30, seed=3)
    cycles = [rounds[i: i + 3] for i in range(0, 30, 3)]
    assert all(sorted(c) == ["a", "b", "c"] for c in cycles)  # each cycle shows every model once
    assert len({tuple(c) for c in cycles}) > 1  # in a new order per cycle
    assert rounds == rating.make_rating_rounds(["a", "b", "c"], 30, seed=3)
    assert rounds != rating.make_rating_rounds(["a", "b", "c"], 30, seed=4)


def test_the_first_model_is_not_always_the_same():
    firsts = {rating.make_rating_rounds(["a", "b", "c"], 3, seed=s)[0] for s in range(30)}
    assert firsts == {"a", "b", "c"}


def test_rating_rounds_reject_bad_input():
    for names in ("ab", ["a"], ["a", "a"], ["a", ""], ["a", 3], 5):
        with pytest.raises(ValueError, match="names"):
            rating.make_rating_rounds(names, 4)
    with pytest.raises(ValueError, match="n_rounds must be between 1"):
        rating.make_rating_rounds(["a", "b"], 0)
    with pytest.raises(ValueError, match="seed"):
        rating.make_rating_rounds(["a", "b"], 4, seed=-1)


# --- standard error and t interval --------------------------------------------------------------------

def test_standard_error_is_the_sample_std_over_root_n():
    # 3, 4, 5: mean 4, squared deviations 1 + 0 + 1 = 2, s^2 = 2 / (3 - 1) = 1, SE = 1 / sqrt(3)
    assert rating.mean_standard_error([3, 4, 5]) == pytest.approx(1 / math.sqrt(3), rel=1e-12)
    rng = np.random.default_rng(0)
    for n in (2, 5, 40):
        x = rng.integers(1, 6, size=n)
        assert rating.mean_standard_error(x) == pytest.approx(stats.sem(x), rel=1e-12)
        assert rating.mean_standard_error(list(x)) == pytest.approx(np.std(x, ddof=1) / np.sqrt(n), rel=1e-12)
    assert rating.mean_standard_error([4, 4, 4]) == 0.0
    assert rating.mean_standard_error([5]) is None and rating.mean_standard_error([]) is None


def test_t_interval_matches_a_t_table_and_scipy():
    # n = 3: t_{2, 0.975} = 4.303 (printed t tables), so 4 +- 4.303 / sqrt(3) = 4 +- 2.484
    low, high = rating.t_interval([3, 4, 5])
    assert (low, high) == pytest.approx((4 - 4.303 / math.sqrt(3), 4 + 4.303 / math.sqrt(3)), abs=1e-3)
    assert (high - low) / 2 > 1.96 / math.sqrt(3)  # wider than the normal interval for so few ratings
    # n = 2, ratings 2 and 4: s = sqrt(2), SE = 1, t_{1, 0.975} = 12.706
    assert rating.t_interval([2, 4]) == pytest.approx((3 - 12.706, 3 + 12.706), abs=1e-3)
    rng = np.random.default_rng(1)
    for n, confidence in ((4, 0.95), (12, 0.95), (30, 0.9), (7, 0.5)):
        x = rng.integers(1, 6, size=n)
        expected = stats.t.interval(confidence, df=n - 1, loc=np.mean(x), scale=stats.sem(x))
        assert rating.t_interval(x, confidence) == pytest.approx(expected, rel=1e-12)
    assert rating.t_interval([3, 3, 3]) == (3.0, 3.0)  # one score every time: zero width
    assert rating.t_interval([5]) is None


def test_standard_error_and_interval_reject_bad_input():
    with pytest.raises(ValueError, match=r"values\[1\] must be a number"):
        rating.mean_standard_error([1, "x"])
    with pytest.raises(ValueError, match=r"values\[0\] must be finite"):
        rating.t_interval([float("nan"), 2])
    with pytest.raises(ValueError, match="values must be a sequence"):
        rating.mean_standard_error(3)
    for bad in (0, 1, 1.5, "0.95", True):
        with pytest.raises(ValueError, match="confidence must be a number strictly between 0 and 1"):
            rating.t_interval([1, 2, 3], confidence=bad)


# --- the tally ----------------------------------------------------------------------------------------

def test_tally_scores_a_hand_made_session():
    rounds = ["a", "b", "c", "a", "b", "a", "c"]
    tally = rating.tally_ratings(rounds, [2, 5, 3, 4, 5, 3])  # the last round (c) not rated yet
    assert tally["n"] == 6 and list(tally["models"]) == ["a", "b", "c"]
    a, b, c = (tally["models"][k] for k in "abc")
    # a: 2, 4, 3; mean 3, s = 1, SE = 1 / sqrt(3), t_{2, 0.975} = 4.303
    assert (a["n"], a["mean"]) == (3, 3.0)
    assert a["standard_error"] == pytest.approx(1 / math.sqrt(3))
    assert (a["low"], a["high"]) == pytest.approx((3 - 4.303 / math.sqrt(3), 3 + 4.303 / math.sqrt(3)), abs=1e-3)
    # b: 5, 5; mean 5, no spread: a zero-width interval
    assert b == {"n": 2, "mean": 5.0, "standard_error": 0.0, "low": 5.0, "high": 5.0}
    # c: rated once (3): a mean, but no standard error or interval
    assert c == {"n": 1, "mean": 3.0, "standard_error": None, "low": None, "high": None}
    empty = rating.tally_ratings(rounds, [])
    assert empty["n"] == 0
    assert empty["models"]["a"] == {"n": 0, "mean": None, "standard_error": None, "low": None, "high": None}


def test_tally_agrees_with_scipy_on_a_long_session():
    rng = np.random.default_rng(2)
    rounds = rating.make_rating_rounds(["x", "y", "z"], 60, seed=2)
    scores = rng.integers(1, 6, size=60).tolist()
    tally = rating.tally_ratings(rounds, scores)
    for name, m in tally["models"].items():
        mine = np.array([s for r, s in zip(rounds, scores) if r == name])
        assert m["n"] == len(mine) == 20 and m["mean"] == pytest.approx(mine.mean())
        assert m["standard_error"] == pytest.approx(stats.sem(mine))
        expected = stats.t.interval(0.95, df=len(mine) - 1, loc=mine.mean(), scale=stats.sem(mine))
        assert (m["low"], m["high"]) == pytest.approx(expected)


def test_tally_rejects_bad_input():
    rounds = ["a", "b", "a"]
    with pytest.raises(ValueError, match=r"ratings\[1\] must be between 1 and 5, got 6"):
        rating.tally_ratings(rounds, [3, 6])
    with pytest.raises(ValueError, match=r"ratings\[0\] must be between 1 and 5, got 0"):
        rating.tally_ratings(rounds, [0])
    with pytest.raises(ValueError, match=r"ratings\[0\] must be an integer"):
        rating.tally_ratings(rounds, [3.5])
    with pytest.raises(ValueError, match="ratings must hold at most one rating per round"):
        rating.tally_ratings(rounds, [3] * 4)
    with pytest.raises(ValueError, match="ratings must be a list"):
        rating.tally_ratings(rounds, "345")
    for bad in ([], "ab", ["a", ""], [("a", "b")], None):
        with pytest.raises(ValueError, match="rounds must be"):
            rating.tally_ratings(bad, [])
