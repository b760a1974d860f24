"""finite_sample: the Fréchet distance's dependence on the number of images, against closed forms,
hand computations and Monte Carlo."""
import numpy as np
import pytest

from gan_lessons import metrics
from gan_lessons.finite_sample import expected_mean_term, extrapolate_frechet, frechet_by_size, frechet_terms

pytestmark = pytest.mark.usefixtures("one_thread")

RNG = np.random.default_rng(0)
A = RNG.normal(size=(60, 5)) * [1, 2, 0.5, 1, 3]
B = RNG.normal(size=(80, 5)) + 0.3


def test_terms_add_up_to_the_distance_and_the_mean_term_is_the_squared_gap():
    mean_term, trace_term = frechet_terms(A, B)
    gap = A.mean(0) - B.mean(0)
    assert mean_term == pytest.approx(float(np.sum(gap ** 2)), rel=1e-12)
    assert mean_term + trace_term == pytest.approx(metrics.frechet_distance_from_features(A, B), rel=1e-12)
    assert trace_term > 0  # the covariances differ


def test_expected_mean_term_matches_monte_carlo():
    cov_a, cov_b = np.diag([1.0, 4.0, 0.25]), np.array([[2.0, 0.5, 0], [0.5, 1.0, 0], [0, 0, 3.0]])
    mu_a, mu_b = np.zeros(3), np.array([0.5, -0.5, 0.0])
    rng = np.random.default_rng(1)
    n_a, n_b, draws = 7, 12, 20_000
    ma = rng.multivariate_normal(mu_a, cov_a, size=(draws, n_a)).mean(1)
    mb = rng.multivariate_normal(mu_b, cov_b, size=(draws, n_b)).mean(1)
    sq = np.sum((ma - mb) ** 2, axis=1)
    expected = expected_mean_term(np.trace(cov_a), np.trace(cov_b), n_a, n_b, mean_gap_sq=0.5)
    assert expected == pytest.approx(0.5 + 5.25 / 7 + 6.0 / 12)
    assert abs(sq.mean() - expected) < 4 * sq.std() / np.sqrt(draws)


def test_frechet_by_size_is_the_mean_over_seeded_random_subsets():
    out = frechet_by_size(A, B, [10, 30], repeats=3, seed=4)
    rng = np.random.default_rng(4)
    for i, n in enumerate((10, 30)):
        values = [metrics.frechet_distance_from_features(A[rng.choice(60, n, replace=False)], B) for _ in range(3)]
        assert out["mean"][i] == pytest.approx(np.mean(values), rel=1e-12)
        assert out["std"][i] == pytest.approx(np.std(values), rel=1e-12)
    assert out["sizes"].tolist() == [10, 30]
    whole = frechet_by_size(A, B, [60], repeats=2)  # every row: no randomness left
    assert whole["std"][0] == pytest.approx(0, abs=1e-9)
    assert whole["mean"][0] == pytest.approx(metrics.frechet_distance_from_features(A, B), rel=1e-9)


def test_subsampling_the_reference_draws_n_of_it_too():
    out = frechet_by_size(A, B, [20], repeats=1, seed=2, subsample_reference=True)
    rng = np.random.default_rng(2)
    sub = A[rng.choice(60, 20, replace=False)]
    ref = B[rng.choice(80, 20, replace=False)]
    assert out["mean"][0] == pytest.approx(metrics.frechet_distance_from_features(sub, ref), rel=1e-12)
    with pytest.raises(ValueError, match=r"sizes must be .* from 2 to 60"):
        frechet_by_size(A, B, [70], subsample_reference=True)


