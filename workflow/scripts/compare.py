"""Rule paper_comparison: runs, prediction, restart and CLV window tables -> the comparison
with the paper ({root}/paper_comparison.md) and its claims as a table ({root}/tables/claims.parquet)."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import pandas as pd  # noqa: E402

from weightdyn.report.markdown import claims_table, comparison_markdown, paper_claims  # noqa: E402
from weightdyn.pipeline.io import atomic_write, provenance, read_parquet, write_parquet  # noqa: E402

with job_log(snakemake) as log:
    runs = read_parquet(snakemake.input.runs)
    tables = {name: read_parquet(snakemake.input[name]) for name in ("auc", "best", "draws")}
    restart = pd.read_csv(snakemake.input.restart)
    windows = read_parquet(snakemake.input.windows)
    cfg = snakemake.params.config
    judged = paper_claims(runs, tables, cfg)
    claims = claims_table(judged, runs, cfg)
    write_parquet(claims, snakemake.output.claims, provenance(kind="claims"))
    md = comparison_markdown(runs, tables, restart, cfg, windows, judged)
    atomic_write(snakemake.output.comparison, lambda tmp: tmp.write_text(md))
    print(f"wrote {snakemake.output.comparison} ({len(md.splitlines())} lines) and {snakemake.output.claims} "
          f"({len(claims)} verdicts)", file=log)
