"""Rule data: write the regression data set (x1..xN1, y) to Parquet."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import pandas as pd  # noqa: E402

from weightdyn.pipeline.io import provenance, write_parquet  # noqa: E402
from weightdyn.engine import task_data  # noqa: E402
from weightdyn.model.tasks import data_digest  # noqa: E402
from weightdyn.pipeline.variants import job_config  # noqa: E402

data = snakemake.params.data
with job_log(snakemake) as log:
    X, y = task_data(job_config(snakemake))  # params.data and params.n_inputs: what reruns this rule
    frame = pd.DataFrame({f"x{i + 1}": X[:, i] for i in range(X.shape[1])})
    for k in range(y.shape[1]):
        frame["y" if y.shape[1] == 1 else f"y{k + 1}"] = y[:, k]
    write_parquet(frame, snakemake.output[0], provenance(kind="data", data=dict(data), data_sha256=data_digest(X, y)))
    print(f"wrote {len(frame)} samples, columns {list(frame.columns)} to {snakemake.output[0]}", file=log)
