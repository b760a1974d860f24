"""Exercise checks print feedback and never raise."""
import numpy as np

from gan_lessons import exercises


def test_correct_wrong_missing_and_crashing_answers(capsys):
    good = lambda l1, l0, p: l1 * p / (l1 * p + l0 * (1 - p))
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

    right = lambda a, t, m: (torch.sigmoid(a) - t) / m
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


# --- lessons 08-11: MNIST ---------------------------------------------------------------------
# Each check: an independent correct answer passes, a typical mistake fails with a hint, an
# unfinished body (``...``, so None) counts as not attempted, and an answer that raises is caught.
import torch

from gan_lessons import data


def _unfinished(*args):
    ...


def _broken(*args):
    return 1 / 0


def _assert_todo_and_crash_are_caught(check, capsys):
    assert check(_unfinished) is False
    assert capsys.readouterr().out.startswith("✏️")
    assert check(_broken) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and "ZeroDivisionError" in out


def test_symmetric_scale_check(capsys):
    assert exercises.check_symmetric_scale(lambda im: im[:, None].float() / 127.5 - 1) is True
    assert capsys.readouterr().out.startswith("✅")
    assert exercises.check_symmetric_scale(lambda im: im[:, None].float() / 255) is False  # [0, 1]
    out = capsys.readouterr().out
    assert out.startswith("❌") and "x / 255 * 2 - 1" in out
    assert exercises.check_symmetric_scale(lambda im: im.float() / 127.5 - 1) is False  # no channel axis
    assert "expected shape" in capsys.readouterr().out
    assert exercises.check_symmetric_scale(lambda im: im[:, None].to(torch.int64) * 2 - 255) is False
    capsys.readouterr()
    _assert_todo_and_crash_are_caught(exercises.check_symmetric_scale, capsys)


def test_symmetric_scale_check_accepts_an_answer_that_reshapes_to_mnist_shape(capsys):
    def to_symmetric(images):  # follows lesson 08's exercise text: (N, 28, 28) -> (N, 1, 28, 28)
        return images.float().div(127.5).sub(1).reshape(len(images), 1, 28, 28)

    images = torch.randint(0, 256, (5, 28, 28), dtype=torch.uint8)
    torch.testing.assert_close(to_symmetric(images), data.to_float(images, "symmetric"))  # it is right
    assert exercises.check_symmetric_scale(to_symmetric) is True


def test_source_g_parameters_check(capsys):
    from gan_lessons.mnist_gan import source_mlp_gan
    from gan_lessons.models import count_parameters

    right = count_parameters(source_mlp_gan()[0])
    assert exercises.check_source_g_parameters(right) is True
    assert capsys.readouterr().out.startswith("✅")
    weights_only = sum(p.numel() for name, p in source_mlp_gan()[0].named_parameters() if "weight" in name)
    assert exercises.check_source_g_parameters(weights_only) is False
    assert "biases" in capsys.readouterr().out
    assert exercises.check_source_g_parameters(right + 1) is False
    assert capsys.readouterr().out.startswith("❌")
    assert exercises.check_source_g_parameters(...) is False  # the notebook's unfilled `= ...`
    assert capsys.readouterr().out.startswith("✏️")
    assert exercises.check_source_g_parameters("many") is False  # int("many") raises, caught
    out = capsys.readouterr().out
    assert out.startswith("❌") and "ValueError" in out


def test_digit_shares_check(capsys):
    assert exercises.check_digit_shares(lambda p: np.bincount(p.argmax(1), minlength=10) / len(p)) is True
    assert exercises.check_digit_shares(
        lambda p: torch.bincount(torch.as_tensor(p).argmax(1), minlength=10).double() / len(p)) is True
    assert capsys.readouterr().out.count("✅") == 2
    assert exercises.check_digit_shares(lambda p: p.mean(0)) is False  # mean probability, not counts
    assert "argmax" in capsys.readouterr().out
    assert exercises.check_digit_shares(lambda p: np.bincount(p.argmax(1), minlength=10)) is False  # counts
    assert capsys.readouterr().out.startswith("❌")
    assert exercises.check_digit_shares(lambda p: p.argmax(1)) is False  # one digit per row
    assert "shape (10,)" in capsys.readouterr().out
    _assert_todo_and_crash_are_caught(exercises.check_digit_shares, capsys)


