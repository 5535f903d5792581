"""Rule predict: runs table -> split, AUC table, best members, bootstrap draws, ROC curves,
Table I (CSV, Markdown)."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(1)  # one BLAS thread per worker process; workers = rule threads

import time  # noqa: E402

from weightdyn.pipeline.io import atomic_write, provenance, read_parquet, write_csv, write_parquet  # noqa: E402
from weightdyn.analysis.config import PredictConfig  # noqa: E402
from weightdyn.analysis.evaluate import predict_all  # noqa: E402
from weightdyn.analysis.split import split_runs  # noqa: E402
from weightdyn.analysis.table1 import table1  # noqa: E402
from weightdyn.report.markdown import table1_markdown  # noqa: E402

p, out = snakemake.params, snakemake.output
with job_log(snakemake) as log:
    cfg = PredictConfig.from_config({"events": p.events, "predict": p.predict,
                                     "lyapunov": {"clv_start": p.clv_start}})
    runs = read_parquet(snakemake.input.runs)
    cfg = cfg.resolve(runs)
    print(f"{len(runs)} runs; {cfg}", file=log)
    start = time.perf_counter()
    split = split_runs(runs, cfg)
    counts = split.groupby(["activation", "init", "half", "outcome"]).size()
    print(f"split (runs per half and outcome; diverged runs count as high):\n{counts.to_string()}", file=log)
    diverged = split.groupby(["activation", "init"])["diverged"].sum()
    print(f"diverged runs per setting:\n{diverged.to_string()}", file=log)
    tables = predict_all(runs, p.checkpoints, p.dt, cfg, split, n_jobs=snakemake.threads)
    auc, best = tables["auc"], tables["best"]
    short = auc[auc["status"] != "ok"]
    print(f"{len(auc)} AUC rows in {time.perf_counter() - start:.1f} s; {len(short)} not computed "
          f"(too few events); {int(auc['n_excluded'].sum())} predictor values excluded as non-finite", file=log)
    meta = provenance(kind="prediction", events=dict(p.events), low_threshold=cfg.low_loss,
                      high_threshold=cfg.high_loss, predict=dict(p.predict), clv_start=p.clv_start)
    write_parquet(split, out.split, meta)
    for name in ("auc", "best", "draws", "roc"):
        write_parquet(tables[name], out[name], meta)
    tied = best[(best["n_candidates"] > 1) & (best["n_tied"] > 1)]
    print(f"best members: {len(tied)} of {int((best['n_candidates'] > 1).sum())} choices had ties", file=log)
    t1 = table1(best, cfg)
    write_csv(t1, out.table1_csv)
    md = table1_markdown(t1, cfg=cfg)
    atomic_write(out.table1_md, lambda tmp: tmp.write_text(md))
    print(md, file=log)
