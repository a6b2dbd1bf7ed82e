"""Fuzzing: mutants of the HSV knowledge base and of case files either load or are refused with
located problems (exit 2), within the time bound -- never a traceback, never a hang.

The mutations (tests/fuzzing.py) are the kinds seen to break guidekb: deleted keys, wrong
types, truncation, random bytes, deep nesting, aliases, control characters, huge strings,
values swapped between files, `equals: null`, long file names, paths outside the knowledge
base, FIFOs and devices. `make test` runs a few hundred (the `ci` profile); `make fuzz`
(GUIDEKB_FUZZ=thorough) runs over 100,000 knowledge-base and 10,000 case mutants in shards
that pytest-xdist spreads over the cores, and writes its figures to out/fuzz/. Every crash a
run found is kept below as a regression test.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from guidekb.engine.errors import ProblemsError
from tests.conftest import ROOT
from tests.fuzzing import (
    KB_FILES,
    TIME_BOUND,
    CaseMutation,
    Harness,
    Mutation,
    Outcome,
    ReplaceFile,
    SetValue,
    Several,
    SourcePath,
    Stats,
    SwapFiles,
    Truncate,
    Workspace,
    case_mutations,
    kb_mutations,
)

THOROUGH = os.environ.get("GUIDEKB_FUZZ") == "thorough"
LONGER = os.environ.get("HYPOTHESIS_PROFILE") == "thorough"  # `make thorough`
KB_SHARDS, CASE_SHARDS = (10, 2) if THOROUGH else (1, 1)
KB_MUTANTS = 100_000 if THOROUGH else 1_000 if LONGER else 120
CASE_MUTANTS = 12_000 if THOROUGH else 1_000 if LONGER else 150
REPORT = Path(os.environ.get("GUIDEKB_FUZZ_REPORT", ROOT / "out" / "fuzz"))


def fuzz_settings(mutants: int, shards: int) -> settings:
    return settings(max_examples=mutants // shards, deadline=None, derandomize=not THOROUGH,
                    database=None if THOROUGH else settings.default.database,
                    suppress_health_check=list(HealthCheck), print_blob=True)


@pytest.fixture(scope="module")
def harness() -> Iterator[Harness]:
    made = Harness()
    try:
        yield made
        made.check_cache()
    finally:
        made.ws.close()


def check(outcome: Outcome, what: object) -> None:
    assert outcome.exit_code != 3, f"{what!r} crashed: {outcome.error!r}"
    assert outcome.seconds < TIME_BOUND, f"{what!r} took {outcome.seconds:.1f} s"


@pytest.mark.parametrize("shard", range(KB_SHARDS))
def test_knowledge_base_mutants_load_or_are_refused(harness: Harness, shard: int) -> None:
    stats = Stats(f"kb-{shard}")

    @fuzz_settings(KB_MUTANTS, KB_SHARDS)
    @given(mutation=kb_mutations())
    def mutant_is_handled(mutation: Mutation) -> None:
        outcome = harness.load_kb(mutation)
        stats.add(mutation, outcome)
        check(outcome, mutation)

    try:
        mutant_is_handled()
    finally:
        if THOROUGH:
            stats.write(REPORT)
    assert stats.exit_codes[2] > stats.runs // 4, "the mutations should mostly break the knowledge base"


@pytest.mark.parametrize("shard", range(CASE_SHARDS))
def test_case_mutants_evaluate_or_are_refused(harness: Harness, shard: int) -> None:
    stats = Stats(f"case-{shard}")

    @fuzz_settings(CASE_MUTANTS, CASE_SHARDS)
    @given(mutation=case_mutations(harness.kb))
    def mutant_is_handled(mutation: CaseMutation) -> None:
        outcome = harness.load_case(mutation)
        stats.add(mutation, outcome)
        check(outcome, mutation)

    try:
        mutant_is_handled()
    finally:
        if THOROUGH:
            stats.write(REPORT)
    assert stats.exit_codes[0] > 0 and stats.exit_codes[2] > 0


def test_the_harness_restores_the_pristine_copy(harness: Harness) -> None:
    """Without a mutation the copy loads; a file rewritten as YAML (as data-level mutations
    are) still loads; after a mutant every file is back as it was."""
    assert harness.load_kb(Several(())).exit_code == 0
    same_path = SourcePath(0, "sources/valacyclovir-resistance-signs.txt")
    assert harness.load_kb(same_path).exit_code == 0
    assert harness.load_kb(ReplaceFile("rules/dosing.yaml", "fifo")).exit_code == 2
    for name, data in KB_FILES.items():
        assert (harness.ws.kb / name).read_bytes() == data


def test_the_workspace_of_a_killed_run_is_removed_by_the_next(tmp_path: Path) -> None:
    """A run killed before its clean-up (SIGKILL, SIGTERM, an xdist worker ended on Ctrl-C)
    leaves its copy in /dev/shm: the next workspace made there removes it, never one in use."""
    hold = ("import sys, time; from pathlib import Path; from tests.fuzzing import KB_FILES, Workspace; "
            "print(Workspace(KB_FILES, Path(sys.argv[1])).base, flush=True); time.sleep(600)")
    runs = [subprocess.Popen([sys.executable, "-c", hold, str(tmp_path)], cwd=ROOT, stdout=subprocess.PIPE,
                             text=True) for _ in range(2)]
    try:
        killed, alive = [Path(run.stdout.readline().strip()) for run in runs if run.stdout]
        assert killed.is_dir() and alive.is_dir()
        runs[0].kill()
        runs[0].wait()
        workspace = Workspace(KB_FILES, tmp_path)
        try:
            assert not killed.exists(), "the killed run's workspace was left"
            assert (alive / "kb" / "manifest.yaml").is_file(), "a workspace in use was removed"
        finally:
            workspace.close()
        assert sorted(tmp_path.iterdir()) == [alive]
    finally:
        for run in runs:
            run.kill()
            run.wait()


# --- crashes the fuzzer found, kept as regression tests -----------------------------------------

REGRESSIONS: list[Mutation] = [
    # `equals: null` in a rule: AssertionError in Compare.operator (issue 9)
    SetValue("rules/suspicion.yaml", ("rules", 10, "when", "all", 0, "equals"), None),
    # a truncated source text: 27 quotes fail and each searched the closest passage (17 s)
    Truncate("sources/persistent-cold-sores-next-step.txt", 1785),
    # the two source texts swapped: every quote fails (15 s)
    SwapFiles("sources/valacyclovir-resistance-signs.txt", "sources/persistent-cold-sores-next-step.txt"),
    # a 20,000-character quote that is in no source
    SetValue("rules/dosing.yaml", ("rules", 0, "provenance", 0, "quote"), "cold sores " * 1818),
    # a 300-character source file name: OSError from Path.is_file (issue 9)
    SourcePath(0, "x" * 300),
    # a source path outside the knowledge base was read (issue 9)
    SourcePath(1, "../../../../etc/passwd"),
]


@pytest.mark.parametrize("mutation", REGRESSIONS, ids=repr)
def test_crashes_found_by_fuzzing_stay_fixed(harness: Harness, mutation: Mutation) -> None:
    outcome = harness.load_kb(mutation)
    check(outcome, mutation)
    assert outcome.exit_code == 2


def test_many_failed_quotes_of_one_source_say_to_check_the_source(harness: Harness) -> None:
    """Past the first five failed quotes of a source no closest passage is searched: the hint
    says the source text itself is probably wrong, and the load stays quick."""
    outcome = harness.load_kb(SwapFiles("sources/valacyclovir-resistance-signs.txt",
                                        "sources/persistent-cold-sores-next-step.txt"))
    assert outcome.exit_code == 2 and outcome.seconds < TIME_BOUND
    assert isinstance(outcome.error, ProblemsError)
    hints = [p.hint for p in outcome.error.problems if p.code.name == "quote-not-found"]
    assert sum(h.startswith("closest passage") for h in hints) == 10  # five for each source
    assert "more than 5 quotes are not found in persistent-cold-sores-next-step.txt: check that it " \
           "is the right text, complete (closest passages are shown for the first 5)" in hints