def test_conv_transpose_size_check(capsys):
    def by_torch(size, kernel, stride, padding):
        layer = torch.nn.ConvTranspose2d(1, 1, kernel, stride, padding)
        return layer(torch.zeros(1, 1, size, size)).shape[-1]

    assert exercises.check_conv_transpose_size(by_torch) is True
    assert capsys.readouterr().out.startswith("✅")
    conv_rule = lambda n, k, s, p: (n + 2 * p - k) // s + 1  # (a convolution's, not its inverse)
    assert exercises.check_conv_transpose_size(conv_rule) is False
    out = capsys.readouterr().out
    assert out.startswith("❌") and "(size - 1) * stride - 2 * padding + kernel" in out
    assert exercises.check_conv_transpose_size(lambda n, k, s, p: (n - 1) * s + k) is False  # padding left out
    assert "padding=1" in capsys.readouterr().out
    _assert_todo_and_crash_are_caught(exercises.check_conv_transpose_size, capsys)


def test_slerp_check(capsys):
    def slerp(z0, z1, t):
        omega = torch.acos(torch.dot(z0, z1) / (z0.norm() * z1.norm()))
        return (torch.sin((1 - t) * omega) * z0 + torch.sin(t * omega) * z1) / torch.sin(omega)

    def slerp_numpy(z0, z1, t):  # in numpy, returning an array
        a, b = z0.numpy(), z1.numpy()
        omega = np.arccos(np.clip(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)), -1, 1))
        return (np.sin((1 - t) * omega) * a + np.sin(t * omega) * b) / np.sin(omega)

    assert exercises.check_slerp(slerp) is True
    assert exercises.check_slerp(slerp_numpy) is True
    assert capsys.readouterr().out.count("✅") == 2
    assert exercises.check_slerp(lambda z0, z1, t: (1 - t) * z0 + t * z1) is False  # linear interpolation
    out = capsys.readouterr().out
    assert out.startswith("❌") and "t = 0.3" in out and "sin" in out
    unit = lambda z0, z1, t: slerp(z0 / z0.norm(), z1 / z1.norm(), t)  # (loses the norms)
    assert exercises.check_slerp(unit) is False
    assert exercises.check_slerp(lambda z0, z1, t: slerp(z0, z1, t)[:8]) is False  # wrong shape
    capsys.readouterr()
    _assert_todo_and_crash_are_caught(exercises.check_slerp, capsys)


def test_classifier_score_check(capsys):
    from scipy.stats import entropy

    from gan_lessons import metrics

    def by_scipy(probs):
        return np.exp(np.mean(entropy(probs.T, probs.mean(0)[:, None])))  # KL(p(y|x) || p(y)) per column

    assert exercises.check_classifier_score(by_scipy) is True
    assert exercises.check_classifier_score(lambda p: metrics.classifier_score(p).mean) is True
    assert capsys.readouterr().out.count("✅") == 2
    assert exercises.check_classifier_score(lambda p: np.log(by_scipy(p))) is False  # the exp forgotten
    out = capsys.readouterr().out
    assert out.startswith("❌") and "exp of the mean" in out
    reversed_kl = lambda p: np.exp(np.mean(entropy(p.mean(0)[:, None], p.T)))  # KL(p(y) || p(y|x))
    assert exercises.check_classifier_score(reversed_kl) is False
    assert exercises.check_classifier_score(lambda p: np.exp(np.mean(entropy(p.T, np.full((10, 1), 0.1))))) is False
    assert capsys.readouterr().out.count("❌") == 2
    _assert_todo_and_crash_are_caught(exercises.check_classifier_score, capsys)


def test_frechet_1d_check(capsys):
    from gan_lessons import metrics

    def by_formula(m1, v1, m2, v2):
        return (m1 - m2) ** 2 + v1 + v2 - 2 * np.sqrt(v1 * v2)

    def by_library(m1, v1, m2, v2):  # the d-dimensional formula with d = 1
        return metrics.frechet_distance(np.array([m1]), np.array([[v1]]), np.array([m2]), np.array([[v2]]))

    assert exercises.check_frechet_1d(by_formula) is True
    assert exercises.check_frechet_1d(by_library) is True
    assert capsys.readouterr().out.count("✅") == 2
    assert exercises.check_frechet_1d(lambda m1, v1, m2, v2: (m1 - m2) ** 2 + v1 + v2) is False  # no cross term
    out = capsys.readouterr().out
    assert out.startswith("❌") and "2 √(v1 v2)" in out
    stds = lambda m1, v1, m2, v2: (m1 - m2) ** 2 + (v1 - v2) ** 2  # variances taken for stds
    assert exercises.check_frechet_1d(stds) is False
    assert exercises.check_frechet_1d(lambda m1, v1, m2, v2: (m1 - m2) ** 2 + v1 + v2 - 2 * v1 * v2) is False
    assert capsys.readouterr().out.count("❌") == 2
    _assert_todo_and_crash_are_caught(exercises.check_frechet_1d, capsys)
