"""Exercise checks print feedback and never raise."""
import numpy as np

from gan_lessons import exercises


def test_correct_wrong_missing_and_crashing_answers(capsys):
    good = lambda l1, l0, p: l1 * p / (l1 * p + l0 * (1 - p))  # noqa: E731
    assert exercises.check_bayes_posterior(good) is True
    assert exercises.check_bayes_posterior(lambda l1, l0, p: l1 * p) is False
    assert exercises.check_bayes_posterior(None) is False
    assert exercises.check_bayes_posterior(...) is False

    def todo(*args):
        raise NotImplementedError

    def broken(*args):
        return 1 / 0
    assert exercises.check_bayes_posterior(todo) is False
    assert exercises.check_bayes_posterior(broken) is False
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("✅") and out[1].startswith("❌") and "p(x)" in out[1]
    assert out[2].startswith("✏️") and out[4].startswith("✏️")
    assert "ZeroDivisionError" in out[5]


def test_exponential_sampler_check_accepts_the_inverse_cdf_only():
    assert exercises.check_exponential_sampler(lambda u, rate: -np.log(1 - u) / rate) is True
    assert exercises.check_exponential_sampler(lambda u, rate: -np.log(1 - u) * rate) is False
    assert exercises.check_exponential_sampler(lambda u, rate: np.log(1 - u) / rate) is False
    assert exercises.check_exponential_sampler(lambda u, rate: u[:10]) is False


def test_an_unfinished_function_body_counts_as_not_attempted(capsys):
    def unfinished(u, rate):
        ...
    assert exercises.check_exponential_sampler(unfinished) is False
    assert capsys.readouterr().out.startswith("✏️")


def test_lesson_05_checks_accept_the_right_answers_only(capsys):
    import math
    import torch

    right = lambda a, t, m: (torch.sigmoid(a) - t) / m  # noqa: E731
    assert exercises.check_d_logit_gradient(right) is True
    assert exercises.check_d_logit_gradient(lambda a, t, m: torch.sigmoid(a) - t) is False  # not divided by m
    assert exercises.check_d_logit_gradient(lambda a, t, m: (t - torch.sigmoid(a)) / m) is False  # sign flipped
    assert exercises.check_equilibrium_losses((math.log(4), math.log(2))) is True
    assert exercises.check_equilibrium_losses((math.log(2), math.log(4))) is False
    assert exercises.check_stalled_generator_fix("g_loss") is True
    assert exercises.check_stalled_generator_fix("d_steps") is False
    assert exercises.check_stalled_generator_fix("learning rate") is False
    out = capsys.readouterr().out
    assert "divide by m" in out and "sign is flipped" in out
