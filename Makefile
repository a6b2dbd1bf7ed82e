# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Python 3.11 or 3.12 (durable-rules does not load on 3.13): python3.11 if it runs, else python3.12.
FIND_PYTHON := bash scripts/find-python.sh
ifndef PYTHON
PYTHON := $(shell $(FIND_PYTHON) 3.11 || $(FIND_PYTHON) 3.12 || echo python3.11)
endif
# `make test` runs the suite a second time on Python 3.12, in its own venv, when it is installed.
PYTHON312 := $(shell $(FIND_PYTHON) 3.12)
VENV312   := .venv-3.12
STAMP312  := $(VENV312)/.installed
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
KB     := knowledge/hsv-resistance
OUT    := out

.PHONY: setup demo test test-3.12 lint bench thorough fuzz clean system-deps

setup: $(STAMP) system-deps

# The venv is rebuilt when pyproject.toml changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c "" >/dev/null 2>&1 || { echo "error: $(PYTHON) not found; set PYTHON=/path/to/python3.11 (or 3.12)" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# Debian packages: graphviz (`dot`) for SVG/PNG/PDF charts, poppler-utils for the handout.
# Without them the other formats keep working and the tests that need them skip.
system-deps:
	@bash scripts/ensure-system-deps.sh

demo: setup
	$(BIN)/guidekb validate --kb $(KB)
	$(BIN)/guidekb run $(KB)/cases/*.yaml --kb $(KB)
	$(BIN)/guidekb flowchart --kb $(KB) --all -o $(OUT)/flowcharts

test: setup
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/pytest -n 2 -q
	@$(MAKE) --no-print-directory test-3.12

# The suite again on Python 3.12 (ruff and mypy ran above, once). Skipped, without failing,
# where Python 3.12 is not installed or .venv already is 3.12.
test-3.12:
	@if [ -z "$(PYTHON312)" ]; then \
	    echo "skipped: python3.12 not found (the suite ran on $$($(BIN)/python -V) only)"; \
	elif [ "$$($(BIN)/python -c 'import sys; print(sys.version_info[:2] == (3, 12))')" = True ]; then \
	    echo "skipped: the suite already ran on Python 3.12 (.venv)"; \
	else \
	    $(MAKE) --no-print-directory $(STAMP312) && echo "$(VENV312)/bin/pytest -n 2 -q" && $(VENV312)/bin/pytest -n 2 -q; \
	fi

$(STAMP312): pyproject.toml
	$(PYTHON312) -m venv $(VENV312)
	$(VENV312)/bin/pip install --quiet --upgrade pip
	$(VENV312)/bin/pip install --quiet -e '.[dev]'
	@touch $(STAMP312)

thorough: setup
	HYPOTHESIS_PROFILE=thorough $(BIN)/pytest -n 2 -q

# The thorough fuzz run (docs/reliability.md): over 100,000 knowledge-base and 10,000 case
# mutants, 30-60 minutes; the figures are printed and kept in $(OUT)/fuzz/.
fuzz: setup
	rm -rf $(OUT)/fuzz
	GUIDEKB_FUZZ=thorough GUIDEKB_FUZZ_REPORT=$(OUT)/fuzz $(BIN)/pytest -n 2 -q tests/test_fuzz.py; \
	status=$$?; $(BIN)/python -m tests.fuzzing $(OUT)/fuzz; exit $$status

bench: setup
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) $(VENV312) $(OUT) .pytest_cache .mypy_cache .ruff_cache .hypothesis
