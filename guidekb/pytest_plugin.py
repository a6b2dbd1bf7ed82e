"""pytest plugin: every invariant and every scenario of a knowledge base, as test items.

A QA team names its knowledge bases, on the command line or in its pytest configuration::

    pytest --guidekb-kb knowledge/hsv-resistance          # repeatable

    [tool.pytest.ini_options]                              # pyproject.toml
    guidekb_kb = ["knowledge/hsv-resistance"]              # relative to that file

and gets one item per invariant (`hsv-resistance::invariant::<id>`, the Hypothesis property
test under the active Hypothesis profile; a failure shows the shrunk counterexample as a
scenario file to paste into scenarios/) and one per scenario file
(`hsv-resistance::scenario::<file stem>`; a failure shows what was expected and what the
answer held, as `guidekb test` does).

Registered through the `pytest11` entry point, so installing guidekb is enough. With no
knowledge base named it does nothing: it adds no items and imports none of guidekb's engine,
so unrelated test suites run as before. Knowledge bases named only in the configuration are
collected when the whole suite runs or a path given on the command line contains (or lies in)
the knowledge base; a run narrowed to other files does not get them.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import TerminalRepr, TracebackStyle

    from guidekb.engine.format.knowledge import KnowledgeBase, Location
    from guidekb.engine.qa.invariants import Invariant
    from guidekb.engine.qa.scenarios import ScenarioResult

OPTION = "--guidekb-kb"
INI = "guidekb_kb"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("guidekb", "guidekb knowledge bases")
    group.addoption(OPTION, action="append", default=[], metavar="PATH", dest="guidekb_kb",
                    help="knowledge-base folder whose invariants and scenarios become test items "
                         "(repeatable)")
    parser.addini(INI, type="linelist", default=[],
                  help="knowledge-base folders whose invariants and scenarios become test items, "
                       "relative to the configuration file")


# durable_rules 2.0.28 calls datetime.utcfromtimestamp on every event, which Python 3.12
# deprecates: one warning per evaluation, about code neither the QA team nor guidekb can change.
DURABLE_RULES_DEPRECATION = (
    "ignore:datetime.datetime.utcfromtimestamp:DeprecationWarning:durable.engine")


def pytest_configure(config: pytest.Config) -> None:
    """Keep durable_rules' own deprecation warnings out of the QA team's test summary."""
    config.addinivalue_line("filterwarnings", DURABLE_RULES_DEPRECATION)


def named_knowledge_bases(config: pytest.Config) -> list[Path]:
    """The knowledge-base folders this run tests, each once, in the order named."""
    here = config.invocation_params.dir
    given = [here / p for p in config.getoption("guidekb_kb") or []]
    base = config.inipath.parent if config.inipath is not None else config.rootpath
    configured = [base / p for p in config.getini(INI)]
    if config.args_source == pytest.Config.ArgsSource.ARGS:
        paths = [(here / arg.split("::", 1)[0]).resolve() for arg in config.args]
        configured = [kb for kb in configured if any(_related(kb.resolve(), p) for p in paths)]
    unique: dict[Path, Path] = {}
    for path in [*given, *configured]:
        unique.setdefault(path.resolve(), path)
    return list(unique)


def _related(kb: Path, arg: Path) -> bool:
    return kb == arg or arg in kb.parents or kb in arg.parents


def pytest_report_header(config: pytest.Config) -> str | None:
    paths = named_knowledge_bases(config)
    return f"guidekb knowledge bases: {', '.join(map(str, paths))}" if paths else None


@pytest.hookimpl(tryfirst=True)  # before -k, -m and --deselect filter the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config,
                                  items: list[pytest.Item]) -> None:
    names: set[str] = set()
    for path in named_knowledge_bases(config):
        name = path.name if path.name not in names else str(path)
        names.add(name)
        collector = KnowledgeBaseCollector.from_parent(session, name=name, path=path, nodeid=name)
        # Collection errors (a knowledge base that does not load) are reported like any other.
        items.extend(session.genitems(collector))


class KnowledgeBaseCollector(pytest.Collector):
    """One named knowledge base: loads it, yields its invariants and scenarios."""

    def collect(self) -> Iterable[pytest.Item]:
        from guidekb.engine.format.kbfiles import file_name
        from guidekb.engine.format.loading import load_knowledge_base
        from guidekb.engine.qa.invariants import load_invariants_located
        from guidekb.engine.qa.scenarios import SCENARIO_DIR, ScenarioError, scenario_listing

        kb = load_knowledge_base(self.path)
        invariants, locations = load_invariants_located(kb)
        listing = scenario_listing(kb.root)
        if listing.problems:  # a file in scenarios/ that would not run fails, never vanishes
            raise ScenarioError(list(listing.problems))
        for inv in invariants:
            yield InvariantItem.from_parent(self, name=f"invariant::{inv.id}", kb=kb, invariant=inv,
                                            location=locations.get(inv.id))
        for file in listing.files:
            name = file_name(file, kb.root / SCENARIO_DIR)
            yield ScenarioItem.from_parent(self, name=f"scenario::{name}", kb=kb, file=file)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: TracebackStyle | None = None) -> str | TerminalRepr:
        return _problems(excinfo) or super().repr_failure(excinfo)


class InvariantItem(pytest.Item):
    """The Hypothesis property test of one invariant."""

    def __init__(self, *, kb: KnowledgeBase, invariant: Invariant, location: Location | None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kb = kb
        self.invariant = invariant
        self.written_at = location

    def runtest(self) -> None:
        from guidekb.engine.qa.propcheck import property_test

        property_test(self.kb, self.invariant)()

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: TracebackStyle | None = None) -> str | TerminalRepr:
        from guidekb.engine.qa.propcheck import InvariantViolated

        if isinstance(excinfo.value, InvariantViolated):
            return f"{self.written_at or self.kb.root / 'invariants.yaml'}: {excinfo.value}"
        return _problems(excinfo) or super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        line = self.written_at.line if self.written_at is not None else 1
        return self.kb.root / "invariants.yaml", line - 1, f"invariant {self.invariant.id}"


class ScenarioFailed(AssertionError):
    """A scenario's expectations were not met by the answer: the message is the diff."""

    def __init__(self, result: ScenarioResult) -> None:
        from guidekb.engine.errors import relative

        self.result = result
        super().__init__(f"{relative(result.loaded.path)}: scenario '{result.name}' fails, "
                         "expected vs got:\n" + "\n".join(f"  {line}" for line in result.diff()))


class ScenarioItem(pytest.Item):
    """One scenario file: its case run through the engine, compared with its expectations."""

    def __init__(self, *, kb: KnowledgeBase, file: Path, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.kb = kb
        self.file = file

    def runtest(self) -> None:
        from guidekb.engine.qa.scenarios import SCENARIO_DIR, load_scenario, run_scenario
        from guidekb.engine.runtime.evaluation import Engine

        loaded = load_scenario(self.file, self.kb, self.kb.root / SCENARIO_DIR)
        result = run_scenario(Engine.for_kb(self.kb), loaded)
        if not result.passed:
            raise ScenarioFailed(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: TracebackStyle | None = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, ScenarioFailed):
            return str(excinfo.value)
        return _problems(excinfo) or super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.file, 0, f"scenario {self.file.stem}"


def _problems(excinfo: pytest.ExceptionInfo[BaseException]) -> str | None:
    """A guidekb error listing located problems (file:line:col and hint), shown as such: the
    author needs the problems, not a traceback through guidekb."""
    from guidekb.engine.errors import ProblemsError

    return excinfo.value.render() if isinstance(excinfo.value, ProblemsError) else None
