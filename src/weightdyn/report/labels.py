"""Display names of the reports: activations, initializations, FTLE forms, predictors."""
from __future__ import annotations

import re

from ..model.activations import ACTIVATIONS

INIT_NAMES = {"he": "He", "wide": "wide-range"}
FTLE_FORM_NAMES = {"local": "local", "cum": "cumulative"}


def activation_name(activation: str) -> str:
    """The registry's label of an activation (read at call time, so an activation
    registered later has its label too); the key itself if it is not registered."""
    act = ACTIVATIONS.get(activation)
    return act.label if act is not None else activation


def init_name(init: str) -> str:
    return INIT_NAMES.get(init, init)


def predictor_label(predictor: str) -> str:
    """A readable name: ftle_cum_3 -> 'lambda_3 (cumulative)', cos_past_1_2 -> '|cos theta_1,2|'."""
    m = re.fullmatch(r"ftle_(local|cum)_(\d+)", predictor)
    if m:
        return f"lambda_{m.group(2)} ({FTLE_FORM_NAMES[m.group(1)]})"
    m = re.fullmatch(r"cos_past_(\d+)_(\d+)", predictor)
    if m:
        return f"|cos theta_{m.group(1)},{m.group(2)}|"
    m = re.fullmatch(r"svm_ftle_(local|cum)", predictor)
    if m:
        return f"SVM on all FTLEs ({FTLE_FORM_NAMES[m.group(1)]})"
    return {"mean_cos_past": "mean |cos theta|", "loss": "C(t)"}.get(predictor, predictor)
