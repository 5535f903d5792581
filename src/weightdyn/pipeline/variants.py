"""Variants: named partial overrides of the config, each a complete result set.

A config's section `variants: {name: overrides}` names variants of it; a variant's config
is the config (without its variants) with the overrides merged in (`config.variant_config`).
Every config of a run has a root directory, where the same rules write the same files:

    results                       the config itself
    results/variants/<name>       each variant

Shards are reused wherever they can be: a root reads the shards of the first root (the
config's own first, then the variants in their order) whose numeric config equals its
own, so variants that differ only in what the analysis reads share one set of shards.
"""
from __future__ import annotations

import re

from ..pipeline.io import config_hash
from .config import numeric_config, variant_config

MAIN_ROOT = "results"
VARIANTS_ROOT = "results/variants"
NAME = re.compile(r"[a-z][a-z0-9_]*")


def variant_root(name: str) -> str:
    return f"{VARIANTS_ROOT}/{name}"


def root_configs(cfg: dict) -> dict[str, dict]:
    """Every root of a config with its config: MAIN_ROOT first, then the variants in order."""
    return {MAIN_ROOT: cfg, **{variant_root(name): variant_config(cfg, name) for name in cfg.get("variants", {})}}


def shard_roots(configs: dict[str, dict]) -> dict[str, str]:
    """The root whose shards each root reads: the first with an equal numeric config."""
    first = {}
    for root, cfg in configs.items():
        first.setdefault(config_hash(numeric_config(cfg)), root)
    return {root: first[config_hash(numeric_config(cfg))] for root, cfg in configs.items()}


def length_pairs(configs: dict[str, dict]) -> list[tuple[str, str]]:
    """(shorter, longer) pairs of roots whose numeric configs differ in the training length
    alone: the same runs trained for two lengths, in the order of `configs`."""
    def without_length(cfg):
        numeric = numeric_config(cfg)
        return config_hash({**numeric, "training": {k: v for k, v in numeric["training"].items() if k != "n_intervals"}})

    roots = list(configs)
    pairs = []
    for i, a in enumerate(roots):
        for b in roots[i + 1:]:
            la, lb = (configs[r]["training"]["n_intervals"] for r in (a, b))
            if la != lb and without_length(configs[a]) == without_length(configs[b]):
                pairs.append((a, b) if la < lb else (b, a))
    return pairs


def job_config(smk) -> dict:
    """The config of a rule script's job: that of its root (the wildcard `root`)."""
    return root_configs(smk.config)[smk.wildcards.root]


def variant_name(root: str) -> str:
    """The variant of a root ('' for MAIN_ROOT)."""
    return "" if root == MAIN_ROOT else root.removeprefix(VARIANTS_ROOT + "/")
