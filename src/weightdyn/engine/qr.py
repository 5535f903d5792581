"""The QR step of the ensemble: modified Gram-Schmidt vectorised over a stack of runs."""
from __future__ import annotations

import numpy as np

from ..model.layout import row_length


def qr_positive_mgs(A: np.ndarray, tol: float = 1e-12) -> tuple[np.ndarray, np.ndarray]:
    """QR of a stack (R, D, D) by modified Gram-Schmidt vectorised over the stack.

    Same factors as `lyapunov.qr_positive` (R has a positive diagonal) up to rounding, several
    times faster for stacks of small matrices. Where a run's Q is not orthonormal to
    `tol` (ill-conditioned A), its columns are orthogonalized once more and R corrected.
    """
    Q, R = _mgs(A)
    defect = np.abs(Q.swapaxes(-1, -2) @ Q - np.eye(A.shape[-1])).max(axis=(-2, -1))
    redo = np.flatnonzero(~(defect <= tol))
    if redo.size:
        Q2, R2 = _mgs(Q[redo])
        Q[redo], R[redo] = Q2, R2 @ R[redo]
    return Q, R


def _mgs(A):
    """Modified Gram-Schmidt on (R, D, D), laid out [column, row, run] so that every sum
    runs over a leading axis in a fixed order; at least two runs are kept (padding with
    identities) because NumPy sums a single contiguous column pairwise instead; rows of
    `network.row_length` runs, so that the transposes back to run-major stay in cache."""
    n_runs, D = A.shape[0], A.shape[-1]
    V = np.empty((D, D, row_length(max(n_runs, 2))))
    V[..., :n_runs] = np.moveaxis(A, 0, -1).swapaxes(0, 1)
    V[..., n_runs:] = np.eye(D)[..., None]
    R = np.zeros(V.shape)
    for i in range(D):
        norm = np.sqrt(np.add.reduce(V[i] * V[i], axis=0))
        R[i, i] = norm
        V[i] /= norm
        if i < D - 1:
            r = np.add.reduce(V[i][None] * V[i + 1 :], axis=1)
            R[i, i + 1 :] = r
            V[i + 1 :] -= V[i][None] * r[:, None]
    Q = np.moveaxis(V[..., :n_runs].swapaxes(0, 1), -1, 0)
    return np.ascontiguousarray(Q), np.ascontiguousarray(np.moveaxis(R[..., :n_runs], -1, 0))
