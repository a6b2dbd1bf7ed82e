"""The batch on Dask: a LocalCluster of 2 worker processes must write, part by part, exactly the
bytes the single-process run writes, whatever the partitioning of input and blocks."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from distributed import Client

from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.runtime.batch import PopulationSummary, run_batch, summarize
from guidekb.engine.runtime.cluster import (
    SUMMARY_FILE,
    ClusterRunError,
    local_cluster,
    plan_blocks,
    read_block,
    run_on_cluster,
)
from tests.conftest import HSV_KB, ROOT
from tests.test_batch import mixed_input

GUIDEKB = [sys.executable, "-m", "guidekb"]


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    with local_cluster(2) as cluster, Client(cluster) as connected:  # type: ignore[no-untyped-call]
        yield connected


@pytest.fixture(scope="module")
def lines(hsv_kb: KnowledgeBase) -> list[bytes]:
    return mixed_input(hsv_kb)[0]


@pytest.fixture(scope="module")
def expected(hsv_kb: KnowledgeBase, lines: list[bytes]) -> tuple[bytes, PopulationSummary]:
    """The single-process run: output bytes and summary."""
    summary = PopulationSummary.for_kb(hsv_kb)
    output = b"".join(r.output + b"\n" for r in summarize(run_batch(lines, hsv_kb), summary) if not r.blank)
    return output, summary


def parts(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.glob("part-*.ndjson")))


@pytest.mark.parametrize("blocksize", [97, 700, 4096, 1 << 20])
def test_blocks_hold_every_line_once_in_order(tmp_path: Path, lines: list[bytes], blocksize: int) -> None:
    path = tmp_path / "cases.ndjson"
    path.write_bytes(b"".join(lines) + b'{"no": "newline at the end"}')
    blocks = plan_blocks(str(path), blocksize)
    assert b"".join(read_block(b) for b in blocks) == path.read_bytes()
    assert (len(blocks) > 1) == (blocksize < path.stat().st_size)


def test_two_workers_write_the_single_process_bytes(client: Client, hsv_kb: KnowledgeBase, tmp_path: Path,
                                                    lines: list[bytes],
                                                    expected: tuple[bytes, PopulationSummary]) -> None:
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"".join(lines))
    out = tmp_path / "out"
    summary = run_on_cluster(client, hsv_kb, str(source), str(out), blocksize=2500)
    written = sorted(out.glob("part-*.ndjson"))
    assert len(written) >= 3  # really partitioned
    assert parts(out) == expected[0]
    assert summary.to_json() == expected[1].to_json()
    assert json.loads((out / SUMMARY_FILE).read_text()) == expected[1].to_json()


def test_a_folder_of_parts_numbers_lines_as_one_file(client: Client, hsv_kb: KnowledgeBase, tmp_path: Path,
                                                     lines: list[bytes],
                                                     expected: tuple[bytes, PopulationSummary]) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    third = len(lines) // 3
    (folder / "a.ndjson").write_bytes(b"".join(lines[:third]))
    with gzip.open(folder / "b.ndjson.gz", "wb") as f:  # compressed parts are read whole
        f.write(b"".join(lines[third:2 * third]))
    (folder / "c.ndjson").write_bytes(b"".join(lines[2 * third:]))
    (folder / "_SUCCESS").write_bytes(b"not a part")
    out = tmp_path / "out"
    run_on_cluster(client, hsv_kb, str(folder), f"file://{out}", blocksize=3000)
    assert parts(out) == expected[0]


def test_refuses_an_output_folder_holding_files(client: Client, hsv_kb: KnowledgeBase, tmp_path: Path) -> None:
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"{}\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-00000.ndjson").write_bytes(b"old results\n")
    with pytest.raises(ClusterRunError, match="already holds files"):
        run_on_cluster(client, hsv_kb, str(source), str(out))
    with pytest.raises(ClusterRunError, match="no such file"):
        run_on_cluster(client, hsv_kb, str(tmp_path / "missing.ndjson"), str(tmp_path / "new"))


def test_cli_on_a_scheduler_address(client: Client, tmp_path: Path, lines: list[bytes],
                                    expected: tuple[bytes, PopulationSummary]) -> None:
    """`--scheduler tcp://...`, as on a real cluster (here the test's LocalCluster)."""
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"".join(lines))
    out = tmp_path / "out"
    address = client.scheduler.address
    result = subprocess.run([*GUIDEKB, "run", "--batch", str(source), "--kb", str(HSV_KB), "--scheduler", address,
                             "-o", str(out), "--blocksize", "4000", "--summary", "--format", "json"],
                            capture_output=True, timeout=300, cwd=ROOT)
    assert result.returncode == 1, result.stderr  # the bad lines
    assert parts(out) == expected[0]
    assert json.loads(result.stdout) == expected[1].to_json()


def test_cli_without_dask_says_how_to_install_it(tmp_path: Path) -> None:
    fake = tmp_path / "distributed"
    fake.mkdir()
    (fake / "__init__.py").write_text("raise ImportError(\"No module named 'distributed'\", name='distributed')\n")
    source = tmp_path / "cases.ndjson"
    source.write_bytes(b"{}\n")
    result = subprocess.run([*GUIDEKB, "run", "--batch", str(source), "--kb", str(HSV_KB), "--scheduler", "local",
                             "-o", str(tmp_path / "out")], capture_output=True, text=True, timeout=120, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{ROOT}"})
    assert result.returncode == 2
    assert "guidekb[cluster]" in result.stderr and "distributed" in result.stderr
