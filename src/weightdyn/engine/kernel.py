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

The results equal `jacobian.flow_and_jacobian` to rounding. For ReLU the expanded
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
from ..model.layout import RUN_ALIGN, Shape, layout_indices, row_length


class SharedBatchKernel:
    """Advances R runs over the k steps of an interval: theta <- theta + dt f,
    Q <- (I + dt J) Q, in place. Requires N3 = 1 and one batch for all runs."""

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
        self._build_maps()

    # -- layout ----------------------------------------------------------------------
    def _build_maps(self):
        """Factor slots, monomials, the rows of S (nS, run) and where J and f read them."""
        s, binary = self.s, self.binary
        N1, N2, nx, P = s.N1, s.N2, s.N1 + 1, s.P
        hidden, w32 = layout_indices(s)
        self.hidden_flat = np.ascontiguousarray(hidden.reshape(-1))  # (j, i) -> layout index
        self.wb_idx = np.array(list(w32[0]) + [s.off_b2, P], dtype=np.intp)  # w', then the constant 1
        self.pairs_jl = [(j, j) for j in range(N2)] + [(j, l) for j in range(N2) for l in range(j + 1, N2)]
        nJL = len(self.pairs_jl)
        jl = {}
        for n, (j, l) in enumerate(self.pairs_jl):
            jl[j, l] = jl[l, j] = n

        # monomials ("xx", i, m), i <= m, the x_i = x_i x_{N1} first; ("yx", i) = y x_i
        xx = [("xx", i, N1) for i in range(nx)] + [("xx", i, m) for i in range(N1) for m in range(i, N1)]
        self.nXX = len(xx)
        x_i = xx[:nx]
        ones = ("xx", N1, N1)
        # factors ("pp", j, l) j <= l, ("eq", j), ("pa", j, l), ("a", j), ("p", j), ("ep", j),
        # ("aa", j, l), ("ea", j), ("e",); with binary sigma' "p" is pp_jj and "a" is pa_jj
        factA = [("pp", j, l) for j, l in self.pairs_jl] + [("eq", j) for j in range(N2) if self.curved]
        factB = [("pa", j, l) for j in range(N2) for l in range(N2)]
        factC = [("aa", j, l) for j, l in self.pairs_jl]
        # B carries y for ReLU; for the others it only pads 3 rows to 4, which OpenBLAS
        # multiplies faster than 3 (measured: 0.75x the time for 8 factors)
        monoB = x_i + [("yx", N1)] if binary or nx == 3 else x_i
        if binary:
            monos = (xx + [("yx", i) for i in range(nx)], monoB, [ones])
        else:
            factB += [(name, j) for name in ("p", "ep") for j in range(N2)]
            factC += [(name, j) for name in ("a", "ea") for j in range(N2)] + [("e",)]
            monos = (xx, monoB, [ones])
        self.monos = monos
        self.nA, self.nB, self.nC = len(factA), len(factB), len(factC)
        self.slot = {f: n for fs in (factA, factB, factC) for n, f in enumerate(fs)}

        where, self.blocks, offset = {}, [], 0
        for fs, ms in zip((factA, factB, factC), monos):
            for a, f in enumerate(fs):
                for b, m in enumerate(ms):
                    where[f, m] = offset + a * len(ms) + b
            self.blocks.append((offset, len(fs), len(ms)))
            offset += len(fs) * len(ms)

        def S(f, m):
            """The row of S holding the sum S[f ; m]."""
            if binary and f[0] in ("p", "a"):
                f = ("pp" if f[0] == "p" else "pa", f[1], f[1])
            if f[0] in ("pp", "aa") and f[1] > f[2]:
                f = (f[0], f[2], f[1])
            return where[f, m]

        # rows written after the sums: Hs, Gs, U, F (and for ReLU E's partner, the flow of w')
        self.off_H = offset
        self.off_G = self.off_H + nJL * self.nXX
        self.off_U = self.off_G + N2 * N2 * nx
        self.off_F = self.off_U + N2 * nx
        self.off_out = self.off_F + N2 * nx
        self.col_batch = self.off_out + (N2 + 1 if binary else 0)  # the constant c B, c = -2 dt / B
        self.col_zero = self.col_batch + 1  # keeps the constant 1 of the padded state
        self.nS = self.col_zero + 1

        def a_sum(m, l):
            """The row of S[a'_m a'_l], a' = (a, 1)."""
            if m == N2 and l == N2:
                return self.col_batch
            if N2 in (m, l):
                return S(("a", min(m, l)), ones)
            return S(("aa", m, l), ones)

        if binary:
            self.col_ysum = self.nS  # -c sum_s y_s, set every step
            self.nS += 1
            # PY[j, l, i] = S[p_j a'_l ; x_i] (l <= N2), then -S[p_j ; y x_i]: E = PY . (w', 1)
            self.col_PY = np.array([[[S(("pa", j, l), m) for m in x_i] for l in range(N2)]
                                    + [[S(("p", j), m) for m in x_i], [S(("p", j), ("yx", i)) for i in range(nx)]]
                                    for j in range(N2)], dtype=np.intp).reshape(-1)
            # GY[m, l] = S[a'_m a'_l] (l <= N2), then -S[a'_m y]: flow of w' = GY . (w', 1)
            self.col_GY = np.array([[a_sum(m, l) for l in range(N2 + 1)]
                                    + [self.col_ysum if m == N2 else S(("a", m), ("yx", N1))]
                                    for m in range(N2 + 1)], dtype=np.intp).reshape(-1)
            flow_out = [self.off_out + m for m in range(N2 + 1)]
        else:
            flow_out = [S(("ea", j), ones) for j in range(N2)] + [S(("e",), ones)]

        kind = {int(hidden[j, i]): ("h", j, i) for j in range(N2) for i in range(nx)}
        kind.update({int(w32[0, j]): ("w", j) for j in range(N2)})
        kind[s.off_b2] = ("b2",)
        order = {"h": 0, "w": 1, "b2": 2}
        xx_pos = {m[1:]: n for n, m in enumerate(xx)}

        def row(pa, pb):
            """The row of S holding dt J at (pa, pb)."""
            a, b = sorted((kind[pa], kind[pb]), key=lambda t: order[t[0]])
            if a[0] == "h" and b[0] == "h":
                i, m = sorted((a[2], b[2]))
                return self.off_H + jl[a[1], b[1]] * self.nXX + xx_pos[i, m]
            if a[0] == "h" and b[0] == "w":
                return self.off_G + (a[1] * N2 + b[1]) * nx + a[2]
            if a[0] == "h":
                return self.off_U + a[1] * nx + a[2]
            if a[0] == "w":
                return a_sum(a[1], b[1] if b[0] == "w" else N2)
            return self.col_batch

        self.col_J = np.array([row(pa, pb) for pa in range(P) for pb in range(P)], dtype=np.intp)
        col_f = np.empty(P + 1, dtype=np.intp)
        for j in range(N2):
            for i in range(nx):
                col_f[hidden[j, i]] = self.off_F + j * nx + i
            col_f[w32[0, j]] = flow_out[j]
        col_f[s.off_b2] = flow_out[N2]
        col_f[P] = self.col_zero
        self.col_f = col_f
        maps = [self.col_J, self.col_f] + ([self.col_PY, self.col_GY] if binary else [])
        assert all(0 <= m.min() and m.max() < self.nS for m in maps)  # the gathers do not check bounds

    def _monomials(self, idx: np.ndarray):
        """Batch inputs (k, B, nx) and targets (k, B), the left operands of the three sums
        (k, n_g, B) scaled by c = -2 dt / B, and -c sum_s y_s (k,)."""
        c = -2.0 * self.dt / idx.shape[1]
        Xb, yb = self.X[idx], self.y[idx]

        def operand(monos):
            rows = [Xb[:, :, m[1]] * Xb[:, :, m[2]] if m[0] == "xx" else -(yb * Xb[:, :, m[1]]) for m in monos]
            return c * np.stack(rows, axis=1)

        return Xb, yb, [operand(m) for m in self.monos], -c * yb.sum(axis=1)

    # -- the interval ----------------------------------------------------------------
    def run_interval(self, theta: np.ndarray, Q: np.ndarray, idx: np.ndarray, threshold: float):
        """k = len(idx) steps on theta (R, P) and Q (R, P, P), both updated in place.

        Returns (batch cost at the first step (R,), index of the first step at which a run
        left the finite region |theta| <= threshold, -1 if none (R,)).
        """
        N2, nx, nJL, nXX = self.s.N2, self.s.N1 + 1, len(self.pairs_jl), self.nXX
        binary, slot = self.binary, self.slot
        R_true, P = theta.shape
        L = row_length(-(-R_true // RUN_ALIGN) * RUN_ALIGN)  # (quantity, run) rows, zero states padded
        B = idx.shape[1]
        Xb, yb, operands, ysum = self._monomials(idx)

        th = np.zeros((P + 1, L))  # (parameter, run); padded runs are zero; a constant 1 last
        th[:P, :R_true] = theta.T
        th[P] = 1.0
        d = np.empty((N2, B, L))
        PhiA, PhiB, PhiC = (np.empty((n, B, L)) for n in (self.nA, self.nB, self.nC))
        pa = PhiB[: N2 * N2].reshape(N2, N2, B, L)
        if binary:  # sigma writes p_j = p_j p_j and a_j = p_j a_j into their slots
            p, a, e = PhiA[:N2], PhiB[: N2 * N2 : N2 + 1], np.empty((B, L))
        else:
            a, p = PhiC[slot["a", 0] : slot["a", 0] + N2], PhiB[slot["p", 0] : slot["p", 0] + N2]
            e = PhiC[slot["e",]]
        q = np.empty((N2, B, L)) if self.curved else None
        tmp = np.empty((B, L))

        S = np.zeros((self.nS, L))  # sums and what is built from them, (quantity, run)
        S[self.col_batch] = -2.0 * self.dt
        outs = [S[o : o + n * m].reshape(n, m, L) for o, n, m in self.blocks]
        oA, nA, mA = self.blocks[0]
        oB, nB, mB = self.blocks[1]
        SA, SB = S[oA : oA + nA * mA].reshape(nA, mA, L), S[oB : oB + nB * mB].reshape(nB, mB, L)
        S_pp, S_pa = SA[:nJL, :nXX], SB[: N2 * N2, :nx].reshape(N2, N2, nx, L)
        Hs = S[self.off_H : self.off_G].reshape(nJL, nXX, L)
        Gs = S[self.off_G : self.off_U].reshape(N2, N2, nx, L)
        Gs_diag = Gs.reshape(N2 * N2, nx, L)[:: N2 + 1]
        U = S[self.off_U : self.off_F].reshape(N2, nx, L)
        F = S[self.off_F : self.off_out].reshape(N2, nx, L)
        W2 = np.empty((N2 + 2, L))  # w', 1
        W = W2[:N2, None]
        WW = np.empty((nJL, L))
        ww_a, ww_b = (np.array(t, dtype=np.intp) for t in zip(*self.pairs_jl))
        if binary:  # S[p_j ; x_i], and E_ji = S[e p_j ; x_i] built from sums (else a sum itself)
            S_p, E = SA[:N2, :nx], np.empty((N2, nx, L))
            PY, GY = np.empty((N2, N2 + 2, nx, L)), np.empty((N2 + 1, N2 + 2, L))
            PYw, GYw = np.empty_like(PY), np.empty_like(GY)
            Fout = S[self.off_out : self.off_out + N2 + 1]
        else:
            p0, ep0 = slot["p", 0], slot["ep", 0]
            S_p, E = SB[p0 : p0 + N2, :nx], SB[ep0 : ep0 + N2, :nx]
        if self.curved:
            S_eq, Hq = SA[nJL : nJL + N2, :nXX], np.empty((N2, nXX, L))
        col_J = (self.col_J[None, :] * L + np.arange(R_true)[:, None]).reshape(-1)  # flat, run-major
        Jr = np.empty((R_true, P, P))
        JQ = np.empty_like(Q)
        first_bad = np.full(R_true, -1, dtype=np.int64)
        cost0 = None
        for n in range(len(idx)):
            A = th.take(self.hidden_flat, axis=0, mode="clip").reshape(N2, nx, L)
            np.matmul(Xb[n], A, out=d)  # pre-activations (N2, B, run)
            self.sigma(d, a, p, q)
            np.take(th, self.wb_idx, axis=0, out=W2, mode="clip")
            if cost0 is None or not binary:  # the residual e = a2 - y per sample
                np.multiply(a[0], W2[0], out=e)
                for j in range(1, N2):
                    e += np.multiply(a[j], W2[j], out=tmp)
                e += W2[N2]
                e -= yb[n][:, None]
                if cost0 is None:
                    cost0 = np.einsum("br,br->r", e[:, :R_true], e[:, :R_true]) / B
            if binary:
                for j in range(N2):
                    for l in [*range(j), *range(j + 1, N2)]:
                        np.multiply(p[j], a[l], out=pa[j, l])
            else:
                np.multiply(p, p, out=PhiA[:N2])
                np.multiply(p[:, None], a[None, :], out=pa)
                np.multiply(e, p, out=PhiB[slot["ep", 0] : slot["ep", 0] + N2])
                np.multiply(e, a, out=PhiC[slot["ea", 0] : slot["ea", 0] + N2])
                if self.curved:
                    np.multiply(q, e, out=PhiA[nJL : nJL + N2])
            np.multiply(a, a, out=PhiC[:N2])
            for j in range(N2 - 1):  # off-diagonal pairs (j, l > j) are consecutive slots
                start = slot["pp", j, j + 1]
                np.multiply(p[j], p[j + 1 :], out=PhiA[start : start + N2 - 1 - j])
                np.multiply(a[j], a[j + 1 :], out=PhiC[start : start + N2 - 1 - j])
            for Phi, g, out in zip((PhiA, PhiB, PhiC), operands, outs):
                np.matmul(g[n], Phi, out=out)

            # the per-run weights, on (quantity, run) rows
            if binary:
                S[self.col_ysum] = ysum[n]
                np.take(S, self.col_PY, axis=0, out=PY.reshape(-1, L), mode="clip")
                np.add.reduce(np.multiply(PY, W2[None, :, None], out=PYw), axis=1, out=E)
                np.take(S, self.col_GY, axis=0, out=GY.reshape(-1, L), mode="clip")
                np.add.reduce(np.multiply(GY, W2[None], out=GYw), axis=1, out=Fout)
            np.multiply(E, W, out=F)
            np.multiply(S_pa, W[:, None], out=Gs)
            Gs_diag += E
            np.multiply(S_p, W, out=U)
            np.multiply(W2.take(ww_a, axis=0), W2.take(ww_b, axis=0), out=WW)
            np.multiply(S_pp, WW[:, None], out=Hs)
            if self.curved:
                Hs[:N2] += np.multiply(S_eq, W, out=Hq)

            np.take(S.reshape(-1), col_J, out=Jr.reshape(-1), mode="clip")  # dt J, run-major
            np.matmul(Jr, Q, out=JQ)
            Q += JQ
            th += S.take(self.col_f, axis=0, mode="clip")  # dt f
            live = th[:P, :R_true]
            if not -threshold <= live.min() <= live.max() <= threshold:  # NaN fails too
                first_bad[(first_bad < 0) & ~(np.abs(live).max(axis=0) <= threshold)] = n
        theta[:] = th[:P, :R_true].T
        return cost0, first_bad
