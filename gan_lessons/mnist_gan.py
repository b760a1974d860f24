"""Lessons 08-10: the MNIST models, a training run with snapshots, and a live view of it.

``train_run`` wraps a trainer (``train.GANTrainer`` or a subclass) and, every
``every`` iterations, keeps a grid of samples from one fixed noise batch and, given the
course's classifier, the histogram of the digits the generator draws: the record
lessons 08-11 plot and compare. ``LiveView`` shows the run while it trains: losses,
D(x) and D(G(z)), the latest samples and the digit histogram, in one figure updated in
place. ``load_or_train_run`` saves the weights and the record, so re-running a lesson
loads them instead of training again.
"""
from __future__ import annotations

import io
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from torch import nn

from . import plots
from .checkpoints import has_kind, load_checkpoint, save_checkpoint, unusable
from .checks import check_keys, check_module, check_splits, describe
from .claims import quick_note
from .conditional import ACGANTrainer, ConditionalGANTrainer, fixed_noise_and_labels
from .models import (
    ConditionalConvDiscriminator,
    ConditionalMLPDiscriminator,
    ConditionalMLPGenerator,
    ConvDiscriminator,
    ConvGenerator,
    DCGANConfig,
    DiscriminatorConfig,
    GeneratorConfig,
    MLPDiscriminator,
    MLPGenerator,
    dcgan_init,
)
from .train import HISTORY_KEYS, GANTrainer
from .utils import Progress, budget, check_choice, check_int, check_pixel_range, checkpoint_dir, quick_mode

__all__ = ["RECIPES", "LiveView", "Recipe", "checkpoint_path", "conditional_dcgan", "conditional_mlp_gan", "dcgan", "digit_counts",
           "generate", "improved_mlp_gan", "load_or_train_run", "recipe_checkpoint_path", "run_recipe", "sample_images",
           "snapshot_every", "source_init", "source_mlp_gan", "train_run"]


def source_init(module: nn.Module) -> None:
    r"""The source model's initialisation: every weight drawn from N(0, 0.01²), every bias 0.

    .. math:: W_{ij} \sim \mathcal N(0, 0.01^2), \qquad b_j = 0

    Apply it with ``module.apply(source_init)`` (or as a trainer's ``init_fn``).
    """
    if isinstance(module, nn.Linear):
        with torch.no_grad():
            module.weight.normal_(0.0, 0.01)
            if module.bias is not None:
                module.bias.zero_()


def source_mlp_gan() -> tuple[MLPGenerator, MLPDiscriminator]:
    """The course's source model: G 128 -> 256 ReLU -> 784 sigmoid; D 784 -> 256 ReLU -> 1.

    Its recipe (``RECIPES["mlp_source"]``) initialises both with ``source_init``."""
    G = MLPGenerator(GeneratorConfig(latent_dim=128, hidden_dims=(256,), out_dim=784, activation="relu",
                                     out_activation="sigmoid"))
    D = MLPDiscriminator(DiscriminatorConfig(in_dim=784, hidden_dims=(256,), activation="relu"))
    return G, D


def improved_mlp_gan(width: int = 256) -> tuple[MLPGenerator, MLPDiscriminator]:
    """Deeper and wider, LeakyReLU(0.2) in both, tanh output for data in [-1, 1].

    G 128 -> width -> 2 width -> 784 tanh; D 784 -> 2 width -> width -> 1.
    """
    width = check_int("width", width, low=1)
    G = MLPGenerator(GeneratorConfig(latent_dim=128, hidden_dims=(width, 2 * width), out_dim=784,
                                     activation="leaky_relu", out_activation="tanh"))
    D = MLPDiscriminator(DiscriminatorConfig(in_dim=784, hidden_dims=(2 * width, width), activation="leaky_relu"))
    return G, D


