"""Numeric settings of a simulation: the `training`, `lyapunov` and `network` parts of
a pipeline config, checked once, and the checkpoint labels t = intervals x dt."""
from __future__ import annotations

from dataclasses import dataclass

from ..lyapunov import checkpoints_outside
from ..model.activations import ACTIVATIONS
from ..model.flow import BATCH_GRADIENTS, JACOBIANS
from ..model.layout import Shape
from ..model.streams import BATCH_MODES, BATCH_SAMPLINGS


def checkpoint_labels(checkpoints, dt: float) -> list[str]:
    """The t label of each checkpoint: intervals x dt with 6 significant digits, the paper's
    convention (500 intervals at dt = 3e-5 -> '0.015')."""
    return [f"{int(c) * float(dt):g}" for c in checkpoints]


@dataclass(frozen=True)
class EngineConfig:
    """Numeric settings of a simulation (the `training`, `lyapunov` and `network` parts
    of the pipeline config). The field defaults, for library use, are the paper's setting
    as config.yaml states it (tests/test_config.py keeps the two equal)."""

    shape: Shape = Shape(2, 2, 1)
    activation: str = "relu"
    dt: float = 3e-5
    batch_size: int = 32
    steps_per_interval: int = 20
    n_intervals: int = 36667
    clv_window: int = 10
    clv_window_end: int = 3000
    clv_window_grid: tuple[int, ...] = (10, 30, 100, 300, 1000, 3000)
    checkpoints: tuple[int, ...] = (500, 1000, 2000, 3000)
    batch_mode: str = "shared"
    batch_sampling: str = "epochs"
    batch_gradient: str = "mean"
    batch_seed: int = 0
    jacobian: str = "analytic"
    jacobian_step: float = 6e-6
    divergence_threshold: float = 1e6

    def __post_init__(self):
        object.__setattr__(self, "shape", Shape.of(self.shape))
        object.__setattr__(self, "checkpoints", tuple(int(c) for c in self.checkpoints))
        object.__setattr__(self, "clv_window_grid", tuple(int(w) for w in self.clv_window_grid))
        if self.activation not in ACTIVATIONS:
            raise ValueError(f"settings.activations: unknown activation {self.activation!r}; "
                             f"choose one of {sorted(ACTIVATIONS)}")
        if self.batch_mode not in BATCH_MODES:
            raise ValueError(f"training.batch_mode must be one of {BATCH_MODES}, got {self.batch_mode!r}")
        for field, choices in (("batch_sampling", BATCH_SAMPLINGS), ("batch_gradient", BATCH_GRADIENTS),
                               ("jacobian", JACOBIANS)):
            if getattr(self, field) not in choices:
                raise ValueError(f"training.{field} must be one of {choices}, got {getattr(self, field)!r}")
        if not 0 < self.jacobian_step < 1:
            raise ValueError(f"training.jacobian_step must lie in (0, 1), got {self.jacobian_step}")
        if not self.dt > 0:
            raise ValueError(f"training.dt must be positive, got {self.dt}")
        for field in ("training.batch_size", "training.steps_per_interval", "training.n_intervals",
                      "lyapunov.clv_window", "lyapunov.clv_window_end"):
            value = getattr(self, field.rpartition(".")[2])
            if value < 1:
                raise ValueError(f"{field} must be a positive integer, got {value}")
        if not self.divergence_threshold > 0:
            raise ValueError("training.divergence_threshold must be positive")
        W, M = self.clv_window, self.n_intervals
        outside = checkpoints_outside(self.checkpoints, M, W)
        if outside:
            raise ValueError(
                f"lyapunov.checkpoints: {outside} must lie in [clv_window, n_intervals - clv_window] = [{W}, {M - W}] "
                "(the past-only CLVs need W intervals before a checkpoint, Ginelli's W after it)"
            )
        if list(self.checkpoints) != sorted(set(self.checkpoints)):
            raise ValueError("lyapunov.checkpoints must be strictly increasing")
        if len(set(self.labels())) != len(self.checkpoints):
            raise ValueError(f"lyapunov.checkpoints: two checkpoints share a t label ({self.labels()}); "
                             "labels are intervals x dt with 6 significant digits")
        if M < max(W, self.clv_window_end):
            raise ValueError(f"training.n_intervals ({M}) must be at least lyapunov.clv_window ({W}) "
                             f"and lyapunov.clv_window_end ({self.clv_window_end})")
        grid = self.clv_window_grid
        if list(grid) != sorted(set(grid)) or not grid or not 1 <= grid[0] <= grid[-1] <= self.clv_window_end:
            raise ValueError(f"lyapunov.clv_window_grid: {list(grid)} must be strictly increasing within "
                             f"[1, clv_window_end = {self.clv_window_end}]")
        if W not in grid:
            raise ValueError(f"lyapunov.clv_window_grid: {list(grid)} must hold the checkpoint window clv_window = {W} "
                             "(the paper's reading of the angles is compared between the starts at that window)")

    @property
    def tau(self) -> float:
        """d tau = k dt, the orthogonalization interval in time units."""
        return self.steps_per_interval * self.dt

    @property
    def step_size(self) -> float:
        """The step of the training map, theta <- theta + step_size f with f minus the gradient
        of the batch-mean cost: dt, or dt B when the batch gradient is summed over the
        batch. Time (t = steps x dt, d tau, the exponents) stays in units of dt."""
        return self.dt * (self.batch_size if self.batch_gradient == "sum" else 1)

    @property
    def end_windows(self) -> tuple[int, ...]:
        """The windows of the CLVs at the end of training: the checkpoint window, the end
        window and the convergence grid, each once, ascending."""
        return tuple(sorted({self.clv_window, self.clv_window_end, *self.clv_window_grid}))

    @property
    def n_steps(self) -> int:
        return self.n_intervals * self.steps_per_interval

    def labels(self) -> list[str]:
        """The paper's t labels of the checkpoints: intervals x dt (500 -> '0.015')."""
        return checkpoint_labels(self.checkpoints, self.dt)

    @classmethod
    def from_config(cls, cfg: dict, activation: str) -> "EngineConfig":
        tr, lyap = cfg["training"], cfg["lyapunov"]
        return cls(
            shape=Shape.of(cfg["network"]["shape"]),
            activation=activation,
            dt=float(tr["dt"]),
            batch_size=int(tr["batch_size"]),
            steps_per_interval=int(tr["steps_per_interval"]),
            n_intervals=int(tr["n_intervals"]),
            clv_window=int(lyap["clv_window"]),
            clv_window_end=int(lyap["clv_window_end"]),
            clv_window_grid=tuple(lyap["clv_window_grid"]),
            checkpoints=tuple(lyap["checkpoints"]),
            batch_mode=tr["batch_mode"],
            batch_sampling=tr["batch_sampling"],
            batch_gradient=tr["batch_gradient"],
            batch_seed=int(tr["batch_seed"]),
            jacobian=tr["jacobian"],
            jacobian_step=float(tr["jacobian_step"]),
            divergence_threshold=float(tr["divergence_threshold"]),
        )
