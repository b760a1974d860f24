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


def _text(err: BaseException) -> str:
    # An exception's message, even when its own __str__ fails.
    try:
        return f"{type(err).__name__}: {err}"
    except Exception:  # noqa: BLE001
        return type(err).__name__


class AnswerRaised(Exception):
    """The learner's function raised ``error`` (``call`` wraps it, so the check can say so)."""

    def __init__(self, error: BaseException):
        super().__init__(_text(error))
        self.error = error


def exercise_check(name: str) -> Callable:
    """Decorator for a check: it returns True or False, prints why, and never raises.

    The wrapped check returns ``(ok, message)``. An answer that is ``None`` or
    ``Ellipsis``, or that raises ``NotImplementedError``, counts as not attempted yet; an
    answer of the wrong form (not a function, a string for a number, the wrong shape) gets
    the check's own description of what it expects.
    """
    def wrap(check: Callable) -> Callable:
        expects = next(iter((check.__doc__ or "").strip().splitlines()), "")  # the docstring's first line

        @functools.wraps(check)
        def run(answer=None, *args, **kwargs) -> bool:
            try:
                if answer is None or answer is Ellipsis:
                    _say(TODO, name, "not attempted yet: replace the ... with your answer and run the cell again.")
                    return False
                try:
                    ok, message = check(answer, *args, **kwargs)
                except NotImplementedError:
                    _say(TODO, name, "not attempted yet: fill in the function body (it still returns None or "
                                     "raises NotImplementedError).")
                    return False
                except AnswerRaised as err:
                    _say(FAIL, name, f"your function raised {err}")
                    return False
                except Exception as err:  # noqa: BLE001 - a malformed answer must never stop the notebook
                    _say(FAIL, name, f"your answer does not have the form this exercise expects ({_text(err)})."
                                     + (f" Expected: {expects}" if expects else ""))
                    return False
                _say(PASS if ok else FAIL, name, message)
                return bool(ok)
            except Exception as err:  # noqa: BLE001 - the last guard: printing itself failed
                print(f"{FAIL} {name}: this answer could not be checked ({type(err).__name__}).")
                return False
        return run
    return wrap


def call(fn: Callable, *args):
    """Call a learner's function; a result of None (an unfinished ``...`` body) counts as not attempted.

    Raises ValueError if ``fn`` is not a function, and ``AnswerRaised`` if it raises
    (``NotImplementedError`` passes through: not attempted yet).
    """
    if not callable(fn):
        raise ValueError(f"this exercise wants a function, got {type(fn).__name__}")
    try:
        out = fn(*args)
    except NotImplementedError:
        raise
    except (Exception, SystemExit) as err:  # noqa: BLE001 - whatever the learner's code raises
        raise AnswerRaised(err) from None
    if out is None:
        raise NotImplementedError
    return out


def _array(x) -> np.ndarray:
    """A learner's result as a float64 array: numpy, lists, or torch tensors (even ones that require grad)."""
    return x.detach().cpu().double().numpy() if isinstance(x, torch.Tensor) else np.asarray(x, float)


def close(a, b, rtol: float = 1e-4, atol: float = 1e-6) -> bool:
    """True when two numbers or arrays (numpy or torch) agree to the given tolerances."""
    a, b = _array(a), _array(b)
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=rtol, atol=atol))


# --- lesson 01 ------------------------------------------------------------------------------

@exercise_check("Bayes' rule")
def check_bayes_posterior(posterior_fn):
    """``posterior_fn(lik1, lik0, prior1)`` must return p(y=1|x) = lik1 prior1 / (lik1 prior1 + lik0 (1 - prior1))."""
    rng = np.random.default_rng(1)
    lik1, lik0, prior1 = rng.uniform(0.01, 2, 50), rng.uniform(0.01, 2, 50), rng.uniform(0.05, 0.95, 50)
    expected = lik1 * prior1 / (lik1 * prior1 + lik0 * (1 - prior1))
    got = _array(call(posterior_fn, lik1, lik0, prior1))
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
    x = _array(call(sampler, u, rate))
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


