"""Fast training-map kernel for one-output networks (N3 = 1) under the shared batch schedule.

With a shared schedule every run sees the same batch, so the flow and its Jacobian
(Eqs. 3-23) are built from batch sums S[F ; g] = sum_s F_s g(x_s, y_s) of per-run,
per-sample factors F times per-batch monomials g. With p = sigma', a = sigma(d),
q = sigma'', w = W32, b = b2, e = a2 - y and x_{N1} = 1 (it carries b1), the batch
gradient and Hessian times -2/B are

    hidden-hidden (j,i),(l,m):  w_j w_l S[p_j p_l ; x_i x_m] + delta_jl w_j S[e q_j ; x_i x_m]
    hidden-W32    (j,i),(l)  :  w_j S[p_j a_l ; x_i] + delta_jl E_ji,   E_ji = S[e p_j ; x_i]
    hidden-b2     (j,i)      :  w_j S[p_j ; x_i]
    W32-W32, W32-b2, b2-b2   :  S[a_j a_l], S[a_j], B
    flow: hidden w_j E_ji, W32 S[e a_j], b2 S[e].

The per-run weights w_j are applied after the sums, to (quantity, run) arrays a batch
size (B = 32) times smaller than the per-sample factors. For ReLU (sigma' in {0, 1}, sigma'' = 0)
p_j p_j = p_j and p_j a_j = a_j exactly, so those factors are sigma's own outputs, and
the residual is never formed per sample: with a' = (a, 1) and w' = (w, b),

    E_ji = sum_l w'_l S[p_j a'_l ; x_i] - S[p_j ; y x_i],   S[e a'_m] = sum_l w'_l S[a'_m a'_l] - S[a'_m y].

The sums of all runs are three matrix products per step (one BLAS call per factor), one
per monomial group (A: x_i x_m, B: x_i, C: 1, each with the y terms it needs), with
-2 dt / B folded into the monomials. Everything per run is laid out (quantity, run), so every elementwise
operation runs along contiguous rows; one flat gather forms dt J run-major for the
stacked 9x9 update.

The results equal `model.flow.flow_and_jacobian` to rounding. For ReLU the expanded
residual rounds at the size of the terms of a2 (w_j a_j, b, y) instead of the residual's:
near a fit the flow carries an absolute error of order eps times those terms, which dt
makes far smaller than the rounding of theta itself (tests/test_kernel.py bounds it). A
run's bits must not depend on the other runs in the block: the run axis is padded to a
multiple of RUN_ALIGN with zero states, because OpenBLAS's remainder kernels for other
sizes round differently (tests/test_ensemble.py and tests/test_kernel.py check this on
the machine, up to blocks of 1024 runs).
"""
from __future__ import annotations

import numpy as np

from ..model.activations import get as get_activation
from ..model.layout import RUN_ALIGN, Shape, row_length
from .kernel_layout import SumLayout


