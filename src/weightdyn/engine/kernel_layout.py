"""Where the fast kernel keeps its sums: the rows of S and the maps that read dt J and dt f.

With a shared batch, the flow and Jacobian of every run are built from batch sums
S[F ; g] of per-run, per-sample factors F and per-batch monomials g (see `kernel`). This
module decides, once per (shape, activation), which factors and monomials exist, where
each sum and each derived block (Hs, Gs, U, F, and for ReLU the expanded E and flow of
w') lives among the rows of the (quantity, run) array S, and the index maps that gather
dt J (P x P per run) and dt f out of S. Nothing here depends on the number of runs.
"""
from __future__ import annotations

import numpy as np

from ..model.layout import Shape, layout_indices


class SumLayout:
    """Factor slots, monomials, the rows of S (nS, run) and where J and f read them."""

    def __init__(self, s: Shape, binary: bool, curved: bool):
        self.s, self.binary, self.curved = s, binary, curved
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
