"""P, the number of exponents of a runs table, under the name report.figures imports.

The prediction stage lives in split, predictors, classifiers, evaluate, table1 and
restart; this module only keeps `n_exponents` importable from here until
report.figures takes it from engine.columns, its home.
"""
from ..engine.columns import n_exponents

__all__ = ["n_exponents"]