class SharedBatchKernel:
    """Advances R runs over the k steps of an interval: theta <- theta + dt f,
    Q <- (I + dt J) Q, in place. Requires N3 = 1 and one batch for all runs.

    A step runs five phases, each building its part of the Jacobian:
    `_activations` (pre-activations d and sigma, sigma', sigma'' of every sample),
    `_factors` (the per-sample factors F: p_j p_l, p_j a_l, a_j a_l and the residual
    terms), `_sums` (the batch sums S[F ; g], three matrix products), `_weights` (the
    per-run weights w_j applied: the hidden-hidden, hidden-W32 and hidden-b2 blocks and
    the flow) and `_tangent_update` (dt J gathered run-major, Q += dt J Q, theta += dt f).
    The layout of S is built once (`SumLayout`); the work arrays once per block size.
    `dt` is the step of the map (`EngineConfig.step_size`: dt, or dt B for a summed batch
    gradient).
    """

    def __init__(self, shape: Shape, activation_name: str, dt: float, X: np.ndarray, y: np.ndarray):
        s = Shape.of(shape)
        if s.N3 != 1:
            raise ValueError("SharedBatchKernel needs a single output (N3 = 1)")
        self.s, self.dt = s, float(dt)
        act = get_activation(activation_name)
        self.sigma = act.into
        self.curved = act.curved  # sigma'' terms needed
        self.binary = act.binary_derivative  # sigma' in {0, 1}: residual expanded
        self.X = np.concatenate([np.asarray(X, np.float64), np.ones((len(X), 1))], axis=1)  # x_{N1} = 1
        self.y = np.asarray(y, np.float64).reshape(-1)
        self.lay = SumLayout(s, self.binary, self.curved)
        self._workspaces = {}

    def _monomials(self, idx: np.ndarray):
        """Batch inputs (k, B, nx) and targets (k, B), the left operands of the three sums
        (k, n_g, B) scaled by c = -2 dt / B, and -c sum_s y_s (k,)."""
        c = -2.0 * self.dt / idx.shape[1]
        Xb, yb = self.X[idx], self.y[idx]

        def operand(monos):
            rows = [Xb[:, :, m[1]] * Xb[:, :, m[2]] if m[0] == "xx" else -(yb * Xb[:, :, m[1]]) for m in monos]
            return c * np.stack(rows, axis=1)

        return Xb, yb, [operand(m) for m in self.lay.monos], -c * yb.sum(axis=1)

    def _workspace(self, R_true: int, B: int) -> "_Workspace":
        key = (R_true, B)
        if key not in self._workspaces:
            self._workspaces[key] = _Workspace(self, R_true, B)
        return self._workspaces[key]

    # -- the interval ----------------------------------------------------------------
    def run_interval(self, theta: np.ndarray, Q: np.ndarray, idx: np.ndarray, threshold: float):
        """k = len(idx) steps on theta (R, P) and Q (R, P, P), both updated in place.

        Returns (batch cost at the first step (R,), index of the first step at which a run
        left the finite region |theta| <= threshold, -1 if none (R,)).
        """
        R_true, P = theta.shape
        w = self._workspace(R_true, idx.shape[1])
        Xb, yb, operands, ysum = self._monomials(idx)
        w.th[:P] = 0.0  # (parameter, run); padded runs are zero; the constant 1 in row P stays
        w.th[:P, :R_true] = theta.T
        first_bad = np.full(R_true, -1, dtype=np.int64)
        cost0 = None
        for n in range(len(idx)):
            self._activations(w, Xb[n])
            cost = self._factors(w, yb[n], first=cost0 is None)
            if cost0 is None:
                cost0 = cost
            self._sums(w, operands, n)
            self._weights(w, ysum[n])
            self._tangent_update(w, Q)
            live = w.th[:P, :R_true]
            if not -threshold <= live.min() <= live.max() <= threshold:  # NaN fails too
                first_bad[(first_bad < 0) & ~(np.abs(live).max(axis=0) <= threshold)] = n
        theta[:] = w.th[:P, :R_true].T
        return cost0, first_bad

    # -- the phases of a step --------------------------------------------------------
    def _activations(self, w, x):
        """Eq. (1): d_j = sum_i W21_ji x_i + b1_j for every sample, a = sigma(d), p = sigma',
        q = sigma''; the output weights w' = (w, b2, 1) gathered as rows."""
        np.take(w.th, self.lay.hidden_flat, axis=0, out=w.A_rows, mode="clip")
        np.matmul(x, w.A, out=w.d)  # pre-activations (N2, B, run)
        self.sigma(w.d, w.a, w.p, w.q)
        np.take(w.th, self.lay.wb_idx, axis=0, out=w.W2, mode="clip")

    def _factors(self, w, y, first: bool):
        """The per-sample factors of the sums: p_j p_l and a_j a_l (every block), p_j a_l
        (hidden-W32), and for non-ReLU the residual products e p_j, e a_j, e q_j (flow and
        the sigma'' part of hidden-hidden). Returns the batch cost at the first step."""
        N2, binary = self.s.N2, self.binary
        a, p, e, tmp = w.a, w.p, w.e, w.tmp
        cost = None
        if first or not binary:  # the residual e = a2 - y per sample
            np.multiply(a[0], w.W2[0], out=e)
            for j in range(1, N2):
                e += np.multiply(a[j], w.W2[j], out=tmp)
            e += w.W2[N2]
            e -= y[:, None]
            if first:
                R_true = w.R_true
                cost = np.einsum("br,br->r", e[:, :R_true], e[:, :R_true]) / e.shape[0]
        if binary:
            for p_j, a_l, out in w.pa_offdiag:
                np.multiply(p_j, a_l, out=out)
        else:
            np.multiply(p, p, out=w.pp_diag)
            np.multiply(p[:, None], a[None, :], out=w.pa)
            np.multiply(e, p, out=w.ep)
            np.multiply(e, a, out=w.ea)
            if self.curved:
                np.multiply(w.q, e, out=w.eq)
        np.multiply(a, a, out=w.aa_diag)
        for j, pp_out, aa_out in w.offdiag:  # pairs (j, l > j) are consecutive slots
            np.multiply(p[j], p[j + 1 :], out=pp_out)
            np.multiply(a[j], a[j + 1 :], out=aa_out)
        return cost

    @staticmethod
    def _sums(w, operands, n):
        """S[F ; g] = sum over the batch of factor F times monomial g: one matrix product
        per monomial group (A: x_i x_m, B: x_i, C: 1), scaled by -2 dt / B."""
        for Phi, g, out in zip(w.Phis, operands, w.outs):
            np.matmul(g[n], Phi, out=out)

    def _weights(self, w, ysum):
        """The per-run weights applied to the sums, on (quantity, run) rows: E_ji (for ReLU
        from expanded sums), the hidden flow F = w_j E_ji, hidden-W32 w_j S[p_j a_l ; x_i]
        + delta_jl E_ji, hidden-b2 w_j S[p_j ; x_i], hidden-hidden w_j w_l S[p_j p_l ; x_i x_m]
        (+ delta_jl w_j S[e q_j ; x_i x_m]); for ReLU also the flow of w'."""
        lay = self.lay
        if self.binary:
            w.S[lay.col_ysum] = ysum
            np.take(w.S, lay.col_PY, axis=0, out=w.PY.reshape(-1, w.L), mode="clip")
            np.add.reduce(np.multiply(w.PY, w.W2[None, :, None], out=w.PYw), axis=1, out=w.E)
            np.take(w.S, lay.col_GY, axis=0, out=w.GY.reshape(-1, w.L), mode="clip")
            np.add.reduce(np.multiply(w.GY, w.W2[None], out=w.GYw), axis=1, out=w.Fout)
        W = w.W
        np.multiply(w.E, W, out=w.F)
        np.multiply(w.S_pa, W[:, None], out=w.Gs)
        w.Gs_diag += w.E
        np.multiply(w.S_p, W, out=w.U)
        np.take(w.W2, w.ww_a, axis=0, out=w.Wa, mode="clip")
        np.take(w.W2, w.ww_b, axis=0, out=w.Wb, mode="clip")
        np.multiply(w.Wa, w.Wb, out=w.WW)
        np.multiply(w.S_pp, w.WW[:, None], out=w.Hs)
        if self.curved:
            w.Hs[: self.s.N2] += np.multiply(w.S_eq, W, out=w.Hq)

    def _tangent_update(self, w, Q):
        """dt J gathered run-major from S, Q <- Q + (dt J) Q, theta <- theta + dt f."""
        np.take(w.S.reshape(-1), w.col_J, out=w.Jr.reshape(-1), mode="clip")  # dt J, run-major
        np.matmul(w.Jr, Q, out=w.JQ)
        Q += w.JQ
        np.take(w.S, self.lay.col_f, axis=0, out=w.dtf, mode="clip")  # dt f
        w.th += w.dtf


