"""What the end-of-training CLV angles depend on: the determined vectors and pairs, the
convergence summaries per vector and per pair, on a CLV window table built to show it."""
import numpy as np
import pandas as pd

from weightdyn.analysis.angles import (convergence_points, determined_pairs, determined_vectors, pair_medians,
                                       start_matrix_medians, window_convergence)
from weightdyn.engine import columns as col

from synthetic_clv import synthetic_windows
from test_predict import synthetic_runs

TOL = 0.01


def test_determined_vectors_and_pairs():
    table = pd.DataFrame({col.start_distance(1): [0.0, 0.0], col.start_distance(2): [0.005, 0.5],
                          col.start_distance(3): [0.02, 0.0]})
    np.testing.assert_array_equal(determined_vectors(table, TOL), [[True, True, False], [True, False, True]])
    # pairs (1,2), (1,3), (2,3)
    np.testing.assert_array_equal(determined_pairs(table, TOL), [[True, False, False], [False, True, False]])
    assert determined_pairs(table, TOL, P=2).shape == (2, 1)


def test_window_convergence_separates_converging_from_degenerate_vectors():
    """Vectors 2..4 of P = 8 have a gap of 1 and converge as exp(-W d tau); vectors 6..8
    have a zero gap and keep their start; high-loss runs are summarised apart."""
    runs = synthetic_runs(n=60, settings=(("relu", "he"),), P=8)
    windows = synthetic_windows(runs, grid=(10, 1000, 40000), tau=6e-4)
    points = convergence_points(windows, runs, 100.0)
    assert len(points) == len(windows) * 7 and set(points["vector"]) == set(range(2, 9))
    np.testing.assert_allclose(points.loc[points["vector"] == 3, "gap"], 1.0)
    conv = window_convergence(points, TOL).set_index(["runs_group", col.WINDOW, "vector"])
    rest = conv.loc["rest"]
    assert rest.loc[(40000, 3), "determined_share"] == 1.0 and rest.loc[(10, 3), "determined_share"] == 0.0
    assert rest.loc[(40000, 7), "determined_share"] == 0.0 and rest.loc[(40000, 7), "degenerate_share"] == 1.0
    assert rest.loc[(40000, 3), "median_gap_W_tau"] == 40000 * 6e-4
    high = int((runs[col.FINAL_LOSS] > 100).sum())
    assert conv.loc[("high", 10, 2), "runs"] == high and rest.loc[(10, 2), "runs"] == len(runs) - high


def test_pair_medians_split_the_runs_and_count_determined_angles():
    runs = synthetic_runs(n=40, settings=(("tanh", "he"),), P=8)
    windows = synthetic_windows(runs, grid=(10, 40000), tau=6e-4)
    med = pair_medians(windows, runs, 100.0, TOL, pairs=[(2, 3), (2, 7)])
    assert len(med) == 2 * 2 * 2  # windows x pairs x starts
    row = med[(med["pair"] == (2, 3)) & (med[col.WINDOW] == 40000) & (med["start"] == "random")].iloc[0]
    assert row["determined_share"] == 1.0 and row["n_rest"] + row["n_high"] == 40
    sub = windows[windows[col.WINDOW] == 40000].merge(runs[[*col.ID_COLUMNS, col.FINAL_LOSS]])
    expected = np.median(sub.loc[sub[col.FINAL_LOSS] <= 100, col.window_cos("random", 2, 3)])
    assert row["median_rest"] == expected
    assert med[(med["pair"] == (2, 7))]["determined_share"].max() == 0.0


def test_start_matrix_medians_are_the_angles_of_the_random_start_itself():
    """Pair (1, 2) of an upper-triangular start: column 1 is e_1, so |cos| is |C[0, 1]|."""
    from weightdyn.model.streams import clv_random_start

    runs = synthetic_runs(n=30, settings=(("relu", "he"),), P=4)
    med = start_matrix_medians(runs, 100.0, [(1, 2), (3, 4)]).set_index("pair")
    C = clv_random_start(runs[col.SEED].to_numpy(), 4)
    rest = runs[col.FINAL_LOSS].to_numpy() <= 100
    assert med.loc[[(1, 2)], "median_rest"].iloc[0] == np.median(np.abs(C[rest, 0, 1]))
    assert np.isfinite(med["median_high"]).all()  # the synthetic ReLU runs include high-loss ones
