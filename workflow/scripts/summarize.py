"""Rule summarize: the runs table -> the CSV summary of one setting."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

from weightdyn.analysis.config import PredictConfig  # noqa: E402
from weightdyn.analysis.tables import setting_summary  # noqa: E402
from weightdyn.engine.columns import setting_rows  # noqa: E402
from weightdyn.pipeline.io import read_parquet, write_csv  # noqa: E402

p, out, setting = snakemake.params, snakemake.output, snakemake.wildcards.setting
with job_log(snakemake) as log:
    runs = read_parquet(snakemake.input.runs)
    events = PredictConfig.from_config({"events": p.events, "predict": p.predict, "lyapunov": p.lyapunov}).resolve(runs)
    activation, init = setting.split("_")
    sub = setting_rows(runs, activation, init)
    write_csv(setting_summary(sub, events.low_loss, events.high_loss, p.summary["le_tolerance"]), out.summary)
    print(f"summary {setting}: {len(sub)} runs -> {out.summary}", file=log)
