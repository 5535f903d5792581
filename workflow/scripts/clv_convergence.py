"""Rule clv_convergence: runs and CLV window tables -> how the end-of-training CLVs depend
on the window and the start, per vector and per pair (CSV)."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

from weightdyn.analysis.angles import convergence_points, pair_medians, window_convergence  # noqa: E402
from weightdyn.analysis.events import config_thresholds  # noqa: E402
from weightdyn.pipeline.io import read_parquet, write_csv  # noqa: E402

p, out = snakemake.params, snakemake.output
with job_log(snakemake) as log:
    runs, windows = read_parquet(snakemake.input.runs), read_parquet(snakemake.input.windows)
    _, high = config_thresholds(runs, p.events, p.predict_inits)
    vectors = window_convergence(convergence_points(windows, runs, high), p.tolerance)
    write_csv(vectors, out.vectors)
    pairs = pair_medians(windows, runs, high, p.tolerance)
    pairs["pair"] = [f"({i},{j})" for i, j in pairs["pair"]]
    write_csv(pairs, out.pairs)
    print(f"{len(vectors)} vector rows, {len(pairs)} pair rows", file=log)
