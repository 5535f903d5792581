"""The regression tasks a network learns: one data set (X, y) shared by every run.

    paper      y = 10 x1 - 2 x2^2 with x ~ N(0, I) (Sec. IV of the paper)
    friedman1  scikit-learn's make_friedman1: x ~ U(0, 1)^N1 (N1 >= 5), no noise
    diabetes   scikit-learn's diabetes data: 442 patients, 10 features, standardized
    file       a user's CSV or Parquet file, with its feature and target columns named

The drawn tasks (paper, friedman1) are pure functions of (n_samples, seed, N1); the
data sets (diabetes, file) have their own rows, and n_samples and seed do not apply.
Every problem is a ValueError whose message starts with the config field it concerns.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .streams import DATA_STREAM

TASKS = ("paper", "friedman1", "diabetes", "file")
DRAWN = ("paper", "friedman1")  # n_samples and seed apply
FRIEDMAN1_INPUTS = 5  # y = 10 sin(pi x1 x2) + 20 (x3 - 1/2)^2 + 10 x4 + 5 x5: the other inputs are noise
DIABETES_INPUTS = 10
# The diabetes target (disease progression, std 77) standardized and scaled to this std,
# the scale of the paper's target (std 10.4), so that the paper's dt trains it stably.
DIABETES_TARGET_STD = 10.0
FILE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}


@dataclass(frozen=True)
class Task:
    """A data set of the network with N1 = n_inputs inputs and N3 = n_outputs outputs.

    `path`, `features` and `target_column` describe a file task (target 'file'); a
    relative path is read from the working directory.
    """

    target: str = "paper"
    n_samples: int = 1000
    seed: int = 0
    n_inputs: int = 2
    n_outputs: int = 1
    path: str | None = None
    features: tuple[str, ...] = ()
    target_column: str | None = None

    def check(self) -> None:
        """Raise ValueError, naming the config field, if this task cannot train the network."""
        if self.target not in TASKS:
            raise ValueError(f"data.target: unknown target {self.target!r}; choose one of {list(TASKS)}")
        if self.target in DRAWN and self.n_samples < 1:
            raise ValueError(f"data.n_samples: must be positive, got {self.n_samples}")
        if self.n_outputs != 1:
            raise ValueError(f"network.shape: data.target {self.target!r} has one output; "
                             f"the network has N3 = {self.n_outputs}")
        need = {"paper": (2, "y = 10 x1 - 2 x2^2"), "friedman1": (FRIEDMAN1_INPUTS, "Friedman #1")}
        if self.target in need and self.n_inputs < need[self.target][0]:
            least, name = need[self.target]
            raise ValueError(f"network.shape: the {self.target!r} target {name} needs N1 >= {least} inputs, "
                             f"got {self.n_inputs}")
        if self.target == "diabetes" and self.n_inputs != DIABETES_INPUTS:
            raise ValueError(f"network.shape: the diabetes data have {DIABETES_INPUTS} features; N1 = {self.n_inputs}")
        if self.target == "file":
            self._read_file()

    def load(self) -> tuple[np.ndarray, np.ndarray]:
        """X (n, N1) and y (n, 1), float64."""
        self.check()
        if self.target == "paper":
            X = np.random.default_rng([int(self.seed), DATA_STREAM]).standard_normal((self.n_samples, self.n_inputs))
            y = 10.0 * X[:, 0] - 2.0 * X[:, 1] ** 2
        elif self.target == "friedman1":
            from sklearn.datasets import make_friedman1

            X, y = make_friedman1(self.n_samples, n_features=self.n_inputs, noise=0.0, random_state=int(self.seed))
        elif self.target == "diabetes":
            from sklearn.datasets import load_diabetes

            X, y = load_diabetes(return_X_y=True, scaled=False)
            X = (X - X.mean(axis=0)) / X.std(axis=0)
            y = (y - y.mean()) / y.std() * DIABETES_TARGET_STD
        else:
            X, y = self._read_file()
        return np.array(X, np.float64, order="C"), np.array(y, np.float64).reshape(-1, 1)  # writable copies

    def _read_file(self) -> tuple[np.ndarray, np.ndarray]:
        """The feature and target columns of the file, checked: it exists, has a known
        suffix, holds the named columns, one per input, with finite numbers only."""
        if not self.path:
            raise ValueError("data.file.path: the 'file' target needs a CSV or Parquet file")
        path = Path(self.path)
        if path.suffix.lower() not in FILE_SUFFIXES:
            raise ValueError(f"data.file.path: {self.path}: not a CSV or Parquet file "
                             f"(suffixes {', '.join(FILE_SUFFIXES)})")
        if not path.is_file():
            raise ValueError(f"data.file.path: {self.path}: no such file (from {Path.cwd()})")
        if len(self.features) != self.n_inputs:
            raise ValueError(f"data.file.features: {len(self.features)} columns for N1 = {self.n_inputs} inputs")
        if len(set(self.features)) != len(self.features):
            raise ValueError(f"data.file.features: a column named twice in {list(self.features)}")
        if not self.target_column:
            raise ValueError("data.file.target_column: the 'file' target needs the name of its target column")
        if self.target_column in self.features:
            raise ValueError(f"data.file.target_column: {self.target_column!r} is also a feature")
        import pandas as pd

        try:
            frame = _read_table(path)
        except Exception as exc:  # whatever the reader says of a file it cannot read
            raise ValueError(f"data.file.path: {self.path}: cannot be read as {FILE_SUFFIXES[path.suffix.lower()]} "
                             f"({type(exc).__name__}: {exc})") from exc
        if len(frame) < 1:
            raise ValueError(f"data.file.path: {self.path} has no rows")
        missing = [c for c in (*self.features, self.target_column) if c not in frame.columns]
        if missing:
            field = "data.file.target_column" if missing == [self.target_column] else "data.file.features"
            raise ValueError(f"{field}: {self.path} has no column {', '.join(map(repr, missing))} "
                             f"(it has {', '.join(map(repr, frame.columns))})")
        for field, columns in (("data.file.features", self.features), ("data.file.target_column", [self.target_column])):
            for name in columns:
                values = frame[name]
                if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
                    raise ValueError(f"{field}: column {name!r} of {self.path} is not numeric ({values.dtype})")
                bad = ~np.isfinite(values.to_numpy(np.float64))
                if bad.any():
                    raise ValueError(f"{field}: column {name!r} of {self.path} has {int(bad.sum())} missing or "
                                     f"non-finite values (first at row {int(np.argmax(bad))})")
        return frame[list(self.features)].to_numpy(np.float64), frame[self.target_column].to_numpy(np.float64)

    @property
    def size(self) -> int:
        """The number of observations."""
        return self.n_samples if self.target in DRAWN else len(self.load()[1])


def _read_table(path: Path):
    import pandas as pd

    if FILE_SUFFIXES[path.suffix.lower()] == "csv":
        return pd.read_csv(path)
    return pd.read_parquet(path)


def data_digest(X: np.ndarray, y: np.ndarray) -> str:
    """SHA-256 of a data set's values (float64, C order): the same for the same numbers,
    whatever file they came from."""
    digest = hashlib.sha256()
    for array in (X, y):
        array = np.ascontiguousarray(array, np.float64)
        digest.update(str(array.shape).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def make_task(n_samples: int = 1000, seed: int = 0, target: str = "paper", n_inputs: int = 2,
              n_outputs: int = 1, **file):
    """The regression data set (X (n, N1), y (n, 1)) of a task; `file` holds path,
    features and target_column for target 'file'."""
    return Task(target, n_samples, seed, n_inputs, n_outputs, **file).load()
