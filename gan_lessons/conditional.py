r"""Conditional GANs: the cGAN of Mirza and Osindero 2014 and the AC-GAN of Odena et al. 2017.

Both are subclasses of ``train.GANTrainer``: Algorithm 1's loop (``d_steps`` updates of D,
then ``g_steps`` of G, the history, the divergence guard, settings changed between
iterations) is kept, and only what one update does changes, through the ``_d_update`` /
``_g_update`` hooks (as in ``remedies``).

- cGAN: G(z, y) and D(x, y) both see the label y; D judges whether (x, y) is a real pair.
- AC-GAN: only G sees the label; D sees x alone and answers two questions, real or fake
  (the source S) and which digit (the class C).

Real data comes with labels: an object with ``sample_labelled(n, generator)`` returning
``(images, labels)``, or a tuple ``(images, labels)`` of tensors from which each minibatch
is drawn uniformly with replacement.

The labels G is asked for are drawn uniformly over the classes, not with the data's label
frequencies: every digit gets the same share of G's practice, the trainer needs nothing
but the number of classes (a sampler need not expose its label counts), and MNIST's
classes are nearly balanced (9.0 % to 11.2 % of the training set), so D gains almost
nothing from the mismatch between the fake labels' frequencies and the real ones'. On
strongly imbalanced data that mismatch is a cue D can use, and the uniform choice would
need revisiting.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .losses import acgan_d_loss, acgan_g_loss, d_loss, generator_loss
from .train import GANTrainer, TrainConfig, check_finite, grad_norm
from .checks import check_module, describe
from .utils import check_int

__all__ = [
    "ACGAN_HISTORY_KEYS",
    "ACGANTrainer",
    "ConditionalGANTrainer",
    "fixed_noise_and_labels",
    "sample_grid_labels",
]

# Added to GANTrainer's history by ACGANTrainer, averaged over an iteration's D updates.
ACGAN_HISTORY_KEYS = ("d_class_acc_real", "d_class_acc_fake")


def _n_classes_of(net: nn.Module) -> int | None:
    # ConditionalMLP* keep it on the module, the DCGAN pair on its config.
    n = getattr(net, "n_classes", None)
    if n is None:
        n = getattr(getattr(net, "config", None), "n_classes", None)
    return n


def sample_grid_labels(n_per_class: int, n_classes: int = 10) -> torch.Tensor:
    r"""Labels for a grid with one row per class: ``[0]*n + [1]*n + ... + [n_classes - 1]*n``.

    .. math:: y_i = \lfloor i / n \rfloor, \qquad i = 0, \dots, n \cdot n_{classes} - 1

    Shown with ``plots.plot_image_grid(images, nrow=n_per_class)``, row k holds class k,
    the layout of Mirza and Osindero 2014, figure 2.

    Args:
        n_per_class: images per class (the grid's width), >= 1.
        n_classes: number of classes (the grid's height), >= 1.
    Returns an int64 tensor of shape (n_per_class * n_classes,).
    """
    n_per_class = check_int("n_per_class", n_per_class, low=1)
    n_classes = check_int("n_classes", n_classes, low=1)
    return torch.arange(n_classes).repeat_interleave(n_per_class)


def fixed_noise_and_labels(G: nn.Module, n_per_class: int = 10, n_classes: int | None = None, seed: int = 0,
                           shared_noise: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    r"""A fixed (z, y) batch for comparable sample grids over training: one row per class.

    .. math:: z_{k,j} = z_j \ (\text{shared}), \qquad y_{k,j} = k

    With ``shared_noise`` the noise of column j is the same in every row, so along a column
    only the label changes: the class and the "style" held by z are seen apart.

    Args:
        G: a conditional generator; its ``sample_z`` draws the noise.
        n_per_class: columns of the grid, >= 1.
        n_classes: rows; default: G's ``n_classes``.
        seed: seeds the noise, >= 0.
        shared_noise: one noise vector per column (True) or one per image (False).
    Returns ``(z, labels)``: (n_per_class * n_classes, latent_dim) on G's device, and int64
    labels from ``sample_grid_labels`` on the same device.
    """
    check_module("G", G, ("sample_z",))
    n_classes = _n_classes_of(G) if n_classes is None else n_classes
    if n_classes is None:
        raise ValueError("n_classes must be given: the generator does not say how many classes it has")
    labels = sample_grid_labels(n_per_class, n_classes)
    rng = torch.Generator().manual_seed(check_int("seed", seed, low=0))
    if shared_noise:
        z = G.sample_z(n_per_class, generator=rng).repeat(n_classes, 1)  # row k, column j: z_j
    else:
        z = G.sample_z(len(labels), generator=rng)
    return z, labels.to(z.device)


def _labelled_sampler(data, n_classes: int):
    """``fn(n, generator) -> (images, labels)`` for a labelled sampler or an (images, labels) tuple."""
    if hasattr(data, "sample_labelled"):
        def draw(n, generator=None):
            x, y = data.sample_labelled(n, generator=generator)
            return x, _checked_labels(y, n_classes, "the labels returned by data.sample_labelled")
        return draw
    if isinstance(data, (tuple, list)) and len(data) == 2:
        try:
            images, labels = (torch.as_tensor(t) for t in data)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"data must be a tuple (images, labels) of tensors, got {describe(data)}") from None
        if images.ndim < 2 or not images.is_floating_point():
            raise ValueError(f"data's images must be a float tensor of shape (N, ...), got dtype "
                             f"{images.dtype} and shape {tuple(images.shape)}")
        if labels.shape != (images.shape[0],):
            raise ValueError(f"data's labels must have shape ({images.shape[0]},), one per image, "
                             f"got {tuple(labels.shape)}")
        if images.shape[0] == 0:
            raise ValueError("data must hold at least one image, got 0")
        labels = _checked_labels(labels, n_classes, "data's labels")

        def draw(n, generator=None):
            idx = torch.randint(images.shape[0], (n,), generator=generator)  # uniform, with replacement
            idx = idx.to(images.device)
            return images[idx], labels[idx]
        return draw
    raise ValueError("data must be an object with sample_labelled(n, generator) or a tuple (images, labels) "
                     f"of tensors, got {type(data).__name__}")


def _checked_labels(labels, n_classes: int, what: str) -> torch.Tensor:
    labels = torch.as_tensor(labels)
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"{what} must be integers in 0..{n_classes - 1}, got dtype {labels.dtype}")
    if labels.numel() and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"{what} must be integers in 0..{n_classes - 1}, got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    return labels.long()


class _LabelledTrainer(GANTrainer):
    """What both conditional trainers share: labelled real data and uniformly drawn fake labels."""

    fast_path = False  # the hand-derived MLP gradients of mlp_grad know nothing of labels

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, config: TrainConfig | None = None,
                 seed: int = 0, device=None, init_fn: Callable[[nn.Module], None] | None = None,
                 n_classes: int | None = None, **overrides):
        g_classes, d_classes = _n_classes_of(generator), _n_classes_of(discriminator)
        if n_classes is None:
            n_classes = g_classes
        n_classes = check_int("n_classes", n_classes if n_classes is not None else 0, low=1)
        for name, found in (("generator", g_classes), ("discriminator", d_classes)):
            if found is not None and found != n_classes:
                raise ValueError(f"{name} is built for n_classes={found}, but the trainer uses "
                                 f"n_classes={n_classes}; build both networks with the same n_classes")
        self.n_classes = n_classes
        self._sample_labelled = _labelled_sampler(data, n_classes)
        # GANTrainer wants unlabelled data: give it the images of the labelled draws.
        super().__init__(generator, discriminator, self._images_only, config=config, seed=seed, device=device,
                         init_fn=init_fn, **overrides)

    def _images_only(self, n, generator=None):
        return self._sample_labelled(n, generator)[0]

    def set_data(self, data) -> None:
        """Train on labelled ``data`` from the next update on, keeping the models and optimisers.

        Args:
            data: an object with ``sample_labelled(n, generator)`` or a tuple ``(images, labels)``.
        """
        self._sample_labelled = _labelled_sampler(data, self.n_classes)

    def sample_real_labelled(self, n: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """A labelled real minibatch ``(x, y)`` drawn with the trainer's random generator.

        Args:
            n: minibatch size; default ``config.batch_size``.
        """
        n = self.config.batch_size if n is None else check_int("n", n, low=1)
        x, y = self._sample_labelled(n, generator=self.rng)
        return x.to(self.device), y.to(self.device)

    def sample_labels(self, n: int | None = None) -> torch.Tensor:
        r"""Labels for G, uniform over the K classes: :math:`y \sim U\{0, \dots, K - 1\}` (int64).

        Args:
            n: how many; default ``config.batch_size``.
        """
        n = self.config.batch_size if n is None else check_int("n", n, low=1)
        return torch.randint(self.n_classes, (n,), generator=self.rng).to(self.device)

    def _g_grads(self, loss_fn) -> tuple[torch.Tensor, torch.Tensor]:
        # Gradients for G through D, not of D's weights; D's flags are restored after.
        d_params = list(self.D.parameters())
        flags = [p.requires_grad for p in d_params]
        for p in d_params:
            p.requires_grad_(False)
        try:
            z = self.sample_z()
            y = self.sample_labels(z.shape[0])
            loss, d_fake_logits = loss_fn(self.G(z, y), y)
            self.g_opt.zero_grad(set_to_none=True)
            loss.backward()
        finally:
            for p, f in zip(d_params, flags):
                p.requires_grad_(f)
        return loss, d_fake_logits

    def _g_out(self, loss: torch.Tensor, d_fake_logits: torch.Tensor) -> dict:
        with torch.no_grad():
            stats = torch.stack([loss.detach(), torch.sigmoid(d_fake_logits).mean()]).tolist()
        out = {"g_loss": check_finite("the generator's loss", stats[0]), "g_fake": stats[1],
               "g_grad_norm": check_finite("the generator's gradient norm", grad_norm(self.G.parameters()))}
        self.g_opt.step()
        self.g_updates += 1
        return out

    def _d_batch(self):
        """D's minibatch: real (x, y), then z and uniform labels y', and G(z, y') without gradients."""
        x_real, y_real = self.sample_real_labelled()
        z = self.sample_z(x_real.shape[0])
        y_fake = self.sample_labels(x_real.shape[0])
        with torch.no_grad():
            x_fake = self.G(z, y_fake)
        return x_real, y_real, x_fake, y_fake



class ConditionalGANTrainer(_LabelledTrainer):
    r"""The conditional GAN: G(z, y) and D(x, y) both receive the label y.

    .. math:: \min_G \max_D V(D, G) = \mathbb E_{x, y \sim p_{data}}[\log D(x \mid y)]
              + \mathbb E_{z \sim p_z,\, y \sim U}[\log(1 - D(G(z \mid y) \mid y))]

    Mirza and Osindero 2014, section 3.2, equation (2). D's update uses real pairs (x, y)
    from the data and fake pairs (G(z, y'), y') with y' uniform over the classes (see the
    module's docstring for why uniform); G's update minimises ``config.g_loss`` of
    ``losses.generator_loss`` on D(G(z, y'), y'). ``config.real_label`` below 1 smooths the
    real targets (one-sided label smoothing, Salimans et al. 2016).

    Each D update draws, from ``self.rng`` in this order: the real minibatch, the noise z,
    the fake labels y'; each G update draws z, then y'.

    Args:
        generator: G called as ``G(z, labels)``, e.g. ``models.ConditionalMLPGenerator``.
        discriminator: D called as ``D(x, labels)`` returning (B,) logits, e.g.
            ``models.ConditionalConvDiscriminator`` or ``ConditionalMLPDiscriminator`` (not
            ``ConvDiscriminator``, which does not take labels: use ``ACGANTrainer`` with it).
        data: an object with ``sample_labelled(n, generator) -> (images, labels)``, or a tuple
            ``(images, labels)`` of tensors, labels integers in 0..n_classes - 1.
        config, seed, device, init_fn, overrides: as ``GANTrainer``.
        n_classes: number of classes; default: the generator's ``n_classes``.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, config: TrainConfig | None = None,
                 seed: int = 0, device=None, init_fn: Callable[[nn.Module], None] | None = None,
                 n_classes: int | None = None, **overrides):
        from .models import ConvDiscriminator

        if isinstance(discriminator, ConvDiscriminator):
            msg = ("discriminator must take (x, labels), like models.ConditionalConvDiscriminator; "
                   "ConvDiscriminator does not see labels (use ACGANTrainer with it)")
            raise ValueError(msg)  # noqa: TRY004 - the house style: a bad argument is a ValueError
        super().__init__(generator, discriminator, data, config, seed, device, init_fn, n_classes, **overrides)

    def _d_update(self) -> dict:
        c = self.config
        x_real, y_real, x_fake, y_fake = self._d_batch()
        d_real_logits = self.D(x_real, y_real)
        d_fake_logits = self.D(x_fake, y_fake)
        loss = d_loss(d_real_logits, d_fake_logits, c.real_label)
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            stats = torch.stack([loss.detach(), torch.sigmoid(d_real_logits).mean(),
                                 torch.sigmoid(d_fake_logits).mean()]).tolist()
        out = {"d_loss": check_finite("the discriminator's loss", stats[0]), "d_real": stats[1], "d_fake": stats[2],
               "d_grad_norm": check_finite("the discriminator's gradient norm", grad_norm(self.D.parameters()))}
        self.d_opt.step()
        self.d_updates += 1
        return out

    def _g_update(self) -> dict:
        def loss_fn(x_fake, y):
            d_fake_logits = self.D(x_fake, y)
            return generator_loss(d_fake_logits, self.config.g_loss), d_fake_logits
        return self._g_out(*self._g_grads(loss_fn))


class ACGANTrainer(_LabelledTrainer):
    r"""The auxiliary classifier GAN: G(z, c) sees the class, D(x) predicts source and class.

    .. math:: L_S = \mathbb E[\log P(S = \text{real} \mid X_{\text{real}})]
              + \mathbb E[\log P(S = \text{fake} \mid X_{\text{fake}})]

    .. math:: L_C = \mathbb E[\log P(C = c \mid X_{\text{real}})]
              + \mathbb E[\log P(C = c \mid X_{\text{fake}})]

    Odena et al. 2017, section 3, equations (2) and (3): D maximises :math:`L_S + L_C`
    (``losses.acgan_d_loss``), G maximises :math:`L_C - L_S` (``losses.acgan_g_loss`` with
    ``config.g_loss``: "nonsaturating" by default, or the paper's "minimax").

    The history holds GANTrainer's keys and ``ACGAN_HISTORY_KEYS``: ``d_class_acc_real``,
    the fraction of real images whose class D's classifier gets right, and
    ``d_class_acc_fake``, the fraction of generated images it assigns to the label G was
    asked for, both averaged over the iteration's D updates (measured before each update).
    Random draws are in the same order as ``ConditionalGANTrainer``'s.

    Args:
        generator: G called as ``G(z, labels)``, e.g. ``models.ConvGenerator(n_classes=10)``.
        discriminator: D returning ``(source_logits (B,), class_logits (B, n_classes))``, e.g.
            ``models.ConvDiscriminator(n_classes=10)``.
        data, config, seed, device, init_fn, n_classes, overrides: as ``ConditionalGANTrainer``.
    """

    def __init__(self, generator: nn.Module, discriminator: nn.Module, data, config: TrainConfig | None = None,
                 seed: int = 0, device=None, init_fn: Callable[[nn.Module], None] | None = None,
                 n_classes: int | None = None, **overrides):
        if _n_classes_of(discriminator) == 0:
            raise ValueError("discriminator must have a class head: build it with n_classes >= 1, "
                             "e.g. ConvDiscriminator(n_classes=10)")
        self._acc_rows: list[dict] = []
        super().__init__(generator, discriminator, data, config, seed, device, init_fn, n_classes, **overrides)

    def reset(self, seed: int | None = None) -> None:
        """As ``GANTrainer.reset``, with an empty list for each of ``ACGAN_HISTORY_KEYS``."""
        super().reset(seed)
        for key in ACGAN_HISTORY_KEYS:
            self.history[key] = []
        self._acc_rows = []

    def _d_update(self) -> dict:
        c = self.config
        x_real, y_real, x_fake, y_fake = self._d_batch()
        d_real_logits, real_class_logits = self.D(x_real)
        d_fake_logits, fake_class_logits = self.D(x_fake)
        loss = acgan_d_loss(d_real_logits, d_fake_logits, real_class_logits, y_real, fake_class_logits, y_fake,
                            c.real_label)
        self.d_opt.zero_grad(set_to_none=True)
        loss.backward()
        with torch.no_grad():
            stats = torch.stack([
                loss.detach(), torch.sigmoid(d_real_logits).mean(), torch.sigmoid(d_fake_logits).mean(),
                (real_class_logits.argmax(1) == y_real).float().mean(),
                (fake_class_logits.argmax(1) == y_fake).float().mean(),
            ]).tolist()
        out = {"d_loss": check_finite("the discriminator's loss", stats[0]), "d_real": stats[1], "d_fake": stats[2],
               "d_grad_norm": check_finite("the discriminator's gradient norm", grad_norm(self.D.parameters())),
               "d_class_acc_real": stats[3], "d_class_acc_fake": stats[4]}
        self.d_opt.step()
        self.d_updates += 1
        self._acc_rows.append(out)
        return out

    def _g_update(self) -> dict:
        def loss_fn(x_fake, y):
            d_fake_logits, fake_class_logits = self.D(x_fake)
            return acgan_g_loss(d_fake_logits, fake_class_logits, y, self.config.g_loss), d_fake_logits
        return self._g_out(*self._g_grads(loss_fn))

    def step(self) -> dict[str, float]:
        """One iteration of Algorithm 1 (as ``GANTrainer.step``); the record adds ``ACGAN_HISTORY_KEYS``."""
        # GANTrainer averages only its own keys over the iteration's updates: average ours here.
        self._acc_rows = []
        row = super().step()
        rows, self._acc_rows = self._acc_rows, []
        for key in ACGAN_HISTORY_KEYS:
            row[key] = sum(r[key] for r in rows) / len(rows)
            self.history[key].append(row[key])
        self.last.update(row)
        return row
