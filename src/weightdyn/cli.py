"""Command line: `weightdyn trajectory ...` (one run up close)."""
from __future__ import annotations

import argparse
import json
import sys

import numpy as np


def _load_config(path):
    import yaml

    with open(path) as fh:
        return yaml.safe_load(fh)


def cmd_trajectory(args) -> int:
    from .engine.trajectory import trajectory
    from .pipeline.progress import ProgressLog

    cfg = _load_config(args.config)
    if args.intervals is not None:
        cfg["training"]["n_intervals"] = args.intervals
        W = cfg["lyapunov"]["clv_window"]
        cfg["lyapunov"]["checkpoints"] = [c for c in cfg["lyapunov"]["checkpoints"] if W <= c <= args.intervals - W]
    table = trajectory(cfg, args.activation, args.init, args.seed, clv=args.clv, progress=ProgressLog())
    import pyarrow as pa
    import pyarrow.parquet as pq

    meta = {
        "config": json.dumps(cfg),
        "activation": args.activation,
        "init": args.init,
        "seed": str(args.seed),
        "param_names": json.dumps(table.attrs["param_names"]),
        "diverged_step": str(table.attrs["diverged_step"]),
    }
    tab = pa.Table.from_pandas(table, preserve_index=False)
    tab = tab.replace_schema_metadata({**(tab.schema.metadata or {}), **{k.encode(): v.encode() for k, v in meta.items()}})
    pq.write_table(tab, args.out)
    last = table.iloc[-1]
    print(
        f"wrote {len(table)} intervals to {args.out}; loss at t={last['t']:.4g}: {last['loss']:.6g}; "
        f"mean local FTLEs: {np.round(table.filter(like='ftle_').mean().to_numpy(), 4).tolist()}"
    )
    return 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="weightdyn", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    tr = sub.add_parser("trajectory", help="train one run and write a row per orthogonalization interval (Parquet)")
    tr.add_argument("--config", required=True, help="pipeline config (YAML), e.g. config.yaml")
    tr.add_argument("--activation", required=True, choices=["relu", "tanh", "gelu", "sigmoid"])
    tr.add_argument("--init", required=True, choices=["he", "wide"])
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
