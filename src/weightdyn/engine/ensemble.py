"""The ensemble integrator: many training runs advanced together as a dynamical system.

Training map (one mini-batch gradient-descent step = one Euler step of Eqs. 3-6):

    theta_{n+1} = theta_n + h * f(theta_n; batch_n),   M_n = I + h * J(theta_n; batch_n),

with J the analytic (Eqs. 8-23) or finite-difference Jacobian and h = dt (h = dt B if the
batch gradient is summed rather than averaged, `EngineConfig.step_size`). `Ensemble` is this map
as a `lyapunov.Stepper`: k steps (the fast `kernel` where it applies), then the tangent
basis is re-orthonormalized (`qr.GramSchmidt`). The bookkeeping over the R-matrices
(exponents, local and cumulative FTLEs at checkpoints, CLV angles by Ginelli's method
and the past-only estimate from a ring of the last W R-matrices) is
`lyapunov.LyapunovLoop`, the same code that the known-system tests run.

Arrays carry the run axis first: theta (R, P), Q (R, P, P). Every per-run quantity is
computed independently of the other runs, so a run's outputs do not depend on the size
or composition of the block it is simulated in.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import lyapunov as ly
from ..model.flow import flow_and_jacobian_mode
from ..model.network import loss
from ..model.streams import batch_indices, clv_random_start, initial_state
from ..model.tasks import Task
from . import columns as col
from .config import EngineConfig
from .kernel import SharedBatchKernel
from .qr import GramSchmidt

KERNEL_BLOCK = 1024  # runs per kernel call and QR: the fastest size here; 4000 in one block is 1.3-1.6x slower


class BatchStream:
    """Batches of consecutive intervals, drawn ahead in blocks of `block` intervals.

    Yields per interval an index array (k, B) (shared) or (R, k, B) (per_run).
    """

    def __init__(self, config: EngineConfig, n_samples: int, seeds, block: int = 64):
        # per-run schedules are held for every run: fewer intervals at a time bound the memory
        self.c, self.n = config, n_samples
        self.block = block if config.batch_mode == "shared" else max(1, block // 16)
        self.seeds = [int(s) for s in seeds]
        self._buf, self._first = None, 0

    def interval(self, m: int) -> np.ndarray:
        """Indices of interval m (0-based)."""
        c = self.c
        k = c.steps_per_interval
        if self._buf is None or not self._first <= m < self._first + self.block:
            self._first = m
            n_steps = min(self.block, c.n_intervals - m) * k if m < c.n_intervals else k
            start = m * k
            if c.batch_mode == "shared":
                self._buf = batch_indices(c.batch_seed, start, n_steps, self.n, c.batch_size, c.batch_sampling)
            else:
                self._buf = np.stack([batch_indices((c.batch_seed, s), start, n_steps, self.n, c.batch_size,
                                                    c.batch_sampling) for s in self.seeds])
        i = (m - self._first) * k
        return self._buf[..., i : i + k, :]


class Ensemble:
    """R training runs and their tangent bases: a `lyapunov.Stepper` of the training map.

    `advance_interval` is the hot path; `valid` (the runs that have not diverged) and
    `cost0` (the batch cost at the first step of the last interval) go with it.
    """

    def __init__(self, config: EngineConfig, theta0: np.ndarray, X: np.ndarray, y: np.ndarray, seeds=None):
        self.c = config
        self.theta = np.array(theta0, dtype=np.float64, ndmin=2)
        R, P = self.theta.shape
        if P != config.shape.P:
            raise ValueError(f"states have {P} components, shape {config.shape} needs {config.shape.P}")
        self.X = np.asarray(X, dtype=np.float64)
        self.y = np.asarray(y, dtype=np.float64).reshape(len(self.X), -1)
        if seeds is None:
            if config.batch_mode == "per_run":
                raise ValueError("batch_mode 'per_run' needs the run seeds (the schedule of run s is seeded by s)")
            seeds = range(R)
        elif len(seeds) != R:
            raise ValueError(f"{len(seeds)} seeds given for {R} runs")
        self.batches = BatchStream(config, len(self.X), seeds)
        self.Q = np.broadcast_to(np.eye(P), (R, P, P)).copy()
        self.interval = 0  # intervals completed
        self.alive = np.ones(R, dtype=bool)
        self.cost0 = np.full(R, np.nan)
        self.diverged_step = np.full(R, -1, dtype=np.int64)
        fast = config.shape.N3 == 1 and config.batch_mode == "shared" and config.jacobian == "analytic"
        # blocks of at most KERNEL_BLOCK runs, which stay in cache, each with its QR
        starts = range(0, R, KERNEL_BLOCK)
        sizes = [min(KERNEL_BLOCK, R - lo) for lo in starts]
        qrs = {n: GramSchmidt(n, P) for n in set(sizes)}
        self.blocks = [(slice(lo, lo + n), qrs[n]) for lo, n in zip(starts, sizes)]
        self.kernel = SharedBatchKernel(config.shape, config.activation, config.step_size, self.X, self.y) if fast else None

    @property
    def valid(self) -> np.ndarray:
        return self.alive

    @property
    def step(self) -> int:
        return self.interval * self.c.steps_per_interval

    def _mark_diverged(self, bad: np.ndarray, step: np.ndarray) -> None:
        bad &= self.alive
        if bad.any():
            self.alive[bad] = False
            self.diverged_step[bad] = step[bad]
            self.theta[bad] = 0.0  # a harmless state: the row is excluded from outputs
            self.Q[bad] = np.eye(self.c.shape.P)

    def advance_interval(self) -> np.ndarray:
        """k training steps with tangent propagation, then QR: returns R_m (R, P, P), the
        identity for diverged runs; the batch cost of the interval's first step goes to
        `cost0`."""
        c = self.c
        idx = self.batches.interval(self.interval)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kernel is not None:
                cost0, first_bad = np.empty(len(self.theta)), np.empty(len(self.theta), dtype=np.int64)
                for block, _ in self.blocks:
                    cost0[block], first_bad[block] = self.kernel.run_interval(
                        self.theta[block], self.Q[block], idx, c.divergence_threshold)
            else:
                cost0, first_bad = self._general_steps(idx)
            R = np.empty_like(self.Q)
            for block, qr in self.blocks:
                qr(self.Q[block], self.Q[block], R[block])
            diag = np.diagonal(R, axis1=-2, axis2=-1)
            bad_tangent = ~np.all(np.isfinite(R), axis=(1, 2)) | ~np.all(diag > 0, axis=1)
        first_bad[(first_bad < 0) & bad_tangent] = c.steps_per_interval - 1
        self._mark_diverged(first_bad >= 0, self.step + first_bad)
        R[~self.alive] = np.eye(c.shape.P)
        self.interval += 1
        self.cost0 = cost0
        return R

    def _general_steps(self, idx):
        """Any shape, per-run batches, either Jacobian: `flow_and_jacobian_mode` per step."""
        c, h = self.c, self.c.step_size
        per_run = idx.ndim == 3
        Xb, yb = self.X[idx], self.y[idx]
        first_bad = np.full(len(self.theta), -1, dtype=np.int64)
        cost0 = None
        for n in range(c.steps_per_interval):
            xb, ybn = (Xb[:, n], yb[:, n]) if per_run else (Xb[n], yb[n])
            f, J, cost = flow_and_jacobian_mode(self.theta, xb, ybn, c.shape, c.activation, c.jacobian,
                                                c.jacobian_step)
            if cost0 is None:
                cost0 = cost
            self.Q += h * (J @ self.Q)
            self.theta += h * f
            size = np.abs(self.theta).max(axis=1)
            first_bad[(first_bad < 0) & ~(size <= c.divergence_threshold)] = n
        return cost0, first_bad

    def full_loss(self) -> np.ndarray:
        """C(t) on the whole data set for every run (NaN for diverged runs)."""
        out = loss(self.theta, self.X, self.y, self.c.shape, self.c.activation)
        out[~self.alive] = np.nan
        return out


@dataclass
class EnsembleResult:
    """Outputs of `integrate`, run axis first; NaN where a run had diverged.

    le (R, P); ftle_local, ftle_cum (R, n_ckpt, P); loss (R, n_ckpt); cos_past[start],
    cos_ginelli[start] (R, n_ckpt, n_pairs) signed cosines for each start of
    `columns.CLV_STARTS`; end_clvs[(start, W)] (R, P, P): C of the CLVs at the end over
    each end window W (`EngineConfig.end_windows`) and end_ftle[W] (R, P) the FTLEs over
    it; final_loss (R,); diverged (R,) and diverged_step (R,) (-1 if not).
    """

    config: EngineConfig
    le: np.ndarray
    ftle_local: np.ndarray
    ftle_cum: np.ndarray
    loss: np.ndarray
    cos_past: dict
    cos_ginelli: dict
    end_clvs: dict
    end_ftle: dict
    final_loss: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray


def integrate(config: EngineConfig, theta0, X, y, seeds=None, progress=None) -> EnsembleResult:
    """Train R runs from theta0 (R, P) and measure their stability (see module docstring):
    `lyapunov.run_checkpoints` over the ensemble, with C(t) recorded at the checkpoints and
    the CLVs from both starts (the identity, and the random start of each run's seed).

    `progress(steps_done, steps_total, runs)` is called after every interval.
    """
    c = config
    ens = Ensemble(c, theta0, X, y, seeds)
    R = len(ens.theta)
    loss_at = np.full((len(c.checkpoints), R), np.nan)
    seeds = range(R) if seeds is None else seeds
    starts = {"identity": None, "random": clv_random_start(seeds, c.shape.P)}

    def at_checkpoint(i, m):
        loss_at[i] = ens.full_loss()

    def after_interval(m):
        if progress is not None:
            progress(ens.step, c.n_steps, R)

    loop = ly.LyapunovLoop(ens, c.tau, window=c.clv_window, memory=max(c.end_windows))
    rec = ly.run_checkpoints(loop, c.n_intervals, c.checkpoints, at_checkpoint, after_interval,
                             starts=starts, end_windows=c.end_windows)
    runs_first = lambda a: np.moveaxis(a, 0, 1)  # noqa: E731  (checkpoint, run, ...) -> (run, checkpoint, ...)
    return EnsembleResult(
        config=c, le=rec.exponents, ftle_local=runs_first(rec.ftle_local), ftle_cum=runs_first(rec.ftle_cum),
        loss=loss_at.T, cos_past={k: runs_first(v) for k, v in rec.cos_past.items()},
        cos_ginelli={k: runs_first(v) for k, v in rec.cos_ginelli.items()}, end_clvs=rec.end_clvs,
        end_ftle=rec.end_exponents, final_loss=ens.full_loss(), diverged=~ens.alive, diverged_step=ens.diverged_step,
    )


# ----------------------------------------------------------------------------------
# The pipeline's entry point: one block of seeds of one setting -> one row per run.

def _id_columns(seeds, activation: str, init: str) -> dict:
    return {col.SEED: np.asarray(seeds, dtype=np.int64), col.ACTIVATION: activation, col.INIT: init}


def _abs_cos_columns(cols: dict, C: np.ndarray, name, mean_name: str | None = None) -> None:
    """|cos theta_ij| of the CLVs with coefficients C (R, P, P) into cols[name(i, j)], and
    their mean over pairs into cols[mean_name]."""
    cos = np.abs(ly.clv_cosines(C))
    for p, (a, b) in enumerate(col.pairs(C.shape[-1])):
        cols[name(a, b)] = cos[:, p]
    if mean_name is not None:
        cols[mean_name] = cos.mean(axis=1)


def run_table(result: EnsembleResult, seeds, activation: str, init: str):
    """One row per run with the columns of `engine.columns` (see `simulate_runs`)."""
    import pandas as pd

    c = result.config
    P = c.shape.P
    pairs = col.pairs(P)
    cols = _id_columns(seeds, activation, init)
    cols.update({
        col.FINAL_LOSS: result.final_loss,
        col.DIVERGED: result.diverged,
        col.DIVERGED_STEP: result.diverged_step.astype(np.int64),
    })
    for q in range(1, P + 1):
        cols[col.le(q)] = result.le[:, q - 1]
    for i, label in enumerate(c.labels()):
        cols[col.loss_at(label)] = result.loss[:, i]
        for form, values in zip(col.FTLE_FORMS, (result.ftle_local, result.ftle_cum)):
            for q in range(1, P + 1):
                cols[col.ftle(form, q, label)] = values[:, i, q - 1]
        for estimate, by_start in zip(col.CLV_ESTIMATES, (result.cos_past, result.cos_ginelli)):
            for start in col.CLV_STARTS:
                cos = np.abs(by_start[start][:, i])
                for p, (a, b) in enumerate(pairs):
                    cols[col.cos(estimate, start, a, b, label)] = cos[:, p]
                cols[col.mean_cos(estimate, start, label)] = cos.mean(axis=1)
    W_end = c.clv_window_end
    for start in col.CLV_STARTS:
        _abs_cos_columns(cols, result.end_clvs[(start, W_end)], lambda a, b, s=start: col.cos_end(s, a, b),
                         col.mean_cos_end(start))
    _abs_cos_columns(cols, result.end_clvs[("random", c.clv_window)],
                     lambda a, b: col.cos_end(col.PAPER_READING, a, b), col.mean_cos_end(col.PAPER_READING))
    dist = ly.start_distance(*(result.end_clvs[(start, W_end)] for start in col.CLV_STARTS))
    for q in range(1, P + 1):
        cols[col.start_distance(q)] = dist[:, q - 1]
    return pd.DataFrame(cols)


def window_table(result: EnsembleResult, seeds, activation: str, init: str):
    """The CLVs at the end of training against the window: one row per run and window of
    `lyapunov.clv_window_grid`, with |cos| of every pair from both starts, the distance
    between the starts' vectors and the FTLEs over the window (`columns.window_*`)."""
    import pandas as pd

    c = result.config
    P = c.shape.P
    parts = []
    for W in c.clv_window_grid:
        cols = _id_columns(seeds, activation, init)
        cols[col.WINDOW] = np.full(len(cols[col.SEED]), W, dtype=np.int64)
        cols[col.WINDOW_TIME] = np.full(len(cols[col.SEED]), W * c.tau)
        for start in col.CLV_STARTS:
            _abs_cos_columns(cols, result.end_clvs[(start, W)], lambda a, b, s=start: col.window_cos(s, a, b))
        dist = ly.start_distance(*(result.end_clvs[(start, W)] for start in col.CLV_STARTS))
        for q in range(1, P + 1):
            cols[col.start_distance(q)] = dist[:, q - 1]
            cols[col.window_ftle(q)] = result.end_ftle[W][:, q - 1]
        parts.append(pd.DataFrame(cols))
    return pd.concat(parts, ignore_index=True)


def simulate(cfg: dict, activation: str, init: str, seeds, progress=None, data=None):
    """Simulate the runs `seeds` of one (activation, init) setting of a pipeline config.

    Returns (runs, windows), two pandas DataFrames. runs: one row per run in the order of
    `seeds`: seed, activation, init, final_loss, diverged, diverged_step, le_1..le_P and
    per checkpoint (label t = intervals x dt): loss_t, ftle_local_q_t, ftle_cum_q_t, and
    for each estimate (past, ginelli) and start (identity, random) cos_{estimate}_{start}_i_j_t
    (|cos| of CLV pair i < j) and mean_cos_{estimate}_{start}_t; then at the end of training
    cos_end_{reading}_i_j and mean_cos_end_{reading} (readings identity and random over
    the end window, paper: random over the checkpoint window) and clv_start_dist_q.
    windows: `window_table`, one row per run and window of the convergence grid.
    `progress(steps_done, steps_total, runs)` is called after every interval. `data`: the
    task's (X, y) if already loaded (default: `task_data(cfg)`).
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("simulate needs at least one seed")
    config = EngineConfig.from_config(cfg, activation)
    X, y, theta0 = setting_inputs(cfg, config, init, seeds, data)
    result = integrate(config, theta0, X, y, seeds=seeds, progress=progress)
    return run_table(result, seeds, activation, init), window_table(result, seeds, activation, init)


def simulate_runs(cfg: dict, activation: str, init: str, seeds, progress=None):
    """The runs table of `simulate` alone."""
    return simulate(cfg, activation, init, seeds, progress)[0]


def task_of(cfg: dict) -> Task:
    """The task of a pipeline config (section data, N1 and N3 of network.shape)."""
    data, shape, file = cfg["data"], cfg["network"]["shape"], cfg["data"]["file"]
    return Task(data["target"], int(data["n_samples"]), int(data["seed"]), int(shape[0]), int(shape[2]),
                file["path"], tuple(file["features"]), file["target_column"])


def task_data(cfg: dict):
    """The data set (X, y) of a pipeline config: one for every run of it."""
    return task_of(cfg).load()


def setting_inputs(cfg: dict, config: EngineConfig, init: str, seeds, data=None):
    """The task data (X, y; `data` if given) and the initial states (R, P) of runs `seeds`
    of a config."""
    X, y = task_data(cfg) if data is None else data
    ic = cfg["init"]
    return X, y, initial_state(seeds, config.shape, init, float(ic["wide_scale"]), ic["he_biases"], ic["he_scale"],
                               ic["he_distribution"])
