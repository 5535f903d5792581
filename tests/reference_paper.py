"""Independent reference implementation, used only by tests.

Training map and tangent dynamics of a three-layer (N1-N2-N3, default 2-2-1)
network from Sharafi, Martin, Hallerberg, "On the weight dynamics of learning
networks" (arXiv 2405.00743), written directly from the paper's Eqs. (1)-(23)
without using anything from the ``weightdyn`` package. It is deliberately
simple (explicit loops per sample and per entry) so it can serve as an oracle.

Conventions
-----------
State layout (columns of W21, columns of W32, b1, b2):
    W21[j, i] -> i*N2 + j
    W32[k, j] -> N1*N2 + j*N3 + k
    b1[j]     -> N1*N2 + N2*N3 + j
    b2[k]     -> N1*N2 + N2*N3 + N2 + k
Per-sample cost C = |y - a2|^2, so grad_a2 C = 2 (a2 - y); the flow is minus
the gradient (Eqs. 3-6) and the Jacobian (Eqs. 8-23) is minus the Hessian of
the cost. Batch flow and batch Jacobian are means over the samples.
"""

import math

import numpy as np

ACTIVATIONS = ("relu", "tanh", "gelu", "sigmoid")


# ---------------------------------------------------------------------------
# activation functions: sigma, sigma', sigma'' for a scalar argument
# ---------------------------------------------------------------------------
def _act(d, activation):
    """Return (sigma(d), sigma'(d), sigma''(d)) for a scalar d."""
    d = float(d)
    if activation == "relu":
        if d > 0.0:
            return d, 1.0, 0.0
        return 0.0, 0.0, 0.0
    if activation == "tanh":
        t = math.tanh(d)
        s1 = 1.0 - t * t
        return t, s1, -2.0 * t * s1
    if activation == "gelu":
        cdf = 0.5 * (1.0 + math.erf(d / math.sqrt(2.0)))
        pdf = math.exp(-0.5 * d * d) / math.sqrt(2.0 * math.pi)
        return d * cdf, cdf + d * pdf, pdf * (2.0 - d * d)
    if activation == "sigmoid":
        if d >= 0.0:
            s = 1.0 / (1.0 + math.exp(-d))
        else:
            ed = math.exp(d)
            s = ed / (1.0 + ed)
        s1 = s * (1.0 - s)
        return s, s1, s1 * (1.0 - 2.0 * s)
    raise ValueError(f"unknown activation {activation!r}")


# ---------------------------------------------------------------------------
# state layout helpers
# ---------------------------------------------------------------------------
def n_params(N1, N2, N3):
    return N1 * N2 + N2 * N3 + N2 + N3


def idx_w21(j, i, N1, N2, N3):
    return i * N2 + j


def idx_w32(k, j, N1, N2, N3):
    return N1 * N2 + j * N3 + k


def idx_b1(j, N1, N2, N3):
    return N1 * N2 + N2 * N3 + j


def idx_b2(k, N1, N2, N3):
    return N1 * N2 + N2 * N3 + N2 + k


def unpack(theta, N1, N2, N3):
    """Split the state vector into W21 (N2,N1), W32 (N3,N2), b1 (N2,), b2 (N3,)."""
    theta = np.asarray(theta, dtype=float)
    assert theta.shape == (n_params(N1, N2, N3),)
    W21 = np.zeros((N2, N1))
    W32 = np.zeros((N3, N2))
    b1 = np.zeros(N2)
    b2 = np.zeros(N3)
    for j in range(N2):
        for i in range(N1):
            W21[j, i] = theta[idx_w21(j, i, N1, N2, N3)]
        b1[j] = theta[idx_b1(j, N1, N2, N3)]
    for k in range(N3):
        for j in range(N2):
            W32[k, j] = theta[idx_w32(k, j, N1, N2, N3)]
        b2[k] = theta[idx_b2(k, N1, N2, N3)]
    return W21, W32, b1, b2


