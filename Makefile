# banjian: `make run` (app on SQLite with demo data) and `make test` (all tests).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := BANJIAN_CONFIG=development $(BIN)/flask --app wsgi

.PHONY: install run test test-fast lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## Install, migrate, load demo data, serve http://127.0.0.1:5000 with the scheduler on.
run: $(STAMP)
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) serve --host 127.0.0.1 --port 5000

## Install and run every test (PostgreSQL tests too when TEST_DATABASE_URL is set).
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

lint: $(STAMP)
	$(BIN)/ruff check app tests benchmarks config.py wsgi.py migrations

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV) instance .pytest_cache
