"""Claims of the paper and their verdicts: the data type and its vocabulary.

A `Claim` holds one statement of the paper, our numbers behind it and one verdict per
part: 'agree', 'partly', 'differ', 'inconclusive', 'not testable: <why>' or 'does not
apply: <why>' (VERDICTS; `claims` states the rule of each claim).
"""
from __future__ import annotations

from dataclasses import dataclass, field

NOT_TESTABLE = "not testable"
NOT_APPLICABLE = "does not apply"
VERDICTS = ("agree", "partly", "differ", "inconclusive", NOT_TESTABLE, NOT_APPLICABLE)
CHANCE = 0.5          # the AUC of a predictor without information


def not_testable(reason: str) -> str:
    return f"{NOT_TESTABLE}: {reason}"


def verdict_kind(verdict: str) -> str:
    """The verdict without its reason: one of VERDICTS."""
    return verdict.split(":", 1)[0]


@dataclass(frozen=True)
class Claim:
    """One claim of the paper and our evaluation of it.

    topic: the part of the paper ('final_loss', 'lyapunov', 'angles', 'prediction',
    'table1'); kind: how its values are laid out (claims of one kind share a layout);
    verdicts: (part, verdict) pairs, part '' for a claim without parts; note: the rule of
    the verdict, or a caveat.
    """

    key: str
    kind: str
    topic: str
    source: str
    statement: str
    verdicts: tuple[tuple[str, str], ...]
    note: str = ""
    values: dict = field(default_factory=dict)


def one(verdict: str) -> tuple[tuple[str, str], ...]:
    """The verdicts of a claim without parts."""
    return (("", verdict),)
