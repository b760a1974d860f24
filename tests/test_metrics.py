"""Image measures (classifier score, Frechet distance, Parzen, neighbours, precision and recall)
against scipy, closed forms and hand-made cases."""
import tracemalloc

import numpy as np
import pytest
import torch
from scipy import linalg, stats
from scipy.spatial.distance import cdist
from scipy.special import logsumexp

from gan_lessons import metrics


def test_classifier_score_extremes():
    one_hot = np.eye(10)[np.arange(50) % 10]  # confident, spread evenly over ten classes
    assert metrics.classifier_score(one_hot).mean == pytest.approx(10.0)
    constant = np.tile([0.7, 0.2, 0.1, 0.0], (8, 1))  # one prediction for every image
    assert metrics.classifier_score(constant) == pytest.approx((1.0, 0.0))
    probs = np.random.default_rng(0).dirichlet(np.full(10, 0.3), size=200)
    assert 1.0 < metrics.classifier_score(probs).mean < 10.0


def test_classifier_score_against_scipy_entropy():
    probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.5, 0.3], [0.0, 0.0, 1.0], [0.25, 0.25, 0.5]])
    p_y = probs.mean(axis=0)
    expected = np.exp(np.mean([stats.entropy(p, p_y) for p in probs]))
    assert metrics.classifier_score(torch.tensor(probs, dtype=torch.float32)).mean == pytest.approx(
        expected, rel=1e-5)


def test_classifier_score_splits_give_mean_and_std():
    # First half: one-hot over ten classes (score 10); second half: one prediction (score 1).
    probs = np.concatenate([np.eye(10), np.tile(np.full(10, 0.1), (10, 1))])
    mean, std = metrics.classifier_score(probs, n_splits=2)
    assert (mean, std) == pytest.approx((5.5, 4.5))
    assert str(metrics.classifier_score(probs, n_splits=2)) == "5.50 ± 4.50"


