"""Malformed arguments to the learner-facing functions: each gets a ValueError naming the argument.

One table per module: (function, keyword arguments, a regex the message must match). The
regex starts with the argument's name, so a test fails if the error is raw (TypeError,
RuntimeError, IndexError, KeyError, AttributeError) or does not say which argument is wrong.
"""
import io
from contextlib import redirect_stdout

import numpy as np
import pytest
import torch

from gan_lessons import (
    classifier,
    conditional,
    coverage,
    distributions,
    evaluation,
    exercises,
    losses,
    metrics,
    mnist_gan,
    mode_experiments,
    models,
    plots,
    remedies,
    theory,
    train,
)
from gan_lessons.data import MnistSplits

NAN = float("nan")
BIMODAL = distributions.mixture_1d([-2.0, 2.0], [0.5, 0.5])
RING = distributions.ring_2d()


def small_pair(dim=1):
    return (models.MLPGenerator(latent_dim=2, hidden_dims=(8,), out_dim=dim),
            models.MLPDiscriminator(in_dim=dim, hidden_dims=(8,)))


G1, D1 = small_pair()
COND_G = models.ConditionalMLPGenerator(latent_dim=2, hidden_dims=(4,), n_classes=3)
CONV_G, CONV_D = models.ConvGenerator(g_width=4, latent_dim=3), models.ConvDiscriminator(d_width=2)
JUDGE = classifier.MnistClassifier()
UINT8 = torch.zeros(4, 28, 28, dtype=torch.uint8)
SPLITS = MnistSplits(UINT8, torch.zeros(4, dtype=torch.long), UINT8, torch.zeros(4, dtype=torch.long), UINT8,
                     torch.zeros(4, dtype=torch.long), source="fake", note="")


def fitted_logistic():
    return models.LogisticRegression().fit(np.random.default_rng(0).normal(size=(6, 2)), [0, 1] * 3)


def trainer(**kwargs):
    G, D = small_pair()
    return train.GANTrainer(G, D, BIMODAL, **{"device": "cpu", "batch_size": 8, **kwargs})


MODELS = [
    (models.GeneratorConfig, {"hidden_dims": 5}, r"hidden_dims must be a tuple of widths"),
    (models.GeneratorConfig, {"hidden_dims": (8, 0)}, r"hidden_dims\[1\] must be between 1"),
    (models.GeneratorConfig, {"out_dim": 4, "out_shape": (-2, -2)}, r"out_shape\[0\] must be between 1"),
    (models.GeneratorConfig, {"out_dim": 4, "out_shape": 4}, r"out_shape must be a tuple of sizes"),
    (models.GeneratorConfig, {"activation": "gelu"}, r"activation must be one of"),
    (models.MLPGenerator, {"config": "small"}, r"config must be a GeneratorConfig, got str"),
    (models.MLPGenerator, {"hidden": (8,)}, r"GeneratorConfig has no setting 'hidden'"),
    (models.MLPDiscriminator, {"config": models.GeneratorConfig()}, r"config must be a DiscriminatorConfig"),
    (lambda **kw: G1(**kw), {"z": torch.zeros(3, 5)}, r"z must have shape \(B, 2\), got \(3, 5\)"),
    (lambda **kw: G1(**kw), {"z": np.zeros((3, 2))}, r"z must be a torch tensor"),
    (lambda **kw: G1(**kw), {"z": torch.zeros(3, 2, dtype=torch.float64)}, r"z must be torch.float32"),
    (lambda **kw: D1(**kw), {"x": torch.zeros(3)}, r"x must have shape \(B, 1\).*reshape\(-1, 1\)"),
    (lambda **kw: D1.prob(**kw), {"x": torch.zeros(3, 4)}, r"x must have shape \(B, 1\)"),
    (lambda **kw: CONV_G(**kw), {"z": torch.zeros(2, 5)}, r"z must have shape \(B, 3\)"),
    (lambda **kw: CONV_D(**kw), {"x": torch.zeros(2, 100)}, r"x must have shape \(B, 784\)"),
    (lambda **kw: COND_G(torch.zeros(2, 2), **kw), {"labels": torch.tensor([0, 1, 2])},
     r"labels must have shape \(2,\)"),
    (lambda **kw: COND_G(torch.zeros(2, 2), **kw), {"labels": torch.tensor([0.5, 1.0])},
     r"labels must be integers in 0..2"),
    (lambda **kw: COND_G(torch.zeros(2, 2), **kw), {"labels": ["a", "b"]}, r"labels must be integers"),
    (models.count_parameters, {"module": "G"}, r"module must be a torch nn.Module"),
    (models.make_activation, {"name": "leaky_relu", "leaky_slope": "steep"}, r"leaky_slope must be a number"),
    (G1.sample_z, {"n": 3, "generator": 0}, r"generator must be a torch.Generator, e.g. utils.make_generator"),
    (G1.sample, {"n": 0}, r"n must be between 1"),
    (lambda **kw: models.LogisticRegression().fit(**kw), {"x": np.zeros(5), "y": np.zeros(5)},
     r"x must be a 2-D array, got shape \(5,\)"),
    (lambda **kw: models.LogisticRegression().fit(**kw), {"x": np.zeros((5, 2)), "y": np.zeros(4)},
     r"y must hold one label per row of x \(5\), got 4"),
    (lambda **kw: models.LogisticRegression().fit(**kw), {"x": np.full((4, 2), NAN), "y": np.zeros(4)},
     r"x must be finite"),
    (lambda **kw: models.LogisticRegression().fit(**kw), {"x": np.zeros((4, 2)), "y": [0, 1, 2, 1]},
     r"y must be 0/1 labels"),
    (lambda **kw: models.LogisticRegression().fit(np.zeros((4, 2)), [0, 1, 0, 1], **kw), {"lr": -1},
     r"lr must be in \(0"),
    (lambda **kw: fitted_logistic().predict_proba(**kw), {"x": np.zeros((2, 3))}, r"x must have 2 columns"),
    (lambda **kw: models.GaussianClassConditional().fit(**kw), {"x": np.zeros((6, 2)), "y": np.zeros(5)},
     r"y must hold one label per row of x"),
    (lambda **kw: models.GaussianClassConditional().fit(**kw), {"x": np.zeros((4, 2)), "y": [0.5] * 4},
     r"y must be integer class labels"),
]

