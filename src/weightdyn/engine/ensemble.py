"""The ensemble integrator: many training runs advanced together as a dynamical system.

Training map (one mini-batch gradient-descent step = one Euler step of Eqs. 3-6):

    theta_{n+1} = theta_n + dt * f(theta_n; batch_n),   M_n = I + dt * J(theta_n; batch_n),

with J the analytic (Eqs. 8-23) or finite-difference Jacobian. Every k steps the tangent
basis is re-orthonormalized (`lyapunov.qr_positive_mgs`); from the R-matrices come the
Lyapunov exponents, local and cumulative FTLEs at checkpoints, and CLV angles by
Ginelli's method and the past-only estimate (`lyapunov.backward_iteration`), keeping
only a ring buffer of the last W R-matrices.

Arrays carry the run axis first: theta (R, P), Q (R, P, P). Every per-run quantity is
computed independently of the other runs, so a run's outputs do not depend on the size
or composition of the block it is simulated in.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .. import lyapunov as ly
from ..model.flow import flow_and_jacobian_mode
from ..model.network import loss
from ..model.streams import batch_indices, initial_state, make_task
from .config import EngineConfig
from .kernel import SharedBatchKernel
from .qr import qr_positive_mgs

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
                self._buf = batch_indices(c.batch_seed, start, n_steps, self.n, c.batch_size)
            else:
                self._buf = np.stack(
                    [batch_indices((c.batch_seed, s), start, n_steps, self.n, c.batch_size) for s in self.seeds]
                )
        i = (m - self._first) * k
        return self._buf[..., i : i + k, :]


class Ensemble:
    """R training runs and their tangent bases; `advance_interval` is the hot path."""

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
        self.diverged_step = np.full(R, -1, dtype=np.int64)
        fast = config.shape.N3 == 1 and config.batch_mode == "shared" and config.jacobian == "analytic"
        self.kernel = SharedBatchKernel(config.shape, config.activation, config.dt, self.X, self.y) if fast else None

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

    def advance_interval(self) -> tuple[np.ndarray, np.ndarray]:
        """k training steps with tangent propagation, then QR.

        Returns (R_m (R, P, P), batch cost at the interval's first step (R,)).
        """
        c = self.c
        idx = self.batches.interval(self.interval)
        with np.errstate(over="ignore", invalid="ignore"):
            if self.kernel is not None:
                cost0, first_bad = np.empty(len(self.theta)), np.empty(len(self.theta), dtype=np.int64)
                for block in self._blocks():
                    cost0[block], first_bad[block] = self.kernel.run_interval(
                        self.theta[block], self.Q[block], idx, c.divergence_threshold)
            else:
                cost0, first_bad = self._general_steps(idx)
            R = np.empty_like(self.Q)
            for block in self._blocks():
                self.Q[block], R[block] = qr_positive_mgs(self.Q[block])
            diag = np.diagonal(R, axis1=-2, axis2=-1)
            bad_tangent = ~np.all(np.isfinite(R), axis=(1, 2)) | ~np.all(diag > 0, axis=1)
        first_bad[(first_bad < 0) & bad_tangent] = c.steps_per_interval - 1
        self._mark_diverged(first_bad >= 0, self.step + first_bad)
        R[~self.alive] = np.eye(c.shape.P)
        self.interval += 1
        return R, cost0

    def _blocks(self):
        """Slices of at most KERNEL_BLOCK runs: blocks that stay in cache."""
        return [slice(lo, lo + KERNEL_BLOCK) for lo in range(0, len(self.theta), KERNEL_BLOCK)]

    def _general_steps(self, idx):
        """Any shape, per-run batches, either Jacobian: `flow_and_jacobian_mode` per step."""
        c = self.c
        per_run = idx.ndim == 3
        Xb, yb = self.X[idx], self.y[idx]
        first_bad = np.full(len(self.theta), -1, dtype=np.int64)
        cost0 = None
        for n in range(c.steps_per_interval):
            xb, ybn = (Xb[:, n], yb[:, n]) if per_run else (Xb[n], yb[n])
            f, J, cost = flow_and_jacobian_mode(self.theta, xb, ybn, c.shape, c.activation, c.jacobian)
            if cost0 is None:
                cost0 = cost
            self.Q += c.dt * (J @ self.Q)
            self.theta += c.dt * f
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

    le (R, P); ftle_local, ftle_cum (R, n_ckpt, P); loss (R, n_ckpt);
    cos_past, cos_ginelli (R, n_ckpt, n_pairs) signed cosines; cos_end (R, n_pairs);
    final_loss (R,); diverged (R,) and diverged_step (R,) (-1 if not).
    """

    config: EngineConfig
    le: np.ndarray
    ftle_local: np.ndarray
    ftle_cum: np.ndarray
    loss: np.ndarray
    cos_past: np.ndarray
    cos_ginelli: np.ndarray
    cos_end: np.ndarray
    final_loss: np.ndarray
    diverged: np.ndarray
    diverged_step: np.ndarray
    pairs: list = field(default_factory=list)


def integrate(config: EngineConfig, theta0, X, y, seeds=None, progress=None) -> EnsembleResult:
    """Train R runs from theta0 (R, P) and measure their stability (see module docstring).

    `progress(steps_done, steps_total, runs)` is called after every interval.
    """
    c = config
    ens = Ensemble(c, theta0, X, y, seeds)
    R, P = ens.theta.shape
    W, M, tau = c.clv_window, c.n_intervals, c.tau
    n_ck = len(c.checkpoints)
    n_pairs = P * (P - 1) // 2
    ck_index = {m: i for i, m in enumerate(c.checkpoints)}
    ginelli_due = {m + W: i for i, m in enumerate(c.checkpoints)}

    nan = lambda *shape: np.full(shape, np.nan)  # noqa: E731
    out = EnsembleResult(
        config=c, le=nan(R, P), ftle_local=nan(R, n_ck, P), ftle_cum=nan(R, n_ck, P), loss=nan(R, n_ck),
        cos_past=nan(R, n_ck, n_pairs), cos_ginelli=nan(R, n_ck, n_pairs), cos_end=nan(R, n_pairs),
        final_loss=nan(R), diverged=np.zeros(R, bool), diverged_step=np.full(R, -1), pairs=ly.pair_labels(P),
    )
    ring = np.empty((W, R, P, P))
    log_sum = np.zeros((R, P))

    def window_cosines():
        """cos of the CLVs from the last W R-matrices (forward order), alive runs only."""
        Rs = ring[np.arange(ens.interval - W, ens.interval) % W]
        cos = ly.clv_cosines(ly.backward_iteration(Rs))
        cos[~ens.alive] = np.nan
        return cos

    for m in range(1, M + 1):
        Rm, _ = ens.advance_interval()
        ring[(m - 1) % W] = Rm
        log_r = np.log(np.diagonal(Rm, axis1=-2, axis2=-1))
        log_r[~ens.alive] = np.nan
        log_sum += log_r
        if m in ck_index:
            i = ck_index[m]
            out.ftle_local[:, i] = log_r / tau
            out.ftle_cum[:, i] = log_sum / (m * tau)
            out.loss[:, i] = ens.full_loss()
            out.cos_past[:, i] = window_cosines()
        if m in ginelli_due:
            out.cos_ginelli[:, ginelli_due[m]] = window_cosines()
        if progress is not None:
            progress(ens.step, c.n_steps, R)

    out.le[:] = log_sum / (M * tau)
    out.cos_end[:] = window_cosines()
    out.final_loss[:] = ens.full_loss()
    out.diverged[:] = ~ens.alive
    out.diverged_step[:] = ens.diverged_step
    return out


# ----------------------------------------------------------------------------------
# The pipeline's entry point: one block of seeds of one setting -> one row per run.

def run_table(result: EnsembleResult, seeds, activation: str, init: str):
    """One row per run with self-explaining columns (see `simulate_runs`)."""
    import pandas as pd

    c = result.config
    P = c.shape.P
    cols = {
        "seed": np.asarray(seeds, dtype=np.int64),
        "activation": activation,
        "init": init,
        "final_loss": result.final_loss,
        "diverged": result.diverged,
        "diverged_step": result.diverged_step.astype(np.int64),
    }
    for q in range(P):
        cols[f"le_{q + 1}"] = result.le[:, q]
    for i, label in enumerate(c.labels()):
        t = f"t{label}"
        cols[f"loss_{t}"] = result.loss[:, i]
        for q in range(P):
            cols[f"ftle_local_{q + 1}_{t}"] = result.ftle_local[:, i, q]
        for q in range(P):
            cols[f"ftle_cum_{q + 1}_{t}"] = result.ftle_cum[:, i, q]
        for kind in ("past", "ginelli"):
            cos = np.abs(getattr(result, f"cos_{kind}")[:, i])
            for p, (a, b) in enumerate(result.pairs):
                cols[f"cos_{kind}_{a}_{b}_{t}"] = cos[:, p]
            cols[f"mean_cos_{kind}_{t}"] = cos.mean(axis=1)
    cos_end = np.abs(result.cos_end)
    for p, (a, b) in enumerate(result.pairs):
        cols[f"cos_end_{a}_{b}"] = cos_end[:, p]
    cols["mean_cos_end"] = cos_end.mean(axis=1)
    return pd.DataFrame(cols)


def simulate_runs(cfg: dict, activation: str, init: str, seeds, progress=None):
    """Simulate the runs `seeds` of one (activation, init) setting of a pipeline config.

    Returns a pandas DataFrame, one row per run in the order of `seeds`: seed, activation,
    init, final_loss, diverged, diverged_step, le_1..le_P and per checkpoint (label t =
    intervals x dt): loss_t, ftle_local_q_t, ftle_cum_q_t, cos_past_i_j_t,
    cos_ginelli_i_j_t (|cos| of CLV pair i < j), mean_cos_past_t, mean_cos_ginelli_t;
    then cos_end_i_j and mean_cos_end (past-only estimate at the end of training).
    `progress(steps_done, steps_total, runs)` is called after every interval.
    """
    seeds = [int(s) for s in seeds]
    if not seeds:
        raise ValueError("simulate_runs needs at least one seed")
    config = EngineConfig.from_config(cfg, activation)
    X, y, theta0 = setting_inputs(cfg, config, init, seeds)
    result = integrate(config, theta0, X, y, seeds=seeds, progress=progress)
    return run_table(result, seeds, activation, init)


def setting_inputs(cfg: dict, config: EngineConfig, init: str, seeds):
    """The task data (X, y) and the initial states (R, P) of runs `seeds` of a config."""
    data, s = cfg["data"], config.shape
    X, y = make_task(int(data["n_samples"]), int(data["seed"]), data["target"], s.N1, s.N3)
    init_cfg = cfg["init"]
    return X, y, initial_state(seeds, s, init, float(init_cfg["wide_scale"]), init_cfg.get("he_biases", "zero"))
