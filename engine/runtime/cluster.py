"""The batch on a Dask cluster: partitioned NDJSON in and out, one compiled knowledge base per
worker, results written by the workers themselves.

Only `guidekb run --batch ... --scheduler` imports this module (dask and fsspec are the
optional `guidekb[cluster]` extra); nothing else in guidekb imports it.

How a run goes:

1. The input (a file, a glob or a folder of parts; a local path or any fsspec URL such as
   ``s3://bucket/cases/``) is cut into blocks: each file, and each `blocksize` bytes of an
   uncompressed file, cut at line ends. Parts are read in name order; files whose name
   starts with ``.`` or ``_`` are skipped (``_summary.json``, ``_SUCCESS``).
2. Lines are numbered as if the parts were one file (each part read as if it ended with a
   newline): the workers count the lines of every block but the last, and the client adds up
   those counts. So an output line says the same ``line`` a single-process run over the
   concatenated input says, and the concatenated output parts are byte for byte that run's
   output.
3. A `KnowledgeBasePlugin` ships the knowledge-base files (a few hundred kilobytes) to every
   worker, present and future; each worker writes them to its local directory, loads,
   verifies and compiles them once, and refuses to start if their fingerprint differs from
   the client's.
4. One task per block evaluates its lines with the same `LineEvaluator` as the local run and
   writes ``part-NNNNN.ndjson`` into the output folder; only its summary (a few kilobytes)
   goes back to the client, which merges them and writes ``_summary.json`` beside the parts.

durable_rules is not thread-safe: run workers with one thread each (``--nthreads 1``); a
worker with more threads still evaluates one case at a time (a lock), so extra threads only
waste a core.
"""

from __future__ import annotations

import io
import tempfile
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fsspec
import fsspec.core
import fsspec.utils
import orjson
from distributed import Client, LocalCluster, WorkerPlugin, as_completed

from guidekb.engine.errors import GuidekbError
from guidekb.engine.format.knowledge import KnowledgeBase
from guidekb.engine.format.loading import load_knowledge_base
from guidekb.engine.runtime.batch import LineEvaluator, PopulationSummary, number_lines
from guidekb.engine.runtime.evaluation import Engine

DEFAULT_BLOCKSIZE = 32 * 2**20  # ~100,000 typical cases: minutes of work per task, one read
SUMMARY_FILE = "_summary.json"
StorageOptions = dict[str, Any]


class ClusterRunError(GuidekbError):
    """The cluster run cannot start: no input, an output folder already holding files, or a
    knowledge base the workers cannot load."""


@dataclass(frozen=True)
class Block:
    """Lines of one input file: those starting in [offset, offset + length) (all when length
    is None), as `fsspec.utils.read_block` cuts them at line ends."""

    url: str
    offset: int
    length: int | None
    compression: str | None


def plan_blocks(input_url: str, blocksize: int = DEFAULT_BLOCKSIZE,
                storage_options: StorageOptions | None = None) -> list[Block]:
    """The blocks of the input, in the order its lines are numbered."""
    fs, path = fsspec.core.url_to_fs(input_url, **(storage_options or {}))
    if fsspec.core.has_magic(path):
        files = sorted(fs.glob(path))
    elif fs.isdir(path):
        files = sorted(fs.find(path))
    elif fs.exists(path):
        files = [path]
    else:
        raise ClusterRunError(f"{input_url}: no such file or folder")
    files = [f for f in files if not Path(f).name.startswith((".", "_")) and not fs.isdir(f)]
    if not files:
        raise ClusterRunError(f"{input_url}: no input files (names starting with . or _ are skipped)")
    blocks: list[Block] = []
    for name in files:
        url = fs.unstrip_protocol(name)
        compression = fsspec.utils.infer_compression(name)
        size = fs.size(name) or 0
        if compression is not None or size <= blocksize:
            blocks.append(Block(url, 0, None, compression))
            continue
        blocks += [Block(url, offset, blocksize, None) for offset in range(0, size, blocksize)]
    return blocks


def read_block(block: Block, storage_options: StorageOptions | None = None) -> bytes:
    with fsspec.open(block.url, "rb", compression=block.compression, **(storage_options or {})) as f:
        if block.length is None:
            data: bytes = f.read()
            return data
        cut: bytes = fsspec.utils.read_block(f, block.offset, block.length, delimiter=b"\n")
        return cut


def count_lines(block: Block, storage_options: StorageOptions | None = None) -> int:
    """Lines in a block, a last line without its newline included."""
    data = read_block(block, storage_options)
    return data.count(b"\n") + (1 if data and not data.endswith(b"\n") else 0)


def part_name(index: int) -> str:
    return f"part-{index:05d}.ndjson"


# --- on the workers -------------------------------------------------------------------------

_evaluators: dict[str, LineEvaluator] = {}  # per worker process, by knowledge-base fingerprint
_engine_lock = threading.Lock()  # durable_rules is not thread-safe


