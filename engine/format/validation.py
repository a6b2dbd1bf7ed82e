"""Turn pydantic's validation errors into problems located at the YAML the author wrote.

The author never sees pydantic's own wording ("Input should be a valid dictionary or instance
of Then"): every error type the format can raise is said in terms of what to write there
("then: expected a mapping with the keys derive, recommend, forbid"), with an error code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from functools import cache
from types import MappingProxyType, UnionType
from typing import Annotated, Any, TypeVar, Union, get_args, get_origin

from pydantic import BaseModel, Tag, ValidationError

from guidekb.engine.errors import (
    BAD_CONDITION,
    INVALID_VALUE,
    MISSING_KEY,
    UNKNOWN_KEY,
    WRONG_TYPE,
    ErrorCode,
    Problem,
)
from guidekb.engine.format.models import (
    COMPARISON_OPERATORS,
    CONDITION_TAGS,
    ID_PATTERN,
    NAME_PATTERN,
    AllOf,
    Always,
    AnyOf,
    Compare,
    Known,
    Not,
    Unknown,
)
from guidekb.engine.format.paths import dotted
from guidekb.engine.format.suggest import closest, did_you_mean
from guidekb.engine.format.yamlsource import PathKey, YamlDocument

M = TypeVar("M", bound=BaseModel)
# The kinds of condition: a mapping in a condition's place may be meant as any of them.
CONDITION_MODELS: tuple[type[BaseModel], ...] = (AllOf, AnyOf, Not, Known, Unknown, Compare, Always)

__all__ = ["dotted", "keys_of", "nested_models", "validate", "yaml_path"]


@cache
def nested_models(model: type[BaseModel]) -> dict[str, type[BaseModel]]:
    """`model` and every model nested in its fields, by class name."""
    found: dict[str, type[BaseModel]] = {}
    pending = [model]
    while pending:
        current = pending.pop()
        if current.__name__ in found:
            continue
        found[current.__name__] = current
        for info in current.model_fields.values():
            pending.extend(_models_in(info.annotation))
    return found


@cache
def keys_of(model: type[BaseModel]) -> frozenset[str]:
    """Every key an author may write in a file validated by `model`: its fields and those of
    every model nested in it. Unknown keys get did-you-mean suggestions from this set, so a
    file format defined elsewhere (invariants, lint) needs no registration."""
    return frozenset(info.alias or name for nested in nested_models(model).values()
                     for name, info in nested.model_fields.items())


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in get_args(annotation):
        yield from _models_in(arg)


def validate(model: type[M], doc: YamlDocument, prefix: PathKey = ()) -> tuple[M | None, list[Problem]]:
    """Validate the part of `doc` at `prefix` against `model`; every error becomes a problem."""
    data: Any = doc.data
    for key in prefix:
        data = data[key]
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        return None, _problems(model, doc, prefix, data, exc.errors())


def yaml_path(data: Any, loc: tuple[str | int, ...]) -> PathKey:
    """Pydantic's error location minus the union tags it inserts, as a path into the YAML."""
    path: list[str | int] = []
    current = data
    items = list(loc)
    skipped: str | int | None = None
    i = 0
    while i < len(items):
        elem = items[i]
        nxt = items[i + 1] if i + 1 < len(items) else None
        if isinstance(current, dict) and elem in CONDITION_TAGS and elem != skipped and (
            nxt is None or nxt == elem or (isinstance(nxt, str) and nxt in current)
            or (isinstance(nxt, str) and elem == "fact")
        ):
            skipped = elem  # a discriminator tag, not a key ...
            i += 1
            continue
        skipped = None  # ... unless it repeats: `always: yes` is the field `always` of Always
        path.append(elem)
        in_dict = isinstance(current, dict) and elem in current
        in_list = isinstance(current, list) and isinstance(elem, int) and elem < len(current)
        current = current[elem] if in_dict or in_list else None
        i += 1
    return tuple(path)


def _without_misspelt_missing(errors: list[Any]) -> list[Any]:
    """`errors` less each 'missing' key whose misspelling is an unknown key of the same mapping
    (`findng:` for `finding:`): the unknown key's did-you-mean says all there is to say."""
    unknown: dict[tuple[Any, ...], list[str]] = {}
    for error in errors:
        if error["type"] == "extra_forbidden":
            unknown.setdefault(tuple(error["loc"][:-1]), []).append(str(error["loc"][-1]))
    kept = []
    for error in errors:
        loc = tuple(error["loc"])
        if error["type"] == "missing" and any(
                closest(typed, [str(loc[-1])]) is not None for typed in unknown.get(loc[:-1], [])):
            continue
        kept.append(error)
    return kept


