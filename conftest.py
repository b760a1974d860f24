"""Test-wide settings: every notebook and test runs in quick mode unless told otherwise."""
import os

# Set before nbval starts any kernel, so the kernels inherit it.
os.environ.setdefault("GAN_LESSONS_QUICK", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
