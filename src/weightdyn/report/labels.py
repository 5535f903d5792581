"""Display names of the reports: activations, initializations, FTLE forms, predictors; and
the Markdown table they are set in."""
from __future__ import annotations

from ..analysis.predictors import parse_name
from ..analysis.stats import Share
from ..model.activations import ACTIVATIONS

INIT_NAMES = {"he": "He", "wide": "wide-range"}
FTLE_FORM_NAMES = {"local": "local", "cum": "cumulative"}
START_NAMES = {"identity": "start C = I", "random": "random start"}


def activation_name(activation: str) -> str:
    """The registry's label of an activation (read at call time, so an activation
    registered later has its label too); the key itself if it is not registered."""
    act = ACTIVATIONS.get(activation)
    return act.label if act is not None else activation


def init_name(init: str) -> str:
    return INIT_NAMES.get(init, init)


def predictor_label(predictor: str) -> str:
    """A readable name: ftle_cum_3 -> 'lambda_3 (cumulative)', cos_random_1_2 ->
    '|cos theta_1,2| (random start)'; a name that is not a predictor's is returned as it is."""
    try:
        p = parse_name(predictor)
    except ValueError:
        return predictor
    if p.group == "ftle":
        return f"lambda_{p.indices[0]} ({FTLE_FORM_NAMES[p.form]})"
    if p.group == "cos":
        return f"|cos theta_{p.indices[0]},{p.indices[1]}| ({START_NAMES[p.form]})"
    if p.group == "svm":
        return f"SVM on all FTLEs ({FTLE_FORM_NAMES[p.form]})"
    if p.group == "mean_cos":
        return f"mean |cos theta| ({START_NAMES[p.form]})"
    return "C(t)"


def md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    """A Markdown table, its cells' '|' escaped."""
    esc = lambda cell: str(cell).replace("|", "\\|")  # noqa: E731
    return ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)] + [
        "| " + " | ".join(esc(c) for c in r) + " |" for r in rows]


def share_text(s: Share) -> str:
    """k/n as a percentage with its 95% Wilson interval and the counts."""
    if s.n == 0:
        return "n/a (no runs)"
    lo, hi = s.interval
    return f"{s.k / s.n:.1%} [{lo:.1%}, {hi:.1%}] ({s.k}/{s.n})"


def policy_texts(policy: str, low_loss: float, high_loss: float) -> tuple[str, str]:
    """(the runs a restart policy stops, what a good network is under it), with the
    thresholds: the one wording of `analysis.restart.POLICIES` for tables and figures."""
    return {"avoid_high": (f"runs predicted to end with c_f > {high_loss:g}", f"c_f <= {high_loss:g}"),
            "reach_low": (f"runs predicted not to end low, c_f < {low_loss:g}", f"c_f < {low_loss:g}")}[policy]


def events_text(p) -> str:
    """How the events' thresholds of a resolved PredictConfig `p` were set, in one sentence."""
    low = (f"c_f < {p.low_loss:g}" if p.low_kind == "absolute" else
           f"c_f < {p.low_loss:.4g} (the {p.low_level:g} quantile of the usable final losses of the "
           f"{'/'.join(init_name(i) for i in p.inits)} runs, each setting weighted equally)")
    high = (f"c_f > {p.high_loss:g}" if p.high_kind == "absolute" else
            f"c_f > {p.high_loss:.4g} ({p.high_level:g} x the constant predictor's cost "
            f"{p.high_loss / p.high_level:.4g}, a dead network's c_f)")
    return f"Events: low {low}; high {high} or diverged."