def _problems(model: type[BaseModel], doc: YamlDocument, prefix: PathKey, data: Any,
              errors: list[Any]) -> list[Problem]:
    """One problem per place: the errors pydantic gives for each member of a union (`equals:
    [a]` is neither true/false, a number nor text) become one 'expected ... or ...'; a key
    both missing and misspelt in the same mapping is said once, as the misspelling."""
    grouped: dict[PathKey, list[Any]] = {}
    for error in _without_misspelt_missing(errors):
        path = (*prefix, *yaml_path(data, tuple(error["loc"])))
        if error["type"] not in ("missing", "extra_forbidden"):
            while path and path not in doc.values:  # union member labels are not in the file
                path = path[:-1]
        grouped.setdefault(path, []).append(error)
    problems: list[Problem] = []
    for path, group in grouped.items():
        expected = [_EXPECTED[e["type"]] for e in group if e["type"] in _EXPECTED]
        if len(expected) > 1 and len(expected) == len(group):
            what = _either(list(dict.fromkeys(expected)))
            problems.append(doc.problem(path, f"{dotted(path)}: expected {what}", _got(group[0]),
                                        code=WRONG_TYPE))
        else:
            problems += [_problem(model, doc, path, error) for error in group]
    return problems


def _either(choices: list[str]) -> str:
    return choices[0] if len(choices) == 1 else ", ".join(choices[:-1]) + " or " + choices[-1]


# What the author must write, for each pydantic error type that says "wrong kind of value".
_EXPECTED: Mapping[str, str] = MappingProxyType({
    "bool_type": "true or false", "bool_parsing": "true or false",
    "int_type": "a whole number", "int_parsing": "a whole number", "int_from_float": "a whole number",
    "float_type": "a number", "float_parsing": "a number",
    "string_type": "text", "list_type": "a list", "tuple_type": "a list", "set_type": "a list",
    "dict_type": "a mapping (one 'key: value' per line)",
    "date_type": "a date written YYYY-MM-DD", "date_parsing": "a date written YYYY-MM-DD",
    "date_from_datetime_parsing": "a date written YYYY-MM-DD",
    "date_from_datetime_inexact": "a date written YYYY-MM-DD",
    "none_required": "nothing (null)",
})
# How to mend what a model's own check refuses (its message says what is wrong), by the
# message's opening words.
_MENDS: tuple[tuple[str, str], ...] = (
    ("a fact of type", "list its values: values: [a, b]"),
    ("'values' lists the same value twice", "list each value once"),
    ("'values' is only for", "remove 'values', or make the type enum or enum_list"),
    ("an integer fact needs both", "add min: and max: (the smallest and largest value a case may give)"),
    ("'min' (", "swap them, or correct one"),
    ("'min', 'max' and 'unit' are only", "remove them, or make the type integer"),
    ("a derived fact is a conclusion", "write type: boolean, or remove derived: true"),
    ("'then' must derive", "add derive: [...], recommend: [...] or forbid: [...]"),
    ("write exactly one of 'code' or 'codes'", "code: x for one code, codes: [x, y] for several"),
    ("an invariant needs exactly one of", "an invariant states one property: keep one of them, "
     "or split it into two invariants with their own ids"),
)
_PATTERNS: Mapping[str, str] = MappingProxyType({
    NAME_PATTERN: "a snake_case name: lowercase letters and digits, words joined by '_' "
                  "(e.g. days_on_therapy)",
    ID_PATTERN: "an id of lowercase letters, digits, '.', '_' and '-', starting with a letter or "
                "digit (e.g. foscarnet-when-suspected)",
    r"^[a-z-]+:.+$": "a finding id, kind:subject, as guidekb lint prints it (e.g. "
                     "never-fires:rule-id)",  # engine/qa/lint.py's Acknowledgement.finding
})


def _got(error: Any) -> str:
    """The value the author wrote, as YAML shows it."""
    shown = error.get("input")
    if isinstance(shown, dict):
        return "got a mapping"
    if isinstance(shown, list):
        return "got a list"
    if shown is None:
        return "got an empty value"
    if isinstance(shown, bool):
        return f"got {str(shown).lower()}"
    return f"got {shown!r}"


