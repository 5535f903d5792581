"""Settings of the prediction stage (`events` and `predict` of the pipeline config)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..engine import columns as col
from .binning import MAX_BINS
from .binning import STRATEGIES as BIN_STRATEGIES
from .events import check_kinds, thresholds

# predictor name prefix of each FTLE form (see analysis.predictors)
FTLE_FORMS = {form: f"ftle_{form}" for form in col.FTLE_FORMS}

EVENTS_KEYS = ("low_kind", "low_loss", "high_kind", "high_loss")
PREDICT_KEYS = ("inits", "high_activations", "ftle_form", "n_bins", "bin_strategy", "m_estimate", "test_size",
                "split_seed", "min_events", "min_positives", "select", "svm", "bootstrap")
SELECT_KEYS = ("folds", "seed")
SVM_KEYS = ("C", "gamma", "class_weight")
BOOTSTRAP_KEYS = ("n_boot", "n_boot_svm", "level", "seed")


def _section(parent: dict, name: str, keys: tuple[str, ...], where: str = "") -> dict:
    """parent[name], which must hold exactly `keys` (config.yaml is the home of defaults)."""
    path = f"{where}{name}"
    if name not in parent:
        raise KeyError(f"the config lacks the section {path!r}")
    section = parent[name]
    missing, unknown = sorted(set(keys) - set(section)), sorted(set(section) - set(keys))
    if missing or unknown:
        raise ValueError(f"{path}: missing keys {missing}, unknown keys {unknown} (config.yaml has every key)")
    return section


@dataclass(frozen=True)
class PredictConfig:
    """Settings of the prediction stage (`events` and `predict` of the pipeline config).

    low_loss and high_loss are the absolute thresholds on c_f that the analysis reads.
    Relative events (low_kind quantile, high_kind constant) leave them NaN until
    `resolve` sets them from the runs; low_level and high_level keep the configured
    numbers (`analysis.events.thresholds`).
    """

    low_loss: float
    high_loss: float
    high_activations: tuple[str, ...]
    inits: tuple[str, ...]
    n_bins: int
    bin_strategy: str
    m_estimate: float
    test_size: float
    split_seed: int
    min_events: int
    min_positives: int
    cv_folds: int
    cv_seed: int
    svm_C: float
    svm_gamma: str | float
    svm_class_weight: str | None
    n_boot: int
    n_boot_svm: int
    ci_level: float
    boot_seed: int
    ftle_form: str
    clv_start: str = "identity"
    low_kind: str = "absolute"
    high_kind: str = "absolute"
    low_level: float = math.nan
    high_level: float = math.nan

    def __post_init__(self):
        object.__setattr__(self, "high_activations", tuple(self.high_activations))
        object.__setattr__(self, "inits", tuple(self.inits))
        check_kinds(self.low_kind, self.high_kind)
        for kind, name in ((self.low_kind, "low"), (self.high_kind, "high")):
            if kind == "absolute":  # the level is the threshold
                object.__setattr__(self, f"{name}_level", getattr(self, f"{name}_loss"))
        if self.low_kind == "quantile" and not 0.0 < self.low_level < 1.0:
            raise ValueError(f"events.low_loss is a quantile under low_kind quantile: it must lie in (0, 1), "
                             f"got {self.low_level}")
        if self.high_kind == "constant" and not self.high_level > 0.0:
            raise ValueError(f"events.high_loss is a multiple of the constant predictor's cost under high_kind "
                             f"constant: it must be positive, got {self.high_level}")
        if self.absolute and not self.low_loss < self.high_loss:
            raise ValueError(f"events: low_loss {self.low_loss} must be below high_loss {self.high_loss}")
        if not 2 <= self.n_bins <= MAX_BINS:
            raise ValueError(f"predict.n_bins must lie in [2, {MAX_BINS}], got {self.n_bins}")
        if self.bin_strategy not in BIN_STRATEGIES:
            raise ValueError(f"predict.bin_strategy must be one of {BIN_STRATEGIES}, got {self.bin_strategy!r}")
        if not 0.0 < self.test_size < 1.0:
            raise ValueError(f"predict.test_size must lie in (0, 1), got {self.test_size}")
        if self.min_events < 1:
            raise ValueError(f"predict.min_events must be at least 1, got {self.min_events}")
        if self.m_estimate < 0:
            raise ValueError(f"predict.m_estimate must be non-negative, got {self.m_estimate}")
        if self.min_positives < 1:
            raise ValueError(f"predict.min_positives must be at least 1, got {self.min_positives}")
        if self.cv_folds < 2:
            raise ValueError(f"predict.select.folds must be at least 2, got {self.cv_folds}")
        if self.n_boot < 0:
            raise ValueError(f"predict.bootstrap.n_boot must be non-negative, got {self.n_boot}")
        if self.n_boot_svm < 0:
            raise ValueError(f"predict.bootstrap.n_boot_svm must be non-negative, got {self.n_boot_svm}")
        if not 0.0 < self.ci_level < 1.0:
            raise ValueError(f"predict.bootstrap.level must lie in (0, 1), got {self.ci_level}")
        if self.ftle_form not in FTLE_FORMS:
            raise ValueError(f"predict.ftle_form must be one of {sorted(FTLE_FORMS)}, got {self.ftle_form!r}")
        if self.clv_start not in col.CLV_STARTS:
            raise ValueError(f"lyapunov.clv_start must be one of {list(col.CLV_STARTS)}, got {self.clv_start!r}")

    @classmethod
    def from_config(cls, cfg: dict) -> "PredictConfig":
        """From a pipeline config: thresholds from `events`, the CLV start the analysis reads
        from `lyapunov.clv_start`, the rest from `predict`.

        Every key must be present (and no other): the defaults live in config.yaml only.
        """
        ev = _section(cfg, "events", EVENTS_KEYS)
        pr = _section(cfg, "predict", PREDICT_KEYS)
        svm = _section(pr, "svm", SVM_KEYS, "predict.")
        boot = _section(pr, "bootstrap", BOOTSTRAP_KEYS, "predict.")
        select = _section(pr, "select", SELECT_KEYS, "predict.")
        gamma = svm["gamma"]
        if isinstance(gamma, str) and gamma not in ("scale", "auto"):
            gamma = float(gamma)  # a number that YAML 1.1 read as text, e.g. 1e-3
        low_kind, high_kind = str(ev["low_kind"]), str(ev["high_kind"])
        return cls(
            low_loss=float(ev["low_loss"]) if low_kind == "absolute" else math.nan,
            high_loss=float(ev["high_loss"]) if high_kind == "absolute" else math.nan,
            low_kind=low_kind,
            high_kind=high_kind,
            low_level=float(ev["low_loss"]),
            high_level=float(ev["high_loss"]),
            high_activations=tuple(pr["high_activations"]),
            inits=tuple(pr["inits"]),
            n_bins=int(pr["n_bins"]),
            bin_strategy=str(pr["bin_strategy"]),
            m_estimate=float(pr["m_estimate"]),
            test_size=float(pr["test_size"]),
            split_seed=int(pr["split_seed"]),
            min_events=int(pr["min_events"]),
            min_positives=int(pr["min_positives"]),
            cv_folds=int(select["folds"]),
            cv_seed=int(select["seed"]),
            svm_C=float(svm["C"]),
            svm_gamma=gamma if isinstance(gamma, str) else float(gamma),
            svm_class_weight=svm["class_weight"],
            n_boot=int(boot["n_boot"]),
            n_boot_svm=int(boot["n_boot_svm"]),
            ci_level=float(boot["level"]),
            boot_seed=int(boot["seed"]),
            ftle_form=str(pr["ftle_form"]),
            clv_start=str(cfg["lyapunov"]["clv_start"]),
        )

    @property
    def absolute(self) -> bool:
        """Both event thresholds are absolute numbers (the paper's kind)."""
        return self.low_kind == "absolute" and self.high_kind == "absolute"

    def resolve(self, runs) -> "PredictConfig":
        """This config with its event thresholds made absolute from `runs`, the whole runs
        table of the config (`analysis.events.thresholds`); absolute ones stay."""
        low, high = thresholds(runs, self.inits, self.low_kind, self.low_level, self.high_kind, self.high_level)
        return replace(self, low_loss=low, high_loss=high)

    @property
    def n_boot_refit_svm(self) -> int:
        """The resamples that also refit the SVM: the first n_boot_svm of the n_boot."""
        return min(self.n_boot_svm, self.n_boot)

    def events_for(self, activation: str) -> list[str]:
        """The events predicted for an activation: low always, high where configured."""
        return ["low", "high"] if activation in self.high_activations else ["low"]
