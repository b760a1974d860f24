"""Test doubles shared by the unit tests: models whose outputs can be worked out by hand."""
import io

import PIL.Image
import torch
from torch import nn

from gan_lessons.classifier import MnistClassifier


def pixel_classifier() -> MnistClassifier:
    """A hand-set classifier whose logit k is pixel k: an image with only pixel k lit is read as digit k."""
    model = MnistClassifier()
    model.body = nn.Sequential(nn.Flatten(), nn.Linear(784, 128, bias=False))
    with torch.no_grad():
        model.body[1].weight.copy_(torch.eye(128, 784))  # feature j = pixel j
        model.head.weight.copy_(torch.eye(10, 128))      # logit k = feature k
        model.head.bias.zero_()
    return model


def lit_pixel_images(digits) -> torch.Tensor:
    """(n, 784) images, each black but for pixel ``digits[i]``."""
    x = torch.zeros(len(digits), 784)
    x[torch.arange(len(digits)), torch.as_tensor(digits)] = 1.0
    return x


class LabelEchoG(nn.Module):
    """A conditional G whose every pixel is the label it was given (and -1 without a label)."""

    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.dummy = nn.Parameter(torch.zeros(1))

    def sample_z(self, n, generator=None):
        return torch.randn(n, self.latent_dim, generator=generator)

    def forward(self, z, labels=None):
        if labels is None:
            return torch.full((len(z), 784), -1.0)
        return labels.float()[:, None].expand(len(z), 784).clone()


def png_size(data: bytes) -> tuple[int, int]:
    """The (width, height) of PNG bytes."""
    return PIL.Image.open(io.BytesIO(data)).size