LOSSES = [
    (losses.d_loss, {"d_real_logits": "high", "d_fake_logits": torch.zeros(2)}, r"d_real_logits must be numbers"),
    (losses.d_loss, {"d_real_logits": torch.zeros(2), "d_fake_logits": torch.zeros(0)},
     r"d_fake_logits must hold at least one value"),
    (losses.d_loss, {"d_real_logits": torch.zeros(2), "d_fake_logits": torch.zeros(2), "real_label": 2.0},
     r"real_label must be in \[0.5, 1.0\]"),
    (losses.generator_loss, {"d_fake_logits": None}, r"d_fake_logits must be numbers"),
    (losses.generator_loss, {"d_fake_logits": torch.zeros(2), "kind": "wasserstein"}, r"kind must be one of"),
    (losses.value_function, {"d_real_logits": torch.zeros(2), "d_fake_logits": [[1.0], [2.0, 3.0]]},
     r"d_fake_logits must be numbers"),
    (losses.acgan_g_loss, {"d_fake_logits": torch.zeros(2), "fake_class_logits": torch.zeros(2, 3),
                           "fake_labels": ["a", "b"]}, r"fake_labels must be integer class labels"),
    (losses.acgan_g_loss, {"d_fake_logits": torch.zeros(2), "fake_class_logits": torch.zeros(2, 3),
                           "fake_labels": torch.tensor([0, 5])}, r"fake_labels must be integers in 0..2"),
    (losses.acgan_d_loss, {"d_real_logits": torch.zeros(2), "d_fake_logits": torch.zeros(2),
                           "real_class_logits": torch.zeros(2), "real_labels": torch.zeros(2, dtype=torch.long),
                           "fake_class_logits": torch.zeros(2, 3), "fake_labels": torch.zeros(2, dtype=torch.long)},
     r"real_class_logits must have shape \(B, n_classes\)"),
]

