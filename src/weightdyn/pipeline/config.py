"""The pipeline config."""
from __future__ import annotations

NUMERIC_SECTIONS = ("data", "network", "init", "training", "lyapunov")


def numeric_config(cfg: dict) -> dict:
    """The part of the config that determines a shard's content (besides setting and seeds)."""
    return {key: cfg[key] for key in NUMERIC_SECTIONS}
