"""The random streams of a run: the task data's (drawn in model.tasks), the initial state,
the mini-batch schedule and the CLV random start.

Every random draw is a pure function of a seed, so that any run can be replayed outside
the project from (data seed, run seed, batch seed) alone. Each use has its own stream:
numpy.random.default_rng([*seed, TAG]) with a non-zero tag as the last word (NumPy's
SeedSequence ignores trailing zeros, so [b, 0] would be the same stream as [b]):

    data set          default_rng([data_seed, DATA_STREAM])  (the paper's task; Friedman #1
                      is scikit-learn's, from RandomState(data_seed))
    initial state     default_rng([run_seed, INIT_STREAM])
    batch order       default_rng([*batch_seed, block, BATCH_STREAM])
    CLV random start  default_rng([run_seed, CLV_STREAM])
"""
from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy.special import ndtr, ndtri

from ..lyapunov import random_upper_start
from .layout import Shape


DATA_STREAM, INIT_STREAM, BATCH_STREAM, CLV_STREAM = 0xDA7A, 0x5EED, 0xBA7C, 0xC1F5

# ----------------------------------------------------------------------------------
# Initialization.

INITS = ("he", "wide")
HE_SCALES = ("fan_in", "layer")  # N of sqrt(2/N): the layer the weights come from, or the one they feed into
HE_DISTRIBUTIONS = ("normal", "truncated", "uniform")
HE_BIASES = ("zero", "normal", "pytorch")
TRUNCATION = 2.0  # Keras' truncated normal: cut at 2 standard deviations of the underlying normal
# the std of a standard normal truncated to [-2, 2] (Keras' constant .87962566103423978)
TRUNCATED_STD = float(np.sqrt(1.0 - 2.0 * TRUNCATION * np.exp(-TRUNCATION**2 / 2.0) / np.sqrt(2.0 * np.pi)
                              / (ndtr(TRUNCATION) - ndtr(-TRUNCATION))))


def _check_choice(field: str, value: str, choices: tuple) -> None:
    if value not in choices:
        raise ValueError(f"{field} must be one of {choices}, got {value!r}")


def _with_std(z: np.ndarray, distribution: str) -> np.ndarray:
    """Unit-variance draws of `distribution`, each a monotone function of the standard-normal
    draw z: normal z; truncated (Keras' he_normal) the normal truncated to +-2 standard
    deviations by inversion, rescaled to unit variance; uniform U(-sqrt 3, sqrt 3)."""
    if distribution == "normal":
        return z
    if distribution == "truncated":
        lo, hi = ndtr(-TRUNCATION), ndtr(TRUNCATION)
        return ndtri(lo + ndtr(z) * (hi - lo)) / TRUNCATED_STD
    if distribution == "uniform":
        return np.sqrt(3.0) * (2.0 * ndtr(z) - 1.0)
    raise ValueError(f"init.he_distribution must be one of {HE_DISTRIBUTIONS}, got {distribution!r}")


def initial_state(seeds, shape, init: str = "he", wide_scale: float = 20.0, he_biases: str = "zero",
                  he_scale: str = "fan_in", he_distribution: str = "normal") -> np.ndarray:
    """Initial states (R, P) for run seeds, in the paper's layout.

    'he': weights with std sqrt(2 / N) (He et al.), where N is the fan-in (he_scale
    'fan_in': W21 N1, W32 N2) or, in a reading of the paper's "N being the number of
    neurons in the corresponding layer", the layer the weights feed into ('layer': W21
    N2, W32 N3); drawn normal, truncated normal (Keras' he_normal) or uniform
    (he_uniform, U(-sqrt(6/N), sqrt(6/N))). Biases: zero; 'normal', N(0, std^2) with the
    std of their layer's weights; or 'pytorch', PyTorch's default U(-1/sqrt(fan_in),
    1/sqrt(fan_in)) (b1: N1, b2: N2).
    'wide': every weight and bias N(0, wide_scale^2).
    Every convention is a monotone function of one standard-normal draw per parameter of
    the run seed, so a run keeps the signs and ranks of its draws across conventions, and
    its He and wide initial states differ only in scale.
    """
    s = Shape.of(shape)
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    z = np.stack([np.random.default_rng([int(seed), INIT_STREAM]).standard_normal(s.P) for seed in seeds])
    if init == "wide":
        if not wide_scale > 0:
            raise ValueError(f"init.wide_scale must be positive, got {wide_scale}")
        return z * float(wide_scale)
    if init != "he":
        raise ValueError(f"unknown init {init!r}; choose one of {INITS}")
    _check_choice("init.he_scale", he_scale, HE_SCALES)
    _check_choice("init.he_biases", he_biases, HE_BIASES)
    weights, biases = slice(0, s.off_b1), slice(s.off_b1, s.P)
    N21, N32 = (s.N1, s.N2) if he_scale == "fan_in" else (s.N2, s.N3)
    std = np.zeros(s.P)
    std[: s.off_W32], std[s.off_W32 : s.off_b1] = np.sqrt(2.0 / N21), np.sqrt(2.0 / N32)
    out = np.zeros_like(z)
    out[:, weights] = _with_std(z[:, weights], he_distribution) * std[weights]
    if he_biases == "normal":
        std[s.off_b1 : s.off_b2], std[s.off_b2 :] = np.sqrt(2.0 / N21), np.sqrt(2.0 / N32)
        out[:, biases] = z[:, biases] * std[biases]
    elif he_biases == "pytorch":
        bound = np.zeros(s.P)
        bound[s.off_b1 : s.off_b2], bound[s.off_b2 :] = 1.0 / np.sqrt(s.N1), 1.0 / np.sqrt(s.N2)
        out[:, biases] = (2.0 * ndtr(z[:, biases]) - 1.0) * bound[biases]
    return out