# --- lessons 02-04 ---------------------------------------------------------------------------

@exercise_check("Maximum-likelihood Gaussian")
def check_gaussian_mle(mle_fn):
    """``mle_fn(x)`` must return the maximum-likelihood (mu, sigma) of a Gaussian for the sample x."""
    from .theory import gaussian_mle

    x = np.random.default_rng(2).normal(1.5, 0.8, size=12)  # small n, so 1/n and 1/(n-1) differ
    mu, sigma = (float(v) for v in call(mle_fn, x))
    expected = gaussian_mle(x)
    if close((mu, sigma), expected):
        return True, f"correct: mu = mean, sigma = sqrt(mean of squared deviations) = ({mu:.4f}, {sigma:.4f})."
    if close(mu, expected[0]) and close(sigma, x.std(ddof=1)):
        return False, "your sigma divides by n - 1 (the unbiased variance); the likelihood's maximum divides by n."
    if close(mu, expected[0]) and close(sigma, expected[1] ** 2):
        return False, "you returned the variance sigma^2; return its square root."
    return False, (f"expected ({expected[0]:.4f}, {expected[1]:.4f}), got ({mu:.4f}, {sigma:.4f}). "
                   "Set the derivatives of sum_i log N(x_i | mu, sigma^2) to zero.")


@exercise_check("Gaussian log-likelihood")
def check_gaussian_log_likelihood(log_lik_fn):
    """``log_lik_fn(x, mu, sigma)`` must return sum_i log N(x_i | mu, sigma^2) as one number."""
    from scipy import stats

    x = np.random.default_rng(3).normal(-1.0, 2.0, size=50)
    for mu, sigma in ((0.0, 1.0), (-1.0, 2.0), (2.0, 0.5)):
        expected = stats.norm(mu, sigma).logpdf(x).sum()
        got = float(np.sum(call(log_lik_fn, x, mu, sigma)))
        if not close(got, expected):
            if close(got, expected / len(x)):
                return False, "you returned the mean over the sample; the log-likelihood is the sum."
            if close(got, np.exp(expected), rtol=1e-3):
                return False, "you returned the likelihood itself; take the log of each density before summing."
            return False, (f"at mu={mu}, sigma={sigma} expected {expected:.4f}, got {got:.4f}. "
                           "log N(x | mu, sigma^2) = -log(sigma sqrt(2 pi)) - (x - mu)^2 / (2 sigma^2).")
    return True, "correct: your log-likelihood matches scipy.stats.norm(mu, sigma).logpdf(x).sum()."


@exercise_check("The non-saturating gradient")
def check_nonsaturating_gradient(grad_fn):
    """``grad_fn(a)`` must return d/da [-log sigmoid(a)] elementwise, a being D's logit on fakes."""
    from .theory import generator_logit_gradient

    a = np.linspace(-6, 6, 25)
    got = _array(call(grad_fn, a))
    expected = generator_logit_gradient(a, "nonsaturating")
    if got.shape != a.shape:
        return False, f"return one gradient per logit: expected shape {a.shape}, got {got.shape}"
    if close(got, expected):
        return True, "correct: -(1 - D(G(z))), close to -1 exactly when D rejects the fakes."
    if close(got, -expected):
        return False, "the sign is off: -log sigmoid(a) decreases as a grows, so its derivative is negative."
    if close(got, generator_logit_gradient(a, "minimax")):
        return False, "that is the minimax loss's gradient, -D(G(z)); differentiate -log sigmoid(a) instead."
    return False, "not yet: use d/da log sigmoid(a) = 1 - sigmoid(a)."


