"""Variants of the config (section `variants`, target `variants`): each a complete result
set under results/variants/<name>/, shards shared where the numeric configs are equal,
partial reruns per variant, the comparison across them, and their validation."""
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from test_pipeline import ENV, ROOT, planned, smoke_config, snakemake
from weightdyn.engine import simulate_runs
from weightdyn.pipeline import config as pc
from weightdyn.pipeline.io import read_parquet
from weightdyn.pipeline.variants import MAIN_ROOT, length_pairs, root_configs, shard_roots

RELU_HE = {"activations": ["relu"], "inits": ["he"]}
RELATIVE = {"low_kind": "quantile", "low_loss": 0.3, "high_kind": "constant", "high_loss": 10.0}
VARIANTS = {"random_start": {"lyapunov": {"clv_start": "random"}}, "layer": {"init": {"he_scale": "layer"}},
            "short": {"training": {"n_intervals": 50}},
            "friedman": {"data": {"target": "friedman1"}, "network": {"shape": [5, 2, 1]}, "events": RELATIVE,
                         "settings": {"activations": ["relu", "tanh"], "runs_per_setting": {"tanh_he": 3}}}}


def variants_config(**variants) -> dict:
    cfg = smoke_config(settings=RELU_HE)
    cfg["variants"] = variants or VARIANTS
    return cfg


@pytest.fixture(scope="module")
def variants_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("variants")
    snakemake(workdir, variants_config(), "variants", timeout=600)
    return workdir


@pytest.fixture
def copied(variants_run, tmp_path):
    workdir = tmp_path / "copy"
    shutil.copytree(variants_run, workdir, symlinks=True)  # keeps modification times
    return workdir


def files(workdir, pattern):
    return sorted(str(p.relative_to(workdir)) for p in workdir.glob(pattern))


def test_roots_and_shard_reuse():
    cfg = variants_config(same={}, random_start=VARIANTS["random_start"], layer=VARIANTS["layer"],
                          layer_again={"init": {"he_scale": "layer"}, "predict": {"n_bins": 5}})
    configs = root_configs(cfg)
    assert list(configs) == [MAIN_ROOT] + [f"results/variants/{n}" for n in cfg["variants"]]
    assert configs["results/variants/layer"]["init"]["he_scale"] == "layer"
    assert configs["results/variants/layer"]["variants"] == {}
    assert length_pairs(configs) == []
    longer = root_configs(variants_config(short={"training": {"n_intervals": 50}}, long={}, other=VARIANTS["layer"]))
    assert length_pairs(longer) == [("results/variants/short", MAIN_ROOT), ("results/variants/short", "results/variants/long")]
    assert shard_roots(configs) == {MAIN_ROOT: MAIN_ROOT, "results/variants/same": MAIN_ROOT,
                                    "results/variants/random_start": MAIN_ROOT,
                                    "results/variants/layer": "results/variants/layer",
                                    "results/variants/layer_again": "results/variants/layer"}


def test_each_variant_is_a_complete_result_set_on_shared_shards(variants_run):
    # random_start changes only what the analysis reads: it reads the config's own shards
    assert files(variants_run, "results/shards/relu_he/seeds_*.parquet") == [
        "results/shards/relu_he/seeds_000000-000002.parquet", "results/shards/relu_he/seeds_000003-000005.parquet"]
    assert not files(variants_run, "results/variants/random_start/shards/**/*")
    assert len(files(variants_run, "results/variants/layer/shards/relu_he/seeds_*.parquet")) == 2
    for name in VARIANTS:
        root = variants_run / "results" / "variants" / name
        for path in ("paper_comparison.md", "tables/runs.parquet", "tables/table1.csv", "tables/claims.parquet",
                     "tables/summary_relu_he.csv", "figures/fig03_final_loss_he.png"):
            assert (root / path).exists(), (name, path)
    # each variant's runs are those of its config, computed by the engine alone
    for name in VARIANTS:
        cfg = root_configs(variants_config())[f"results/variants/{name}"]
        runs = read_parquet(variants_run / "results" / "variants" / name / "tables" / "runs.parquet")
        relu = runs[runs["activation"] == "relu"].reset_index(drop=True)
        direct = simulate_runs(cfg, "relu", "he", range(6))
        assert len(relu) == 6 and len(runs) == (9 if name == "friedman" else 6)  # friedman: 3 tanh runs too
        pd.testing.assert_series_equal(relu["final_loss"], direct["final_loss"], check_names=False)
    assert not (variants_run / "results" / "tables").exists()  # the config's own result set is not asked for