def conditional_mlp_gan(width: int = 256, n_classes: int = 10):
    """The improved MLP of lesson 08 with the label's one-hot vector given to G (with z) and D (with x)."""
    width = check_int("width", width, low=1)
    G = ConditionalMLPGenerator(GeneratorConfig(latent_dim=100, hidden_dims=(width, 2 * width), out_dim=784,
                                                activation="leaky_relu", out_activation="tanh"), n_classes=n_classes)
    D = ConditionalMLPDiscriminator(DiscriminatorConfig(in_dim=784, hidden_dims=(2 * width, width),
                                                        activation="leaky_relu"), n_classes=n_classes)
    return G, D


def dcgan(g_width: int = 64, d_width: int = 32, n_classes: int = 0):
    """Lesson 09's DCGAN pair (``models.ConvGenerator`` / ``ConvDiscriminator``) with z of size 100.

    Half DCGAN's default widths: a quarter of the arithmetic, so an epoch takes about a
    minute on a 2-core CPU (see lesson 09).
    """
    config = DCGANConfig(latent_dim=100, g_width=g_width, d_width=d_width, n_classes=n_classes)
    return ConvGenerator(config), ConvDiscriminator(config)


def conditional_dcgan(g_width: int = 64, d_width: int = 32, n_classes: int = 10):
    """Lesson 10's conditional GAN on lesson 09's DCGAN: G(z, y) is AC-GAN's generator, and D(x, y)
    (``models.ConditionalConvDiscriminator``) has AC-GAN's widths but takes the label as an input."""
    config = DCGANConfig(latent_dim=100, g_width=g_width, d_width=d_width, n_classes=n_classes)
    return ConvGenerator(config), ConditionalConvDiscriminator(config)


@dataclass(frozen=True)
class Recipe:
    """How one lesson model is built and trained.

    Attributes:
        build: returns (G, D).
        scale: the data's pixel range, "unit" [0, 1] or "symmetric" [-1, 1], matching G's output.
        settings: ``train.TrainConfig`` fields.
        iterations: the lesson's budget, (full, quick).
        trainer: the trainer class's name in ``TRAINERS``.
        init_fn: applied to every module after the default initialisation (DCGAN's N(0, 0.02)).
        conditional: G and D take the digit's label.
    A recipe's ``fingerprint`` names its checkpoint, so a changed recipe never loads the
    weights an older one saved.
    """

    build: Callable
    scale: str
    settings: dict
    iterations: tuple[int, int]
    trainer: str = "gan"
    init_fn: Callable | None = None
    conditional: bool = False

    @property
    def pixel_range(self) -> tuple[float, float]:
        return (0.0, 1.0) if self.scale == "unit" else (-1.0, 1.0)

    @property
    def num_iterations(self) -> int:
        return budget(full=self.iterations[0], quick=self.iterations[1])

    @property
    def fingerprint(self) -> str:
        """Eight hex digits of a hash of the recipe's fields (not the budget).

        Functions enter by name only: a change inside ``build`` or ``init_fn`` (a layer's width)
        does not change the fingerprint, so give the function a new name when it changes."""
        import hashlib

        def name(fn):
            return None if fn is None else f"{fn.__module__}.{fn.__qualname__}"

        text = repr((name(self.build), self.scale, sorted(self.settings.items()), self.trainer, name(self.init_fn),
                     self.conditional))
        return hashlib.sha1(text.encode()).hexdigest()[:8]


