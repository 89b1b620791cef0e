# One venv, made on demand; every target depends on it so a fresh clone needs nothing else.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Tools whose dependencies must not reach the service's imports live in a venv of their own.
LINT_VENV := $(VENV)/lint
LINT_STAMP := $(LINT_VENV)/.installed

.PHONY: run test lint typecheck bench demo chat clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

$(LINT_STAMP): pyproject.toml $(STAMP)
	test -x $(LINT_VENV)/bin/python || $(PY) -m venv $(LINT_VENV)
	$(BIN)/python -c "import tomllib; print(*tomllib.load(open('pyproject.toml', 'rb'))['project']['optional-dependencies']['lint'], sep='\n')" > $(LINT_VENV)/requirements.txt
	$(LINT_VENV)/bin/python -m pip install --quiet -r $(LINT_VENV)/requirements.txt
	touch $(LINT_STAMP)

run: $(STAMP)
	$(BIN)/portal-notifier run

demo: $(STAMP)
	$(BIN)/portal-notifier run --demo

chat: $(STAMP)
	$(BIN)/portal-notifier chat

lint: $(STAMP) $(LINT_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	PYTHONPATH=. $(LINT_VENV)/bin/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

test: lint typecheck
	$(BIN)/pytest

bench: $(STAMP)
	$(BIN)/python -m pytest tests/benchmarks -s -q -p no:cacheprovider -o addopts="" -o python_files="bench_*.py" -o timeout=0

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
