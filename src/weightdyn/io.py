"""Parquet files of the pipeline: atomic writes with provenance, shards, long tables.

Every file is written to a temporary file in its destination directory and moved into
place with `os.replace`, so a reader (or a resumed pipeline) sees either the complete
old file, the complete new one, or none; never a truncated one.

Provenance lives in the Parquet key-value metadata under the key ``weightdyn`` as JSON:
the numeric config and its hash, the package version, the wall time and, for shards,
the setting and seed range. Read it with `read_metadata`, or with
``pyarrow.parquet.read_schema(path).metadata[b"weightdyn"]``.

The tables of a pipeline run (``results/tables``):

- ``runs.parquet``: one row per run, the columns of `weightdyn.ensemble.simulate_runs`.
- ``losses.parquet``: seed, activation, init, interval, t, loss: C(t) at every checkpoint
  and the final loss (interval = n_intervals).
- ``lyapunov.parquet``: seed, activation, init, index, le.
- ``ftle.parquet``: seed, activation, init, interval, t, index, ftle_local, ftle_cum.
- ``angles.parquet``: seed, activation, init, estimate, interval, t, i, j, abs_cos, with
  estimate 'past' (past-only CLVs known at `interval`, which estimate the CLVs
  clv_window intervals earlier) or 'ginelli' (Ginelli CLVs at `interval`); the angles
  at the end of training are the 'past' rows with interval = n_intervals.
"""
from __future__ import annotations

import datetime as _dt
import hashlib
import json
import os
import platform
import secrets
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .ensemble import checkpoint_labels  # noqa: E402,F401  (the t labels of the table columns)

METADATA_KEY = b"weightdyn"
ID_COLUMNS = ("seed", "activation", "init")


# ----------------------------------------------------------------------------------
# Provenance.