THEORY = [
    (theory.optimal_discriminator, {"p_data": "a", "p_g": [1.0]}, r"p_data must be numbers"),
    (theory.optimal_discriminator, {"p_data": np.ones(3), "p_g": np.ones(4)}, r"p_data and p_g must have the same"),
    (theory.optimal_discriminator, {"p_data": [1.0], "p_g": [NAN]}, r"p_g must hold finite density values"),
    (theory.kl_divergence_on_grid, {"p": [], "q": [], "dx": 0.1}, r"p must hold at least 1 value"),
    (theory.js_divergence_on_grid, {"p": [1.0], "q": [1.0], "dx": 0}, r"dx must be in \(0"),
    (theory.value_function_on_grid, {"d": [NAN], "p_data": [1.0], "p_g": [1.0], "dx": 0.1, "logits": True},
     r"d must be finite"),
    (theory.kl_divergence_quad, {"p": BIMODAL, "q": BIMODAL, "lower": None, "upper": 1}, r"lower and upper must"),
    (theory.kl_divergence_quad, {"p": 3.0, "q": BIMODAL, "lower": -1, "upper": 1}, r"p must be a 1-D distribution"),
    (theory.js_divergence_quad, {"p": BIMODAL, "q": RING, "lower": -1, "upper": 1}, r"q: quadrature here is 1-D"),
    (theory.value_function_quad, {"d": 0.5, "p_data": BIMODAL, "p_g": BIMODAL, "lower": -1, "upper": 1},
     r"d must be a function"),
    (theory.gaussian_kl, {"mu_p": 0, "sigma_p": NAN, "mu_q": 0, "sigma_q": 1}, r"sigma_p must be finite"),
    (theory.gaussian_kl, {"mu_p": "zero", "sigma_p": 1, "mu_q": 0, "sigma_q": 1}, r"mu_p must be numbers"),
    (theory.gaussian_log_likelihood, {"x": [1.0], "mu": 0, "sigma": NAN}, r"sigma must be finite"),
    (theory.gaussian_log_likelihood, {"x": [], "mu": 0, "sigma": 1}, r"x must hold at least 1 value"),
    (theory.gaussian_mle, {"x": [NAN, 1.0]}, r"x must be finite"),
    (theory.forward_kl_gaussian, {"p": BIMODAL, "mu": NAN, "sigma": 1.0}, r"mu must be finite"),
    (theory.reverse_kl_gaussian, {"p": BIMODAL, "mu": 0.0, "sigma": -1.0}, r"sigma must be positive"),
    (theory.fit_gaussian_reverse_kl, {"p": BIMODAL, "mu0": 0.0}, r"give both mu0 and sigma0"),
    (theory.generator_logit_gradient, {"d_fake_logits": "a"}, r"d_fake_logits must be numbers"),
    (theory.bilinear_game, {"x0": 1, "y0": 1, "lr": 0.1, "num_rounds": -1}, r"num_rounds must be between 0"),
]

DISTRIBUTIONS = [
    (distributions.GaussianMixture, {"centres": "ab", "stds": [1], "weights": [1]}, r"centres must be numbers"),
    (distributions.GaussianMixture, {"centres": [[0.0]], "stds": [1], "weights": [0.5]}, r"weights must sum to 1"),
    (BIMODAL.log_prob, {"x": [NAN]}, r"x must be finite"),
    (BIMODAL.log_prob, {"x": np.zeros((3, 2))}, r"x must have shape \(n, 1\).*got \(3, 2\)"),
    (BIMODAL.grid, {"width": -1}, r"width must be in \(0"),
    (BIMODAL.sample, {"n": 3, "generator": 7}, r"generator must be a torch.Generator"),
    (BIMODAL.icdf, {"u": [0.0, 0.5]}, r"u must lie strictly between 0 and 1"),
    (distributions.gaussian_1d, {"mu": "a"}, r"mu must be a number"),
    (distributions.gaussian_1d, {"sigma": 0}, r"sigma must be in \(0"),
    (distributions.mixture_1d, {"means": [], "stds": []}, r"means must hold at least 1 value"),
    (distributions.ring_2d, {"radius": NAN}, r"radius must be finite"),
    (distributions.ring_2d, {"std": 0}, r"std must be in \(0"),
    (distributions.grid_2d, {"spacing": "a"}, r"spacing must be a number"),
    (distributions.EmpiricalDistribution, {"points": "abc"}, r"points must be numbers"),
    (distributions.as_distribution, {"data": None}, r"data must be a distribution"),
]

