"""Rule restart_policy: runs, best members and split -> results/tables/restart_policy.csv."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

from weightdyn.pipeline.io import read_parquet, write_csv  # noqa: E402
from weightdyn.analysis.config import PredictConfig  # noqa: E402
from weightdyn.analysis.restart import restart_policy  # noqa: E402

p = snakemake.params
with job_log(snakemake) as log:
    cfg = PredictConfig.from_config({"events": p.events, "predict": p.predict,
                                     "lyapunov": {"clv_start": p.clv_start}})
    runs = read_parquet(snakemake.input.runs)
    cfg = cfg.resolve(runs)
    table = restart_policy(runs, read_parquet(snakemake.input.best), p.checkpoints, p.dt, p.n_intervals, cfg,
                           split=read_parquet(snakemake.input.split))
    write_csv(table, snakemake.output[0])
    print(table.to_string(), file=log)
