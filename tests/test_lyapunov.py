"""Tests of the general Lyapunov API (weightdyn.lyapunov) on systems with known answers.

Reference values: Henon (a = 1.4, b = 0.3) 0.41922, -1.62319; Lorenz (10, 28, 8/3)
0.9056, 0, -14.5722 (sum -13.6667); the linear map [[2, 1], [0, 0.5]] with exponents
+-ln 2 and CLVs equal to its eigenvectors. Ensembles of initial conditions run along the leading
axis, so one call gives many independent trajectories and the spread across members gives
the statistical error of each estimate. All randomness is seeded, so every number below is
reproducible; the statistical errors quoted in comments were measured with these seeds.

Timing (one core): the default selection (-m "not slow") takes ~10 s; the single
@pytest.mark.slow test (Lorenz to 3 decimals) takes ~50-60 s more.
"""
from __future__ import annotations

import numpy as np
import pytest
from scipy.special import digamma

from weightdyn.lyapunov import (
    LyapunovLoop,
    TangentStepper,
    backward_iteration,
    clv_cosines,
    pair_labels,
    qr_positive,
    random_upper_start,
    run_checkpoints,
    solve_upper,
    start_distance,
)
from weightdyn.lyapunov.history import LyapunovResult, ginelli_clvs, lyapunov_spectrum, past_only_clvs

# ----------------------------------------------------------------------------------
# Systems. Every f and jac takes a stack x (..., D) and returns (..., D) / (..., D, D).

HENON_A, HENON_B = 1.4, 0.3
HENON_EXPONENTS = np.array([0.41922, -1.62319])


def henon(x):
    return np.stack([1.0 - HENON_A * x[..., 0] ** 2 + x[..., 1], HENON_B * x[..., 0]], axis=-1)


def henon_jac(x):
    J = np.empty(x.shape + (2,))
    J[..., 0, 0] = -2.0 * HENON_A * x[..., 0]
    J[..., 0, 1] = 1.0
    J[..., 1, 0] = HENON_B
    J[..., 1, 1] = 0.0
    return J


def henon_ensemble(n_members, seed):
    """Initial conditions in the basin of the attractor (a transient is run by the caller)."""
    return np.random.default_rng(seed).uniform(-0.1, 0.1, (n_members, 2))


def henon_trajectory(x0, transient, n_steps):
    """x_0 .. x_n exactly as lyapunov_spectrum visits them (same float operations)."""
    x = np.array(x0, dtype=np.float64)
    for _ in range(transient):
        x = henon(x)
    xs = [x]
    for _ in range(n_steps):
        x = henon(x)
        xs.append(x)
    return np.stack(xs)


SIGMA, RHO, BETA = 10.0, 28.0, 8.0 / 3.0
LORENZ_EXPONENTS = np.array([0.9056, 0.0, -14.5722])
LORENZ_SUM = -(SIGMA + 1.0 + BETA)  # trace of the Lorenz Jacobian, -13.6667
H = 0.01
EYE3 = np.eye(3)


def lorenz_field(x):
    X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
    return np.stack([SIGMA * (Y - X), X * (RHO - Z) - Y, X * Y - BETA * Z], axis=-1)


def lorenz_field_jac(x):
    X, Y, Z = x[..., 0], x[..., 1], x[..., 2]
    J = np.zeros(x.shape + (3,))
    J[..., 0, 0] = -SIGMA
    J[..., 0, 1] = SIGMA
    J[..., 1, 0] = RHO - Z
    J[..., 1, 1] = -1.0
    J[..., 1, 2] = -X
    J[..., 2, 0] = Y
    J[..., 2, 1] = X
    J[..., 2, 2] = -BETA
    return J


def lorenz_rk4(x, h=H):
    k1 = lorenz_field(x)
    k2 = lorenz_field(x + 0.5 * h * k1)
    k3 = lorenz_field(x + 0.5 * h * k2)
    k4 = lorenz_field(x + h * k3)
    return x + h / 6.0 * (k1 + 2.0 * k2 + 2.0 * k3 + k4)


def lorenz_rk4_jac(x, h=H):
    """Exact Jacobian of the RK4 step: the variational equation run through the same stages."""
    k1 = lorenz_field(x)
    x2 = x + 0.5 * h * k1
    k2 = lorenz_field(x2)
    x3 = x + 0.5 * h * k2
    k3 = lorenz_field(x3)
    x4 = x + h * k3
    K1 = lorenz_field_jac(x)
    K2 = lorenz_field_jac(x2) @ (EYE3 + 0.5 * h * K1)
    K3 = lorenz_field_jac(x3) @ (EYE3 + 0.5 * h * K2)
    K4 = lorenz_field_jac(x4) @ (EYE3 + h * K3)
    return EYE3 + h / 6.0 * (K1 + 2.0 * K2 + 2.0 * K3 + K4)


def lorenz_ensemble(n_members, seed):
    return np.random.default_rng(seed).normal(size=(n_members, 3)) + np.array([1.0, 1.0, 20.0])


LINEAR_A = np.array([[2.0, 1.0], [0.0, 0.5]])
EIG_EXPANDING = np.array([1.0, 0.0])
EIG_CONTRACTING = np.array([-2.0, 3.0]) / np.sqrt(13.0)  # (-0.5547002, 0.8320503)


def linear(x):
    return x @ LINEAR_A.T


def linear_jac(x):
    return np.broadcast_to(LINEAR_A, x.shape + (2,))


# ----------------------------------------------------------------------------------
# Helpers for the tests.


