"""The flow (Eqs. 3-6) and its Jacobian (Eqs. 8-23) against independent references."""
import numpy as np
import pytest

from reference_paper import paper_flow, paper_jacobian
from weightdyn.model.flow import flow, flow_and_jacobian, flow_jacobian, numeric_flow_jacobian
from weightdyn.model.activations import ACTIVATIONS, activation
from weightdyn.model.layout import Shape, pack, unpack
from weightdyn.model.network import loss

SHAPES = [(2, 2, 1), (3, 5, 2), (1, 4, 3), (2, 8, 1), (10, 8, 1)]  # the last two: the widths of the study beyond the paper


def random_problem(shape, rng, runs=3, batch=16, scale=1.0):
    s = Shape.of(shape)
    theta = scale * rng.standard_normal((runs, s.P))
    X = rng.standard_normal((batch, s.N1))
    y = rng.standard_normal((batch, s.N3))
    return theta, X, y


def central_difference_jacobian(fun, theta, h=1e-5):
    P = theta.size
    J = np.empty((P, P))
    for p in range(P):
        e = np.zeros(P)
        e[p] = h
        J[:, p] = (fun(theta + e) - fun(theta - e)) / (2 * h)
    return J


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_jacobian_equals_finite_differences_of_flow(shape, act):
    rng = np.random.default_rng(11)
    theta, X, y = random_problem(shape, rng)
    J = flow_jacobian(theta, X, y, shape, act)
    for r in range(len(theta)):
        J_fd = central_difference_jacobian(lambda th: flow(th, X, y, shape, act), theta[r])
        assert np.abs(J[r] - J_fd).max() <= 1e-6 * np.abs(J_fd).max()


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_jacobian_is_symmetric_and_matches_paper_equations(shape, act):
    """J = -Hessian of the batch cost is symmetric; entry by entry it is Eqs. (8)-(23)."""
    rng = np.random.default_rng(5)
    theta, X, y = random_problem(shape, rng)
    J = flow_jacobian(theta, X, y, shape, act)
    assert np.abs(J - J.swapaxes(1, 2)).max() <= 1e-14 * np.abs(J).max()
    for r in range(len(theta)):
        ref = paper_jacobian(theta[r], X, y, *shape, act)
        assert np.abs(J[r] - ref).max() <= 1e-12 * np.abs(ref).max()
        np.testing.assert_allclose(flow(theta[r], X, y, shape, act), paper_flow(theta[r], X, y, *shape, act),
                                   rtol=1e-12, atol=1e-12 * np.abs(ref).max())


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_flow_is_minus_gradient_of_batch_cost(act):
    rng = np.random.default_rng(3)
    shape = (3, 4, 2)
    theta, X, y = random_problem(shape, rng, runs=1)
    grad = central_difference_jacobian(lambda th: np.atleast_1d(loss(th, X, y, shape, act)), theta[0], h=1e-6)[0]
    np.testing.assert_allclose(flow(theta[0], X, y, shape, act), -grad, rtol=1e-7, atol=1e-8)


def test_numeric_jacobian_matches_analytic_with_per_run_batches():
    rng = np.random.default_rng(8)
    shape = (2, 2, 1)
    theta = rng.standard_normal((4, 9))
    X = rng.standard_normal((4, 32, 2))
    y = rng.standard_normal((4, 32, 1))
    J = flow_jacobian(theta, X, y, shape, "tanh")
    Jn = numeric_flow_jacobian(theta, X, y, shape, "tanh")
    assert np.abs(J - Jn).max() <= 1e-7 * np.abs(J).max()
    for r in range(4):  # a per-run batch is the same as that run alone on its batch
        np.testing.assert_array_equal(J[r], flow_jacobian(theta[r], X[r], y[r], shape, "tanh"))


def test_entries_by_index_2_2_1():
    """Spot checks of single entries against Eqs. (13), (15), (21), (22), (23), (11), (8)."""
    rng = np.random.default_rng(21)
    N1, N2, N3 = 2, 2, 1
    theta = rng.standard_normal(9)
    X, y = rng.standard_normal((32, 2)), rng.standard_normal(32)
    J = flow_jacobian(theta, X, y, (N1, N2, N3), "tanh")
    W21, W32, b1, b2 = unpack(theta, (N1, N2, N3))
    d = X @ W21.T + b1
    sig, dsig, d2sig = activation("tanh")(d)
    a2 = sig @ W32.T + b2
    resid = y[:, None] - a2  # y - a2, (B, 1)
    w32 = lambda k, j: N1 * N2 + j * N3 + k  # noqa: E731
    ib1 = lambda j: N1 * N2 + N2 * N3 + j  # noqa: E731
    ib2 = N1 * N2 + N2 * N3 + N2
    # Eq. (13): dW32_kj/dW32_nl = -2 delta_kn sigma(d_j) sigma(d_l)
    assert J[w32(0, 0), w32(0, 1)] == pytest.approx(np.mean(-2 * sig[:, 0] * sig[:, 1]), rel=1e-13)
    # Eq. (15): dW32_kj/db2_n = -2 delta_kn sigma(d_j)
    assert J[w32(0, 1), ib2] == pytest.approx(np.mean(-2 * sig[:, 1]), rel=1e-13)
    # Eq. (23): db2/db2 = -2
    assert J[ib2, ib2] == pytest.approx(-2.0, rel=1e-14)
    # Eq. (22): db2_k/db1_l = -2 sigma'(d_l) W32_kl
    assert J[ib2, ib1(1)] == pytest.approx(np.mean(-2 * dsig[:, 1] * W32[0, 1]), rel=1e-13)
    # Eq. (11): dW21_ji/db2_n = -2 x_i sigma'(d_j) W32_nj, for j = 1, i = 0 (index 0*N2 + 1)
    assert J[1, ib2] == pytest.approx(np.mean(-2 * X[:, 0] * dsig[:, 1] * W32[0, 1]), rel=1e-13)
    # Eq. (8) with j = l = 0, i = 0, m = 1 (row 0, column 1*N2 + 0 = 2)
    g = resid @ W32  # [W32^T (y - a2)]_j, (B, N2)
    eq8 = 2 * X[:, 0] * X[:, 1] * (d2sig[:, 0] * g[:, 0] - dsig[:, 0] ** 2 * (W32.T @ W32)[0, 0])
    assert J[0, 2] == pytest.approx(np.mean(eq8), rel=1e-12)
    # Eq. (12): dW32_kj/dW21_lm = 2 sigma'(d_l) x_m (delta_jl [y - a2]_k - sigma(d_j) W32_kl), j = l = 1, m = 0
    eq12 = 2 * dsig[:, 1] * X[:, 0] * (resid[:, 0] - sig[:, 1] * W32[0, 1])
    assert J[w32(0, 1), 0 * N2 + 1] == pytest.approx(np.mean(eq12), rel=1e-12)


