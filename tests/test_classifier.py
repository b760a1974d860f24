"""The MNIST classifier: shapes, classify against softmax by hand, accuracy by counting, training, load-or-train.

Everything runs on tiny fake images made here; MNIST is never read.
"""
import numpy as np
import pytest
import torch
from fakes import lit_pixel_images, pixel_classifier

from gan_lessons import classifier
from gan_lessons.classifier import ClassifierConfig, MnistClassifier, accuracy, classify
from gan_lessons.data import MnistSplits

SMALL = ClassifierConfig(channels=(4, 8), feature_dim=16)  # fast to train in tests

pytestmark = pytest.mark.usefixtures("one_thread")


def make_model(seed=0, config=None):
    torch.manual_seed(seed)
    return MnistClassifier(config)


def halves(n_per_class: int, seed: int = 0):
    """Three easy classes of 28x28 images in [0, 1]: bright left half, right half, top half, plus noise."""
    g = torch.Generator().manual_seed(seed)
    x = 0.2 * torch.rand(3 * n_per_class, 1, 28, 28, generator=g)
    y = torch.arange(3).repeat_interleave(n_per_class)
    x[y == 0, :, :, :14] += 0.8
    x[y == 1, :, :, 14:] += 0.8
    x[y == 2, :, :14, :] += 0.8
    return x, y


# -- the network ----------------------------------------------------------------------------


def test_shapes_and_both_input_layouts_agree():
    model = make_model().eval()
    x = torch.rand(5, 1, 28, 28)
    logits, feats = model(x), model.features(x)
    assert logits.shape == (5, 10) and feats.shape == (5, 128)
    assert torch.equal(model(x.reshape(5, 784)), logits)
    # the logits are the head applied to the features, and the features are ReLU outputs
    assert torch.allclose(logits, feats @ model.head.weight.T + model.head.bias, atol=1e-6)
    assert (feats >= 0).all()


# -- classify -------------------------------------------------------------------------------


def test_classify_equals_softmax_of_the_logits_computed_directly():
    model = make_model().eval()
    x = torch.rand(7, 1, 28, 28)
    probs, feats = classify(model, x)
    assert probs.dtype == np.float64 and feats.dtype == np.float64
    assert probs.shape == (7, 10) and feats.shape == (7, 128)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)
    with torch.no_grad():
        expected = torch.exp(model(x)) / torch.exp(model(x)).sum(1, keepdim=True)
        np.testing.assert_allclose(probs, expected.double().numpy(), atol=1e-6)
        np.testing.assert_allclose(feats, model.features(x).double().numpy(), atol=1e-6)


def test_classify_in_batches_equals_one_pass():
    model = make_model()
    x = torch.rand(8, 784)
    whole_p, whole_f = classify(model, x)
    batched_p, batched_f = classify(model, x, batch_size=3)  # 3 + 3 + 2
    np.testing.assert_allclose(batched_p, whole_p, atol=1e-6)
    np.testing.assert_allclose(batched_f, whole_f, atol=1e-5)


def test_uint8_input_is_read_as_pixels_over_255():
    model = make_model()
    u = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    p_uint8, f_uint8 = classify(model, u)
    p_float, f_float = classify(model, u.numpy().astype(np.float64) / 255.0)  # numpy input too
    np.testing.assert_allclose(p_uint8, p_float, atol=1e-6)
    np.testing.assert_allclose(f_uint8, f_float, atol=1e-5)


def test_symmetric_pixel_range_matches_unit_range():
    model = make_model()
    x = torch.rand(4, 1, 28, 28)
    p_unit, f_unit = classify(model, x)
    p_sym, f_sym = classify(model, 2 * x - 1, pixel_range=(-1.0, 1.0))
    np.testing.assert_allclose(p_sym, p_unit, atol=1e-6)
    np.testing.assert_allclose(f_sym, f_unit, atol=1e-5)
    # black in tanh's range (-1) is black in the unit range (0)
    p_black, _ = classify(model, -torch.ones(1, 784), pixel_range=(-1.0, 1.0))
    np.testing.assert_allclose(p_black, classify(model, torch.zeros(1, 784))[0], atol=1e-6)


@pytest.mark.parametrize("bad", [float("nan"), float("inf")])
def test_non_finite_images_are_refused(bad):
    x = torch.rand(3, 784)
    x[1, 5] = bad
    with pytest.raises(ValueError, match="finite"):
        classify(make_model(), x)


