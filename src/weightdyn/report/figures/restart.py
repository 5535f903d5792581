"""Beyond the paper: the restart policy (stop runs predicted to end high, start fresh ones)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...analysis.predictors import parse_name
from ...analysis.restart import ORACLE
from ..labels import FTLE_FORM_NAMES, predictor_label
from .style import activation_name, activations_of, note

PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]


def policy_label(predictor: str) -> str:
    """Legend entry of a predictor of the policy: the single FTLE is the best one of its
    form at each checkpoint, the oracle stops exactly the high runs."""
    if predictor != ORACLE and parse_name(predictor).group == "ftle":
        return f"best single FTLE ({FTLE_FORM_NAMES[parse_name(predictor).form]})"
    if predictor == ORACLE:
        return "oracle (stops exactly the high runs)"
    return predictor_label(predictor)


def fig16_restart_policy(restart: pd.DataFrame) -> Figure:
    """Expected compute per good network with the restart policy, and the saving, against
    the checkpoint at which runs predicted to end high are stopped."""
    acts = activations_of(restart)
    fig = Figure(figsize=(5.8 * len(acts) + 1.8, 6.8), layout="constrained")
    axes = fig.subplots(2, len(acts), squeeze=False, sharex="col")
    for k, act in enumerate(acts):
        sub = restart[restart["activation"] == act]
        top, bottom = axes[0, k], axes[1, k]
        counts = f"test half: {int(sub['n_test'].iloc[0])} runs, {int(sub['high_test'].iloc[0])} high" if len(sub) else ""
        top.set(ylabel="compute per good network\n(full training runs)",
                title=f"({chr(97 + k)}) {activation_name(act)}: expected compute ({counts})")
        bottom.set(xlabel=r"checkpoint $t$ at which runs are stopped", ylabel="saving (fraction of compute)",
                   title=f"({chr(97 + len(acts) + k)}) {activation_name(act)}: saving")
        bottom.axhline(0.0, color="0.5", lw=0.7, ls=":")
        ok = sub[sub["status"] == "ok"]
        if not len(ok):
            msg = "no runs" if not len(sub) else f"not computed: {sub['status'].iloc[0]}"
            note(top, msg)
            note(bottom, msg)
            continue
        base = sub.drop_duplicates("t").sort_values("t")
        top.plot(base["t"], base["compute_without"], color="0.4", lw=2, label="without policy")
        ok = ok.assign(label=[policy_label(p) for p in ok["predictor"]])
        for n_k, label in enumerate(dict.fromkeys(ok["label"])):
            g = ok[ok["label"] == label].sort_values("t")
            st = (dict(color="black", ls="--", marker="s") if g["predictor"].iloc[0] == ORACLE
                  else dict(color=PALETTE[n_k % len(PALETTE)], marker="o"))
            top.plot(g["t"], g["compute_with"], lw=1.3, ms=4, label=label, **st)
            err = np.vstack([g["saving"] - g["saving_ci_low"], g["saving_ci_high"] - g["saving"]])
            bottom.errorbar(g["t"], g["saving"], yerr=np.clip(np.where(np.isfinite(err), err, 0.0), 0.0, None), lw=1.3, ms=4, capsize=2,
                            label=label, **st)
        ts = sorted(set(sub["t"]))
        bottom.set_xticks(ts, [f"{t:g}" for t in ts])
    if axes[0, -1].get_legend_handles_labels()[0]:
        axes[0, -1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Restart policy: stop runs predicted to end with a high final loss and start fresh ones")
    return fig
