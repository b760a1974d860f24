"""Human judgements of generated digits (lesson 11): blind preferences between models, and rapid
real-or-fake categorisation at several exposure times.

Plain numpy and torch, no widgets: ``judge_widgets`` builds the panels on these. Two designs:

* preference: two grids side by side, each of one model's samples, and the judge says which looks
  better (or that they look the same); a sign test asks whether the choices could be chance.
* rapid categorisation: one image for a few hundred milliseconds, then "real or fake?"; accuracy per
  exposure time, with its standard error and a Wilson interval.
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import torch
from scipy import stats

from .utils import check_choice, check_int

__all__ = [
    "PREFERENCE_CHOICES",
    "accuracy_by_exposure",
    "binomial_standard_error",
    "check_model_samples",
    "deal_grids",
    "make_exposure_trials",
    "make_preference_rounds",
    "sign_test_p_value",
    "tally_preferences",
    "wilson_interval",
]

PREFERENCE_CHOICES = ("left", "right", "same")
EXPOSURE_LIMITS_MS = (16, 5000)  # one 60 Hz frame to five seconds
Z_95 = float(stats.norm.ppf(0.975))  # 1.959964...: the two-sided 95 % quantile of N(0, 1)


def _check_names(names) -> list[str]:
    if isinstance(names, str) or not hasattr(names, "__iter__"):
        raise ValueError(f"names must be a list of two or more distinct model names, got {names!r}")
    names = list(names)
    if len(names) < 2 or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise ValueError(f"names must be two or more distinct, non-empty strings, got {names!r}")
    return names


# --- blind preferences between models ------------------------------------------------------------

def make_preference_rounds(names, n_rounds: int, seed: int = 0) -> list[tuple[str, str]]:
    """``n_rounds`` (left, right) pairs of model names, every unordered pair equally often (±1).

    The rounds cycle through all pairs of distinct names, in a new random order each cycle. Each
    pair's sides are balanced two cycles at a time: a random side in one cycle, the other side in
    the next, so a model sits left as often as right against each rival (±1), in no fixed pattern.

    Args:
        names: two or more distinct model names.
        n_rounds: how many rounds, >= 1.
        seed: seeds the orders and the sides, >= 0.
    """
    names = _check_names(names)
    n_rounds = check_int("n_rounds", n_rounds, low=1)
    rng = np.random.default_rng(check_int("seed", seed, low=0))
    pairs = list(itertools.combinations(names, 2))
    first_side = np.zeros(len(pairs), dtype=bool)
    rounds: list[tuple[str, str]] = []
    for cycle in itertools.count():
        if cycle % 2 == 0:
            first_side = rng.random(len(pairs)) < 0.5
        for p in rng.permutation(len(pairs)):
            a, b = pairs[p]
            swap = bool(first_side[p]) != (cycle % 2 == 1)
            rounds.append((b, a) if swap else (a, b))
            if len(rounds) == n_rounds:
                return rounds
    raise AssertionError("unreachable")  # pragma: no cover


def sign_test_p_value(wins_a: int, wins_b: int) -> float | None:
    r"""The two-sided exact sign test that neither of two models is preferred, from the non-tied choices.

    With :math:`n = w_a + w_b` non-tied choices and :math:`K \sim \mathrm{Binomial}(n, 1/2)` under
    the null hypothesis that each choice is a fair coin,

    .. math:: p = \min\Bigl(1,\; 2 \sum_{i=0}^{\min(w_a, w_b)} \binom{n}{i} 2^{-n}\Bigr),

    the chance of a split at least as lopsided as the one seen (Dixon and Mood 1946, "The
    statistical sign test", JASA 41). Computed by ``scipy.stats.binomtest``; ties are left out,
    as the sign test does. Returns None when there is no non-tied choice.

    Args:
        wins_a, wins_b: how often each model was chosen, integers >= 0.
    """
    wins_a, wins_b = check_int("wins_a", wins_a, low=0), check_int("wins_b", wins_b, low=0)
    n = wins_a + wins_b
    if n == 0:
        return None
    return float(stats.binomtest(wins_a, n, p=0.5, alternative="two-sided").pvalue)


def _check_rounds(rounds) -> list[tuple[str, str]]:
    try:
        out = [(left, right) for left, right in rounds]
    except (TypeError, ValueError):
        raise ValueError(f"rounds must be a list of (left, right) model-name pairs, as make_preference_rounds "
                         f"returns, got {rounds!r}") from None
    if not all(isinstance(a, str) and isinstance(b, str) and a != b for a, b in out):
        raise ValueError(f"rounds must pair two different model names in each round, got {rounds!r}")
    return out


def tally_preferences(rounds, choices) -> dict:
    """Score the answered rounds: wins, times shown and win share per model, and a sign test per pair.

    A "left" or "right" choice is a win for that side's model; "same" gives each 0.5. Only the first
    ``len(choices)`` rounds are scored, so a session can be tallied before it ends.

    Args:
        rounds: (left, right) model-name pairs, from ``make_preference_rounds``.
        choices: one of "left", "right", "same" per answered round, at most one per round.
    Returns ``{"n": answered rounds, "models": {name: {"wins", "shown", "win_share"}}, "pairs":
    {(a, b): {"n", "wins": {a: ..., b: ...}, "same", "p_value"}}}``, with every model and pair of
    ``rounds`` listed (a pair keyed by its two names in sorted order); win_share is None for a
    model not shown yet, p_value (``sign_test_p_value``) None for a pair without a non-tied choice.
    """
    rounds = _check_rounds(rounds)
    if isinstance(choices, str) or not hasattr(choices, "__iter__"):
        raise ValueError(f"choices must be a list of 'left', 'right' or 'same', got {choices!r}")
    choices = list(choices)
    if len(choices) > len(rounds):
        raise ValueError(f"choices must hold at most one choice per round ({len(rounds)}), got {len(choices)}")
    for i, choice in enumerate(choices):
        check_choice(f"choices[{i}]", choice, PREFERENCE_CHOICES)
    models = {name: {"wins": 0.0, "shown": 0, "win_share": None} for name in dict.fromkeys(itertools.chain(*rounds))}
    pairs = {}
    for left, right in rounds:
        key = tuple(sorted((left, right)))
        pairs.setdefault(key, {"n": 0, "wins": {key[0]: 0, key[1]: 0}, "same": 0, "p_value": None})
    for (left, right), choice in zip(rounds, choices):
        pair = pairs[tuple(sorted((left, right)))]
        pair["n"] += 1
        models[left]["shown"] += 1
        models[right]["shown"] += 1
        if choice == "same":
            pair["same"] += 1
            models[left]["wins"] += 0.5
            models[right]["wins"] += 0.5
        else:
            winner = left if choice == "left" else right
            pair["wins"][winner] += 1
            models[winner]["wins"] += 1.0
    for m in models.values():
        m["win_share"] = m["wins"] / m["shown"] if m["shown"] else None
    for (a, b), pair in pairs.items():
        pair["p_value"] = sign_test_p_value(pair["wins"][a], pair["wins"][b])
    return {"n": len(choices), "models": models, "pairs": pairs}


# --- rapid categorisation at several exposure times ----------------------------------------------

def _image_batch(name: str, images, like: torch.Tensor | None = None) -> torch.Tensor:
    # A non-empty (N, ...) float batch on the CPU; reshaped like ``like``'s images when given.
    x = torch.as_tensor(images).detach().cpu().float()
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"{name} must be a non-empty batch of images (N, 1, 28, 28) or (N, 28, 28), "
                         f"got shape {tuple(x.shape)}")
    if like is not None:
        if x[0].numel() != like[0].numel():
            raise ValueError(f"{name} must have as many pixels per image as real_images ({like[0].numel()}), "
                             f"got shape {tuple(x.shape)}")
        x = x.reshape(len(x), *like.shape[1:])
    return x


def check_model_samples(samples, n_images: int) -> dict[str, torch.Tensor]:
    """``samples`` as {model name: (N, ...) float images}, two or more models, each with at least ``n_images``."""
    if not isinstance(samples, dict):
        raise ValueError(f"samples must be a dict {{model name: images}} of two or more models, got "
                         f"{type(samples).__name__}")
    out, first = {}, None
    for name in _check_names(list(samples)):
        x = _image_batch(f"samples[{name!r}]", samples[name], like=first)
        if len(x) < n_images:
            raise ValueError(f"samples[{name!r}] holds {len(x)} images; each grid needs n_images = {n_images}")
        out[name] = first = x
    return out


def deal_grids(sizes: dict, sequence, n_images: int, seed: int = 0) -> list[list[int]]:
    """For each model name in ``sequence``, the indices of ``n_images`` of its samples for one grid.

    Each model deals from its own shuffled deck of its ``sizes[name]`` samples and reshuffles
    when fewer than ``n_images`` are left, so no image appears twice in a grid and every image
    is shown before any is shown again.
    """
    gen = torch.Generator().manual_seed(seed)
    decks = {name: [] for name in sizes}
    grids = []
    for name in sequence:
        if len(decks[name]) < n_images:
            decks[name] = torch.randperm(sizes[name], generator=gen).tolist()
        grids.append(decks[name][:n_images])
        decks[name] = decks[name][n_images:]
    return grids


def _check_exposures(exposures_ms) -> list[int]:
    lo, hi = EXPOSURE_LIMITS_MS
    values = np.asarray(exposures_ms, dtype=object).reshape(-1) if not isinstance(exposures_ms, str) else []
    if len(values) == 0:
        raise ValueError(f"exposures_ms must be one or more distinct times in ms, {lo} to {hi}, got {exposures_ms!r}")
    out = [check_int(f"exposures_ms[{i}]", v, low=lo, high=hi) for i, v in enumerate(values)]
    if len(set(out)) != len(out):
        raise ValueError(f"exposures_ms must be distinct, got {out}")
    return out


def make_exposure_trials(real_images, fake_images, exposures_ms, n_per_exposure: int, seed: int = 0):
    """A session of rapid real-or-fake trials: ``n_per_exposure`` at each exposure time, interleaved.

    Each exposure time gets half real and half generated images (the extra one real when
    ``n_per_exposure`` is odd). No image is used twice in a session, and the trials are shuffled
    so the exposure times come in random order.

    Args:
        real_images: (N, ...) real images.
        fake_images: (M, ...) generated images, as many pixels each, in the same pixel range.
        exposures_ms: the distinct exposure times, integers from 16 to 5000 ms.
        n_per_exposure: trials per exposure time, >= 1.
        seed: seeds the choice of images and the order, >= 0.
    Returns ``(images, is_real, exposure_ms)``: (T, ...) images shaped like ``real_images``', a (T,)
    bool tensor (True: real) and a (T,) int64 array of each trial's exposure in ms.
    """
    real = _image_batch("real_images", real_images)
    fake = _image_batch("fake_images", fake_images, like=real)
    exposures = _check_exposures(exposures_ms)
    n_per_exposure = check_int("n_per_exposure", n_per_exposure, low=1)
    rng = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    n_real, n_fake = (n_per_exposure + 1) // 2, n_per_exposure // 2
    for name, pool, each in (("real_images", real, n_real), ("fake_images", fake, n_fake)):
        if each * len(exposures) > len(pool):
            raise ValueError(f"{name} holds {len(pool)} images; {len(exposures)} exposure times x {each} each "
                             f"need {each * len(exposures)}, none used twice")
    real_pick = torch.randperm(len(real), generator=rng)[: n_real * len(exposures)]
    fake_pick = torch.randperm(len(fake), generator=rng)[: n_fake * len(exposures)]
    images = torch.cat([real[real_pick], fake[fake_pick]])
    is_real = torch.cat([torch.ones(len(real_pick), dtype=torch.bool), torch.zeros(len(fake_pick), dtype=torch.bool)])
    exposure = np.concatenate([np.repeat(exposures, n_real), np.repeat(exposures, n_fake)]).astype(np.int64)
    order = torch.randperm(len(images), generator=rng)
    return images[order], is_real[order], exposure[order.numpy()]


def binomial_standard_error(n_correct: int, n: int) -> float:
    r"""The standard error of an observed proportion :math:`\hat p = k / n`:
    :math:`\mathrm{SE} = \sqrt{\hat p (1 - \hat p) / n}`.

    Args:
        n_correct: successes k, 0 <= k <= n.
        n: trials, >= 1.
    """
    n = check_int("n", n, low=1)
    p = check_int("n_correct", n_correct, low=0, high=n) / n
    return math.sqrt(p * (1 - p) / n)


def wilson_interval(n_correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    r"""The Wilson score interval for a proportion (Wilson 1927, JASA 22, "Probable inference ...").

    .. math:: \frac{\hat p + \frac{z^2}{2n}}{1 + \frac{z^2}{n}} \pm
              \frac{z}{1 + \frac{z^2}{n}} \sqrt{\frac{\hat p (1 - \hat p)}{n} + \frac{z^2}{4 n^2}},
              \qquad \hat p = k / n,

    with z = 1.96 for 95 %. Unlike :math:`\hat p \pm z\,\mathrm{SE}` it stays inside [0, 1] and does
    not shrink to a point when k = 0 or k = n, which matters for the few trials of a lesson.

    Args:
        n_correct: successes k, 0 <= k <= n.
        n: trials, >= 1.
        z: the normal quantile, > 0 (default: 95 % two-sided).
    Returns ``(low, high)``.
    """
    n = check_int("n", n, low=1)
    p = check_int("n_correct", n_correct, low=0, high=n) / n
    if not (isinstance(z, (int, float)) and math.isfinite(z) and z > 0):
        raise ValueError(f"z must be a positive number, e.g. 1.96 for 95 %, got {z!r}")
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def _bools(name: str, values, n: int | None = None) -> np.ndarray:
    try:
        arr = np.asarray(values.cpu().numpy() if torch.is_tensor(values) else list(values), dtype=object).reshape(-1)
    except TypeError:
        raise ValueError(f"{name} must be a sequence of booleans (True: real), got {values!r}") from None
    if not all(isinstance(v, (bool, np.bool_)) or (isinstance(v, (int, np.integer)) and v in (0, 1)) for v in arr):
        raise ValueError(f"{name} must be a sequence of booleans (True: real), got {values!r}")
    if n is not None and len(arr) > n:
        raise ValueError(f"{name} must hold at most one answer per trial ({n}), got {len(arr)}")
    return arr.astype(bool)


def accuracy_by_exposure(answers, is_real, exposure_ms) -> dict:
    """Accuracy per exposure time over the answered trials (the first ``len(answers)``).

    Args:
        answers: the judge's answers, True meaning "real", at most one per trial.
        is_real: the truth per trial, from ``make_exposure_trials``.
        exposure_ms: each trial's exposure in ms, from ``make_exposure_trials``.
    Returns ``{exposure: {"n", "n_correct", "accuracy", "standard_error", "wilson_low", "wilson_high",
    "n_real", "hit_rate_real", "n_fake", "hit_rate_fake"}}`` for each exposure time with at least one
    answered trial, in increasing order. hit_rate_real is the share of real images called real,
    hit_rate_fake the share of generated ones called fake (None when none of that kind was answered).
    """
    truth = _bools("is_real", is_real)
    exposure = np.asarray(exposure_ms).reshape(-1)
    if len(truth) == 0 or exposure.shape != truth.shape or not np.issubdtype(exposure.dtype, np.integer):
        raise ValueError(f"is_real and exposure_ms must be non-empty and hold one value per trial, integers for "
                         f"exposure_ms; got {len(truth)} and {exposure!r}")
    said = _bools("answers", answers, n=len(truth))
    k = len(said)
    right = said == truth[:k]
    summary = {}
    for ms in sorted(set(exposure[:k].tolist())):
        at = exposure[:k] == ms
        real, fake = at & truth[:k], at & ~truth[:k]
        n, n_correct = int(at.sum()), int(right[at].sum())
        low, high = wilson_interval(n_correct, n)
        summary[int(ms)] = {
            "n": n, "n_correct": n_correct, "accuracy": n_correct / n,
            "standard_error": binomial_standard_error(n_correct, n), "wilson_low": low, "wilson_high": high,
            "n_real": int(real.sum()), "hit_rate_real": float(said[real].mean()) if real.any() else None,
            "n_fake": int(fake.sum()), "hit_rate_fake": float((~said[fake]).mean()) if fake.any() else None,
        }
    return summary
