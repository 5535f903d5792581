"""The paper's open points as options: each does what it promises, and at its default
nothing changes (the bit-for-bit check of the engine is in test_ensemble.py)."""
import numpy as np
import pytest
from scipy import stats

from weightdyn.engine import EngineConfig, Ensemble
from weightdyn.model.flow import flow_and_jacobian_mode, numeric_flow_jacobian
from weightdyn.model.layout import Shape
from weightdyn.model.streams import batch_indices, initial_state
from weightdyn.model.tasks import make_task
from weightdyn.pipeline import config as pc

SHAPE = Shape(3, 4, 2)  # N1, N2, N3 all different, so fan-in and layer conventions differ


def he_draws(**options):
    """About 10^5 draws of every W21 and W32 entry (8400 runs of 12 and 8 entries)."""
    return initial_state(np.arange(8400), SHAPE, "he", **options)


def block_std(theta, part):
    s = SHAPE
    sl = {"W21": slice(0, s.off_W32), "W32": slice(s.off_W32, s.off_b1),
          "b1": slice(s.off_b1, s.off_b2), "b2": slice(s.off_b2, s.P)}[part]
    return theta[:, sl], float(theta[:, sl].std())


@pytest.mark.parametrize("scale, N21, N32", [("fan_in", 3, 4), ("layer", 4, 2)])
@pytest.mark.parametrize("distribution", ["normal", "truncated", "uniform"])
def test_he_weights_have_the_stated_std_and_support(scale, N21, N32, distribution):
    theta = he_draws(he_scale=scale, he_distribution=distribution)
    for part, N in (("W21", N21), ("W32", N32)):
        w, std = block_std(theta, part)
        assert std == pytest.approx(np.sqrt(2 / N), rel=0.015), (part, std)
        bound = {"normal": np.inf, "truncated": 2 * np.sqrt(2 / N) / 0.87962566103423978,
                 "uniform": np.sqrt(6 / N)}[distribution]
        assert np.abs(w).max() <= bound
        if distribution != "normal":  # the support is used up to its edge
            assert np.abs(w).max() > 0.99 * bound
    assert np.all(theta[:, SHAPE.off_b1:] == 0)


def test_he_distributions_keep_signs_and_ranks_of_one_draw():
    normal, truncated, uniform = (initial_state(np.arange(200), SHAPE, "he", he_distribution=d)
                                  for d in ("normal", "truncated", "uniform"))
    for other in (truncated, uniform):
        np.testing.assert_array_equal(np.sign(other), np.sign(normal))
        np.testing.assert_array_equal(np.argsort(other[:, 0]), np.argsort(normal[:, 0]))


@pytest.mark.parametrize("scale, N21, N32", [("fan_in", 3, 4), ("layer", 4, 2)])
def test_bias_conventions(scale, N21, N32):
    normal = initial_state(np.arange(25000), SHAPE, "he", he_biases="normal", he_scale=scale)
    for part, N in (("b1", N21), ("b2", N32)):  # like their layer's weights
        assert block_std(normal, part)[1] == pytest.approx(np.sqrt(2 / N), rel=0.015)
    torch = initial_state(np.arange(25000), SHAPE, "he", he_biases="pytorch", he_scale=scale)
    for part, fan_in in (("b1", 3), ("b2", 4)):  # PyTorch: U(-1/sqrt(fan_in), 1/sqrt(fan_in)), any he_scale
        b, std = block_std(torch, part)
        assert std == pytest.approx(1 / np.sqrt(3 * fan_in), rel=0.015)
        assert np.abs(b).max() <= 1 / np.sqrt(fan_in)
        assert stats.kstest(b.ravel() * np.sqrt(fan_in), "uniform", args=(-1, 2)).pvalue > 1e-3
    # the weights do not depend on the bias convention
    np.testing.assert_array_equal(torch[:, :SHAPE.off_b1], normal[:, :SHAPE.off_b1])


def test_unknown_conventions_name_their_field():
    for kwargs, field in (({"he_scale": "fan_out"}, "init.he_scale"),
                          ({"he_distribution": "laplace"}, "init.he_distribution"),
                          ({"he_biases": "uniform"}, "init.he_biases")):
        with pytest.raises(ValueError, match=field):
            initial_state([1], SHAPE, "he", **kwargs)
    with pytest.raises(ValueError, match="training.batch_sampling"):
        batch_indices(0, 0, 1, 100, 10, sampling="bootstrap")


def test_sampling_with_replacement_visits_samples_uniformly():
    n, B = 1000, 32
    idx = batch_indices(5, 0, 20000, n, B, sampling="replacement")
    counts = np.bincount(idx.ravel(), minlength=n)
    assert stats.chisquare(counts).pvalue > 1e-3
    # with replacement a batch repeats a sample now and then; epochs never do within an epoch
    repeats = sum(len(set(row)) < B for row in idx)
    assert repeats > 0.2 * len(idx)  # P(no repeat in 32 of 1000) = 0.61
    epochs = batch_indices(5, 0, 31, n, B).ravel()
    assert len(set(epochs)) == len(epochs)
    # addressable by step like the epoch schedule
    np.testing.assert_array_equal(batch_indices(5, 700, 3, n, B, sampling="replacement"), idx[700:703])


