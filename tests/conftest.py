"""Fixtures for every unit test."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test leaves open, so tests that count figures do not depend on order."""
    yield
    plt.close("all")


@pytest.fixture
def one_thread():
    """Tiny convolutions run several times faster on one thread than on two shared cores."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)
