"""Never lose a user's file (issue 9, point 5): outputs are written atomically, never through
a symbolic link, never over a file guidekb did not write unless --force; `--all` is marked
incomplete until its last file is written; bad output paths are errors with exit status 2."""

from __future__ import annotations

import errno
import json
import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

import guidekb.visualize.export as export
import guidekb.visualize.output_files as output_files
from guidekb.cli import app
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.visualize.output_files import (
    INCOMPLETE,
    MANIFEST,
    OutputError,
    OutputFolder,
    open_output,
    write_file,
)
from tests.clirun import guidekb
from tests.visualize_kb import write_kb

runner = CliRunner()


@pytest.fixture(scope="module")
def toy_kb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_kb(tmp_path_factory.mktemp("toy") / "kb")


def flowchart(kb: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["flowchart", "--kb", str(kb), *args])
    assert "Traceback" not in result.output
    return result.exit_code, result.output


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.rglob("*.tmp"))


# --- one file -----------------------------------------------------------------------------------


def test_an_existing_file_guidekb_did_not_write_is_kept_without_force(toy_kb: Path, tmp_path: Path) -> None:
    mine = tmp_path / "chart.dot"
    mine.write_text("my own notes\n")
    code, output = flowchart(toy_kb, "-o", str(mine))
    assert code == 2
    assert "exists and was not written by guidekb" in output and "--force" in output
    assert mine.read_text() == "my own notes\n"
    code, output = flowchart(toy_kb, "-o", str(mine), "--force")
    assert code == 0, output
    assert mine.read_text().startswith("digraph")


def test_guidekb_replaces_its_own_file_but_not_once_someone_edited_it(toy_kb: Path, tmp_path: Path) -> None:
    chart = tmp_path / "chart.mmd"
    assert flowchart(toy_kb, "-o", str(chart))[0] == 0
    manifest = json.loads((tmp_path / MANIFEST).read_text())
    assert manifest["written_by"] == "guidekb" and "chart.mmd" in manifest["files"]
    assert flowchart(toy_kb, "-o", str(chart), "--view", "rules")[0] == 0  # its own: replaced
    chart.write_text(chart.read_text() + "%% my edit\n")
    code, output = flowchart(toy_kb, "-o", str(chart))
    assert code == 2 and "changed since" in output
    assert chart.read_text().endswith("%% my edit\n")
    assert leftovers(tmp_path) == []


def test_a_symlink_at_the_output_path_is_refused_even_with_force(toy_kb: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    link = tmp_path / "out" / "chart.dot"
    link.parent.mkdir()
    link.symlink_to(outside)
    for force in ([], ["--force"]):
        code, output = flowchart(toy_kb, "-o", str(link), *force)
        assert code == 2 and "symbolic link" in output
    assert outside.read_text() == "precious\n" and link.is_symlink()


@pytest.mark.parametrize(("target", "message"), [
    ("/tmp", "is a folder"),
    ("{tmp}/file.txt/sub.svg", "is a file, not a folder"),
    ("/dev/full", "not a regular file"),
    ("/dev/null", "not a regular file"),
])
def test_bad_output_paths_are_errors_with_exit_2(toy_kb: Path, tmp_path: Path, target: str, message: str) -> None:
    (tmp_path / "file.txt").write_text("a file\n")
    code, output = flowchart(toy_kb, "--format", "dot", "-o", target.format(tmp_path=tmp_path, tmp=tmp_path))
    assert code == 2, output
    assert output.startswith("error: ") and message in output
    assert (tmp_path / "file.txt").read_text() == "a file\n"


def test_bad_output_path_through_the_real_command(toy_kb: Path, tmp_path: Path) -> None:
    for target in ("/tmp", "/dev/full", str(tmp_path / "kb.txt" / "x.svg")):
        (tmp_path / "kb.txt").write_text("x")
        result = guidekb("flowchart", "--kb", str(toy_kb), "--format", "dot", "-o", target, home=tmp_path)
        assert result.returncode == 2, result.stderr
        assert result.stderr.startswith("error: ") and len(result.stderr.splitlines()) == 1
        assert "Traceback" not in result.stderr


def test_an_unwritable_folder_is_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_open = os.open

    def no_permission(path: str, flags: int, mode: int = 0o777, *, dir_fd: int | None = None) -> int:
        if flags & os.O_CREAT:
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, mode, dir_fd=dir_fd)

    monkeypatch.setattr(output_files.os, "open", no_permission)
    with pytest.raises(OutputError, match="permission denied"):
        write_file(tmp_path / "chart.svg", b"<svg/>")
    assert not (tmp_path / "chart.svg").exists()


