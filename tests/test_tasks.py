"""The regression tasks (weightdyn.model.tasks): the paper's, Friedman #1, the diabetes data
and a user's file; their validation, digests and the reruns a changed file causes."""
import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_diabetes, make_friedman1

from test_pipeline import planned, smoke_config, snakemake
from weightdyn.engine import simulate_runs
from weightdyn.model.tasks import DIABETES_TARGET_STD, Task, data_digest, make_task
from weightdyn.pipeline import config as pc
from weightdyn.pipeline.io import config_hash, read_metadata

RELU_HE = {"activations": ["relu"], "inits": ["he"]}


def file_task(tmp_path, frame=None, suffix=".csv", **fields) -> Task:
    frame = pd.DataFrame({"a": [0.5, -1.0, 2.0], "b": [1.0, 0.0, 3.0], "y": [1.0, 2.0, 0.0]}) if frame is None else frame
    path = tmp_path / f"data{suffix}"
    frame.to_csv(path, index=False) if suffix == ".csv" else frame.to_parquet(path, index=False)
    spec = dict(target="file", n_inputs=2, path=str(path), features=("a", "b"), target_column="y") | fields
    return Task(**spec)


def test_the_paper_task_is_its_formula_on_the_data_stream():
    X, y = make_task(500, 3)
    assert X.shape == (500, 2) and y.shape == (500, 1)
    np.testing.assert_array_equal(y[:, 0], 10.0 * X[:, 0] - 2.0 * X[:, 1] ** 2)
    assert not np.array_equal(X, make_task(500, 4)[0])


def test_friedman1_is_scikit_learns_with_the_inputs_of_the_network():
    X, y = make_task(300, 7, "friedman1", n_inputs=8)
    Xs, ys = make_friedman1(300, n_features=8, noise=0.0, random_state=7)
    np.testing.assert_array_equal(X, Xs)
    np.testing.assert_array_equal(y[:, 0], ys)
    with pytest.raises(ValueError, match=r"^network.shape: .*needs N1 >= 5 inputs, got 4"):
        make_task(300, 7, "friedman1", n_inputs=4)


def test_diabetes_is_standardized_with_its_target_at_the_papers_scale():
    X, y = make_task(target="diabetes", n_inputs=10)
    raw_X, raw_y = load_diabetes(return_X_y=True, scaled=False)
    assert X.shape == (442, 10) and y.shape == (442, 1)
    np.testing.assert_allclose(X.mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(X.std(axis=0), 1.0, rtol=1e-12)
    np.testing.assert_allclose([y.mean(), y.std()], [0.0, DIABETES_TARGET_STD], atol=1e-10)
    # an affine map of each column: the correlations are the data's own
    np.testing.assert_allclose(np.corrcoef(X[:, 2], y[:, 0])[0, 1], np.corrcoef(raw_X[:, 2], raw_y)[0, 1], rtol=1e-12)
    assert Task("diabetes", n_samples=5, seed=9, n_inputs=10).size == 442  # n_samples and seed do not apply
    with pytest.raises(ValueError, match=r"^network.shape: the diabetes data have 10 features; N1 = 2"):
        make_task(target="diabetes")


@pytest.mark.parametrize("suffix", [".csv", ".parquet"])
def test_a_file_task_reads_its_named_columns(tmp_path, suffix):
    task = file_task(tmp_path, suffix=suffix, features=("b", "a"))
    X, y = task.load()
    np.testing.assert_array_equal(X, [[1.0, 0.5], [0.0, -1.0], [3.0, 2.0]])
    np.testing.assert_array_equal(y[:, 0], [1.0, 2.0, 0.0])
    assert task.size == 3


BAD_FILES = {
    "no path": (dict(path=None), "data.file.path: the 'file' target needs"),
    "wrong suffix": (dict(path="data.txt"), "data.file.path: data.txt: not a CSV or Parquet file"),
    "missing file": (dict(path="nowhere.csv"), "data.file.path: nowhere.csv: no such file"),
    "too few features": (dict(features=("a",)), "data.file.features: 1 columns for N1 = 2 inputs"),
    "no target column": (dict(target_column=None), "data.file.target_column: the 'file' target needs"),
    "unknown feature": (dict(features=("a", "c")), "data.file.features: "),
    "unknown target column": (dict(target_column="z"), "data.file.target_column: "),
    "a feature twice": (dict(features=("a", "a")), "data.file.features: a column named twice"),
    "the target among the features": (dict(features=("a", "y")), "data.file.target_column: 'y' is also a feature"),
}


@pytest.mark.parametrize("case", BAD_FILES)
def test_a_bad_file_task_names_the_field(tmp_path, case):
    fields, message = BAD_FILES[case]
    with pytest.raises(ValueError) as err:
        file_task(tmp_path, **fields).load()
    assert str(err.value).startswith(message), str(err.value)
    if case.startswith("unknown "):
        assert "has no column" in str(err.value) and "it has 'a', 'b', 'y'" in str(err.value)


@pytest.mark.parametrize("column, values, message", [
    ("a", ["x", "1", "2"], "data.file.features: column 'a' of .* is not numeric"),
    ("y", [1.0, np.nan, 2.0], r"data.file.target_column: column 'y' of .* has 1 missing or non-finite values \(first at row 1\)"),
    ("b", [1.0, 2.0, np.inf], "data.file.features: column 'b' of .* has 1 missing"),
])
def test_non_numeric_or_missing_values_are_rejected(tmp_path, column, values, message):
    frame = pd.DataFrame({"a": [0.5, -1.0, 2.0], "b": [1.0, 0.0, 3.0], "y": [1.0, 2.0, 0.0]})
    frame[column] = values
    with pytest.raises(ValueError, match=f"^{message}"):
        file_task(tmp_path, frame).load()


@pytest.mark.parametrize("content, suffix, message", [
    ("", ".csv", "data.file.path: .* cannot be read as csv"),
    ("a,b,y\n", ".csv", "data.file.path: .* has no rows"),
    ("not parquet", ".parquet", "data.file.path: .* cannot be read as parquet"),
])
def test_an_unreadable_or_empty_file_names_the_path(tmp_path, content, suffix, message):
    path = tmp_path / f"data{suffix}"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"^{message}"):
        Task("file", n_inputs=2, path=str(path), features=("a", "b"), target_column="y").load()


