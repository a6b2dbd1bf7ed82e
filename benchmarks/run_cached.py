"""What `guidekb run CASE --json` would cost with the knowledge-base cache wired in: the same
steps (load, compile, validate, evaluate, print the JSON) with `load_cached` in place of
`load_knowledge_base`, and only the modules those steps import. A benchmark prototype, not a
command: usage `python benchmarks/run_cached.py KB CASE`."""

from __future__ import annotations

import json
import sys

from guidekb.engine.format.cases import load_case
from guidekb.engine.format.kbcache import load_cached
from guidekb.engine.runtime.evaluation import Engine

if __name__ == "__main__":
    kb = load_cached(sys.argv[1])
    answer = Engine.for_kb(kb).evaluate(load_case(sys.argv[2], kb))
    print(json.dumps(answer.model_dump(mode="json"), indent=2, ensure_ascii=False))