class KnowledgeBasePlugin(WorkerPlugin):
    """Loads, verifies and compiles one knowledge base on every worker, once."""

    idempotent = True

    def __init__(self, files: dict[str, bytes], fingerprint: str) -> None:
        self.files = files
        self.fingerprint = fingerprint
        self.name = f"guidekb-kb-{fingerprint}"

    @classmethod
    def of(cls, kb: KnowledgeBase) -> KnowledgeBasePlugin:
        """The plugin carrying every file of the knowledge-base folder (hidden ones aside)."""
        root = kb.root.resolve()
        files = {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
                 if p.is_file() and not any(part.startswith(".") for part in p.relative_to(root).parts)}
        return cls(files, kb.fingerprint)

    def setup(self, worker: Any) -> None:
        if self.fingerprint in _evaluators:
            return
        folder = Path(tempfile.mkdtemp(prefix=f"guidekb-kb-{self.fingerprint}-",
                                       dir=getattr(worker, "local_directory", None)))
        for name, data in self.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
        kb = load_knowledge_base(folder)
        if kb.fingerprint != self.fingerprint:
            raise ClusterRunError(f"the knowledge base loaded on the worker has fingerprint "
                                  f"{kb.fingerprint}, the client's {self.fingerprint}")
        with _engine_lock:
            _evaluators[self.fingerprint] = LineEvaluator(Engine.for_kb(kb))


def evaluate_block(block: Block, first_line: int, output_url: str, fingerprint: str,
                   storage_options: StorageOptions | None = None) -> dict[str, Any]:
    """Evaluate one block on a worker, write its output part; returns the part's summary."""
    evaluator = _evaluators.get(fingerprint)
    if evaluator is None:
        raise ClusterRunError(f"this worker has no knowledge base {fingerprint}: was the "
                              "KnowledgeBasePlugin registered?")
    summary = PopulationSummary(evaluator.kb.id, evaluator.kb.version)
    data = read_block(block, storage_options)
    with fsspec.open(output_url, "wb", **(storage_options or {})) as out, _engine_lock:
        for number, raw in number_lines(io.BytesIO(data), first_line):
            result = evaluator(number, raw)
            summary.add(result)
            if result.output:
                out.write(result.output + b"\n")
    return summary.to_json()


# --- on the client ---------------------------------------------------------------------------

def prepare_output(output_url: str, storage_options: StorageOptions | None = None) -> str:
    """The output folder as a URL the workers can open; refuses a folder already holding files,
    whose old parts would mix with the new ones."""
    fs, path = fsspec.core.url_to_fs(output_url, **(storage_options or {}))
    if fs.exists(path):
        if not fs.isdir(path):
            raise ClusterRunError(f"{output_url} is a file: the cluster run writes a folder of parts")
        if fs.ls(path):
            raise ClusterRunError(f"{output_url} already holds files: give an empty or new folder")
    fs.makedirs(path, exist_ok=True)
    url: str = fs.unstrip_protocol(path).rstrip("/")
    return url


def local_cluster(workers: int) -> LocalCluster:
    """Worker processes on this machine, one thread each (durable_rules is not thread-safe)."""
    return LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                        dashboard_address=None, silence_logs=40)  # type: ignore[no-untyped-call]


def run_on_cluster(client: Client, kb: KnowledgeBase, input_url: str, output_url: str, *,
                   blocksize: int = DEFAULT_BLOCKSIZE, storage_options: StorageOptions | None = None,
                   on_part_done: Callable[[int], None] | None = None) -> PopulationSummary:
    """Run the batch on the cluster behind `client`; output parts and `_summary.json` are
    written under `output_url`. Returns the merged population summary."""
    so = storage_options or {}
    blocks = plan_blocks(input_url, blocksize, so)
    out = prepare_output(output_url, so)
    client.register_plugin(KnowledgeBasePlugin.of(kb))

    counts = [f.result() for f in [client.submit(count_lines, b, so, pure=False) for b in blocks[:-1]]]
    first_lines = [1]
    for count in counts:
        first_lines.append(first_lines[-1] + count)

    run = uuid.uuid4().hex[:8]
    futures = [client.submit(evaluate_block, block, first, f"{out}/{part_name(i)}", kb.fingerprint, so,
                             pure=False, key=f"guidekb-part-{i:05d}-{run}")
               for i, (block, first) in enumerate(zip(blocks, first_lines, strict=True))]
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        part = future.result()
        if on_part_done is not None:
            on_part_done(part["cases"] + part["blank"])
    summary = PopulationSummary(kb.id, kb.version)
    for future in futures:  # in input order, so the first failures are the first lines
        summary.merge(PopulationSummary.from_json(future.result()))
    with fsspec.open(f"{out}/{SUMMARY_FILE}", "wb", **so) as f:
        f.write(orjson.dumps(summary.to_json(), option=orjson.OPT_INDENT_2) + b"\n")
    return summary


__all__ = [
    "DEFAULT_BLOCKSIZE", "SUMMARY_FILE", "Block", "ClusterRunError", "KnowledgeBasePlugin",
    "count_lines", "evaluate_block", "local_cluster", "part_name", "plan_blocks", "prepare_output",
    "read_block", "run_on_cluster",
]