def one_minus_abs_cos(u, v):
    """1 - |cos angle(u, v)| along the last axis, accurate down to ~1e-32.

    Written as sin^2 / (1 + |cos|) with sin^2 from the wedge product (Lagrange identity), so
    that values far below machine epsilon are resolved instead of rounding to 0 or 1e-16.
    """
    u = u / np.linalg.norm(u, axis=-1, keepdims=True)
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    wedge = u[..., :, None] * v[..., None, :] - v[..., :, None] * u[..., None, :]
    sin2 = 0.5 * np.sum(wedge**2, axis=(-2, -1))
    return sin2 / (1.0 + np.abs(np.sum(u * v, axis=-1)))


def assert_parallel_columns(V, expected, atol):
    """Columns of V (..., D, D) equal the given unit vectors up to a sign per column."""
    for j, e in enumerate(expected):
        v = V[..., :, j]
        sign = np.sign(v @ e)[..., None]
        np.testing.assert_allclose(sign * v, np.broadcast_to(e, v.shape), rtol=0, atol=atol)


# ----------------------------------------------------------------------------------
# 1. Henon map.


@pytest.fixture(scope="module")
def henon_run():
    # 1000 members x 3000 steps after a 1000-step transient, QR every step (~2 s).
    x0 = henon_ensemble(1000, seed=1)
    return lyapunov_spectrum(henon, henon_jac, x0, n_intervals=3000, transient=1000)


