"""Checks for the learners' exercises. Each ``check_*`` prints feedback and never raises.

An exercise cell defines a function (or a value) and calls its check. An unsolved
exercise (``...``, ``None`` or ``NotImplementedError``) prints a hint instead of
breaking the notebook, so a lesson always runs from top to bottom.
"""
from __future__ import annotations

import functools
from typing import Callable

import numpy as np
import torch

PASS, FAIL, TODO = "✅", "❌", "✏️"


def _say(mark: str, name: str, message: str) -> None:
    print(f"{mark} {name}: {message}")


def exercise_check(name: str) -> Callable:
    """Decorator for a check: it returns True or False, prints why, and never raises.

    The wrapped check returns ``(ok, message)``. An answer that is ``None`` or
    ``Ellipsis``, or that raises ``NotImplementedError``, counts as not attempted yet.
    """
    def wrap(check: Callable) -> Callable:
        @functools.wraps(check)
        def run(answer=None, *args, **kwargs) -> bool:
            if answer is None or answer is Ellipsis:
                _say(TODO, name, "not attempted yet: replace the ... with your answer and run the cell again.")
                return False
            try:
                ok, message = check(answer, *args, **kwargs)
            except NotImplementedError:
                _say(TODO, name, "not attempted yet: your function still raises NotImplementedError.")
                return False
            except Exception as err:  # a learner's bug must never stop the notebook
                _say(FAIL, name, f"your answer raised {type(err).__name__}: {err}")
                return False
            _say(PASS if ok else FAIL, name, message)
            return bool(ok)
        return run
    return wrap


def close(a, b, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """True when two numbers or arrays (numpy or torch) agree to the given tolerances."""
    def arr(x):
        return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, float)
    a, b = arr(a), arr(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --- lesson 01 ------------------------------------------------------------------------------

@exercise_check("Bayes' rule")
def check_bayes_posterior(posterior_fn):
    """``posterior_fn(lik1, lik0, prior1)`` must return p(y=1|x) = lik1 prior1 / (lik1 prior1 + lik0 (1 - prior1))."""
    rng = np.random.default_rng(1)
    lik1, lik0, prior1 = rng.uniform(0.01, 2, 50), rng.uniform(0.01, 2, 50), rng.uniform(0.05, 0.95, 50)
    expected = lik1 * prior1 / (lik1 * prior1 + lik0 * (1 - prior1))
    got = np.asarray(posterior_fn(lik1, lik0, prior1), dtype=float)
    if got.shape != expected.shape:
        return False, f"expected an array of shape {expected.shape}, got {got.shape}"
    if close(got, expected):
        return True, "correct: the posterior is the joint of class 1 over the sum of both joints."
    if close(got, lik1 * prior1):
        return False, "you have the joint p(x | y=1) p(y=1); divide it by p(x), the sum over both classes."
    return False, "not yet: p(y=1|x) = p(x|y=1) p(y=1) / [p(x|y=1) p(y=1) + p(x|y=0) p(y=0)]."


@exercise_check("Inverse-CDF sampler for the exponential")
def check_exponential_sampler(sampler, rate: float = 2.0):
    """``sampler(u, rate)`` must map uniform u in (0, 1) to Exponential(rate) samples."""
    from scipy import stats

    u = np.random.default_rng(0).uniform(size=20000)
    x = np.asarray(sampler(u, rate), dtype=float)
    if x.shape != u.shape:
        return False, f"return one sample per u: expected shape {u.shape}, got {x.shape}"
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        return False, "exponential samples are finite and non-negative; check the sign of your log."
    ks = stats.kstest(x, stats.expon(scale=1 / rate).cdf)
    if ks.pvalue > 1e-3:
        return True, (f"correct: a Kolmogorov-Smirnov test cannot tell your samples from Exponential({rate}) "
                      f"(p = {ks.pvalue:.2f}); mean {x.mean():.3f} against 1/rate = {1 / rate:.3f}.")
    return False, (f"the samples do not follow Exponential({rate}) (KS p = {ks.pvalue:.1e}, mean {x.mean():.3f}, "
                   f"expected {1 / rate:.3f}). Solve u = F(x) = 1 - exp(-rate x) for x.")