COVERAGE = [
    (coverage.mode_coverage, {"samples": np.zeros((3, 3)), "dist": RING}, r"samples must have shape \(n, 2\)"),
    (coverage.mode_coverage, {"samples": np.zeros((3, 2)), "dist": distributions.EmpiricalDistribution(
        np.zeros((3, 2)))}, r"dist must be a GaussianMixture with modes"),
    (coverage.generator_coverage, {"G": "G", "dist": RING}, r"G must be a torch nn.Module"),
    (coverage.coverage_table, {"runs": [{"dist": "ring"}]}, r"runs\[0\] lacks the key\(s\) 'method'"),
    (coverage.coverage_table, {"runs": 5}, r"runs must be a list of run dicts"),
    (coverage.summarise_runs, {"runs": []}, r"runs must hold at least one run"),
    (coverage.mode_reverse_kl, {"coverage": None}, r"coverage must be a ModeCoverage"),
    (mode_experiments.make_mode_trainer, {"method": "vae", "dist_name": "ring"}, r"method must be one of"),
    (mode_experiments.make_mode_trainer, {"method": "gan", "dist_name": "spiral"}, r"dist_name must be one of"),
    (mode_experiments.make_mode_trainer, {"method": "gan", "dist_name": "ring", "protocol": "mine"},
     r"protocol must be one of"),
    (mode_experiments.run_mode_experiment, {"method": "gan", "dist_name": "ring", "num_iterations": 0},
     r"num_iterations must be"),
    (remedies.adam_update, {"param": torch.zeros(1), "grad": torch.zeros(1), "exp_avg": torch.zeros(1),
                            "exp_avg_sq": torch.zeros(1), "step": 0, "lr": 0.1}, r"step must be"),
    (remedies.unrolled_generator_loss, {"D": D1, "G": G1, "d_opt": None, "x_real": torch.zeros(2, 1),
                                        "z": torch.zeros(2, 1), "unroll_steps": -1}, r"unroll_steps must be"),
]

METRICS = [    (metrics.classifier_score, {"probs": np.full((4, 2), 2.0)}, r"probs must be probabilities"),
    (metrics.frechet_distance_from_features, {"features_a": np.zeros((1, 2)), "features_b": np.zeros((3, 2))},
     r"features_a must hold at least 2 rows"),
    (metrics.nearest_neighbours, {"queries": np.zeros((2, 3)), "references": np.zeros((2, 4))},
     r"queries and references must have the same number of columns"),
    (metrics.precision_recall, {"real_features": np.zeros((5, 2)), "fake_features": np.zeros((5, 2)), "k": 9},
     r"k must be smaller than"),
    (metrics.parzen_log_likelihood, {"x": np.zeros((2, 2)), "samples": np.zeros((2, 2)), "sigma": 0},
     r"sigma must be in \(0"),
]

TRAIN = [
    (train.TrainConfig, {"betas": 0.5}, r"betas must be a pair"),
    (train.TrainConfig, {"lr_d": -1}, r"lr_d must be in \(0"),
    (trainer, {"lr": 1e-3}, r"'lr' is not a training setting; the settings are d_steps"),
    (trainer, {"config": "fast"}, r"config must be a TrainConfig"),
    (trainer, {"device": "gpu"}, r"device must be one of 'cpu', 'cuda', 'mps'"),
    (trainer, {"init_fn": 3}, r"init_fn must be a function"),
    (trainer, {"seed": -1}, r"seed must be between 0"),
    (lambda **kw: train.GANTrainer(device="cpu", **kw), {"generator": "G", "discriminator": D1, "data": BIMODAL},
     r"generator must be a torch nn.Module"),
    (lambda **kw: train.GANTrainer(G1, D1, device="cpu", **kw), {"data": None}, r"data must be a distribution"),
    (lambda **kw: train.GANTrainer(G1, D1, device="cpu", **kw), {"data": RING},
     r"data has 2-D samples, but the generator makes 1-D ones \(out_dim=1\)"),
    (lambda **kw: trainer().train(2, **kw), {"callback": 3}, r"callback must be a function"),
    (lambda **kw: trainer().train(**kw), {"num_iterations": -1}, r"num_iterations must be between 0"),
    (lambda **kw: train.d_step(D1, G1, x_real=torch.zeros(2, 1), z=torch.zeros(2, 2), **kw), {"d_opt": "adam"},
     r"d_opt must be a torch optimiser"),
    (lambda **kw: train.g_step(D1, G1, torch.optim.SGD(G1.parameters(), lr=0.1), torch.zeros(2, 2), **kw),
     {"loss": "hinge"}, r"loss must be one of"),
]

