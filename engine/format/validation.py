"""Turn pydantic's validation errors into problems located at the YAML the author wrote."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from guidekb.engine.errors import Problem
from guidekb.engine.format.models import CONDITION_TAGS, FORMAT_MODELS
from guidekb.engine.format.suggest import closest, did_you_mean
from guidekb.engine.format.yamlsource import PathKey, YamlDocument

M = TypeVar("M", bound=BaseModel)


def _known_keys() -> set[str]:
    keys: set[str] = set()
    for model in FORMAT_MODELS:
        for name, info in model.model_fields.items():
            keys.add(info.alias or name)
    return keys


KNOWN_KEYS = _known_keys()


def validate(model: type[M], doc: YamlDocument, prefix: PathKey = ()) -> tuple[M | None, list[Problem]]:
    """Validate the part of `doc` at `prefix` against `model`; every error becomes a problem."""
    data: Any = doc.data
    for key in prefix:
        data = data[key]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, [_problem(doc, prefix, data, error) for error in exc.errors()]


def yaml_path(data: Any, loc: tuple[str | int, ...]) -> PathKey:
    """Pydantic's error location minus the union tags it inserts, as a path into the YAML."""
    path: list[str | int] = []
    current = data
    items = list(loc)
    i = 0
    while i < len(items):
        elem = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if isinstance(current, dict) and elem in CONDITION_TAGS and (
            nxt is None or nxt == elem or (isinstance(nxt, str) and nxt in current)
            or (isinstance(nxt, str) and elem == "fact")
        ):
            i += 1  # a discriminator tag, not a key
            continue
        path.append(elem)
        in_dict = isinstance(current, dict) and elem in current
        in_list = isinstance(current, list) and isinstance(elem, int) and elem < len(current)
        current = current[elem] if in_dict or in_list else None
        i += 1
    return tuple(path)


def dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(top level)"


def _problem(doc: YamlDocument, prefix: PathKey, data: Any, error: Any) -> Problem:
    path = (*prefix, *yaml_path(data, tuple(error["loc"])))
    kind = error["type"]
    where = dotted(path)
    if kind == "extra_forbidden":
        key = str(path[-1])
        return doc.problem(path, f"unknown key '{key}' in {dotted(path[:-1])}",
                           did_you_mean(key, KNOWN_KEYS, "keys"), prefer_key=True)
    if kind == "missing":
        key = str(path[-1])
        return doc.problem(path[:-1], f"missing required key '{key}' in {dotted(path[:-1])}",
                           f"add '{key}:' here")
    message = str(error["msg"]).removeprefix("Value error, ")
    hint = ""
    if kind == "condition" and isinstance(error.get("input"), dict):
        keys = [str(k) for k in error["input"]]
        guesses = [f"'{guess}' instead of '{k}'" for k in keys if (guess := closest(k, CONDITION_TAGS))]
        hint = ("did you mean " + ", ".join(guesses) + "?") if guesses else f"got keys: {', '.join(keys)}"
    if kind not in ("value_error", "condition", "assertion_error"):
        shown = error.get("input")
        if not isinstance(shown, dict | list):
            hint = f"got {shown!r}"
    return doc.problem(path, f"{where}: {message}", hint)
