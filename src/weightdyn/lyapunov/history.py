"""The whole history of a map: Benettin's algorithm with every local FTLE and, on
request, every Gram-Schmidt basis and R-matrix kept (`lyapunov_spectrum`), and the CLVs
over that history: Ginelli's from the W intervals after each time, the past-only estimate
from the W intervals before it. The conventions are those of `weightdyn.lyapunov`, whose
`LyapunovLoop` does the bookkeeping.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import LyapunovLoop, Map, TangentStepper, backward_iteration


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
