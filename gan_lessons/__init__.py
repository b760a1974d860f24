"""gan-lessons: the helper package of an interactive course on Generative Adversarial Networks."""
from .claims import claim, quick_note
from .utils import (budget, checkpoint_dir, data_dir, get_device, make_generator, quick_mode,
                    set_seed)

__version__ = "0.1.0"
__all__ = ["budget", "claim", "quick_note", "checkpoint_dir", "data_dir", "get_device", "make_generator", "quick_mode",
           "set_seed", "__version__"]