def pack(W21, W32, b1, b2):
    """Inverse of :func:`unpack`."""
    N2, N1 = W21.shape
    N3 = W32.shape[0]
    theta = np.zeros(n_params(N1, N2, N3))
    for j in range(N2):
        for i in range(N1):
            theta[idx_w21(j, i, N1, N2, N3)] = W21[j, i]
        theta[idx_b1(j, N1, N2, N3)] = b1[j]
    for k in range(N3):
        for j in range(N2):
            theta[idx_w32(k, j, N1, N2, N3)] = W32[k, j]
        theta[idx_b2(k, N1, N2, N3)] = b2[k]
    return theta


def _as_batch(X, y, N1, N3):
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim == 1:
        X = X.reshape(1, -1)
    B = X.shape[0]
    assert X.shape == (B, N1), f"X has shape {X.shape}, expected (B, {N1})"
    if y.ndim == 1 and N3 == 1:
        y = y.reshape(B, 1)
    assert y.shape == (B, N3), f"y has shape {y.shape}, expected ({B}, {N3})"
    return X, y


def _forward(W21, W32, b1, b2, x, activation):
    """One sample x: returns d, sigma(d), sigma'(d), sigma''(d), a2."""
    N2, N1 = W21.shape
    N3 = W32.shape[0]
    d = np.zeros(N2)
    s0 = np.zeros(N2)
    s1 = np.zeros(N2)
    s2 = np.zeros(N2)
    for j in range(N2):
        d[j] = b1[j]
        for i in range(N1):
            d[j] += W21[j, i] * x[i]
        s0[j], s1[j], s2[j] = _act(d[j], activation)
    a2 = np.zeros(N3)
    for k in range(N3):
        a2[k] = b2[k]
        for j in range(N2):
            a2[k] += W32[k, j] * s0[j]
    return d, s0, s1, s2, a2


# ---------------------------------------------------------------------------
# flow, Eqs. (3)-(6)
# ---------------------------------------------------------------------------
def paper_flow(theta, X, y, N1, N2, N3, activation):
    """Batch-averaged weight flow d(theta)/dt, Eqs. (3)-(6), with grad C = 2(a2 - y)."""
    W21, W32, b1, b2 = unpack(theta, N1, N2, N3)
    X, y = _as_batch(X, y, N1, N3)
    B = X.shape[0]
    P = n_params(N1, N2, N3)
    F = np.zeros(P)
    for s in range(B):
        x = X[s]
        _, sig, dsig, _, a2 = _forward(W21, W32, b1, b2, x, activation)
        gradC = 2.0 * (a2 - y[s])  # nabla_{a2} C
        # back = W32^T gradC
        back = np.zeros(N2)
        for j in range(N2):
            for k in range(N3):
                back[j] += W32[k, j] * gradC[k]
        # Eq. (3): W21dot = -(sigma'(d) o (W32^T gradC)) x^T
        for j in range(N2):
            for i in range(N1):
                F[idx_w21(j, i, N1, N2, N3)] += -dsig[j] * back[j] * x[i]
        # Eq. (4): W32dot = -gradC sigma(d)^T
        for k in range(N3):
            for j in range(N2):
                F[idx_w32(k, j, N1, N2, N3)] += -gradC[k] * sig[j]
        # Eq. (5): b1dot = -sigma'(d) o (W32^T gradC)
        for j in range(N2):
            F[idx_b1(j, N1, N2, N3)] += -dsig[j] * back[j]
        # Eq. (6): b2dot = -gradC
        for k in range(N3):
            F[idx_b2(k, N1, N2, N3)] += -gradC[k]
    return F / B


