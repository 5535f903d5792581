"""weightdyn: training of small neural networks as a dynamical system.

The public entry points:

- `flow(theta, X, y, shape, activation)` and `flow_jacobian(...)`: the batch-averaged
  weight flow of Eqs. (3)-(6) and its analytic Jacobian, Eqs. (8)-(23), in the paper's
  state layout; `numeric_flow_jacobian(...)` is the finite-difference version.
- `batch_indices(batch_seed, start_step, n_steps, n_samples, batch_size)`: the batch
  schedule, a pure function, so any run can be replayed outside the project.
- `make_task`, `initial_state`: the data set and initial states from their seeds.
- `EngineConfig`, `integrate`, `simulate_runs`: the ensemble integrator (Lyapunov
  exponents, FTLEs, CLV angles, losses) for many runs at once.
- `lyapunov`: Benettin, Ginelli and past-only CLVs for any map with a tangent.
"""
from . import lyapunov
from .engine import EngineConfig, integrate, simulate_runs
from .model import Shape, batch_indices, flow, flow_jacobian, initial_state, make_task, numeric_flow_jacobian, pack, unpack

__version__ = "0.1.0"

__all__ = [
    "EngineConfig", "Shape", "batch_indices", "flow", "flow_jacobian", "initial_state", "integrate", "lyapunov",
    "make_task", "numeric_flow_jacobian", "pack", "simulate_runs", "unpack", "__version__",
]
