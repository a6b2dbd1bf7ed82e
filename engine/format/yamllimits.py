"""What one YAML file may hold: the limits both composers enforce (`yamlcompose`, the reference,
and `yamlfast`, libyaml's composer under the same rules). A module of its own so that neither
composer imports the other for them."""

from __future__ import annotations

from dataclasses import dataclass

from guidekb.engine.format.textfiles import MiB


@dataclass(frozen=True)
class Limits:
    """What one YAML file may hold; anything beyond is refused with a problem naming the limit.

    The figures are far above any real file (the HSV knowledge base's largest file is 12 KB,
    11 levels deep, with 256 keys and texts up to 450 characters) and low enough that the worst
    file within them is read in about a second. docs/reliability.md lists them.
    """

    what: str  # "case file", "knowledge-base file": named in every message
    max_bytes: int
    max_depth: int  # levels of lists and mappings
    max_keys: int  # mapping keys in the whole file
    max_values: int  # keys, values and list items in the whole file, aliases expanded
    max_string: int  # characters in one scalar
    max_aliases: int  # uses of an alias (*name); 0 also refuses anchors (&name)


CASE_LIMITS = Limits("case file", max_bytes=1 * MiB, max_depth=50, max_keys=1_000,
                     max_values=10_000, max_string=1_000, max_aliases=0)
KB_LIMITS = Limits("knowledge-base file", max_bytes=1 * MiB, max_depth=50, max_keys=50_000,
                   max_values=200_000, max_string=20_000, max_aliases=100)


__all__ = ["CASE_LIMITS", "KB_LIMITS", "Limits"]
