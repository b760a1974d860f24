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