@exercise_check("One round of alternating play")
def check_alternating_round(round_fn):
    """``round_fn(x, y, lr)`` must do y <- y + lr x, then x <- x - lr y with the new y, and return (x, y)."""
    from .theory import bilinear_game

    for x, y, lr in ((1.0, 0.5, 0.1), (-0.3, 2.0, 0.7)):
        got = tuple(float(v.detach()) if hasattr(v, "detach") else float(v) for v in call(round_fn, x, y, lr))
        expected = tuple(bilinear_game(x, y, lr, 1, "alternating")[1])
        if not close(got, expected):
            if close(got, tuple(bilinear_game(x, y, lr, 1, "simultaneous")[1])):
                return False, "that is a simultaneous step: x must answer the *new* y, as G answers the updated D."
            return False, (f"from (x, y) = ({x}, {y}) with lr = {lr} expected ({expected[0]:.4f}, {expected[1]:.4f}), "
                           f"got ({got[0]:.4f}, {got[1]:.4f}). y ascends xy (gradient x); x descends it (gradient y).")
    return True, "correct: y moves first, then x uses the y it now faces, just as Algorithm 1 updates D before G."


@exercise_check("The optimal discriminator")
def check_optimal_discriminator(d_star_fn):
    """``d_star_fn(p_data, p_g)`` must return p_data / (p_data + p_g) elementwise (arrays in, array out)."""
    from .theory import optimal_discriminator

    rng = np.random.default_rng(4)
    p_data, p_g = rng.uniform(0.01, 2, 40), rng.uniform(0.01, 2, 40)
    got = _array(call(d_star_fn, p_data, p_g))
    if got.shape != p_data.shape:
        return False, f"return one value per point: expected shape {p_data.shape}, got {got.shape}"
    if close(got, optimal_discriminator(p_data, p_g)):
        return True, "correct: D*(x) = p_data / (p_data + p_g), 1/2 wherever the two densities agree."
    if close(got, optimal_discriminator(p_g, p_data)):
        return False, "upside down: D says 'real', so D* is the share of p_data, not of p_g."
    return False, "not yet: maximise a log y + b log(1 - y) over y; the maximum is at y = a / (a + b)."


@exercise_check("Jensen-Shannon divergence on a grid")
def check_js_divergence(jsd_fn):
    """``jsd_fn(p, q, dx)`` must return JSD(p || q) in nats from densities on an even grid."""
    from .theory import js_divergence_on_grid, kl_divergence_on_grid

    x = np.linspace(-10, 10, 2001)
    dx = x[1] - x[0]
    for mu, sigma in ((1.0, 1.0), (3.0, 0.5), (0.0, 2.0)):
        p = np.exp(-0.5 * x**2) / np.sqrt(2 * np.pi)
        q = np.exp(-0.5 * ((x - mu) / sigma) ** 2) / (sigma * np.sqrt(2 * np.pi))
        got, expected = float(call(jsd_fn, p, q, dx)), js_divergence_on_grid(p, q, dx)
        if not close(got, expected, rtol=1e-3):
            m = (p + q) / 2
            if close(got, 2 * expected, rtol=1e-3):
                return False, "you forgot the 1/2 in front of each KL term."
            if close(got, expected / np.log(2), rtol=1e-3):
                return False, "you measured in bits (log base 2); the course uses nats (natural log)."
            if close(got, kl_divergence_on_grid(p, m, dx), rtol=1e-3):
                return False, "that is KL(p || m) alone; JSD averages KL(p || m) and KL(q || m)."
            return False, f"for N(0, 1) against N({mu}, {sigma}^2) expected {expected:.4f}, got {got:.4f}."
    return True, "correct: JSD = (KL(p || m) + KL(q || m)) / 2 with m the average density; at most log 2."


# --- lessons 06-07 ---------------------------------------------------------------------------

