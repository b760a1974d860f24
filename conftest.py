"""Test-wide settings: every notebook and test runs in quick mode unless told otherwise."""
import os

# Set before nbval starts any kernel, so the kernels inherit it.
os.environ.setdefault("GAN_LESSONS_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_collection_modifyitems(config, items):
    """Run the browser tests (tests/e2e) last: they are the slowest, and nothing runs after them."""
    items.sort(key=lambda item: "e2e" in item.path.parts)
