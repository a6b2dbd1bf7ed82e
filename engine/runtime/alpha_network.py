"""How large a durable_rules 2.0.28 ruleset may safely be, *proved* from its C source.

durable_rules keeps its alpha network in fixed-size arrays and fails, hangs or corrupts its
heap when one overflows. This module rebuilds the alpha network of a ruleset definition the
way `rete.c` builds it, and computes from it the quantities those arrays bound, so that the
compiler only ever registers a ruleset that provably fits. Read from
`durable_rules-2.0.28/src/rules/` (line numbers of that release):

How the network is built (rete.c `createBeta`, `createAlpha`, `findAlpha`, `linkAlpha`):

* every pattern of every rule (every `all` entry, every pattern of every `any` alternative)
  gets its own chain of alpha nodes starting at the root node (`NODE_M_OFFSET`);
* a test ``{prop: v}`` or ``{"$op": {prop: v}}`` is a child of the previous node. `findAlpha`
  reuses an existing child of the *same parent* with the same property-name hash, operator and
  value, so regular nodes form a trie: each has exactly one parent;
* ``{"$and": [e1, ..., en]}`` chains e1 .. en one below the other;
* ``{"$or": [e1, ..., en]}`` makes a new *forward* node (`createForwardAlpha`, never shared:
  one per `$or` occurrence), builds each ei from the current parent and links the end of each
  ei to the forward node, which the rest of the pattern then hangs below. Forward nodes are
  the only nodes with several parents;
* the end node of a pattern gets the pattern's beta node in its beta list.

The walk that matches one asserted fact (events.c `handleAlpha`, ~1705) is a depth-first search
with an explicit stack `alpha *stack[MAX_STACK_SIZE]`, ``MAX_STACK_SIZE 64`` (events.c:18): it
starts with the root on the stack, pops a node and pushes every child that matches -- each
forward or `$nex` child of its `nextList` whose property the fact lacks (a forward node's
property `$forward` never occurs, so a forward node is always pushed) and each child of its
`nextHashset` whose property the fact has and whose test passes -- and returns error 303
(`ERR_MAX_STACK_SIZE`) when it would push a 65th entry.

The bound. Call H(n) the highest the stack gets, counting from the moment n is on top and
counting n, while n's part of the walk runs. Popping n and pushing its matching children
c1..ck gives k entries; the walk then finishes each pushed child's part in turn while the
children not yet popped wait below it, so at most k - 1 wait under any one child:

    H(n) <= max(1, k - 1 + max_i H(ci))

Fewer matching children only lower this (the expression grows with the set of children), so
H computed with *every* child pushed, over the network as built, bounds the stack for any fact
whatever its values, whatever the order the children are pushed in. A child reachable twice
(a forward node linked twice from one node) is counted twice. The walk starts with the root
alone on the stack, so a ruleset is safe from error 303 when H(root) <= 64: `worst_stack`.
The bound is exact for a node whose matching children are leaves: 64 children all matching
the fact is the most that runs, 65 fails (tests/test_partitioned_rulesets.py shows both).

(The simpler bound -- the entries on the stack are pairwise unrelated in the walk's tree, so
there are no more of them than root-to-pattern-end paths, Σ over patterns of the product of
`$and` parts and the sum of `$or` parts -- holds too, but says 107 for the shipped 42-rule
knowledge base, which runs fine with a worst case of 41: the trie shares the `_k = case` node
and most first tests.)

The other fixed arrays, each checked by `limits_exceeded`:

* the children of a node in its `nextHashset`: ``NEXT_BUCKET_LENGTH 512`` slots with linear
  probing, and the probe loop in `findAlpha` (rete.c ~1001) never ends when all 512 are taken
  (`create_ruleset` hangs): at most 511 distinct children per node;
* its `nextList` (forward and `$nex` children): ``NEXT_LIST_LENGTH 128``, scanned for the
  first empty entry without a bound (rete.c ~806): at most 127;
* its beta list: ``BETA_LIST_LENGTH 256`` (rete.c ~790), likewise: at most 255 patterns end
  at one node;
* a pattern's expression sequence: each `$and`/`$or` appends two entries, ``MAX_SEQUENCE
  _EXPRESSIONS 32`` (rete.h:41, `ERR_EXPRESSION_LIMIT_EXCEEDED` at 32): at most 15 per pattern;
* ``MAX_ACTIONS 4096`` rules per ruleset (rete.c:41);
* a fact's properties: ``MAX_OBJECT_PROPERTIES 255`` (state.h:20) with `sid` and a generated
  `id` among them (state.c ~1291): at most 252 fields of ours besides those two, kept by the
  caller (`guidekb.engine.runtime.partition`);
* property names are told apart only by their 32-bit FNV-1a hash (json.c `getStringAndHash`):
  two names with one hash would be one property to durable_rules, and a name hashing like
  `$forward` would stop every `$or`. `limits_exceeded` names them; the compiler refuses such
  a knowledge base rather than answer wrongly.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

MAX_STACK_SIZE = 64  # events.c:18
NEXT_BUCKET_LENGTH = 512  # rules.h:47
NEXT_LIST_LENGTH = 128  # rules.h:48
BETA_LIST_LENGTH = 256  # rules.h:49
MAX_SEQUENCE_EXPRESSIONS = 32  # rete.h:41
MAX_ACTIONS = 4096  # rete.c:41
MAX_FACT_FIELDS = 252  # MAX_OBJECT_PROPERTIES 255, less `sid`, the generated `id`, and one never filled

_OPERATORS = {"$lt", "$lte", "$gt", "$gte", "$eq", "$neq", "$ex", "$nex"}  # what we emit; `$mt`,
# `$imt`, `$iall`, `$iany` and references to other facts never are, and are refused below
_FORWARD = "$forward"


def property_hash(name: str) -> int:
    """durable_rules' hash of a property name: 32-bit FNV-1a over its bytes (json.c)."""
    value = 0x811C9DC5
    for byte in name.encode():
        value = ((value ^ byte) * 16777619) & 0xFFFFFFFF
    return value


