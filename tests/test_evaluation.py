"""Lesson 11's measurements: generate_unit against generators whose output is known, and
evaluate_samples / real_references against direct calls of ``metrics``.

Everything runs on tiny fake generators and random uint8 images made here; MNIST is never
read and nothing is trained.
"""
import numpy as np
import pytest
import torch
from fakes import LabelEchoG
from torch import nn

from gan_lessons import metrics
from gan_lessons.classifier import ClassifierConfig, MnistClassifier
from gan_lessons.data import MnistSplits
from gan_lessons.evaluation import comparison_size, evaluate_samples, generate_unit, real_references

pytestmark = pytest.mark.usefixtures("one_thread")


# --- fake generators whose output is known ---------------------------------------------------

class LinearG(nn.Module):
    """G(z) = scale * tanh(z W) (or z W without tanh), as (B, 784): each pixel computable by hand."""

    def __init__(self, latent_dim=4, scale=1.0, squash=True, image_shape=(784,)):
        super().__init__()
        self.latent_dim = latent_dim
        self.weight = nn.Parameter(torch.randn(latent_dim, 784, generator=torch.Generator().manual_seed(3)))
        self.scale, self.squash, self.image_shape = scale, squash, image_shape

    def sample_z(self, n, generator=None):
        return torch.randn(n, self.latent_dim, generator=generator)

    def forward(self, z):
        h = z @ self.weight
        return (self.scale * (torch.tanh(h) if self.squash else h)).reshape(len(z), *self.image_shape)


def expected_linear(G, n, seed, lo, hi):
    """LinearG's samples mapped to [0, 1] by hand: the same noise, (x - lo) / (hi - lo), clipped."""
    z = torch.randn(n, G.latent_dim, generator=torch.Generator().manual_seed(seed))
    with torch.no_grad():
        x = G(z).reshape(n, 1, 28, 28)
    return ((x - lo) / (hi - lo)).clamp(0, 1)


@pytest.mark.parametrize("lo, hi", [(-1.0, 1.0), (0.0, 1.0), (-3.0, 5.0)])
def test_generate_unit_maps_pixel_range_to_unit_interval(lo, hi):
    G = LinearG(scale=(hi - lo) / 2)  # tanh times half the width, shifted below: inside (lo, hi)
    G.forward = lambda z, base=G.forward: base(z) + (lo + hi) / 2
    x = generate_unit(G, 12, pixel_range=(lo, hi), seed=5)
    assert x.shape == (12, 1, 28, 28)
    assert x.min() >= 0 and x.max() <= 1
    torch.testing.assert_close(x, expected_linear(G, 12, 5, lo, hi))
    assert x.min() < 0.2 and x.max() > 0.8  # the map spreads over [0, 1], not a constant


def test_generate_unit_known_constants():
    class ConstantG(LinearG):
        def forward(self, z):
            return torch.full((len(z), 1, 28, 28), 0.5)
    G = ConstantG()
    assert torch.all(generate_unit(G, 3) == 0.75)  # (0.5 + 1) / 2
    assert torch.all(generate_unit(G, 3, pixel_range=(0, 1)) == 0.5)
    assert torch.all(generate_unit(G, 3, pixel_range=(0, 2)) == 0.25)


def test_generate_unit_clips_outputs_outside_the_range():
    G = LinearG(squash=False, scale=3.0)  # outputs far beyond [-1, 1]
    x = generate_unit(G, 8, seed=1)
    assert x.min() == 0 and x.max() == 1
    torch.testing.assert_close(x, expected_linear(G, 8, 1, -1.0, 1.0))


@pytest.mark.parametrize("shape", [(784,), (1, 28, 28), (28, 28)])
def test_generate_unit_accepts_flat_or_image_outputs(shape):
    x = generate_unit(LinearG(image_shape=shape), 5)
    assert x.shape == (5, 1, 28, 28)
    torch.testing.assert_close(x, generate_unit(LinearG(), 5))


def test_generate_unit_conditional_passes_labels_cyclically():
    G = LabelEchoG()
    x = generate_unit(G, 23, conditional=True, pixel_range=(0.0, 9.0))
    assert x.shape == (23, 1, 28, 28)
    labels = torch.arange(23) % 10
    torch.testing.assert_close(x, (labels.float() / 9)[:, None, None, None].expand(23, 1, 28, 28))
    # unconditional: G gets no labels (LabelEchoG then returns -1, i.e. 0 on [-1, 1])
    assert torch.all(generate_unit(G, 4) == 0)


def test_generate_unit_is_reproducible_for_a_seed():
    G = LinearG()
    a, b = generate_unit(G, 6, seed=7), generate_unit(G, 6, seed=7)
    assert torch.equal(a, b)
    assert not torch.allclose(a, generate_unit(G, 6, seed=8))


