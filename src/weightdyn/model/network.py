"""The forward pass of Eqs. (1)-(2) and the cost, for many runs at once."""
from __future__ import annotations

import numpy as np

from .activations import activation_into
from .layout import RUN_ALIGN, Shape, unpack


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


def constant_loss(y) -> float:
    """The cost (Eq. 2, as `loss`) of the best constant predictor, a2 = mean(y): the summed
    variance of the targets. A dead network (no hidden unit active on any sample) trains
    its output bias to mean(y) and ends at this cost, up to the mini-batch noise of that
    bias (about 1e-6 relative at the paper's dt and batch)."""
    y = np.asarray(y, dtype=np.float64)
    y = y.reshape(len(y), -1)
    return float(np.sum(np.mean((y - y.mean(axis=0)) ** 2, axis=0)))
