"""Fast training-map kernel for one-output networks (N3 = 1) under the shared batch schedule.

With a shared schedule every run sees the same batch, so every entry of the flow and of
its Jacobian (Eqs. 3-23) is a batch sum of a per-run, per-sample factor times a
per-batch monomial. With u_j = w_j p_j (w = W32, p = sigma', a = sigma(d), q = sigma'',
e = a2 - y, x_{N1} = 1 carrying b1) the entries are

    hidden-hidden  (j,i),(l,m):  S[u_j u_l + delta_jl e w_j q_j ; x_i x_m]
    hidden-W32     (j,i),(l)  :  S[u_j a_l + delta_jl e p_j ; x_i]
    hidden-b2      (j,i)      :  S[u_j ; x_i]
    W32-W32, W32-b2, b2-b2    :  S[a_j a_l], S[a_j], B
    flow: hidden S[e u_j ; x_i], W32 S[e a_j], b2 S[e]

times -2/B, where S[F ; g] = sum_s F_s g(x_s). The per-run weights sit inside the
factors, so every entry is a single sum. The sums of all runs are three BLAS calls per
step, one per monomial group (x_i x_m, x_i, 1), with -2 dt / B folded into the
monomials; their output is run-major, so one column gather forms dt J for the stacked
9x9 tangent update. Per-sample factors are laid out (factor, sample, run): every
elementwise operation runs on contiguous memory.

The results equal `jacobian.flow_and_jacobian` to rounding. A run's bits must not depend
on the other runs in the block: the run axis is padded to a multiple of RUN_ALIGN with
zero states, because OpenBLAS's remainder kernels for other sizes round differently
(tests/test_ensemble.py checks this on the machine at hand).
"""
from __future__ import annotations

import numpy as np

from .jacobian import layout_indices
from .network import CURVED, Shape, activation_into

RUN_ALIGN = 8