REMEDIES = [
    (remedies.pack, {"x": [1, 2], "m": 1}, r"x must be a torch tensor"),
    (remedies.pack, {"x": torch.zeros(5, 2), "m": 2}, r"x must hold a multiple of m = 2"),
    (remedies.PackedDiscriminator, {"discriminator": "D", "m": 2}, r"discriminator must be a torch nn.Module"),
    (remedies.gradient_penalty, {"D": D1, "x_real": torch.zeros(2, 1), "x_fake": torch.zeros(3, 1)},
     r"x_real and x_fake must have the same shape"),
    (remedies.gradient_penalty, {"D": D1, "x_real": torch.zeros(2, 1), "x_fake": torch.zeros(2, 1),
                                 "epsilon": torch.tensor([2.0, 3.0])}, r"epsilon must hold interpolation weights"),
    (remedies.gradient_penalty, {"D": D1, "x_real": torch.zeros(2, 1), "x_fake": torch.zeros(2, 1),
                                 "epsilon": [0.5]}, r"epsilon must have shape \(2,\)"),
    (remedies.wgan_critic_loss, {"d_real": "high", "d_fake": torch.zeros(2)}, r"d_real must be numbers"),
    (remedies.PacGANTrainer, {"generator": G1, "discriminator": D1, "data": BIMODAL, "m": 2},
     r"discriminator.in_dim must be m \* sample size"),
]

CONDITIONAL = [
    (conditional.sample_grid_labels, {"n_per_class": 0}, r"n_per_class must be between 1"),
    (conditional.fixed_noise_and_labels, {"G": "G", "n_classes": 3}, r"G must be a torch nn.Module"),
    (conditional.fixed_noise_and_labels, {"G": G1}, r"n_classes must be given"),
    (lambda **kw: conditional.ConditionalGANTrainer(
        COND_G, models.ConditionalMLPDiscriminator(in_dim=1, hidden_dims=(4,), n_classes=3), device="cpu", **kw),
     {"data": (torch.zeros(4, 1), torch.tensor([0, 1, 2, 7]))}, r"data's labels must be integers in 0..2"),
    (lambda **kw: conditional.ConditionalGANTrainer(
        COND_G, models.ConditionalMLPDiscriminator(in_dim=1, hidden_dims=(4,), n_classes=3), device="cpu", **kw),
     {"data": ("images", "labels")}, r"data must be a tuple \(images, labels\) of tensors"),
]

CLASSIFIER = [
    (classifier.ClassifierConfig, {"channels": 5}, r"channels must be two widths"),
    (classifier.MnistClassifier, {"config": {"channels": (2, 2)}}, r"config must be a ClassifierConfig"),
    (classifier.classify, {"model": "judge", "images": UINT8}, r"model must be a torch nn.Module"),
    (classifier.classify, {"model": JUDGE, "images": "abc"}, r"images must be a tensor or array"),
    (classifier.classify, {"model": JUDGE, "images": torch.zeros(2, 100)}, r"images must be 28x28 MNIST images"),
    (classifier.classify, {"model": JUDGE, "images": torch.full((2, 784), 200.0)},
     r"images must have pixels in pixel_range \(0, 1\), got values from 200"),
    (classifier.classify, {"model": JUDGE, "images": torch.zeros(2, 784), "pixel_range": (1, -1)},
     r"pixel_range must be"),
    (classifier.accuracy, {"model": JUDGE, "images": UINT8, "labels": "abcd"}, r"labels must be digits 0-9"),
    (classifier.accuracy, {"model": JUDGE, "images": UINT8, "labels": [0, 1, 2, 12]}, r"labels must be integer "
                                                                                    r"digits 0-9"),
    (lambda **kw: classifier.train_classifier(JUDGE, UINT8, num_iterations=1, **kw),
     {"labels": torch.tensor([0, 1, 12, 3])}, r"labels must be integer digits 0-9"),
    (lambda **kw: classifier.train_classifier(JUDGE, UINT8, torch.zeros(4, dtype=torch.long), 1, **kw), {"lr": 0},
     r"lr must be in \(0"),
    (lambda **kw: classifier.train_classifier(JUDGE, UINT8, torch.zeros(4, dtype=torch.long), 1, **kw),
     {"batch_size": 0}, r"batch_size must be between 1"),
    (classifier.load_or_train_classifier, {"splits": "mnist"}, r"splits must be a data.MnistSplits"),
    (classifier.load_or_train_classifier, {"splits": SPLITS, "path": 3}, r"path must be a file path"),
]

