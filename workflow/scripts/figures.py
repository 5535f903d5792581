"""Rules figures_runs and figures_prediction: tables -> results/figures/<name>.png and .pdf
for every figure name in params.names."""
from weightdyn.pipeline.rules import job_log, pin_threads

pin_threads(snakemake.threads)  # before NumPy is imported

import time  # noqa: E402
from pathlib import Path  # noqa: E402

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from weightdyn.report.figures import FigureConfig, make_figure  # noqa: E402
from weightdyn.pipeline.io import read_parquet, save_figure  # noqa: E402
from weightdyn.analysis.config import PredictConfig  # noqa: E402
from weightdyn.pipeline.variants import job_config  # noqa: E402

p, out = snakemake.params, snakemake.output
with job_log(snakemake) as log:
    tables = {key: (pd.read_csv(path) if str(path).endswith(".csv") else read_parquet(path))
              for key, path in snakemake.input.items()}
    # the prediction settings are params of figures_prediction only (they redraw those
    # figures when they change); the runs figures read just the event thresholds
    pcfg = PredictConfig.from_config({"events": p.events, "predict": job_config(snakemake)["predict"],
                                      "lyapunov": p.lyapunov}).resolve(tables["runs"])
    fcfg = FigureConfig.from_config({"figures": p.figures, "lyapunov": p.lyapunov})
    for name in p.names:
        start = time.perf_counter()
        fig = make_figure(name, tables, pcfg, fcfg)
        stem = Path(getattr(out, f"{name}_png")).with_suffix("")
        paths = save_figure(fig, stem, dpi=fcfg.dpi)
        print(f"{name}: {', '.join(f'{q} ({q.stat().st_size} bytes)' for q in paths)} "
              f"in {time.perf_counter() - start:.1f} s", file=log)
