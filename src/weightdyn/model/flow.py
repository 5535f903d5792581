"""The weight flow, Eqs. (3)-(6), and its Jacobian, Eqs. (8)-(23), averaged over a batch.

The per-sample cost is C = |y - a2|^2 (Sec. III), the batch cost its mean over the
batch, and the flow is minus its gradient. The Jacobian of the flow is therefore minus
the Hessian of the batch cost,

    J = -(2/B) sum_s [ G_s^T G_s + sum_k (a2 - y)_sk  d^2 a2_k / d theta^2 ],

with G_s = d a2 / d theta (N3 x P) for sample s. The first term collects the
sigma'(d_j) sigma'(d_l) [W32^T W32]_jl parts of Eqs. (8)-(23); the second the
sigma''(d_j) [W32^T (y - a2)]_j and delta_jl [y - a2]_k parts.

The hidden-layer parameters W21[j, i] and b1[j] are handled together by extending the
input with a constant 1 (x_N1 = 1), so that b1[j] acts as W21[j, N1].

All functions take states with a leading run axis (R, P) or a single state (P,), a batch
X (B, N1) shared by all runs or (R, B, N1) per run, and targets y (B,), (B, N3) or
(R, B, N3). Float64 throughout.
"""
from __future__ import annotations

import numpy as np

from .activations import activation
from .layout import Shape, layout_indices, unpack


def _batch(X, y, N3):
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if y.ndim == X.ndim - 1:
        y = y[..., None]
    if y.shape[-1] != N3:
        raise ValueError(f"targets have {y.shape[-1]} outputs, the network has N3 = {N3}")
    ones = np.ones(X.shape[:-1] + (1,))
    return np.concatenate([X, ones], axis=-1), y


def flow_and_jacobian(theta, X, y, shape, activation_name, jacobian: bool = True):
    """Batch-averaged flow f(theta) and, if asked, its Jacobian J = df/dtheta.

    Returns (f, J, batch_cost) with f (R, P), J (R, P, P) or None, batch_cost (R,).
    `theta` must be 2-D (R, P); see `flow` and `flow_jacobian` for the 1-D convenience.
    """
    s = Shape.of(shape)
    theta = np.asarray(theta, dtype=np.float64)
    R, P = theta.shape
    Xe, y = _batch(X, y, s.N3)
    B = Xe.shape[-2]
    hidden, w32 = layout_indices(s)
    sigma = activation(activation_name)

    W21, W32, b1, b2 = unpack(theta, s)
    d = Xe[..., : s.N1] @ W21.swapaxes(-1, -2) + b1[:, None, :]  # (R, B, N2)
    a1, p, q = sigma(d)
    e = a1 @ W32.swapaxes(-1, -2) + b2[:, None, :] - y  # a2 - y, (R, B, N3)
    g = (2.0 / B) * e  # gradient of the batch cost w.r.t. a2, per sample
    h = g @ W32  # [W32^T (a2 - y)]_j * 2/B, (R, B, N2)
    delta1 = p * h

    f = np.empty((R, P))
    f[:, hidden] = -(delta1.swapaxes(-1, -2) @ Xe)  # Eqs. (3), (5)
    f[:, w32] = -(g.swapaxes(-1, -2) @ a1)  # Eq. (4)
    f[:, s.off_b2 :] = -g.sum(axis=-2)  # Eq. (6)
    cost = np.mean(np.sum(e * e, axis=-1), axis=-1)
    if not jacobian:
        return f, None, cost

    # Gauss-Newton part: G_s = d a2 / d theta, (R, B, N3, P).
    G = np.zeros((R, B, s.N3, P))
    u = p[:, :, None, :] * W32[:, None, :, :]  # W32[k, j] sigma'(d_j), (R, B, N3, N2)
    G[..., hidden] = u[..., :, None] * Xe[..., None, None, :]
    for k in range(s.N3):
        G[:, :, k, w32[k]] = a1
        G[:, :, k, s.off_b2 + k] = 1.0
    Gf = G.reshape(R, B * s.N3, P)
    H = (2.0 / B) * (Gf.swapaxes(-1, -2) @ Gf)

    # Second-order part: sum_s sum_k (a2 - y)_k d^2 a2_k.
    nx = s.N1 + 1
    c = q * h  # sigma''(d_j) [W32^T (a2 - y)]_j * 2/B
    xx = (Xe[..., :, None] * Xe[..., None, :]).reshape(*Xe.shape[:-1], nx * nx)
    T = (c.swapaxes(-1, -2) @ xx).reshape(R, s.N2, nx, nx)  # delta_jl blocks
    pg = (p[..., :, None] * g[..., None, :]).reshape(R, B, s.N2 * s.N3)
    U = (pg.swapaxes(-1, -2) @ Xe).reshape(R, s.N2, s.N3, nx)  # W21/b1 x W32 blocks
    for j in range(s.N2):
        rows = hidden[j]
        H[:, rows[:, None], rows[None, :]] += T[:, j]
        for k in range(s.N3):
            col = w32[k, j]
            H[:, rows, col] += U[:, j, k]
            H[:, col, rows] += U[:, j, k]
    return f, -H, cost


