"""The ensemble integrator: replay by an independent implementation, determinism,
known limits (a dead ReLU network), divergence handling, the batch schedule."""
import copy

import numpy as np
import pandas as pd
import pytest
import yaml
from pathlib import Path

from reference_paper import replay
from weightdyn.engine import EngineConfig, Ensemble, integrate, simulate_runs
from weightdyn.model.layout import pack
from weightdyn.model.streams import batch_indices, initial_state
from weightdyn.model.tasks import make_task
from weightdyn.engine.trajectory import trajectory

ROOT = Path(__file__).resolve().parents[1]


def small_config(**over):
    base = dict(n_intervals=12, clv_window=3, checkpoints=(3, 6, 9), steps_per_interval=20, dt=3e-5)
    base.update(over)
    end = base.setdefault("clv_window_end", min(8, base["n_intervals"]))
    base.setdefault("clv_window_grid", tuple(sorted({min(base["clv_window"], end), end})))
    return EngineConfig(**base)


def pipeline_config(n_intervals=12, window=3, checkpoints=(3, 6, 9), **training):
    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    cfg["training"]["n_intervals"] = n_intervals
    cfg["training"].update(training)
    cfg["lyapunov"].update(clv_window=window, clv_window_end=8, clv_window_grid=[3, 8], checkpoints=list(checkpoints))
    return cfg


@pytest.fixture(scope="module")
def task():
    return make_task(1000, 0)


@pytest.mark.parametrize("act, init, dt", [("relu", "he", 3e-5), ("tanh", "wide", 3e-5), ("gelu", "he", 1e-3)])
def test_replay_by_independent_implementation(task, act, init, dt):
    """States and local FTLEs equal the paper-equation reference replay to 1e-9."""
    X, y = task
    c = small_config(activation=act, dt=dt, n_intervals=3, checkpoints=(), clv_window=1)
    seeds = [17, 4]
    theta0 = initial_state(seeds, c.shape, init)
    ens = Ensemble(c, theta0, X, y, seeds)
    states, ftle = [ens.theta.copy()], []
    for _ in range(c.n_intervals):
        R = ens.advance_interval()
        states.append(ens.theta.copy())
        ftle.append(np.log(np.diagonal(R, axis1=1, axis2=2)) / c.tau)
    states, ftle = np.stack(states, 1), np.stack(ftle, 1)
    batches = batch_indices(c.batch_seed, 0, c.n_steps, len(X), c.batch_size)
    for r in range(len(seeds)):
        ref = replay(theta0[r], X, y, batches, dt, c.steps_per_interval, act)
        np.testing.assert_allclose(states[r], ref["states"], rtol=0, atol=1e-9 * max(1, np.abs(ref["states"]).max()))
        np.testing.assert_allclose(ftle[r], ref["ftle"], rtol=0, atol=1e-9)


def outputs(res):
    by_key = lambda d: [d[k] for k in sorted(d)]  # noqa: E731
    return [res.le, res.ftle_local, res.ftle_cum, res.loss, *by_key(res.cos_past), *by_key(res.cos_ginelli),
            *by_key(res.end_clvs), *by_key(res.end_ftle), res.final_loss, res.diverged, res.diverged_step]


@pytest.mark.parametrize("mode, act", [("shared", "relu"), ("shared", "tanh"), ("shared", "gelu"), ("per_run", "relu")])
def test_run_outputs_do_not_depend_on_block(task, mode, act):
    """Same bits alone, in a block, in another order or another block size."""
    X, y = task
    c = small_config(activation=act, batch_mode=mode)
    seeds = np.arange(10, 47)
    theta0 = initial_state(seeds, c.shape, "he")
    full = integrate(c, theta0, X, y, seeds)
    for sel in ([3], [7, 2], list(range(36, -1, -3)), list(range(37))[4:21], list(range(30))):
        part = integrate(c, theta0[sel], X, y, seeds[sel])
        for a, b in zip(outputs(full), outputs(part)):
            np.testing.assert_array_equal(a[sel], b)


@pytest.mark.parametrize("act", ["relu", "tanh"])
def test_kernel_blocks_do_not_change_a_run(task, act, monkeypatch):
    """Ensembles larger than the kernel's block are advanced block by block: same bits as
    one block, whatever the block size."""
    import weightdyn.engine.ensemble as ensemble

    X, y = task
    c = small_config(activation=act, n_intervals=4, checkpoints=(2,), clv_window=1)
    theta0 = initial_state(np.arange(37), c.shape, "he")
    whole = integrate(c, theta0, X, y)
    for block in (8, 12, 24):  # 37 = 3 x 12 + 1: a last block of one run
        monkeypatch.setattr(ensemble, "KERNEL_BLOCK", block)
        for a, b in zip(outputs(whole), outputs(integrate(c, theta0, X, y))):
            np.testing.assert_array_equal(a, b)