def test_the_data_digest_follows_the_numbers_not_the_file(tmp_path):
    (tmp_path / "c").mkdir()
    csv = file_task(tmp_path / "c", suffix=".csv")
    parquet = file_task(tmp_path, suffix=".parquet")
    assert data_digest(*csv.load()) == data_digest(*parquet.load())
    X, y = csv.load()
    y[1, 0] += 1e-12
    assert data_digest(X, y) != data_digest(*csv.load())
    assert data_digest(X[:, :1], y) != data_digest(X, y)


def file_config(tmp_path, **sections) -> dict:
    path = tmp_path / "task.csv"
    X, y = make_task(64, 5)
    pd.DataFrame({"u": X[:, 0], "v": X[:, 1], "target": y[:, 0]}).to_csv(path, index=False)
    data = {"target": "file", "file": {"path": str(path), "features": ["u", "v"], "target_column": "target"}}
    return smoke_config(data=data, settings=RELU_HE, **sections)


def test_the_numeric_config_holds_the_datas_digest_and_only_active_keys(tmp_path):
    cfg = file_config(tmp_path)
    numeric = pc.numeric_config(cfg)
    assert set(numeric["data"]) == {"target", "file"}
    assert numeric["data"]["file"] == {"features": ["u", "v"], "target_column": "target",
                                       "values_sha256": data_digest(*make_task(64, 5))}
    assert pc.numeric_config(pc.load_config(cfg, {"data": {"seed": 3, "n_samples": 9}})) == numeric
    # the same values moved and saved another way: the same numeric config
    frame = pd.read_csv(cfg["data"]["file"]["path"])
    frame.assign(unused=1.0).to_parquet(tmp_path / "moved.parquet")
    assert pc.numeric_config(pc.load_config(cfg, {"data": {"file": {"path": str(tmp_path / "moved.parquet")}}})) == numeric
    path = cfg["data"]["file"]["path"]
    with open(path, "a") as handle:
        handle.write("0.1,0.2,0.3\n")
    assert pc.numeric_config(cfg)["data"]["file"]["values_sha256"] != numeric["data"]["file"]["values_sha256"]
    drawn = pc.numeric_config(smoke_config())
    assert set(drawn["data"]) == {"n_samples", "seed", "target"}  # as before files existed: the same hashes
    assert "jacobian_step" not in drawn["training"]


def test_a_file_task_is_validated_as_part_of_the_config(tmp_path):
    cfg = file_config(tmp_path)
    assert pc.config_problems(cfg) == []
    assert pc.config_problems(pc.load_config(cfg, {"training": {"batch_size": 65}})) == [
        "training.batch_size: 65 exceeds the 64 samples of the data set (a mini-batch is a part of the data set)"]
    missing = pc.load_config(cfg, {"data": {"file": {"path": str(tmp_path / "gone.csv")}}})
    assert [p.split(":")[0] for p in pc.config_problems(missing)] == ["data.file.path"]
    assert pc.config_problems(pc.load_config(cfg, {"data": {"file": {"features": ["u", "w"]}}}))[0].startswith(
        "data.file.features: ")


def test_the_engine_trains_on_every_task(tmp_path):
    for data, shape in (({"target": "friedman1"}, [5, 3, 1]), ({"target": "diabetes"}, [10, 2, 1])):
        cfg = smoke_config(data=data, network={"shape": shape})
        assert pc.config_problems(cfg) == []
        runs = simulate_runs(cfg, "relu", "he", [0, 1])
        assert np.isfinite(runs["final_loss"]).all() and not runs["diverged"].any()
    runs = simulate_runs(file_config(tmp_path), "relu", "he", [0, 1])
    assert np.isfinite(runs["final_loss"]).all()


def test_a_changed_file_reruns_what_depends_on_it_and_nothing_else(tmp_path):
    cfg = file_config(tmp_path)
    cfg["variants"] = {"drawn": {"data": {"target": "paper"}}}
    targets = ["results/tables/runs.parquet", "results/variants/drawn/tables/runs.parquet"]
    workdir = tmp_path / "run"
    snakemake(workdir, cfg, *targets)
    shard = workdir / "results" / "shards" / "relu_he" / "seeds_000000-000002.parquet"
    assert read_metadata(shard)["data_sha256"] == data_digest(*Task(**{
        "target": "file", "n_inputs": 2, "path": cfg["data"]["file"]["path"], "features": ("u", "v"),
        "target_column": "target"}).load())
    assert read_metadata(shard)["config_hash"] == config_hash(pc.numeric_config(cfg))
    assert planned(snakemake(workdir, cfg, *targets, "--dry-run").stdout) == {}
    frame = pd.read_csv(cfg["data"]["file"]["path"])
    frame.loc[3, "target"] += 1.0
    frame.to_csv(cfg["data"]["file"]["path"], index=False)
    jobs = planned(snakemake(workdir, cfg, *targets, "--dry-run").stdout)
    assert sorted(jobs) == ["aggregate", "data", "simulate"]
    assert all(job.startswith("results/") and "variants" not in job for names in jobs.values() for job in names)
    assert len(jobs["simulate"]) == 2
