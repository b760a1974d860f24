r"""The GAN losses of Goodfellow et al. 2014, one function per equation.

Every function takes the discriminator's *logits* a = logit D(.) rather than
probabilities: log D = log sigmoid(a) = -softplus(-a) and log(1 - D) = -softplus(a)
are exact identities that stay finite when D saturates, where log(sigmoid(a)) would
round to log(0) = -inf.
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .utils import check_choice, check_float

GENERATOR_LOSSES = ("minimax", "nonsaturating")


def log_d(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\log D = \log \sigma(a) = -\operatorname{softplus}(-a)`, elementwise."""
    return -F.softplus(-logits)


def log_one_minus_d(logits: torch.Tensor) -> torch.Tensor:
    r""":math:`\log(1 - D) = \log \sigma(-a) = -\operatorname{softplus}(a)`, elementwise."""
    return -F.softplus(logits)


def value_function(d_real_logits: torch.Tensor, d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The value function of the minimax game, estimated on a minibatch.

    .. math:: V(D, G) = \mathbb E_{x \sim p_{data}}[\log D(x)]
              + \mathbb E_{z \sim p_z}[\log(1 - D(G(z)))]

    Goodfellow et al. 2014, equation (1). D maximises it; G minimises it.
    """
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
    real_term = real_label * F.softplus(-d_real_logits) + (1 - real_label) * F.softplus(d_real_logits)
    return real_term.mean() + F.softplus(d_fake_logits).mean()


def g_loss_minimax(d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The generator's minimax loss, which G minimises.

    .. math:: L_G^{\text{minimax}} = \frac1m \sum_i \log\big(1 - D(G(z^{(i)}))\big)

    Goodfellow et al. 2014, Algorithm 1. Its gradient vanishes when D confidently
    rejects the samples (D(G(z)) near 0), which is exactly the start of training.
    """
    return log_one_minus_d(d_fake_logits).mean()


def g_loss_nonsaturating(d_fake_logits: torch.Tensor) -> torch.Tensor:
    r"""The generator's non-saturating loss, which G minimises.

    .. math:: L_G^{\text{NS}} = -\frac1m \sum_i \log D(G(z^{(i)}))

    Goodfellow et al. 2014, section 3: "rather than training G to minimize
    log(1 - D(G(z))) we can train G to maximize log D(G(z))". Same fixed point,
    strong gradients early in learning.
    """
    return -log_d(d_fake_logits).mean()


def generator_loss(d_fake_logits: torch.Tensor, kind: str = "nonsaturating") -> torch.Tensor:
    """The generator loss named by ``kind``: "minimax" or "nonsaturating"."""
    check_choice("kind", kind, GENERATOR_LOSSES)
    if kind == "minimax":
        return g_loss_minimax(d_fake_logits)
    return g_loss_nonsaturating(d_fake_logits)
