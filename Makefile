# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KB     := knowledge/hsv-resistance
OUT    := out

.PHONY: setup demo test lint bench thorough clean system-deps

setup: $(STAMP) system-deps

# The venv is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian's graphviz provides the `dot` binary for SVG/PNG/PDF. Without it, DOT and
# Mermaid output keep working and the other formats say how to install it.
system-deps:
	@bash scripts/ensure-graphviz.sh

demo: setup
	$(BIN)/guidekb validate $(KB)
	$(BIN)/guidekb run $(KB)/cases/*.yaml --kb $(KB)
	$(BIN)/guidekb flowchart --kb $(KB) --all -o $(OUT)/flowcharts

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q

thorough: setup
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest -n 2 -q

bench: setup
	$(BIN)/python benchmarks/bench_engine.py

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
