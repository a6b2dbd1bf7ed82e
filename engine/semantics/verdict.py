"""The verdict over the rules that fired: which codes are recommended, which forbidden, and
which clash. This is the one definition of the ruleset-level rule

    a prohibition beats a recommendation of the same code, and the clash is listed.

A code is *proposed* when some fired rule recommends it and *forbidden* when some fired rule
forbids it; it is *recommended* when proposed and not forbidden, and in *conflict* when both.
`recommended` and `conflicted` state that once, over any boolean algebra (`BoolOps`): plain
booleans here and in answer assembly, reference evaluation and explanation, z3 formulas in
the symbolic encoding (`guidekb.engine.qa.symbolic`). `verdict` applies it to the rules that
fired on one case, keeping which rules (and reasons) stand behind each code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Generic, TypeVar

from guidekb.engine.format.models import Rule

B = TypeVar("B")


@dataclass(frozen=True)
class BoolOps(Generic[B]):
    """The two boolean operations the verdict needs, in whatever algebra a backend uses."""

    and_: Callable[[B, B], B]
    not_: Callable[[B], B]


PLAIN: BoolOps[bool] = BoolOps(and_=lambda a, b: a and b, not_=lambda a: not a)


def recommended(proposed: B, forbidden: B, ops: BoolOps[B]) -> B:
    """A code is recommended when a fired rule proposes it and no fired rule forbids it."""
    return ops.and_(proposed, ops.not_(forbidden))


def conflicted(proposed: B, forbidden: B, ops: BoolOps[B]) -> B:
    """A code is in conflict when it is both proposed and forbidden: the prohibition wins
    (it is not recommended) and the clash is shown."""
    return ops.and_(proposed, forbidden)


Ban = tuple[str, str]  # (rule id, reason) of one prohibition


@dataclass(frozen=True)
class Verdict:
    """What the fired rules say about each code, in the order the codes first appear.

    `proposed` maps a code to every rule recommending it (forbidden or not), `forbidden` to
    every (rule, reason) forbidding it; rules are in the order they were given (knowledge-base
    order), one entry per mention.
    """

    proposed: Mapping[str, tuple[str, ...]]
    forbidden: Mapping[str, tuple[Ban, ...]]

    @property
    def recommended(self) -> dict[str, tuple[str, ...]]:
        """Recommended codes with the rules recommending them, in order of first proposal."""
        return {code: rules for code, rules in self.proposed.items()
                if recommended(True, code in self.forbidden, PLAIN)}

    @property
    def conflicts(self) -> dict[str, tuple[str, str]]:
        """Codes in conflict, in order of first prohibition: (first recommender, first forbidder)."""
        return {code: (self.proposed[code][0], bans[0][0]) for code, bans in self.forbidden.items()
                if conflicted(code in self.proposed, True, PLAIN)}

    def status(self, code: str) -> str:
        """The code's verdict in words: "recommended but forbidden", "forbidden",
        "recommended" or "not recommended"."""
        proposed, forbidden = code in self.proposed, code in self.forbidden
        if conflicted(proposed, forbidden, PLAIN):
            return "recommended but forbidden"
        if forbidden:
            return "forbidden"
        return "recommended" if recommended(proposed, forbidden, PLAIN) else "not recommended"


def verdict(fired: Iterable[Rule]) -> Verdict:
    """The verdict of the rules that fired on one case, given in knowledge-base order."""
    proposed: dict[str, list[str]] = {}
    forbidden: dict[str, list[Ban]] = {}
    for rule in fired:
        for code in rule.then.recommend:
            proposed.setdefault(code, []).append(rule.id)
        for prohibition in rule.then.forbid:
            forbidden.setdefault(prohibition.code, []).append((rule.id, prohibition.reason))
    return Verdict(proposed={code: tuple(rules) for code, rules in proposed.items()},
                   forbidden={code: tuple(bans) for code, bans in forbidden.items()})
