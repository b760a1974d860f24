"""Blind ratings of generated digits (lesson 11): one model's grid per round, scored 1 to 5.

Plain numpy and scipy, no widgets: ``rating_widgets`` builds the panel on these. Beside the
preference test of ``judging`` (which of two grids looks better), this asks how good one grid
looks on its own, and summarises each model by its mean rating with a standard error and a
t interval.
"""
from __future__ import annotations

import math

import numpy as np
from scipy import stats

from .judging import _check_names
from .utils import check_float, check_int

__all__ = [
    "RATING_SCALE",
    "make_rating_rounds",
    "mean_standard_error",
    "t_interval",
    "tally_ratings",
]

RATING_SCALE = (1, 5)  # the lowest and highest score


def make_rating_rounds(names, n_rounds: int, seed: int = 0) -> list[str]:
    """``n_rounds`` model names, one per round: each model equally often (±1), shuffled, no model twice in a row.

    The rounds cycle through all names, in a new random order each cycle. When a cycle would open
    with the model that closed the one before, that first name swaps with another of the cycle
    chosen at random, so a model never follows itself (two or more names make that always possible).

    Args:
        names: two or more distinct model names.
        n_rounds: how many rounds, >= 1.
        seed: seeds the orders, >= 0.
    """
    names = _check_names(names)
    n_rounds = check_int("n_rounds", n_rounds, low=1)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    rounds: list[str] = []
    while len(rounds) < n_rounds:
        cycle = [names[i] for i in rng.permutation(len(names))]
        if rounds and cycle[0] == rounds[-1]:
            j = int(rng.integers(1, len(cycle)))
            cycle[0], cycle[j] = cycle[j], cycle[0]
        rounds.extend(cycle)
    return rounds[:n_rounds]


def _values(name: str, values) -> np.ndarray:
    if isinstance(values, str) or not hasattr(values, "__iter__"):
        raise ValueError(f"{name} must be a sequence of finite numbers, got {values!r}")
    return np.array([check_float(f"{name}[{i}]", v) for i, v in enumerate(values)], dtype=float)


def mean_standard_error(values) -> float | None:
    r"""The standard error of a sample mean, from the sample standard deviation (ddof = 1):

    .. math:: \mathrm{SE} = \frac{s}{\sqrt{n}}, \qquad
              s = \sqrt{\frac{1}{n - 1} \sum_{i=1}^{n} (x_i - \bar x)^2},

    as ``scipy.stats.sem`` computes it. Returns None for fewer than two values (s is undefined).

    Args:
        values: the observations, finite numbers.
    """
    x = _values("values", values)
    if len(x) < 2:
        return None
    return float(x.std(ddof=1) / math.sqrt(len(x)))


def t_interval(values, confidence: float = 0.95) -> tuple[float, float] | None:
    r"""Student's t confidence interval for the mean of a sample:

    .. math:: \bar x \pm t_{n-1,\,(1+c)/2}\, \frac{s}{\sqrt{n}},

    with :math:`t_{n-1, q}` the q quantile of the t distribution with n - 1 degrees of freedom
    (``scipy.stats.t.ppf``; 4.303 for n = 3 at c = 95 %, against 1.96 for the normal). It assumes
    independent ratings and is not clipped to the 1-5 scale, so with few ratings it can reach past
    it; a judge who gives one score every time gets a zero-width interval. Returns None for fewer
    than two values.

    Args:
        values: the observations, finite numbers.
        confidence: the coverage c, strictly between 0 and 1.
    Returns ``(low, high)``.
    """
    x = _values("values", values)
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0 < confidence < 1:
        raise ValueError(f"confidence must be a number strictly between 0 and 1, e.g. 0.95, got {confidence!r}")
    se = mean_standard_error(x)
    if se is None:
        return None
    half = float(stats.t.ppf((1 + confidence) / 2, df=len(x) - 1)) * se
    mean = float(x.mean())
    return mean - half, mean + half


def _check_rating_rounds(rounds) -> list[str]:
    if isinstance(rounds, str) or not hasattr(rounds, "__iter__"):
        raise ValueError(f"rounds must be a list of model names, as make_rating_rounds returns, got {rounds!r}")
    rounds = list(rounds)
    if not rounds or not all(isinstance(r, str) and r for r in rounds):
        raise ValueError(f"rounds must be a non-empty list of model names (non-empty strings), as "
                         f"make_rating_rounds returns, got {rounds!r}")
    return rounds


def tally_ratings(rounds, ratings) -> dict:
    r"""Score the answered rounds: per model the ratings' count, mean, standard error and 95 % t interval.

    Only the first ``len(ratings)`` rounds are scored, so a session can be tallied before it ends.
    For model m with ratings :math:`r_1, \dots, r_n`: the mean :math:`\bar r = \frac{1}{n}\sum_i r_i`,
    the standard error ``mean_standard_error`` (:math:`s / \sqrt n`) and the interval ``t_interval``
    (:math:`\bar r \pm t_{n-1, 0.975}\, s / \sqrt n`).

    Args:
        rounds: the model name of each round, from ``make_rating_rounds``.
        ratings: one integer score from 1 to 5 per answered round, at most one per round.
    Returns ``{"n": answered rounds, "models": {name: {"n", "mean", "standard_error", "low", "high"}}}``
    with every model of ``rounds`` listed in order of first appearance; mean is None for a model not
    rated yet, standard_error, low and high None for one rated fewer than twice.
    """
    rounds = _check_rating_rounds(rounds)
    if isinstance(ratings, str) or not hasattr(ratings, "__iter__"):
        raise ValueError(f"ratings must be a list of integers from 1 to 5, got {ratings!r}")
    ratings = list(ratings)
    if len(ratings) > len(rounds):
        raise ValueError(f"ratings must hold at most one rating per round ({len(rounds)}), got {len(ratings)}")
    low, high = RATING_SCALE
    ratings = [check_int(f"ratings[{i}]", r, low=low, high=high) for i, r in enumerate(ratings)]
    given = {name: [] for name in dict.fromkeys(rounds)}
    for name, rating in zip(rounds, ratings):
        given[name].append(rating)
    models = {}
    for name, scores in given.items():
        interval = t_interval(scores)
        models[name] = {"n": len(scores), "mean": sum(scores) / len(scores) if scores else None,
                        "standard_error": mean_standard_error(scores),
                        "low": None if interval is None else interval[0],
                        "high": None if interval is None else interval[1]}
    return {"n": len(ratings), "models": models}
