"""The pipeline config: the default experiment (config.yaml) with overlays on top.

`load_config(*overlays)` reads config.yaml, the one home of every default, and merges
each overlay (a preset file or a dict) into it: nested sections merge key by key,
anything else (numbers, strings, lists) is replaced.
"""
from __future__ import annotations

import copy
from pathlib import Path

import yaml

DEFAULTS = Path(__file__).resolve().parents[3] / "config.yaml"
NUMERIC_SECTIONS = ("data", "network", "init", "training", "lyapunov")


def deep_merge(base: dict, overlay: dict) -> dict:
    """A new dict: `base` with `overlay` merged in (dicts recursively, other values replaced)."""
    out = copy.deepcopy(base)
    for key, value in overlay.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def load_config(*overlays, base: Path | str = DEFAULTS) -> dict:
    """config.yaml (or `base`) with the overlays (paths of YAML files, or dicts) merged in order."""
    cfg = yaml.safe_load(Path(base).read_text())
    for overlay in overlays:
        if not isinstance(overlay, dict):
            overlay = yaml.safe_load(Path(overlay).read_text()) or {}
        cfg = deep_merge(cfg, overlay)
    return cfg


def numeric_config(cfg: dict) -> dict:
    """The part of the config that determines a shard's content (besides setting and seeds)."""
    return {key: cfg[key] for key in NUMERIC_SECTIONS}
