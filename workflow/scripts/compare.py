"""Rule paper_comparison: runs, AUC and restart tables -> results/paper_comparison.md."""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(snakemake.threads)  # before NumPy is imported

import traceback  # noqa: E402

import pandas as pd  # noqa: E402

from weightdyn.report.markdown import comparison_markdown  # noqa: E402
from weightdyn.pipeline.io import atomic_write, read_parquet  # noqa: E402

with open(snakemake.log[0], "w", buffering=1) as log:
    try:
        runs = read_parquet(snakemake.input.runs)
        auc = read_parquet(snakemake.input.auc)
        restart = pd.read_csv(snakemake.input.restart)
        md = comparison_markdown(runs, auc, restart, snakemake.params.config)
        atomic_write(snakemake.output[0], lambda tmp: tmp.write_text(md))
        print(f"wrote {snakemake.output[0]} ({len(md.splitlines())} lines)", file=log)
    except Exception:
        traceback.print_exc(file=log)
        raise
