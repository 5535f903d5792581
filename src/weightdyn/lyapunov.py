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
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

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
    return G[..., iu[0], iu[1]]


def pair_labels(D: int) -> list[tuple[int, int]]:
    """1-based (i, j) labels of the pairs returned by `clv_cosines`, in the same order."""
    iu = np.triu_indices(D, k=1)
    return [(int(i) + 1, int(j) + 1) for i, j in zip(*iu)]


# ----------------------------------------------------------------------------------
# General maps.

Map = Callable[[np.ndarray], np.ndarray]


class TangentStepper:
    """Low-level stepper: advances states x (..., D) and a tangent basis Q (..., D, D).

    `f(x)` returns the next state, `jac(x)` the tangent dF/dx at x, both for stacks.
    """

    def __init__(self, f: Map, jac: Map, x0: np.ndarray):
        self.f, self.jac = f, jac
        self.x = np.array(x0, dtype=np.float64)
        D = self.x.shape[-1]
        self.Q = np.broadcast_to(np.eye(D), self.x.shape + (D,)).copy()

    def step(self, n: int = 1) -> None:
        for _ in range(n):
            self.Q = self.jac(self.x) @ self.Q
            self.x = self.f(self.x)

    def orthonormalize(self) -> np.ndarray:
        """Replace Q by its orthonormal factor; return R (positive diagonal)."""
        self.Q, R = qr_positive(self.Q)
        return R


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
    stepper = TangentStepper(f, jac, x)
    tau = steps_per_interval * dt
    ftle = np.empty((n_intervals,) + stepper.x.shape)
    Qs = [stepper.Q.copy()] if keep_basis else None
    Rs = [] if keep_basis else None
    for m in range(n_intervals):
        stepper.step(steps_per_interval)
        R = stepper.orthonormalize()
        ftle[m] = np.log(np.diagonal(R, axis1=-2, axis2=-1)) / tau
        if keep_basis:
            Qs.append(stepper.Q.copy())
            Rs.append(R)
    return LyapunovResult(
        exponents=ftle[discard:].mean(axis=0),
        ftle_local=ftle,
        tau=tau,
        Q=np.stack(Qs) if keep_basis else None,
        R=np.stack(Rs) if keep_basis else None,
    )


def ginelli_clvs(result: LyapunovResult, window: int, chunk: int = 256) -> np.ndarray:
    """Ginelli CLVs V_m = Q_m C_m at t_0 .. t_{n-W}, each from the W intervals after it.

    Returns (n - W + 1, ..., D, D) with the CLVs as unit columns. The backward iterations
    of `chunk` consecutive times run together, vectorised.
    """
    if result.Q is None:
        raise ValueError("run lyapunov_spectrum with keep_basis=True for CLVs")
    n = len(result.R)
    if not 1 <= window <= n:
        raise ValueError(f"window must be in 1..{n}, got {window}")
    out = np.empty((n - window + 1,) + result.Q.shape[1:])
    for start in range(0, n - window + 1, chunk):
        m = np.arange(start, min(start + chunk, n - window + 1))
        windows = result.R[m[None, :] + np.arange(window)[:, None]]  # (W, len(m), ..., D, D)
        out[m] = result.Q[m] @ backward_iteration(windows)
    return out


def past_only_clvs(result: LyapunovResult, window: int) -> np.ndarray:
    """Past-only CLV estimates (Sharafi, Timme, Hallerberg 2017).

    Entry i estimates the CLVs at t_i and becomes known at t_{i+W}: it is the backward
    iteration from t_{i+W} over the W intervals just past, R_{i+W}, ..., R_{i+1}. As a
    number it equals Ginelli's CLV at t_i with window W; it differs in the time it is
    available, which is what makes it usable for prediction. Same shape as `ginelli_clvs`.
    """
    return ginelli_clvs(result, window)