def test_generate_unit_rejects_bad_n():
    with pytest.raises(ValueError, match="n"):
        generate_unit(LinearG(), 0)


# --- evaluate_samples and real_references ----------------------------------------------------

def make_splits(n_train=60, n_valid=20, n_test=30, seed=0) -> MnistSplits:
    gen = torch.Generator().manual_seed(seed)

    def part(n):
        return (torch.randint(0, 256, (n, 28, 28), generator=gen, dtype=torch.uint8),
                torch.randint(0, 10, (n,), generator=gen))
    (tr, trl), (va, val), (te, tel) = part(n_train), part(n_valid), part(n_test)
    return MnistSplits(tr, trl, va, val, te, tel, source="fake", note="random images for tests")


@pytest.fixture(scope="module")
def splits():
    return make_splits()


@pytest.fixture(scope="module")
def samples():
    """40 noise images of random brightness, pixels in [0, 1]."""
    gen = torch.Generator().manual_seed(1)
    return torch.rand(40, 1, 1, 1, generator=gen) * torch.rand(40, 1, 28, 28, generator=gen)


@pytest.fixture(scope="module")
def classifier(samples):
    """An untrained, seeded classifier with a random head centred on the samples' features.

    Untrained, it would read every noise image as the same digit; the centred head spreads
    the samples over eight digits (digit 0 gets 2.5 %, digit 3 none), so the score and the
    shares are not trivial. 16 features keep the covariances of 30-40 images well estimated.
    """
    torch.manual_seed(0)
    model = MnistClassifier(ClassifierConfig(channels=(4, 8), feature_dim=16)).eval()
    with torch.no_grad():
        h = model.features(samples)
        model.head.weight.copy_(torch.randn(10, 16) / h.std(0).clamp_min(1e-3))
        model.head.bias.copy_(-model.head.weight @ h.mean(0))
    return model


def by_hand(model, x):
    """The classifier's softmax and features, computed here without ``classify``."""
    with torch.no_grad():
        h = model.features(torch.as_tensor(x).float().reshape(-1, 1, 28, 28))
        return torch.softmax(model.head(h), 1).double().numpy(), h.double().numpy()


def unit_flat(images):
    return (images.double() / 255).reshape(len(images), 784).numpy()


def assert_same_measures(a, b):
    assert a.keys() == b.keys()
    for key in a:
        if key == "parzen":
            assert (a[key] is None) == (b[key] is None)
            if a[key] is not None:
                assert a[key].sigma == b[key].sigma
                assert a[key].mean == pytest.approx(b[key].mean, rel=1e-9)
                assert a[key].std_error == pytest.approx(b[key].std_error, rel=1e-9)
        else:
            np.testing.assert_allclose(np.asarray(a[key], float), np.asarray(b[key], float), rtol=1e-9)


def test_evaluate_samples_matches_direct_metric_calls(samples, classifier, splits):
    out = evaluate_samples(samples, classifier, splits)
    assert set(out) == {"n", "classifier_score", "frechet", "parzen", "precision", "recall",
                        "digit_share", "digits_covered"}
    n = comparison_size(splits)
    assert n == 20 and out["n"] == 20  # as many as the validation images, not all 40 samples
    probs, feats = by_hand(classifier, samples[:n])
    _, test_feats = by_hand(classifier, unit_flat(splits.test_images))

    score = metrics.classifier_score(probs, n_splits=10)
    assert score.mean > 1.5 and score.std > 0  # the samples are spread over several digits
    assert out["classifier_score"][0] == pytest.approx(score.mean, rel=1e-5)
    assert out["classifier_score"][1] == pytest.approx(score.std, rel=1e-4, abs=1e-9)

    frechet = metrics.frechet_distance_from_features(feats, test_feats)
    assert frechet > 0
    assert out["frechet"] == pytest.approx(frechet, rel=1e-4)
    _, all_feats = by_hand(classifier, samples)
    assert out["frechet"] != pytest.approx(metrics.frechet_distance_from_features(all_feats, test_feats), rel=1e-3)

    pr = metrics.precision_recall(test_feats, feats, k=3)  # the first n fakes against every test image
    assert pr != metrics.precision_recall(test_feats, all_feats, k=3)  # so using all 40 would be caught
    assert (out["precision"], out["recall"]) == pytest.approx((pr.precision, pr.recall))

    # Parzen uses every sample given, as its protocol does
    parzen = metrics.parzen_evaluate(samples.reshape(40, 784).numpy(), unit_flat(splits.valid_images),
                                     unit_flat(splits.test_images))
    assert out["parzen"].sigma == parzen.sigma
    assert out["parzen"].n_valid == 20 and out["parzen"].n_test == 30 and out["parzen"].n_samples == 40
    assert out["parzen"].mean == pytest.approx(parzen.mean, rel=1e-6)
    assert out["parzen"].std_error == pytest.approx(parzen.std_error, rel=1e-5)


