"""What every figure shares: its options, the order and names of the settings, which
runs a final-loss axis shows, and the look of markers, histograms, ticks and titles.

Readability for any number of runs: marker size and opacity shrink as the number of
points grows (`scatter_style`), histogram bins grow with it (`n_hist_bins`), dense
scatter layers are rasterized inside the PDF, and panels without data say so (`note`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib import ticker

from ...analysis.angles import AngleSetup
from ...analysis.config import PredictConfig
from ...analysis.events import usable
from ...engine import columns as col
from ...model.activations import ACTIVATIONS
from ..labels import activation_name, init_name

LOSS_LABEL = r"final loss $c_f$"
# spacing of the blocks of panels of Figs. 5-7 and 14 (fixed, without a layout engine)
EXPONENT_GRID = dict(left=0.13, right=0.97, bottom=0.1, top=0.86, wspace=0.45, hspace=0.6)
GROUP_COLOURS = {"tangent": "tab:red", "intermediate": "tab:blue", "orthogonal": "black"}


FIGURE_KEYS = ("dpi", "cos_tangent", "cos_orthogonal", "cos_quantile", "cos_max_vectors", "clv_start_tolerance")


@dataclass(frozen=True)
class FigureConfig:
    """Options of the figures (`figures` of the pipeline config): dpi of the PNGs, and how
    the end-of-training angles are read (`analysis.angles.AngleSetup`: the colour groups
    of Fig. 8, the tolerance of a determined CLV, the start and the windows), and the
    number of leading CLVs whose pairs Fig. 8 draws."""

    dpi: int
    angles: AngleSetup
    cos_max_vectors: int

    @classmethod
    def from_config(cls, cfg: dict) -> "FigureConfig":
        """From `figures` (which must set every option and no other) and `lyapunov` of a
        pipeline config."""
        f = cfg["figures"]
        missing, unknown = sorted(set(FIGURE_KEYS) - set(f)), sorted(set(f) - set(FIGURE_KEYS))
        if unknown:
            raise ValueError(f"figures: unknown options {unknown}")
        if missing:
            raise KeyError(f"figures: missing options {missing}")
        if int(f["cos_max_vectors"]) < 2:
            raise ValueError(f"figures.cos_max_vectors: {f['cos_max_vectors']} draws no pair (at least 2)")
        return cls(dpi=int(f["dpi"]), angles=AngleSetup.from_config(cfg), cos_max_vectors=int(f["cos_max_vectors"]))


# ----------------------------------------------------------------------------------
# Settings and runs.

def in_registry_order(names) -> list[str]:
    """The distinct activation `names` in the order of the activation registry; names the
    registry does not know come last, sorted."""
    present = set(names)
    return [a for a in ACTIVATIONS if a in present] + sorted(present - set(ACTIVATIONS))


def activations_of(table: pd.DataFrame, init: str | None = None) -> list[str]:
    """Activations of `table` (of its rows with `init`), in registry order; the first
    registered activation when there are none (its panels then say so)."""
    sub = table if init is None else table[table["init"] == init]
    return in_registry_order(sub["activation"]) or list(ACTIVATIONS)[:1]


def loss_axis_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """The runs a log c_f axis shows: the usable runs (`analysis.events.usable`) with c_f > 0."""
    keep = usable(runs) & (runs[col.FINAL_LOSS].to_numpy(dtype=np.float64) > 0)
    return runs[keep]


def panel_title(letter: int, activation: str, init: str | None = None, extra: str = "") -> str:
    """'(b) ReLU + He, <extra>' for panel number `letter` (0 = a)."""
    parts = [activation_name(activation)] + ([init_name(init)] if init else [])
    return f"({chr(ord('a') + letter)}) " + " + ".join(parts) + (f", {extra}" if extra else "")


# ----------------------------------------------------------------------------------
# Markers, bins, notes, ticks, threshold lines.

def scatter_style(n: int) -> dict:
    """Marker size and opacity for n points: large and opaque for few, small and light for many."""
    n = max(int(n), 1)
    size = float(np.clip(30.0 / np.sqrt(n / 50.0), 1.0, 30.0))
    alpha = float(np.clip(3.0 / np.sqrt(n / 10.0), 0.15, 0.9))
    return dict(s=size, alpha=alpha, linewidths=0, rasterized=n > 2000)


def n_hist_bins(n: int) -> int:
    """Histogram bins for n values: about sqrt(n), between 5 and 80."""
    return int(np.clip(np.ceil(np.sqrt(max(n, 1))), 5, 80))


def note(ax, text: str) -> None:
    """A message in the middle of an empty panel."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=9, color="0.3", wrap=True)


def plain_log_ticks(ax, which: str = "y") -> None:
    """Plain numbers (20, 50, 100) instead of 2x10^1 on a log axis; minor ticks labelled
    only when the axis spans less than a decade or two."""
    axis = ax.yaxis if which == "y" else ax.xaxis
    axis.set_major_formatter(ticker.LogFormatter())
    axis.set_minor_formatter(ticker.LogFormatter(labelOnlyBase=False, minor_thresholds=(1.0, 0.3)))


def log_ticks(lo: float, hi: float, n: int = 4) -> list[float]:
    """About n tick values evenly spaced on a log axis from lo to hi, rounded to two
    significant digits (readable even when the range spans less than a decade)."""
    if not (np.isfinite(lo) and np.isfinite(hi) and 0 < lo <= hi):
        return []
    vals = np.geomspace(lo, hi, n) if hi > lo else np.array([lo])
    return sorted({float(f"{v:.2g}") for v in vals})


def small_ticks(ax, size: float = 7) -> None:
    ax.tick_params(axis="both", which="both", labelsize=size)


def loss_lines(ax, pcfg: PredictConfig, axis: str = "y") -> None:
    """The event thresholds low_loss (green) and high_loss (red) on the c_f axis."""
    line = ax.axhline if axis == "y" else ax.axvline
    line(pcfg.low_loss, color="tab:green", ls="--", lw=0.8)
    line(pcfg.high_loss, color="tab:red", ls="--", lw=0.8)
