"""Rule simulate: the runs first..last of one (activation, init) setting -> one shard."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import time  # noqa: E402

from weightdyn.pipeline.progress import ProgressLog  # noqa: E402
from weightdyn.engine import simulate, task_data  # noqa: E402
from weightdyn.model.tasks import data_digest  # noqa: E402
from weightdyn.pipeline.config import numeric_config  # noqa: E402
from weightdyn.pipeline.io import config_hash, write_shard  # noqa: E402
from weightdyn.pipeline.variants import job_config  # noqa: E402

cfg = job_config(snakemake)
activation, init = snakemake.wildcards.activation, snakemake.wildcards.init
first, last = int(snakemake.wildcards.first), int(snakemake.wildcards.last)
seeds = list(range(first, last + 1))

with job_log(snakemake) as log:
    X, y = data = task_data(cfg)  # read once: the runs train on these, the shards record their digest
    data_sha256 = data_digest(X, y)
    numeric = numeric_config(cfg)
    if numeric["data"].get("file", {}).get("values_sha256", data_sha256) != data_sha256:
        raise RuntimeError(f"{cfg['data']['file']['path']} changed while this job read it; rerun")
    digest = config_hash(numeric)
    if digest != snakemake.params.numeric_hash:
        raise RuntimeError(f"numeric config hash {digest} differs from the workflow's {snakemake.params.numeric_hash}")
    tr = cfg["training"]
    print(f"simulate {activation}_{init} seeds {first}..{last} ({len(seeds)} runs), "
          f"{tr['n_intervals']} intervals x {tr['steps_per_interval']} steps, numeric config {digest}", file=log)
    start = time.perf_counter()
    runs, windows = simulate(cfg, activation, init, seeds, data=data,
                             progress=ProgressLog(log, every=float(snakemake.params.progress_seconds)))
    wall = time.perf_counter() - start
    shard = dict(numeric=numeric, activation=activation, init=init, seeds=seeds, wall_time_s=wall,
                 data_sha256=data_sha256)
    # the window shard first: a shard of runs on disk means its job completed
    write_shard(windows, snakemake.output.windows, **shard)
    write_shard(runs, snakemake.output.runs, **shard)
    print(f"done in {wall:.1f} s: {int(runs['diverged'].sum())} of {len(runs)} runs diverged; "
          f"wrote {snakemake.output.runs} and {snakemake.output.windows}", file=log)
