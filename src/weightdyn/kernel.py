"""Fast training-map kernel for one-output networks (N3 = 1) under the shared batch schedule.

With a shared schedule every run sees the same batch, so every entry of the flow and of
its Jacobian (Eqs. 3-23) is a per-run weight times a batch sum of (per-run, per-sample
factor) x (per-batch monomial):

    hidden-hidden  (j,i),(l,m):  w_j w_l S[p_j p_l ; x_i x_m] + delta_jl w_j S[e q_j ; x_i x_m]
    hidden-W32     (j,i),(l)  :  w_j S[p_j a_l ; x_i] + delta_jl S[e p_j ; x_i]
    hidden-b2      (j,i)      :  w_j S[p_j ; x_i]
    W32-W32, W32-b2, b2-b2    :  S[a_j a_l], S[a_j], B
    flow: hidden w_j S[e p_j ; x_i], W32 S[e a_j], b2 S[e]

(times -2/B), where S[F ; g] = sum_s F_s g(x_s), p = sigma', q = sigma'', a = sigma(d),
e = a2 - y, w = W32, and x_{N1} = 1 carries b1. The batch sums for all runs are two
BLAS calls with the monomials as the small operand and one NumPy sum; weights and sums are then gathered
into the P x P Jacobian by precomputed index maps. Per-sample arrays are laid out
(sample, factor, run), runs last and contiguous.

The results equal `jacobian.flow_and_jacobian` to rounding. A run's bits must not depend
on the other runs in the block: the batch sums are GEMMs whose column count is a
multiple of RUN_ALIGN (the run axis is padded with zero states), because OpenBLAS's
remainder kernels for other column counts round differently (tests/test_ensemble.py
checks this on the machine at hand).
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
        s = self.s
        N2, nx, P = s.N2, s.N1 + 1, s.P
        hidden, w32 = layout_indices(s)
        self.hidden_T = np.ascontiguousarray(hidden.T)  # (nx, N2): rows of the forward GEMM
        self.w_idx = np.ascontiguousarray(w32[0])  # W32[0, j]
        self.b2_idx = s.off_b2
        jl = [(j, l) for j in range(N2) for l in range(j, N2)]
        im = [(i, m) for i in range(nx) for m in range(i, nx)]
        self.pairs_jl, self.pairs_im = np.array(jl), np.array(im)
        sym = lambda pairs: {**{p: n for n, p in enumerate(pairs)}, **{p[::-1]: n for n, p in enumerate(pairs)}}  # noqa: E731
        jl_of, im_of = sym(jl), sym(im)

        # factor slots (rows of S): group A against x_i x_m, B against x_i, C summed.
        nJL = len(jl)
        self.jl_index = np.zeros((N2, N2), dtype=np.intp)
        for (j, l), n in jl_of.items():
            self.jl_index[j, l] = n
        sl = dict(A_pp=0, A_eq=nJL, B_pa=0, B_ep=N2 * N2, B_p=N2 * N2 + N2,
                  C_aa=0, C_a=nJL, C_ea=nJL + N2, C_e=nJL + 2 * N2, C_ee=nJL + 2 * N2 + 1)
        self.slots = sl
        self.nA = nJL + (N2 if self.curved else 0)
        self.nB = N2 * N2 + 2 * N2
        self.nC = nJL + 2 * N2 + 2
        nA, nB, nmono = self.nA, self.nB, len(im)
        rowA = lambda mono, f: mono * nA + f  # noqa: E731
        rowB = lambda i, f: nmono * nA + i * nB + f  # noqa: E731
        rowC = lambda f: nmono * nA + nx * nB + f  # noqa: E731
        self.nS = nmono * nA + nx * nB + self.nC + 1
        ROW_BATCH = self.nS - 1  # the constant B: the b2-b2 entry
        # weights V (times -2 dt / B): 1, w_j, w_j w_l
        V_one, V_w = 0, lambda j: 1 + j  # noqa: E731
        V_ww = lambda j, l: 1 + N2 + jl_of[(j, l)]  # noqa: E731
        self.nV = 1 + N2 + nJL

        def param(p):
            """('h', j, i) | ('w', j) | ('b2',) for a layout index."""
            for j in range(N2):
                for i in range(nx):
                    if hidden[j, i] == p:
                        return ("h", j, i)
                if w32[0, j] == p:
                    return ("w", j)
            return ("b2",)

        def terms(pa, pb):
            """[(weight row, sum row), ...] of the Jacobian entry (pa, pb)."""
            order = {"h": 0, "w": 1, "b2": 2}
            a, b = sorted((param(pa), param(pb)), key=lambda t: order[t[0]])
            if a[0] == "h" and b[0] == "h":
                (_, j, i), (_, l, m) = a, b
                out = [(V_ww(j, l), rowA(im_of[(i, m)], sl["A_pp"] + jl_of[(j, l)]))]
                if j == l and self.curved:
                    out.append((V_w(j), rowA(im_of[(i, m)], sl["A_eq"] + j)))
                return out
            if a[0] == "h" and b[0] == "w":
                (_, j, i), (_, l) = a, b
                out = [(V_w(j), rowB(i, sl["B_pa"] + j * N2 + l))]
                if j == l:
                    out.append((V_one, rowB(i, sl["B_ep"] + j)))
                return out
            if a[0] == "h":
                _, j, i = a
                return [(V_w(j), rowB(i, sl["B_p"] + j))]
            if a[0] == "w" and b[0] == "w":
                return [(V_one, rowC(sl["C_aa"] + jl_of[(a[1], b[1])]))]
            if a[0] == "w":
                return [(V_one, rowC(sl["C_a"] + a[1]))]
            return [(V_one, ROW_BATCH)]

        upper = [(pa, pb) for pa in range(P) for pb in range(pa, P)]
        entry = [terms(pa, pb) for pa, pb in upper]
        self.v1 = np.array([t[0][0] for t in entry], dtype=np.intp)
        self.m1 = np.array([t[0][1] for t in entry], dtype=np.intp)
        self.two = np.array([n for n, t in enumerate(entry) if len(t) == 2], dtype=np.intp)
        self.v2 = np.array([entry[n][1][0] for n in self.two], dtype=np.intp)
        self.m2 = np.array([entry[n][1][1] for n in self.two], dtype=np.intp)
        position = {pair: n for n, pair in enumerate(upper)}
        self.full_from_upper = np.array([position[min(pa, pb), max(pa, pb)] for pa in range(P) for pb in range(P)],
                                        dtype=np.intp)
        vf, mf = np.empty(P, dtype=np.intp), np.empty(P, dtype=np.intp)
        for p in range(P):
            kind = param(p)
            if kind[0] == "h":
                vf[p], mf[p] = V_w(kind[1]), rowB(kind[2], sl["B_ep"] + kind[1])
            elif kind[0] == "w":
                vf[p], mf[p] = V_one, rowC(sl["C_ea"] + kind[1])
            else:
                vf[p], mf[p] = V_one, rowC(sl["C_e"])
        self.vf, self.mf = vf, mf

    # -- the interval ----------------------------------------------------------------
    def run_interval(self, theta: np.ndarray, Q: np.ndarray, idx: np.ndarray, threshold: float):
        """k = len(idx) steps on theta (R, P) and Q (R, P, P), both updated in place.

        Returns (batch cost at the first step (R,), index of the first step at which a run
        left the finite region |theta| <= threshold, -1 if none (R,)).
        """
        s, sl = self.s, self.slots
        R_true, P = theta.shape
        R = -(-R_true // RUN_ALIGN) * RUN_ALIGN
        N2, nx = s.N2, s.N1 + 1
        B = idx.shape[1]
        Xb = self.X[idx]  # (k, B, nx)
        yb = self.y[idx][:, :, None]  # (k, B, 1)
        xt = np.ascontiguousarray(Xb.swapaxes(1, 2))  # (k, nx, B)
        mono = np.ascontiguousarray((Xb[:, :, self.pairs_im[:, 0]] * Xb[:, :, self.pairs_im[:, 1]]).swapaxes(1, 2))
        nmono = mono.shape[1]
        jl = self.pairs_jl
        rA, rB = nmono * self.nA, nmono * self.nA + nx * self.nB

        thT = np.zeros((P, R))  # (P, R), runs padded with zero states
        thT[:, :R_true] = theta.T
        d = np.empty((B, N2, R))
        PhiA = np.empty((B, self.nA, R))
        PhiB = np.empty((B, self.nB, R))
        PhiC = np.empty((B, self.nC, R))
        p = PhiB[:, sl["B_p"] : sl["B_p"] + N2]  # sigma' and sigma are factors themselves
        a = PhiC[:, sl["C_a"] : sl["C_a"] + N2]
        e = PhiC[:, sl["C_e"]]
        q = np.empty((B, N2, R)) if self.curved else None
        tmp = np.empty((B, R))
        S = np.empty((self.nS, R))
        S[-1] = B
        c = -2.0 / B * self.dt  # every entry of dt J and dt f carries -2/B
        V = np.empty((self.nV, R))
        V[0] = c
        JQ = np.empty_like(Q)
        Jr = np.empty((R_true, P * P))
        first_bad = np.full(R_true, -1, dtype=np.int64)
        cost0 = None
        for n in range(len(idx)):
            A = thT[self.hidden_T].reshape(nx, N2 * R)
            np.matmul(Xb[n], A, out=d.reshape(B, N2 * R))  # pre-activations
            self.sigma(d, a, p, q)
            w = thT[self.w_idx]  # (N2, R)
            np.multiply(a[:, 0], w[0], out=e)
            for j in range(1, N2):
                np.multiply(a[:, j], w[j], out=tmp)
                e += tmp
            e += thT[self.b2_idx]
            e -= yb[n]  # a2 - y
            for j, l in jl:
                np.multiply(p[:, j], p[:, l], out=PhiA[:, sl["A_pp"] + self.jl_index[j, l]])
                np.multiply(a[:, j], a[:, l], out=PhiC[:, sl["C_aa"] + self.jl_index[j, l]])
            for j in range(N2):
                if q is not None:
                    np.multiply(e, q[:, j], out=PhiA[:, sl["A_eq"] + j])
                np.multiply(p[:, j, None], a, out=PhiB[:, sl["B_pa"] + j * N2 : sl["B_pa"] + (j + 1) * N2])
            np.multiply(e[:, None], p, out=PhiB[:, sl["B_ep"] : sl["B_ep"] + N2])
            np.multiply(e[:, None], a, out=PhiC[:, sl["C_ea"] : sl["C_ea"] + N2])
            np.multiply(e, e, out=PhiC[:, sl["C_ee"]])
            np.matmul(mono[n], PhiA.reshape(B, self.nA * R), out=S[:rA].reshape(nmono, self.nA * R))
            np.matmul(xt[n], PhiB.reshape(B, self.nB * R), out=S[rA:rB].reshape(nx, self.nB * R))
            np.add.reduce(PhiC, axis=0, out=S[rB : rB + self.nC])
            if cost0 is None:
                cost0 = S[rB + sl["C_ee"], :R_true] / B
            np.multiply(w, c, out=V[1 : 1 + N2])
            np.multiply(V[1 + jl[:, 0]], w[jl[:, 1]], out=V[1 + N2 :])
            Ju = V[self.v1] * S[self.m1]  # the upper triangle of dt J, (P(P+1)/2, R)
            Ju[self.two] += V[self.v2] * S[self.m2]
            np.copyto(Jr, Ju[:, :R_true].T[:, self.full_from_upper])
            np.matmul(Jr.reshape(R_true, P, P), Q, out=JQ)
            Q += JQ
            flow = V[self.vf] * S[self.mf]  # dt f
            thT += flow
            size = np.abs(thT[:, :R_true]).max(axis=0)
            first_bad[(first_bad < 0) & ~(size <= threshold)] = n
        theta[:] = thT[:, :R_true].T
        return cost0, first_bad