def test_an_explicit_n_compares_that_many_samples(samples, classifier, splits):
    out = evaluate_samples(samples, classifier, splits, n=33, parzen=False)
    _, feats = by_hand(classifier, samples[:33])
    _, test_feats = by_hand(classifier, unit_flat(splits.test_images))
    assert out["n"] == 33
    assert out["frechet"] == pytest.approx(metrics.frechet_distance_from_features(feats, test_feats), rel=1e-4)


@pytest.mark.parametrize("n, match", [(41, r"at least n = 41 images.*got 40"), (10, r"n must be"),
                                      (2.5, r"n must be")])
def test_too_few_samples_or_a_bad_n_is_refused(samples, classifier, splits, n, match):
    with pytest.raises(ValueError, match=match):
        evaluate_samples(samples, classifier, splits, n=n, parzen=False)


def test_fewer_samples_than_the_comparison_size_are_refused(samples, classifier, splits):
    with pytest.raises(ValueError, match=r"at least n = 20 images, so that every set is compared at the same size"):
        evaluate_samples(samples[:19], classifier, splits, parzen=False)


def test_digit_share_counts_argmax_and_covered_uses_three_percent(samples, classifier, splits):
    out = evaluate_samples(samples, classifier, splits, n=40, parzen=False)
    probs, _ = by_hand(classifier, samples)
    share = np.asarray(out["digit_share"])
    assert share.shape == (10,)
    assert share.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(share, np.bincount(probs.argmax(1), minlength=10) / 40)
    assert out["digits_covered"] == int(np.sum(share >= 0.03))
    assert 0 < share.min(where=share > 0, initial=1) < 0.03  # a share below the threshold is not covered
    assert 2 < out["digits_covered"] < 10


def test_digits_covered_with_a_known_classifier(splits):
    """A classifier whose logit k is pixel k: light pixel k to make a sample read as digit k."""
    model = MnistClassifier()
    model.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 128, bias=False))
    with torch.no_grad():
        model.body[1].weight.copy_(torch.eye(128, 784))
        model.head.weight.copy_(torch.eye(10, 128))
        model.head.bias.zero_()
    digits = [0] * 50 + [1] * 30 + [2] * 3 + [3] * 2 + [4] * 15  # 100 samples
    x = torch.zeros(100, 784)
    x[torch.arange(100), torch.tensor(digits)] = 1.0
    out = evaluate_samples(x, model, splits, n=100, parzen=False)
    np.testing.assert_allclose(out["digit_share"], [0.5, 0.3, 0.03, 0.02, 0.15, 0, 0, 0, 0, 0])
    assert out["digits_covered"] == 4  # digit 2's 3 % counts, digit 3's 2 % does not


def test_given_test_features_are_used(samples, classifier, splits):
    _, test_feats = by_hand(classifier, unit_flat(splits.test_images))
    assert_same_measures(evaluate_samples(samples, classifier, splits, test_features=test_feats),
                         evaluate_samples(samples, classifier, splits))
    # other features change the Frechet distance to what metrics gives for those features
    _, other = by_hand(classifier, unit_flat(splits.train_images[:30]))
    _, feats = by_hand(classifier, samples[:20])
    out = evaluate_samples(samples, classifier, splits, test_features=other, parzen=False)
    assert out["frechet"] == pytest.approx(metrics.frechet_distance_from_features(feats, other), rel=1e-4)
    assert out["frechet"] != pytest.approx(metrics.frechet_distance_from_features(feats, test_feats), rel=1e-3)


def test_parzen_false_gives_none_and_leaves_the_rest(samples, classifier, splits):
    without = evaluate_samples(samples, classifier, splits, parzen=False)
    assert without["parzen"] is None
    with_parzen = evaluate_samples(samples, classifier, splits)
    assert isinstance(with_parzen["parzen"], metrics.ParzenResult)
    with_parzen["parzen"] = None
    assert_same_measures(without, with_parzen)


def test_flat_and_numpy_samples_give_the_same_measures(samples, classifier, splits):
    assert_same_measures(evaluate_samples(samples.reshape(40, 784).numpy(), classifier, splits, parzen=False),
                         evaluate_samples(samples, classifier, splits, parzen=False))


@pytest.mark.parametrize("shift", [lambda x: 2 * x - 1, lambda x: x + 0.5, lambda x: x * 255])
def test_samples_outside_unit_interval_are_rejected(samples, classifier, splits, shift):
    with pytest.raises(ValueError, match=r"\[0, 1\].*\(x \+ 1\) / 2"):
        evaluate_samples(shift(samples), classifier, splits, parzen=False)


