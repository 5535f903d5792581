"""Lyapunov exponents (Benettin), finite-time exponents and covariant Lyapunov vectors
(Ginelli, and the past-only estimate) for any map with a tangent.

Conventions. A map x_{n+1} = F(x_n) with tangent M_n = dF/dx(x_n). A tangent basis
Q_0 = I is advanced over intervals of k steps and re-orthonormalized,
M_{mk-1} ... M_{(m-1)k} Q_{m-1} = Q_m R_m (QR with positive diagonal), so that R_m is
the growth over interval m and Q_m the Gram-Schmidt basis at the end of interval m
(time t_m = m d tau, d tau = k dt).

- Benettin: lambda_q = sum_m log R_m[q, q] / (m d tau); the local FTLE of interval m is
  log R_m[q, q] / d tau.
- Ginelli: CLVs at t_m are V_m = Q_m C_m, with C_m from the backward iteration
  C_{m'-1} = R_{m'}^{-1} C_{m'} (columns renormalized), started from C = I at
  t_{m+W} and run back over R_{m+W}, ..., R_{m+1}.
- Past-only estimate (Sharafi, Timme, Hallerberg, PRE 96, 032220, 2017): the same
  backward iteration over the past window R_m, ..., R_{m-W+1}, started from I at t_m;
  it estimates the CLVs at t_{m-W} using only what is known at t_m.

Since Q_m is orthogonal, cos(theta_ij) = v_i . v_j = (C^T C)_ij: angles need only C.
All functions accept any leading (ensemble) axes: x (..., D), Q and R (..., D, D).

Two layers, as in ChaosTools.jl: a `Stepper` is anything that advances a state and its
tangent basis over one interval and returns R_m (a map f(x) with its Jacobian,
`TangentStepper`, or the batch-driven training map of `weightdyn.engine`);
`LyapunovLoop` is the one implementation of the bookkeeping over a stepper (Benettin
sums, local and cumulative FTLEs, the ring of the last W R-matrices for the CLVs), and
`run_checkpoints` and `lyapunov_spectrum` are the convenience drivers over it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

import numpy as np


def qr_positive(A: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """QR decomposition of (..., D, D) matrices with a non-negative diagonal of R."""
    Q, R = np.linalg.qr(A)
    sign = np.where(np.diagonal(R, axis1=-2, axis2=-1) < 0.0, -1.0, 1.0)
    return Q * sign[..., None, :], R * sign[..., :, None]


def solve_upper(R: np.ndarray, C: np.ndarray) -> np.ndarray:
    """R^{-1} C for upper-triangular R (..., D, D) by back substitution, stack-vectorised."""
    D = R.shape[-1]
    X = np.empty(np.broadcast_shapes(R.shape[:-2], C.shape[:-2]) + C.shape[-2:])
    for i in range(D - 1, -1, -1):
        rhs = C[..., i, :] - (R[..., i : i + 1, i + 1 :] @ X[..., i + 1 :, :])[..., 0, :]
        X[..., i, :] = rhs / R[..., i, i, None]
    return X


def normalize_columns(C: np.ndarray) -> np.ndarray:
    return C / np.linalg.norm(C, axis=-2, keepdims=True)


def backward_iteration(Rs: np.ndarray, C: np.ndarray | None = None) -> np.ndarray:
    """Run C <- R^{-1} C (normalized) back over R-matrices given in forward order.

    Rs: (W, ..., D, D) = [R_{m+1}, ..., R_{m+W}]. Starts from C (default: identity) at
    t_{m+W} and returns C_m (..., D, D) with unit columns.
    """
    Rs = np.asarray(Rs, dtype=np.float64)
    if C is None:
        C = np.broadcast_to(np.eye(Rs.shape[-1]), Rs.shape[1:])
    for R in Rs[::-1]:
        C = normalize_columns(solve_upper(R, C))
    return C


def clv_cosines(C: np.ndarray) -> np.ndarray:
    """cos(theta_ij) = (C^T C)_ij for all pairs i < j: (..., D*(D-1)/2), pairs in row order."""
    G = C.swapaxes(-1, -2) @ C
    iu = np.triu_indices(C.shape[-1], k=1)
    # C order: fancy indexing may return another layout, and a reduction over the pairs
    # (the mean |cos|) sums in the order of the memory layout
    return np.ascontiguousarray(G[..., iu[0], iu[1]])


def pair_labels(D: int) -> list[tuple[int, int]]:
    """1-based (i, j) labels of the pairs returned by `clv_cosines`, in the same order."""
    iu = np.triu_indices(D, k=1)
    return [(int(i) + 1, int(j) + 1) for i, j in zip(*iu)]


# ----------------------------------------------------------------------------------
# Steppers.

Map = Callable[[np.ndarray], np.ndarray]


class Stepper(Protocol):
    """A tangent system advanced one orthonormalization interval at a time.

    `advance_interval()` takes the k steps of interval m for the state and the tangent
    basis Q, replaces Q by its orthonormal factor and returns R_m (..., D, D) with a
    positive diagonal. A stepper may carry `valid`, a boolean mask over the leading axes
    that is False where its state is no longer meaningful (a diverged training run); the
    loop then reports NaN there, and the stepper returns R = I there.
    """

    def advance_interval(self) -> np.ndarray: ...


class TangentStepper:
    """A map x_{n+1} = f(x_n) with tangent jac(x_n), for stacks of states x (..., D)."""

    def __init__(self, f: Map, jac: Map, x0: np.ndarray, steps_per_interval: int = 1):
        self.f, self.jac, self.k = f, jac, int(steps_per_interval)
        self.x = np.array(x0, dtype=np.float64)
        D = self.x.shape[-1]
        self.Q = np.broadcast_to(np.eye(D), self.x.shape + (D,)).copy()

    def step(self, n: int = 1) -> None:
        """n steps: Q <- M_n Q, x <- f(x)."""
        for _ in range(n):
            self.Q = self.jac(self.x) @ self.Q
            self.x = self.f(self.x)

    def orthonormalize(self) -> np.ndarray:
        """Replace Q by its orthonormal factor; return R (positive diagonal)."""
        self.Q, R = qr_positive(self.Q)
        return R

    def advance_interval(self) -> np.ndarray:
        self.step(self.k)
        return self.orthonormalize()


# ----------------------------------------------------------------------------------
# The bookkeeping.

class LyapunovLoop:
    """Benettin's sums, FTLEs and the CLV window over any `Stepper`.

    After `step()` has run m intervals: `ftle_local` = log diag R_m / d tau (the local
    FTLE of interval m), `exponents` = sum of log diag R over the intervals after
    `discard`, divided by their length (Benettin; with discard = 0 the cumulative FTLE at
    t_m), and with a window W >= 1 the ring of R_{m-W+1}, ..., R_m, from which
    `window_clvs()` runs the backward iteration: Ginelli's CLVs at t_{m-W}, which are
    also the past-only estimate known at t_m (Sharafi et al. 2017).
    """

    def __init__(self, stepper: Stepper, tau: float, window: int = 0, discard: int = 0):
        if window < 0 or discard < 0:
            raise ValueError("window and discard must be non-negative")
        self.stepper, self.tau, self.window, self.discard = stepper, float(tau), int(window), int(discard)
        self.m = 0
        self.log_r = self.log_sum = self._ring = None

    def _invalid(self):
        valid = getattr(self.stepper, "valid", None)
        return None if valid is None else ~valid

    def step(self) -> np.ndarray:
        """Advance one interval; returns R_m."""
        R = self.stepper.advance_interval()
        log_r = np.log(np.diagonal(R, axis1=-2, axis2=-1))
        invalid = self._invalid()
        if invalid is not None:
            log_r[invalid] = np.nan
        if self.log_sum is None:
            self.log_sum = np.zeros_like(log_r)
            if self.window:
                self._ring = np.empty((self.window,) + R.shape)
        if self.m >= self.discard:
            self.log_sum += log_r
        if self.window:
            self._ring[self.m % self.window] = R
        self.m += 1
        self.log_r = log_r
        return R

    @property
    def ftle_local(self) -> np.ndarray:
        return self.log_r / self.tau

    @property
    def exponents(self) -> np.ndarray:
        return self.log_sum / ((self.m - self.discard) * self.tau)

    def window_clvs(self) -> np.ndarray:
        """C at t_{m-W} from the backward iteration over the last W R-matrices (unit columns)."""
        W = self.window
        if not 1 <= W <= self.m:
            raise ValueError(f"the CLV window needs 1 <= W <= intervals done; W = {W}, done {self.m}")
        return backward_iteration(self._ring[np.arange(self.m - W, self.m) % W])

    def window_cosines(self) -> np.ndarray:
        """cos(theta_ij) of the CLVs of `window_clvs`, pairs i < j in row order; NaN where invalid."""
        cos = clv_cosines(self.window_clvs())
        invalid = self._invalid()
        if invalid is not None:
            cos[invalid] = np.nan
        return cos


@dataclass
class CheckpointRecord:
    """What `run_checkpoints` records, time axis first.

    exponents (..., D) over the whole run; at checkpoint c_i: ftle_local[i] and
    ftle_cum[i] (..., D), cos_past[i] (the past-only estimate known at c_i) and
    cos_ginelli[i] (Ginelli's CLVs at c_i, from the W intervals after it), (..., n_pairs);
    cos_end (..., n_pairs): the past-only estimate known at the end.
    """

    exponents: np.ndarray
    ftle_local: np.ndarray
    ftle_cum: np.ndarray
    cos_past: np.ndarray
    cos_ginelli: np.ndarray
    cos_end: np.ndarray


def checkpoints_outside(checkpoints, n_intervals: int, window: int) -> list[int]:
    """The checkpoints outside [W, n_intervals - W]: there the past-only estimate lacks the
    W intervals before, or Ginelli's CLVs the W intervals after."""
    return [int(c) for c in checkpoints if not window <= int(c) <= n_intervals - window]


def run_checkpoints(loop: LyapunovLoop, n_intervals: int, checkpoints, at_checkpoint=None,
                    after_interval=None) -> CheckpointRecord:
    """Run `loop` for n_intervals and record FTLEs and CLV angles at the checkpoints
    (in intervals; each must lie in [W, n_intervals - W] for a window W).

    `at_checkpoint(i, m)` is called after the interval of checkpoint i is recorded,
    `after_interval(m)` after every interval.
    """
    W, ck = loop.window, [int(c) for c in checkpoints]
    if loop.m:
        raise ValueError(f"run_checkpoints counts intervals from the start: the loop has run {loop.m} already")
    if W < 1:
        raise ValueError("run_checkpoints needs a CLV window W >= 1")
    if checkpoints_outside(ck, n_intervals, W):
        raise ValueError(f"checkpoints must lie in [W, n_intervals - W] = [{W}, {n_intervals - W}], got {ck}")
    ck_index = {m: i for i, m in enumerate(ck)}
    ginelli_due = {m + W: i for i, m in enumerate(ck)}
    ftle_local = ftle_cum = cos_past = cos_ginelli = None
    for m in range(1, n_intervals + 1):
        loop.step()
        if ftle_local is None:
            shape, n_pairs = loop.log_r.shape, loop.log_r.shape[-1] * (loop.log_r.shape[-1] - 1) // 2
            ftle_local, ftle_cum = np.full((len(ck),) + shape, np.nan), np.full((len(ck),) + shape, np.nan)
            cos_past = np.full((len(ck),) + shape[:-1] + (n_pairs,), np.nan)
            cos_ginelli = cos_past.copy()
        if m in ck_index:
            i = ck_index[m]
            ftle_local[i], ftle_cum[i] = loop.ftle_local, loop.exponents
            cos_past[i] = loop.window_cosines()
            if at_checkpoint is not None:
                at_checkpoint(i, m)
        if m in ginelli_due:
            cos_ginelli[ginelli_due[m]] = loop.window_cosines()
        if after_interval is not None:
            after_interval(m)
    return CheckpointRecord(loop.exponents, ftle_local, ftle_cum, cos_past, cos_ginelli, loop.window_cosines())


# ----------------------------------------------------------------------------------
# The whole history of a map.

@dataclass
class LyapunovResult:
    """exponents: (..., D) over the whole run; ftle_local: (n_intervals, ..., D);
    Q, R: (n_intervals + 1, ..., D, D) and (n_intervals, ..., D, D) when kept."""

    exponents: np.ndarray
    ftle_local: np.ndarray
    tau: float
    Q: np.ndarray | None = None
    R: np.ndarray | None = None

    @property
    def ftle_cumulative(self) -> np.ndarray:
        """Running averages sum_{m' <= m} log R_m'/(m tau): the convergence history."""
        m = np.arange(1, len(self.ftle_local) + 1).reshape((-1,) + (1,) * (self.ftle_local.ndim - 1))
        return np.cumsum(self.ftle_local, axis=0) / m


def lyapunov_spectrum(f: Map, jac: Map, x0, n_intervals: int, steps_per_interval: int = 1,
                      dt: float = 1.0, transient: int = 0, keep_basis: bool = False,
                      discard: int = 0) -> LyapunovResult:
    """Benettin's algorithm: the full spectrum of a map (or a flow integrated with step dt).

    `transient` steps are taken first with the tangent ignored; the first `discard`
    intervals (while the basis aligns from Q_0 = I) are left out of `exponents` but kept
    in `ftle_local`. With keep_basis, the Gram-Schmidt bases Q_0..Q_n and the R-matrices
    are returned for CLV computation.
    """
    if not 0 <= discard < n_intervals:
        raise ValueError("discard must be in 0 .. n_intervals - 1")
    if n_intervals < 1 or steps_per_interval < 1:
        raise ValueError("n_intervals and steps_per_interval must be positive")
    x = np.array(x0, dtype=np.float64)
    for _ in range(transient):
        x = f(x)
    stepper = TangentStepper(f, jac, x, steps_per_interval)
    loop = LyapunovLoop(stepper, steps_per_interval * dt, discard=discard)
    ftle = np.empty((n_intervals,) + stepper.x.shape)
    Qs = [stepper.Q.copy()] if keep_basis else None
    Rs = [] if keep_basis else None
    for m in range(n_intervals):
        R = loop.step()
        ftle[m] = loop.ftle_local
        if keep_basis:
            Qs.append(stepper.Q.copy())
            Rs.append(R)
    return LyapunovResult(
        exponents=loop.exponents,
        ftle_local=ftle,
        tau=loop.tau,
        Q=np.stack(Qs) if keep_basis else None,
        R=np.stack(Rs) if keep_basis else None,
    )


def _check_window(result: LyapunovResult, window: int) -> int:
    if result.Q is None:
        raise ValueError("run lyapunov_spectrum with keep_basis=True for CLVs")
    n = len(result.R)
    if not 1 <= window <= n:
        raise ValueError(f"window must be in 1..{n}, got {window}")
    return n


def ginelli_clvs(result: LyapunovResult, window: int, chunk: int = 256) -> np.ndarray:
    """Ginelli CLVs V_m = Q_m C_m at t_0 .. t_{n-W}, each from the W intervals after it.

    Returns (n - W + 1, ..., D, D) with the CLVs as unit columns. The backward iterations
    of `chunk` consecutive times run together, vectorised.
    """
    n = _check_window(result, window)
    out = np.empty((n - window + 1,) + result.Q.shape[1:])
    for start in range(0, n - window + 1, chunk):
        m = np.arange(start, min(start + chunk, n - window + 1))
        windows = result.R[m[None, :] + np.arange(window)[:, None]]  # (W, len(m), ..., D, D)
        out[m] = result.Q[m] @ backward_iteration(windows)
    return out


def past_only_clvs(result: LyapunovResult, window: int) -> np.ndarray:
    """Past-only CLV estimates (Sharafi, Timme, Hallerberg 2017), indexed by the time at
    which they become known.

    Entry m (0..n) is the estimate available at t_m: the backward iteration from I at t_m
    over the W intervals just past, R_m, ..., R_{m-W+1}, applied to Q_{m-W}; it estimates
    the CLVs at t_{m-W}. Entries m < W are NaN (no window yet). Returns (n + 1, ..., D, D).
    """
    n = _check_window(result, window)
    out = np.full((n + 1,) + result.Q.shape[1:], np.nan)
    for m in range(window, n + 1):
        out[m] = result.Q[m - window] @ backward_iteration(result.R[m - window : m])
    return out
