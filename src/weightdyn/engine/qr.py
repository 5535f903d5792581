"""The QR step of the ensemble: modified Gram-Schmidt vectorised over a stack of runs."""
from __future__ import annotations

import numpy as np

from ..model.layout import row_length


class GramSchmidt:
    """QR of stacks (n_runs, D, D) by modified Gram-Schmidt, vectorised over the stack,
    with its work arrays built once (the ensemble calls it every interval).

    Same factors as `lyapunov.qr_positive` (R has a positive diagonal) up to rounding,
    several times faster for stacks of small matrices. The work is laid out [column, row,
    run], so that every sum runs over a leading axis in a fixed order; at least two runs
    are kept (padding with identities), because NumPy sums a single contiguous column
    pairwise instead; rows of `layout.row_length` runs, so that the transposes back to
    run-major stay in cache. Where a run's Q is not orthonormal to `tol` (ill-conditioned
    A), its columns are orthogonalized once more and R corrected.
    """

    def __init__(self, n_runs: int, D: int, tol: float = 1e-12):
        self.n, self.D, self.tol = n_runs, D, tol
        L = row_length(max(n_runs, 2))
        self.V = np.empty((D, D, L))
        self.R = np.zeros((D, D, L))  # the strict lower triangle stays zero
        self.prod = np.empty((D, D, L))
        self.r = np.empty((D, L))
        self.G = np.empty((n_runs, D, D))

    def __call__(self, A: np.ndarray, Q: np.ndarray, R: np.ndarray) -> None:
        """Factor A (n_runs, D, D) = Q R into the given arrays Q and R (Q may be A)."""
        self._factor_into(A, Q, R)
        G = np.matmul(Q.swapaxes(-1, -2), Q, out=self.G)
        G -= np.eye(self.D)
        defect = np.abs(G, out=G).max(axis=(-2, -1))
        redo = np.flatnonzero(~(defect <= self.tol))
        if redo.size:
            Q2, R2 = np.empty((len(redo), self.D, self.D)), np.empty((len(redo), self.D, self.D))
            GramSchmidt(len(redo), self.D, self.tol)._factor_into(Q[redo], Q2, R2)
            Q[redo], R[redo] = Q2, R2 @ R[redo]

    def _factor_into(self, A: np.ndarray, Q: np.ndarray, R: np.ndarray) -> None:
        """One pass of modified Gram-Schmidt, its factors copied run-major into Q and R."""
        self._factor(A)
        np.copyto(Q, np.moveaxis(self.V[..., : self.n].swapaxes(0, 1), -1, 0))
        np.copyto(R, np.moveaxis(self.R[..., : self.n], -1, 0))

    def _factor(self, A: np.ndarray) -> None:
        """Modified Gram-Schmidt: V <- the orthonormal columns, self.R <- the factor."""
        n, D, V, Rw, prod, r = self.n, self.D, self.V, self.R, self.prod, self.r
        V[..., :n] = np.moveaxis(A, 0, -1).swapaxes(0, 1)
        V[..., n:] = np.eye(D)[..., None]
        for i in range(D):
            norm = np.sqrt(np.add.reduce(np.multiply(V[i], V[i], out=prod[0]), axis=0))
            Rw[i, i] = norm
            V[i] /= norm
            if i < D - 1:
                k = D - 1 - i
                np.add.reduce(np.multiply(V[i][None], V[i + 1 :], out=prod[:k]), axis=1, out=r[:k])
                Rw[i, i + 1 :] = r[:k]
                V[i + 1 :] -= np.multiply(V[i][None], r[:k, None], out=prod[:k])