@pytest.mark.parametrize("shape", [(3, 100), (2, 27, 28), (0, 784)])
def test_wrongly_sized_float_images_are_refused(shape):
    with pytest.raises(ValueError, match=r"28x28.*" + str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")):
        classify(make_model(), torch.rand(shape))


@pytest.mark.parametrize("shape", [(2, 10, 10), (0, 28, 28)])
def test_wrongly_sized_uint8_images_are_refused(shape):
    with pytest.raises(ValueError, match="28x28"):
        classify(make_model(), torch.zeros(shape, dtype=torch.uint8))


def test_three_channel_images_are_refused():
    with pytest.raises(ValueError, match="28x28"):
        classify(make_model(), torch.rand(2, 3, 28, 28))


@pytest.mark.parametrize("pixel_range", [(1.0, 0.0), (0.5, 0.5), (float("nan"), 1.0)])
def test_bad_pixel_range_is_refused(pixel_range):
    with pytest.raises(ValueError, match=r"pixel_range.*high > low"):
        classify(make_model(), torch.rand(2, 784), pixel_range=pixel_range)


def test_pixel_range_of_three_numbers_is_refused_by_name():
    with pytest.raises(ValueError, match="pixel_range"):
        classify(make_model(), torch.rand(2, 784), pixel_range=(0.0, 1.0, 2.0))


@pytest.mark.parametrize("batch_size", [0, -1, 2.5])
def test_bad_batch_size_is_refused(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        classify(make_model(), torch.rand(2, 784), batch_size=batch_size)


@pytest.mark.parametrize("training", [True, False])
def test_classify_runs_in_eval_mode_and_restores_the_mode(training):
    model = make_model().train(training)
    seen = []
    model.head.register_forward_pre_hook(lambda m, args: seen.append(m.training))
    classify(model, torch.rand(5, 784), batch_size=2)
    assert seen == [False, False, False]  # three batches, all in eval mode
    assert model.training is training
    assert all(m.training is training for m in model.modules())


def test_mode_is_restored_even_when_the_forward_pass_fails():
    model = make_model().train()

    def boom(module, args):
        raise RuntimeError("boom")
    model.head.register_forward_pre_hook(boom)
    with pytest.raises(RuntimeError, match="boom"):
        classify(model, torch.rand(2, 784))
    assert model.training


# -- accuracy -------------------------------------------------------------------------------


def test_pixel_classifier_reads_the_lit_pixel():
    probs, _ = classify(pixel_classifier(), lit_pixel_images([4, 0, 9, 9]))
    assert probs.argmax(1).tolist() == [4, 0, 9, 9]
    # one logit of 1 and nine of 0: p = e / (e + 9)
    np.testing.assert_allclose(probs.max(1), np.e / (np.e + 9), rtol=1e-6)


def test_accuracy_equals_the_hand_count():
    predicted = [3, 1, 4, 1, 5, 9, 2, 6]
    labels = [3, 1, 4, 0, 5, 0, 0, 6]  # 5 of 8 agree
    model = pixel_classifier()
    assert accuracy(model, lit_pixel_images(predicted), torch.tensor(labels)) == pytest.approx(5 / 8)
    assert accuracy(model, lit_pixel_images(predicted), np.array(predicted), batch_size=3) == 1.0
    assert accuracy(model, lit_pixel_images(predicted), [7] * 8) == 0.0


@pytest.mark.parametrize("labels", [torch.zeros(4, 1, dtype=torch.long), torch.zeros(3, dtype=torch.long),
                                    torch.zeros(5, dtype=torch.long)])
def test_accuracy_refuses_labels_of_the_wrong_shape(labels):
    with pytest.raises(ValueError, match=r"labels must have shape \(4,\)"):
        accuracy(pixel_classifier(), lit_pixel_images([0, 1, 2, 3]), labels)


# -- training -------------------------------------------------------------------------------


def test_train_classifier_learns_an_easy_task_and_counts_its_epochs():
    x, y = halves(70)  # 210 images
    model = make_model(config=SMALL)
    out = classifier.train_classifier(model, x, y, num_iterations=40, batch_size=32, lr=3e-3, seed=1)
    assert out["iterations"] == 40
    assert out["epochs"] == pytest.approx(40 * 32 / 210, abs=0.01)  # images drawn / N
    assert set(out) >= {"iterations", "epochs", "seconds", "final_loss"}
    assert not model.training
    x_new, y_new = halves(30, seed=9)  # fresh images it never saw
    assert accuracy(model, x_new, y_new) >= 0.95
    assert np.isfinite(out["final_loss"]) and out["final_loss"] > 0


def test_same_seed_gives_identical_weights_and_the_global_rng_is_untouched():
    x, y = halves(10)
    a, b, c = make_model(1, SMALL), make_model(2, SMALL), make_model(3, SMALL)  # different initial weights
    state = torch.get_rng_state()
    classifier.train_classifier(a, x, y, num_iterations=3, batch_size=8, seed=5)
    assert torch.equal(torch.get_rng_state(), state)
    classifier.train_classifier(b, x, y, num_iterations=3, batch_size=8, seed=5)
    classifier.train_classifier(c, x, y, num_iterations=3, batch_size=8, seed=6)
    sa, sb, sc = a.state_dict(), b.state_dict(), c.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    assert not all(torch.equal(sa[k], sc[k]) for k in sa)


def test_train_classifier_refuses_bad_arguments():
    x, y = halves(2)
    model = make_model(config=SMALL)
    with pytest.raises(ValueError, match="num_iterations"):
        classifier.train_classifier(model, x, y, num_iterations=0)
    with pytest.raises(ValueError, match=r"labels must have shape \(6,\)"):
        classifier.train_classifier(model, x, y[:5], num_iterations=1)


# -- load or train --------------------------------------------------------------------------


def fake_splits(source="fake", seed=0) -> MnistSplits:
    g = torch.Generator().manual_seed(seed)

    def part(n):
        return (torch.randint(0, 256, (n, 28, 28), dtype=torch.uint8, generator=g),
                torch.randint(0, 10, (n,), generator=g))
    return MnistSplits(*part(16), *part(4), *part(12), source=source, note="fake splits for tests")


def test_load_or_train_trains_once_then_loads(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    splits = fake_splits()
    model, meta = classifier.load_or_train_classifier(splits, num_iterations=2, progress=False, verbose=False)
    path = tmp_path / "mnist_classifier_fake_quick.pt"
    assert [p.name for p in tmp_path.iterdir()] == [path.name]
    assert not model.training
    assert meta["iterations"] == 2 and meta["source"] == "fake" and meta["n_test"] == 12
    # the test accuracy is measured on the test images, by counting
    probs, _ = classify(model, splits.test_images)
    hand = sum(int(p.argmax() == t) for p, t in zip(probs, splits.test_labels.tolist())) / 12
    assert meta["test_accuracy"] == pytest.approx(hand)

    def no_training(*args, **kwargs):
        raise AssertionError("a saved classifier must be loaded, not trained")
    monkeypatch.setattr(classifier, "train_classifier", no_training)
    loaded, loaded_meta = classifier.load_or_train_classifier(splits, progress=False, verbose=False)
    assert not loaded.training
    assert loaded_meta == meta
    assert np.array_equal(classify(loaded, splits.test_images)[0], probs)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), loaded.state_dict().values()))