@dataclass(eq=False)
class _Node:
    """One alpha node: its trie children by (property hash, operator, value), its `nextList`
    (forward and `$nex` children, with repeats) and the number of patterns ending here."""

    hashed: dict[tuple[int, str, str], _Node] = field(default_factory=dict)
    listed: list[_Node] = field(default_factory=list)
    listed_keys: dict[tuple[int, str, str], _Node] = field(default_factory=dict)
    betas: int = 0

    def children(self) -> Iterator[_Node]:
        yield from self.listed
        yield from self.hashed.values()


class UnsupportedPattern(ValueError):
    """A pattern shape this model does not reproduce: refused rather than guessed at."""


class AlphaNetwork:
    """The alpha network durable_rules would build for a set of triggers, grown one rule at a
    time (so a partitioner can try a rule and keep it or not): the worst-case stack and the
    array limits are kept up to date as it grows, not recomputed over the whole network."""

    def __init__(self) -> None:
        self.root = _Node()
        self.rules = 0
        self.properties: set[str] = set()
        self._hashes: dict[int, str] = {property_hash(name): name for name in (_FORWARD, "sid", "id")}
        self._overflows: list[str] = []
        self._heights: dict[int, int] = {}  # id(node) -> H(node), dropped for every node an addition touches

    def add_trigger(self, trigger: dict[str, Any]) -> None:
        """Add one rule's trigger (``{"all": [...]}`` or ``{"any": [...]}``; a `run` key is
        ignored)."""
        self.rules += 1
        if self.rules == MAX_ACTIONS:
            self._overflows.append(f"{self.rules} rules (MAX_ACTIONS {MAX_ACTIONS})")
        for key in ("all", "any"):
            if key in trigger:
                self._add_patterns(trigger[key])

    def _add_patterns(self, patterns: list[dict[str, Any]]) -> None:
        for pattern in patterns:
            ((name, body),) = pattern.items()
            if name.endswith(("$all", "$any")):
                self._add_patterns(body)
            elif name.endswith("$not"):
                raise UnsupportedPattern("a `$not` pattern")
            else:
                sequence = [0]
                end = self._alpha(body, self.root, sequence)
                end.betas += 1
                if end.betas == BETA_LIST_LENGTH:
                    self._overflows.append(f"{end.betas} patterns ending at one node "
                                           f"(BETA_LIST_LENGTH {BETA_LIST_LENGTH})")
                if sequence[0] >= MAX_SEQUENCE_EXPRESSIONS:
                    self._overflows.append(f"a pattern of {sequence[0]} expressions "
                                           f"(MAX_SEQUENCE_EXPRESSIONS {MAX_SEQUENCE_EXPRESSIONS})")

    def _alpha(self, expr: dict[str, Any], parent: _Node, sequence: list[int]) -> _Node:
        """The node an expression ends at, built below `parent` as `createAlpha` does. Every
        node whose children change is `parent` of some call here, and so are all its
        ancestors (a regular node's one parent built it; a forward node is new, its parents
        built in this call), so forgetting the height of each `parent` keeps the rest valid."""
        self._heights.pop(id(parent), None)
        if len(expr) != 1:
            raise UnsupportedPattern(f"an expression of {len(expr)} keys: {expr!r}")
        ((key, value),) = expr.items()
        if key in ("$and", "$or"):
            if not value:
                raise UnsupportedPattern(f"an empty {key}")
            sequence[0] += 2  # APPEND_EXPRESSION of the junction and of its OP_END
            if key == "$and":
                for part in value:
                    parent = self._alpha(part, parent, sequence)
                return parent
            forward = _Node()
            for part in value:
                end = self._alpha(part, parent, sequence)
                self._heights.pop(id(end), None)
                self._list(end, forward)
            return forward
        if key.startswith("$"):
            if key not in _OPERATORS or not isinstance(value, dict) or len(value) != 1:
                raise UnsupportedPattern(f"the test {expr!r}")
            operator, ((prop, operand),) = key, value.items()
        else:
            operator, prop, operand = "$eq", key, value
        if isinstance(operand, dict | list):
            raise UnsupportedPattern(f"a test against an expression: {expr!r}")
        self._property(prop)
        node_key = (property_hash(prop), operator, json.dumps(operand))
        if operator == "$nex":  # linked into the parent's nextList (linkAlpha)
            existing = parent.listed_keys.get(node_key)
            if existing is None:
                existing = parent.listed_keys[node_key] = _Node()
                self._list(parent, existing)
            return existing
        child = parent.hashed.get(node_key)
        if child is None:
            child = parent.hashed[node_key] = _Node()
            if len(parent.hashed) == NEXT_BUCKET_LENGTH:
                self._overflows.append(f"a node with {NEXT_BUCKET_LENGTH} children "
                                       f"(NEXT_BUCKET_LENGTH {NEXT_BUCKET_LENGTH})")
        return child

    def _list(self, parent: _Node, child: _Node) -> None:
        parent.listed.append(child)
        if len(parent.listed) == NEXT_LIST_LENGTH:
            self._overflows.append(f"a node with {NEXT_LIST_LENGTH} listed children "
                                   f"(NEXT_LIST_LENGTH {NEXT_LIST_LENGTH})")

    def _property(self, name: str) -> None:
        if name in self.properties:
            return
        self.properties.add(name)
        other = self._hashes.setdefault(property_hash(name), name)
        if other != name:
            self._overflows.append(f"property names '{other}' and '{name}' have one hash")

    def worst_stack(self) -> int:
        """The most entries `handleAlpha` can ever hold for any fact: H(root) (see above)."""
        heights = self._heights

        def height(node: _Node) -> int:
            known = heights.get(id(node))
            if known is None:
                kids = list(node.children())
                known = heights[id(node)] = max(1, len(kids) - 1 + max(map(height, kids))) if kids else 1
            return known

        return height(self.root)

    def limits_exceeded(self) -> list[str]:
        """Every fixed array of durable_rules this network would overflow, in words."""
        stack = self.worst_stack()
        too_deep = [f"the alpha walk may hold {stack} nodes (MAX_STACK_SIZE {MAX_STACK_SIZE})"]
        return (too_deep if stack > MAX_STACK_SIZE else []) + self._overflows


def network_of(definition: dict[str, Any]) -> AlphaNetwork:
    """The alpha network of a whole ruleset definition."""
    network = AlphaNetwork()
    for trigger in definition.values():
        network.add_trigger(trigger)
    return network