@exercise_check("Mode coverage by hand")
def check_mode_coverage(coverage_fn):
    """``coverage_fn(samples, centres, stds)`` must return (modes captured, fraction of high-quality samples)."""
    from .distributions import GaussianMixture
    from .coverage import mode_coverage

    rng = np.random.default_rng(6)
    for trial in range(5):
        k = int(rng.integers(3, 9))
        centres = rng.uniform(-5, 5, size=(k, 2))
        stds = rng.uniform(0.1, 0.5, size=k)
        dist = GaussianMixture(centres, stds, np.full(k, 1 / k))
        picks = rng.integers(0, k - 1, size=400)  # the last mode gets no samples
        samples = centres[picks] + stds[picks, None] * rng.normal(scale=1.6, size=(400, 2))
        expected = mode_coverage(samples, dist)
        got = call(coverage_fn, samples, centres, stds)
        n_captured, high_quality = int(got[0]), float(got[1])
        if n_captured != expected.n_captured or not close(high_quality, expected.high_quality):
            all_modes = len(set(dist.nearest_mode(samples)[0].tolist()))
            hint = (" You counted the nearest modes of all samples; count only high-quality ones."
                    if n_captured == all_modes != expected.n_captured else "")
            return False, (f"on test {trial + 1} expected {expected.n_captured} modes and "
                           f"{expected.high_quality:.3f} high quality, got {n_captured} and {high_quality:.3f}."
                           f"{hint} A sample is high quality when |x - mu_k| <= 3 sigma_k for its nearest mode k.")
    return True, "correct: your coverage agrees with gan_lessons.coverage.mode_coverage on 5 random mixtures."


@exercise_check("Packing for PacGAN")
def check_pack(pack_fn):
    """``pack_fn(x, m)`` must turn (B * m, d) samples into (B, m * d) packs of consecutive samples."""
    x = torch.arange(24.0).reshape(12, 2)
    expected = x.reshape(4, 6)  # rows: samples 0-2, 3-5, 6-8, 9-11
    got = torch.as_tensor(call(pack_fn, x, 3))
    if tuple(got.shape) != (4, 6):
        return False, f"12 samples of size 2 in packs of 3 give shape (4, 6), got {tuple(got.shape)}"
    if torch.equal(got, expected):
        return True, "correct: each row is 3 consecutive samples side by side."
    if torch.equal(got, x.reshape(3, 4, 2).transpose(0, 1).reshape(4, 6)):
        return False, "your packs take every 4th sample (0, 4, 8); pack consecutive samples (0, 1, 2)."
    return False, "not yet: pack j should be [x_{3j}, x_{3j+1}, x_{3j+2}] concatenated."


@exercise_check("High-quality share of perfect samples")
def check_perfect_high_quality(answer):
    """``answer``: the fraction of samples of a 1-D Gaussian within 3 standard deviations of its mean."""
    from scipy.stats import norm

    expected = norm.cdf(3) - norm.cdf(-3)
    if close(float(answer), expected, rtol=1e-3):
        return True, (f"correct: {expected:.4f}. A perfect 1-D generator scores about 99.7 % high quality; "
                      "a score above that means samples packed tighter than the data.")
    if close(float(answer), 1 - np.exp(-4.5), rtol=1e-3):
        return False, "that is the 2-D answer (chi with 2 degrees of freedom); in 1-D it is P(|t| <= 3), t ~ N(0, 1)."
    return False, f"not yet: it is P(-3 <= t <= 3) for t ~ N(0, 1); you gave {float(answer):.4f}."


# --- lesson 05 ------------------------------------------------------------------------------

@exercise_check("D's gradient with respect to its logits")
def check_d_logit_gradient(grad_fn):
    """``grad_fn(a, t, m)`` must return dL_D/da = (sigmoid(a) - t) / m for the stacked batch of 2m logits."""
    gen = torch.Generator().manual_seed(5)
    m = 7
    a = (3 * torch.randn(2 * m, generator=gen, dtype=torch.float64)).requires_grad_(True)
    t = torch.cat([torch.ones(m, dtype=torch.float64), torch.zeros(m, dtype=torch.float64)])
    loss = torch.nn.functional.softplus(-a[:m]).mean() + torch.nn.functional.softplus(a[m:]).mean()
    (expected,) = torch.autograd.grad(loss, a)
    got = torch.as_tensor(call(grad_fn, a.detach(), t, m), dtype=torch.float64)
    if got.shape != expected.shape:
        return False, f"return one value per logit: expected shape {tuple(expected.shape)}, got {tuple(got.shape)}"
    if close(got, expected):
        return True, "correct: it matches autograd on L_D = mean softplus(-a_real) + mean softplus(a_fake)."
    if close(got, expected * m):
        return False, "right shape of the formula; divide by m, since L_D averages over each minibatch."
    if close(got, -expected):
        return False, "the sign is flipped: L_D decreases when real logits grow, so dL/da is negative there."
    return False, "not yet: for a real logit -log sigmoid(a) has derivative sigmoid(a) - 1; for a fake one, sigmoid(a)."


