"""weightdyn: training of small neural networks as a dynamical system.

The public entry points:

- `flow(theta, X, y, shape, activation)` and `flow_jacobian(...)`: the batch-averaged
  weight flow of Eqs. (3)-(6) and its analytic Jacobian, Eqs. (8)-(23), in the paper's
  state layout; `numeric_flow_jacobian(...)` is the finite-difference version.
- `batch_indices(batch_seed, start_step, n_steps, n_samples, batch_size)`: the batch
  schedule, a pure function, so any run can be replayed outside the project.
- `make_task`, `initial_state`: the data set of a task (the paper's, Friedman #1, the
  diabetes data, a file) and initial states from their seeds.
- `EngineConfig`, `integrate`, `simulate_runs`: the ensemble integrator (Lyapunov
  exponents, FTLEs, CLV angles, losses) for many runs at once.
- `lyapunov`: Benettin, Ginelli and past-only CLVs for any map with a tangent (the loop
  over a stepper; `lyapunov.history.lyapunov_spectrum` and the CLVs over a whole run).
"""
from importlib import import_module

__version__ = "0.1.0"

# Public name -> module that defines it. They load on first use (PEP 562), so that
# `import weightdyn.<subpackage>` does not import NumPy: a rule script sets its BLAS
# thread count (weightdyn.pipeline.rules) before NumPy loads.
_EXPORTS = {
    "lyapunov": ".lyapunov",
    "EngineConfig": ".engine", "integrate": ".engine", "simulate_runs": ".engine",
    "Shape": ".model.layout", "pack": ".model.layout", "unpack": ".model.layout",
    "flow": ".model.flow", "flow_jacobian": ".model.flow", "numeric_flow_jacobian": ".model.flow",
    "batch_indices": ".model.streams", "initial_state": ".model.streams", "make_task": ".model.tasks",
}

__all__ = [*sorted(_EXPORTS), "__version__"]


def __getattr__(name: str):
    if name not in _EXPORTS:
        raise AttributeError(f"module 'weightdyn' has no attribute {name!r}")
    module = import_module(_EXPORTS[name], __name__)
    value = module if name == "lyapunov" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_EXPORTS})