# ----------------------------------------------------------------------------------
# Batch schedule.

BATCH_MODES = ("shared", "per_run")
BATCH_SAMPLINGS = ("epochs", "replacement")


@lru_cache(maxsize=64)
def _epoch_indices(seed: tuple, epoch: int, n_samples: int, sampling: str) -> np.ndarray:
    rng = np.random.default_rng([*seed, epoch, BATCH_STREAM])
    idx = rng.permutation(n_samples) if sampling == "epochs" else rng.integers(0, n_samples, n_samples)
    idx.setflags(write=False)
    return idx


def _seed_tuple(batch_seed) -> tuple:
    seed = tuple(int(s) for s in np.atleast_1d(batch_seed))
    if any(s < 0 for s in seed):
        raise ValueError(f"batch seeds must be non-negative, got {batch_seed!r}")
    return seed


def batch_indices(batch_seed, start_step: int, n_steps: int, n_samples: int, batch_size: int = 32,
                  sampling: str = "epochs") -> np.ndarray:
    """Sample indices of the batches of steps start_step .. start_step + n_steps - 1.

    The schedule is a sequence of blocks of n_samples indices, block e drawn from
    default_rng([*batch_seed, e, BATCH_STREAM]): with sampling 'epochs' a permutation of
    the data (an epoch), with 'replacement' n_samples uniform draws with replacement. Step
    n takes positions n*B .. n*B + B - 1 of the concatenated blocks, so batches wrap across
    block boundaries and an epoch is n_samples / B steps (31.25 for the paper).
    `batch_seed` is an int (the shared schedule) or a tuple of ints (per-run schedules use
    (batch_seed, run_seed)). Returns an int array (n_steps, batch_size).
    """
    if n_samples < 1 or batch_size < 1 or n_steps < 0 or start_step < 0:
        raise ValueError("batch_indices needs n_samples, batch_size >= 1 and start_step, n_steps >= 0")
    _check_choice("training.batch_sampling", sampling, BATCH_SAMPLINGS)
    seed = _seed_tuple(batch_seed)
    pos = np.arange(start_step * batch_size, (start_step + n_steps) * batch_size, dtype=np.int64)
    epoch, offset = np.divmod(pos, n_samples)
    out = np.empty(pos.shape, dtype=np.int64)
    for e in np.unique(epoch):
        sel = epoch == e
        out[sel] = _epoch_indices(seed, int(e), n_samples, sampling)[offset[sel]]
    return out.reshape(n_steps, batch_size)


# ----------------------------------------------------------------------------------
# The random start of the CLV backward iteration.

def clv_random_start(seeds, P: int) -> np.ndarray:
    """Ginelli et al.'s random upper-triangular start (R, P, P) for run seeds, one matrix per
    run, used at every backward iteration of that run (`lyapunov.random_upper_start`)."""
    seeds = np.atleast_1d(np.asarray(seeds, dtype=np.int64))
    z = np.stack([np.random.default_rng([int(seed), CLV_STREAM]).standard_normal((P, P)) for seed in seeds])
    return random_upper_start(z)