# ---------------------------------------------------------------------------
# Jacobian, Eqs. (8)-(23), entry by entry
# ---------------------------------------------------------------------------
def _sample_jacobian(W21, W32, b1, b2, x, yv, activation):
    N2, N1 = W21.shape
    N3 = W32.shape[0]
    P = n_params(N1, N2, N3)
    J = np.zeros((P, P))
    _, sig, dsig, ddsig, a2 = _forward(W21, W32, b1, b2, x, activation)
    e = yv - a2  # y - a^(2)
    # g = [W32^T (y - a2)]_j
    g = np.zeros(N2)
    for j in range(N2):
        for k in range(N3):
            g[j] += W32[k, j] * e[k]
    # WtW = [W32^T W32]_{jl}
    WtW = np.zeros((N2, N2))
    for j in range(N2):
        for l in range(N2):
            for k in range(N3):
                WtW[j, l] += W32[k, j] * W32[k, l]

    def delta(a, b):
        return 1.0 if a == b else 0.0

    # ---- rows of W21dot, Eq. (3) ----
    for j in range(N2):
        for i in range(N1):
            r = idx_w21(j, i, N1, N2, N3)
            # Eq. (8): d W21dot_ji / d W21_lm
            for l in range(N2):
                for m in range(N1):
                    c = idx_w21(l, m, N1, N2, N3)
                    J[r, c] = 2.0 * x[i] * x[m] * (
                        delta(j, l) * ddsig[j] * g[j] - dsig[j] * dsig[l] * WtW[j, l]
                    )
            # Eq. (9): d W21dot_ji / d W32_nl
            for l in range(N2):
                for n in range(N3):
                    c = idx_w32(n, l, N1, N2, N3)
                    J[r, c] = 2.0 * x[i] * dsig[j] * (
                        delta(j, l) * e[n] - sig[l] * W32[n, j]
                    )
            # Eq. (10): d W21dot_ji / d b1_l
            for l in range(N2):
                c = idx_b1(l, N1, N2, N3)
                J[r, c] = 2.0 * x[i] * (
                    delta(j, l) * ddsig[j] * g[j] - dsig[j] * dsig[l] * WtW[j, l]
                )
            # Eq. (11): d W21dot_ji / d b2_n
            for n in range(N3):
                c = idx_b2(n, N1, N2, N3)
                J[r, c] = -2.0 * x[i] * dsig[j] * W32[n, j]

    # ---- rows of W32dot, Eq. (4) ----
    for k in range(N3):
        for j in range(N2):
            r = idx_w32(k, j, N1, N2, N3)
            # Eq. (12): d W32dot_kj / d W21_lm
            for l in range(N2):
                for m in range(N1):
                    c = idx_w21(l, m, N1, N2, N3)
                    J[r, c] = 2.0 * dsig[l] * x[m] * (
                        delta(j, l) * e[k] - sig[j] * W32[k, l]
                    )
            # Eq. (13): d W32dot_kj / d W32_nl
            for l in range(N2):
                for n in range(N3):
                    c = idx_w32(n, l, N1, N2, N3)
                    J[r, c] = -2.0 * delta(k, n) * sig[j] * sig[l]
            # Eq. (14): d W32dot_kj / d b1_l  (row index N1N2 + j N3 + k)
            for l in range(N2):
                c = idx_b1(l, N1, N2, N3)
                J[r, c] = 2.0 * dsig[l] * (delta(j, l) * e[k] - sig[j] * W32[k, l])
            # Eq. (15): d W32dot_kj / d b2_n
            for n in range(N3):
                c = idx_b2(n, N1, N2, N3)
                J[r, c] = -2.0 * delta(k, n) * sig[j]

    # ---- rows of b1dot, Eq. (5) ----
    for j in range(N2):
        r = idx_b1(j, N1, N2, N3)
        # Eq. (16): d b1dot_j / d W21_lm
        for l in range(N2):
            for m in range(N1):
                c = idx_w21(l, m, N1, N2, N3)
                J[r, c] = 2.0 * x[m] * (
                    delta(j, l) * ddsig[j] * g[j] - dsig[j] * dsig[l] * WtW[j, l]
                )
        # Eq. (17): d b1dot_j / d W32_nl
        for l in range(N2):
            for n in range(N3):
                c = idx_w32(n, l, N1, N2, N3)
                J[r, c] = 2.0 * dsig[j] * (delta(j, l) * e[n] - sig[l] * W32[n, j])
        # Eq. (18): d b1dot_j / d b1_l
        for l in range(N2):
            c = idx_b1(l, N1, N2, N3)
            J[r, c] = 2.0 * (
                delta(j, l) * ddsig[j] * g[j] - dsig[j] * dsig[l] * WtW[j, l]
            )
        # Eq. (19): d b1dot_j / d b2_n
        for n in range(N3):
            c = idx_b2(n, N1, N2, N3)
            J[r, c] = -2.0 * dsig[j] * W32[n, j]

    # ---- rows of b2dot, Eq. (6) ----
    for k in range(N3):
        r = idx_b2(k, N1, N2, N3)
        # Eq. (20): d b2dot_k / d W21_lm
        for l in range(N2):
            for m in range(N1):
                c = idx_w21(l, m, N1, N2, N3)
                J[r, c] = -2.0 * dsig[l] * W32[k, l] * x[m]
        # Eq. (21): d b2dot_k / d W32_nl
        for l in range(N2):
            for n in range(N3):
                c = idx_w32(n, l, N1, N2, N3)
                J[r, c] = -2.0 * delta(k, n) * sig[l]
        # Eq. (22): d b2dot_k / d b1_l
        for l in range(N2):
            c = idx_b1(l, N1, N2, N3)
            J[r, c] = -2.0 * dsig[l] * W32[k, l]
        # Eq. (23): d b2dot_k / d b2_n
        for n in range(N3):
            c = idx_b2(n, N1, N2, N3)
            J[r, c] = -2.0 * delta(k, n)
    return J