@exercise_check("Losses at the equilibrium")
def check_equilibrium_losses(answer):
    """``answer``: the pair (L_D, L_G) at D = 1/2 everywhere, with the non-saturating L_G."""
    l_d, l_g = (float(v) for v in answer)
    if close(l_d, np.log(4), rtol=1e-3) and close(l_g, np.log(2), rtol=1e-3):
        return True, "correct: L_D = -log(1/2) - log(1/2) = log 4 ≈ 1.386 and L_G = -log(1/2) = log 2 ≈ 0.693."
    if close(l_d, np.log(2), rtol=1e-3):
        return False, "L_D adds two terms, one for the real and one for the fake minibatch: log 2 + log 2."
    if close(l_g, -np.log(2), rtol=1e-3):
        return False, "that L_G is the minimax loss log(1 - D); the non-saturating one is -log D."
    return False, f"not yet: put D = 1/2 into L_D = -log D(x) - log(1 - D(G(z))) and L_G = -log D(G(z)); you gave ({l_d:.3f}, {l_g:.3f})."


@exercise_check("Restarting a stalled generator")
def check_stalled_generator_fix(answer):
    """``answer``: the lab control that gives G a large gradient where D rejects its samples."""
    if answer == "g_loss":
        return True, ("correct: switching to the non-saturating loss -log D(G(z)) gives dL/da = -(1 - D(G(z))) ≈ -1 "
                      "where the minimax loss gives -D(G(z)) ≈ 0; both have the same fixed point.")
    if answer in ("d_steps", "lr_d"):
        return False, ("weakening D helps a little, but the minimax gradient -D(G(z)) stays small as long as D "
                       "rejects the fakes; which control changes the formula of G's gradient itself?")
    if answer in ("g_steps", "lr_g", "batch_size"):
        return False, "more or bigger steps of a near-zero gradient are still near zero (with SGD); look at G's loss."
    return False, f"choose one of 'd_steps', 'g_steps', 'lr_d', 'lr_g', 'g_loss', 'batch_size'; got {answer!r}."


# --- lessons 08-11: MNIST ---------------------------------------------------------------------

@exercise_check("Pixels to [-1, 1]")
def check_symmetric_scale(fn):
    """Lesson 08: uint8 images (N, 28, 28) to floats (N, 1, 28, 28) in [-1, 1]."""
    images = torch.tensor([0, 51, 255], dtype=torch.uint8).repeat(3, 262)[:, :784].reshape(3, 28, 28)
    out = call(fn, images)
    want = images.double().div(255).mul(2).sub(1).unsqueeze(1)
    out = torch.as_tensor(out).double()
    if tuple(out.shape) != tuple(want.shape):
        return False, f"expected shape {tuple(want.shape)} (N, 1, 28, 28 for MNIST), got {tuple(out.shape)}"
    if not close(out, want, rtol=1e-5, atol=1e-6):
        return False, "0 should map to -1, 255 to 1, and 51 to -0.6: x / 255 * 2 - 1"
    return True, "0 → -1, 255 → 1: the range of G's tanh output."


@exercise_check("Parameters of the source generator")
def check_source_g_parameters(answer):
    """Lesson 08: the number of weights and biases of the source generator."""
    want = 128 * 256 + 256 + 256 * 784 + 784
    if float(answer) == want:
        return True, f"{want:,}: each linear layer has in × out weights plus out biases."
    if float(answer) == 128 * 256 + 256 * 784:
        return False, "close: add the biases, one per output unit of each layer"
    return False, "count in × out weights plus out biases for 128 → 256 and 256 → 784"