class SharedBatchKernel:
    """Advances R runs over the k steps of an interval: theta <- theta + dt f,
    Q <- (I + dt J) Q, in place. Requires N3 = 1 and one batch for all runs."""

    def __init__(self, shape: Shape, activation_name: str, dt: float, X: np.ndarray, y: np.ndarray):
        s = Shape.of(shape)
        if s.N3 != 1:
            raise ValueError("SharedBatchKernel needs a single output (N3 = 1)")
        self.s, self.dt = s, float(dt)
        self.sigma = activation_into(activation_name)
        self.curved = CURVED[activation_name]  # whether the sigma'' terms are needed
        self.X = np.concatenate([np.asarray(X, np.float64), np.ones((len(X), 1))], axis=1)  # x_{N1} = 1
        self.y = np.asarray(y, np.float64).reshape(-1)
        self._build_maps()

    # -- index maps ------------------------------------------------------------------
    def _build_maps(self):
        """Factor slots, the columns of the sums S (R, nS) and where J and f read them."""
        s = self.s
        N2, nx, P = s.N2, s.N1 + 1, s.P
        hidden, w32 = layout_indices(s)
        self.hidden_flat = np.ascontiguousarray(hidden.reshape(-1))  # (j, i) -> layout index
        self.w_idx = np.ascontiguousarray(w32[0])  # W32[0, j]
        self.b2_idx = s.off_b2
        # unit pairs j <= l, the diagonal ones first (their slots are contiguous)
        self.pairs_jl = np.array([(j, j) for j in range(N2)] + [(j, l) for j in range(N2) for l in range(j + 1, N2)])
        self.pairs_im = np.array([(i, m) for i in range(nx) for m in range(i, nx)])
        nJL, nmono = len(self.pairs_jl), len(self.pairs_im)
        jl_of = {tuple(p): n for n, p in enumerate(self.pairs_jl)}
        jl_of.update({p[::-1]: n for p, n in list(jl_of.items())})
        im_of = {tuple(p): n for n, p in enumerate(self.pairs_im)}
        im_of.update({p[::-1]: n for p, n in list(im_of.items())})

        # factor slots: group A against x_i x_m, B against x_i, C summed
        self.nA = nJL  # H_jl
        self.G, self.U, self.F = 0, N2 * N2, N2 * N2 + N2  # G_jl = j N2 + l, U_j, F_j
        self.nB = N2 * N2 + 2 * N2
        self.AA, self.Ca, self.Cea, self.Ce = 0, nJL, nJL + N2, nJL + 2 * N2  # a_j a_l, a_j, e a_j, e
        self.nC = nJL + 2 * N2 + 1
        offB = self.nA * nmono
        offC = offB + self.nB * nx
        self.col_batch = offC + self.nC  # the constant B: the b2-b2 entry
        self.nS = self.col_batch + 1
        self.blocks = ((0, self.nA, nmono), (offB, self.nB, nx), (offC, self.nC, 1))

        kind = {int(hidden[j, i]): ("h", j, i) for j in range(N2) for i in range(nx)}
        kind.update({int(w32[0, j]): ("w", j) for j in range(N2)})
        kind[s.off_b2] = ("b2",)
        order = {"h": 0, "w": 1, "b2": 2}

        def column(pa, pb):
            """The column of S holding the Jacobian entry (pa, pb)."""
            a, b = sorted((kind[pa], kind[pb]), key=lambda t: order[t[0]])
            if a[0] == "h" and b[0] == "h":
                return jl_of[(a[1], b[1])] * nmono + im_of[(a[2], b[2])]
            if a[0] == "h" and b[0] == "w":
                return offB + (self.G + a[1] * N2 + b[1]) * nx + a[2]
            if a[0] == "h":
                return offB + (self.U + a[1]) * nx + a[2]
            if a[0] == "w" and b[0] == "w":
                return offC + self.AA + jl_of[(a[1], b[1])]
            if a[0] == "w":
                return offC + self.Ca + a[1]
            return self.col_batch

        self.col_J = np.array([column(pa, pb) for pa in range(P) for pb in range(P)], dtype=np.intp)
        col_f = np.empty(P, dtype=np.intp)
        for j in range(N2):
            for i in range(nx):
                col_f[hidden[j, i]] = offB + (self.F + j) * nx + i
            col_f[w32[0, j]] = offC + self.Cea + j
        col_f[s.off_b2] = offC + self.Ce
        self.col_f = col_f

    def _monomials(self, idx: np.ndarray):
        """The batch inputs (k, B, nx) and the right operands of the three sums, scaled by
        -2 dt / B: x_i x_m (k, B, nmono), x_i (k, B, nx) and 1 (k, B, 1)."""
        c = -2.0 * self.dt / idx.shape[1]
        Xb = self.X[idx]
        mono = c * (Xb[:, :, self.pairs_im[:, 0]] * Xb[:, :, self.pairs_im[:, 1]])
        return Xb, (mono, c * Xb, np.full(idx.shape + (1,), c))

    # -- the interval ----------------------------------------------------------------
    def run_interval(self, theta: np.ndarray, Q: np.ndarray, idx: np.ndarray, threshold: float):
        """k = len(idx) steps on theta (R, P) and Q (R, P, P), both updated in place.

        Returns (batch cost at the first step (R,), index of the first step at which a run
        left the finite region |theta| <= threshold, -1 if none (R,)).
        """
        N2, nx = self.s.N2, self.s.N1 + 1
        R_true, P = theta.shape
        R = -(-R_true // RUN_ALIGN) * RUN_ALIGN
        B = idx.shape[1]
        Xb, monomials = self._monomials(idx)
        yb = self.y[idx][:, :, None]  # (k, B, 1)

        th = np.zeros((R, P))  # runs padded with zero states
        th[:R_true] = theta
        d = np.empty((N2, B, R))
        p = np.empty((N2, B, R))
        q = np.empty((N2, B, R)) if self.curved else None
        PhiA = np.empty((self.nA, B, R))
        PhiB = np.empty((self.nB, B, R))
        PhiC = np.empty((self.nC, B, R))
        a = PhiC[self.Ca : self.Ca + N2]  # sigma, u and e are factors themselves
        u = PhiB[self.U : self.U + N2]
        e = PhiC[self.Ce]
        G = PhiB[self.G : self.G + N2 * N2]
        G_diag = G[:: N2 + 1]  # G_jj
        tmp = np.empty((B, R))
        S = np.empty((R, self.nS))
        S[:, self.col_batch] = -2.0 * self.dt  # dt J of b2-b2: -2/B times B samples
        outs = [S[:, o : o + n * w].reshape(R, n, w).transpose(1, 0, 2) for o, n, w in self.blocks]
        factors = [Phi.transpose(0, 2, 1) for Phi in (PhiA, PhiB, PhiC)]  # (F, R, B) views
        Jr = np.empty((R_true, P * P))
        JQ = np.empty_like(Q)
        first_bad = np.full(R_true, -1, dtype=np.int64)
        cost0 = None
        for n in range(len(idx)):
            A = th.take(self.hidden_flat, axis=1, mode="clip").reshape(R, N2, nx).transpose(1, 2, 0)  # (N2, nx, R)
            np.matmul(Xb[n], A, out=d)  # pre-activations
            self.sigma(d, a, p, q)
            w = np.ascontiguousarray(th.take(self.w_idx, axis=1, mode="clip").T)  # (N2, R)
            np.multiply(p, w[:, None, :], out=u)
            np.multiply(a[0], w[0], out=e)
            for j in range(1, N2):
                np.multiply(a[j], w[j], out=tmp)
                e += tmp
            e += th[:, self.b2_idx]
            e -= yb[n]  # a2 - y
            if cost0 is None:
                cost0 = np.einsum("br,br->r", e[:, :R_true], e[:, :R_true]) / B
            for n_jl, (j, l) in enumerate(self.pairs_jl):
                np.multiply(u[j], u[l], out=PhiA[n_jl])
                np.multiply(a[j], a[l], out=PhiC[self.AA + n_jl])
            if q is not None:  # H_jj += e w_j q_j
                q *= w[:, None, :]
                q *= e
                PhiA[:N2] += q
            np.multiply(u[:, None], a[None, :], out=G.reshape(N2, N2, B, R))
            np.multiply(e, p, out=p)  # p is spent: e p_j
            G_diag += p
            np.multiply(e, u, out=PhiB[self.F : self.F + N2])
            np.multiply(e, a, out=PhiC[self.Cea : self.Cea + N2])
            for Phi, g, out in zip(factors, monomials, outs):
                np.matmul(Phi, g[n], out=out)
            np.take(S[:R_true], self.col_J, axis=1, out=Jr, mode="clip")  # dt J, run-major
            np.matmul(Jr.reshape(R_true, P, P), Q, out=JQ)
            Q += JQ
            th += S.take(self.col_f, axis=1, mode="clip")  # dt f
            live = th[:R_true]
            if not -threshold <= live.min() <= live.max() <= threshold:  # NaN fails too
                first_bad[(first_bad < 0) & ~(np.abs(live).max(axis=1) <= threshold)] = n
        theta[:] = th[:R_true]
        return cost0, first_bad
