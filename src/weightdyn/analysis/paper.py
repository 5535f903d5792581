"""The paper's numbers that our runs are compared with: one place for each.

Sharafi, Martin and Hallerberg, "On the weight dynamics of learning networks"
(arXiv 2405.00743; Phys. Rev. E 111, 054208, 2025).
"""
from __future__ import annotations

# The paper's settings: activations and initializations; its task, network and events.
ACTIVATIONS = ("relu", "tanh")
INITS = ("he", "wide")
TARGET = "paper"              # y = 10 x1 - 2 x2^2 (data.target)
SHAPE = (2, 2, 1)             # N1, N2, N3
EVENT_KIND = "absolute"       # c_f < 4 and c_f > 100 (events.low_kind, events.high_kind)


def task_not_applicable(cfg: dict) -> str:
    """Why none of the paper's claims applies to the pipeline config `cfg` ('' if they
    do): they are about its task and its 2-2-1 network."""
    reasons = []
    if cfg["data"]["target"] != TARGET:
        reasons.append(f"the task is {cfg['data']['target']}, not the paper's y = 10 x1 - 2 x2^2")
    if tuple(cfg["network"]["shape"]) != SHAPE:
        reasons.append(f"the network is {'-'.join(map(str, cfg['network']['shape']))}, not 2-2-1")
    return "; ".join(reasons)


def events_not_applicable(cfg: dict) -> str:
    """Why the paper's claims on its events (c_f < 4, c_f > 100) do not apply ('' if they
    do): the config's events are relative."""
    kinds = {kind: cfg["events"][kind] for kind in ("low_kind", "high_kind")}
    if all(kind == EVENT_KIND for kind in kinds.values()):
        return ""
    return "the events are relative (" + ", ".join(f"{k} {v}" for k, v in kinds.items()) + ")"


def not_applicable(cfg: dict) -> str:
    """Every reason why claims of the paper do not apply to `cfg` ('' if none)."""
    return "; ".join(r for r in (task_not_applicable(cfg), events_not_applicable(cfg)) if r)


# Scale of the paper's experiments (Secs. III-VI).
RUNS_PER_SETTING = 4000
TABLE1_RUNS = 8000            # ReLU + He networks behind Table I
N_INTERVALS = 36667           # training length in intervals ...
STEPS_PER_INTERVAL = 20       # ... of this many steps
DT = "3e-5"                   # learning rate, as the paper writes it
CLV_WINDOW = 10               # intervals of the CLV backward iteration

# The paper's checkpoints (intervals) and their t labels (intervals x dt).
CHECKPOINTS = {500: "0.015", 1000: "0.03", 2000: "0.06", 3000: "0.09"}
EARLY = min(CHECKPOINTS)                   # "already at t = 0.015" (Sec. VI, Fig. 12)
LOW_FROM = sorted(CHECKPOINTS)[1]          # FTLEs predict low losses "from t = 0.03 on" (Fig. 10)

# Table I: AUC for c_f > 100 (ReLU + He) per checkpoint, in the order of CHECKPOINTS.
TABLE1 = {
    "cos": [0.919201, 0.975243, 0.996333, 0.99861],
    "ftle": [0.987756, 0.998141, 0.998909, 0.999476],
    "svm": [0.951719, 0.997852, 0.998736, 0.998989],
    "loss": [0.960493, 0.97232, 0.97232, 0.98918],
}
TABLE1_NAMES = {"cos": "best cos theta_ij(t)", "ftle": "best lambda_i(t)", "svm": "SVM on 9 FTLEs", "loss": "C(t)"}

# Sec. V, Fig. 5: share of the He runs of an activation whose k leading exponents are
# all positive: (claim key, activation, share, k, the exponents in words).
POSITIVE_LE_SHARES = [
    ("le1_positive_relu_he", "relu", 0.33, 1, "a positive first LE"),
    ("le1_positive_tanh_he", "tanh", 0.62, 1, "a positive first LE"),
    ("three_positive_relu_he", "relu", 0.03, 3, "three positive leading LEs"),
    ("three_positive_tanh_he", "tanh", 0.0, 3, "three positive leading LEs"),
]
HIGH_LOSS_LEADING = 3         # Fig. 7(a): very high losses need this many positive leading LEs
# The share of He runs ending above the high-loss threshold. Not stated: for ReLU read
# together from "very high losses occur only when the three leading LEs are positive"
# (Fig. 7(a)) and the 3% with three positive leading LEs (Fig. 5), an upper bound the text
# suggests is near; for tanh none (Fig. 3(b)).
HIGH_LOSS_SHARE = {"relu": 0.03, "tanh": 0.0}

# Sec. V, Fig. 8: CLV pairs that show tangencies (|cos| near 1) for ReLU and tanh.
TANGENT_PAIRS = [(1, 2), (1, 3), (2, 3), (3, 4), (4, 5), (5, 6)]

# Sec. VI, Fig. 12: the most stable FTLEs (the last ones) predict high losses early.
N_STABLE = 3
