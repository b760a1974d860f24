"""Small models: MLP generators and discriminators, and lesson 01's two classifiers.

Each network is an ``nn.Module`` configured by a dataclass. Discriminators return
logits (see ``losses``): D(x) = sigmoid(logit).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields

import torch
from torch import nn

from .checks import as_array, check_batch, check_generator, check_module, describe
from .utils import check_choice, check_float, check_int

ACTIVATIONS = ("relu", "leaky_relu", "tanh", "elu", "silu", "sigmoid")
OUT_ACTIVATIONS = (None, "identity", "sigmoid", "tanh")
NOISE = ("gaussian", "uniform")


def make_activation(name: str | None, leaky_slope: float = 0.2) -> nn.Module:
    """The activation module called ``name`` (None or "identity" is no activation)."""
    if name in (None, "identity"):
        return nn.Identity()
    check_choice("activation", name, ACTIVATIONS)
    if name == "leaky_relu":
        return nn.LeakyReLU(check_float("leaky_slope", leaky_slope, low=0.0, high=1.0))
    return {"relu": nn.ReLU, "tanh": nn.Tanh, "elu": nn.ELU,
            "silu": nn.SiLU, "sigmoid": nn.Sigmoid}[name]()


def _check_hidden(hidden_dims) -> tuple[int, ...]:
    try:
        dims = tuple(hidden_dims)
    except TypeError:
        raise ValueError(f"hidden_dims must be a tuple of widths, e.g. (64, 64), got {describe(hidden_dims)}") from None
    for i, h in enumerate(dims):
        check_int(f"hidden_dims[{i}]", h, low=1)
    return dims


def _mlp(in_dim: int, hidden_dims, out_dim: int, activation: str, leaky_slope: float) -> nn.Sequential:
    layers: list[nn.Module] = []
    width = in_dim
    for h in hidden_dims:
        layers += [nn.Linear(width, h), make_activation(activation, leaky_slope)]  # (B, h)
        width = h
    layers.append(nn.Linear(width, out_dim))  # (B, out_dim)
    return nn.Sequential(*layers)


def _config(cls, config, kwargs: dict):
    """``config`` if it is a ``cls``, else ``cls(**kwargs)``; a ValueError for anything else."""
    if config is None:
        unknown = sorted(set(kwargs) - {f.name for f in fields(cls)})
        if unknown:
            raise ValueError(f"{cls.__name__} has no setting {', '.join(map(repr, unknown))}; its settings are "
                             f"{', '.join(f.name for f in fields(cls))}")
        return cls(**kwargs)
    if not isinstance(config, cls):
        raise ValueError(f"config must be a {cls.__name__}, got {describe(config)}")
    if kwargs:
        raise ValueError(f"pass either config or settings by keyword ({', '.join(kwargs)}), not both")
    return config


@dataclass
class GeneratorConfig:
    """An MLP generator z -> x.

    Attributes:
        latent_dim: size of the noise vector z.
        hidden_dims: widths of the hidden layers.
        out_dim: size of a sample x (1 for 1-D data, 2 for 2-D, 784 for MNIST).
        activation: hidden activation, one of ACTIVATIONS.
        out_activation: None (linear), "sigmoid" (pixels in [0, 1]) or "tanh" ([-1, 1]).
        noise: "gaussian" N(0, I) or "uniform" U(-1, 1) noise for z.
        out_shape: reshape each output to this, e.g. (1, 28, 28); None keeps (out_dim,).
        leaky_slope: negative slope when activation is "leaky_relu".
    """

    latent_dim: int = 8
    hidden_dims: tuple[int, ...] = (64, 64)
    out_dim: int = 1
    activation: str = "relu"
    out_activation: str | None = None
    noise: str = "gaussian"
    out_shape: tuple[int, ...] | None = None
    leaky_slope: float = 0.2

    def __post_init__(self):
        check_int("latent_dim", self.latent_dim, low=1)
        check_int("out_dim", self.out_dim, low=1)
        self.hidden_dims = _check_hidden(self.hidden_dims)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_choice("out_activation", self.out_activation, OUT_ACTIVATIONS)
        check_choice("noise", self.noise, NOISE)
        check_float("leaky_slope", self.leaky_slope, low=0.0, high=1.0)
        if self.out_shape is not None:
            try:
                self.out_shape = tuple(check_int(f"out_shape[{i}]", s, low=1) for i, s in enumerate(self.out_shape))
            except TypeError:
                raise ValueError(f"out_shape must be a tuple of sizes, e.g. (1, 28, 28), got "
                                 f"{describe(self.out_shape)}") from None
            if math.prod(self.out_shape) != self.out_dim:
                raise ValueError(f"out_shape {self.out_shape} must hold out_dim={self.out_dim} values")


@dataclass
class DiscriminatorConfig:
    """An MLP discriminator x -> logit.

    Attributes:
        in_dim: size of a sample (inputs are flattened first).
        hidden_dims: widths of the hidden layers.
        activation: hidden activation, one of ACTIVATIONS.
        leaky_slope: negative slope when activation is "leaky_relu".
    """

    in_dim: int = 1
    hidden_dims: tuple[int, ...] = (64, 64)
    activation: str = "leaky_relu"
    leaky_slope: float = 0.2

    def __post_init__(self):
        check_int("in_dim", self.in_dim, low=1)
        self.hidden_dims = _check_hidden(self.hidden_dims)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_float("leaky_slope", self.leaky_slope, low=0.0, high=1.0)


class MLPGenerator(nn.Module):
    """G(z): noise of size latent_dim through an MLP to a sample of size out_dim."""

    def __init__(self, config: GeneratorConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(GeneratorConfig, config, kwargs)
        c = self.config
        self.net = _mlp(c.latent_dim, c.hidden_dims, c.out_dim, c.activation, c.leaky_slope)
        self.out = make_activation(c.out_activation)

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` noise vectors z ~ p_z on this model's device, shape (n, latent_dim)."""
        n = check_int("n", n, low=1)
        check_generator(generator)
        device = next(self.parameters()).device
        shape = (n, self.config.latent_dim)
        if self.config.noise == "uniform":
            z = torch.rand(shape, generator=generator) * 2 - 1
        else:
            z = torch.randn(shape, generator=generator)
        return z.to(device)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        check_batch("z", z, self.net[0].in_features, self.net[0].weight)
        x = self.out(self.net(z))  # (B, out_dim)
        if self.config.out_shape is not None:
            x = x.view(x.shape[0], *self.config.out_shape)  # (B, *out_shape)
        return x

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` samples G(z), computed without gradients."""
        return self(self.sample_z(n, generator))


class MLPDiscriminator(nn.Module):
    """D(x) as a logit: an MLP from in_dim inputs to one number."""

    def __init__(self, config: DiscriminatorConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(DiscriminatorConfig, config, kwargs)
        c = self.config
        self.net = _mlp(c.in_dim, c.hidden_dims, 1, c.activation, c.leaky_slope)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_batch("x", x, self.net[0].in_features, self.net[0].weight, flatten=True)
        return self.net(x.flatten(1)).squeeze(1)  # (B,) logits

    @torch.no_grad()
    def prob(self, x: torch.Tensor) -> torch.Tensor:
        """D(x) = sigmoid(logit) without gradients, shape (B,)."""
        return torch.sigmoid(self(x))


def reset_parameters(module: nn.Module) -> None:
    """Re-draw every layer's initial weights (from torch's global generator)."""
    check_module("module", module)
    for m in module.modules():
        if m is not module and hasattr(m, "reset_parameters"):
            m.reset_parameters()


def count_parameters(module: nn.Module) -> int:
    """Number of trainable parameters."""
    check_module("module", module)
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def layer_costs(model: nn.Module, x: torch.Tensor) -> list[dict]:
    r"""Parameters and multiply-adds per example of every layer of ``model`` that has weights.

    For one example, with :math:`c_{in}, c_{out}` channels, a :math:`k_h \times k_w` kernel,
    :math:`H_{in} W_{in}` input and :math:`H_{out} W_{out}` output positions:

    .. math:: \text{Linear: } n_{in} n_{out}, \quad
              \text{Conv2d: } H_{out} W_{out} \, c_{out} c_{in} k_h k_w, \quad
              \text{ConvTranspose2d: } H_{in} W_{in} \, c_{in} c_{out} k_h k_w

    (a convolution computes each output position from one kernel-sized patch; a transposed
    one spreads each input position over one kernel-sized patch). Batch norm's scale and
    shift are counted as parameters but, being one multiply-add per value, not as arithmetic.

    Args:
        model: the network; it is run once on ``x`` in eval mode without gradients.
        x: an input batch the model accepts.
    Returns one dict per layer, in order: ``name``, ``kind``, ``parameters``, ``multiply_adds``.
    """
    check_module("model", model)
    if not isinstance(x, torch.Tensor):
        raise ValueError(f"x must be an input batch (a tensor) for the model, got {describe(x)}")
    rows, hooks = [], []

    def record(name):
        def hook(m, inputs, output):
            n_in, n_out = inputs[0][0].numel(), output[0].numel()  # one example
            if isinstance(m, nn.Linear):
                macs = m.in_features * m.out_features
            elif isinstance(m, nn.Conv2d):
                macs = n_out * m.in_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            elif isinstance(m, nn.ConvTranspose2d):
                macs = n_in * m.out_channels // m.groups * m.kernel_size[0] * m.kernel_size[1]
            else:
                macs = 0
            rows.append({"name": name, "kind": type(m).__name__, "parameters": sum(p.numel() for p in m.parameters()),
                         "multiply_adds": int(macs)})
        return hook

    for name, m in model.named_modules():
        if not list(m.children()) and any(True for _ in m.parameters()):
            hooks.append(m.register_forward_hook(record(name)))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    return rows


# --- lesson 01: a discriminative and a generative classifier -----------------------------

def _rows(x, d: int | None = None) -> torch.Tensor:
    # Points (n, d) as float64, finite; d is checked when given (a fitted model's dimension).
    arr = as_array("x", x, ndim=2)
    if d is not None and arr.shape[1] != d:
        raise ValueError(f"x must have {d} columns, as the points the model was fitted to, got shape {arr.shape}")
    return torch.from_numpy(arr)


def _points_and_labels(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    x = _rows(x)
    y = torch.from_numpy(as_array("y", y, ndim=1))
    if len(y) != len(x):
        raise ValueError(f"y must hold one label per row of x ({len(x)}), got {len(y)}")
    if not torch.equal(y, y.round()):
        raise ValueError("y must be integer class labels")
    return x, y.long()


class LogisticRegression:
    r"""A discriminative model of p(y | x) for two classes.

    .. math:: p(y = 1 \mid x) = \sigma(w^\top x + b)

    Fitted by gradient descent on the mean binary cross-entropy. It can say which
    class a point belongs to, but it cannot draw new points.
    """

    def __init__(self):
        self.w: torch.Tensor | None = None
        self.b: torch.Tensor | None = None

    def fit(self, x, y, num_steps: int = 500, lr: float = 0.5) -> "LogisticRegression":
        """Fit to points ``x`` (n, d) and 0/1 labels ``y`` (n,)."""
        x, y = _points_and_labels(x, y)
        if not torch.all((y == 0) | (y == 1)):
            raise ValueError("y must be 0/1 labels, one per row of x")
        y = y.double()
        num_steps = check_int("num_steps", num_steps, low=1)
        lr = check_float("lr", lr, low=0.0, low_open=True)
        w = torch.zeros(x.shape[1], dtype=torch.float64, requires_grad=True)
        b = torch.zeros((), dtype=torch.float64, requires_grad=True)
        opt = torch.optim.LBFGS([w, b], lr=lr, max_iter=num_steps, line_search_fn="strong_wolfe")

        def closure():
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(x @ w + b, y)
            loss.backward()
            return loss

        opt.step(closure)
        self.w, self.b = w.detach(), b.detach()
        return self

    def predict_proba(self, x) -> torch.Tensor:
        """p(y = 1 | x) for each row of ``x``."""
        if self.w is None:
            raise RuntimeError("call fit(x, y) before predict_proba")
        return torch.sigmoid(_rows(x, len(self.w)) @ self.w + self.b)


@dataclass
class GaussianClassConditional:
    r"""A generative classifier: a Gaussian p(x | y) per class and a prior p(y).

    .. math:: p(y \mid x) = \frac{p(x \mid y)\,p(y)}{\sum_{y'} p(x \mid y')\,p(y')}

    (Bayes' rule). Because it models how x is made, it can also sample new points.
    """

    means: list = field(default_factory=list)
    covs: list = field(default_factory=list)
    priors: list = field(default_factory=list)

    def fit(self, x, y) -> "GaussianClassConditional":
        """Maximum-likelihood mean, covariance and prior of each class: points ``x`` (n, d), labels ``y`` (n,)."""
        x, y = _points_and_labels(x, y)
        self.means, self.covs, self.priors = [], [], []
        for c in sorted(torch.unique(y).tolist()):
            xc = x[y == c]
            if len(xc) < 2:
                raise ValueError(f"class {c} needs at least 2 points to fit a Gaussian, got {len(xc)}")
            self.means.append(xc.mean(0))
            self.covs.append(torch.cov(xc.T, correction=0).reshape(x.shape[1], x.shape[1]))
            self.priors.append(len(xc) / len(x))
        return self

    def _dists(self):
        if not self.means:
            raise RuntimeError("call fit(x, y) first")
        return [torch.distributions.MultivariateNormal(m, c) for m, c in zip(self.means, self.covs)]

    def log_joint(self, x) -> torch.Tensor:
        """(n, C) array of log p(x | y) + log p(y)."""
        dists = self._dists()
        x = _rows(x, len(self.means[0]))
        return torch.stack([d.log_prob(x) + math.log(p) for d, p in zip(dists, self.priors)], 1)

    def predict_proba(self, x) -> torch.Tensor:
        """p(y = 1 | x) by Bayes' rule (two classes)."""
        return torch.softmax(self.log_joint(x), dim=1)[:, -1]

    def sample(self, n: int, generator: torch.Generator | None = None):
        """Draw ``n`` new labelled points: y ~ p(y), then x ~ p(x | y)."""
        n = check_int("n", n, low=1)
        check_generator(generator)
        dists = self._dists()
        y = torch.multinomial(torch.tensor(self.priors, dtype=torch.float64), n, True, generator=generator)
        eps = torch.randn(n, self.means[0].shape[0], generator=generator, dtype=torch.float64)
        chol = torch.stack([d.scale_tril for d in dists])
        mean = torch.stack(self.means)
        x = mean[y] + (chol[y] @ eps[:, :, None]).squeeze(-1)
        return x, y


# --- convolutional and conditional models for 28x28 images (lessons 08-10) ------------------

@dataclass
class DCGANConfig:
    """A DCGAN pair for 28x28 single-channel images (Radford et al. 2016, adapted to MNIST).

    Attributes:
        latent_dim: size of z.
        g_width: channels of G's first feature map (halved at each upsampling).
        d_width: channels of D's first feature map (doubled at each downsampling).
        n_classes: number of labels for conditional models (0 for none).
    """

    latent_dim: int = 100
    g_width: int = 128
    d_width: int = 64
    n_classes: int = 0

    def __post_init__(self):
        check_int("latent_dim", self.latent_dim, low=1)
        check_int("g_width", self.g_width, low=2)
        check_int("d_width", self.d_width, low=1)
        check_int("n_classes", self.n_classes, low=0)


def dcgan_init(module: nn.Module) -> None:
    """DCGAN's initialisation: weights from N(0, 0.02); batch-norm scales from N(1, 0.02), shifts 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d, nn.Linear)):
        nn.init.normal_(module.weight, 0.0, 0.02)
        if module.bias is not None:
            nn.init.zeros_(module.bias)
    elif isinstance(module, nn.BatchNorm2d):
        nn.init.normal_(module.weight, 1.0, 0.02)
        nn.init.zeros_(module.bias)


class ConvGenerator(nn.Module):
    """DCGAN's generator: z (and optionally a label) up to a 28x28 image in [-1, 1].

    All-convolutional with fractionally strided convolutions, batch norm in every layer
    but the output, ReLU inside and tanh at the output (Radford et al. 2016, section 3).
    """

    def __init__(self, config: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(DCGANConfig, config, kwargs)
        c = self.config
        w = c.g_width
        self.net = nn.Sequential(
            nn.ConvTranspose2d(c.latent_dim + c.n_classes, w, 7, 1, 0, bias=False),  # (B, w, 7, 7)
            nn.BatchNorm2d(w), nn.ReLU(),
            nn.ConvTranspose2d(w, w // 2, 4, 2, 1, bias=False),  # (B, w/2, 14, 14)
            nn.BatchNorm2d(w // 2), nn.ReLU(),
            nn.ConvTranspose2d(w // 2, 1, 4, 2, 1),  # (B, 1, 28, 28)
            nn.Tanh(),
        )

    @property
    def latent_dim(self) -> int:
        return self.config.latent_dim

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``n`` Gaussian noise vectors on this model's device, shape (n, latent_dim)."""
        n = check_int("n", n, low=1)
        check_generator(generator)
        return torch.randn(n, self.config.latent_dim, generator=generator).to(next(self.parameters()).device)

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_batch("z", z, self.config.latent_dim, self.net[0].weight)
        h = _with_labels(z, labels, self.config.n_classes)  # (B, latent_dim + n_classes)
        return self.net(h[:, :, None, None])  # (B, 1, 28, 28)


class ConvDiscriminator(nn.Module):
    """DCGAN's discriminator: strided convolutions and LeakyReLU(0.2) down to one logit.

    No batch norm on the input layer (Radford et al. 2016). With ``n_classes > 0`` it
    also returns class logits, as AC-GAN's discriminator does (Odena et al. 2017).
    """

    def __init__(self, config: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(DCGANConfig, config, kwargs)
        w = self.config.d_width
        self.features = nn.Sequential(
            nn.Conv2d(1, w, 4, 2, 1), nn.LeakyReLU(0.2),  # (B, w, 14, 14)
            nn.Conv2d(w, 2 * w, 4, 2, 1, bias=False),  # (B, 2w, 7, 7)
            nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2),
            nn.Flatten(),  # (B, 2w * 49)
        )
        self.source = nn.Linear(2 * w * 49, 1)  # real/fake logit
        self.classes = nn.Linear(2 * w * 49, self.config.n_classes) if self.config.n_classes else None

    def forward(self, x: torch.Tensor):
        check_batch("x", x, 784, self.source.weight, flatten=True)  # (B, 784), (B, 28, 28) or (B, 1, 28, 28)
        h = self.features(x.reshape(-1, 1, 28, 28))
        logit = self.source(h).squeeze(1)  # (B,)
        if self.classes is None:
            return logit
        return logit, self.classes(h)  # (B,), (B, n_classes)


class ConditionalConvDiscriminator(nn.Module):
    r"""DCGAN's discriminator for a conditional GAN: D(x, y) sees the label as well as the image.

    The one-hot label y enters three times, after the conditional MNIST DCGAN of Radford et
    al.'s released code (simplified: theirs also has a 1,024-unit dense layer with y appended
    once more): as ``n_classes`` constant planes beside the image, again beside the first
    layer's feature maps, and beside the flattened features before the logit. With
    ``n_classes`` planes :math:`Y_{k, i, j} = [y = k]`:

    .. math:: D(x, y) = w^\top [\,\phi_2([\phi_1([x; Y]); Y]);\ \text{onehot}(y)\,] + b

    where :math:`\phi_1, \phi_2` are ``ConvDiscriminator``'s two strided convolutions
    (LeakyReLU, batch norm on the second). Same widths as ``ConvDiscriminator``, so a
    conditional GAN and an AC-GAN built from one ``DCGANConfig`` differ only in how D uses
    the label (here an input; in AC-GAN a second output).
    """

    def __init__(self, config: DCGANConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(DCGANConfig, config, kwargs)
        w, k = self.config.d_width, self.config.n_classes
        if k < 1:
            raise ValueError(f"n_classes must be at least 1 for a conditional discriminator, got {k}")
        self.down1 = nn.Sequential(nn.Conv2d(1 + k, w, 4, 2, 1), nn.LeakyReLU(0.2))  # (B, w, 14, 14)
        self.down2 = nn.Sequential(nn.Conv2d(w + k, 2 * w, 4, 2, 1, bias=False),  # (B, 2w, 7, 7)
                                   nn.BatchNorm2d(2 * w), nn.LeakyReLU(0.2), nn.Flatten())
        self.source = nn.Linear(2 * w * 49 + k, 1)

    @staticmethod
    def _planes(one_hot: torch.Tensor, side: int) -> torch.Tensor:
        return one_hot[:, :, None, None].expand(-1, -1, side, side)  # (B, K, side, side)

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_batch("x", x, 784, self.source.weight, flatten=True)
        x = x.reshape(-1, 1, 28, 28)
        y = _with_labels(x.new_zeros(x.shape[0], 0), labels, self.config.n_classes)  # (B, K) one-hot
        h = self.down1(torch.cat([x, self._planes(y, 28)], 1))
        h = self.down2(torch.cat([h, self._planes(y, 14)], 1))
        return self.source(torch.cat([h, y], 1)).squeeze(1)  # (B,)


def _with_labels(x: torch.Tensor, labels: torch.Tensor | None, n_classes: int) -> torch.Tensor:
    # Conditioning by concatenating a one-hot label (Mirza and Osindero 2014).
    if n_classes == 0:
        if labels is not None:
            raise ValueError("labels were given to a model built with n_classes=0")
        return x
    if labels is None:
        raise ValueError(f"this model is conditional: pass labels, integers in 0..{n_classes - 1}")
    try:
        labels = torch.as_tensor(labels, device=x.device)
    except (TypeError, ValueError, RuntimeError):
        raise ValueError(f"labels must be integers in 0..{n_classes - 1}, got {describe(labels)}") from None
    if labels.shape != (x.shape[0],):
        raise ValueError(f"labels must have shape ({x.shape[0]},), one per row, got {tuple(labels.shape)}")
    if (labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool
            or (len(labels) and (labels.min() < 0 or labels.max() >= n_classes))):
        raise ValueError(f"labels must be integers in 0..{n_classes - 1}")
    return torch.cat([x, nn.functional.one_hot(labels.long(), n_classes).to(x.dtype)], dim=1)


class ConditionalMLPGenerator(MLPGenerator):
    """G(z, y): the label's one-hot vector is concatenated to z (Mirza and Osindero 2014)."""

    def __init__(self, config: GeneratorConfig | None = None, n_classes: int = 10, **kwargs):
        base = _config(GeneratorConfig, config, kwargs)
        self.n_classes = check_int("n_classes", n_classes, low=1)
        wide = GeneratorConfig(**{**base.__dict__, "latent_dim": base.latent_dim + n_classes})
        super().__init__(wide)
        self.config = base  # latent_dim stays the noise size

    def forward(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_batch("z", z, self.config.latent_dim, self.net[0].weight)
        return super().forward(_with_labels(z, labels, self.n_classes))


class ConditionalMLPDiscriminator(MLPDiscriminator):
    """D(x, y): the label's one-hot vector is concatenated to the flattened x."""

    def __init__(self, config: DiscriminatorConfig | None = None, n_classes: int = 10, **kwargs):
        base = _config(DiscriminatorConfig, config, kwargs)
        self.n_classes = check_int("n_classes", n_classes, low=1)
        super().__init__(DiscriminatorConfig(**{**base.__dict__, "in_dim": base.in_dim + n_classes}))
        self.config = base

    def forward(self, x: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        check_batch("x", x, self.config.in_dim, self.net[0].weight, flatten=True)
        return self.net(_with_labels(x.flatten(1), labels, self.n_classes)).squeeze(1)


# --- lesson 01: one answer or many: a regression and a model of p(y | x) ----------------------

@dataclass
class RegressionConfig:
    """An MLP from x to y: a regression (one output) or a mixture density network (3K outputs).

    Attributes:
        in_dim: size of the input x.
        hidden_dims: widths of the hidden layers.
        activation: hidden activation, one of ACTIVATIONS.
        n_components: K, the mixture's components (the mixture density network only).
    """

    in_dim: int = 1
    hidden_dims: tuple[int, ...] = (64, 64)
    activation: str = "tanh"
    n_components: int = 2

    def __post_init__(self):
        check_int("in_dim", self.in_dim, low=1)
        self.hidden_dims = _check_hidden(self.hidden_dims)
        check_choice("activation", self.activation, ACTIVATIONS)
        check_int("n_components", self.n_components, low=1)


class MLPRegressor(nn.Module):
    """f(x): one prediction per input. Trained with squared error it learns E[y | x] (Bishop 1994)."""

    def __init__(self, config: RegressionConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(RegressionConfig, config, kwargs)
        c = self.config
        self.net = _mlp(c.in_dim, c.hidden_dims, 1, c.activation, 0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        check_batch("x", x, self.config.in_dim, self.net[0].weight)
        return self.net(x)  # (B, 1)


class MixtureDensityNetwork(nn.Module):
    r"""p(y | x) as a Gaussian mixture whose weights, means and widths an MLP computes from x.

    .. math:: p(y \mid x) = \sum_{k=1}^K \pi_k(x)\, \mathcal N\big(y \mid \mu_k(x), \sigma_k(x)^2\big)

    Bishop 1994. Trained by maximum likelihood (``losses.mixture_nll``); it can sample
    several answers y for one x, where a regression gives one.
    """

    def __init__(self, config: RegressionConfig | None = None, **kwargs):
        super().__init__()
        self.config = _config(RegressionConfig, config, kwargs)
        c = self.config
        self.net = _mlp(c.in_dim, c.hidden_dims, 3 * c.n_components, c.activation, 0.2)
        self.spread_means()

    @torch.no_grad()
    def spread_means(self) -> None:
        """Start the K means spread evenly over [-1, 1]: components that start apart do not swap roles
        part-way along x, which would leave a stretch where the mixture is broad and wrong."""
        k = self.config.n_components
        self.net[-1].bias[k:2 * k] = torch.linspace(-1.0, 1.0, k) if k > 1 else 0.0

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(logits, means, log_stds) of each row's mixture, each of shape (B, K)."""
        check_batch("x", x, self.config.in_dim, self.net[0].weight)
        return self.net(x).chunk(3, dim=1)  # 3 x (B, K)

    def nll(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """The mean negative log-likelihood of the targets ``y`` (B, 1) given ``x``."""
        from .losses import mixture_nll

        return mixture_nll(*self(x), y)

    @torch.no_grad()
    def sample(self, x: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        """One y ~ p(y | x) per row of ``x``, shape (B, 1): pick a component k ~ pi(x), then add its noise."""
        check_generator(generator)
        logits, means, log_stds = self(x)
        k = torch.multinomial(torch.softmax(logits, dim=1).cpu(), 1, generator=generator).to(x.device)  # (B, 1)
        noise = torch.randn(len(x), 1, generator=generator).to(x.device)
        return means.gather(1, k) + log_stds.exp().gather(1, k) * noise