def package_version() -> str:
    """Installed version of weightdyn ('unknown' when it runs from a source tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("weightdyn")
    except PackageNotFoundError:
        return "unknown"


def config_hash(numeric: dict) -> str:
    """A short, stable digest of a numeric config (canonical JSON, SHA-256, 16 hex)."""
    text = json.dumps(numeric, sort_keys=True, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def source_hash() -> str:
    """Digest of the library's source files: tells shards of different code apart even at
    the same package version (16 hex of SHA-256 over the names and bytes of *.py)."""
    digest = hashlib.sha256()
    for path in sorted(Path(__file__).resolve().parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def blas_info() -> list[dict]:
    """The BLAS libraries NumPy runs on, with the kernel OpenBLAS chose for this CPU: the
    last bits of a run can differ between CPUs (threadpoolctl)."""
    from threadpoolctl import threadpool_info

    keys = ("internal_api", "version", "architecture", "threading_layer")
    return [{k: info.get(k) for k in keys} for info in threadpool_info() if info.get("user_api") == "blas"]


def provenance(**fields) -> dict:
    """Metadata common to every file: package version and source digest, Python, NumPy and
    BLAS versions, UTC time."""
    return {
        "package_version": package_version(),
        "source_hash": source_hash(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": blas_info(),
        "created_utc": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **fields,
    }


# ----------------------------------------------------------------------------------
# Atomic writing.

def _temporaries(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f".{path.name}.*.tmp"))


def atomic_write(path, write: Callable[[Path], None]) -> Path:
    """Call write(tmp) on a temporary file beside `path`, then move it onto `path`.

    Leftover temporaries of `path` from an earlier killed writer are removed first. If
    `write` raises, the temporary is deleted and an existing `path` stays untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in _temporaries(path):
        stale.unlink(missing_ok=True)
    tmp = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        open(tmp, "xb").close()  # created with the permissions of a plain open (umask)
        write(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
    return path


def write_parquet(df: pd.DataFrame, path, metadata: dict | None = None) -> Path:
    """Write `df` (without its index) atomically, with `metadata` as JSON under 'weightdyn'."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata is not None:
        meta = dict(table.schema.metadata or {})
        meta[METADATA_KEY] = json.dumps(metadata, sort_keys=True, allow_nan=False).encode()
        table = table.replace_schema_metadata(meta)
    return atomic_write(path, lambda tmp: pq.write_table(table, tmp))


def write_csv(df: pd.DataFrame, path) -> Path:
    """Write `df` as CSV (no index) atomically."""
    return atomic_write(path, lambda tmp: df.to_csv(tmp, index=False))


def read_metadata(path) -> dict:
    """The 'weightdyn' metadata of a Parquet file ({} if it has none)."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def read_parquet(path) -> pd.DataFrame:
    return pq.read_table(path).to_pandas()


# ----------------------------------------------------------------------------------
# Shards.

def write_shard(df: pd.DataFrame, path, *, numeric: dict, activation: str, init: str,
                seeds: Sequence[int], wall_time_s: float) -> Path:
    """Write the runs of one (setting, seed block) with their provenance.

    Checks that `df` holds exactly the runs `seeds` of the setting, in order.
    """
    seeds = [int(s) for s in seeds]
    if list(df["seed"]) != seeds:
        raise ValueError(f"shard {path}: rows hold seeds {list(df['seed'])[:5]}..., expected {seeds[:5]}...")
    if set(df["activation"]) != {activation} or set(df["init"]) != {init}:
        raise ValueError(f"shard {path}: rows are not all of setting {activation}_{init}")
    metadata = provenance(
        kind="shard",
        activation=activation,
        init=init,
        first_seed=seeds[0],
        last_seed=seeds[-1],
        n_runs=len(seeds),
        numeric_config=numeric,
        config_hash=config_hash(numeric),
        wall_time_s=float(wall_time_s),
    )
    return write_parquet(df, path, metadata)


def concat_shards(paths: Iterable, expected_hash: str | None = None) -> pd.DataFrame:
    """Concatenate shards in the given order into one runs table.

    With `expected_hash`, every shard must have been computed with that numeric config
    (its metadata 'config_hash'); a stale shard raises ValueError naming the file.
    Raises ValueError too if a (activation, init, seed) occurs twice.
    """
    frames = []
    for path in paths:
        if expected_hash is not None:
            found = read_metadata(path).get("config_hash")
            if found != expected_hash:
                raise ValueError(
                    f"shard {path} was computed with numeric config {found}, not the current "
                    f"{expected_hash}; delete it (or run snakemake with --forcerun simulate)"
                )
        frames.append(read_parquet(path))
    if not frames:
        raise ValueError("concat_shards needs at least one shard")
    runs = pd.concat(frames, ignore_index=True)
    dup = runs.duplicated(list(ID_COLUMNS))
    if dup.any():
        first = runs.loc[dup, list(ID_COLUMNS)].iloc[0].tolist()
        raise ValueError(f"run {first} occurs in more than one shard")
    return runs


# ----------------------------------------------------------------------------------
# Long tables.

def _n_params(runs: pd.DataFrame) -> int:
    P = 0
    while f"le_{P + 1}" in runs.columns:
        P += 1
    if P == 0:
        raise ValueError("the runs table has no le_1 column")
    return P


def _block(runs: pd.DataFrame, keys: dict[str, np.ndarray], values: dict[str, list[str]]) -> pd.DataFrame:
    """Stack runs x K items: `keys` holds K labels per key column, `values` K column names
    of `runs` per value column; rows run-major (all items of run 0, then run 1, ...)."""
    n, K = len(runs), len(next(iter(values.values())))
    out = {col: np.repeat(runs[col].to_numpy(), K) for col in ID_COLUMNS}
    for name, labels in keys.items():
        out[name] = np.tile(np.asarray(labels), n)
    for name, cols in values.items():
        out[name] = runs[cols].to_numpy(dtype=np.float64).reshape(-1)
    return pd.DataFrame(out)


def long_tables(runs: pd.DataFrame, checkpoints: Sequence[int], dt: float, n_intervals: int) -> dict[str, pd.DataFrame]:
    """The runs table in long format: {'losses', 'lyapunov', 'ftle', 'angles'} (see module doc)."""
    P = _n_params(runs)
    ck = [int(c) for c in checkpoints]
    labels = checkpoint_labels(ck, dt)
    t_of = {c: c * float(dt) for c in ck + [int(n_intervals)]}
    pairs = [(i, j) for i in range(1, P + 1) for j in range(i + 1, P + 1)]
    missing = [f"loss_t{lab}" for lab in labels if f"loss_t{lab}" not in runs.columns]
    if missing:
        raise ValueError(f"the runs table lacks the checkpoint columns {missing}")

    losses = _block(
        runs,
        {"interval": np.array(ck + [int(n_intervals)], dtype=np.int64)},
        {"loss": [f"loss_t{lab}" for lab in labels] + ["final_loss"]},
    )
    lyap = _block(runs, {"index": np.arange(1, P + 1, dtype=np.int64)}, {"le": [f"le_{q}" for q in range(1, P + 1)]})
    ftle = _block(
        runs,
        {"interval": np.repeat(np.array(ck, dtype=np.int64), P), "index": np.tile(np.arange(1, P + 1, dtype=np.int64), len(ck))},
        {
            "ftle_local": [f"ftle_local_{q}_t{lab}" for lab in labels for q in range(1, P + 1)],
            "ftle_cum": [f"ftle_cum_{q}_t{lab}" for lab in labels for q in range(1, P + 1)],
        },
    )
    angle_parts = []
    for estimate, points in (("past", ck), ("ginelli", ck)):
        for c, lab in zip(points, labels):
            angle_parts.append(((estimate, c), [f"cos_{estimate}_{i}_{j}_t{lab}" for i, j in pairs]))
    angle_parts.append((("past", int(n_intervals)), [f"cos_end_{i}_{j}" for i, j in pairs]))
    angles = _block(
        runs,
        {
            "estimate": np.repeat([est for (est, _), _ in angle_parts], len(pairs)),
            "interval": np.repeat(np.array([c for (_, c), _ in angle_parts], dtype=np.int64), len(pairs)),
            "i": np.tile(np.array([i for i, _ in pairs], dtype=np.int64), len(angle_parts)),
            "j": np.tile(np.array([j for _, j in pairs], dtype=np.int64), len(angle_parts)),
        },
        {"abs_cos": [col for _, cols in angle_parts for col in cols]},
    )
    for table in (losses, ftle, angles):
        table.insert(table.columns.get_loc("interval") + 1, "t", table["interval"].map(t_of).astype(np.float64))
    return {"losses": losses, "lyapunov": lyap, "ftle": ftle, "angles": angles}


# ----------------------------------------------------------------------------------
# Per-setting summary.

def setting_summary(runs: pd.DataFrame, low_loss: float, high_loss: float, le_tolerance: float) -> pd.DataFrame:
    """Summary statistics of one setting's runs as a (quantity, value) table.

    Shares are fractions of the runs that did not diverge. 'positive' exponents are
    counted raw (> 0) and with a tolerance (> le_tolerance), since the exponents of dead
    units are zero up to rounding.
    """
    ok = runs.loc[~runs["diverged"].astype(bool)]
    n_ok = len(ok)
    P = _n_params(runs)
    final = ok["final_loss"].to_numpy(dtype=np.float64)
    le = ok[[f"le_{q}" for q in range(1, P + 1)]].to_numpy(dtype=np.float64)
    lead = le[:, : min(3, P)]

    def share(mask) -> float:
        return float(np.count_nonzero(mask)) / n_ok if n_ok else float("nan")

    def quantile(q) -> float:
        return float(np.quantile(final, q)) if n_ok else float("nan")

    rows: list[tuple[str, object]] = [
        ("runs", int(len(runs))),
        ("diverged", int(len(runs) - n_ok)),
        ("final_loss_min", quantile(0.0)),
        ("final_loss_q05", quantile(0.05)),
        ("final_loss_q25", quantile(0.25)),
        ("final_loss_median", quantile(0.5)),
        ("final_loss_q75", quantile(0.75)),
        ("final_loss_q95", quantile(0.95)),
        ("final_loss_max", quantile(1.0)),
        ("low_loss_threshold", float(low_loss)),
        ("low_loss_share", share(final < low_loss)),
        ("high_loss_threshold", float(high_loss)),
        ("high_loss_share", share(final > high_loss)),
        ("le_tolerance", float(le_tolerance)),
        ("le1_positive_share", share(le[:, 0] > 0)),
        ("le1_positive_share_tol", share(le[:, 0] > le_tolerance)),
        ("three_leading_positive_share", share(np.all(lead > 0, axis=1))),
        ("three_leading_positive_share_tol", share(np.all(lead > le_tolerance, axis=1))),
    ]
    rows += [(f"le_{q}_mean", float(le[:, q - 1].mean()) if n_ok else float("nan")) for q in range(1, P + 1)]
    if "mean_cos_end" in ok.columns:
        m = ok["mean_cos_end"].to_numpy(dtype=np.float64)
        rows += [("mean_cos_end_mean", float(m.mean()) if n_ok else float("nan")),
                 ("mean_cos_end_median", float(np.median(m)) if n_ok else float("nan"))]
    return pd.DataFrame({"quantity": [q for q, _ in rows], "value": pd.Series([v for _, v in rows], dtype=object)})