def test_frechet_distance_closed_forms():
    # 1-D: (m1 - m2)^2 + (s1 - s2)^2.
    assert metrics.frechet_distance([1.0], [[4.0]], [-2.0], [[0.25]]) == pytest.approx(9 + 1.5**2)
    # Diagonal (commuting) covariances: ||m1 - m2||^2 + sum_i (sqrt(a_i) - sqrt(b_i))^2.
    a, b = np.array([1.0, 4.0, 9.0, 0.5]), np.array([2.0, 1.0, 9.0, 3.0])
    m1, m2 = np.array([0.0, 1.0, 2.0, 3.0]), np.array([1.0, 1.0, 0.0, 3.0])
    expected = np.sum((m1 - m2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    assert metrics.frechet_distance(m1, np.diag(a), torch.tensor(m2), torch.tensor(np.diag(b))) == \
        pytest.approx(expected)


def test_frechet_distance_non_commuting_against_eigenvalues():
    # Tr (C1 C2)^(1/2) is the sum of the square roots of C1 C2's (real, >= 0) eigenvalues.
    rng = np.random.default_rng(1)
    c1, c2 = [x @ x.T / 5 for x in rng.standard_normal((2, 5, 5))]
    mu1, mu2 = rng.standard_normal((2, 5))
    expected = (np.sum((mu1 - mu2) ** 2) + np.trace(c1) + np.trace(c2)
                - 2 * np.sum(np.sqrt(np.clip(np.linalg.eigvals(c1 @ c2).real, 0, None))))
    assert metrics.frechet_distance(mu1, c1, mu2, c2) == pytest.approx(expected, rel=1e-8)


def test_gaussian_fit_and_features_distance():
    mu, cov = metrics.gaussian_fit([[0, 0], [2, 0], [0, 2], [2, 2]])
    assert mu.tolist() == [1.0, 1.0] and np.allclose(cov, np.diag([4 / 3, 4 / 3]))
    feats = np.random.default_rng(2).standard_normal((200, 6))
    assert metrics.frechet_distance_from_features(feats, feats) == pytest.approx(0.0, abs=1e-8)
    shifted = feats + [3.0, 0, 0, 0, 0, 0]  # same covariance, mean moved by 3
    assert metrics.frechet_distance_from_features(feats, shifted) == pytest.approx(9.0, rel=1e-6)


def test_frechet_distance_rank_deficient_features():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((6, 40)), rng.standard_normal((8, 40)) + 0.3  # rank 5 and 7 in 40-D
    a[:, :10] = 0.0  # dead units: zero variance
    value = metrics.frechet_distance_from_features(a, b)
    assert np.isfinite(value) and value > 0
    assert metrics.frechet_distance_from_features(a, a) == pytest.approx(0.0, abs=1e-6)


def test_frechet_distance_guards(monkeypatch):
    real_sqrtm, calls = linalg.sqrtm, []

    def nan_first(a):  # a failing first square root triggers the eps retry
        calls.append(a.copy())
        return np.full_like(a, np.nan) if len(calls) == 1 else real_sqrtm(a)

    monkeypatch.setattr(metrics, "sqrtm", nan_first)
    c = np.diag([1.0, 0.0])
    assert metrics.frechet_distance([0, 0], c, [0, 0], c, eps=0.01) == pytest.approx(0.0, abs=1e-12)
    assert len(calls) == 2 and np.allclose(calls[1], np.diag([1.01**2, 0.01**2]))
    monkeypatch.setattr(metrics, "sqrtm", lambda a: real_sqrtm(a) + 0.5j)
    with pytest.raises(ValueError, match="imaginary"):
        metrics.frechet_distance([0, 0], np.eye(2), [1, 0], np.eye(2))


def _parzen_scipy(x, samples, sigma):
    """log (1/k) sum_i N(x; s_i, sigma^2 I), with scipy's multivariate normal."""
    d = samples.shape[1]
    logpdf = np.array([[stats.multivariate_normal(s, sigma**2 * np.eye(d)).logpdf(xi) for s in samples]
                       for xi in x])
    return logsumexp(logpdf, axis=1) - np.log(len(samples))


def test_parzen_matches_scipy_and_batching():
    rng = np.random.default_rng(4)
    x, samples = rng.uniform(size=(7, 3)), rng.uniform(size=(23, 3))
    expected = _parzen_scipy(x, samples, 0.2)
    whole = metrics.parzen_log_likelihood(x, samples, 0.2, batch_size=1000)
    assert np.allclose(whole, expected, rtol=1e-10)
    assert np.allclose(metrics.parzen_log_likelihood(x, samples, 0.2, batch_size=3), whole, rtol=1e-12)
    images = torch.tensor(samples.reshape(23, 1, 3, 1), dtype=torch.float32)  # flattened like pixels
    assert np.allclose(metrics.parzen_log_likelihood(x, images, 0.2), expected, rtol=1e-5)


def test_parzen_far_points_stay_finite():
    # Every exponent is about -5e5: a naive sum of exp would underflow to log(0).
    x, samples = np.zeros((2, 1)), np.array([[100.0], [101.0]])
    ll = metrics.parzen_log_likelihood(x, samples, 0.1, batch_size=1)
    assert np.allclose(ll, _parzen_scipy(x, samples, 0.1))


def test_select_parzen_sigma_hand_made():
    # One sample at 0, validation points at +-0.5: mean LL(sigma) = -0.5^2/(2 sigma^2) - log(2 pi sigma^2)/2,
    # largest at sigma = 0.5.
    sigmas = [0.1, 0.25, 0.5, 1.0, 2.0]
    best, table = metrics.select_parzen_sigma([[0.0]], [[0.5], [-0.5]], sigmas=sigmas)
    assert best == 0.5 and list(table) == sigmas
    closed = [-0.125 / s**2 - 0.5 * np.log(2 * np.pi * s**2) for s in sigmas]
    assert np.allclose(list(table.values()), closed)
    default_best, default_table = metrics.select_parzen_sigma([[0.0]], [[0.5], [-0.5]])
    assert np.allclose(list(default_table), np.logspace(-1, 0, 10))
    assert default_best == pytest.approx(0.4641588834)  # the best point of the default grid


def test_parzen_evaluate_reports_mean_and_standard_error():
    rng = np.random.default_rng(5)
    samples, x_valid, x_test = rng.uniform(size=(50, 4)), rng.uniform(size=(20, 4)), rng.uniform(size=(30, 4))
    result = metrics.parzen_evaluate(samples, x_valid, x_test, sigmas=[0.05, 0.2, 0.8], batch_size=16)
    best, table = metrics.select_parzen_sigma(samples, x_valid, sigmas=[0.05, 0.2, 0.8])
    ll = _parzen_scipy(x_test, samples, best)
    assert result.sigma == best and result.table == table
    assert result.mean == pytest.approx(ll.mean())
    assert result.std_error == pytest.approx(np.std(ll, ddof=1) / np.sqrt(30))
    assert str(result) == (f"{ll.mean():.1f} ± {result.std_error:.1f} nats (sigma = {best:.2f} "
                           "on 20 validation images, 50 samples)")
    assert metrics.PUBLISHED_PARZEN_MNIST["Adversarial nets"] == (225, 2)


def test_parzen_memory_does_not_grow_with_the_data():
    rng = np.random.default_rng(6)
    x, samples = rng.uniform(size=(1000, 8)), rng.uniform(size=(10000, 8))  # full matrix: 80 MB
    tracemalloc.start()
    try:
        ll = metrics.parzen_log_likelihood(x, samples, 0.3, batch_size=500)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 500**2 * 8  # a few 2 MB blocks: 20 MB, a quarter of the full matrix
    assert np.allclose(ll[:5], metrics.parzen_log_likelihood(x[:5], samples, 0.3, batch_size=10000))


def test_nearest_neighbours_against_brute_force():
    rng = np.random.default_rng(7)
    queries, refs = rng.standard_normal((13, 5)), rng.standard_normal((40, 5))
    idx, dist = metrics.nearest_neighbours(queries, refs, k=4, batch_size=6)
    full = cdist(queries, refs)
    expected = np.argsort(full, axis=1)[:, :4]
    assert idx.dtype == np.int64 and idx.shape == dist.shape == (13, 4)
    assert (idx == expected).all()
    assert np.allclose(dist, np.take_along_axis(full, expected, axis=1))
    idx1, _ = metrics.nearest_neighbours(torch.tensor(refs[[5, 17]]).reshape(2, 1, 5), refs)
    assert idx1[:, 0].tolist() == [5, 17]


def _precision_recall_brute(real, fake, k):
    """The definition of Kynkäänniemi et al. with full distance matrices."""
    r_real = np.sort(cdist(real, real), axis=1)[:, k]
    r_fake = np.sort(cdist(fake, fake), axis=1)[:, k]
    return ((cdist(fake, real) <= r_real).any(1).mean(), (cdist(real, fake) <= r_fake).any(1).mean())


def test_precision_recall_hand_made_cases():
    real = np.array([[0.0], [1.0], [2.0], [10.0], [11.0]])  # k = 1 radii: all 1
    fake = np.array([[0.4], [1.0], [20.0], [21.0]])         # k = 1 radii: 0.6, 0.6, 1, 1
    # Fakes 0.4 and 1.0 lie in real balls; 20 and 21 do not. Reals 0 and 1 lie in fake balls.
    assert metrics.precision_recall(real, fake, k=1) == pytest.approx((0.5, 0.4))
    rng = np.random.default_rng(8)
    points = rng.standard_normal((30, 3))
    assert metrics.precision_recall(points, points, batch_size=7) == (1.0, 1.0)
    assert metrics.precision_recall(points, points + 100.0) == (0.0, 0.0)
    # Fake covers one of two equal real clusters: every fake is real-looking, half the reals are covered.
    two_clusters = np.concatenate([points, points + 50.0])
    assert metrics.precision_recall(two_clusters, points + 0.01) == pytest.approx((1.0, 0.5))


def test_precision_recall_against_brute_force():
    rng = np.random.default_rng(9)
    real, fake = rng.standard_normal((60, 4)), 0.7 * rng.standard_normal((45, 4)) + 0.5
    result = metrics.precision_recall(torch.tensor(real), fake, k=3, batch_size=8)
    assert result == pytest.approx(_precision_recall_brute(real, fake, 3))
    assert 0 < result.precision < 1 and 0 < result.recall < 1


@pytest.mark.parametrize("call, match", [
    (lambda: metrics.classifier_score(np.full((4, 3), 0.5)), "probs must be probabilities"),
    (lambda: metrics.classifier_score([[1.2, -0.2]]), "probs must be probabilities"),
    (lambda: metrics.classifier_score(np.ones(3)), "probs must have shape"),
    (lambda: metrics.classifier_score([[np.nan, 1.0]]), "probs must be finite"),
    (lambda: metrics.classifier_score(np.eye(3), n_splits=4), "n_splits"),
    (lambda: metrics.gaussian_fit(np.ones((1, 5))), "features must hold at least 2 rows"),
    (lambda: metrics.frechet_distance_from_features(np.ones((3, 2)), np.ones((1, 2))), "features_b"),
    (lambda: metrics.frechet_distance_from_features(np.ones((3, 2)), np.ones((3, 3))), "columns"),
    (lambda: metrics.frechet_distance([0, 0], np.eye(3), [0, 0], np.eye(2)), "cov1 must have shape"),
    (lambda: metrics.frechet_distance([0, 0], np.eye(2), [0, 0, 0], np.eye(3)), "same dimension"),
    (lambda: metrics.frechet_distance([0, np.inf], np.eye(2), [0, 0], np.eye(2)), "mu1 must be finite"),
    (lambda: metrics.frechet_distance([0, 0], np.eye(2), [0, 0], [[1, 2], [0, 1]]), "cov2 must be symmetric"),
    (lambda: metrics.frechet_distance([0, 0], -np.eye(2), [0, 0], np.eye(2)), "cov1 must be positive"),
    (lambda: metrics.frechet_distance([0], [[1]], [0], [[1]], eps=0), "eps"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((2, 3)), np.zeros((4, 3)), 0.0), "sigma"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((2, 3)), np.zeros((4, 2)), 0.1), "x and samples"),
    (lambda: metrics.parzen_log_likelihood(np.zeros((2, 3)), np.zeros((4, 3)), 0.1, batch_size=0),
     "batch_size"),
    (lambda: metrics.parzen_log_likelihood([[np.nan]], [[0.0]], 0.1), "x must be finite"),
    (lambda: metrics.select_parzen_sigma(np.zeros((4, 3)), np.zeros((2, 3)), sigmas=[0.1, -1]), "sigmas"),
    (lambda: metrics.parzen_evaluate(np.zeros((4, 3)), np.zeros((2, 3)), np.zeros((1, 3))), "x_test"),
    (lambda: metrics.nearest_neighbours(np.zeros((2, 3)), np.zeros((4, 3)), k=0), "k must be"),
    (lambda: metrics.nearest_neighbours(np.zeros((2, 3)), np.zeros((4, 3)), k=5), "k must be"),
    (lambda: metrics.nearest_neighbours(np.zeros(3), np.zeros((4, 3))), "queries must have shape"),
    (lambda: metrics.precision_recall(np.zeros((5, 2)), np.zeros((5, 2)), k=0), "k must be"),
    (lambda: metrics.precision_recall(np.zeros((5, 2)), np.zeros((3, 2)), k=3), "k must be smaller"),
    (lambda: metrics.precision_recall(np.zeros((5, 2)), "abc", k=1), "fake_features"),
])
def test_image_metrics_bad_inputs_raise(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_mean_pairwise_distance_matches_a_loop_over_pairs():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(7, 3))
    pairs = [np.sqrt(((x[i] - x[j]) ** 2).sum()) for i in range(7) for j in range(i + 1, 7)]
    assert metrics.mean_pairwise_distance(x) == pytest.approx(np.mean(pairs), rel=1e-12)
    assert metrics.mean_pairwise_distance(np.ones((5, 2))) == 0.0  # one prototype drawn again and again
    with pytest.raises(ValueError, match="at least 2"):
        metrics.mean_pairwise_distance(x[:1])
