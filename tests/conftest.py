"""Fixtures for every unit test."""
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every figure a test leaves open, so tests that count figures do not depend on order."""
    yield
    plt.close("all")