def test_same_distribution_shrinks_like_one_over_n_and_extrapolates_to_zero():
    rng = np.random.default_rng(3)
    pool_a, pool_b = rng.normal(size=(4000, 4)), rng.normal(size=(4000, 4))
    sizes = [100, 200, 400, 1000, 2000]
    out = frechet_by_size(pool_a, pool_b, sizes, repeats=10, subsample_reference=True)
    assert np.all(np.diff(out["mean"]) < 0)
    a, b = extrapolate_frechet(out["sizes"], out["mean"])
    assert abs(a) < 0.1 * out["mean"][0]  # the intercept: the true distance, 0, up to noise
    assert b > 0


def test_extrapolation_recovers_the_distance_of_the_whole_pools():
    """Subsets of two fixed pools: as n grows the distance tends to the pools' own, which the fit finds."""
    rng = np.random.default_rng(6)
    shift = np.array([1.0, 0.0, 0.0, 0.0])
    pool_a, pool_b = rng.normal(size=(6000, 4)), rng.normal(size=(6000, 4)) * np.sqrt(2.0) + shift
    whole = metrics.frechet_distance_from_features(pool_a, pool_b)
    true = metrics.frechet_distance(np.zeros(4), np.eye(4), shift, np.eye(4) * 2.0)
    assert whole == pytest.approx(true, abs=0.1)  # 6,000 points each: near the true distance
    out = frechet_by_size(pool_a, pool_b, [100, 200, 500, 1000, 3000], repeats=30, subsample_reference=True)
    a, b = extrapolate_frechet(out["sizes"], out["mean"])
    assert out["mean"][0] > out["mean"][-1] + 0.1 and b > 0  # biased upwards at n = 100
    assert a == pytest.approx(whole, abs=0.05)


def test_extrapolation_is_exact_on_a_plus_b_over_n():
    sizes = np.array([50, 100, 400, 1000])
    assert extrapolate_frechet(sizes, 3.0 + 250.0 / sizes) == pytest.approx((3.0, 250.0), rel=1e-10)


@pytest.mark.parametrize("kwargs, match", [
    ({"sizes": [1]}, r"sizes must be"), ({"sizes": [2.5]}, r"sizes must be"), ({"sizes": []}, r"sizes must be"),
    ({"sizes": [61]}, r"sizes must be .* from 2 to 60"), ({"sizes": [10], "repeats": 0}, r"repeats must be"),
    ({"sizes": [10], "seed": -1}, r"seed must be"),
])
def test_frechet_by_size_refuses_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        frechet_by_size(A, B, **kwargs)


def test_bad_input_elsewhere_is_refused():
    with pytest.raises(ValueError, match="same number of columns"):
        frechet_terms(A, B[:, :3])
    with pytest.raises(ValueError, match="trace_cov_a must be a finite number >= 0"):
        expected_mean_term(-1.0, 1.0, 5, 5)
    with pytest.raises(ValueError, match="n_b must be"):
        expected_mean_term(1.0, 1.0, 5, 0)
    with pytest.raises(ValueError, match="two or more distinct sizes"):
        extrapolate_frechet([100, 100], [1.0, 2.0])
    with pytest.raises(ValueError, match="equally long"):
        extrapolate_frechet([100, 200], [1.0])


def test_intercept_standard_error_matches_scipy_linregress():
    from scipy.stats import linregress

    from gan_lessons.finite_sample import intercept_standard_error

    sizes = np.array([100, 200, 300, 500, 700, 1000])
    values = 8.0 + 24_000 / sizes + np.array([3.0, -5.0, 2.0, 4.0, -1.0, -2.5])
    fit = linregress(1 / sizes, values)
    assert intercept_standard_error(sizes, values) == pytest.approx(fit.intercept_stderr, rel=1e-9)
    assert extrapolate_frechet(sizes, values) == pytest.approx((fit.intercept, fit.slope), rel=1e-9)
    assert intercept_standard_error(sizes, 8.0 + 24_000 / sizes) == pytest.approx(0, abs=1e-9)  # on the line
    with pytest.raises(ValueError, match="three or more distinct sizes"):
        intercept_standard_error([100, 200], [1.0, 2.0])