def paper_jacobian(theta, X, y, N1, N2, N3, activation):
    """Batch-averaged Jacobian of the flow, built entry by entry from Eqs. (8)-(23)."""
    W21, W32, b1, b2 = unpack(theta, N1, N2, N3)
    X, y = _as_batch(X, y, N1, N3)
    B = X.shape[0]
    P = n_params(N1, N2, N3)
    J = np.zeros((P, P))
    for s in range(B):
        J += _sample_jacobian(W21, W32, b1, b2, X[s], y[s], activation)
    return J / B


# ---------------------------------------------------------------------------
# one training run with tangent dynamics and QR every k steps
# ---------------------------------------------------------------------------
def _qr_positive(Y):
    Q, R = np.linalg.qr(Y)
    for i in range(R.shape[0]):
        if R[i, i] < 0.0:
            Q[:, i] = -Q[:, i]
            R[i, :] = -R[i, :]
    return Q, R


def replay(theta0, X, y, batches, dt, k, activation, N1=2, N2=2, N3=1):
    """Replay one training run and its tangent dynamics.

    Step n: M_n = I + dt * J(theta_n, batch_n); Y <- M_n Y;
    theta_{n+1} = theta_n + dt * F(theta_n, batch_n).
    Every k steps: Y = Q R (diag(R) > 0), Y <- Q, local FTLE = log(diag R) / (k dt).

    Returns dict with 'states' (n_intervals+1, P), 'ftle' (n_intervals, P),
    'R' (n_intervals, P, P).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    batches = np.asarray(batches, dtype=int)
    n_steps = batches.shape[0]
    assert n_steps % k == 0, "n_steps must be a multiple of k"
    n_intervals = n_steps // k
    P = n_params(N1, N2, N3)
    theta = np.array(theta0, dtype=float).copy()
    assert theta.shape == (P,)
    Y = np.eye(P)
    I = np.eye(P)
    states = [theta.copy()]
    ftle = []
    Rs = []
    for n in range(n_steps):
        Xb = X[batches[n]]
        yb = y[batches[n]]
        Jn = paper_jacobian(theta, Xb, yb, N1, N2, N3, activation)
        Fn = paper_flow(theta, Xb, yb, N1, N2, N3, activation)
        Y = (I + dt * Jn) @ Y
        theta = theta + dt * Fn
        if (n + 1) % k == 0:
            Q, R = _qr_positive(Y)
            Y = Q
            ftle.append(np.log(np.diag(R)) / (k * dt))
            Rs.append(R)
            states.append(theta.copy())
    return {
        "states": np.array(states).reshape(n_intervals + 1, P),
        "ftle": np.array(ftle).reshape(n_intervals, P),
        "R": np.array(Rs).reshape(n_intervals, P, P),
    }
