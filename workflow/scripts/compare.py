"""Rule paper_comparison: runs, prediction, restart and CLV window tables -> results/paper_comparison.md."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import pandas as pd  # noqa: E402

from weightdyn.report.markdown import comparison_markdown  # noqa: E402
from weightdyn.pipeline.io import atomic_write, read_parquet  # noqa: E402

with job_log(snakemake) as log:
    runs = read_parquet(snakemake.input.runs)
    tables = {name: read_parquet(snakemake.input[name]) for name in ("auc", "best", "draws")}
    restart = pd.read_csv(snakemake.input.restart)
    windows = read_parquet(snakemake.input.windows)
    md = comparison_markdown(runs, tables, restart, snakemake.params.config, windows)
    atomic_write(snakemake.output[0], lambda tmp: tmp.write_text(md))
    print(f"wrote {snakemake.output[0]} ({len(md.splitlines())} lines)", file=log)
