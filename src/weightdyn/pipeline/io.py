"""Files of the pipeline: atomic writes with provenance, shards, figures.

Every file is written to a temporary file in its destination directory and moved into
place with `os.replace`, so a reader (or a resumed pipeline) sees either the complete
old file, the complete new one, or none; never a truncated one.

Provenance lives in the Parquet key-value metadata under the key ``weightdyn`` as JSON:
the numeric config and its hash, the package version, the wall time and, for shards,
the setting and seed range. Read it with `read_metadata`, or with
``pyarrow.parquet.read_schema(path).metadata[b"weightdyn"]``.

The tables themselves (runs, losses, lyapunov, ftle, angles) are described in
`weightdyn.analysis.tables`.
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

from ..engine.columns import ID_COLUMNS, setting_name

METADATA_KEY = b"weightdyn"


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


def source_hash(root: Path | str | None = None) -> str:
    """Digest of the library's source files: tells shards of different code apart even at
    the same package version (16 hex of SHA-256 over the paths relative to `root`, the
    weightdyn package by default, and the bytes of every *.py under it, subpackages
    included)."""
    root = Path(root) if root is not None else Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for name in sorted(path.relative_to(root).as_posix() for path in root.rglob("*.py")):
        digest.update(name.encode() + b"\0" + (root / name).read_bytes() + b"\0")
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


def save_figure(fig, stem, dpi: int) -> list[Path]:
    """Write the matplotlib Figure `fig` to stem.png and stem.pdf atomically; returns the
    two paths. The figures lay themselves out (constrained layout, or a fixed grid), so
    they are written as they are, without a second 'tight' cropping pass."""
    stem = Path(stem)
    paths = []
    for ext in ("png", "pdf"):
        path = stem.with_suffix(f".{ext}")
        atomic_write(path, lambda tmp, ext=ext: fig.savefig(tmp, format=ext, dpi=dpi))
        paths.append(path)
    return paths


def read_metadata(path) -> dict:
    """The 'weightdyn' metadata of a Parquet file ({} if it has none)."""
    meta = pq.read_schema(path).metadata or {}
    raw = meta.get(METADATA_KEY)
    return json.loads(raw) if raw else {}


def read_parquet(path) -> pd.DataFrame:
    """A Parquet file as a DataFrame, read on the calling thread: through Arrow's thread pool
    pinned to one thread (OMP_NUM_THREADS=1, as in every rule), a wide table grows memory by
    the column (a runs table of 2 runs and 89,464 columns, P = 97, took more than 14 GB;
    read on the calling thread, 1.3 GB)."""
    return pq.read_table(path, use_threads=False).to_pandas()


# ----------------------------------------------------------------------------------
# Shards.

def write_shard(df: pd.DataFrame, path, *, numeric: dict, activation: str, init: str,
                seeds: Sequence[int], wall_time_s: float, data_sha256: str) -> Path:
    """Write the runs of one (setting, seed block) with their provenance, the SHA-256 of
    the data set's values (`model.tasks.data_digest`) among it.

    Checks that `df` holds exactly the runs `seeds` of the setting, in order (a runs
    shard), or that order repeated once per window (a CLV window shard).
    """
    seeds = [int(s) for s in seeds]
    repeats = max(1, len(df) // len(seeds))
    if list(df["seed"]) != seeds * repeats:
        raise ValueError(f"shard {path}: rows hold seeds {list(df['seed'])[:5]}..., expected {seeds[:5]}...")
    if set(df["activation"]) != {activation} or set(df["init"]) != {init}:
        raise ValueError(f"shard {path}: rows are not all of setting {setting_name(activation, init)}")
    metadata = provenance(
        kind="shard",
        activation=activation,
        init=init,
        first_seed=seeds[0],
        last_seed=seeds[-1],
        n_runs=len(seeds),
        numeric_config=numeric,
        config_hash=config_hash(numeric),
        data_sha256=data_sha256,
        wall_time_s=float(wall_time_s),
    )
    return write_parquet(df, path, metadata)


def concat_shards(paths: Iterable, expected_hash: str | None = None, key: Sequence[str] = ID_COLUMNS) -> pd.DataFrame:
    """Concatenate shards in the given order into one table.

    With `expected_hash`, every shard must have been computed with that numeric config
    (its metadata 'config_hash'); a stale shard raises ValueError naming the file.
    Raises ValueError too if a row's `key` (default: activation, init, seed) occurs twice.
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
    dup = runs.duplicated(list(key))
    if dup.any():
        first = runs.loc[dup, list(key)].iloc[0].tolist()
        raise ValueError(f"run {first} occurs in more than one shard")
    return runs
