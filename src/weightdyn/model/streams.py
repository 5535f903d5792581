"""Task data, initial states and the mini-batch schedule: everything a run draws at random.

Every random draw is a pure function of a seed, so that any run can be replayed outside
the project from (data seed, run seed, batch seed) alone. Each use has its own stream:
numpy.random.default_rng([*seed, TAG]) with a non-zero tag as the last word (NumPy's
SeedSequence ignores trailing zeros, so [b, 0] would be the same stream as [b]):

    data set          default_rng([data_seed, DATA_STREAM])
    initial state     default_rng([run_seed, INIT_STREAM])
    batch order       default_rng([*batch_seed, epoch, BATCH_STREAM])
    CLV random start  default_rng([run_seed, CLV_STREAM])
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np

from ..lyapunov import random_upper_start
from .layout import Shape


DATA_STREAM, INIT_STREAM, BATCH_STREAM, CLV_STREAM = 0xDA7A, 0x5EED, 0xBA7C, 0xC1F5

TARGETS = {
    # The regression task of Sec. IV: y = 10 x1 - 2 x2^2.
    "paper": lambda X: 10.0 * X[:, 0] - 2.0 * X[:, 1] ** 2,
}


def check_task(n_samples: int, target: str, n_inputs: int, n_outputs: int) -> None:
    """Raise ValueError, naming the config field, if the data set (n_samples, target) cannot
    train a network with N1 = n_inputs inputs and N3 = n_outputs outputs."""
    if n_samples < 1:
        raise ValueError(f"data.n_samples: must be positive, got {n_samples}")
    if target not in TARGETS:
        raise ValueError(f"data.target: unknown target {target!r}; choose one of {sorted(TARGETS)}")
    if n_outputs != 1:
        raise ValueError(f"network.shape: data.target {target!r} has one output; the network has N3 = {n_outputs}")
    if target == "paper" and n_inputs < 2:
        raise ValueError(f"network.shape: the 'paper' target y = 10 x1 - 2 x2^2 needs N1 >= 2 inputs, got {n_inputs}")


def make_task(n_samples: int = 1000, seed: int = 0, target: str = "paper", n_inputs: int = 2,
              n_outputs: int = 1):
    """The regression data set: X (n, N1) with x ~ N(0, I), y (n, 1) = target(X)."""
    check_task(n_samples, target, n_inputs, n_outputs)
    X = np.random.default_rng([int(seed), DATA_STREAM]).standard_normal((n_samples, n_inputs))
    return X, TARGETS[target](X)[:, None]


# ----------------------------------------------------------------------------------
# Initialization.

INITS = ("he", "wide")
HE_BIASES = ("zero", "normal")  # biases under He init: zero, or drawn like their layer's weights


def initial_state(seeds, shape, init: str = "he", wide_scale: float = 20.0, he_biases: str = "zero") -> np.ndarray:
    """Initial states (R, P) for run seeds, in the paper's layout.

    'he': weights N(0, 2 / fan_in) (W21: fan_in = N1, W32: fan_in = N2); biases zero, or
    with he_biases='normal' drawn like the weights of their layer (b1: N(0, 2 / N1),
    b2: N(0, 2 / N2)).
    'wide': every weight and bias N(0, wide_scale^2).
    Both scale the same standard-normal draw of the run seed, so a run's He and wide
    initial states differ only in scale.
    """
    s = Shape.of(shape)
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    z = np.stack([np.random.default_rng([int(seed), INIT_STREAM]).standard_normal(s.P) for seed in seeds])
    if init == "he":
        scale = np.zeros(s.P)
        scale[: s.off_W32] = np.sqrt(2.0 / s.N1)
        scale[s.off_W32 : s.off_b1] = np.sqrt(2.0 / s.N2)
        if he_biases not in HE_BIASES:
            raise ValueError(f"init.he_biases must be one of {HE_BIASES}, got {he_biases!r}")
        if he_biases == "normal":
            scale[s.off_b1 : s.off_b2] = np.sqrt(2.0 / s.N1)
            scale[s.off_b2 :] = np.sqrt(2.0 / s.N2)
    elif init == "wide":
        if not wide_scale > 0:
            raise ValueError(f"init.wide_scale must be positive, got {wide_scale}")
        scale = np.full(s.P, float(wide_scale))
    else:
        raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
    return z * scale + 0.0  # + 0.0 turns the -0.0 of zero biases into 0.0


# ----------------------------------------------------------------------------------
# Batch schedule.

BATCH_MODES = ("shared", "per_run")


@lru_cache(maxsize=64)
def _epoch_permutation(seed: tuple, epoch: int, n_samples: int) -> np.ndarray:
    perm = np.random.default_rng([*seed, epoch, BATCH_STREAM]).permutation(n_samples)
    perm.setflags(write=False)
    return perm


def _seed_tuple(batch_seed) -> tuple:
    seed = tuple(int(s) for s in np.atleast_1d(batch_seed))
    if any(s < 0 for s in seed):
        raise ValueError(f"batch seeds must be non-negative, got {batch_seed!r}")
    return seed


def batch_indices(batch_seed, start_step: int, n_steps: int, n_samples: int, batch_size: int = 32) -> np.ndarray:
    """Sample indices of the batches of steps start_step .. start_step + n_steps - 1.

    The data are visited in epochs, each a fresh permutation drawn from
    default_rng([*batch_seed, epoch, BATCH_STREAM]); step n takes positions n*B .. n*B + B - 1 of the
    concatenated permutations, so batches wrap across epoch boundaries and an epoch is
    n_samples / B steps (31.25 for the paper). `batch_seed` is an int (the shared schedule)
    or a tuple of ints (per-run schedules use (batch_seed, run_seed)).
    Returns an int array (n_steps, batch_size).
    """
    if n_samples < 1 or batch_size < 1 or n_steps < 0 or start_step < 0:
        raise ValueError("batch_indices needs n_samples, batch_size >= 1 and start_step, n_steps >= 0")
    seed = _seed_tuple(batch_seed)
    pos = np.arange(start_step * batch_size, (start_step + n_steps) * batch_size, dtype=np.int64)
    epoch, offset = np.divmod(pos, n_samples)
    out = np.empty(pos.shape, dtype=np.int64)
    for e in np.unique(epoch):
        sel = epoch == e
        out[sel] = _epoch_permutation(seed, int(e), n_samples)[offset[sel]]
    return out.reshape(n_steps, batch_size)


# ----------------------------------------------------------------------------------
# The random start of the CLV backward iteration.

def clv_random_start(seeds, P: int) -> np.ndarray:
    """Ginelli et al.'s random upper-triangular start (R, P, P) for run seeds, one matrix per
    run, used at every backward iteration of that run (`lyapunov.random_upper_start`)."""
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    z = np.stack([np.random.default_rng([int(seed), CLV_STREAM]).standard_normal((P, P)) for seed in seeds])
    return random_upper_start(z)
