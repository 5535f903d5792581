"""Command line: `weightdyn trajectory ...` (one run up close)."""
from __future__ import annotations

import argparse
import sys

import numpy as np

from .model.activations import ACTIVATIONS
from .model.streams import INITS


def cmd_trajectory(args) -> int:
    from .engine import columns as col
    from .engine.trajectory import trajectory
    from .lyapunov import checkpoints_outside
    from .pipeline.config import load_config, numeric_config, validate_config
    from .pipeline.io import config_hash, provenance, write_parquet
    from .pipeline.progress import ProgressLog

    cfg = validate_config(load_config(args.config))  # the config as given, numbers as numbers
    if args.intervals is not None:  # a shorter run keeps the checkpoints that still fit (perhaps none)
        cfg["training"]["n_intervals"] = args.intervals
        lyap = cfg["lyapunov"]
        outside = checkpoints_outside(lyap["checkpoints"], args.intervals, lyap["clv_window"])
        lyap["checkpoints"] = [c for c in lyap["checkpoints"] if c not in outside]
        # a trajectory has no end-of-training CLVs: their windows shrink to fit
        lyap["clv_window_end"] = min(lyap["clv_window_end"], args.intervals)
        lyap["clv_window_grid"] = [w for w in lyap["clv_window_grid"] if w <= args.intervals] or [lyap["clv_window_end"]]
    table = trajectory(cfg, args.activation, args.init, args.seed, clv=args.clv, progress=ProgressLog())
    numeric = numeric_config(cfg)
    meta = provenance(kind="trajectory", activation=args.activation, init=args.init, seed=args.seed,
                      numeric_config=numeric, config_hash=config_hash(numeric),
                      param_names=list(table.attrs["param_names"]), diverged_step=table.attrs["diverged_step"],
                      clv_start=table.attrs["clv_start"])
    write_parquet(table, args.out, meta)
    last = table.iloc[-1]
    ftle_columns = [col.interval_ftle(q) for q in range(1, len(table.attrs["param_names"]) + 1)]
    print(
        f"wrote {len(table)} intervals to {args.out}; loss at t={last['t']:.4g}: {last['loss']:.6g}; "
        f"mean local FTLEs: {np.round(table[ftle_columns].mean().to_numpy(), 4).tolist()}"
    )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="weightdyn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("trajectory", help="train one run and write a row per orthogonalization interval (Parquet)")
    tr.add_argument("--config", required=True,
                    help="pipeline config (YAML) merged on top of config.yaml, e.g. workflow/presets/smoke.yaml")
    tr.add_argument("--activation", required=True, choices=list(ACTIVATIONS))
    tr.add_argument("--init", required=True, choices=list(INITS))
    tr.add_argument("--seed", required=True, type=int, help="run seed (as in the runs table)")
    tr.add_argument("--out", required=True, help="output Parquet file")
    tr.add_argument("--clv", action="store_true", help="add |cos| of all CLV pairs (past-only estimate)")
    tr.add_argument("--intervals", type=int, help="train this many intervals instead of the config's n_intervals")
    tr.set_defaults(func=cmd_trajectory)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, KeyError, OSError) as exc:
        print(f"weightdyn {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