class _Workspace:
    """The work arrays of a kernel for blocks of R_true runs and batches of B samples:
    (quantity, run) rows of `row_length` runs padded with zero states, and the views of
    S that the phases read and write. Built once per block size."""

    def __init__(self, k: SharedBatchKernel, R_true: int, B: int):
        s, lay = k.s, k.lay
        N2, nx, P = s.N2, s.N1 + 1, s.P
        nJL, nXX = len(lay.pairs_jl), lay.nXX
        self.R_true = R_true
        self.L = L = row_length(-(-R_true // RUN_ALIGN) * RUN_ALIGN)
        self.th = np.zeros((P + 1, L))  # (parameter, run); a constant 1 last
        self.th[P] = 1.0
        self.A_rows = np.empty((N2 * nx, L))  # W21 and b1 gathered from th, (j i, run)
        self.A = self.A_rows.reshape(N2, nx, L)
        self.dtf = np.empty((P + 1, L))
        self.d = np.empty((N2, B, L))
        self.PhiA, self.PhiB, self.PhiC = (np.empty((n, B, L)) for n in (lay.nA, lay.nB, lay.nC))
        self.Phis = (self.PhiA, self.PhiB, self.PhiC)
        self.pa = self.PhiB[: N2 * N2].reshape(N2, N2, B, L)
        if k.binary:  # sigma writes p_j = p_j p_j and a_j = p_j a_j into their slots
            self.p, self.a, self.e = self.PhiA[:N2], self.PhiB[: N2 * N2 : N2 + 1], np.empty((B, L))
        else:
            slot = lay.slot
            self.a = self.PhiC[slot["a", 0] : slot["a", 0] + N2]
            self.p = self.PhiB[slot["p", 0] : slot["p", 0] + N2]
            self.e = self.PhiC[slot["e",]]
        self.q = np.empty((N2, B, L)) if k.curved else None
        self.tmp = np.empty((B, L))
        # the outputs of the per-sample products (see SharedBatchKernel._factors)
        slot = lay.slot
        self.pp_diag, self.aa_diag = self.PhiA[:N2], self.PhiC[:N2]
        self.offdiag = [(j, self.PhiA[o : o + N2 - 1 - j], self.PhiC[o : o + N2 - 1 - j])
                        for j, o in ((j, slot["pp", j, j + 1]) for j in range(N2 - 1))]
        if k.binary:  # p_j a_l for l != j (the diagonal is sigma's a_j)
            self.pa_offdiag = [(self.p[j], self.a[l], self.pa[j, l]) for j in range(N2) for l in range(N2) if l != j]
        else:
            self.ep = self.PhiB[slot["ep", 0] : slot["ep", 0] + N2]
            self.ea = self.PhiC[slot["ea", 0] : slot["ea", 0] + N2]
            if k.curved:
                self.eq = self.PhiA[nJL : nJL + N2]

        self.S = S = np.zeros((lay.nS, L))  # sums and what is built from them, (quantity, run)
        S[lay.col_batch] = -2.0 * k.dt
        self.outs = [S[o : o + n * m].reshape(n, m, L) for o, n, m in lay.blocks]
        oA, nA, mA = lay.blocks[0]
        oB, nB, mB = lay.blocks[1]
        SA, SB = S[oA : oA + nA * mA].reshape(nA, mA, L), S[oB : oB + nB * mB].reshape(nB, mB, L)
        self.S_pp, self.S_pa = SA[:nJL, :nXX], SB[: N2 * N2, :nx].reshape(N2, N2, nx, L)
        self.Hs = S[lay.off_H : lay.off_G].reshape(nJL, nXX, L)
        self.Gs = S[lay.off_G : lay.off_U].reshape(N2, N2, nx, L)
        self.Gs_diag = self.Gs.reshape(N2 * N2, nx, L)[:: N2 + 1]
        self.U = S[lay.off_U : lay.off_F].reshape(N2, nx, L)
        self.F = S[lay.off_F : lay.off_out].reshape(N2, nx, L)
        self.W2 = np.empty((N2 + 2, L))  # w', 1
        self.W = self.W2[:N2, None]
        self.WW = np.empty((nJL, L))
        self.ww_a, self.ww_b = (np.array(t, dtype=np.intp) for t in zip(*lay.pairs_jl))
        self.Wa, self.Wb = np.empty((nJL, L)), np.empty((nJL, L))
        if k.binary:  # S[p_j ; x_i], and E_ji = S[e p_j ; x_i] built from sums (else a sum itself)
            self.S_p, self.E = SA[:N2, :nx], np.empty((N2, nx, L))
            self.PY, self.GY = np.empty((N2, N2 + 2, nx, L)), np.empty((N2 + 1, N2 + 2, L))
            self.PYw, self.GYw = np.empty_like(self.PY), np.empty_like(self.GY)
            self.Fout = S[lay.off_out : lay.off_out + N2 + 1]
        else:
            p0, ep0 = lay.slot["p", 0], lay.slot["ep", 0]
            self.S_p, self.E = SB[p0 : p0 + N2, :nx], SB[ep0 : ep0 + N2, :nx]
        if k.curved:
            self.S_eq, self.Hq = SA[nJL : nJL + N2, :nXX], np.empty((N2, nXX, L))
        self.col_J = (lay.col_J[None, :] * L + np.arange(R_true)[:, None]).reshape(-1)  # flat, run-major
        self.Jr = np.empty((R_true, P, P))
        self.JQ = np.empty((R_true, P, P))
