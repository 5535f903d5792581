"""The restart policies' section of the comparison (beyond the paper)."""
from __future__ import annotations

import pandas as pd

from ..analysis.config import PredictConfig
from ..analysis.restart import ORACLE, POLICIES, best_saving
from .labels import md_table, predictor_label


def restart_lines(restart: pd.DataFrame, p: PredictConfig) -> list[str]:
    """Both policies of `analysis.restart`: their tables on the test half and, per policy,
    the predictor and checkpoint picked on the training half with its saving beside the
    oracle's and the plain loss C(t)'s."""
    goods = {"avoid_high": f"c_f <= {p.high_loss:g}", "reach_low": f"c_f < {p.low_loss:g}"}
    stops = {"avoid_high": f"runs predicted to end with c_f > {p.high_loss:g} (the use the paper proposes)",
             "reach_low": f"runs predicted not to reach the low cluster c_f < {p.low_loss:g}"}
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
        lines += [f"### Stop {stops[policy]}; a good network has {goods[policy]}", ""]
        ok = sub[sub["status"] == "ok"] if len(sub) else sub
        if not len(ok):
            reason = sub["status"].iloc[0] if len(sub) else "no setting of the config is predicted for it"
            lines += [f"Not computed: {reason}.", ""]
            continue
        rows = [[f"{r.activation} + {r.init}", f"{r.t:g}", predictor_label(r.predictor) if r.predictor != ORACLE
                 else ORACLE, f"{r.stopped} ({r.stopped_bad} not good, {r.stopped_good} good)", f"{r.missed_bad}",
                 f"{r.compute_without:.3f}", f"{r.compute_with:.3f}",
                 f"{r.saving:.1%} [{r.saving_ci_low:.1%}, {r.saving_ci_high:.1%}]"]
                for r in ok.itertuples()]
        lines += md_table(["setting", "t", "predictor", "stopped", "not good, kept", "compute without",
                           "compute with", "saving [95% CI]"], rows) + [""]
        for activation in dict.fromkeys(ok["activation"]):
            lines += _picked(sub, policy, activation)
        lines.append("")
    return lines


def _picked(sub: pd.DataFrame, policy: str, activation: str) -> list[str]:
    """The predictor and checkpoint with the largest out-of-fold saving on the training
    half, its test-half saving and how many times less compute a good network takes, beside
    the oracle and C(t) at that checkpoint."""
    best = best_saving(sub, policy, activation)
    if best is None:
        return []
    b, o = best
    at = sub[(sub["activation"] == activation) & (sub["t"] == b["t"]) & (sub["init"] == b["init"])]
    loss = at[at["predictor"] == "loss"]
    times = [1.0 / (1.0 - b[k]) for k in ("saving", "saving_ci_low", "saving_ci_high")]  # without / with
    text = (f"- {activation}: picked on the training half, {predictor_label(b['predictor'])} at t = {b['t']:g} saves "
            f"{b['saving']:.1%} [{b['saving_ci_low']:.1%}, {b['saving_ci_high']:.1%}] on the test half "
            f"({int(b['n_test'] - b['bad_test'])} good of {int(b['n_test'])}): a good network for {times[0]:.2f}x "
            f"[{times[1]:.2f}, {times[2]:.2f}] less compute")
    if o is not None:
        text += f"; the oracle at that checkpoint {o['compute_without'] / o['compute_with']:.2f}x"
    if len(loss) and loss["status"].iloc[0] == "ok":
        text += f"; C(t) there {loss['saving'].iloc[0]:.1%} ({loss['compute_without'].iloc[0] / loss['compute_with'].iloc[0]:.2f}x)"
    return [text + "."]
