"""The restart policies' section of the comparison (beyond the paper)."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..analysis.config import PredictConfig
from ..analysis.predictors import LOSS
from ..analysis.restart import ORACLE, POLICIES, best_saving
from .labels import md_table, policy_texts, predictor_label


def restart_lines(restart: pd.DataFrame, p: PredictConfig) -> list[str]:
    """Both policies of `analysis.restart`: their tables on the test half and, per policy,
    the predictor and checkpoint picked on the training half with its saving beside the
    oracle's and the plain loss C(t)'s."""
    lines = ["## Beyond the paper: restart policies", "",
             "Stop a run at checkpoint t on an early prediction of its final loss and start a fresh one. On the "
             "test half: the expected compute per good network, in full training runs, without and with the "
             "policy. The classifier is fitted on the training half and the stopping threshold minimises the "
             "expected compute over its out-of-fold scores there (runs it did not see); the saving's interval "
             "resamples the test half with the policy fixed. 'oracle' stops exactly the runs that will not be "
             "good (the bound for any predictor). Monitoring costs (the tangent dynamics needed for FTLEs) are "
             "not included.", ""]
    for policy in POLICIES:
        sub = restart[restart["policy"] == policy] if len(restart) else restart
        stops, good = policy_texts(policy, p.low_loss, p.high_loss)
        paper = " (the use the paper proposes)" if policy == "avoid_high" else ""
        lines += [f"### Stop {stops}{paper}; a good network has {good}", ""]
        ok = sub[sub["status"] == "ok"] if len(sub) else sub
        if not len(ok):
            reason = sub["status"].iloc[0] if len(sub) else "no setting of the config is predicted for it"
            lines += [f"Not computed: {reason}.", ""]
            continue
        rows = [[f"{r.activation} + {r.init}", f"{r.t:g}", predictor_label(r.predictor) if r.predictor != ORACLE
                 else ORACLE, f"{int(r.stopped)} ({int(r.stopped_bad)} not good, {int(r.stopped_good)} good)",
                 f"{int(r.missed_bad)}", f"{r.compute_without:.3f}", f"{r.compute_with:.3f}",
                 saving_interval(r._asdict())]
                for r in ok.itertuples()]
        lines += md_table(["setting", "t", "predictor", "stopped", "not good, kept", "compute without",
                           "compute with", "saving [95% CI]"], rows) + [""]
        for activation, init in dict.fromkeys(zip(ok["activation"], ok["init"])):
            lines += _picked(sub, policy, activation, init)
        lines.append("")
    return lines


def saving_text(saving: float) -> str:
    """A saving in percent; -inf (no good network kept) as such."""
    return "-inf (no good run kept)" if saving == -np.inf else f"{saving:.1%}"


def times(saving: float) -> float:
    """How many times less compute a good network takes: 1 / (1 - saving); 0 at -inf (no
    good run kept), NaN where there is no saving."""
    return 1.0 / (1.0 - saving) if np.isfinite(saving) else (0.0 if saving == -np.inf else np.nan)


def times_text(saving: float) -> str:
    """`times` as text ('n/a' where there is no saving)."""
    x = times(saving)
    return "n/a" if np.isnan(x) else ("0x" if x == 0.0 else f"{x:.2f}x")


def saving_interval(r) -> str:
    """A restart row's test-half saving with its 95% interval, in percent."""
    return f"{saving_text(r['saving'])} [{saving_text(r['saving_ci_low'])}, {saving_text(r['saving_ci_high'])}]"


def times_interval(r) -> str:
    """A restart row's saving as how many times less compute a good network takes, with
    the interval mapped through `times`."""
    return f"{times_text(r['saving'])} [{times_text(r['saving_ci_low'])}, {times_text(r['saving_ci_high'])}]"


def _picked(sub: pd.DataFrame, policy: str, activation: str, init: str) -> list[str]:
    """The predictor and checkpoint with the largest out-of-fold saving on the training
    half, its test-half saving and how many times less compute a good network takes
    (the saving's interval mapped through 1 / (1 - saving)), beside the oracle at that
    checkpoint and C(t) at its own checkpoint, picked by the same rule."""
    best = best_saving(sub, policy, activation, init=init)
    if best is None:
        return []
    b, o = best
    text = (f"- {activation} + {init}: picked on the training half, {predictor_label(b['predictor'])} at t = {b['t']:g} saves "
            f"{saving_interval(b)} on the test half ({int(b['n_test'] - b['bad_test'])} good of {int(b['n_test'])}): "
            f"a good network for {times_interval(b)} less compute")
    if o is not None:
        text += f"; the oracle at that checkpoint {times_text(o['saving'])}"
    loss = best_saving(sub, policy, activation, predictor=LOSS, init=init)
    if loss is not None:
        c = loss[0]
        text += (f"; C(t), picked the same way, at t = {c['t']:g}: {saving_interval(c)}, {times_interval(c)}, with no "
                 "tangent dynamics to monitor")
    return [text + "."]