_ADAM = {"lr_d": 2e-4, "lr_g": 2e-4}
RECIPES = {
    # Lesson 08: the source model exactly (its N(0, 0.01^2) weights, Adam's default betas), then the improved MLP.
    "mlp_source": Recipe(source_mlp_gan, "unit", {**_ADAM, "batch_size": 100, "betas": (0.9, 0.999)},
                         (9_000, 300), init_fn=source_init),
    "mlp_improved": Recipe(improved_mlp_gan, "symmetric",
                           {**_ADAM, "batch_size": 100, "betas": (0.5, 0.999), "real_label": 0.9},
                           (12_000, 300)),
    # Lesson 09: DCGAN's settings (Radford et al. 2016, section 4).
    "dcgan": Recipe(dcgan, "symmetric", {**_ADAM, "batch_size": 128, "betas": (0.5, 0.999)}, (4_000, 40),
                    init_fn=dcgan_init),
    # Lesson 10: lesson 09's DCGAN given the label (Mirza and Osindero 2014), and DCGAN with AC-GAN's
    # auxiliary classifier (Odena et al. 2017). The two share G, D's widths, the initialisation, the
    # settings and the budget: they differ only in how D uses the label.
    "cgan": Recipe(conditional_dcgan, "symmetric", {**_ADAM, "batch_size": 100, "betas": (0.5, 0.999)},
                   (3_000, 30), trainer="cgan", init_fn=dcgan_init, conditional=True),
    "acgan": Recipe(lambda: dcgan(n_classes=10), "symmetric", {**_ADAM, "batch_size": 100, "betas": (0.5, 0.999)},
                    (3_000, 30), trainer="acgan", init_fn=dcgan_init, conditional=True),
}


