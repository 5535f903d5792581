"""Rule summarize: the runs table -> the CSV summary of one setting."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

from weightdyn.analysis.events import config_thresholds  # noqa: E402
from weightdyn.analysis.tables import setting_summary  # noqa: E402
from weightdyn.engine.columns import setting_rows  # noqa: E402
from weightdyn.pipeline.io import read_parquet, write_csv  # noqa: E402

p, out, setting = snakemake.params, snakemake.output, snakemake.wildcards.setting
with job_log(snakemake) as log:
    runs = read_parquet(snakemake.input.runs)
    low, high = config_thresholds(runs, p.events, p.predict_inits)
    activation, init = setting.split("_")
    sub = setting_rows(runs, activation, init)
    write_csv(setting_summary(sub, low, high, p.summary["le_tolerance"]), out.summary)
    print(f"summary {setting}: {len(sub)} runs -> {out.summary}", file=log)
