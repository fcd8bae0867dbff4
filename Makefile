# The README names these targets. Each creates the virtualenv on first use.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
PG_URL ?= postgresql+psycopg://postgres:postgres@127.0.0.1:5432/postgres

.PHONY: install system-deps demo serve test test-pg lint typecheck migrate bench mutation clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[postgres,mqtt,nats,dev]'
	touch $(STAMP)

install: $(STAMP)

system-deps:
	./scripts/system-deps.sh

## demo: migrate and seed the embedded SQLite database, then serve the console on :8000
demo: $(STAMP)
	$(BIN)/anxin demo

serve: $(STAMP)
	$(BIN)/anxin serve

## test: the whole suite (SQLite unless ANXIN_TEST_DATABASE_URL names a PostgreSQL database)
test: $(STAMP) system-deps
	$(BIN)/pytest -n auto --dist loadfile

## test-pg: the whole suite on a local PostgreSQL 15 (started if it is not running)
test-pg: $(STAMP) system-deps
	./scripts/start-postgres.sh
	ANXIN_TEST_DATABASE_URL=$(PG_URL) $(BIN)/pytest -n auto --dist loadfile

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy

migrate: $(STAMP)
	$(BIN)/anxin migrate

bench: $(STAMP) system-deps
	@for script in bench/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

## mutation: mutation-test the safety and money modules (not in CI; docs/testing.md)
mutation: $(STAMP)
	$(BIN)/python scripts/mutation.py $(MODULES)

clean:
	rm -rf $(VENV) mutants var .pytest_cache .mypy_cache .ruff_cache
