"""The shared-batch kernel against the general flow/Jacobian, step by step."""
import numpy as np
import pytest

from weightdyn.jacobian import flow_and_jacobian
from weightdyn.kernel import SharedBatchKernel
from weightdyn.schedule import initial_state, make_task


@pytest.mark.parametrize("shape", [(2, 2, 1), (3, 5, 1), (1, 4, 1)])
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
    theta[1, 4] = 2e6 - 1.0  # W32 beyond the threshold after its first step
    Q = np.broadcast_to(np.eye(9), (3, 9, 9)).copy()
    idx = np.random.default_rng(0).integers(0, len(X), size=(4, 32))
    _, first_bad = SharedBatchKernel((2, 2, 1), "relu", 3e-5, X, y).run_interval(theta, Q, idx, 1e6)
    np.testing.assert_array_equal(first_bad, [-1, 0, -1])


def test_kernel_rejects_several_outputs():
    X, y = make_task(50, 0)
    with pytest.raises(ValueError, match="single output"):
        SharedBatchKernel((2, 2, 2), "relu", 3e-5, X, y)
