r"""The GAN losses of Goodfellow et al. 2014, one function per equation.

Every function takes the discriminator's *logits* a = logit D(.) rather than
probabilities: log D = log sigmoid(a) = -softplus(-a) and log(1 - D) = -softplus(a)
are exact identities that stay finite when D saturates, where log(sigmoid(a)) would
round to log(0) = -inf.
"""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .checks import as_tensor, describe
from .utils import check_choice, check_float

GENERATOR_LOSSES = ("minimax", "nonsaturating")


def log_d(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\log D = \log \sigma(a) = -\operatorname{softplus}(-a)`, elementwise."""
    return -F.softplus(-as_tensor("logits", logits))


def log_one_minus_d(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(1 - D) = \log \sigma(-a) = -\operatorname{softplus}(a)`, elementwise."""
    return -F.softplus(as_tensor("logits", logits))


def value_function(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The value function of the minimax game, estimated on a minibatch.

    .. math:: V(D, G) = \mathbb E_{x \sim p_{data}}[\log D(x)]
              + \mathbb E_{z \sim p_z}[\log(1 - D(G(z)))]

    Goodfellow et al. 2014, equation (1). D maximises it; G minimises it.
    """
    d_real_logits, d_fake_logits = as_tensor("d_real_logits", d_real_logits), as_tensor("d_fake_logits", d_fake_logits)
    return log_d(d_real_logits).mean() + log_one_minus_d(d_fake_logits).mean()


def d_loss(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor,
           real_label: float = 1.0) -> torch.Tensor:
    r"""The discriminator's loss: binary cross-entropy with real = 1 and fake = 0.

    .. math:: L_D = -\frac1m \sum_i \big[\log D(x^{(i)}) + \log(1 - D(G(z^{(i)})))\big] = -V(D, G)

    Goodfellow et al. 2014, Algorithm 1 (D ascends V; we descend -V).

    Args:
        d_real_logits: D's logits on real data x.
        d_fake_logits: D's logits on generated data G(z).
        real_label: target for real data; 1.0 is the paper, 0.9 is one-sided label
            smoothing (Salimans et al. 2016), which departs from it on purpose.
    """
    real_label = check_float("real_label", real_label, low=0.5, high=1.0)
    d_real_logits, d_fake_logits = as_tensor("d_real_logits", d_real_logits), as_tensor("d_fake_logits", d_fake_logits)
    real_term = real_label * F.softplus(-d_real_logits) + (1 - real_label) * F.softplus(d_real_logits)
    return real_term.mean() + F.softplus(d_fake_logits).mean()


def g_loss_minimax(d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The generator's minimax loss, which G minimises.

    .. math:: L_G^{\text{minimax}} = \frac1m \sum_i \log\big(1 - D(G(z^{(i)}))\big)

    Goodfellow et al. 2014, Algorithm 1. Its gradient vanishes when D confidently
    rejects the samples (D(G(z)) near 0), which is exactly the start of training.
    """
    return log_one_minus_d(as_tensor("d_fake_logits", d_fake_logits)).mean()


def g_loss_nonsaturating(d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The generator's non-saturating loss, which G minimises.

    .. math:: L_G^{\text{NS}} = -\frac1m \sum_i \log D(G(z^{(i)}))

    Goodfellow et al. 2014, section 3: "rather than training G to minimize
    log(1 - D(G(z))) we can train G to maximize log D(G(z))". Same fixed point,
    strong gradients early in learning.
    """
    return -log_d(as_tensor("d_fake_logits", d_fake_logits)).mean()


def generator_loss(d_fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator loss named by ``kind``: "minimax" or "nonsaturating"."""
    check_choice("kind", kind, GENERATOR_LOSSES)
    if kind == "minimax":
        return g_loss_minimax(d_fake_logits)
    return g_loss_nonsaturating(d_fake_logits)


# --- AC-GAN: a source term and a class term (Odena et al. 2017) -------------------------------

def _class_loglik(class_logits: torch.Tensor, labels: torch.Tensor, logits_name: str,
                  labels_name: str) -> torch.Tensor:
    # Mean log P(C = c | X) under D's softmax: log_softmax picked at the label (a stable log p).
    class_logits = as_tensor(logits_name, class_logits)
    if not isinstance(labels, torch.Tensor):
        try:
            labels = torch.as_tensor(labels, device=class_logits.device)
        except (TypeError, ValueError, RuntimeError):
            raise ValueError(f"{labels_name} must be integer class labels, got {describe(labels)}") from None
    if class_logits.ndim != 2 or class_logits.shape[1] < 1:
        raise ValueError(f"{logits_name} must have shape (B, n_classes), got {tuple(class_logits.shape)}")
    n, n_classes = class_logits.shape
    if labels.shape != (n,):
        raise ValueError(f"{labels_name} must have shape ({n},), one label per row of {logits_name}, "
                         f"got {tuple(labels.shape)}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"{labels_name} must be integers in 0..{n_classes - 1}, got dtype {labels.dtype}")
    if n and (int(labels.min()) < 0 or int(labels.max()) >= n_classes):
        raise ValueError(f"{labels_name} must be integers in 0..{n_classes - 1}, got values from "
                         f"{int(labels.min())} to {int(labels.max())}")
    log_p = torch.log_softmax(class_logits, dim=1)  # (B, n_classes)
    return log_p.gather(1, labels.long()[:, None]).mean()


def acgan_source_loglik(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""AC-GAN's log-likelihood of the correct source, :math:`L_S`, which D maximises.

    .. math:: L_S = \mathbb E[\log P(S = \text{real} \mid X_{\text{real}})]
              + \mathbb E[\log P(S = \text{fake} \mid X_{\text{fake}})]

    Odena et al. 2017, section 3, equation (2). With :math:`P(S = \text{real} \mid x) = D(x)
    = \sigma(a)` it is the value function V(D, G) of Goodfellow et al. 2014, equation (1).

    Args:
        d_real_logits: (B,) source logits a of D on real images.
        d_fake_logits: (B',) source logits of D on generated images G(z, c).
    """
    return value_function(d_real_logits, d_fake_logits)


def acgan_class_loglik(real_class_logits: torch.Tensor, real_labels: torch.Tensor,
                       fake_class_logits: torch.Tensor, fake_labels: torch.Tensor) -> torch.Tensor:
    r"""AC-GAN's log-likelihood of the correct class, :math:`L_C`, which both D and G maximise.

    .. math:: L_C = \mathbb E[\log P(C = c \mid X_{\text{real}})]
              + \mathbb E[\log P(C = c \mid X_{\text{fake}})],
              \qquad P(C = c \mid x) = \operatorname{softmax}(\ell(x))_c

    Odena et al. 2017, section 3, equation (3). Each term is minus the cross-entropy of D's
    class logits :math:`\ell` with the labels: c is the true label of a real image and the
    requested label of a generated one.

    Args:
        real_class_logits: (B, n_classes) D's class logits on real images.
        real_labels: (B,) their labels, integers in 0..n_classes - 1.
        fake_class_logits: (B', n_classes) D's class logits on generated images.
        fake_labels: (B',) the labels G was asked for, integers in 0..n_classes - 1.
    """
    return (_class_loglik(real_class_logits, real_labels, "real_class_logits", "real_labels")
            + _class_loglik(fake_class_logits, fake_labels, "fake_class_logits", "fake_labels"))


def acgan_d_loss(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor,
                 real_class_logits: torch.Tensor, real_labels: torch.Tensor,
                 fake_class_logits: torch.Tensor, fake_labels: torch.Tensor,
                 real_label: float = 1.0) -> torch.Tensor:
    r"""AC-GAN's discriminator loss, which D minimises: :math:`L_D = -(L_S + L_C)`.

    .. math:: L_D = -\mathbb E[\log D(x)] - \mathbb E[\log(1 - D(G(z, c)))]
              - \mathbb E[\log P(C = c \mid x)] - \mathbb E[\log P(C = c \mid G(z, c))]

    Odena et al. 2017, section 3: "D is trained to maximize L_S + L_C".

    Args:
        d_real_logits, d_fake_logits: (B,) and (B',) source logits on real and generated images.
        real_class_logits, real_labels: (B, n_classes) class logits on real images, their labels.
        fake_class_logits, fake_labels: (B', n_classes) class logits on generated images, the
            labels G was asked for.
        real_label: target of real images in the source term, in [0.5, 1]; 1.0 is the paper,
            below 1 is one-sided label smoothing (Salimans et al. 2016), a departure on purpose.
    """
    source = d_loss(d_real_logits, d_fake_logits, real_label)  # = -L_S when real_label = 1
    return source - acgan_class_loglik(real_class_logits, real_labels, fake_class_logits, fake_labels)


def acgan_g_loss(d_fake_logits: torch.Tensor, fake_class_logits: torch.Tensor, fake_labels: torch.Tensor,
                 kind: str = "nonsaturating") -> torch.Tensor:
    r"""AC-GAN's generator loss, which G minimises; ``kind`` picks the source term.

    G maximises :math:`L_C - L_S` (Odena et al. 2017, section 3). Of its four expectations,
    :math:`\mathbb E[\log P(S = \text{real} \mid X_{\text{real}})]` and
    :math:`\mathbb E[\log P(C = c \mid X_{\text{real}})]` do not depend on G and are dropped:

    .. math:: L_G^{\text{minimax}} = \mathbb E[\log(1 - D(G(z, c)))]
              - \mathbb E[\log P(C = c \mid G(z, c))]

    .. math:: L_G^{\text{NS}} = -\mathbb E[\log D(G(z, c))] - \mathbb E[\log P(C = c \mid G(z, c))]

    The default, "nonsaturating", swaps the source term as Goodfellow et al. 2014, section 3,
    recommend: it has the same fixed point but a strong gradient early in training, when D
    rejects every sample and :math:`\log(1 - D(G(z)))` is flat.

    Args:
        d_fake_logits: (B,) D's source logits on generated images.
        fake_class_logits: (B, n_classes) D's class logits on the same images.
        fake_labels: (B,) the labels G was asked for, integers in 0..n_classes - 1.
        kind: "nonsaturating" or "minimax".
    """
    check_choice("kind", kind, GENERATOR_LOSSES)
    class_term = _class_loglik(fake_class_logits, fake_labels, "fake_class_logits", "fake_labels")
    return generator_loss(d_fake_logits, kind) - class_term


# --- lesson 01: a model of p(y | x), fitted by maximum likelihood ------------------------------

def mixture_nll(logits: torch.Tensor, means: torch.Tensor, log_stds: torch.Tensor,
                y: torch.Tensor) -> torch.Tensor:
    r"""The mean negative log-likelihood of targets y under one Gaussian mixture per row.

    .. math:: L = -\frac1n \sum_{i=1}^n \log \sum_{k=1}^K \pi_k(x_i)\,
              \mathcal N\big(y_i \mid \mu_k(x_i), \sigma_k(x_i)^2\big),
              \qquad \pi(x_i) = \operatorname{softmax}(\text{logits}_i)

    The loss of a mixture density network (Bishop 1994). Computed from log-weights and
    log-densities with logsumexp, so a point far from every component gives a large
    finite loss rather than log(0).

    Args:
        logits, means, log_stds: (n, K) the mixture of each row: weights before the softmax,
            centres mu_k and log sigma_k.
        y: (n,) or (n, 1) targets.
    """
    logits, means = as_tensor("logits", logits), as_tensor("means", means)
    log_stds = as_tensor("log_stds", log_stds)
    if logits.ndim != 2 or means.shape != logits.shape or log_stds.shape != logits.shape:
        raise ValueError(f"logits, means and log_stds must all have shape (n, K), got {tuple(logits.shape)}, "
                         f"{tuple(means.shape)} and {tuple(log_stds.shape)}")
    y = as_tensor("y", y)
    if y.numel() != logits.shape[0]:
        raise ValueError(f"y must hold one target per row ({logits.shape[0]}), got shape {tuple(y.shape)}")
    y = y.reshape(-1, 1).to(means.dtype)
    log_normal = -0.5 * ((y - means) / log_stds.exp()) ** 2 - log_stds - 0.5 * math.log(2 * math.pi)
    return -torch.logsumexp(torch.log_softmax(logits, dim=1) + log_normal, dim=1).mean()