@exercise_check("Share of each digit")
def check_digit_shares(fn):
    """Lesson 08: the share of samples the classifier reads as each digit."""
    rng = np.random.default_rng(0)
    probs = rng.dirichlet(np.ones(10) * 0.3, size=500)
    want = np.bincount(probs.argmax(1), minlength=10) / 500
    out = _array(call(fn, probs))
    if out.shape != (10,):
        return False, f"return one share per digit, shape (10,), got {out.shape}"
    if not close(out, want):
        return False, "take each row's most probable digit (argmax), count them, divide by the number of rows"
    return True, "each sample counts once, for the digit the classifier finds most probable."


@exercise_check("A transposed convolution's output size")
def check_conv_transpose_size(fn):
    """Lesson 09: the output side of a transposed convolution."""
    cases = [((7, 4, 2, 1), 14), ((14, 4, 2, 1), 28), ((1, 7, 1, 0), 7), ((5, 3, 2, 0), 11)]
    for (size, kernel, stride, padding), want in cases:
        got = call(fn, size, kernel, stride, padding)
        if float(got) != want:
            return False, (f"size={size}, kernel={kernel}, stride={stride}, padding={padding} gives {want}, "
                           f"not {got}: (size - 1) * stride - 2 * padding + kernel")
    return True, "(size - 1) · stride − 2 · padding + kernel, the inverse of a convolution's size rule."


@exercise_check("Spherical interpolation")
def check_slerp(fn):
    """Lesson 10: spherical interpolation between two noise vectors."""
    rng = np.random.default_rng(1)
    z0, z1 = rng.normal(size=16), rng.normal(size=16)
    omega = np.arccos(np.dot(z0, z1) / (np.linalg.norm(z0) * np.linalg.norm(z1)))
    for t in (0.0, 0.3, 1.0):
        want = (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
        got = _array(call(fn, torch.tensor(z0), torch.tensor(z1), t))
        if got.shape != want.shape or not close(got, want, rtol=1e-5, atol=1e-8):
            return False, (f"at t = {t} expected sin((1-t)Ω)/sin Ω · z0 + sin(tΩ)/sin Ω · z1 "
                           "with cos Ω = z0·z1 / (|z0| |z1|)")
    return True, "slerp follows the great circle, so its points keep a typical Gaussian norm."


@exercise_check("The classifier score by hand")
def check_classifier_score(fn):
    """Lesson 11: the Inception-style score from (N, 10) probabilities."""
    rng = np.random.default_rng(2)
    probs = rng.dirichlet(np.ones(10), size=200)
    marginal = probs.mean(0)
    want = float(np.exp(np.mean(np.sum(probs * (np.log(probs) - np.log(marginal)), 1))))
    got = float(call(fn, probs))
    if not close(got, want, rtol=1e-6):
        return False, f"expected {want:.4f}, got {got:.4f}: exp of the mean over x of KL(p(y|x) || p(y))"
    return True, f"{want:.4f}: the exponential of the mean KL between p(y|x) and the marginal p(y)."


@exercise_check("The Frechet distance in one dimension")
def check_frechet_1d(fn):
    """Lesson 11: the Frechet distance between two 1-D Gaussians."""
    cases = [((0.0, 1.0, 0.0, 1.0), 0.0), ((1.0, 1.0, 3.0, 1.0), 4.0), ((0.0, 4.0, 0.0, 1.0), 1.0),
             ((2.0, 9.0, -1.0, 4.0), 10.0)]
    for (m1, v1, m2, v2), want in cases:
        got = float(call(fn, m1, v1, m2, v2))
        if not close(got, want, rtol=1e-6, atol=1e-9):
            return False, (f"means {m1}, {m2} and variances {v1}, {v2} give {want}, not {got:.4g}: "
                           "(m1 - m2)² + v1 + v2 - 2 √(v1 v2)")
    return True, "(m1 − m2)² + (σ1 − σ2)²: the formula's trace term is (σ1 − σ2)² in one dimension."