EVALUATION = [
    (evaluation.generate_unit, {"G": "G", "n": 3}, r"G must be a torch nn.Module"),
    (evaluation.generate_unit, {"G": CONV_G, "n": 3, "pixel_range": "tanh"}, r"pixel_range must be two numbers"),
    (evaluation.evaluate_samples, {"samples": "abc", "classifier": JUDGE, "splits": SPLITS},
     r"samples must be a tensor or array of images"),
    (evaluation.evaluate_samples, {"samples": torch.zeros(3, 100), "classifier": JUDGE, "splits": SPLITS},
     r"samples must be 28x28 images.*got shape \(3, 100\)"),
    (evaluation.evaluate_samples, {"samples": torch.full((3, 784), NAN), "classifier": JUDGE, "splits": SPLITS},
     r"samples must be finite"),
    (evaluation.evaluate_samples, {"samples": torch.zeros(3, 784), "classifier": JUDGE, "splits": "mnist"},
     r"splits must be a data.MnistSplits"),
    (evaluation.evaluate_samples, {"samples": torch.zeros(3, 784), "classifier": JUDGE, "splits": SPLITS,
                                   "test_features": np.zeros(5)}, r"test_features must be a 2-D array"),
    (evaluation.real_references, {"classifier": JUDGE, "splits": None}, r"splits must be a data.MnistSplits"),
]

MNIST_GAN = [
    (mnist_gan.generate, {"G": G1, "z": np.zeros((2, 2))}, r"z must be a torch tensor"),
    (mnist_gan.generate, {"G": "G", "z": torch.zeros(2, 2)}, r"G must be a torch nn.Module"),
    (mnist_gan.sample_images, {"G": G1, "n": 2, "seed": -1}, r"seed must be between 0"),
    (mnist_gan.sample_images, {"G": COND_G, "n": 2, "labels": [0.5, 1.7]}, r"labels must be integer class labels"),
    (mnist_gan.sample_images, {"G": COND_G, "n": 2, "labels": torch.tensor([0, 1, 2])},
     r"labels must have shape \(2,\)"),
    (mnist_gan.train_run, {"trainer": "t", "num_iterations": 1, "every": 1, "fixed_z": torch.zeros(1, 2)},
     r"trainer must be a train.GANTrainer"),
    (lambda **kw: mnist_gan.train_run(trainer(), 1, 1, **kw), {"fixed_z": [[0.0, 0.0]]},
     r"fixed_z must be a torch tensor"),
    (lambda **kw: mnist_gan.train_run(trainer(), 1, 1, torch.zeros(1, 2), progress=False, **kw),
     {"record": {"iterations": []}}, r"record lacks the key\(s\) 'seconds'"),
    (lambda **kw: mnist_gan.train_run(trainer(), 1, 1, torch.zeros(1, 2), progress=False, **kw),
     {"pixel_range": "unit"}, r"pixel_range must be two numbers"),
    (lambda **kw: mnist_gan.train_run(trainer(), 1, 1, torch.zeros(1, 2), progress=False, **kw),
     {"view": "live"}, r"view must be a LiveView"),
    (mnist_gan.run_recipe, {"name": "dcgan", "splits": "mnist"}, r"splits must be a data.MnistSplits"),
    (mnist_gan.run_recipe, {"name": "gan", "splits": SPLITS}, r"name must be one of"),
    (mnist_gan.run_recipe, {"name": "dcgan", "splits": SPLITS, "classifier": "judge"},
     r"classifier must be a torch nn.Module"),
    (mnist_gan.checkpoint_path, {"name": "../dcgan", "source": "train", "num_iterations": 10},
     r"name must be a non-empty string without slashes"),
    (mnist_gan.load_or_train_run, {"path": "run.pt", "models": {"G": G1}, "train_fn": 3},
     r"train_fn must be a function"),
    (mnist_gan.load_or_train_run, {"path": None, "models": {"G": G1}, "train_fn": lambda: {}},
     r"path must be a file path"),
    (mnist_gan.LiveView, {"nrow": 0, "display": False}, r"nrow must be between 1"),
    (lambda **kw: mnist_gan.LiveView(display=False).update(**kw), {"history": {"iteration": []}, "record": {}},
     r"history lacks the key\(s\) 'd_loss'"),
]

