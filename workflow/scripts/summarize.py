"""Rule summarize: the runs table -> one CSV summary per setting."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

from weightdyn.analysis.tables import setting_summary  # noqa: E402
from weightdyn.engine.columns import setting_name, setting_rows  # noqa: E402
from weightdyn.pipeline.io import read_parquet, write_csv  # noqa: E402

p, out = snakemake.params, snakemake.output
with job_log(snakemake) as log:
    runs = read_parquet(snakemake.input.runs)
    for (activation, init), path in zip(p.settings, out.summaries):
        sub = setting_rows(runs, activation, init)
        write_csv(setting_summary(sub, p.events["low_loss"], p.events["high_loss"], p.summary["le_tolerance"]), path)
        print(f"summary {setting_name(activation, init)}: {len(sub)} runs -> {path}", file=log)
