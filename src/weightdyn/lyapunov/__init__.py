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
  C_{m'-1} = R_{m'}^{-1} C_{m'} (columns renormalized), started at t_{m+W} and run back
  over R_{m+W}, ..., R_{m+1}. The start is C = I, or Ginelli et al.'s random upper-
  triangular matrix. Column q converges at the rate lambda_{q-1} - lambda_q (the gap to
  the next larger exponent); inside a degenerate subspace it does not converge, and the
  vectors depend on the start.
- Past-only estimate (Sharafi, Timme, Hallerberg, PRE 96, 032220, 2017): the same
  backward iteration over the past window R_m, ..., R_{m-W+1}, started at t_m;
  it estimates the CLVs at t_{m-W} using only what is known at t_m.

Since Q_m is orthogonal, cos(theta_ij) = v_i . v_j = (C^T C)_ij: angles need only C.
All functions accept any leading (ensemble) axes: x (..., D), Q and R (..., D, D).

Two layers, as in ChaosTools.jl: a `Stepper` is anything that advances a state and its
tangent basis over one interval and returns R_m (a map f(x) with its Jacobian,
`TangentStepper`, or the batch-driven training map of `weightdyn.engine`);
`LyapunovLoop` is the one implementation of the bookkeeping over a stepper (Benettin
sums, local and cumulative FTLEs, a packed ring of the last R-matrices for the CLVs), and
`run_checkpoints` and `history.lyapunov_spectrum` are the convenience drivers over it.
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


def backward_iteration(Rs, C: np.ndarray | None = None) -> np.ndarray:
    """Run C <- R^{-1} C (normalized) back over R-matrices given in forward order.

    Rs: (W, ..., D, D) = [R_{m+1}, ..., R_{m+W}], an array or a `PackedWindow`. Starts
    from C (default: identity; Ginelli et al. start from a random upper-triangular matrix,
    `random_upper_start`) at t_{m+W} and returns C_m (..., D, D) with unit columns.
    """
    if not isinstance(Rs, PackedWindow):
        Rs = np.asarray(Rs, dtype=np.float64)
    if C is None:
        C = np.broadcast_to(np.eye(Rs.shape[-1]), Rs.shape[1:])
    for k in range(len(Rs) - 1, -1, -1):
        C = normalize_columns(solve_upper(Rs[k], C))
    return C


def random_upper_start(z: np.ndarray) -> np.ndarray:
    """Ginelli et al.'s random start of the backward iteration: the upper triangle of the
    standard-normal draws z (..., D, D), columns normalized. Column q lies in the span of
    the first q Gram-Schmidt vectors, as the backward iteration requires."""
    return normalize_columns(np.triu(np.asarray(z, dtype=np.float64)))


def start_distance(C_a: np.ndarray, C_b: np.ndarray) -> np.ndarray:
    """sin of the angle between the q-th CLVs from two starts, Q C_a and Q C_b, for every q
    (..., D). Q is orthogonal, so the angle is that of the unit columns a, b of C_a, C_b:
    sin = |a - (a.b) b|, accurate to rounding also for tiny angles (unlike sqrt(1 - cos^2))."""
    cos = np.einsum("...iq,...iq->...q", C_a, C_b)
    return np.linalg.norm(C_a - cos[..., None, :] * C_b, axis=-2)


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

class TriangularRing:
    """The last `capacity` upper-triangular matrices (..., D, D) pushed, stored packed:
    the D(D+1)/2 entries of the upper triangle (45 of 81 for D = 9)."""

    def __init__(self, capacity: int):
        self.capacity, self.count = int(capacity), 0
        self._data = None

    def push(self, R: np.ndarray) -> None:
        if self._data is None:
            D = R.shape[-1]
            self.shape, self.upper = R.shape, np.triu_indices(D)
            self.diagonal = np.flatnonzero(self.upper[0] == self.upper[1])
            self._data = np.empty((self.capacity,) + R.shape[:-2] + (len(self.upper[0]),))
        self._data[self.count % self.capacity] = R[..., self.upper[0], self.upper[1]]
        self.count += 1

    def window(self, W: int) -> "PackedWindow":
        """The last W matrices, oldest first."""
        if not 1 <= W <= min(self.capacity, self.count):
            raise ValueError(f"a window of W = {W} needs 1 <= W <= min(capacity {self.capacity}, "
                             f"pushed {self.count})")
        return PackedWindow(self, W)


class PackedWindow:
    """W consecutive matrices of a `TriangularRing`, oldest first, unpacked one at a time."""

    def __init__(self, ring: TriangularRing, W: int):
        self.ring, self.W = ring, W
        self.shape = (W,) + ring.shape

    def __len__(self) -> int:
        return self.W

    def _slot(self, k: int) -> int:
        return (self.ring.count - self.W + k) % self.ring.capacity

    def __getitem__(self, k: int) -> np.ndarray:
        ring = self.ring
        R = np.zeros(ring.shape)
        R[..., ring.upper[0], ring.upper[1]] = ring._data[self._slot(k)]
        return R

    def log_diagonal_sum(self) -> np.ndarray:
        """sum over the window of log R_qq, (..., D)."""
        total = np.zeros(self.ring.shape[:-1])
        for k in range(self.W):  # in order, as the loop's Benettin sums: a run's bits do not depend on its block
            total += np.log(self.ring._data[self._slot(k)][..., self.ring.diagonal])
        return total


class LyapunovLoop:
    """Benettin's sums, FTLEs and the CLV windows over any `Stepper`.

    After `step()` has run m intervals: `ftle_local` = log diag R_m / d tau (the local
    FTLE of interval m), `exponents` = sum of log diag R over the intervals after
    `discard`, divided by their length (Benettin; with discard = 0 the cumulative FTLE at
    t_m). The last `memory` R-matrices (default: the window W) are kept, packed, and
    `window_clvs(W')` runs the backward iteration over the last W' <= memory of them:
    Ginelli's CLVs at t_{m-W'}, which are also the past-only estimate known at t_m
    (Sharafi et al. 2017), from the identity or from a given start.
    """

    def __init__(self, stepper: Stepper, tau: float, window: int = 0, discard: int = 0,
                 memory: int | None = None):
        memory = window if memory is None else int(memory)
        if window < 0 or discard < 0:
            raise ValueError("window and discard must be non-negative")
        if memory < window:
            raise ValueError(f"memory ({memory}) must hold the window ({window})")
        self.stepper, self.tau, self.window, self.discard = stepper, float(tau), int(window), int(discard)
        self.m = 0
        self.log_r = self.log_sum = None
        self._ring = TriangularRing(memory) if memory else None

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
        if self.m >= self.discard:
            self.log_sum += log_r
        if self._ring is not None:
            self._ring.push(R)
        self.m += 1
        self.log_r = log_r
        return R

    @property
    def ftle_local(self) -> np.ndarray:
        return self.log_r / self.tau

    @property
    def exponents(self) -> np.ndarray:
        return self.log_sum / ((self.m - self.discard) * self.tau)

    def _masked(self, values: np.ndarray) -> np.ndarray:
        invalid = self._invalid()
        if invalid is not None:
            values = np.array(values)
            values[invalid] = np.nan
        return values

    def _ring_window(self, W: int | None) -> PackedWindow:
        W = self.window if W is None else int(W)
        if self._ring is None or not 1 <= W <= min(self._ring.capacity, self.m):
            raise ValueError(f"the CLV window needs 1 <= W <= min(memory, intervals done); W = {W}, done {self.m}")
        return self._ring.window(W)

    def window_clvs(self, W: int | None = None, start: np.ndarray | None = None) -> np.ndarray:
        """C at t_{m-W} from the backward iteration over the last W R-matrices (default: the
        window), started from `start` (default: identity); unit columns, NaN where invalid."""
        return self._masked(backward_iteration(self._ring_window(W), start))

    def window_cosines(self, W: int | None = None, start: np.ndarray | None = None) -> np.ndarray:
        """cos(theta_ij) of the CLVs of `window_clvs`, pairs i < j in row order; NaN where invalid."""
        return self._masked(clv_cosines(backward_iteration(self._ring_window(W), start)))

    def window_exponents(self, W: int | None = None) -> np.ndarray:
        """The FTLEs over the last W intervals, sum log diag R / (W d tau) (..., D); NaN
        where invalid. They set how fast the backward iteration forgets its start: the
        q-th CLV converges as exp(-(lambda_{q-1} - lambda_q) W d tau)."""
        window = self._ring_window(W)
        return self._masked(window.log_diagonal_sum() / (len(window) * self.tau))


@dataclass
class CheckpointRecord:
    """What `run_checkpoints` records, time axis first; the angles per start of the
    backward iteration (`starts`: name -> start, None for the identity).

    exponents (..., D) over the whole run; at checkpoint c_i: ftle_local[i] and
    ftle_cum[i] (..., D); cos_past[start][i] (the past-only estimate known at c_i) and
    cos_ginelli[start][i] (Ginelli's CLVs at c_i, from the W intervals after it),
    (..., n_pairs). At the end, for each end window W': end_clvs[(start, W')] (..., D, D),
    the C of the past-only estimate known at the end (Ginelli's CLVs W' intervals before
    it), and end_exponents[W'] (..., D), the FTLEs over those W' intervals.
    """

    exponents: np.ndarray
    ftle_local: np.ndarray
    ftle_cum: np.ndarray
    cos_past: dict
    cos_ginelli: dict
    end_clvs: dict
    end_exponents: dict


def checkpoints_outside(checkpoints, n_intervals: int, window: int) -> list[int]:
    """The checkpoints outside [W, n_intervals - W]: there the past-only estimate lacks the
    W intervals before, or Ginelli's CLVs the W intervals after."""
    return [int(c) for c in checkpoints if not window <= int(c) <= n_intervals - window]


def run_checkpoints(loop: LyapunovLoop, n_intervals: int, checkpoints, at_checkpoint=None,
                    after_interval=None, starts=None, end_windows=None) -> CheckpointRecord:
    """Run `loop` for n_intervals and record FTLEs and CLV angles at the checkpoints
    (in intervals; each must lie in [W, n_intervals - W] for the loop's window W), and the
    CLVs at the end over each of `end_windows` (default: (W,); each at most the loop's
    memory), for each of `starts` (name -> start matrix, None for the identity; default
    {'identity': None}).

    `at_checkpoint(i, m)` is called after the interval of checkpoint i is recorded,
    `after_interval(m)` after every interval.
    """
    W, ck = loop.window, [int(c) for c in checkpoints]
    starts = {"identity": None} if starts is None else dict(starts)
    end_windows = (W,) if end_windows is None else tuple(int(w) for w in end_windows)
    if loop.m:
        raise ValueError(f"run_checkpoints counts intervals from the start: the loop has run {loop.m} already")
    if W < 1:
        raise ValueError("run_checkpoints needs a CLV window W >= 1")
    if checkpoints_outside(ck, n_intervals, W):
        raise ValueError(f"checkpoints must lie in [W, n_intervals - W] = [{W}, {n_intervals - W}], got {ck}")
    memory = loop._ring.capacity
    if not all(1 <= w <= min(memory, n_intervals) for w in end_windows):
        raise ValueError(f"end windows must lie in [1, min(memory, n_intervals)] = [1, {min(memory, n_intervals)}], "
                         f"got {end_windows}")
    ck_index = {m: i for i, m in enumerate(ck)}
    ginelli_due = {m + W: i for i, m in enumerate(ck)}
    ftle_local = ftle_cum = None
    cos_past, cos_ginelli = {}, {}
    for m in range(1, n_intervals + 1):
        loop.step()
        if ftle_local is None:
            shape, n_pairs = loop.log_r.shape, loop.log_r.shape[-1] * (loop.log_r.shape[-1] - 1) // 2
            ftle_local, ftle_cum = np.full((len(ck),) + shape, np.nan), np.full((len(ck),) + shape, np.nan)
            for name in starts:
                cos_past[name] = np.full((len(ck),) + shape[:-1] + (n_pairs,), np.nan)
                cos_ginelli[name] = cos_past[name].copy()
        if m in ck_index:
            i = ck_index[m]
            ftle_local[i], ftle_cum[i] = loop.ftle_local, loop.exponents
            for name, start in starts.items():
                cos_past[name][i] = loop.window_cosines(start=start)
            if at_checkpoint is not None:
                at_checkpoint(i, m)
        if m in ginelli_due:
            for name, start in starts.items():
                cos_ginelli[name][ginelli_due[m]] = loop.window_cosines(start=start)
        if after_interval is not None:
            after_interval(m)
    end_clvs = {(name, w): loop.window_clvs(w, start) for name, start in starts.items() for w in end_windows}
    end_exponents = {w: loop.window_exponents(w) for w in end_windows}
    return CheckpointRecord(loop.exponents, ftle_local, ftle_cum, cos_past, cos_ginelli, end_clvs, end_exponents)
