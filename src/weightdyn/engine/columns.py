"""Column names of the runs table: the one place that spells them.

A run's row holds its identity (seed, activation, init), its outcome (final_loss,
diverged, diverged_step) beside the constant predictor's cost on the task (constant_loss,
the same in every row: added by the aggregation), its Lyapunov exponents le_1..le_P and, per checkpoint with
label t (intervals x dt, see `config.checkpoint_labels`): the loss C(t), the local and
cumulative FTLEs, and |cos| of every CLV pair for the past-only and Ginelli estimates,
each from both starts of the backward iteration, with their mean over pairs. Last, the
CLVs at the end of training (the past-only estimate known at the end): |cos| from both
starts over the end window, the paper's reading (random start, checkpoint window), and
how far apart the two starts leave each vector.
"""
from __future__ import annotations

from collections.abc import Iterable

from ..lyapunov import pair_labels

SEED, ACTIVATION, INIT = "seed", "activation", "init"
ID_COLUMNS = (SEED, ACTIVATION, INIT)
FINAL_LOSS, DIVERGED, DIVERGED_STEP = "final_loss", "diverged", "diverged_step"
CONSTANT_LOSS = "constant_loss"       # model.network.constant_loss of the task data (the dead network's c_f)
FTLE_FORMS = ("local", "cum")         # log R_qq of the interval ending at t / d tau; running mean since 0
CLV_ESTIMATES = ("past", "ginelli")   # past-only estimate known at t; Ginelli's CLVs at t
CLV_STARTS = ("identity", "random")   # C = I; Ginelli et al.'s random upper-triangular start
PAPER_READING = "paper"               # the end-of-training CLVs as the paper's setup: random start, window W
END_READINGS = CLV_STARTS + (PAPER_READING,)


def setting_rows(table, activation: str, init: str):
    """The rows of `table` (runs, AUC, ROC, split: any table with the identity columns)
    of one setting (activation, init), in their order."""
    return table[(table[ACTIVATION] == activation) & (table[INIT] == init)]


def setting_name(activation: str, init: str) -> str:
    """The name of a setting, as in runs_per_setting, file names and wildcards: relu_he."""
    return f"{activation}_{init}"


def le(q: int) -> str:
    """The q-th Lyapunov exponent (1-based)."""
    return f"le_{q}"


def loss_at(label: str) -> str:
    """C(t) on the whole data set at checkpoint label t."""
    return f"loss_t{label}"


def ftle(form: str, q: int, label: str) -> str:
    """The q-th FTLE of `form` ('local' or 'cum') at checkpoint label t."""
    return f"ftle_{form}_{q}_t{label}"


def cos(estimate: str, start: str, i: int, j: int, label: str) -> str:
    """|cos theta_ij| of CLV pair i < j of `estimate` ('past' or 'ginelli') from `start`
    ('identity' or 'random') at label t."""
    return f"cos_{estimate}_{start}_{i}_{j}_t{label}"


def mean_cos(estimate: str, start: str, label: str) -> str:
    """The mean |cos theta_ij| over all pairs of `estimate` from `start` at label t."""
    return f"mean_cos_{estimate}_{start}_t{label}"


def cos_end(reading: str, i: int, j: int) -> str:
    """|cos theta_ij| of the CLVs at the end of training: `reading` 'identity' or 'random'
    (that start, the end window) or 'paper' (random start, the checkpoint window)."""
    return f"cos_end_{reading}_{i}_{j}"


def mean_cos_end(reading: str) -> str:
    """The mean |cos theta_ij| over all pairs of the end-of-training `reading`."""
    return f"mean_cos_end_{reading}"


def start_distance(q: int) -> str:
    """sin of the angle between the q-th CLV from the two starts, at the end over the end
    window: 0 where the dynamics determines the vector, O(1) where the start does."""
    return f"clv_start_dist_{q}"


def pairs(P: int) -> list[tuple[int, int]]:
    """The CLV pairs (i, j), 1 <= i < j <= P, in the order of the table's columns: the
    order of `lyapunov.clv_cosines`."""
    return pair_labels(P)


def n_indexed(columns: Iterable[str], name=None) -> int:
    """The largest P such that name(1)..name(P) (default: the exponents le_q) are all among
    `columns` (a table or its columns)."""
    name = le if name is None else name
    names = set(columns)
    P = 0
    while name(P + 1) in names:
        P += 1
    return P


def n_exponents(columns: Iterable[str]) -> int:
    """P, the number of exponents le_1..le_P among `columns` (a table or its columns)."""
    return n_indexed(columns)


# ----------------------------------------------------------------------------------
# The trajectory table of one run (`engine.trajectory`): one row per interval.

TRAJECTORY_COLUMNS = ("interval", "t", "step", "batch_loss", "loss")


def theta(p: int) -> str:
    """The p-th component of the state (paper's layout, 1-based) at an interval's start."""
    return f"theta_{p}"


def interval_ftle(q: int) -> str:
    """The q-th local FTLE of the interval."""
    return f"ftle_{q}"


def interval_cos(i: int, j: int) -> str:
    """|cos theta_ij| of the past-only CLV estimate known at the interval's end."""
    return f"cos_{i}_{j}"


# ----------------------------------------------------------------------------------
# The CLV window table (`engine.ensemble.window_table`): one row per run and end window.

WINDOW = "window"            # W, in intervals
WINDOW_TIME = "window_time"  # W d tau, in time units


def window_cos(start: str, i: int, j: int) -> str:
    """|cos theta_ij| at the end of training over the row's window, from `start`."""
    return f"cos_{start}_{i}_{j}"


def window_ftle(q: int) -> str:
    """The q-th FTLE over the row's window (the last `window` intervals)."""
    return f"ftle_window_{q}"