def test_a_full_disk_leaves_the_previous_file_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "chart.svg"
    write_file(target, b"old chart")
    real_write = os.write

    def disk_full(fd: int, data: bytes) -> int:
        real_write(fd, bytes(data)[:3])  # part of it got written before the disk filled up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(output_files.os, "write", disk_full)
    with pytest.raises(OutputError, match=r"no space left on the device.*previous file there is unchanged"):
        write_file(target, b"new chart, much longer")
    assert target.read_bytes() == b"old chart"
    assert leftovers(tmp_path) == []


def test_coverage_and_schema_outputs_are_protected_too(tmp_path: Path) -> None:
    report = tmp_path / "coverage.md"
    report.write_text("mine\n")
    result = runner.invoke(app, ["coverage", "--format", "markdown", "-o", str(report)])
    assert result.exit_code == 2 and report.read_text() == "mine\n"
    assert runner.invoke(app, ["coverage", "--format", "markdown", "-o", str(report), "--force"]).exit_code == 0
    assert report.read_text().startswith("# Source coverage")
    schemas = tmp_path / "schemas"
    schemas.mkdir()
    (schemas / "rules.schema.json").write_text("{}\n")
    result = runner.invoke(app, ["schema", "--out-dir", str(schemas)])
    assert result.exit_code == 2 and "rules.schema.json" in result.output
    assert (schemas / "rules.schema.json").read_text() == "{}\n"
    assert sorted(p.name for p in schemas.iterdir()) == ["rules.schema.json"]  # nothing written
    assert runner.invoke(app, ["schema", "--out-dir", str(schemas), "--force"]).exit_code == 0
    assert runner.invoke(app, ["schema", "--out-dir", str(schemas)]).exit_code == 0  # its own now


# --- sets of files (--all) ----------------------------------------------------------------------


