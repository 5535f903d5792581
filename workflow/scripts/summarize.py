"""Rule summarize: the runs table -> one CSV summary per setting."""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(snakemake.threads)  # before NumPy is imported

import traceback  # noqa: E402

from weightdyn.analysis.tables import setting_summary  # noqa: E402
from weightdyn.pipeline.io import read_parquet, write_csv  # noqa: E402

p, out = snakemake.params, snakemake.output
with open(snakemake.log[0], "w", buffering=1) as log:
    try:
        runs = read_parquet(snakemake.input.runs)
        for setting, path in zip(p.settings, out.summaries):
            activation, init = setting.split("_")
            sub = runs[(runs["activation"] == activation) & (runs["init"] == init)]
            write_csv(setting_summary(sub, p.events["low_loss"], p.events["high_loss"], p.summary["le_tolerance"]), path)
            print(f"summary {setting}: {len(sub)} runs -> {path}", file=log)
    except Exception:
        traceback.print_exc(file=log)
        raise