PLOTS = [
    (plots.plot_density, {"dist": "p_data"}, r"dist must be a distribution of gan_lessons.distributions"),
    (plots.plot_density, {"dist": RING}, r"dist must be 1-D for this plot"),
    (plots.plot_density_vs_samples, {"dist": BIMODAL, "samples": np.zeros((10, 2))},
     r"samples must have shape \(n,\) or \(n, 1\) for this 1-D distribution, got \(10, 2\)"),
    (plots.plot_density_vs_samples, {"dist": RING, "samples": np.zeros((9, 1))}, r"samples must have shape \(n, 2\)"),
    (plots.plot_density_vs_samples, {"dist": BIMODAL, "samples": np.full(10, NAN)}, r"samples must be finite"),
    (plots.plot_density_vs_samples, {"dist": BIMODAL, "samples": np.zeros(10), "bins": 0}, r"bins must be between 1"),
    (plots.plot_density_vs_samples, {"dist": BIMODAL, "samples": np.zeros(10), "x_range": (1, 1)},
     r"x_range must be \(low, high\)"),
    (plots.plot_density_2d, {"dist": BIMODAL}, r"dist must be 2-D for this plot"),
    (plots.plot_losses, {"history": {"iteration": [1]}}, r"history lacks the key\(s\) 'd_loss', 'g_loss'"),
    (plots.plot_losses, {"history": train.History(), "smooth": 2.5}, r"smooth must be an integer"),
    (plots.plot_d_outputs, {"history": {"iteration": [1, 2], "d_real": [0.5], "d_fake": [0.5, 0.5]}},
     r"history\['d_real'\] must hold one value per point \(2\), got 1"),
    (plots.image_grid, {"images": np.zeros((0, 784))}, r"images must hold at least 1 value"),
    (plots.image_grid, {"images": np.zeros((2, 784)), "nrow": 0}, r"nrow must be between 1"),
    (plots.image_grid, {"images": np.zeros((2, 784)), "value_range": (1, 1)}, r"value_range must be \(low, high\)"),
    (plots.image_grid, {"images": np.full((2, 784), NAN)}, r"images must be finite"),
    (plots.image_grid, {"images": np.zeros((2, 784)), "padding": -3}, r"padding must be between 0"),
    (plots.image_grid, {"images": np.zeros((2, 3, 28, 28))}, r"images must have one channel"),
    (plots.plot_image_grid, {"images": "digits"}, r"images must be numbers"),
    (plots.plot_taxonomy, {"highlight": "VAE"}, r"highlight must be one of"),
    (plots.plot_decision_surface, {"prob_fn": 3, "x": np.zeros((4, 2)), "y": np.zeros(4)},
     r"prob_fn must be a function"),
    (plots.plot_decision_surface, {"prob_fn": lambda p: np.zeros(len(p)), "x": np.zeros(4), "y": np.zeros(4)},
     r"x must be a 2-D array"),
    (plots.plot_decision_surface, {"prob_fn": lambda p: np.zeros(3), "x": np.eye(2), "y": np.zeros(2)},
     r"prob_fn's output must hold one value per point"),
    (plots.plot_class_conditional, {"model": fitted_logistic(), "x": np.eye(2), "y": np.zeros(2)},
     r"model must be a fitted models.GaussianClassConditional"),
    (plots.plot_noise_map, {"u": np.zeros(4), "x": np.zeros(3)}, r"x must hold one value per point \(4\), got 3"),
    (plots.plot_noise_map, {"u": [], "x": []}, r"u must hold at least 1 value"),
    (plots.plot_modes_over_time, {"iterations": [1, 2], "counts": np.zeros((3, 4))},
     r"counts must have shape \(len\(iterations\), K\)"),
    (plots.plot_modes_over_time, {"iterations": [1], "counts": np.zeros((1, 4)), "mode_labels": ["a"]},
     r"mode_labels must name each of the 4 modes"),
    (plots.plot_bilinear_game, {"paths": {"a": np.zeros(5)}}, r"paths\['a'\] must be a 2-D array"),
    (plots.plot_bilinear_game, {"paths": [np.zeros((5, 2))]}, r"paths must be a dict of label"),
    (plots.plot_optimal_discriminator, {"x": np.zeros(4), "p_data": np.zeros(3), "p_g": np.zeros(4)},
     r"p_data must hold one value per point \(4\), got 3"),
    (plots.plot_c_of_g, {"params": np.zeros(4), "c_values": np.zeros(3)}, r"c_values must hold one value per point"),
    (plots.plot_c_of_g, {"params": np.zeros(2), "c_values": np.zeros(2), "current": 0.5}, r"current must be a pair"),
    (plots.plot_coverage_traces, {"runs": []}, r"runs must be a non-empty list"),
    (plots.plot_coverage_traces, {"runs": [{"trace": [[1, 2]]}]}, r"runs\[0\] lacks the key\(s\) 'n_modes'"),
    (plots.plot_gaussian_fits, {"dist": BIMODAL, "fits": [(0, 1)]}, r"fits must be a dict of label"),
    (plots.plot_gaussian_fits, {"dist": BIMODAL, "fits": {"fit": (0, -1)}}, r"the sigma of fits\['fit'\] must be"),
    (plots.plot_gaussian_likelihood, {"x": np.arange(5.0), "mu": 0, "sigma": -1}, r"sigma must be in \(0"),
    (plots.encode_png, {"rgba": np.zeros((3, 3))}, r"rgba must be an \(H, W, 4\) uint8 array"),
    (plots.encode_jpeg, {"rgba": np.zeros((3, 3, 4), np.uint8), "quality": 0}, r"quality must be between 1 and 95"),
]