def run_recipe(name: str, splits, num_iterations: int | None = None, classifier=None, view=None,
               retrain: bool = False, seed: int = 0, device=None, progress: bool = True, note: bool = True):
    """Build lesson model ``name`` of ``RECIPES`` and load it, or train and save it.

    Args:
        name: a key of ``RECIPES``.
        splits: ``data.load_splits()``; G trains on its training images.
        num_iterations: default the recipe's budget (full or quick mode).
        classifier: the course's classifier, for the digit histograms of ``train_run``.
        view: a ``LiveView`` to show training (and a loaded run's record).
        retrain: train again even if a checkpoint exists.
        note: in quick mode, print one line saying the short run's samples are still noise.
    Returns (G, D, record, loaded): the models in eval mode, ``train_run``'s record, and
    whether they came from a checkpoint.
    """
    from .data import BatchSampler, to_float

    check_choice("name", name, tuple(RECIPES))
    check_splits(splits, ("source", "train_images", "train_labels"))
    seed = check_int("seed", seed, low=0)
    _check_helpers(classifier, view)
    recipe = RECIPES[name]
    num_iterations = recipe.num_iterations if num_iterations is None else check_int(
        "num_iterations", num_iterations, low=1)
    G, D = recipe.build()
    path = recipe_checkpoint_path(name, splits.source, num_iterations)

    def train_fn():
        x = to_float(splits.train_images, recipe.scale)
        if not recipe.conditional and isinstance(G, MLPGenerator):
            x = x.flatten(1)  # the MLPs take (B, 784)
        sampler = BatchSampler(x, splits.train_labels)
        trainer = TRAINERS[recipe.trainer](G, D, sampler, seed=seed, device=device, init_fn=recipe.init_fn,
                                           **recipe.settings)
        per_epoch = max(1, len(sampler) // trainer.config.batch_size)
        every = snapshot_every(num_iterations, per_epoch)
        z_gen = torch.Generator().manual_seed(seed + 1)
        if recipe.conditional:  # a 10x10 grid, one row per digit, one noise vector per column
            fixed_z, fixed_labels = fixed_noise_and_labels(G, n_per_class=10, seed=seed + 1)
        else:
            fixed_z, fixed_labels = G.sample_z(100, generator=z_gen), None
        rec = train_run(trainer, num_iterations, every, fixed_z, fixed_labels, classifier=None if
                        recipe.conditional else classifier, pixel_range=recipe.pixel_range, view=view,
                        progress=progress)
        rec["iterations_per_epoch"] = per_epoch
        rec["n_train"] = len(sampler)
        return rec

    rec, loaded = load_or_train_run(path, {"G": G, "D": D}, train_fn, retrain=retrain, required_meta=RECIPE_RECORD)
    if loaded and view is not None:
        view.update(rec["history"], rec)
    if note and quick_mode() and num_iterations < recipe.iterations[0]:
        quick_note(f"{num_iterations:,} of the lesson's {recipe.iterations[0]:,} iterations are too few for G "
                   "to draw digits: its samples are still noise")
    G.eval()
    D.eval()
    return G, D, rec, loaded


TRAINERS = {"gan": GANTrainer, "cgan": ConditionalGANTrainer, "acgan": ACGANTrainer}
# The run record of train_run, as saved beside the weights; run_recipe adds two sizes.
RUN_RECORD = {"iterations": list, "seconds": list, "grids": list, "counts": list, "history": dict}
RECIPE_RECORD = {"iterations_per_epoch": int, "n_train": int}


def _check_helpers(classifier, view) -> None:
    if classifier is not None:
        check_module("classifier", classifier, ("features", "head"))
    if view is not None and not callable(getattr(view, "update", None)):
        raise ValueError(f"view must be a LiveView (or have update(history, record)), got {describe(view)}")


def _tensor(name: str, value) -> torch.Tensor:
    if not isinstance(value, torch.Tensor):
        raise ValueError(f"{name} must be a torch tensor, got {describe(value)}")
    return value


def generate(G: nn.Module, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
    """G(z) (or G(z, labels)) on the CPU, computed in eval mode without gradients; G's mode is restored."""
    check_module("G", G)
    _tensor("z", z)
    if labels is not None:
        _tensor("labels", labels)
    was_training = G.training
    device = next(G.parameters()).device
    G.eval()
    try:
        with torch.no_grad():
            z = z.to(device)
            out = G(z) if labels is None else G(z, labels.to(device))
    finally:
        G.train(was_training)
    return out.detach().cpu()


def sample_images(G: nn.Module, n: int, seed: int = 0, labels: torch.Tensor | None = None,
                  batch_size: int = 1000) -> torch.Tensor:
    """``n`` samples of ``G`` in eval mode from noise seeded by ``seed`` (labels for a conditional G)."""
    n = check_int("n", n, low=1)
    batch_size = check_int("batch_size", batch_size, low=1)
    seed = check_int("seed", seed, low=0)
    check_module("G", G, ("sample_z",))
    z = G.sample_z(n, generator=torch.Generator().manual_seed(seed))  # G's own noise distribution
    if labels is not None:
        try:
            labels = torch.as_tensor(labels).to(z.device)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"labels must be integer class labels, got {describe(labels)}") from None
        if labels.shape != (n,):
            raise ValueError(f"labels must have shape ({n},), one per sample, got {tuple(labels.shape)}")
        if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
            raise ValueError(f"labels must be integer class labels, got dtype {labels.dtype}")
        labels = labels.long()
    chunks = [generate(G, z[i: i + batch_size], None if labels is None else labels[i: i + batch_size])
              for i in range(0, n, batch_size)]
    return torch.cat(chunks)


def digit_counts(images, classifier, pixel_range=(0.0, 1.0)) -> np.ndarray:
    """How many of ``images`` the classifier reads as each digit 0-9, a (10,) integer array."""
    from .classifier import classify

    probs, _ = classify(classifier, images, pixel_range=pixel_range)
    return np.bincount(probs.argmax(1), minlength=10)


def snapshot_every(num_iterations: int, iterations_per_epoch: int, max_snapshots: int = 20) -> int:
    """Iterations between snapshots: one epoch, unless that would give more than ``max_snapshots``."""
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    iterations_per_epoch = check_int("iterations_per_epoch", iterations_per_epoch, low=1)
    max_snapshots = check_int("max_snapshots", max_snapshots, low=1)
    return max(iterations_per_epoch, math.ceil(num_iterations / max_snapshots))


def train_run(trainer, num_iterations: int, every: int, fixed_z: torch.Tensor,
              fixed_labels: torch.Tensor | None = None, classifier=None, pixel_range=(0.0, 1.0),
              n_classify: int = 500, view: LiveView | None = None, progress: bool = True,
              record: dict | None = None) -> dict:
    """Train for ``num_iterations`` and take a snapshot every ``every`` iterations.

    A snapshot is the samples of ``fixed_z`` (the same noise each time, so grids compare
    across time) and, with a ``classifier``, the digit histogram of ``n_classify`` fresh
    samples. ``record`` continues an earlier run's record.

    Returns the record: iterations, seconds (training only, snapshots excluded),
    grids (uint8 images of the fixed batch), counts (digit histograms), and the trainer's history.
    """
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    every = check_int("every", every, low=1)
    n_classify = check_int("n_classify", n_classify, low=1)
    if not (callable(getattr(trainer, "train", None)) and isinstance(getattr(trainer, "G", None), nn.Module)):
        raise ValueError(f"trainer must be a train.GANTrainer (or a subclass), got {describe(trainer)}")
    _tensor("fixed_z", fixed_z)
    _check_helpers(classifier, view)
    rec = record if record is not None else {"iterations": [], "seconds": [], "grids": [], "counts": []}
    check_keys("record", rec, ("iterations", "seconds", "grids", "counts"))
    elapsed = rec["seconds"][-1] if rec["seconds"] else 0.0
    lo, hi = check_pixel_range(pixel_range)
    bar = None
    if progress:
        bar = Progress(num_iterations, "training")
    done = 0
    while done < num_iterations:
        chunk = min(every, num_iterations - done)
        start = time.perf_counter()
        trainer.train(chunk)
        elapsed += time.perf_counter() - start
        done += chunk
        if bar is not None:
            bar.update(chunk)
        grid = generate(trainer.G, fixed_z, fixed_labels).reshape(len(fixed_z), 28, 28)
        rec["grids"].append(((grid - lo) / (hi - lo)).clamp(0, 1).mul(255).round().to(torch.uint8))
        rec["iterations"].append(trainer.iteration)
        rec["seconds"].append(round(elapsed, 2))
        if classifier is not None:
            seed = 10_000 + trainer.iteration
            rec["counts"].append(digit_counts(sample_images(trainer.G, n_classify, seed), classifier,
                                              pixel_range).tolist())
        if view is not None:
            view.update(trainer.history, rec)
    if bar is not None:
        bar.close()
    rec["history"] = {k: list(v) for k, v in trainer.history.items()}
    return rec


def checkpoint_path(name: str, source: str, num_iterations: int) -> Path:
    """Where lesson models are kept: ``<name>_<source>_<iterations>it[_quick].pt`` in ``checkpoint_dir()``.

    The data source, the training length and the mode are in the name, so a short run
    (lesson 11's stand-in, tests, CI) is never loaded where a lesson's full run is expected.
    """
    num_iterations = check_int("num_iterations", num_iterations, low=1)
    for key, value in (("name", name), ("source", source)):
        if not isinstance(value, str) or not value or any(c in value for c in "/\\"):
            raise ValueError(f"{key} must be a non-empty string without slashes, got {describe(value)}")
    suffix = "_quick" if quick_mode() else ""
    return checkpoint_dir() / f"{name}_{source}_{num_iterations}it{suffix}.pt"


def recipe_checkpoint_path(name: str, source: str, num_iterations: int) -> Path:
    """Where ``run_recipe(name, ...)`` keeps its models: ``checkpoint_path`` with the recipe's
    fingerprint in the name (``mlp_source-1a2b3c4d_train_9000it.pt``)."""
    check_choice("name", name, tuple(RECIPES))
    return checkpoint_path(f"{name}-{RECIPES[name].fingerprint}", source, num_iterations)


def load_or_train_run(path, models: dict[str, nn.Module], train_fn: Callable[[], dict],
                      retrain: bool = False, required_meta: dict | None = None) -> tuple[dict, bool]:
    """Load the models and their run record from ``path``, or call ``train_fn()`` and save both.

    ``train_fn`` trains the models in place and returns the record of ``train_run``.
    Returns (record, loaded). ``retrain=True`` trains again and replaces the file.
    ``required_meta``: keys the record must hold besides train_run's, with their types
    (see ``checkpoints.load_checkpoint``). A malformed saved record raises CheckpointError.
    """
    if not callable(train_fn):
        raise ValueError(f"train_fn must be a function that trains the models, got {describe(train_fn)}")
    if not isinstance(path, (str, Path)):
        raise ValueError(f"path must be a file path (a str or pathlib.Path), got {describe(path)}")
    path = Path(path)
    if path.exists() and not retrain:
        rec = load_checkpoint(path, models, required_meta={**RUN_RECORD, **(required_meta or {})},
                              convert=lambda meta: _unpack(meta, path))
        for m in models.values():
            m.eval()
        return rec, True
    rec = train_fn()
    check_keys("the record train_fn returned", rec, list(RUN_RECORD))
    meta = {**{k: v for k, v in rec.items() if k != "grids"},
            "grids": [torch.as_tensor(g).numpy().tolist() for g in rec["grids"]]}
    save_checkpoint(path, models, meta, overwrite=retrain)
    return rec, False


def _grid(path, i: int, g) -> torch.Tensor:
    try:
        arr = np.asarray(g)
    except ValueError:  # ragged nesting
        arr = np.zeros(0)
    if (arr.dtype.kind not in "iu" or arr.ndim != 3 or arr.shape[1:] != (28, 28) or arr.size == 0
            or arr.min() < 0 or arr.max() > 255):
        raise unusable(path, f"meta['grids'][{i}] is not a stack of 28x28 images of integer pixels 0-255 "
                             f"(shape {arr.shape}, dtype {arr.dtype})")
    return torch.from_numpy(arr.astype(np.uint8))


def _unpack(meta: dict, path) -> dict:
    """The run record saved as ``meta``, grids as uint8 tensors; a CheckpointError if any part is malformed."""
    rec = dict(meta)
    rec["grids"] = [_grid(path, i, g) for i, g in enumerate(meta["grids"])]
    n, history = len(rec["grids"]), meta["history"]
    lengths = {len(v) if isinstance(v, list) else -1 for v in history.values()}
    checks = [
        ("iterations", len(meta["iterations"]) == n and all(has_kind(i, int) for i in meta["iterations"]),
         f"integers, one per grid ({n})"),
        ("seconds", len(meta["seconds"]) == n and all(has_kind(s, float) for s in meta["seconds"]),
         f"numbers, one per grid ({n})"),
        ("counts", len(meta["counts"]) in (0, n) and all(
            isinstance(c, list) and len(c) == 10 and all(has_kind(v, int) and v >= 0 for v in c)
            for c in meta["counts"]), f"lists of 10 digit counts, none or one per grid ({n})"),
        ("history", set(HISTORY_KEYS) <= set(history) and len(lengths) == 1 and -1 not in lengths and all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for h in history.values() for v in h),
         f"lists of numbers of one length, for {', '.join(HISTORY_KEYS)}"),
    ]
    for key, ok, what in checks:
        if not ok:
            raise unusable(path, f"meta[{key!r}] should hold {what}")
    return rec


