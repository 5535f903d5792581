"""The engine: many training runs advanced together with their tangent dynamics, and the
Lyapunov quantities measured on them."""
from .config import EngineConfig, checkpoint_labels
from .ensemble import Ensemble, EnsembleResult, integrate, simulate, simulate_runs, task_data, task_of