def test_real_references_are_the_held_out_and_training_images_at_the_same_size(classifier, splits):
    refs = real_references(classifier, splits)
    assert list(refs) == ["real held-out images", "real training images"]
    held_out, train = refs["real held-out images"], refs["real training images"]
    assert held_out["n"] == train["n"] == comparison_size(splits) == 20
    assert_same_measures(held_out, evaluate_samples((splits.valid_images.float() / 255).unsqueeze(1), classifier,
                                                    splits, parzen=False))
    assert held_out["parzen"] is None  # sigma is chosen on these images
    # the training images in a seeded random order: the first 20 of it for every measure but Parzen,
    # which takes all 60 (fewer than 10,000)
    order = torch.randperm(60, generator=torch.Generator().manual_seed(0))
    real = (splits.train_images[order].float() / 255).unsqueeze(1)
    assert_same_measures(train, evaluate_samples(real, classifier, splits))
    _, feats = by_hand(classifier, real[:20])
    _, first = by_hand(classifier, (splits.train_images[:20].float() / 255).unsqueeze(1))
    assert train["frechet"] != pytest.approx(metrics.frechet_distance_from_features(first, by_hand(
        classifier, unit_flat(splits.test_images))[1]), rel=1e-3)  # not simply the first 20
    other = real_references(classifier, splits, parzen=False, seed=1)["real training images"]
    assert other["frechet"] != pytest.approx(train["frechet"], rel=1e-3)
    _, test_feats = by_hand(classifier, unit_flat(splits.test_images))
    assert train["frechet"] == pytest.approx(metrics.frechet_distance_from_features(feats, test_feats), rel=1e-4)
    assert train["parzen"].n_samples == 60
    assert real_references(classifier, splits, parzen=False)["real training images"]["parzen"] is None


def test_real_references_take_at_most_the_parzen_protocols_10000_images_for_parzen():
    torch.manual_seed(1)
    classifier = MnistClassifier(ClassifierConfig(channels=(1, 2), feature_dim=8)).eval()  # 10,000 images: tiny
    big = make_splits(n_train=10_005, seed=2)
    out = real_references(classifier, big)["real training images"]
    assert out["n"] == 20 and out["parzen"].n_samples == 10_000
    order = torch.randperm(10_005, generator=torch.Generator().manual_seed(0))[:10_000]
    expected = metrics.parzen_evaluate(unit_flat(big.train_images[order]), unit_flat(big.valid_images),
                                       unit_flat(big.test_images))
    assert out["parzen"].mean == pytest.approx(expected.mean, rel=1e-6)


def test_real_references_refuse_too_few_training_images(classifier):
    with pytest.raises(ValueError, match=r"at least n = 20 training images, got 15"):
        real_references(classifier, make_splits(n_train=15), parzen=False)


@pytest.mark.parametrize("bad", [(0, 0), (1, -1), (0, 1, 2), "ab"])
def test_generate_unit_refuses_a_bad_pixel_range(bad):
    with pytest.raises(ValueError, match="pixel_range"):
        generate_unit(LinearG(), 4, pixel_range=bad)


def test_too_few_validation_images_for_the_comparison_size_are_refused(samples, classifier):
    with pytest.raises(ValueError, match=r"at least 11 validation images, the size every set is compared at, got 8"):
        evaluate_samples(samples, classifier, make_splits(n_valid=8), parzen=False)
    out = evaluate_samples(samples, classifier, make_splits(n_valid=8), n=12, parzen=False)  # an explicit n is fine
    assert out["n"] == 12


def test_lesson_samples_train_a_quarter_budget_until_the_lessons_checkpoint_exists(tmp_path, monkeypatch):
    from gan_lessons import mnist_gan
    from gan_lessons.evaluation import lesson_samples

    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    splits = make_splits(n_train=200)
    full = mnist_gan.RECIPES["mlp_source"].num_iterations
    x, from_lesson, iterations = lesson_samples("mlp_source", splits, 7, seed=3)
    assert not from_lesson and iterations == full // 4
    assert x.shape == (7, 1, 28, 28) and 0 <= x.min() and x.max() <= 1
    G, *_ = mnist_gan.run_recipe("mlp_source", splits, full // 4, progress=False, note=False)  # loads that run
    torch.testing.assert_close(x, generate_unit(G, 7, pixel_range=mnist_gan.RECIPES["mlp_source"].pixel_range,
                                                seed=3))
    mnist_gan.run_recipe("mlp_source", splits, progress=False, note=False)  # the lesson's own run, full budget
    _, from_lesson, iterations = lesson_samples("mlp_source", splits, 7)
    assert from_lesson and iterations == full
    with pytest.raises(ValueError, match="name must be one of"):
        lesson_samples("gan", splits, 3)
