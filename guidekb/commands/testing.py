"""`guidekb test [--kb KB] [--coverage]`: run the knowledge base's scenarios, one line each.

Exit status: 0 when every scenario passes, 1 when any fails or there is no scenario to run (a
knowledge base without tests is not a passing one), 2 when a scenario file (or the knowledge
base) does not validate. With --coverage the exit status is unchanged: coverage
is reported, not enforced.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from guidekb import watching
from guidekb.console import console, shown
from guidekb.engine.errors import relative
from guidekb.engine.qa.scenario_coverage import CoverageReport, measure
from guidekb.engine.qa.scenarios import ScenarioResult, run_scenarios
from guidekb.formats import JunitCase, JunitFormat, TextJsonJunit, junit_xml, print_json
from guidekb.options import DEFAULT_KB, KbOption, KbPositional, chosen_kb, load
from guidekb.watching import WatchOption


def test(
    kb: KbOption = DEFAULT_KB,
    legacy_kb: KbPositional = None,
    scenario: Annotated[list[Path] | None, typer.Option(
        "--scenario", "-s",
        help="Run only these scenario files (default: every .yaml/.yml file under KB/scenarios/).")] = None,
    coverage: Annotated[bool, typer.Option(
        "--coverage", help="Also report rules fired, condition branches and unchecked codes.")] = False,
    timing: Annotated[bool, typer.Option(
        "--timing/--no-timing", help="Show how long each scenario took (off: reproducible output).")] = True,
    fmt: JunitFormat = TextJsonJunit.text,
    watch: WatchOption = False,
) -> None:
    """Run the scenarios of a knowledge base and report pass/fail with a diff for each failure."""
    kb = chosen_kb(kb, legacy_kb)
    if watch:
        watching.watch(kb, lambda: test_once(kb, scenario, coverage, timing, fmt))
        return
    test_once(kb, scenario, coverage, timing, fmt)


def test_once(kb: Path, scenario: list[Path] | None, coverage: bool, timing: bool,
              fmt: TextJsonJunit) -> None:
    """One run of the scenarios, printed in `fmt`; exits 1 when any fails or none ran."""
    knowledge = load(kb)
    results = run_scenarios(knowledge, scenario or None)
    if fmt is not TextJsonJunit.text:
        if fmt is TextJsonJunit.json:
            print_json(as_json(results, measure(knowledge, results) if coverage else None))
        else:
            typer.echo(junit_xml(f"guidekb test {knowledge.id}", [
                JunitCase(r.name, f"scenarios.{knowledge.id}", r.seconds,
                          None if r.passed else "\n".join(r.diff())) for r in results]), nl=False)
        raise typer.Exit(1 if not results or any(not r.passed for r in results) else 0)
    if not results:
        console.print(f"[red]no scenarios found[/red] in {shown(str(kb / 'scenarios'))}: "
                      "write one (docs/scenarios.md); a knowledge base without tests fails `test`",
                      soft_wrap=True)
        raise typer.Exit(1)
    for result in results:
        print_result(console, result, timing)
    failed = [r for r in results if not r.passed]
    colour = "red" if failed else "green"
    console.print(f"\n[{colour}]{len(results) - len(failed)} passed, {len(failed)} failed[/{colour}]"
                  f" ({len(results)} scenario{'' if len(results) == 1 else 's'})")
    if coverage:
        print_coverage(console, measure(knowledge, results))
    if failed:
        raise typer.Exit(1)


def as_json(results: list[ScenarioResult], report: CoverageReport | None) -> dict[str, Any]:
    """`test --format json` (docs/schema/output/test.schema.json)."""
    failed = sum(1 for r in results if not r.passed)
    data: dict[str, Any] = {
        "passed": len(results) - failed,
        "failed": failed,
        "scenarios": [{
            "name": r.name, "file": relative(r.loaded.path), "passed": r.passed,
            "seconds": r.seconds,
            "differences": [{"expectation": d.expectation, "item": d.item, "detail": d.detail}
                            for d in r.differences],
        } for r in results],
    }
    if report is not None:
        data["coverage"] = {
            "rules_not_fired": list(report.rules_not_fired),
            "codes_unchecked": list(report.codes_unchecked),
            "derived_unchecked": list(report.derived_unchecked),
        }
    return data


def print_result(out: Console, result: ScenarioResult, timing: bool = True) -> None:
    status = "[green]PASS[/green]" if result.passed else "[red]FAIL[/red]"
    took = f"  [dim]{result.seconds * 1000:.1f} ms[/dim]" if timing else ""
    out.print(f"{status}  {shown(result.name)}{took}")
    for line in result.diff():
        out.print(f"      {shown(line)}")


def print_coverage(out: Console, report: CoverageReport) -> None:
    fired = sum(1 for names in report.rules_fired.values() if names)
    total = len(report.rules_fired)
    complete = sum(1 for b in report.branches if b.complete)
    out.print(f"\n[bold]Coverage[/bold]\n  rules fired: {fired}/{total}"
              f"\n  condition branches seen true and false: {complete}/{len(report.branches)}")
    if report.rules_not_fired:
        out.print("  rules no scenario fires: " + shown(", ".join(report.rules_not_fired)))
    if report.branches_incomplete:
        table = Table("rule", "leaf", "test", "never seen", title="Branches not exercised both ways")
        for branch in report.branches_incomplete:
            table.add_row(shown(branch.rule), shown(branch.path), shown(branch.test), branch.missing)
        out.print(table)
    if report.codes_unchecked:
        out.print("  codes no scenario expects: " + shown(", ".join(report.codes_unchecked)))
    else:
        out.print("  every code is expected by some scenario")
    if report.derived_unchecked:
        out.print("  derived facts no scenario expects: " + shown(", ".join(report.derived_unchecked)))


def register(app: typer.Typer) -> None:
    app.command("test")(test)
