"""The paper's Figures 2-15, and the restart-policy figure, from the pipeline's tables.

Every `fig*` function takes tables (pandas DataFrames) and its settings and returns a
`matplotlib.figure.Figure` (object-oriented API, no pyplot state);
`weightdyn.pipeline.io.save_figure` writes it as PNG and PDF. `FIGURES` maps each output
name to the tables it needs and its drawing, which is what the figure rules use.

Modules: `style` (options, settings order and names, markers, ticks), `losses` (Figs.
2-4), `exponents` (Figs. 5-7, 14), `angles` (Figs. 8, 9), `auc` (Figs. 10-13, 15),
`restart` (the restart policy), `registry` (FIGURES, make_figure). Final losses are shown
on log scales (Figs. 3, 4, 7-9, 14), the densities of Lyapunov exponents on a log
density axis (Figs. 5, 6).
"""
from .angles import fig08_cos_vs_loss, fig09_mean_cos_vs_loss, fig_clv_convergence
from .auc import fig15_roc, fig_auc_vs_time, roc_predictor
from .exponents import fig_le_distributions, fig_le_vs_loss
from .losses import fig02_data, fig_final_loss
from .registry import FIGURES, FigureSpec, make_figure
from .restart import fig16_restart_policy
from .style import GROUP_COLOURS, FigureConfig, activations_of, n_hist_bins, scatter_style

__all__ = [
    "FIGURES", "FigureSpec", "make_figure", "FigureConfig", "GROUP_COLOURS", "activations_of", "n_hist_bins",
    "scatter_style", "fig02_data", "fig_final_loss", "fig_le_distributions", "fig_le_vs_loss", "fig08_cos_vs_loss",
    "fig09_mean_cos_vs_loss", "fig_clv_convergence", "fig_auc_vs_time", "roc_predictor", "fig15_roc", "fig16_restart_policy",
]