def _problem(model: type[BaseModel], doc: YamlDocument, path: PathKey, error: Any) -> Problem:
    kind = error["type"]
    loc = tuple(error["loc"])
    where = dotted(path)
    if kind == "extra_forbidden":
        key = str(path[-1])
        return doc.problem(path, f"unknown key '{key}' in {dotted(path[:-1])}",
                           _key_hint(key, model_at(model, loc[:-1]), model,
                                     _mapping_keys(doc.data, path[:-1])), prefer_key=True,
                           code=UNKNOWN_KEY)
    if kind == "missing":
        key = str(path[-1])
        return doc.problem(path[:-1], f"missing required key '{key}' in {dotted(path[:-1])}",
                           f"add '{key}:' here", code=MISSING_KEY)
    if "[key]" in loc:
        key = loc[loc.index("[key]") - 1]
        what = _key_expectation(kind, error)
        mended = _mended(str(key), str((error.get("ctx") or {}).get("pattern", "")))
        return doc.problem(path, f"{where}: the key '{key}' must be {what}",
                           f"write '{mended}'" if mended else "", prefer_key=True,
                           code=INVALID_VALUE)
    if kind in ("condition", "value_error", "assertion_error"):
        message = str(error["msg"]).removeprefix("Value error, ").removeprefix("Assertion failed, ")
        hint = ""
        if kind == "condition" and isinstance(error.get("input"), dict):
            keys = [str(k) for k in error["input"]]
            guesses = [f"'{guess}' instead of '{k}'" for k in keys if (guess := closest(k, CONDITION_TAGS))]
            hint = ("did you mean " + ", ".join(guesses) + "?") if guesses else f"got keys: {', '.join(keys)}"
        elif kind == "condition":
            hint = _got(error)
        elif "needs exactly one of" in message and isinstance(error.get("input"), dict) \
                and "fact" in error["input"]:
            hint = _operator_hint(error["input"])
        else:
            hint = next((mend for start, mend in _MENDS if message.startswith(start)), "")
            if message.startswith("an invariant needs") and message.endswith("(got none)"):
                hint = "add the property it states, e.g. never_both: {codes: [a, b]}"
        bad_condition = kind == "condition" or (loc and loc[-1] in CONDITION_TAGS)
        return doc.problem(path, f"{where}: {message}", hint,
                           code=BAD_CONDITION if bad_condition else INVALID_VALUE)
    message, hint, code = _author_wording(model, kind, error, path)
    return doc.problem(path, f"{where}: {message}", hint, code=code)


def _operator_hint(test: dict[Any, Any]) -> str:
    """How to mend a fact test with no operator or several: a misspelt operator named, or an
    example of the one to write."""
    operators = [op for op in COMPARISON_OPERATORS if op in test]
    if len(operators) > 1:
        return f"keep one of {', '.join(operators)}; for several values, write in: [a, b]"
    others = [str(k) for k in test if k != "fact" and k not in COMPARISON_OPERATORS]
    guesses = [f"'{guess}' instead of '{k}'" for k in others
               if (guess := closest(k, COMPARISON_OPERATORS, cutoff=0.5))]
    if guesses:
        return "did you mean " + ", ".join(guesses) + "?"
    return "for example: equals: true, in: [a, b] or ge: 10"


def _key_hint(key: str, here: type[BaseModel] | None, model: type[BaseModel],
              written: Iterable[Any]) -> str:
    """Did-you-mean for an unknown key among the keys the mapping it is in may hold (`section`
    in a source is `sections`, though provenance has a `section`), leaving out those already
    written there; a condition may hold the keys of any kind of condition. With no close one,
    those keys are listed. Only when the mapping's model cannot be told is every key of the
    file searched."""
    if here is None:
        return did_you_mean(key, keys_of(model), "keys")
    members = CONDITION_MODELS if here in CONDITION_MODELS else (here,)
    local = {info.alias or name for member in members for name, info in member.model_fields.items()}
    free = sorted(local - {str(k) for k in written})
    guess = closest(key, free)
    if guess is not None:
        return f"did you mean '{guess}'?"
    twice = closest(key, local)
    if twice is not None:
        return f"did you mean '{twice}'? It is already written here: merge the two"
    return "the keys here are: " + ", ".join(sorted(local)) if local else ""


def _mapping_keys(data: Any, path: PathKey) -> list[Any]:
    """The keys written in the mapping at `path` of the file's data (none if it is not one)."""
    for part in path:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if not in_list and not (isinstance(data, dict) and part in data):
            return []
        data = data[part]
    return list(data) if isinstance(data, dict) else []


