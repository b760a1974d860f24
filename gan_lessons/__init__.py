"""gan-lessons: the helper package of an interactive course on Generative Adversarial Networks."""
from .utils import (budget, checkpoint_dir, data_dir, get_device, make_generator, quick_mode,
                    set_seed)

__version__ = "0.1.0"
__all__ = ["budget", "checkpoint_dir", "data_dir", "get_device", "make_generator", "quick_mode",
           "set_seed", "__version__"]
