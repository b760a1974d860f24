"""Test-wide settings: every notebook and test runs in quick mode unless told otherwise."""
import os
import tempfile

# Set before nbval starts any kernel, so the kernels inherit them.
os.environ.setdefault("GAN_LESSONS_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# The MNIST lessons' quick-mode weights go to a scratch folder shared by this run's lessons
# (lesson 11 loads what 08-10 trained), never into the learner's own checkpoint folder.
os.environ.setdefault("GAN_LESSONS_CHECKPOINTS", tempfile.mkdtemp(prefix="gan_lessons_test_checkpoints_"))


def pytest_collection_modifyitems(config, items):
    """Run the browser tests (tests/e2e) last: they are the slowest, and nothing runs after them."""
    items.sort(key=lambda item: "e2e" in item.path.parts)
