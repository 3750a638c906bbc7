# The README's two commands: `make demo` and `make test`. Each creates .venv if needed.
PY      ?= python3
VENV    := .venv
BIN     := $(VENV)/bin
STAMP   := $(VENV)/.installed

.PHONY: demo test test-all lint bench mutate clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[test]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/aca-games run

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -q -m "not slow" -n 2 --hypothesis-profile=ci

test-all: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --hypothesis-profile=thorough

lint: $(STAMP)
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

# Mutation testing (docs/verification.md §7): every core module, or MODULE=aca_games/oracle.py;
# SAMPLE=0.2 tests a fixed pseudo-random fifth of the mutants. Long: see the measured times there.
mutate: $(STAMP)
	$(BIN)/python -c "import mutmut" 2>/dev/null || $(BIN)/pip install -q -e ".[mutate]"
	nice -n 10 $(BIN)/python tools/mutate.py $(if $(SAMPLE),--sample $(SAMPLE)) $(MODULE)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install -q -e ".[test,bench]"
	touch $(BENCH_STAMP)

# Every benchmark, one at a time, quick sizes (FULL=1: full sizes); regenerates benchmarks/RESULTS.md.
bench: $(BENCH_STAMP)
	$(BIN)/python -m benchmarks.run_all $(if $(FULL),--full,)

clean:
	rm -rf $(VENV) build *.egg-info
