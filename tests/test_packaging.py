"""The built wheel, installed the way a pip user gets it: one import root, the default KB inside.

The wheel is built from this working tree and installed with `--no-deps` into a fresh venv
inside a temporary "QA team repository" that has packages of its own named `engine` and
`visualize` (importing either raises). There, with that repository as the working directory,
`python -m guidekb validate`, `guidekb run case.yaml` (no --kb) and the QA imports must work,
and site-packages must have gained one top-level package: `guidekb`.

Installing the dependencies from an index would compile durable-rules (minutes), so the fresh
venv sees the running venv's site-packages through a `.pth` line instead. A path added that
way is a plain sys.path entry: the `.pth` files inside it (the editable install's finder for
this repository) are not processed, so `guidekb` can only come from the wheel, which the test
checks through `guidekb.__file__`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
import time
import zipfile
from pathlib import Path

from tests.conftest import HSV_KB, ROOT

# What `pip wheel .` reads: the project file and the folders the guidekb/ symlinks lead to.
BUILD_INPUTS = ("pyproject.toml", "README.md", "guidekb", "engine", "visualize", "knowledge")
DIST_INFO = "guidekb-0.1.0.dist-info"
CASE = HSV_KB / "cases" / "confirmed-resistance.yaml"
QA_IMPORTS = """
import guidekb
import guidekb.visualize
from guidekb.engine.format.locate import PACKAGED_KB
from guidekb.engine.qa.strategies import cases as engine_cases
from guidekb.strategies import cases, cases_where, invariant_cases
from guidekb.visualize.graph import knowledge_graph
public = {name: getattr(guidekb, name) for name in guidekb.__all__}
kb = guidekb.load(PACKAGED_KB)
answer = guidekb.evaluate(kb, cases(kb).example())
assert knowledge_graph(kb).number_of_nodes() > 0
print(len(public), "public names;", kb.id, type(answer).__name__)
"""


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a command with no PYTHONPATH, so nothing of this repository leaks into it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(part) for part in command], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, f"{result.args} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(tmp: Path) -> Path:
    """`pip wheel` a copy of the working tree (building in place would write build/ and
    *.egg-info into the repository, under the feet of other test runs)."""
    source = tmp / "source"
    source.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.egg-info", "build", ".*_cache")
    for name in BUILD_INPUTS:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=ignore)
        else:
            shutil.copy2(ROOT / name, source / name)
    ok(run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", tmp / "dist", source, cwd=tmp))
    (wheel,) = (tmp / "dist").glob("guidekb-*.whl")
    return wheel


def check_pip_refuses_python_313(wheel: Path, tmp: Path) -> None:
    """pip itself refuses the wheel for 3.13 (asked as if it ran there: --python-version)."""
    def dry_run(version: str) -> subprocess.CompletedProcess[str]:
        return run(sys.executable, "-m", "pip", "install", "--dry-run", "--quiet", "--no-deps", "--no-index",
                   "--python-version", version, "--only-binary=:all:", "--target", tmp / f"target-{version}",
                   wheel, cwd=tmp)
    refused = dry_run("3.13")
    assert refused.returncode != 0 and "requires a different Python: 3.13.0 not in" in refused.stderr
    for version in ("3.11", "3.12"):
        ok(dry_run(version))


def qa_repository(tmp: Path) -> Path:
    """A QA team's repository with its own `engine` and `visualize` packages, and a case file."""
    repo = tmp / "qa-repo"
    for name in ("engine", "visualize"):
        (repo / name).mkdir(parents=True)
        (repo / name / "__init__.py").write_text(
            f"raise ImportError('the QA repository\\'s own {name} package was imported')\n")
    shutil.copy2(CASE, repo / "case.yaml")
    return repo


def fresh_venv(repo: Path, wheel: Path) -> tuple[Path, Path]:
    """A venv in `repo` with the wheel installed and this venv's dependencies visible; returns
    its bin/ folder and its site-packages."""
    ok(run(sys.executable, "-m", "venv", "--without-pip", repo / "venv", cwd=repo))
    bin_dir = repo / "venv" / "bin"
    site = Path(ok(run(bin_dir / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                       cwd=repo)).strip())
    dependencies = {sysconfig.get_paths()[kind] for kind in ("purelib", "platlib")}
    (site / "project-dependencies.pth").write_text("".join(f"{path}\n" for path in sorted(dependencies)))
    ok(run(sys.executable, "-m", "pip", "--python", bin_dir / "python", "install", "--quiet", "--no-deps",
           "--no-index", wheel, cwd=repo))
    return bin_dir, site


