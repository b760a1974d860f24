r"""The training lab: train a small GAN live in the notebook and change how it trains.

Three layers, as in the house style, in their own modules; this one gathers them:

* compute: ``lab_compute`` (targets, models, the 1-D frame, D's view under each remedy, the
  warnings) and ``lab_views`` (the 2-D frame, G's gradient arrows, the manifold, p_g and D*);
* figure: ``lab_figure`` (a figure built once whose artists move to each frame);
* panel: ``lab_panel`` (``TrainingLab`` and ``make_lab``: the controls, Play, the steps
  and their slow motion ``lab_stages``, the code of one step ``lab_code``, your points
  ``lab_data``).
"""
from .lab_compute import (
                          BATCH_SIZES,
                          CUSTOM,
                          DEFAULT_TARGET,
                          LIMITS,
                          MIN_G_UPDATES_PER_MODE,
                          N_FIXED,
                          TARGETS,
                          DiscriminatorView,
                          compute_binned_kde_1d,
                          compute_frame,
                          compute_frame_1d,
                          compute_kde_1d,
                          compute_warnings,
                          d_accuracy,
                          d_on_points,
                          default_models,
                          make_target,
                          min_g_updates_to_judge_coverage,
                          optimal_d,
                          view_of,
)
from .lab_figure import (
                          LAYERS_1D,
                          LAYERS_2D,
                          build_lab_figure,
                          build_snapshot,
                          draw_lab_figure,
                          draw_snapshot,
                          draw_stage,
                          plot_snapshot,
                          render_figure,
                          set_layers,
)
from .lab_panel import REMEDIES, TrainingLab, make_lab, remedy_trainer
from .lab_stages import Stage, staged_update
from .lab_views import (
                          adam_step,
                          cell_mean_density,
                          compute_binned_kde_2d,
                          compute_frame_2d,
                          compute_g_arrows,
                          compute_manifold,
                          generator_objective,
                          smoothed_p_data,
                          smoothing_bandwidth,
)

__all__ = [
    "BATCH_SIZES", "CUSTOM", "DEFAULT_TARGET", "LAYERS_1D", "LAYERS_2D", "LIMITS", "MIN_G_UPDATES_PER_MODE",
    "N_FIXED", "REMEDIES", "TARGETS", "DiscriminatorView", "Stage", "TrainingLab", "adam_step", "build_lab_figure",
    "build_snapshot", "cell_mean_density", "compute_binned_kde_1d", "compute_binned_kde_2d", "compute_frame", "compute_frame_1d",
    "compute_frame_2d", "compute_g_arrows", "compute_kde_1d", "compute_manifold", "compute_warnings",
    "d_accuracy", "d_on_points", "default_models", "draw_lab_figure", "draw_snapshot", "draw_stage",
    "generator_objective", "make_lab", "make_target", "min_g_updates_to_judge_coverage", "optimal_d",
    "plot_snapshot", "remedy_trainer", "render_figure", "set_layers", "smoothed_p_data", "smoothing_bandwidth",
    "staged_update", "view_of",
]
