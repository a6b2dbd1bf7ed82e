"""The case playground's requests: what a case from the form is, and a scenario's file name.

The form sends a case as a JSON object, fact name -> value, where a fact left out (or sent as
null) is unknown, never false. Everything about the facts themselves (a misspelt name, a value
outside the domain, a number sent as a string) is the engine's own case validation
(CaseError), answered as a 4xx with its message; this module only refuses a body that is not
a case at all, and a scenario name that is not a plain file name.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

SCENARIO_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,79}")
DEFAULT_NAME = "playground"


class BadRequest(Exception):
    """The request is not what the page sends: answered with 400 and this message."""


def case_from(body: Any) -> dict[str, Any]:
    """The case of a request body `{"case": {...}}`, unknown (null) facts dropped."""
    if not isinstance(body, dict) or not isinstance(body.get("case"), dict):
        raise BadRequest('expected a JSON object {"case": {fact: value, ...}}')
    return {str(name): value for name, value in body["case"].items() if value is not None}


def scenario_request(body: Any, scenarios: Path) -> tuple[dict[str, Any], str, str]:
    """The case, file name (without suffix) and description of a "save as scenario" request.

    A name left empty becomes the first free `playground-N`; a name given must be a plain
    lower-case file name (it is never a path)."""
    case = case_from(body)
    name = str(body.get("name") or "").strip()
    description = " ".join(str(body.get("description") or "").split())
    if not name:
        name = fresh_name(scenarios)
    elif not SCENARIO_NAME.fullmatch(name):
        raise BadRequest(f"scenario name {name!r}: use lower-case letters, digits, '-' and '_' "
                         "(up to 80, starting with a letter or digit)")
    if not description:
        known = ", ".join(f"{fact}={value}" for fact, value in case.items()) or "every fact unknown"
        description = f"Saved from the studio playground: {known}."
    return case, name, description


def fresh_name(scenarios: Path) -> str:
    """`playground-1`, `playground-2`, ...: the first name no file in `scenarios` has."""
    number = 1
    while any((scenarios / f"{DEFAULT_NAME}-{number}{suffix}").exists() for suffix in (".yaml", ".yml")):
        number += 1
    return f"{DEFAULT_NAME}-{number}"


__all__ = ["BadRequest", "case_from", "fresh_name", "scenario_request"]
