"""The shared-batch kernel against the general flow/Jacobian, step by step."""
import numpy as np
import pytest

from weightdyn.model.flow import flow_and_jacobian
from weightdyn.engine.kernel import SharedBatchKernel
from weightdyn.model.streams import initial_state
from weightdyn.model.tasks import make_task


@pytest.mark.parametrize("shape", [(2, 2, 1), (3, 5, 1), (1, 4, 1), (2, 1, 1), (2, 8, 1), (10, 8, 1)])
@pytest.mark.parametrize("act", ["relu", "tanh", "gelu", "sigmoid"])
def test_kernel_interval_equals_general_steps(shape, act):
    """theta, Q and the first-step batch cost after k steps equal k explicit Euler steps
    theta += dt f, Q += dt J Q of `flow_and_jacobian` (5 runs: the run axis is padded)."""
    rng = np.random.default_rng(3)
    X = rng.standard_normal((200, shape[0]))
    y = 10.0 * X[:, :1] - 2.0 * X[:, -1:] ** 2
    dt, k, runs = 1e-3, 6, 5
    theta0 = initial_state(np.arange(runs), shape, "he", he_biases="normal")
    idx = np.random.default_rng(1).integers(0, len(X), size=(k, 32))
    Q0 = np.broadcast_to(np.eye(theta0.shape[1]), (runs,) + (theta0.shape[1],) * 2)

    theta, Q = theta0.copy(), Q0.copy()
    cost0, first_bad = SharedBatchKernel(shape, act, dt, X, y).run_interval(theta, Q, idx, 1e6)

    ref_theta, ref_Q = theta0.copy(), Q0.copy()
    for n in range(k):
        f, J, cost = flow_and_jacobian(ref_theta, X[idx[n]], y[idx[n]], shape, act)
        if n == 0:
            np.testing.assert_allclose(cost0, cost, rtol=1e-13)
        ref_Q = ref_Q + dt * (J @ ref_Q)
        ref_theta = ref_theta + dt * f
    assert np.abs(theta - theta0).max() > 1e-4  # the runs moved
    np.testing.assert_allclose(theta, ref_theta, rtol=0, atol=1e-12 * np.abs(ref_theta).max())
    np.testing.assert_allclose(Q, ref_Q, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(first_bad, -1)


def test_kernel_flags_the_step_a_run_leaves_the_finite_region():
    X, y = make_task(200, 0)
    theta = initial_state([0, 1, 2], (2, 2, 1), "he")
    theta[1, 4] = 2e6 - 1.0  # W32 beyond the threshold from the start: flagged at step 0
    Q = np.broadcast_to(np.eye(9), (3, 9, 9)).copy()
    idx = np.random.default_rng(0).integers(0, len(X), size=(4, 32))
    _, first_bad = SharedBatchKernel((2, 2, 1), "relu", 3e-5, X, y).run_interval(theta, Q, idx, 1e6)
    np.testing.assert_array_equal(first_bad, [-1, 0, -1])


def test_kernel_rejects_several_outputs():
    X, y = make_task(50, 0)
    with pytest.raises(ValueError, match="single output"):
        SharedBatchKernel((2, 2, 2), "relu", 3e-5, X, y)


def test_a_run_has_the_same_bits_in_a_block_of_1024():
    """The largest block the ensemble hands the kernel: a run's bits equal those it has in
    a block of 8 (the BLAS calls see 1024 runs instead of 8)."""
    X, y = make_task(1000, 0)
    idx = np.random.default_rng(2).integers(0, len(X), size=(3, 32))
    for act in ("relu", "tanh"):
        kernel = SharedBatchKernel((2, 2, 1), act, 3e-5, X, y)
        theta = initial_state(np.arange(1024), (2, 2, 1), "he")
        Q = np.broadcast_to(np.eye(9), (1024, 9, 9)).copy()
        sel = [0, 517, 1017, 1023]
        small_theta, small_Q = theta[sel].copy(), Q[sel].copy()
        kernel.run_interval(theta, Q, idx, 1e6)
        kernel.run_interval(small_theta, small_Q, idx, 1e6)
        np.testing.assert_array_equal(theta[sel], small_theta)
        np.testing.assert_array_equal(Q[sel], small_Q)


def test_expanded_residual_near_a_fit():
    """ReLU forms a2 - y from sums of its terms: near a fit the flow's error is rounding of
    those terms (here |w a| ~ 10), not of the tiny residual."""
    rng = np.random.default_rng(4)
    X = rng.standard_normal((400, 2))
    theta = initial_state([7, 8, 9], (2, 2, 1), "he", he_biases="normal")
    theta[:, 4:6] *= 30.0  # W32 large: a2 has terms far larger than the residual
    a2 = np.stack([forward_relu(t, X) for t in theta])
    y = a2[0] + 1e-6 * rng.standard_normal(len(X))  # run 0 fits y to 1e-6
    idx = rng.integers(0, len(X), size=(1, 32))
    theta_k, Q = theta.copy(), np.broadcast_to(np.eye(9), (3, 9, 9)).copy()
    SharedBatchKernel((2, 2, 1), "relu", 1.0, X, y).run_interval(theta_k, Q, idx, 1e12)
    f, J, _ = flow_and_jacobian(theta, X[idx[0]], y[idx[0]], (2, 2, 1), "relu")
    terms = np.abs(a2[:, idx[0]]).max(axis=1) * np.abs(theta).max(axis=1) * np.abs(X).max() ** 2
    err = np.abs(theta_k - theta - f).max(axis=1)
    assert np.abs(f[0]).max() < 1e-3  # near the fit the flow is small
    assert np.all(err <= 2 * np.finfo(float).eps * terms)
    np.testing.assert_allclose(Q, np.eye(9) + J, rtol=0, atol=2 * np.finfo(float).eps * terms.max())


def forward_relu(theta, X):
    """a2 of one 2-2-1 ReLU network, written out (the paper's layout, model/layout.py)."""
    W21 = theta[:4].reshape(2, 2).T
    d = X @ W21.T + theta[6:8]
    return np.maximum(d, 0.0) @ theta[4:6] + theta[8]


def test_gram_schmidt_qr_matches_numpy_and_reuses_its_work_arrays():
    """The ensemble's QR: Q R = A with Q orthonormal and R upper triangular with a positive
    diagonal (numpy's QR up to the signs); a second call on the same work arrays gives the
    same bits as a fresh object, also for an ill-conditioned run that needs a second pass."""
    from weightdyn.engine.qr import GramSchmidt
    from weightdyn.lyapunov import qr_positive

    rng = np.random.default_rng(3)
    A = rng.standard_normal((13, 9, 9))
    A[4] = np.outer(np.ones(9), np.arange(1, 10)) + 1e-9 * rng.standard_normal((9, 9))  # nearly rank 1
    qr = GramSchmidt(13, 9)
    first = (np.empty_like(A), np.empty_like(A))
    qr(A, *first)
    Qn, Rn = qr_positive(np.delete(A, 4, axis=0))
    np.testing.assert_allclose(np.delete(first[0], 4, axis=0), Qn, atol=1e-12)
    np.testing.assert_allclose(np.delete(first[1], 4, axis=0), Rn, atol=1e-12)
    np.testing.assert_allclose(first[0].swapaxes(-1, -2) @ first[0], np.broadcast_to(np.eye(9), A.shape), atol=1e-12)
    np.testing.assert_allclose(first[0] @ first[1], A, atol=1e-12 * np.abs(A).max())
    assert np.all(np.triu(first[1]) == first[1]) and np.all(np.diagonal(first[1], axis1=1, axis2=2) > 0)
    qr(rng.standard_normal((13, 9, 9)), np.empty_like(A), np.empty_like(A))  # dirty the work arrays
    again = (np.empty_like(A), np.empty_like(A))
    qr(A, *again)
    fresh = (np.empty_like(A), np.empty_like(A))
    GramSchmidt(13, 9)(A, *fresh)
    for a, b, c in zip(first, again, fresh):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)
