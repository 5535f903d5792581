"""The paper's state layout of an N1-N2-N3 network, and the layout of arrays of runs.

The state vector theta holds the columns of W21 (N2 x N1), then the columns of W32
(N3 x N2), then b1 (N2), then b2 (N3) (Sec. III):

    W21[j, i] -> i*N2 + j
    W32[k, j] -> N1*N2 + j*N3 + k
    b1[j]     -> N1*N2 + N2*N3 + j
    b2[k]     -> N1*N2 + N2*N3 + N2 + k

Arrays of states carry the run axis first: theta has shape (R, P) or (P,). Where runs are
handed to BLAS together they are padded to a multiple of RUN_ALIGN, and (quantity, run)
arrays get rows of `row_length` runs.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

# Blocks of runs handed to BLAS are padded to a multiple of RUN_ALIGN: OpenBLAS's
# remainder kernels round differently, and a run's bits must not depend on its block.
RUN_ALIGN = 8


def row_length(runs: int) -> int:
    """Row length for (quantity, run) arrays of `runs` runs: 8 more where `runs` is a
    multiple of 64 doubles, a stride whose rows share cache sets (a gather across 81 rows
    of 512 was measured 3.4x slower than of 520)."""
    return runs + 8 if runs % 64 == 0 else runs


@dataclass(frozen=True)
class Shape:
    """Layer sizes (N1 inputs, N2 hidden units, N3 linear outputs)."""

    N1: int
    N2: int
    N3: int

    def __post_init__(self):
        for name in ("N1", "N2", "N3"):
            value = getattr(self, name)
            if not isinstance(value, (int, np.integer)) or value < 1:
                raise ValueError(f"shape: {name} must be a positive integer, got {value!r}")

    @classmethod
    def of(cls, shape) -> "Shape":
        if isinstance(shape, Shape):
            return shape
        if len(shape) != 3:
            raise ValueError(f"shape must be (N1, N2, N3), got {shape!r}")
        return cls(*(int(n) for n in shape))

    @property
    def P(self) -> int:
        """Dimension of the state: N1*N2 + N2*N3 + N2 + N3."""
        return self.N1 * self.N2 + self.N2 * self.N3 + self.N2 + self.N3

    @property
    def off_W32(self) -> int:
        return self.N1 * self.N2

    @property
    def off_b1(self) -> int:
        return self.N1 * self.N2 + self.N2 * self.N3

    @property
    def off_b2(self) -> int:
        return self.off_b1 + self.N2

    def param_names(self) -> list[str]:
        """Names of the state components in layout order (W21_ji, W32_kj, b1_j, b2_k)."""
        names = [f"W21_{j}{i}" for i in range(self.N1) for j in range(self.N2)]
        names += [f"W32_{k}{j}" for j in range(self.N2) for k in range(self.N3)]
        names += [f"b1_{j}" for j in range(self.N2)]
        names += [f"b2_{k}" for k in range(self.N3)]
        return names


def unpack(theta: np.ndarray, shape) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Split states (..., P) into W21 (..., N2, N1), W32 (..., N3, N2), b1 (..., N2), b2 (..., N3)."""
    s = Shape.of(shape)
    theta = np.asarray(theta)
    if theta.shape[-1] != s.P:
        raise ValueError(f"state has {theta.shape[-1]} components; shape {tuple(vars(s).values())} needs {s.P}")
    lead = theta.shape[:-1]
    W21 = theta[..., : s.off_W32].reshape(*lead, s.N1, s.N2).swapaxes(-1, -2)
    W32 = theta[..., s.off_W32 : s.off_b1].reshape(*lead, s.N2, s.N3).swapaxes(-1, -2)
    return W21, W32, theta[..., s.off_b1 : s.off_b2], theta[..., s.off_b2 :]


def pack(W21, W32, b1, b2) -> np.ndarray:
    """Inverse of `unpack`: the state vector(s) in the paper's layout."""
    W21, W32, b1, b2 = (np.asarray(a, dtype=np.float64) for a in (W21, W32, b1, b2))
    lead = W21.shape[:-2]
    return np.concatenate(
        [
            W21.swapaxes(-1, -2).reshape(*lead, -1),
            W32.swapaxes(-1, -2).reshape(*lead, -1),
            b1,
            b2,
        ],
        axis=-1,
    )


@lru_cache(maxsize=None)
def layout_indices(shape: Shape) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays of the layout: hidden[j, i] (i = N1 means b1[j]) and w32[k, j]."""
    N1, N2, N3 = shape.N1, shape.N2, shape.N3
    hidden = np.empty((N2, N1 + 1), dtype=np.intp)
    for j in range(N2):
        for i in range(N1):
            hidden[j, i] = i * N2 + j
        hidden[j, N1] = shape.off_b1 + j
    w32 = np.array([[shape.off_W32 + j * N3 + k for j in range(N2)] for k in range(N3)], dtype=np.intp)
    hidden.setflags(write=False)
    w32.setflags(write=False)
    return hidden, w32