def test_retrain_replaces_the_checkpoint(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    path = tmp_path / "judge.pt"
    splits = fake_splits()
    calls = []
    real_train = classifier.train_classifier

    def counted(*args, **kwargs):
        calls.append(args[3])
        return real_train(*args, **kwargs)
    monkeypatch.setattr(classifier, "train_classifier", counted)
    kwargs = {"path": path, "progress": False, "verbose": False}
    classifier.load_or_train_classifier(splits, num_iterations=1, **kwargs)
    classifier.load_or_train_classifier(splits, num_iterations=1, **kwargs)
    assert calls == [1]
    new_model, new_meta = classifier.load_or_train_classifier(splits, num_iterations=2, retrain=True, **kwargs)
    assert calls == [1, 2] and new_meta["iterations"] == 2
    again, again_meta = classifier.load_or_train_classifier(splits, **kwargs)
    assert calls == [1, 2] and again_meta["iterations"] == 2
    assert all(torch.equal(a, b) for a, b in zip(new_model.state_dict().values(), again.state_dict().values()))


def test_full_mode_checkpoint_has_no_quick_suffix(tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path))
    monkeypatch.setenv("GAN_LESSONS_QUICK", "0")
    classifier.load_or_train_classifier(fake_splits(source="test"), num_iterations=1, progress=False,
                                        verbose=False)
    assert [p.name for p in tmp_path.iterdir()] == ["mnist_classifier_test.pt"]


def test_verbose_says_where_the_weights_came_from(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("GAN_LESSONS_QUICK", "1")
    path = tmp_path / "c.pt"
    classifier.load_or_train_classifier(fake_splits(), path=path, num_iterations=1, progress=False)
    assert "trained" in capsys.readouterr().out
    classifier.load_or_train_classifier(fake_splits(), path=path, progress=False)
    out = capsys.readouterr().out
    assert "loaded from" in out and str(path) in out