def test_the_comparison_across_variants(variants_run):
    out = variants_run / "results" / "variants"
    md = (out / "comparison.md").read_text()
    assert "| share | paper | random_start | layer | short | friedman |" in md
    assert "init.he_scale = layer" in md and "lyapunov.clv_start = random" in md
    long = read_parquet(out / "comparison.parquet")
    assert set(long["variant"]) == set(VARIANTS)
    assert {"claim", "headline", "horizon", "table1", "lengths", "outcome", "early"} <= set(long["section"]) <= {
        "claim", "headline", "horizon", "table1", "lengths", "outcome", "early", "restart"}
    # the outcome shares count the runs of each setting below its variant's low threshold
    outcome = long[long["section"] == "outcome"].set_index(["variant", "row"])
    for name in VARIANTS:
        runs = read_parquet(out / name / "tables" / "runs.parquet")
        low = float(pd.read_csv(out / name / "tables" / "summary_relu_he.csv").set_index("quantity").loc[
            "low_loss_threshold", "value"])
        relu = runs[runs["activation"] == "relu"]
        assert outcome.loc[(name, "relu_he:low"), "value"] == (relu["final_loss"] < low).mean()
    assert (out / "variants_study.png").stat().st_size > 10_000
    # short and random_start train the same runs for 50 and 60 intervals
    lengths = long[long["section"] == "lengths"]
    assert set(lengths["variant"]) == {"random_start"} and (lengths["n"] == 6).all()
    assert "short / random_start" in md
    claims = read_parquet(out / "layer" / "tables" / "claims.parquet")
    assert long[(long["variant"] == "layer") & (long["section"] == "claim")]["verdict"].tolist() == \
        claims["verdict"].tolist()
    head = long[long["section"] == "headline"]
    assert ((head["low"] <= head["value"]) & (head["value"] <= head["high"])).all()
    assert (out / "variants_headline.png").stat().st_size > 10_000


def test_relative_events_of_another_task(variants_run):
    """The Friedman #1 variant judges its runs by relative events: low below the 0.3
    quantile of its c_f, high above 10 x the constant predictor's cost (60 intervals train
    little); the paper's claims
    do not apply to it, and the comparison lists every variant's thresholds."""
    from weightdyn.analysis.events import balanced_quantile
    from weightdyn.engine import task_data
    from weightdyn.model.network import constant_loss

    root = variants_run / "results" / "variants" / "friedman"
    runs = read_parquet(root / "tables" / "runs.parquet")
    cfg = root_configs(variants_config())["results/variants/friedman"]
    X, y = task_data(cfg)
    assert X.shape[1] == 5 and (runs["constant_loss"] == constant_loss(y)).all()
    summary = pd.read_csv(root / "tables" / "summary_relu_he.csv").set_index("quantity")["value"]
    # 6 ReLU and 3 tanh runs, each activation weighing one half
    relu, tanh = (runs.loc[runs["activation"] == a, "final_loss"].to_numpy() for a in ("relu", "tanh"))
    assert (len(relu), len(tanh)) == (6, 3)
    assert float(summary["low_loss_threshold"]) == balanced_quantile([relu, tanh], 0.3)
    assert float(summary["high_loss_threshold"]) == pytest.approx(10.0 * constant_loss(y))
    claims = read_parquet(root / "tables" / "claims.parquet")
    assert set(claims["verdict_kind"]) == {"does not apply"}
    assert "The paper's claims do not apply to this config" in (root / "paper_comparison.md").read_text()
    md = (variants_run / "results" / "variants" / "comparison.md").read_text()
    assert "## Events" in md and "the 0.3 quantile of the predicted runs' usable c_f" in md
    assert "The paper's claims do not apply to friedman (the task is friedman1" in md
    split = read_parquet(root / "tables" / "split.parquet")  # the prediction's strata read the same threshold
    low = split.merge(runs[["seed", "activation", "init", "final_loss"]], on=["seed", "activation", "init"])
    assert len(low) == 9 and ((low["outcome"] == "low") == (low["final_loss"] < float(summary["low_loss_threshold"]))).all()