def model_at(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The model validating the mapping at pydantic's error location `loc` (field names, list
    indexes, mapping keys and the tags of tagged unions), or None when it cannot be told."""
    annotation: Any = model
    for elem in loc:
        annotation = _step(annotation, elem)
        if annotation is None:
            return None
    found = list(_models_in(annotation))
    return found[0] if len(found) == 1 else None


def _step(annotation: Any, elem: Any) -> Any:
    """One step down `annotation` along a location element (None when it does not fit)."""
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is Annotated:
        return _step(args[0], elem)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        for name, info in annotation.model_fields.items():
            if elem in (name, info.alias):
                return info.annotation
        return None
    if origin is list and isinstance(elem, int):
        return args[0] if args else None
    if origin is dict:
        return args[1] if len(args) == 2 else None
    if origin in (Union, UnionType):
        for member in args:  # a tagged union's location names the tag of its member
            tags = [m for m in get_args(member)[1:] if isinstance(m, Tag)] \
                if get_origin(member) is Annotated else []
            if tags and tags[0].tag == elem:
                return get_args(member)[0]
        fitting = [step for member in args if member is not type(None)
                   if (step := _step(member, elem)) is not None]
        return fitting[0] if len(fitting) == 1 else None
    return None


def _author_wording(model: type[BaseModel], kind: str, error: Any,
                    path: PathKey) -> tuple[str, str, ErrorCode]:
    """(message, hint, code) for a pydantic error type, in the words of the format."""
    ctx = error.get("ctx") or {}
    got = _got(error)
    if kind in ("model_type", "model_attributes_type"):
        expected = nested_models(model).get(str(ctx.get("class_name", "")))
        keys = ", ".join(info.alias or name for name, info in expected.model_fields.items()) \
            if expected is not None else ""
        what = f"a mapping with the keys {keys}" if keys else "a mapping"
        given = error.get("input")
        if isinstance(given, list) and path:
            if expected is not None and given and not any(isinstance(item, dict) for item in given):
                first = next(iter(expected.model_fields.values()))
                example = f"{path[-1]}: {{{first.alias or next(iter(expected.model_fields))}: [...]}}"
                return f"expected {what}", f"{got}: the list goes under a key, e.g. {example}", WRONG_TYPE
            return (f"expected {what}",
                    f"write its keys directly under '{path[-1]}:', not as list items ('- ')", WRONG_TYPE)
        return f"expected {what}", got, WRONG_TYPE
    if kind in _EXPECTED:
        hint = got
        if kind == "list_type":
            hint += "; write [a, b] or one '- item' per line"
        elif kind == "dict_type" and isinstance(error.get("input"), list):
            hint += "; write each entry as 'name:' with its keys indented below it, not as '- '"
        return f"expected {_EXPECTED[kind]}", hint, WRONG_TYPE
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        if choices:
            given = error.get("input")
            guess = closest(given, choices, cutoff=0.7) if isinstance(given, str) else None
            return (f"must be one of {', '.join(choices)}",
                    f"{got}; did you mean '{guess}'?" if guess else got, INVALID_VALUE)
        literal = str(ctx.get("expected", "")).replace("True", "true").replace("False", "false")
        field = next((part for part in reversed(error["loc"]) if isinstance(part, str)), "")
        return f"must be {literal}", f"write {field}: {literal}" if field else got, INVALID_VALUE
    if kind == "string_pattern_mismatch":
        pattern = str(ctx.get("pattern", ""))
        given = error.get("input")
        mended = _mended(given, pattern) if isinstance(given, str) else None
        return (f"must be {_pattern_words(pattern)}",
                f"{got}; write '{mended}'" if mended else got, INVALID_VALUE)
    if kind == "string_too_short":
        return "must not be empty", "write the text here", INVALID_VALUE
    if kind == "too_short":
        count = int(ctx.get("min_length", 1))
        actual = int(ctx.get("actual_length", 0))
        hint = "the list is empty" if not actual else f"it has {actual}"
        return f"must list at least {count} item{'s' if count != 1 else ''}", hint, INVALID_VALUE
    if kind in ("too_long", "string_too_long"):
        count = int(ctx.get("max_length", 0))
        unit = "characters" if kind == "string_too_long" else "items"
        return f"must have at most {count} {unit}", "", INVALID_VALUE
    return "this value is not valid here", got, INVALID_VALUE


def _mended(written: str, pattern: str) -> str | None:
    """`written` turned into a name or id the pattern accepts (`Days On-Therapy` ->
    `days_on_therapy`, `Failing After` -> `failing-after`), when that is possible."""
    if pattern not in (NAME_PATTERN, ID_PATTERN):
        return None
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", written).lower()
    joiner = "_" if pattern == NAME_PATTERN else "-"
    keep = r"[^a-z0-9]+" if pattern == NAME_PATTERN else r"[^a-z0-9_.]+"
    mended = re.sub(keep, joiner, words).strip("_-.")
    return mended if mended and mended != written and re.fullmatch(pattern, mended) else None


def _key_expectation(kind: str, error: Any) -> str:
    if kind == "string_pattern_mismatch":
        return _pattern_words(str((error.get("ctx") or {}).get("pattern", "")))
    return _EXPECTED.get(kind, "valid here")


def _pattern_words(pattern: str) -> str:
    return _PATTERNS.get(pattern, f"text of the form {pattern}")