def test_per_run_schedules_differ_from_shared(task):
    X, y = task
    theta0 = initial_state([1, 2], (2, 2, 1), "he")
    shared = integrate(small_config(), theta0, X, y, [1, 2])
    per_run = integrate(small_config(batch_mode="per_run"), theta0, X, y, [1, 2])
    assert not np.allclose(shared.final_loss, per_run.final_loss)


def test_dead_relu_network_exponents(task):
    """Eight exponents 0 (within 1e-9) and one log(1 - 2 dt)/dt from the b2 direction."""
    X, y = task
    dt = 3e-5
    rng = np.random.default_rng(2)
    theta0 = np.stack([pack(np.zeros((2, 2)), rng.standard_normal((1, 2)), -np.ones(2), rng.standard_normal(1))
                       for _ in range(3)])
    res = integrate(small_config(dt=dt, n_intervals=30), theta0, X, y)
    le = np.sort(res.le, axis=1)
    np.testing.assert_allclose(le[:, 1:], 0.0, atol=1e-9)
    np.testing.assert_allclose(le[:, 0], np.log(1 - 2 * dt) / dt, rtol=1e-10)


def test_exponents_are_cumulative_ftles_and_match_trajectory(task):
    X, y = task
    cfg = pipeline_config(n_intervals=12)
    traj = trajectory(cfg, "tanh", "he", 5, clv=True)
    ftle = traj.filter(regex=r"^ftle_\d+$").to_numpy()
    df = simulate_runs(cfg, "tanh", "he", [5])
    le = df.filter(regex=r"^le_\d+$").to_numpy()[0]
    np.testing.assert_allclose(le, ftle.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(df.filter(regex=r"^ftle_local_\d+_t0.00018$").to_numpy()[0], ftle[5], rtol=1e-12)
    np.testing.assert_allclose(df.filter(regex=r"^ftle_cum_\d+_t0.00018$").to_numpy()[0], ftle[:6].mean(0), rtol=1e-12)
    # the past-only cosines known at checkpoint 6 are those of the trajectory's row 5
    np.testing.assert_allclose(df.filter(regex=r"^cos_past_identity_\d_\d_t0.00018$").to_numpy()[0],
                               traj.filter(regex=r"^cos_").to_numpy()[5], rtol=1e-12)
    # and Ginelli's at checkpoint 3 (window 3) are the past-only ones known at interval 6
    np.testing.assert_allclose(df.filter(regex=r"^cos_ginelli_identity_\d_\d_t9e-05$").to_numpy()[0],
                               traj.filter(regex=r"^cos_").to_numpy()[5], rtol=1e-12)
    assert df["loss_t0.00018"].iloc[0] == pytest.approx(traj["loss"].iloc[6], rel=1e-12)
    assert len(traj) == 12 and np.all(np.diff(traj["step"]) == 20)


def test_numeric_jacobian_mode_agrees(task):
    """The numeric Jacobian changes the tangent, not the state map: on the general path the
    states agree bit for bit. The fast kernel (analytic mode) forms the flow from batch sums
    in another order, so its states agree with the general path's to rounding only."""
    X, y = task
    theta0 = initial_state([3, 9], (2, 2, 1), "he")
    c_a, c_n = small_config(activation="tanh"), small_config(activation="tanh", jacobian="numeric")
    a = integrate(c_a, theta0, X, y)
    n = integrate(c_n, theta0, X, y)
    np.testing.assert_allclose(n.final_loss, a.final_loss, rtol=1e-12)
    np.testing.assert_allclose(n.le, a.le, atol=1e-5)
    for key in a.end_clvs:
        np.testing.assert_allclose(n.end_clvs[key], a.end_clvs[key], atol=1e-6)
    general, numeric = Ensemble(c_a, theta0, X, y), Ensemble(c_n, theta0, X, y)
    general.kernel = None
    assert numeric.kernel is None
    for _ in range(c_a.n_intervals):
        general.advance_interval()
        numeric.advance_interval()
    np.testing.assert_array_equal(general.theta, numeric.theta)


def test_diverging_run_is_flagged_and_does_not_disturb_others(task):
    X, y = task
    c = small_config(activation="relu", dt=1e-2)
    theta0 = initial_state([0, 1, 2], c.shape, "he")
    theta0[1] *= 30.0  # this run explodes with the large step
    res = integrate(c, theta0, X, y, seeds=[0, 1, 2])
    assert res.diverged.tolist() == [False, True, False]
    assert 0 <= res.diverged_step[1] < c.n_steps and res.diverged_step[[0, 2]].tolist() == [-1, -1]
    assert np.isnan(res.final_loss[1]) and np.isnan(res.le[1]).all()
    assert all(np.isnan(C[1]).all() for C in res.end_clvs.values())
    alone = integrate(c, theta0[[0, 2]], X, y, seeds=[0, 2])  # the seed draws the random CLV start
    for a, b in zip(outputs(res), outputs(alone)):
        np.testing.assert_array_equal(a[[0, 2]], b)
    assert np.isfinite(res.le[[0, 2]]).all()


def test_simulate_runs_table(task):
    cfg = pipeline_config()
    df = simulate_runs(cfg, "relu", "wide", [8, 3, 5])
    assert df["seed"].tolist() == [8, 3, 5]
    assert (df["activation"] == "relu").all() and (df["init"] == "wide").all()
    for col in ["final_loss", "diverged", "diverged_step", "le_1", "le_9", "loss_t9e-05", "ftle_local_9_t0.00027",
                "ftle_cum_1_t0.00018", "cos_past_identity_1_2_t0.00018", "cos_ginelli_random_8_9_t0.00027",
                "mean_cos_past_random_t9e-05", "mean_cos_end_identity", "cos_end_paper_1_9", "clv_start_dist_9"]:
        assert col in df.columns
    cos = df.filter(like="cos_").to_numpy()
    assert np.all((cos >= 0) & (cos <= 1 + 1e-12))
    for reading in ("identity", "random", "paper"):
        assert df.filter(regex=rf"^cos_end_{reading}_\d").shape[1] == 36
    dist = df.filter(like="clv_start_dist_").to_numpy()
    assert dist.shape[1] == 9 and np.all((dist >= 0) & (dist <= 1))
    assert np.all(dist[:, 0] < 1e-12)  # the first CLV is the first Gram-Schmidt vector, whatever the start


def test_config_errors_name_the_field():
    with pytest.raises(ValueError, match="checkpoints"):
        small_config(checkpoints=(11,))
    with pytest.raises(ValueError, match="checkpoints"):
        small_config(checkpoints=(6, 3))
    with pytest.raises(ValueError, match="share a t label"):
        EngineConfig(n_intervals=3_000_000, clv_window=1, clv_window_end=1, clv_window_grid=(1,),
                     checkpoints=(1_000_000, 1_000_001))
    with pytest.raises(ValueError, match="batch_mode"):
        small_config(batch_mode="random")
    with pytest.raises(ValueError, match="jacobian"):
        small_config(jacobian="auto")
    with pytest.raises(ValueError, match="activation"):
        small_config(activation="swish")
    with pytest.raises(ValueError, match="dt"):
        small_config(dt=0.0)
    with pytest.raises(ValueError, match="init"):
        initial_state([1], (2, 2, 1), "xavier")


def test_seeds_must_match_the_runs(task):
    X, y = task
    theta0 = initial_state([1, 2, 3], (2, 2, 1), "he")
    with pytest.raises(ValueError, match="per_run"):
        Ensemble(small_config(batch_mode="per_run"), theta0, X, y)
    with pytest.raises(ValueError, match="1 seeds given for 3 runs"):
        Ensemble(small_config(), theta0, X, y, seeds=[5])
    with pytest.raises(ValueError, match="N3 = 2"):
        make_task(100, 0, n_outputs=2)


def test_random_streams_are_separate():
    """Data, initial states and batch orders never share a generator, whatever the seeds
    (NumPy's SeedSequence ignores trailing zeros: [b, 0] is the stream of [b])."""
    first_epoch = batch_indices(0, 0, 31, 1000, 32).ravel()
    assert not np.array_equal(first_epoch, np.random.default_rng(0).permutation(1000)[:992])
    assert not np.array_equal(first_epoch, np.random.default_rng([0, 0]).permutation(1000)[:992])
    X, _ = make_task(1000, 0)
    assert not np.array_equal(X[:, 0], np.random.default_rng(0).standard_normal((1000, 2))[:, 0])
    per_run = batch_indices((0, 0), 0, 31, 1000, 32).ravel()
    assert not np.array_equal(per_run, first_epoch)


def test_batch_schedule_is_a_pure_function_of_seed_and_step():
    n, B = 1000, 32
    whole = batch_indices(7, 0, 100, n, B)
    assert whole.shape == (100, 32)
    np.testing.assert_array_equal(np.concatenate([batch_indices(7, 0, 37, n, B), batch_indices(7, 37, 63, n, B)]), whole)
    np.testing.assert_array_equal(batch_indices(7, 50, 1, n, B)[0], whole[50])
    flat = whole.ravel()
    for e in range(3):  # each epoch is a permutation of the data; batches wrap across epochs
        np.testing.assert_array_equal(np.sort(flat[e * n : (e + 1) * n]), np.arange(n))
    assert not np.array_equal(flat[:n], flat[n : 2 * n])
    assert not np.array_equal(batch_indices(8, 0, 100, n, B), whole)
    assert not np.array_equal(batch_indices((7, 1), 0, 100, n, B), whole)


def test_task_and_initialization():
    X, y = make_task(1000, 0)
    np.testing.assert_array_equal(y[:, 0], 10 * X[:, 0] - 2 * X[:, 1] ** 2)
    np.testing.assert_array_equal(make_task(1000, 0)[0], X)
    assert abs(X.mean()) < 0.1 and abs(X.std() - 1) < 0.05
    he = initial_state(np.arange(4000), (2, 2, 1), "he")
    wide = initial_state(np.arange(4000), (2, 2, 1), "wide", 20.0)
    assert np.all(he[:, 6:] == 0)
    np.testing.assert_allclose(he[:, :6].std(axis=0), 1.0, rtol=0.05)  # sqrt(2 / fan_in) = 1 for 2-2-1
    np.testing.assert_allclose(wide.std(axis=0), 20.0, rtol=0.05)
    np.testing.assert_array_equal(initial_state([5], (2, 2, 1), "he")[0], he[5])
    # the recipes of README.md, for replaying runs outside the project
    z = np.random.default_rng([5, 0x5EED]).standard_normal(9)
    np.testing.assert_array_equal(wide[5], 20.0 * z)
    np.testing.assert_array_equal(X, np.random.default_rng([0, 0xDA7A]).standard_normal((1000, 2)))
    np.testing.assert_array_equal(batch_indices(3, 0, 31, 1000, 32).ravel(),
                                  np.random.default_rng([3, 0, 0xBA7C]).permutation(1000)[:992])
    he_b = initial_state(np.arange(4000), (3, 2, 1), "he", he_biases="normal")
    np.testing.assert_allclose(he_b.std(axis=0), np.sqrt(2 / np.array([3] * 6 + [2] * 2 + [3] * 2 + [2])), rtol=0.05)
    with pytest.raises(ValueError, match="he_biases"):
        initial_state([1], (2, 2, 1), "he", he_biases="uniform")


def test_old_results_unchanged_bit_for_bit_at_the_old_options():
    """tests/data/engine_reference.parquet holds the runs table of the engine before the CLV
    start and the end window existed (smoke preset, 120 intervals, seeds 0 and 1 of every
    setting). With the end window at the checkpoint window, the identity start reproduces
    every column bit for bit (renamed: the start is now part of the angle columns)."""
    import re

    from weightdyn.pipeline.config import load_config

    old = pd.read_parquet(ROOT / "tests" / "data" / "engine_reference.parquet")
    cfg = load_config(ROOT / "workflow" / "presets" / "smoke.yaml")
    cfg["training"]["n_intervals"] = 120
    cfg["init"]["he_distribution"] = "normal"  # the He weights of that time
    cfg["lyapunov"].update(clv_window_end=cfg["lyapunov"]["clv_window"], clv_window_grid=[cfg["lyapunov"]["clv_window"]])
    new = pd.concat([simulate_runs(cfg, a, i, range(2)) for a in ("relu", "tanh") for i in ("he", "wide")],
                    ignore_index=True)

    def renamed(name):
        m = re.fullmatch(r"(mean_)?cos_(past|ginelli)_(.*)", name)
        if m:
            return f"{m.group(1) or ''}cos_{m.group(2)}_identity_{m.group(3)}"
        m = re.fullmatch(r"cos_end_(\d+_\d+)", name)
        return f"cos_end_identity_{m.group(1)}" if m else {"mean_cos_end": "mean_cos_end_identity"}.get(name, name)

    assert len(old.columns) == 424
    for name in old.columns:
        pd.testing.assert_series_equal(new[renamed(name)], old[name], check_names=False, check_exact=True)


def test_end_window_ring_is_packed_and_the_random_start_follows_the_seed():
    """The R-matrices of the end window are kept as their upper triangles (45 of 81
    entries), and a run's random start depends on its seed alone."""
    import weightdyn.lyapunov as ly

    X, y = make_task(1000, 0)
    c = small_config(activation="relu")
    theta0 = initial_state([3, 4], c.shape, "he")
    loop = ly.LyapunovLoop(Ensemble(c, theta0, X, y, [3, 4]), c.tau, window=c.clv_window, memory=8)
    for _ in range(9):
        loop.step()
    assert loop._ring._data.shape == (8, 2, 45)
    from weightdyn.model.streams import clv_random_start

    np.testing.assert_array_equal(clv_random_start([4, 3], 9)[0], clv_random_start([4], 9)[0])
    assert not np.array_equal(clv_random_start([3], 9), clv_random_start([4], 9))
