"""Rule aggregate: all shards -> runs table and long tables."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import numpy as np  # noqa: E402

from weightdyn.pipeline.config import numeric_config  # noqa: E402
from weightdyn.analysis.tables import long_tables, window_rows_in_order  # noqa: E402
from weightdyn.pipeline.io import (concat_shards, provenance, read_metadata,  # noqa: E402
                          read_parquet, write_parquet)
from weightdyn.engine import task_data  # noqa: E402
from weightdyn.model.tasks import data_digest  # noqa: E402
from weightdyn.engine.columns import CONSTANT_LOSS, DIVERGED_STEP, ID_COLUMNS, WINDOW  # noqa: E402
from weightdyn.model.network import constant_loss  # noqa: E402
from weightdyn.pipeline.variants import job_config  # noqa: E402

cfg, p, out = job_config(snakemake), snakemake.params, snakemake.output
with job_log(snakemake) as log:
    # The engine regenerates the task data from the config; the data file must hold
    # the same data, so that it documents what the runs were trained on.
    X, y = task_data(cfg)
    if not np.array_equal(read_parquet(snakemake.input.data).to_numpy(), np.column_stack([X, y])):
        raise RuntimeError(f"{snakemake.input.data} is not the data set of the current config; delete it and rerun")
    shards = list(snakemake.input.shards)
    digest = data_digest(X, y)  # shards written before the digest was recorded pass
    other = [path for path in shards if read_metadata(path).get("data_sha256", digest) != digest]
    if other:
        raise RuntimeError(f"{len(other)} shards were trained on another data set (first: {other[0]}); "
                           "delete them (or run snakemake with --forcerun simulate)")
    runs = concat_shards(shards, expected_hash=p.numeric_hash)
    runs.insert(runs.columns.get_loc(DIVERGED_STEP) + 1, CONSTANT_LOSS, constant_loss(y))  # relative events
    sources = sorted({read_metadata(path).get("source_hash", "unrecorded") for path in shards})
    if len(sources) > 1:
        print(f"note: the shards were computed by {len(sources)} versions of the library source: "
              f"{', '.join(sources)}", file=log)
    meta = provenance(kind="table", numeric_config=numeric_config(cfg), config_hash=p.numeric_hash,
                      settings=list(p.settings), shards=len(shards))
    write_parquet(runs, out.runs, meta)
    print(f"runs: {len(runs)} rows x {runs.shape[1]} columns from {len(shards)} shards", file=log)
    for name, table in long_tables(runs, p.checkpoints, p.dt, p.n_intervals, p.clv_window, p.clv_window_end).items():
        write_parquet(table, getattr(out, name), meta)
        print(f"{name}: {len(table)} rows", file=log)
    windows = window_rows_in_order(concat_shards(snakemake.input.window_shards, expected_hash=p.numeric_hash,
                                                 key=(*ID_COLUMNS, WINDOW)))
    write_parquet(windows, out.clv_windows, meta)
    print(f"clv_windows: {len(windows)} rows", file=log)