class LiveView:
    """A figure of a training run updated in place: losses, D outputs, samples, digit histogram.

    Built once; ``update(history, record)`` moves its artists and refreshes the one
    displayed image (in a notebook), never a new figure per snapshot.

    Args:
        title: shown above the figure.
        digits: add the digit-histogram panel (needs a classifier in ``train_run``).
        nrow: images per row of the sample grid.
        n_show: how many of the snapshot's images the grid shows (default nrow², at most the
            snapshot's): few enough that each digit is drawn large enough to read.
        display: show it in the notebook (False in tests).
    """

    def __init__(self, title: str = "", digits: bool = True, nrow: int = 6, n_show: int | None = None,
                 display: bool = True):
        self.nrow = check_int("nrow", nrow, low=1)
        self.n_show = self.nrow ** 2 if n_show is None else check_int("n_show", n_show, low=1)
        ratios = [1, 1, 1.45] + ([1] if digits else [])
        self.fig = Figure(figsize=(3.3 * sum(ratios), 4.4), dpi=90, layout="constrained")
        axes = self.fig.subplots(1, len(ratios), width_ratios=ratios)
        self.ax_loss, self.ax_d, self.ax_grid = axes[:3]
        colors = plots.COLORS
        self.lines = {"d_loss": self.ax_loss.plot([], [], color=colors["d_loss"], label="$L_D$")[0],
                      "g_loss": self.ax_loss.plot([], [], color=colors["g_loss"], label="$L_G$")[0],
                      "d_real": self.ax_d.plot([], [], color=colors["data"], label="mean $D(x)$")[0],
                      "d_fake": self.ax_d.plot([], [], color=colors["generator"], label="mean $D(G(z))$")[0]}
        self.ax_loss.set(xlabel="iteration", ylabel="loss", title="losses")
        self.ax_d.set(xlabel="iteration", ylabel="D output", ylim=(-0.02, 1.02), title="discriminator")
        self.ax_d.axhline(0.5, color=colors["optimal"], ls="--", lw=1)
        for ax in (self.ax_loss, self.ax_d):
            ax.legend(loc="upper right", fontsize=8)
        self.image = self.ax_grid.imshow(np.ones((10, 10)), cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        self.ax_grid.set_axis_off()
        self.bars = None
        if digits:
            self.ax_hist = axes[3]
            self.bars = self.ax_hist.bar(range(10), np.zeros(10), color=colors["generator"])
            self.ax_hist.axhline(10, color=colors["optimal"], ls="--", lw=1)
            self.ax_hist.set(xticks=range(10), xlabel="digit (classifier)", ylabel="% of samples",
                             ylim=(0, 40), title="digits drawn")
        if title:
            self.fig.suptitle(title)
        self.handle = None
        if display:
            from IPython.display import display as show
            self.handle = show(self._image(), display_id=True)

    def _image(self):
        # One Agg draw to PNG: cheaper than the inline backend's tight-bbox render, which draws twice.
        from IPython.display import Image
        buffer = io.BytesIO()
        FigureCanvasAgg(self.fig).print_png(buffer)
        return Image(data=buffer.getvalue(), format="png")

    def update(self, history, record: dict) -> None:
        """Show ``history`` (the trainer's) and the latest snapshot of ``record``."""
        check_keys("history", history, ("iteration", "d_loss", "g_loss", "d_real", "d_fake"))
        check_keys("record", record, ("iterations", "grids", "counts"))
        it = np.asarray(history["iteration"], dtype=float)
        window = max(1, len(it) // 100)
        for key, line in self.lines.items():
            line.set_data(it, plots._smooth(history[key], window))
        for ax in (self.ax_loss, self.ax_d):
            ax.relim()
            ax.autoscale_view()
        self.ax_d.set_ylim(-0.02, 1.02)
        if record["grids"]:
            grid = plots.image_grid(record["grids"][-1][:self.n_show].float() / 255, nrow=self.nrow, pad_value=0.0)
            self.image.set_data(1 - grid)
            self.image.set_extent((-0.5, grid.shape[1] - 0.5, grid.shape[0] - 0.5, -0.5))
            self.ax_grid.set_title(f"fixed noise, iteration {record['iterations'][-1]:,}")
        if self.bars is not None and record["counts"]:
            counts = np.asarray(record["counts"][-1], dtype=float)
            share = 100 * counts / counts.sum()
            for bar, h in zip(self.bars, share):
                bar.set_height(h)
            self.ax_hist.set_ylim(0, max(40.0, share.max() * 1.1))
        if self.handle is not None:
            self.handle.update(self._image())
