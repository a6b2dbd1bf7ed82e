"""`guidekb run` imports only what it needs: none of z3, networkx, Hypothesis, graphviz or
Dask, cold or with the knowledge-base cache warm (they cost more than the run itself), while
the commands that do need them still get them (and z3 still has its Ctrl-C handler off)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASE = ROOT / "knowledge" / "hsv-resistance" / "cases" / "confirmed-resistance.yaml"
HEAVY = ("z3", "networkx", "hypothesis", "graphviz", "dask", "distributed")

PROGRAM = """
import json, sys
sys.argv = ["guidekb", *sys.argv[1:]]
from guidekb.cli import main
try:
    main()
except SystemExit as done:
    code = done.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {heavy!r})
roots = sorted({{m.split(".")[0] for m in heavy}})
sys.stderr.write("\\nMODULES " + json.dumps(roots) + "\\n")
if {check_z3!r}:
    import z3
    sys.stderr.write("CTRL_C " + z3.get_param("ctrl_c") + "\\n")
"""


def _imported(args: list[str], tmp_path: Path, check_z3: bool = False) -> tuple[list[str], str]:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    env.pop("GUIDEKB_NO_CACHE", None)
    program = PROGRAM.format(heavy=set(HEAVY), check_z3=check_z3)
    done = subprocess.run([sys.executable, "-c", program, *args], capture_output=True, text=True,
                          cwd=ROOT, env=env, timeout=300)
    line = next(x for x in done.stderr.splitlines() if x.startswith("MODULES "))
    return json.loads(line.removeprefix("MODULES ")), done.stderr


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_run_imports_nothing_heavy_cold_or_warm(tmp_path: Path, fmt: str) -> None:
    args = ["run", str(CASE), "--format", fmt]
    cold, _ = _imported(args, tmp_path)
    assert (tmp_path / "cache" / "guidekb" / "kb").is_dir(), "the cold run fills the cache"
    warm, _ = _imported(args, tmp_path)
    assert cold == [] and warm == []


def test_a_json_run_does_not_even_import_rich(tmp_path: Path) -> None:
    program = PROGRAM.format(heavy={"rich"}, check_z3=False)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-c", program, "run", str(CASE), "--format", "json"],
                          capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert done.stdout.startswith("[") and "MODULES []" in done.stderr


def test_commands_that_prove_still_get_z3_without_its_ctrl_c_handler(tmp_path: Path) -> None:
    modules, stderr = _imported(["lint"], tmp_path, check_z3=True)
    assert "z3" in modules
    assert "CTRL_C false" in stderr


def test_help_still_lists_every_command(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "guidekb", "--help"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    listed = set(done.stdout.split())
    commands = {"check", "coverage", "explain", "flowchart", "init", "lint", "run", "schema", "test",
                "validate"}
    assert commands <= listed


def test_a_mistyped_command_still_gets_a_suggestion() -> None:
    done = subprocess.run([sys.executable, "-m", "guidekb", "rnu"], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)
    assert done.returncode == 2 and "'run'" in done.stderr