TABLES = {"models": MODELS, "losses": LOSSES, "theory": THEORY, "distributions": DISTRIBUTIONS,
          "coverage": COVERAGE, "metrics": METRICS,
          "train": TRAIN, "remedies": REMEDIES, "conditional": CONDITIONAL, "classifier": CLASSIFIER,
          "evaluation": EVALUATION, "mnist_gan": MNIST_GAN, "plots": PLOTS}
CASES = [pytest.param(fn, kwargs, pattern, id=f"{module}-{i}-{pattern.split(' ')[0]}")
         for module, table in TABLES.items() for i, (fn, kwargs, pattern) in enumerate(table)]


@pytest.mark.parametrize("fn, kwargs, pattern", CASES)
def test_bad_argument_gets_a_value_error_naming_it(fn, kwargs, pattern, tmp_path, monkeypatch):
    monkeypatch.setenv("GAN_LESSONS_CHECKPOINTS", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match=pattern):
        fn(**kwargs)


# --- exercises: a malformed answer prints feedback and never raises ------------------------------


class Unprintable(Exception):
    def __str__(self):
        raise RuntimeError("no message")


def raise_unprintable(*args):
    raise Unprintable


def exits(*args):
    raise SystemExit(1)


MALFORMED_ANSWERS = {
    "a string": "abc", "a number": 3.5, "a list": [1, 2], "an empty dict": {}, "an array": np.zeros((2, 2)),
    "a function that raises": lambda *a: 1 / 0, "a function that exits": exits,
    "a function whose error cannot be printed": raise_unprintable, "a function of no arguments": lambda: 1,
    "a function returning a string": lambda *a: "abc", "a function returning the wrong shape": lambda *a: np.zeros(7),
    "a function returning a tensor that requires grad": lambda *a: torch.ones(3, requires_grad=True),
    "a function returning NaN": lambda *a: float("nan"),
}
CHECKS = [getattr(exercises, name) for name in sorted(dir(exercises)) if name.startswith("check_")]


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.__name__)
def test_exercise_checks_answer_malformed_answers_with_feedback(check):
    for what, answer in MALFORMED_ANSWERS.items():
        out = io.StringIO()
        with redirect_stdout(out):
            result = check(answer)
        text = out.getvalue()
        assert result is False, what
        assert text.startswith(exercises.FAIL) and text.count("\n") == 1, (what, text)
    with redirect_stdout(io.StringIO()) as out:
        assert check(None) is False
    assert "not attempted yet" in out.getvalue()


def test_exercise_feedback_says_what_is_wrong_with_the_answer():
    for answer, expected in (("abc", "this exercise wants a function, got str"),
                             (lambda *a: 1 / 0, "your function raised ZeroDivisionError: division by zero"),
                             (raise_unprintable, "your function raised Unprintable"),
                             (lambda *a: np.zeros(7), "expected an array of shape (50,), got (7,)")):
        with redirect_stdout(io.StringIO()) as out:
            exercises.check_bayes_posterior(answer)
        assert expected in out.getvalue()
    with redirect_stdout(io.StringIO()) as out:
        exercises.check_conv_transpose_size(lambda size, kernel, stride, padding: 14.5)
    assert "not 14.5" in out.getvalue()