def test_henon_exponents(henon_run):
    res = henon_run
    assert res.exponents.shape == (1000, 2)
    assert np.all(np.isfinite(res.exponents)), "some member left the basin of the attractor"
    mean = res.exponents.mean(axis=0)
    sem = res.exponents.std(axis=0) / np.sqrt(len(res.exponents))
    # Measured: error (-1.3e-4, +1.2e-4), standard error of the mean 2.2e-4 per exponent
    # (the per-member spread is 0.37/sqrt(n_steps)), so 1e-3 is ~4.5 standard errors.
    assert np.all(sem < 3e-4)
    np.testing.assert_allclose(mean, HENON_EXPONENTS, rtol=0, atol=1e-3)
    # The exponents are the average of the local FTLEs, and the last running average.
    np.testing.assert_allclose(res.exponents, res.ftle_local.mean(axis=0), rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(res.ftle_cumulative[-1], res.exponents, rtol=1e-12, atol=1e-14)
    assert res.tau == 1.0


def test_henon_local_ftle_sum_is_ln_b_every_interval(henon_run):
    # det M = -b at every step, so log R11 + log R22 = ln b per step exactly (up to rounding).
    err = np.abs(henon_run.ftle_local.sum(axis=-1) - np.log(HENON_B))
    assert err.shape == (3000, 1000)
    assert err.max() < 1e-12  # measured 2e-15


@pytest.mark.parametrize("steps_per_interval, dt", [(1, 1.0), (2, 1.0), (3, 0.25), (5, 2.0)])
def test_henon_local_ftle_sum_with_intervals_and_dt(steps_per_interval, dt):
    # Over k steps the volume contracts by b^k; the local FTLEs are divided by tau = k dt.
    k = steps_per_interval
    res = lyapunov_spectrum(henon, henon_jac, henon_ensemble(20, seed=2), n_intervals=200,
                            steps_per_interval=k, dt=dt, transient=200)
    assert res.tau == pytest.approx(k * dt)
    assert res.ftle_local.shape == (200, 20, 2)
    # Error of log R11 + log R22 over one interval: the product of k tangents has condition
    # number ~exp((lambda_1 - lambda_2) k), and the QR loses that factor on the small R22.
    # Measured max error / (eps exp(2.04 k)) = 0.7, 3.4, 8.5, 10, 8 for k = 1..5
    # (absolute: 1e-15, 4e-14, 9e-13, 8e-12, 5e-11); so ~1e-15 at k = 1, 5e-11 at k = 5.
    err = np.abs(res.ftle_local.sum(axis=-1) * res.tau - k * np.log(HENON_B))
    bound = 50 * np.finfo(float).eps * np.exp((HENON_EXPONENTS[0] - HENON_EXPONENTS[1]) * k)
    assert err.max() < bound
    if k == 1:
        assert err.max() < 1e-14


# ----------------------------------------------------------------------------------
# 2. Lorenz system as a small-step RK4 map.


def test_lorenz_rk4_tangent_matches_finite_differences():
    # Guards the test's own tangent: central differences of the RK4 map.
    x = lorenz_ensemble(5, seed=3) + np.random.default_rng(4).normal(scale=5.0, size=(5, 3))
    eps = 1e-6
    fd = np.stack([(lorenz_rk4(x + eps * EYE3[i]) - lorenz_rk4(x - eps * EYE3[i])) / (2 * eps)
                   for i in range(3)], axis=-1)
    np.testing.assert_allclose(lorenz_rk4_jac(x), fd, rtol=0, atol=1e-7)  # measured 2e-9


def _lorenz_estimates(res, skip_time):
    """Exponents from the local FTLEs after discarding the first skip_time time units.

    Starting from Q_0 = I, the basis needs a few time units to align with the Gram-Schmidt
    vectors; that start-up adds an O(1/T) bias to `exponents` (measured at T = 100:
    -0.010 on lambda_2, +0.015 on lambda_3), which dropping the first 5 time units removes.
    """
    skip = int(round(skip_time / res.tau))
    est = res.ftle_local[skip:].mean(axis=0)
    return est.mean(axis=0), est.std(axis=0) / np.sqrt(est.shape[0])


def test_lorenz_exponents():
    # 400 members x T = 100 (1e4 RK4 steps each) after a transient of 20 time units, QR
    # every 0.5 time units (~3-5 s). Measured (skipping the first 5 time units):
    # errors (-8e-4, +7e-4, +2e-4), standard errors (1.2e-3, 4.5e-4, 9.6e-4); tolerances
    # (6e-3, 2.5e-3, 5e-3) are ~5 standard errors. The sum (log|det| of the RK4 map) has
    # error +1.0e-4 (the RK4 discretisation bias) and a spread of 1.4e-6 across members.
    # Without skipping, the errors are (-6e-3, -8e-3, +1.5e-2).
    n_members, T, tau = 400, 100.0, 0.5
    k = int(round(tau / H))
    res = lyapunov_spectrum(lorenz_rk4, lorenz_rk4_jac, lorenz_ensemble(n_members, seed=5),
                            n_intervals=int(round(T / tau)), steps_per_interval=k, dt=H,
                            transient=int(round(20.0 / H)))
    assert res.tau == pytest.approx(tau)
    assert np.all(np.isfinite(res.exponents))
    mean, sem = _lorenz_estimates(res, skip_time=5.0)
    assert np.all(sem < [1.5e-3, 6e-4, 1.2e-3]), sem
    assert np.all(np.abs(mean - LORENZ_EXPONENTS) < [6e-3, 2.5e-3, 5e-3]), (mean, sem)
    total = res.exponents.sum(axis=-1)
    np.testing.assert_allclose(total.mean(), LORENZ_SUM, rtol=0, atol=1e-3)
    assert total.std() < 1e-4
    # Without skipping, the estimates are still near the reference (O(1/T) start-up bias).
    np.testing.assert_allclose(res.exponents.mean(axis=0), LORENZ_EXPONENTS, rtol=0, atol=0.03)


@pytest.mark.slow
def test_lorenz_exponents_precise():
    # 3000 members x T = 300 (3e4 RK4 steps each), ~50-60 s. Measured (skipping the first
    # 10 time units): errors (-1.3e-4, -2e-6, +1.7e-4), standard errors (1.9e-4, 5e-5,
    # 1.7e-4); sum error +1.0e-4 (RK4 bias at h = 0.01). So lambda_3 and the sum to 3
    # decimals (1e-3 = ~6 standard errors) and lambda_1 to 2 decimals (it is in fact
    # within 1e-3 as well). Without skipping, the start-up bias alone is ~5e-3 on lambda_3.
    n_members, T, tau = 3000, 300.0, 0.5
    k = int(round(tau / H))
    res = lyapunov_spectrum(lorenz_rk4, lorenz_rk4_jac, lorenz_ensemble(n_members, seed=6),
                            n_intervals=int(round(T / tau)), steps_per_interval=k, dt=H,
                            transient=int(round(20.0 / H)))
    mean, sem = _lorenz_estimates(res, skip_time=10.0)
    assert np.all(sem < [2.5e-4, 1e-4, 2.5e-4])
    assert abs(mean[0] - LORENZ_EXPONENTS[0]) < 1e-2
    assert abs(mean[1]) < 1e-3
    assert abs(mean[2] - LORENZ_EXPONENTS[2]) < 1e-3
    assert abs(res.exponents.sum(axis=-1).mean() - LORENZ_SUM) < 1e-3
    assert abs(mean.sum() - LORENZ_SUM) < 1e-3


# ----------------------------------------------------------------------------------
# 3. Constant linear map A = [[2, 1], [0, 0.5]].


@pytest.fixture(scope="module")
def linear_run():
    x0 = np.random.default_rng(7).normal(size=(3, 2))
    return lyapunov_spectrum(linear, linear_jac, x0, n_intervals=60, keep_basis=True)


@pytest.mark.parametrize("steps_per_interval", [1, 3])
def test_linear_map_exponents(steps_per_interval):
    res = lyapunov_spectrum(linear, linear_jac, np.ones((3, 2)), n_intervals=50,
                            steps_per_interval=steps_per_interval)
    np.testing.assert_allclose(res.exponents, np.broadcast_to([np.log(2), -np.log(2)], (3, 2)),
                               rtol=0, atol=1e-12)
    np.testing.assert_allclose(res.ftle_local, np.broadcast_to([np.log(2), -np.log(2)], (50, 3, 2)),
                               rtol=0, atol=1e-12)


def test_linear_map_gram_schmidt_vectors_are_identity(linear_run):
    # A is upper triangular with positive diagonal: Q stays I and every R equals A. This is
    # what makes the CLV test below discriminating (CLV_2 is not the GS vector e_2).
    np.testing.assert_allclose(linear_run.Q, np.broadcast_to(np.eye(2), linear_run.Q.shape), atol=1e-15)
    np.testing.assert_allclose(linear_run.R, np.broadcast_to(LINEAR_A, linear_run.R.shape), atol=1e-14)
    assert one_minus_abs_cos(EIG_CONTRACTING, np.array([0.0, 1.0])) > 0.1  # 0.168


def test_linear_map_ginelli_clvs_are_eigenvectors(linear_run):
    np.testing.assert_allclose(EIG_CONTRACTING, [-0.5547002, 0.8320503], atol=1e-7)
    V = ginelli_clvs(linear_run, window=40)
    assert V.shape == (60 - 40 + 1, 3, 2, 2)
    assert_parallel_columns(V, [EIG_EXPANDING, EIG_CONTRACTING], atol=1e-10)
    # Unit columns; the CLV angle is the eigenvector angle.
    np.testing.assert_allclose(np.linalg.norm(V, axis=-2), 1.0, atol=1e-14)
    C = linear_run.Q[: len(V)].swapaxes(-1, -2) @ V
    np.testing.assert_allclose(np.abs(clv_cosines(C))[..., 0], abs(EIG_EXPANDING @ EIG_CONTRACTING), atol=1e-10)


def test_linear_map_past_only_clvs(linear_run):
    V = past_only_clvs(linear_run, window=25)
    assert V.shape == (60 + 1, 3, 2, 2)  # indexed by the time the estimate becomes known
    assert np.isnan(V[:25]).all() and np.isfinite(V[25:]).all()
    assert_parallel_columns(V[25:], [EIG_EXPANDING, EIG_CONTRACTING], atol=1e-10)
    # Window semantics, exactly: the estimate with window w is the normalized A^{-w} e_2,
    # whose distance to the eigenvector shrinks by 1/4 per step of window.
    Ainv = np.linalg.inv(LINEAR_A)
    errors = []
    for w in range(1, 11):
        expected = np.linalg.matrix_power(Ainv, w) @ np.array([0.0, 1.0])
        expected /= np.linalg.norm(expected)
        V = past_only_clvs(linear_run, window=w)[w:]
        assert V.shape == (60 - w + 1, 3, 2, 2)
        np.testing.assert_allclose(V[..., :, 1], np.broadcast_to(expected, V[..., :, 1].shape), atol=1e-14)
        np.testing.assert_allclose(V[..., :, 0], np.broadcast_to(EIG_EXPANDING, V[..., :, 0].shape), atol=1e-15)
        errors.append(np.sqrt(one_minus_abs_cos(expected, EIG_CONTRACTING)))
    # The angle to the eigenvector shrinks by the eigenvalue ratio 1/4 per window step
    # (asymptotically; measured ratios 0.237, 0.246, 0.2491, 0.2498, ...).
    ratios = np.array(errors[1:]) / np.array(errors[:-1])
    np.testing.assert_allclose(ratios[3:], 0.25, rtol=1e-3)
    np.testing.assert_allclose(ratios, 0.25, rtol=0.06)


# ----------------------------------------------------------------------------------
# 4. Sum of the exponents = mean log|det M| along the trajectory.


def test_sum_equals_mean_log_det_random_matrices():
    # Tangent = a fresh Gaussian 4x4 matrix per step and member (seeded); state unchanged.
    rng = np.random.default_rng(8)
    drawn = []

    def jac(x):
        M = rng.standard_normal(x.shape + (x.shape[-1],))
        drawn.append(M)
        return M

    k, n = 3, 400
    res = lyapunov_spectrum(lambda x: x, jac, np.zeros((16, 4)), n_intervals=n, steps_per_interval=k,
                            dt=0.5)
    logdet = np.linalg.slogdet(np.stack(drawn))[1]  # (n k, 16)
    assert logdet.shape == (n * k, 16)
    # Whole run: sum of exponents = mean log|det| per unit time (measured error 2e-12).
    np.testing.assert_allclose(res.exponents.sum(axis=-1), logdet.mean(axis=0) / 0.5, rtol=0, atol=1e-10)
    # Every interval: the local FTLEs of interval m cover exactly steps mk .. mk+k-1. The
    # rounding error of one interval is ~eps cond(interval product) (measured max
    # err / cond = 3e-16; a few products of Gaussian matrices are nearly singular and give
    # errors up to 1e-9), so the bound scales with the condition number.
    Ms = np.stack(drawn).reshape(n, k, 16, 4, 4)
    P = Ms[:, 0]
    for i in range(1, k):
        P = Ms[:, i] @ P
    per_interval = logdet.reshape(n, k, 16).sum(axis=1)
    err = np.abs(res.ftle_local.sum(axis=-1) * res.tau - per_interval)
    assert np.all(err < 1e-14 * np.linalg.cond(P) + 1e-14)
    assert np.median(err) < 1e-13


def test_sum_equals_mean_log_det_lorenz_rk4():
    # det of the RK4 tangent is not constant along the orbit (it only approximates
    # exp(h tr J)), so this checks the identity on a genuinely varying determinant.
    x0, transient, k, n = lorenz_ensemble(4, seed=9), 500, 7, 150
    res = lyapunov_spectrum(lorenz_rk4, lorenz_rk4_jac, x0, n_intervals=n, steps_per_interval=k,
                            dt=H, transient=transient)
    x = np.array(x0)
    for _ in range(transient):
        x = lorenz_rk4(x)
    logdet = []
    for _ in range(n * k):
        logdet.append(np.linalg.slogdet(lorenz_rk4_jac(x))[1])
        x = lorenz_rk4(x)
    logdet = np.stack(logdet)
    assert logdet.std(axis=0).min() > 1e-7  # really not constant (measured ~9e-7)
    # Measured errors: 2.5e-14 (whole run) and 2.1e-14 (per interval).
    np.testing.assert_allclose(res.exponents.sum(axis=-1), logdet.mean(axis=0) / H, rtol=0, atol=1e-10)
    per_interval = logdet.reshape(n, k, -1).sum(axis=1) / res.tau
    np.testing.assert_allclose(res.ftle_local.sum(axis=-1), per_interval, rtol=0, atol=1e-10)


def test_gaussian_random_matrix_product_exponents():
    # Products of i.i.d. standard Gaussian D x D matrices have the exact spectrum
    # lambda_i = (ln 2 + digamma((D - i + 1) / 2)) / 2 (Newman 1986), a check of every
    # exponent separately. 256 members x 3000 steps; measured errors (-3.7e-4, -3.7e-4,
    # +3.8e-4, -7.4e-4) with standard errors (4.3e-4, 5.4e-4, 6.7e-4, 1.3e-3);
    # tolerance 6e-3 (~5 standard errors of lambda_D).
    D, N = 4, 256
    rng = np.random.default_rng(10)
    res = lyapunov_spectrum(lambda x: x, lambda x: rng.standard_normal(x.shape + (D,)),
                            np.zeros((N, D)), n_intervals=1000, steps_per_interval=3)
    expected = 0.5 * (np.log(2.0) + digamma((D - np.arange(1, D + 1) + 1) / 2.0))
    mean = res.exponents.mean(axis=0)
    sem = res.exponents.std(axis=0) / np.sqrt(N)
    assert np.all(sem < 2e-3)
    np.testing.assert_allclose(mean, expected, rtol=0, atol=6e-3)


# ----------------------------------------------------------------------------------
# 5. Covariance of the Ginelli CLVs (Henon, QR every step).


def test_henon_clv_covariance():
    transient, n, W = 500, 150, 40
    x0 = henon_ensemble(100, seed=11)
    res = lyapunov_spectrum(henon, henon_jac, x0, n_intervals=n, transient=transient, keep_basis=True)
    V = ginelli_clvs(res, window=W)  # CLVs at t_0 .. t_{n-W}
    assert V.shape == (n - W + 1, 100, 2, 2)
    xs = henon_trajectory(x0, transient, n)
    MV = henon_jac(xs[: len(V) - 1]) @ V[:-1]  # M_m v_m
    err = one_minus_abs_cos(MV.swapaxes(-1, -2), V[1:].swapaxes(-1, -2))  # (time, member, CLV)
    # Measured max 1 - |cos|: 4e-32 (CLV_1) and 1.2e-28 (CLV_2), i.e. angles of <= 1.1e-14
    # (the naive 1 - |v.w| would only show its rounding floor, 6e-16).
    assert err.max() < 1e-10
    assert np.sqrt(err.max()) < 1e-12  # angle itself, a much stricter form of the same check
    # Negative control: the second Gram-Schmidt vector is not covariant (median 0.77).
    QM = henon_jac(xs[:-1]) @ res.Q[:-1]
    gs_err = one_minus_abs_cos(QM[..., :, 1], res.Q[1:][..., :, 1])
    assert np.median(gs_err) > 1e-3
    # The first Gram-Schmidt vector is (it is CLV_1).
    assert one_minus_abs_cos(QM[..., :, 0], res.Q[1:][..., :, 0]).max() < 1e-20


# ----------------------------------------------------------------------------------
# 6. Past-only estimate -> Ginelli's CLV as the window grows (Henon).


def test_past_only_converges_to_ginelli_henon():
    n, W_ref, j = 60, 40, 10  # CLVs at the fixed time t_10
    res = lyapunov_spectrum(henon, henon_jac, henon_ensemble(500, seed=12), n_intervals=n,
                            transient=500, keep_basis=True)
    ref = ginelli_clvs(res, window=W_ref)[j]
    medians = []
    for w in range(1, 9):
        est = past_only_clvs(res, window=w)[j + w]  # known at t_{j+w}, about t_j
        # CLV_1 is the first Gram-Schmidt vector for every window.
        np.testing.assert_allclose(est[..., :, 0], res.Q[j][..., :, 0], rtol=0, atol=1e-15)
        medians.append(np.median(one_minus_abs_cos(est[..., :, 1], ref[..., :, 1])))
    medians = np.array(medians)
    # Measured medians over the 500 members for w = 1..8: 6.0e-4, 7.2e-6, 8.7e-8, 1.8e-9,
    # 1.7e-11, 4.5e-13, 6.5e-15, 1.1e-16 (the reference gives ~1e-7 at 3 and ~1e-11 at 5);
    # ratios between successive windows 38..103, fitted rate 4.18 per step against
    # 2 (lambda_1 - lambda_2) = 4.08. Members near a homoclinic tangency converge much more
    # slowly: the 90% quantile is 1.2e-10 and the max 8.6e-4 at w = 6, hence the median.
    assert medians[5] < 1e-9  # w = 6
    assert 1e-8 < medians[2] < 1e-6  # w = 3
    assert medians[4] < 1e-10  # w = 5
    ratios = medians[:-1] / medians[1:]
    assert np.all(ratios > 20)
    # Geometric rate: 1 - |cos| ~ sin^2 decays as exp(-2 (lambda_1 - lambda_2) w).
    rate = -np.polyfit(np.arange(1, 9), np.log(medians), 1)[0]
    assert rate == pytest.approx(2 * (HENON_EXPONENTS[0] - HENON_EXPONENTS[1]), rel=0.1)


# ----------------------------------------------------------------------------------
# 7. Helpers.


def test_qr_positive_stacks():
    rng = np.random.default_rng(13)
    A = rng.standard_normal((4, 5, 6, 6))
    Q, R = qr_positive(A)
    assert Q.shape == R.shape == A.shape
    np.testing.assert_allclose(Q @ R, A, rtol=0, atol=1e-12)
    np.testing.assert_allclose(Q.swapaxes(-1, -2) @ Q, np.broadcast_to(np.eye(6), A.shape), atol=1e-13)
    assert np.all(np.diagonal(R, axis1=-2, axis2=-1) >= 0)
    np.testing.assert_array_equal(np.tril(R, k=-1), 0.0)
    # Matrices whose plain QR has negative diagonal entries are among these.
    assert np.any(np.diagonal(np.linalg.qr(A)[1], axis1=-2, axis2=-1) < 0)
    # Uniqueness: an upper-triangular matrix with negative diagonal maps to Q = diag(+-1).
    U = np.triu(rng.standard_normal((6, 6))) - 3 * np.eye(6)
    Q, R = qr_positive(U)
    np.testing.assert_allclose(R, -U, atol=1e-13)
    np.testing.assert_allclose(Q, -np.eye(6), atol=1e-13)


def test_solve_upper_matches_numpy():
    rng = np.random.default_rng(14)
    D = 5
    R = np.triu(rng.standard_normal((3, 4, D, D)) / np.sqrt(D))
    diag = rng.uniform(1.0, 2.0, (3, 4, D)) * rng.choice([-1.0, 1.0], (3, 4, D))
    R[..., np.arange(D), np.arange(D)] = diag
    assert np.linalg.cond(R).max() < 1e3
    C = rng.standard_normal((3, 4, D, D))
    np.testing.assert_allclose(solve_upper(R, C), np.linalg.solve(R, C), rtol=1e-12, atol=1e-12)
    # Broadcasting: one R against a stack of C, and a stack of R against one C.
    np.testing.assert_allclose(solve_upper(R[0, 0], C), np.linalg.solve(R[0, 0], C), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(solve_upper(R, np.eye(D)), np.linalg.inv(R), rtol=1e-12, atol=1e-12)


def test_backward_iteration_single_and_multiple_steps():
    rng = np.random.default_rng(15)
    Rs = np.triu(rng.standard_normal((3, 2, 3, 3))) + 2 * np.eye(3)  # [R_{m+1}, R_{m+2}, R_{m+3}]
    C = backward_iteration(Rs)
    expected = np.linalg.inv(Rs[0]) @ np.linalg.inv(Rs[1]) @ np.linalg.inv(Rs[2])
    expected /= np.linalg.norm(expected, axis=-2, keepdims=True)
    np.testing.assert_allclose(C, expected, atol=1e-13)
    np.testing.assert_allclose(np.linalg.norm(C, axis=-2), 1.0, atol=1e-14)
    # Upper-triangular stays upper-triangular; a given start C is used.
    np.testing.assert_allclose(np.tril(C, k=-1), 0.0, atol=0)
    C0 = rng.standard_normal((2, 3, 3))
    expected = np.linalg.inv(Rs[0]) @ C0
    np.testing.assert_allclose(backward_iteration(Rs[:1], C0), expected / np.linalg.norm(expected, axis=-2, keepdims=True), atol=1e-13)


def test_clv_cosines_and_pair_labels():
    assert pair_labels(2) == [(1, 2)]
    assert pair_labels(3) == [(1, 2), (1, 3), (2, 3)]
    assert pair_labels(4) == [(1, 2), (1, 3), (1, 4), (2, 3), (2, 4), (3, 4)]
    s = 1 / np.sqrt(2)
    C = np.array([[1.0, s, 0.0], [0.0, s, 0.6], [0.0, 0.0, -0.8]])  # unit columns
    cos = clv_cosines(C)
    np.testing.assert_allclose(cos, [s, 0.0, s * 0.6], atol=1e-15)
    # Stacked, and consistent with the labels.
    stack = np.stack([C, C[:, [2, 0, 1]]])
    cos = clv_cosines(stack)
    assert cos.shape == (2, 3)
    for p, (i, j) in enumerate(pair_labels(3)):
        for b in range(2):
            assert cos[b, p] == pytest.approx(stack[b, :, i - 1] @ stack[b, :, j - 1], abs=1e-15)
    assert len(pair_labels(5)) == clv_cosines(np.eye(5)).shape[-1] == 10


def test_tangent_stepper_accumulates_jacobian_product():
    x0 = henon_trajectory(henon_ensemble(3, seed=16), 100, 0)[0]
    st = TangentStepper(henon, henon_jac, x0)
    np.testing.assert_array_equal(st.Q, np.broadcast_to(np.eye(2), (3, 2, 2)))
    st.step(4)
    xs = henon_trajectory(x0, 0, 4)
    P = np.broadcast_to(np.eye(2), (3, 2, 2))
    for m in range(4):
        P = henon_jac(xs[m]) @ P
    np.testing.assert_allclose(st.x, xs[4], atol=0)
    np.testing.assert_allclose(st.Q, P, rtol=1e-13, atol=1e-13)
    R = st.orthonormalize()
    np.testing.assert_allclose(st.Q @ R, P, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(st.Q.swapaxes(-1, -2) @ st.Q, np.broadcast_to(np.eye(2), (3, 2, 2)), atol=1e-14)


def test_result_shapes_and_errors():
    x0 = henon_ensemble(4, seed=17).reshape(2, 2, 2)  # two leading axes
    res = lyapunov_spectrum(henon, henon_jac, x0, n_intervals=12, transient=50, keep_basis=True)
    assert isinstance(res, LyapunovResult)
    assert res.exponents.shape == (2, 2, 2)
    assert res.ftle_local.shape == (12, 2, 2, 2)
    assert res.ftle_cumulative.shape == (12, 2, 2, 2)
    assert res.Q.shape == (13, 2, 2, 2, 2) and res.R.shape == (12, 2, 2, 2, 2)
    np.testing.assert_allclose(res.Q[0], np.broadcast_to(np.eye(2), (2, 2, 2, 2)))
    assert ginelli_clvs(res, 5).shape == (8, 2, 2, 2, 2)
    assert ginelli_clvs(res, 12).shape == (1, 2, 2, 2, 2)
    for bad in (0, 13):
        with pytest.raises(ValueError):
            ginelli_clvs(res, bad)
        with pytest.raises(ValueError):
            past_only_clvs(res, bad)
    no_basis = lyapunov_spectrum(henon, henon_jac, x0, n_intervals=3)
    assert no_basis.Q is None and no_basis.R is None
    with pytest.raises(ValueError):
        ginelli_clvs(no_basis, 1)
    with pytest.raises(ValueError):
        lyapunov_spectrum(henon, henon_jac, x0, n_intervals=0)
    with pytest.raises(ValueError):
        lyapunov_spectrum(henon, henon_jac, x0, n_intervals=3, steps_per_interval=0)


def test_solve_upper_rectangular_right_hand_side():
    rng = np.random.default_rng(4)
    R = np.triu(rng.normal(size=(5, 4, 4))) + 3 * np.eye(4)
    C = rng.normal(size=(5, 4, 2))
    np.testing.assert_allclose(solve_upper(R, C), np.linalg.solve(R, C), rtol=1e-12, atol=1e-12)


def test_discarded_intervals_leave_the_exponents_but_not_the_history():
    res = lyapunov_spectrum(henon, henon_jac, henon_ensemble(10, seed=3), n_intervals=50, discard=20)
    np.testing.assert_allclose(res.exponents, res.ftle_local[20:].mean(axis=0), rtol=1e-13)
    assert len(res.ftle_local) == 50


# ----------------------------------------------------------------------------------
# 8. The loop over a stepper: the bookkeeping the ensemble integrator runs.


def test_loop_window_is_the_past_only_estimate_at_every_interval():
    """The ring of the last W R-matrices, read at interval m, gives exactly the past-only
    estimate known at t_m (the explicit indexing of `past_only_clvs`), for every m >= W."""
    x0, n, W = henon_ensemble(6, seed=21), 30, 4
    res = lyapunov_spectrum(henon, henon_jac, x0, n_intervals=n, transient=200, keep_basis=True)
    stepper = TangentStepper(henon, henon_jac, henon_trajectory(x0, 200, 0)[0])
    loop = LyapunovLoop(stepper, tau=1.0, window=W)
    past = past_only_clvs(res, W)
    for m in range(1, n + 1):
        R = loop.step()
        np.testing.assert_array_equal(R, res.R[m - 1])
        if m < W:
            with pytest.raises(ValueError):
                loop.window_clvs()
            continue
        np.testing.assert_array_equal(res.Q[m - W] @ loop.window_clvs(), past[m])
    np.testing.assert_allclose(loop.exponents, res.ftle_local.mean(axis=0), rtol=1e-13)


def test_run_checkpoints_records_at_the_right_intervals():
    """FTLEs at checkpoint c are those of interval c; Ginelli's cosines at c equal the
    past-only ones known at c + W; the record at the end is the estimate known at n."""
    x0, n, W, ck = henon_ensemble(5, seed=22), 40, 3, (5, 20, 37)
    res = lyapunov_spectrum(henon, henon_jac, x0, n_intervals=n, transient=100, keep_basis=True)
    loop = LyapunovLoop(TangentStepper(henon, henon_jac, henon_trajectory(x0, 100, 0)[0]), tau=1.0, window=W)
    seen = []
    rec = run_checkpoints(loop, n, ck, at_checkpoint=lambda i, m: seen.append((i, m)))
    assert seen == [(0, 5), (1, 20), (2, 37)]
    past = past_only_clvs(res, W)
    cos_of = lambda V, m: clv_cosines(res.Q[m - W].swapaxes(-1, -2) @ V)  # noqa: E731
    for i, c in enumerate(ck):
        np.testing.assert_array_equal(rec.ftle_local[i], res.ftle_local[c - 1])
        np.testing.assert_allclose(rec.ftle_cum[i], res.ftle_cumulative[c - 1], rtol=1e-13)
        np.testing.assert_allclose(rec.cos_past["identity"][i], cos_of(past[c], c), atol=1e-13)
        np.testing.assert_allclose(rec.cos_ginelli["identity"][i], cos_of(past[c + W], c + W), atol=1e-13)
    np.testing.assert_array_equal(res.Q[n - W] @ rec.end_clvs[("identity", W)], past[n])
    np.testing.assert_allclose(rec.end_exponents[W], res.ftle_local[n - W:].mean(axis=0), rtol=1e-13)
    np.testing.assert_array_equal(rec.exponents, res.exponents)
    with pytest.raises(ValueError):
        run_checkpoints(LyapunovLoop(TangentStepper(henon, henon_jac, x0), 1.0, window=W), n, (2,))
    with pytest.raises(ValueError, match="from the start"):
        run_checkpoints(loop, n, ck)  # the loop has run n intervals already


class _HalfInvalid(TangentStepper):
    """A stepper whose second member is declared invalid after the first interval."""

    @property
    def valid(self):
        return np.array([True, self.steps < 1])

    steps = 0

    def advance_interval(self):
        R = super().advance_interval()
        self.steps += 1
        R[1] = np.eye(2)
        return R


def test_loop_reports_nan_where_the_stepper_is_invalid():
    loop = LyapunovLoop(_HalfInvalid(henon, henon_jac, henon_ensemble(2, seed=23)), tau=1.0, window=2)
    for _ in range(3):
        loop.step()
    assert np.isfinite(loop.exponents[0]).all() and np.isnan(loop.exponents[1]).all()
    cos = loop.window_cosines()
    assert np.isfinite(cos[0]).all() and np.isnan(cos[1]).all()


# ----------------------------------------------------------------------------------
# 9. The start of the backward iteration: identity or Ginelli et al.'s random start.


def random_starts(shape, seed):
    return random_upper_start(np.random.default_rng(seed).standard_normal(shape))


def test_random_start_is_upper_triangular_with_unit_columns():
    C = random_starts((5, 4, 4), seed=30)
    assert np.all(np.tril(C, -1) == 0.0)
    np.testing.assert_allclose(np.linalg.norm(C, axis=-2), 1.0, rtol=1e-15)
    # the first column is e_1 up to its sign: CLV_1 is the first Gram-Schmidt vector from any start
    np.testing.assert_allclose(np.abs(C[..., 0, 0]), 1.0)


@pytest.mark.parametrize("system", ["linear", "henon"])
def test_both_starts_converge_to_the_same_clvs_where_exponents_are_distinct(system):
    """Distinct exponents: the start is forgotten at the rate of the gap, and the CLVs from
    the identity and from a random start become the same vectors as the window grows."""
    if system == "linear":
        res = lyapunov_spectrum(linear, linear_jac, np.ones((20, 2)), n_intervals=60, keep_basis=True)
        gap = 2 * np.log(2.0)
    else:
        res = lyapunov_spectrum(henon, henon_jac, henon_ensemble(200, seed=31), n_intervals=60, transient=500,
                                keep_basis=True)
        gap = HENON_EXPONENTS[0] - HENON_EXPONENTS[1]
    start = random_starts((len(res.exponents), 2, 2), seed=32)
    m = 5  # the CLVs at t_5 over windows R_6 .. R_{5+W}
    medians = []
    for W in (1, 2, 4, 8, 16):
        C_id, C_rand = backward_iteration(res.R[m:m + W]), backward_iteration(res.R[m:m + W], start)
        medians.append(np.median(start_distance(C_id, C_rand)[:, 1]))
        np.testing.assert_allclose(start_distance(C_id, C_rand)[:, 0], 0.0, atol=1e-15)
    medians = np.array(medians)
    assert medians[0] > 1e-3 and medians[-1] < 1e-8
    # sin of the angle between the starts decays as exp(-gap W)
    rate = -np.polyfit([1, 2, 4, 8, 16], np.log(medians), 1)[0]
    assert rate == pytest.approx(gap, rel=0.15)
    if system == "linear":  # the converged vectors are the eigenvectors, from either start
        C = backward_iteration(res.R[m:m + 40], start)
        assert_parallel_columns(res.Q[m] @ C, [EIG_EXPANDING, EIG_CONTRACTING], atol=1e-12)


def block_map(x):
    """A map with a degenerate exponent: a 2 x 2 identity block (exponent 0, twice) beside
    an expanding and a contracting direction (ln 2, -ln 2), mixed by a fixed rotation."""
    return x @ BLOCK_A.T


def block_jac(x):
    return np.broadcast_to(BLOCK_A, x.shape + (4,))


_ROT = np.linalg.qr(np.random.default_rng(33).standard_normal((4, 4)))[0]
BLOCK_A = _ROT @ np.diag([2.0, 1.0, 1.0, 0.5]) @ _ROT.T


def test_start_dependence_is_detected_inside_a_degenerate_subspace():
    """Inside the degenerate block the CLVs are not unique: the two starts leave the 3rd
    CLV apart whatever the window (the 2nd is the first of the block in the Gram-Schmidt
    order, also set by the start), while the vectors with distinct exponents converge; the
    loop reports both through `start_distance` and the window exponents, whose gap is 0."""
    x0 = np.random.default_rng(34).standard_normal((30, 4))
    stepper = TangentStepper(block_map, block_jac, x0)
    loop = LyapunovLoop(stepper, tau=1.0, window=5, memory=80)
    start = random_starts((30, 4, 4), seed=35)
    windows = (5, 40, 80)
    rec = run_checkpoints(loop, 100, [5], starts={"identity": None, "random": start}, end_windows=windows)
    dist = {W: start_distance(rec.end_clvs[("identity", W)], rec.end_clvs[("random", W)]) for W in windows}
    # once the basis has aligned (the first intervals pull a longer average), the exponents are exact
    np.testing.assert_allclose(rec.end_exponents[40], np.broadcast_to(np.log([2.0, 1.0, 1.0, 0.5]), (30, 4)),
                               atol=1e-9)
    gaps = rec.end_exponents[40][:, :-1] - rec.end_exponents[40][:, 1:]
    assert np.all(np.abs(gaps[:, 1]) < 1e-9)  # the degenerate pair: exponents 2 and 3 equal
    # distinct exponents: vector 4 (gap ln 2 to the block) converges as 2^-W, vector 1 is fixed
    assert np.all(dist[80][:, 0] < 1e-15) and np.median(dist[80][:, 3]) < 1e-12
    assert np.median(dist[5][:, 3]) > 1e-3
    # degenerate: vector 3 keeps its start; after the alignment and the decay of its part
    # along the expanding direction, a longer window changes nothing
    assert np.median(dist[80][:, 2]) > 0.05
    np.testing.assert_allclose(dist[80][:, 2], dist[40][:, 2], rtol=1e-4)
    # and the angles between vectors of the block differ between the starts
    cos_id, cos_rand = clv_cosines(rec.end_clvs[("identity", 80)]), clv_cosines(rec.end_clvs[("random", 80)])
    pair_23 = pair_labels(4).index((2, 3))
    assert np.median(np.abs(np.abs(cos_id[:, pair_23]) - np.abs(cos_rand[:, pair_23]))) > 0.05


def test_clv_covariance_holds_from_the_random_start():
    """M_n v_n is parallel to v_{n+1} for Ginelli's CLVs from the random start too (Henon)."""
    transient, n, W = 500, 80, 40
    x0 = henon_ensemble(50, seed=36)
    res = lyapunov_spectrum(henon, henon_jac, x0, n_intervals=n, transient=transient, keep_basis=True)
    start = random_starts((50, 2, 2), seed=37)
    V = np.stack([res.Q[m] @ backward_iteration(res.R[m:m + W], start) for m in range(n - W + 1)])
    xs = henon_trajectory(x0, transient, n)
    MV = henon_jac(xs[: len(V) - 1]) @ V[:-1]
    err = one_minus_abs_cos(MV.swapaxes(-1, -2), V[1:].swapaxes(-1, -2))
    assert err.max() < 1e-10
