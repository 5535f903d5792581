"""Settings of the prediction stage (`events` and `predict` of the pipeline config)."""
from __future__ import annotations

from dataclasses import dataclass, fields

FTLE_FORMS = {"local": "ftle_local", "cum": "ftle_cum"}


@dataclass(frozen=True)
class PredictConfig:
    """Settings of the prediction stage (`events` and `predict` of the pipeline config)."""

    low_loss: float = 4.0
    high_loss: float = 100.0
    high_activations: tuple[str, ...] = ("relu",)
    inits: tuple[str, ...] = ("he",)
    n_bins: int = 10
    bin_strategy: str = "quantile"
    alpha: float = 1.0
    test_size: float = 0.5
    split_seed: int = 0
    min_events: int = 3
    svm_C: float = 1.0
    svm_gamma: str | float = "scale"
    svm_class_weight: str | None = "balanced"
    n_boot: int = 200
    ci_level: float = 0.95
    boot_seed: int = 0
    ftle_form: str = "local"

    def __post_init__(self):
        object.__setattr__(self, "high_activations", tuple(self.high_activations))
        object.__setattr__(self, "inits", tuple(self.inits))
        if not self.low_loss < self.high_loss:
            raise ValueError(f"events: low_loss {self.low_loss} must be below high_loss {self.high_loss}")
        if self.n_bins < 2:
            raise ValueError(f"predict.n_bins must be at least 2, got {self.n_bins}")
        if self.bin_strategy not in ("quantile", "uniform", "kmeans"):
            raise ValueError(f"predict.bin_strategy must be quantile, uniform or kmeans, got {self.bin_strategy!r}")
        if not 0.0 < self.test_size < 1.0:
            raise ValueError(f"predict.test_size must lie in (0, 1), got {self.test_size}")
        if self.min_events < 1:
            raise ValueError(f"predict.min_events must be at least 1, got {self.min_events}")
        if self.n_boot < 0:
            raise ValueError(f"predict.bootstrap.n_boot must be non-negative, got {self.n_boot}")
        if not 0.0 < self.ci_level < 1.0:
            raise ValueError(f"predict.bootstrap.level must lie in (0, 1), got {self.ci_level}")
        if self.ftle_form not in FTLE_FORMS:
            raise ValueError(f"predict.ftle_form must be one of {sorted(FTLE_FORMS)}, got {self.ftle_form!r}")

    @classmethod
    def from_config(cls, cfg: dict) -> "PredictConfig":
        """From a pipeline config: thresholds from `events`, the rest from `predict`."""
        ev, pr = cfg.get("events", {}), cfg.get("predict", {})
        svm, boot = pr.get("svm", {}), pr.get("bootstrap", {})
        d = {f.name: f.default for f in fields(cls)}
        gamma = svm.get("gamma", d["svm_gamma"])
        if isinstance(gamma, str) and gamma not in ("scale", "auto"):
            gamma = float(gamma)  # a number that YAML 1.1 read as text, e.g. 1e-3
        return cls(
            low_loss=float(ev.get("low_loss", d["low_loss"])),
            high_loss=float(ev.get("high_loss", d["high_loss"])),
            high_activations=tuple(pr.get("high_activations", d["high_activations"])),
            inits=tuple(pr.get("inits", d["inits"])),
            n_bins=int(pr.get("n_bins", d["n_bins"])),
            bin_strategy=str(pr.get("bin_strategy", d["bin_strategy"])),
            alpha=float(pr.get("alpha", d["alpha"])),
            test_size=float(pr.get("test_size", d["test_size"])),
            split_seed=int(pr.get("split_seed", d["split_seed"])),
            min_events=int(pr.get("min_events", d["min_events"])),
            svm_C=float(svm.get("C", d["svm_C"])),
            svm_gamma=gamma if isinstance(gamma, str) else float(gamma),
            svm_class_weight=svm.get("class_weight", d["svm_class_weight"]),
            n_boot=int(boot.get("n_boot", d["n_boot"])),
            ci_level=float(boot.get("level", d["ci_level"])),
            boot_seed=int(boot.get("seed", d["boot_seed"])),
            ftle_form=str(pr.get("ftle_form", d["ftle_form"])),
        )

    def events_for(self, activation: str) -> list[str]:
        """The events predicted for an activation: low always, high where configured."""
        return ["low", "high"] if activation in self.high_activations else ["low"]