def wheel_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def check_wheel_contents(wheel: Path) -> None:
    names = wheel_files(wheel)
    assert {name.split("/")[0] for name in names} == {"guidekb", DIST_INFO}
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"{DIST_INFO}/METADATA").decode()
        top_level = archive.read(f"{DIST_INFO}/top_level.txt").decode().split()
    assert "Requires-Python: <3.13,>=3.11" in metadata.splitlines()
    assert top_level == ["guidekb"]
    for module in ("guidekb/engine/format/loading.py", "guidekb/visualize/__init__.py",
                   "guidekb/engine/qa/strategies.py", "guidekb/_python_guard.py", "guidekb/py.typed"):
        assert module in names


def check_site_packages(site: Path) -> None:
    """Exactly one new top-level package, also by the wheel's own RECORD."""
    assert {p.name for p in site.iterdir()} - {"project-dependencies.pth"} == {"guidekb", DIST_INFO}
    record = (site / DIST_INFO / "RECORD").read_text().splitlines()
    installed = {line.split(",")[0].split("/")[0] for line in record}
    assert installed - {".."} == {"guidekb", DIST_INFO}  # ".." is the console script in bin/


def check_packaged_kb(site: Path) -> None:
    """The default knowledge base is package data, every file of it, byte for byte."""
    packaged = site / "guidekb" / "knowledge"
    expected = {p.relative_to(ROOT / "knowledge") for p in (ROOT / "knowledge").rglob("*") if p.is_file()}
    shipped = {p.relative_to(packaged) for p in packaged.rglob("*") if p.is_file()}
    assert shipped == expected
    for kind in ("sources", "cases", "scenarios", "rules"):
        assert any(p.parts[:2] == ("hsv-resistance", kind) for p in shipped), kind
    for name in ("manifest.yaml", "invariants.yaml", "lint.yaml", "context.yaml"):
        assert Path("hsv-resistance", name) in shipped, name
    for path in expected:
        assert (packaged / path).read_bytes() == (ROOT / "knowledge" / path).read_bytes(), path


def check_imports_come_from_the_wheel(bin_dir: Path, site: Path, repo: Path) -> None:
    script = ("import guidekb, guidekb.engine.runtime.evaluation as e, guidekb.visualize as v\n"
              "print(guidekb.__file__); print(e.__file__); print(v.__file__)\n"
              "try:\n    import engine\nexcept ImportError as exc:\n    print(exc)\n")
    lines = ok(run(bin_dir / "python", "-c", script, cwd=repo)).splitlines()
    for path in lines[:3]:
        assert Path(path).is_relative_to(site / "guidekb"), path
    assert lines[3] == "the QA repository's own engine package was imported"


def check_cli(bin_dir: Path, repo: Path) -> None:
    validated = ok(run(bin_dir / "python", "-m", "guidekb", "validate", cwd=repo))
    assert validated.startswith("ok hsv-resistance "), validated
    answered = json.loads(ok(run(bin_dir / "guidekb", "run", "case.yaml", "--json", cwd=repo)))[0]["answer"]
    expected = json.loads(ok(run(sys.executable, "-m", "guidekb", "run", CASE, "--json", "--kb", HSV_KB,
                                 cwd=ROOT)))[0]["answer"]
    assert answered["kb"]["id"] == "hsv-resistance"
    assert answered["recommendations"], "the default KB recommends something for this case"
    for part in ("recommendations", "prohibitions", "derived", "conflicts"):
        assert answered[part] == expected[part], part


def test_wheel_installs_one_import_root_with_the_default_kb(tmp_path: Path) -> None:
    """One test, so the wheel is built once even when pytest-xdist spreads the suite."""
    started = time.monotonic()
    wheel = build_wheel(tmp_path)
    check_wheel_contents(wheel)
    check_pip_refuses_python_313(wheel, tmp_path)
    repo = qa_repository(tmp_path)
    bin_dir, site = fresh_venv(repo, wheel)
    check_site_packages(site)
    check_packaged_kb(site)
    check_imports_come_from_the_wheel(bin_dir, site, repo)
    check_cli(bin_dir, repo)
    print(ok(run(bin_dir / "python", "-c", QA_IMPORTS, cwd=repo)))
    assert {p.name for p in site.iterdir()} - {"project-dependencies.pth"} == {"guidekb", DIST_INFO}
    print(f"wheel built, installed and exercised in {time.monotonic() - started:.1f}s")