def test_deleting_one_variants_shard_reruns_only_that_variant(copied):
    (copied / "results/variants/layer/shards/relu_he/seeds_000003-000005.parquet").unlink()
    proc = snakemake(copied, variants_config(), "variants", "--dry-run")
    text = proc.stdout + proc.stderr
    jobs = planned(text)
    assert jobs["simulate"] == ["results/variants/layer/shards/relu_he/seeds_000003-000005.parquet, "
                                "results/variants/layer/shards/relu_he/clv_windows_000003-000005.parquet"]
    assert "random_start" not in "".join(o for rule, outs in jobs.items() for o in outs if rule != "variants_comparison")
    assert sorted(jobs) == sorted(["aggregate", "clv_convergence", "figures_prediction", "figures_runs",
                                   "paper_comparison", "predict", "restart_policy", "simulate", "summarize",
                                   "variants", "variants_comparison"])


def test_an_analysis_option_of_one_variant_reruns_only_its_analysis(copied):
    cfg = variants_config(random_start={"lyapunov": {"clv_start": "random"}, "predict": {"n_bins": 7}},
                          layer=VARIANTS["layer"])
    jobs = planned(snakemake(copied, cfg, "variants", "--dry-run").stdout)
    assert sorted(jobs) == ["figures_prediction", "paper_comparison", "predict", "restart_policy", "variants",
                            "variants_comparison"]
    assert all(o.startswith("results/variants/random_start/") for rule, outs in jobs.items()
               if rule not in ("variants", "variants_comparison") for o in outs)


@pytest.mark.parametrize("variants, message", [
    ({"fast": {"training": {"dt": "quick"}}}, "variants.fast: training.dt: 'quick' is not of type 'number'"),
    ({"typo": {"init": {"he_scael": "layer"}}}, "variants.typo: init.he_scael: unknown key"),
    ({"bad": {"init": {"he_scale": "fan_out"}}}, "variants.bad: init.he_scale: 'fan_out' is not one of"),
    ({"nested": {"variants": {"a": {}}}}, "variants.nested.variants: a variant cannot hold variants"),
    ({"Upper": {}}, "variants.Upper: not a variant name"),
])
def test_invalid_variants_are_rejected_naming_the_variant_and_field(variants, message):
    cfg = variants_config(**variants)
    problems = pc.config_problems(cfg)
    assert any(p.startswith(message.split(" (")[0][:40]) for p in problems), problems


def test_numbers_in_variants_are_read_as_numbers():
    cfg = variants_config(small={"training": {"dt": "1e-5"}})
    assert pc.config_problems(cfg) == []
    assert root_configs(cfg)["results/variants/small"]["training"]["dt"] == 1e-5


def test_the_open_points_preset_plans_its_study(tmp_path):
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(ROOT / "workflow" / "presets" / "open_points.yaml"), "--cores", "2", "--nocolor",
           "--dry-run", "variants"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = planned(proc.stdout + proc.stderr)
    cfg = pc.load_config(ROOT / "workflow" / "presets" / "open_points.yaml")
    assert len(jobs["paper_comparison"]) == len(cfg["variants"])
    # one set of shards per distinct numeric config; the baseline, the CLV start and the
    # analytic Jacobian on 128 runs share the config's own
    roots = set(shard_roots(root_configs(cfg)).values())
    assert {o.split("/shards/")[0] for o in jobs["simulate"]} == roots
    # the config's own: 4 blocks of 500 and 2 of 64; 13 screened options and seeds and 1
    # combination of 4 blocks; 3 numeric Jacobians of 2; full length: 4 blocks of ReLU and 2
    # of tanh per variant
    full = [name for name in cfg["variants"] if name.startswith("full_")]
    assert len(full) == 4
    assert len(roots) == 18 + len(full) and len(jobs["simulate"]) == 6 + 14 * 4 + 3 * 2 + 6 * len(full)


