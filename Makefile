# One venv, made on demand; every target depends on it so a fresh clone needs nothing else.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck bench demo chat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/portal-notifier run

demo: $(STAMP)
	$(BIN)/portal-notifier run --demo

chat: $(STAMP)
	$(BIN)/portal-notifier chat

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks -s -q -p no:cacheprovider -o addopts="" -o python_files="bench_*.py" -o timeout=0

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
