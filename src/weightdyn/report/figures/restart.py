"""Beyond the paper: the restart policies (stop runs on an early prediction of their final
loss, start fresh ones)."""
from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ...analysis.predictors import parse_name
from ...analysis.restart import ORACLE, POLICIES
from ..labels import FTLE_FORM_NAMES, policy_texts, predictor_label
from .style import activation_name, activations_of, note

PALETTE = ["tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown"]


def policy_label(predictor: str) -> str:
    """Legend entry of a predictor of a policy: the single FTLE is the best one of its
    form at each checkpoint, the oracle stops exactly the runs that will not be good."""
    if predictor != ORACLE and parse_name(predictor).group == "ftle":
        return f"best single FTLE ({FTLE_FORM_NAMES[parse_name(predictor).form]})"
    if predictor == ORACLE:
        return "oracle (stops exactly the runs that will not be good)"
    return predictor_label(predictor)


def fig16_restart_policy(restart: pd.DataFrame, pcfg) -> Figure:
    """Expected compute per good network under each restart policy, and the saving, against
    the checkpoint at which runs are stopped: two rows of panels per policy."""
    acts = activations_of(restart)
    fig = Figure(figsize=(5.8 * len(acts) + 1.8, 6.2 * len(POLICIES)), layout="constrained")
    axes = fig.subplots(2 * len(POLICIES), len(acts), squeeze=False, sharex="col")
    letters = iter("abcdefghijklmnop")
    for i, policy in enumerate(POLICIES):
        stops, good = policy_texts(policy, pcfg.low_loss, pcfg.high_loss)
        for k, act in enumerate(acts):
            sub = restart[(restart["policy"] == policy) & (restart["activation"] == act)]
            top, bottom = axes[2 * i, k], axes[2 * i + 1, k]
            counts = (f"\n(test half: {int(sub['n_test'].iloc[0])} runs, "
                      f"{int(sub['n_test'].iloc[0] - sub['bad_test'].iloc[0])} good)" if len(sub) else "")
            top.set(ylabel=f"compute per good network\n({good}; full runs)",
                    title=f"({next(letters)}) {activation_name(act)}, stop {stops}{counts}")
            bottom.set(xlabel=r"checkpoint $t$ at which runs are stopped", ylabel="saving (fraction of compute)",
                       title=f"({next(letters)}) {activation_name(act)}: saving")
            bottom.axhline(0.0, color="0.5", lw=0.7, ls=":")
            _policy_panels(top, bottom, sub)
    for row in range(0, 2 * len(POLICIES), 2):
        if axes[row, -1].get_legend_handles_labels()[0]:
            axes[row, -1].legend(loc="center left", bbox_to_anchor=(1.02, 0.5), fontsize=8, frameon=False)
    fig.suptitle("Restart policies: stop runs on an early prediction of their final loss and start fresh ones")
    return fig


def _policy_panels(top, bottom, sub: pd.DataFrame) -> None:
    """Compute with and without the policy (top) and its saving with its interval (bottom)."""
    ok = sub[sub["status"] == "ok"]
    if not len(ok):
        msg = "not applied to this setting" if not len(sub) else f"not computed: {sub['status'].iloc[0]}"
        note(top, msg)
        note(bottom, msg)
        return
    base = sub.drop_duplicates("t").sort_values("t")
    top.plot(base["t"], base["compute_without"], color="0.4", lw=2, label="without policy")
    ok = ok.assign(label=[policy_label(p) for p in ok["predictor"]])
    finite = ok[["saving", "saving_ci_low", "saving_ci_high"]].to_numpy(float)
    finite = finite[np.isfinite(finite)]
    # an interval unbounded below (a resample kept no good run) reaches this floor, marked v
    floor = (finite.min() - 0.1 * max(np.ptp(finite), 0.1)) if len(finite) else -1.0
    for n_k, label in enumerate(dict.fromkeys(ok["label"])):
        g = ok[ok["label"] == label].sort_values("t")
        st = (dict(color="black", ls="--", marker="s") if g["predictor"].iloc[0] == ORACLE
              else dict(color=PALETTE[n_k % len(PALETTE)], marker="o"))
        top.plot(g["t"], g["compute_with"], lw=1.3, ms=4, label=label, **st)
        low = g["saving_ci_low"].where(g["saving_ci_low"] > -np.inf, floor)
        err = np.vstack([g["saving"] - low, g["saving_ci_high"] - g["saving"]])
        bottom.errorbar(g["t"], g["saving"], yerr=np.clip(np.where(np.isfinite(err), err, 0.0), 0.0, None), lw=1.3,
                        ms=4, capsize=2, label=label, **st)
        unbounded = np.isfinite(g["saving"]) & (g["saving_ci_low"] == -np.inf)
        bottom.plot(g["t"][unbounded], np.full(int(unbounded.sum()), floor), ls="none", marker="v", ms=6,
                    color=st["color"])
    ts = sorted(set(sub["t"]))
    bottom.set_xticks(ts, [f"{t:g}" for t in ts])
