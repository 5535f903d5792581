"""Rules figures_runs and figures_prediction: tables -> results/figures/<name>.png and .pdf
for every figure name in params.names."""
import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(snakemake.threads)  # before NumPy is imported

import time  # noqa: E402
import traceback  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from weightdyn.report.figures import FigureConfig, make_figure  # noqa: E402
from weightdyn.pipeline.config import load_config  # noqa: E402
from weightdyn.pipeline.io import read_parquet, save_figure  # noqa: E402
from weightdyn.analysis.config import PredictConfig  # noqa: E402

p, out = snakemake.params, snakemake.output
with open(snakemake.log[0], "w", buffering=1) as log:
    try:
        tables = {key: (pd.read_csv(path) if str(path).endswith(".csv") else read_parquet(path))
                  for key, path in snakemake.input.items()}
        # the runs figures read only the event thresholds; their rule leaves the prediction
        # settings out of its params, so config.yaml fills them in here
        pcfg = PredictConfig.from_config(load_config({"events": p.events, "predict": p.predict}))
        fcfg = FigureConfig.from_config({"figures": p.figures})
        for name in p.names:
            start = time.perf_counter()
            fig = make_figure(name, tables, pcfg, fcfg)
            stem = Path(getattr(out, f"{name}_png")).with_suffix("")
            paths = save_figure(fig, stem, dpi=fcfg.dpi)
            print(f"{name}: {', '.join(f'{q} ({q.stat().st_size} bytes)' for q in paths)} "
                  f"in {time.perf_counter() - start:.1f} s", file=log)
    except Exception:
        traceback.print_exc(file=log)
        raise
