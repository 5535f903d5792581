"""Progress of long jobs: a line at most every few seconds, with rate and ETA."""
from __future__ import annotations

import sys
import time


class ProgressLog:
    """Progress lines (percent of steps, run-steps/s, ETA) at most every `every` seconds."""

    def __init__(self, stream=sys.stderr, every: float = 5.0, label: str = ""):
        self.stream, self.every, self.label = stream, every, label
        self.start = self.last = time.monotonic()

    def __call__(self, done: int, total: int, runs: int) -> None:
        now = time.monotonic()
        if now - self.last < self.every and done < total:
            return
        self.last = now
        elapsed = now - self.start
        rate = done / elapsed if elapsed > 0 else float("nan")
        eta = (total - done) / rate if rate > 0 else float("nan")
        print(
            f"{self.label}{100.0 * done / total:5.1f}% steps {done}/{total} runs {runs} "
            f"{rate * runs / 1e6:.3f} M run-steps/s {rate * runs / total:.3f} runs/s "
            f"elapsed {elapsed:.0f} s ETA {eta:.0f} s",
            file=self.stream,
            flush=True,
        )