def test_all_does_not_follow_a_symlink_placed_in_the_folder(toy_kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    out.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("precious\n")
    (out / "rules.mmd").symlink_to(outside)
    for force in ([], ["--force"]):
        code, output = flowchart(toy_kb, "--all", "-o", str(out), *force)
        assert code == 2 and "symbolic link" in output and "nothing was written" in output
    assert outside.read_text() == "precious\n"
    assert sorted(p.name for p in out.iterdir()) == ["rules.mmd"]


def test_all_does_not_write_through_a_linked_sub_folder(toy_kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "by-code").symlink_to(elsewhere, target_is_directory=True)
    kb = load_knowledge_base(toy_kb)
    with pytest.raises(OutputError, match="by-code' is not a folder"), OutputFolder(out, force=True) as folder:
        folder.write("by-code/drug_b.svg", b"<svg/>")
    if shutil.which("dot") is not None:
        with pytest.raises(OutputError, match="by-code' is not a folder"):
            export.write_all(kb, out, force=True)
    assert list(elsewhere.iterdir()) == []


def test_all_refuses_foreign_files_before_writing_anything(toy_kb: Path, tmp_path: Path) -> None:
    out = tmp_path / "charts"
    out.mkdir()
    (out / "decisions.dot").write_text("mine\n")
    (out / "rules.dot").write_text("mine too\n")
    code, output = flowchart(toy_kb, "--all", "-o", str(out))
    assert code == 2 and "2 files in" in output and "decisions.dot, rules.dot" in output
    assert sorted(p.name for p in out.iterdir()) == ["decisions.dot", "rules.dot"]


def test_a_failed_all_leaves_the_set_marked_incomplete(toy_kb: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "charts"
    assert flowchart(toy_kb, "--all", "-o", str(out))[0] == 0
    assert not (out / INCOMPLETE).exists()
    assert json.loads((out / MANIFEST).read_text())["complete"] is True
    real_chart, calls = export.chart, []

    def failing_chart(*args: object, **kwargs: object) -> bytes:
        calls.append(args)
        if len(calls) == 3:
            raise RuntimeError("renderer crashed")
        return real_chart(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(export, "chart", failing_chart)
    result = runner.invoke(app, ["flowchart", "--kb", str(toy_kb), "--all", "-o", str(out)],
                           env={"XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.exit_code == 3, result.output
    assert "internal error: RuntimeError: renderer crashed" in result.stderr
    assert "did not finish writing" in (out / INCOMPLETE).read_text()
    assert json.loads((out / MANIFEST).read_text())["complete"] is False
    assert leftovers(out) == []
    monkeypatch.setattr(export, "chart", real_chart)
    assert flowchart(toy_kb, "--all", "-o", str(out))[0] == 0  # its own set, finished this time
    assert not (out / INCOMPLETE).exists()
    assert json.loads((out / MANIFEST).read_text())["complete"] is True


def test_a_new_set_removes_what_the_last_set_had_unless_someone_changed_it(tmp_path: Path) -> None:
    with OutputFolder(tmp_path) as folder:
        folder.begin_set(["a.svg", "by-code/x.svg", "by-code/y.svg"])
        for name in ("a.svg", "by-code/x.svg", "by-code/y.svg"):
            folder.write(name, name.encode())
        folder.end_set()
    (tmp_path / "by-code" / "y.svg").write_text("edited by hand\n")
    with OutputFolder(tmp_path) as folder:
        folder.begin_set(["a.svg"])
        folder.write("a.svg", b"new")
        folder.end_set()
    assert not (tmp_path / "by-code" / "x.svg").exists()  # stale chart of the last set: removed
    assert (tmp_path / "by-code" / "y.svg").read_text() == "edited by hand\n"  # the user's now
    assert sorted(json.loads((tmp_path / MANIFEST).read_text())["files"]) == ["a.svg"]


def test_a_manifest_that_is_not_guidekb_s_is_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / MANIFEST).write_text("not json")
    with pytest.raises(OutputError, match="not the list of files guidekb wrote"):
        write_file(tmp_path / "chart.svg", b"<svg/>")
    assert (tmp_path / MANIFEST).read_text() == "not json"
    write_file(tmp_path / "chart.svg", b"<svg/>", force=True)
    assert json.loads((tmp_path / MANIFEST).read_text())["files"].keys() == {"chart.svg"}
    (tmp_path / MANIFEST).unlink()
    (tmp_path / MANIFEST).symlink_to(tmp_path / "chart.svg")
    with pytest.raises(OutputError, match="not a regular file"):
        write_file(tmp_path / "other.svg", b"<svg/>", force=True)


def test_streamed_output_is_atomic_and_protected_too(tmp_path: Path) -> None:
    target = tmp_path / "answers.ndjson"
    with open_output(target) as out:
        for k in range(1000):
            out.write(b'{"case": %d}\n' % k)
        assert not target.exists()  # nothing at the target until the block ends
    assert target.read_bytes().count(b"\n") == 1000
    with pytest.raises(RuntimeError), open_output(target) as out:
        out.write(b"half an answer")
        raise RuntimeError("the batch failed")
    assert target.read_bytes().count(b"\n") == 1000 and leftovers(tmp_path) == []
    target.write_bytes(b"edited by hand\n")
    with pytest.raises(OutputError, match="changed since"), open_output(target):
        pass
    assert target.read_bytes() == b"edited by hand\n"