def test_dead_relu_network_has_only_the_b2_direction():
    """W21 = 0, b1 = -1: both hidden units inactive, J = -2 e_b2 e_b2^T (Eq. 23)."""
    rng = np.random.default_rng(0)
    theta = pack(np.zeros((2, 2)), rng.standard_normal((1, 2)), -np.ones(2), rng.standard_normal(1))
    J = flow_jacobian(theta, rng.standard_normal((32, 2)), rng.standard_normal(32), (2, 2, 1), "relu")
    expected = np.zeros((9, 9))
    expected[8, 8] = -2.0
    np.testing.assert_array_equal(J, expected)


def test_layout_round_trip_and_indices():
    rng = np.random.default_rng(1)
    shape = Shape(3, 4, 2)
    W21, W32, b1, b2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4)), rng.standard_normal(4), rng.standard_normal(2)
    theta = pack(W21, W32, b1, b2)
    assert theta[2 * 4 + 1] == W21[1, 2]  # W21[j, i] at i N2 + j
    assert theta[12 + 3 * 2 + 1] == W32[1, 3]  # W32[k, j] at N1 N2 + j N3 + k
    assert theta[12 + 8 + 2] == b1[2] and theta[12 + 8 + 4 + 1] == b2[1]
    for a, b in zip(unpack(theta, shape), (W21, W32, b1, b2)):
        np.testing.assert_array_equal(a, b)
    assert len(shape.param_names()) == shape.P == 26


@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_activation_derivatives(act):
    d = np.linspace(-3.1, 3.3, 41)
    h = 1e-6
    s, ds, d2s = activation(act)(d)
    sp, dsp, _ = activation(act)(d + h)
    sm, dsm, _ = activation(act)(d - h)
    np.testing.assert_allclose(ds, (sp - sm) / (2 * h), atol=1e-8)
    np.testing.assert_allclose(d2s, (dsp - dsm) / (2 * h), atol=1e-7)


def test_bad_input_is_rejected_with_a_clear_message():
    with pytest.raises(ValueError, match="unknown activation"):
        flow(np.zeros(9), np.zeros((4, 2)), np.zeros(4), (2, 2, 1), "softplus")
    with pytest.raises(ValueError, match="needs 9"):
        flow(np.zeros(8), np.zeros((4, 2)), np.zeros(4), (2, 2, 1), "relu")
    with pytest.raises(ValueError, match="N3"):
        flow(np.zeros(9), np.zeros((4, 2)), np.zeros((4, 2)), (2, 2, 1), "relu")
    with pytest.raises(ValueError, match="positive integer"):
        Shape(2, 0, 1)


@pytest.mark.parametrize("shape", [(2, 2, 1), (3, 4, 2)])
@pytest.mark.parametrize("act", sorted(ACTIVATIONS))
def test_loss_is_the_mean_squared_error_and_per_run(shape, act):
    """C = mean_s |y_s - a2(x_s)|^2 from an explicit per-run forward pass; a run's value
    has the same bits alone as in any block of runs."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((300, shape[0]))
    y = rng.standard_normal((300, shape[2]))
    theta = rng.standard_normal((21, Shape.of(shape).P))
    W21, W32, b1, b2 = unpack(theta, shape)
    ref = [np.mean(np.sum((activation(act)(X @ W21[r].T + b1[r])[0] @ W32[r].T + b2[r] - y) ** 2, axis=1))
           for r in range(len(theta))]
    got = loss(theta, X, y, shape, act, chunk=16)
    np.testing.assert_allclose(got, ref, rtol=1e-13)
    for sel in ([4], [20, 3], list(range(5, 21))):
        np.testing.assert_array_equal(loss(theta[sel], X, y, shape, act), got[sel])
    assert loss(theta[0], X, y, shape, act).shape == ()


def test_activation_names_are_lower_case_letters():
    """Activation names become setting names (relu_he), directories and wildcards."""
    from weightdyn.model.activations import Activation, get, register

    relu = get("relu")
    for bad in ("re_lu", "ReLU", "relu2", ""):
        with pytest.raises(ValueError, match="lower-case"):
            register(Activation(bad, bad, relu.into, False, True))
    with pytest.raises(ValueError, match="registered already"):
        register(relu)
    assert list(ACTIVATIONS) == ["relu", "tanh", "gelu", "sigmoid"]
