"""Figures as pure functions (data in, plotly Figure out): the app draws them, tests call them directly.
`slimcore.viz.tensorboard` writes the same data as TensorBoard event files (imported on its own: optional package)."""
from slimcore.viz.curves import flops_percent, tradeoff_curve, tradeoff_overlay, training_curves
from slimcore.viz.gamma import gamma_heatmap, gamma_histogram, gamma_overlay, layer_gamma, split_layers
from slimcore.viz.layers import layer_widths
from slimcore.viz.penalty import penalty_curves, penalty_plot, penalty_slope
from slimcore.viz.penalty_demos import gram_plot, mode_race_plot, rescaling_plot
from slimcore.viz.sensitivity import sensitivity_heatmap

__all__ = [
    "flops_percent", "gamma_heatmap", "gram_plot", "mode_race_plot", "rescaling_plot", "penalty_slope", "gamma_histogram", "gamma_overlay", "layer_gamma", "layer_widths",
    "penalty_curves", "penalty_plot", "sensitivity_heatmap", "split_layers", "tradeoff_curve", "tradeoff_overlay", "training_curves",
]