@pytest.mark.parametrize("batch_mode", ["shared", "per_run"])  # the fast kernel and the general path
def test_summed_batch_gradient_is_the_mean_at_dt_times_B(batch_mode):
    X, y = make_task(1000, 0)
    seeds = [3, 11, 12]
    common = dict(n_intervals=4, clv_window=1, clv_window_end=2, clv_window_grid=(1, 2), checkpoints=(),
                  batch_mode=batch_mode)
    summed = EngineConfig(dt=3e-5, batch_gradient="sum", **common)
    mean = EngineConfig(dt=3e-5 * 32, **common)
    assert summed.tau == pytest.approx(mean.tau / 32)  # time stays in units of dt
    theta0 = initial_state(seeds, summed.shape, "he")
    a, b = Ensemble(summed, theta0, X, y, seeds), Ensemble(mean, theta0, X, y, seeds)
    for _ in range(2):
        np.testing.assert_array_equal(a.advance_interval(), b.advance_interval())
        np.testing.assert_array_equal(a.theta, b.theta)


def test_numeric_jacobian_uses_the_configured_step():
    X, y = make_task(200, 0)
    theta = initial_state([4, 5], (2, 2, 1), "he")
    for step in (1e-7, 1e-3):
        J = flow_and_jacobian_mode(theta, X[:32], y[:32], (2, 2, 1), "tanh", "numeric", step)[1]
        np.testing.assert_array_equal(J, numeric_flow_jacobian(theta, X[:32], y[:32], (2, 2, 1), "tanh", step))
    c = EngineConfig(jacobian="numeric", jacobian_step=0.3, n_intervals=2, clv_window=1, clv_window_end=2,
                     clv_window_grid=(1, 2), checkpoints=())
    ens = Ensemble(c, theta, X, y, [4, 5])
    Q = np.broadcast_to(np.eye(9), (2, 9, 9)).copy()
    th = theta.copy()
    for idx in batch_indices(0, 0, c.steps_per_interval, len(X), c.batch_size):
        f, J, _ = flow_and_jacobian_mode(th, X[idx], y[idx], c.shape, c.activation, "numeric", 0.3)
        Q += c.dt * (J @ Q)
        th += c.dt * f
    R = ens.advance_interval()
    expected = np.abs(np.diagonal(np.linalg.qr(Q)[1], axis1=1, axis2=2))
    np.testing.assert_allclose(np.diagonal(R, axis1=1, axis2=2), expected, rtol=1e-10)


def test_the_numeric_step_enters_the_numeric_config_only_with_the_numeric_jacobian():
    cfg = pc.load_config()
    assert "jacobian_step" not in pc.numeric_config(cfg)["training"]
    numeric = pc.load_config({"training": {"jacobian": "numeric"}})
    steps = [pc.numeric_config(pc.load_config(numeric, {"training": {"jacobian_step": h}}))["training"]["jacobian_step"]
             for h in (1e-4, 1e-6)]
    assert steps == [1e-4, 1e-6]


@pytest.mark.parametrize("distribution, reference", [
    ("truncated", lambda N: stats.truncnorm(-2, 2, scale=np.sqrt(2 / N) / 0.87962566103423978)),
    ("uniform", lambda N: stats.uniform(-np.sqrt(6 / N), 2 * np.sqrt(6 / N))),
    ("normal", lambda N: stats.norm(scale=np.sqrt(2 / N))),
])
def test_he_distributions_match_scipys(distribution, reference):
    """Kolmogorov-Smirnov against SciPy's own distributions (an independent sampler's law)."""
    theta = he_draws(he_distribution=distribution)
    for part, N in (("W21", 3), ("W32", 4)):
        w, _ = block_std(theta, part)
        assert stats.kstest(w.ravel(), reference(N).cdf).pvalue > 1e-3, part


@pytest.mark.parametrize("training", [{"batch_gradient": "sum"}, {"batch_sampling": "replacement"}])
def test_replay_of_the_options_by_the_independent_implementation(training):
    """The engine under an option equals the paper-equation replay fed the option's step
    (dt B for the summed gradient) and batches (drawn with replacement) to 1e-9."""
    from reference_paper import replay

    X, y = make_task(1000, 0)
    c = EngineConfig(n_intervals=3, clv_window=1, clv_window_end=2, clv_window_grid=(1, 2), checkpoints=(),
                     **training)
    seeds = [17, 4]
    theta0 = initial_state(seeds, c.shape, "he", he_scale="layer", he_biases="pytorch")
    ens = Ensemble(c, theta0, X, y, seeds)
    states = [ens.theta.copy()]
    for _ in range(c.n_intervals):
        ens.advance_interval()
        states.append(ens.theta.copy())
    states = np.stack(states, 1)
    batches = batch_indices(c.batch_seed, 0, c.n_steps, len(X), c.batch_size, c.batch_sampling)
    for r in range(len(seeds)):
        ref = replay(theta0[r], X, y, batches, c.step_size, c.steps_per_interval, c.activation)
        np.testing.assert_allclose(states[r], ref["states"], rtol=0, atol=1e-9 * max(1, np.abs(ref["states"]).max()))