def test_the_beyond_preset_plans_its_study(tmp_path):
    """workflow/presets/beyond.yaml (docs/beyond): 8 variants, 500 runs per setting in
    blocks of 500 where N2 <= 4 (diabetes in blocks of 250), one block per setting at
    N2 = 8."""
    preset = ROOT / "workflow" / "presets" / "beyond.yaml"
    cmd = [sys.executable, "-m", "snakemake", "--snakefile", str(ROOT / "Snakefile"), "--directory", str(tmp_path),
           "--configfile", str(preset), "--cores", "2", "--nocolor", "--dry-run", "variants"]
    proc = subprocess.run(cmd, cwd=tmp_path, env=ENV, capture_output=True, text=True, timeout=300,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stderr[-3000:]
    jobs = planned(proc.stdout + proc.stderr)
    cfg = pc.load_config(preset)
    names = ["paper_n2", "paper_n3", "paper_n4", "friedman1_n2", "diabetes_n2", "paper_n8", "friedman1_n8", "diabetes_n8"]
    assert list(cfg["variants"]) == names and len(jobs["paper_comparison"]) == len(names)
    shards = {}
    for out in jobs["simulate"]:
        root = out.split("/shards/")[0].rsplit("/", 1)[-1]
        shards[root] = shards.get(root, 0) + 1
    # paper_n2 has the numeric config of config.yaml itself, and shares its shards (results/shards)
    assert shards == {"results": 2, **{n: 2 for n in names[1:4]}, "diabetes_n2": 4, "paper_n8": 2, "friedman1_n8": 1,
                      "diabetes_n8": 1}
    assert any("seeds_000250-000499" in o for o in jobs["simulate"] if "/diabetes_n2/" in o)


def test_the_variants_target_needs_variants(tmp_path):
    proc = snakemake(tmp_path, smoke_config(), "variants", "--dry-run", check=False)
    assert proc.returncode != 0
    assert "the config has no variants" in proc.stdout + proc.stderr


def test_closeness_and_net_agreement_follow_the_rules():
    from weightdyn.analysis.stats import wilson
    from weightdyn.analysis.variants import closeness, net_agreement

    def head(variant, le1, three, high, n=2000):
        rows = []
        for quantity, k, paper in (("le1_positive", le1, 0.33), ("three_positive", three, 0.03),
                                   ("high_loss", high, 0.03), ("low_loss", 600, float("nan"))):
            lo, hi = wilson(k, n)
            rows.append(dict(variant=variant, quantity=quantity, activation="relu", k=k, n=n, share=k / n, low=lo,
                             high=hi, paper=paper))
        return rows
    headline = pd.DataFrame(head("far", 500, 2, 6) + head("one_percent", 660, 60, 20) + head("two_percent", 660, 60, 40))
    close = closeness(headline)
    assert (close["n"] == 2000).all()
    # both hold 33% and 3% inside their intervals, not the 3% high-loss share: 2% is closer than 1%
    assert close["variant"].tolist() == ["two_percent", "one_percent", "far"]
    assert close["score"].tolist() == [2, 2, 0]
    se = np.sqrt(0.03 * 0.97 / 2000)
    assert close["distance"].iloc[1] == pytest.approx(abs(660 / 2000 - 0.33) / np.sqrt(0.33 * 0.67 / 2000)
                                                      + 0 + abs(0.01 - 0.03) / se)
    zero = headline.assign(paper=0.0)  # a paper share of 0: infinitely far unless ours is 0 too
    assert np.isinf(closeness(zero)["distance"]).all()
    claims = pd.DataFrame(dict(variant=["a"] * 4 + ["b"] * 3, verdict_kind=["agree", "agree", "differ", "not testable",
                                                                          "agree", "differ", "differ"]))
    net = net_agreement(claims).set_index("variant")
    assert net.loc["a", "net"] == 1 and net.loc["b", "net"] == -1 and net.loc["b", "differ"] == 2


def test_headline_shares_count_a_diverged_run_as_high_loss():
    from weightdyn.analysis.config import PredictConfig
    from weightdyn.analysis.variants import headline_shares

    runs = pd.DataFrame(dict(seed=range(4), activation="relu", init="he",
                             final_loss=[2.0, 8.0, 150.0, np.nan], diverged=[False, False, False, True],
                             le_1=[0.1, -0.1, 0.2, np.nan], le_2=[0.1, -0.2, 0.1, np.nan],
                             le_3=[0.1, -0.3, 0.1, np.nan]))
    head = headline_shares(runs, PredictConfig.from_config(pc.load_config())).set_index("quantity")
    assert (head.loc["high_loss", "k"], head.loc["high_loss", "n"]) == (2, 4)  # 150 and the diverged run
    assert (head.loc["low_loss", "k"], head.loc["low_loss", "n"]) == (1, 4)
    assert (head.loc["le1_positive", "k"], head.loc["le1_positive", "n"]) == (2, 3)  # exponents of usable runs
    assert head.loc["three_positive", "k"] == 2
    assert head.loc["le1_positive", "paper"] == 0.33 and np.isnan(head.loc["low_loss", "paper"])