def _as_runs(theta):
    theta = np.asarray(theta, dtype=np.float64)
    return theta[None] if theta.ndim == 1 else theta, theta.ndim == 1


def flow(theta, X, y, shape, activation):
    """The batch-averaged flow of Eqs. (3)-(6): (P,) -> (P,) or (R, P) -> (R, P)."""
    th, single = _as_runs(theta)
    f = flow_and_jacobian(th, X, y, shape, activation, jacobian=False)[0]
    return f[0] if single else f


def flow_jacobian(theta, X, y, shape, activation):
    """The analytic Jacobian of the flow, Eqs. (8)-(23): (P,) -> (P, P), (R, P) -> (R, P, P)."""
    th, single = _as_runs(theta)
    J = flow_and_jacobian(th, X, y, shape, activation)[1]
    return J[0] if single else J


def numeric_flow_jacobian(theta, X, y, shape, activation, rel_step: float = 6e-6):
    """Central finite-difference Jacobian of the flow, the paper's check of its formulas.

    Step h_p = rel_step * max(1, |theta_p|) per component; all 2P perturbed states of all
    runs are evaluated in one vectorised call (per-run batches are repeated to match).
    """
    th, single = _as_runs(theta)
    R, P = th.shape
    h = rel_step * np.maximum(1.0, np.abs(th))  # (R, P)
    E = np.eye(P)
    pert = np.concatenate([th[:, None, :] + h[:, :, None] * E, th[:, None, :] - h[:, :, None] * E], axis=1)
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    if X.ndim == 3:  # per-run batches: one copy per perturbed state
        X = np.repeat(X, 2 * P, axis=0)
        y = np.repeat(y, 2 * P, axis=0)
    f = flow_and_jacobian(pert.reshape(R * 2 * P, P), X, y, shape, activation, jacobian=False)[0]
    f = f.reshape(R, 2 * P, P)
    J = ((f[:, :P] - f[:, P:]) / (2.0 * h[:, :, None])).swapaxes(-1, -2)
    return J[0] if single else J


JACOBIANS = ("analytic", "numeric")
# the batch gradient: of the batch-mean cost (this module's flow), or of the batch-sum cost,
# which is B times it (the engine scales the step: `EngineConfig.step_size`)
BATCH_GRADIENTS = ("mean", "sum")


def flow_and_jacobian_mode(theta, X, y, shape, activation_name, mode: str = "analytic", rel_step: float = 6e-6):
    """`flow_and_jacobian` with the Jacobian chosen by config: 'analytic' or 'numeric'
    (central differences with relative step `rel_step`)."""
    if mode == "analytic":
        return flow_and_jacobian(theta, X, y, shape, activation_name)
    if mode == "numeric":
        f, _, cost = flow_and_jacobian(theta, X, y, shape, activation_name, jacobian=False)
        return f, numeric_flow_jacobian(theta, X, y, shape, activation_name, rel_step), cost
    raise ValueError(f"unknown jacobian mode {mode!r}; choose one of {JACOBIANS}")
