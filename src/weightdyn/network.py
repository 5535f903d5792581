"""The N1-N2-N3 network of Eqs. (1)-(2), its activations, and the paper's state layout.

The state vector theta holds the columns of W21 (N2 x N1), then the columns of W32
(N3 x N2), then b1 (N2), then b2 (N3) (Sec. III):

    W21[j, i] -> i*N2 + j
    W32[k, j] -> N1*N2 + j*N3 + k
    b1[j]     -> N1*N2 + N2*N3 + j
    b2[k]     -> N1*N2 + N2*N3 + N2 + k

Arrays of states carry the run axis first: theta has shape (R, P) or (P,).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import ndtr

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
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


# ----------------------------------------------------------------------------------
# Activations: sigma, sigma', sigma'' written into given arrays a, p, q (q may be None
# when sigma'' is not needed).


def _relu(d, a, p, q):
    np.greater(d, 0.0, out=p, casting="unsafe")  # 1 where d > 0, else 0 (sigma'(0) = 0)
    np.multiply(d, p, out=a)
    if q is not None:
        q.fill(0.0)


def _tanh(d, a, p, q):
    np.tanh(d, out=a)
    np.multiply(a, a, out=p)
    np.subtract(1.0, p, out=p)
    if q is not None:
        np.multiply(a, p, out=q)
        q *= -2.0


def _gelu(d, a, p, q):
    """Exact GELU, x * Phi(x): sigma' = Phi + x phi, sigma'' = phi (2 - x^2)."""
    phi = np.multiply(d, d)
    if q is not None:
        np.subtract(2.0, phi, out=q)
    phi *= -0.5
    np.exp(phi, out=phi)
    phi *= _INV_SQRT_2PI
    ndtr(d, out=p)
    np.multiply(d, p, out=a)
    if q is not None:
        q *= phi
    phi *= d
    p += phi


def _sigmoid(d, a, p, q):
    np.multiply(d, 0.5, out=a)
    np.tanh(a, out=a)
    a += 1.0
    a *= 0.5
    np.subtract(1.0, a, out=p)
    p *= a
    if q is not None:
        np.multiply(a, -2.0, out=q)
        q += 1.0
        q *= p


ACTIVATIONS = {"relu": _relu, "tanh": _tanh, "gelu": _gelu, "sigmoid": _sigmoid}
CURVED = {"relu": False, "tanh": True, "gelu": True, "sigmoid": True}  # sigma'' not identically 0
BINARY_DERIVATIVE = {"relu": True, "tanh": False, "gelu": False, "sigmoid": False}  # sigma' in {0, 1}


def activation_into(name: str):
    """Return f(d, a, p, q) writing sigma(d), sigma'(d), sigma''(d) into a, p, q."""
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"unknown activation {name!r}; choose one of {sorted(ACTIVATIONS)}") from None


def activation(name: str):
    """Return f(d) -> (sigma(d), sigma'(d), sigma''(d)) for a named activation."""
    into = activation_into(name)

    def sigma(d):
        d = np.asarray(d, dtype=np.float64)
        a, p, q = np.empty_like(d), np.empty_like(d), np.empty_like(d)
        into(d, a, p, q)
        return a, p, q

    return sigma


# ----------------------------------------------------------------------------------
# Forward pass and cost.


def loss(theta, X, y, shape, activation_name, chunk: int = 128):
    """Mean over samples of the per-sample cost |y - a2|^2 (Eq. 2); states (..., P) -> (...).

    Works on (unit, sample, run) arrays in blocks of `chunk` runs, so that the full data
    set (n = 1000) never makes a large temporary; blocks are padded to a multiple of
    RUN_ALIGN runs with zero states so that a run's bits do not depend on its block.
    """
    s = Shape.of(shape)
    theta = np.asarray(theta, dtype=np.float64)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64).reshape(len(X), -1)
    if theta.shape[-1] != s.P:
        raise ValueError(f"state has {theta.shape[-1]} components; shape {tuple(vars(s).values())} needs {s.P}")
    flat = theta.reshape(-1, s.P)
    Xe = np.concatenate([X, np.ones((len(X), 1))], axis=1)  # x_{N1} = 1 carries b1
    sigma = activation_into(activation_name)
    chunk = -(-chunk // RUN_ALIGN) * RUN_ALIGN
    out = np.empty(flat.shape[0])
    for start in range(0, flat.shape[0], chunk):
        block = flat[start : start + chunk]
        r = len(block)
        padded = np.zeros((-(-r // RUN_ALIGN) * RUN_ALIGN, s.P))
        padded[:r] = block
        W21, W32, b1, b2 = unpack(padded, s)
        A = np.concatenate([W21, b1[:, :, None]], axis=2).transpose(1, 2, 0)  # (j, i, run)
        d = Xe @ A  # (N2, n, run)
        a = np.empty_like(d)
        sigma(d, a, np.empty_like(d), None)
        total = np.zeros(len(padded))
        for k in range(s.N3):
            e = b2[:, k] - y[:, k, None]  # (n, run): a2 - y
            for j in range(s.N2):
                e += a[j] * W32[:, k, j]
            e *= e
            total += np.add.reduce(e, axis=0)  # over samples, one run per lane: fixed order
        out[start : start + r] = total[:r] / len(X)
    return out.reshape(theta.shape[:-1])
