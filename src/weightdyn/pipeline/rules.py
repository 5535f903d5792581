"""What every rule script of workflow/scripts/ shares: the BLAS thread count, set before
NumPy loads, and the job's log with the traceback of a failure.

    from weightdyn.pipeline.rules import job_log, pin_threads
    pin_threads(snakemake.threads)          # first: before NumPy is imported

    import numpy as np  # noqa: E402
    ...
    with job_log(snakemake) as log:
        ...

This module imports nothing that loads NumPy (nor does `weightdyn/__init__.py`).
"""
from __future__ import annotations

import os
import sys
import traceback
from contextlib import contextmanager

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(n: int) -> None:
    """Let OpenMP, OpenBLAS and MKL use `n` threads: the rule's `threads`, or 1 per worker
    process where the rule's threads are processes. NumPy reads these variables when it
    loads, so this must run first; RuntimeError if NumPy is loaded already."""
    if "numpy" in sys.modules:
        raise RuntimeError("pin_threads must run before NumPy is imported (BLAS reads its thread count then)")
    for name in THREAD_VARIABLES:
        os.environ[name] = str(int(n))


@contextmanager
def job_log(smk):
    """The job's log file (the rule's first `log:`), line-buffered; an exception in the
    block is written to it with its traceback, then raised on to Snakemake."""
    with open(smk.log[0], "w", buffering=1) as log:
        try:
            yield log
        except Exception:
            traceback.print_exc(file=log)
            raise
