# banjian: `make run` (app on SQLite with demo data) and `make test` (all tests).
# `make run PORT=8080` (or HOST=0.0.0.0 to listen on every interface) serves elsewhere.
PYTHON ?= python3
HOST   ?= 127.0.0.1
PORT   ?= 5000
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
FLASK  := BANJIAN_CONFIG=development $(BIN)/flask --app wsgi

VENDOR := app/static/vendor

.PHONY: install assets translations run test test-fast lint bench clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

## Browser libraries from npm (bpmn-js, echarts for the statistics charts), copied next to the app's static files; never committed.
## The design pages' libraries (modeler, properties panel, form-js editor, differ) are bundled by
## esbuild from the entries in assets/ (see assets/build.mjs).
$(VENDOR)/.installed: package.json package-lock.json $(wildcard assets/*.js assets/*.mjs)
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js $(VENDOR)/
	cp node_modules/bpmn-js/dist/assets/diagram-js.css node_modules/bpmn-js/dist/assets/bpmn-js.css $(VENDOR)/
	cp -r node_modules/bpmn-js/dist/assets/bpmn-font $(VENDOR)/
	cp node_modules/echarts/dist/echarts.min.js $(VENDOR)/
	node assets/build.mjs
	touch $@

assets: $(VENDOR)/.installed

translations: $(STAMP)
	$(BIN)/python -c 'from app.web.i18n import compile_catalogs; compile_catalogs()'

install: $(STAMP) assets translations

## Install, migrate, load demo data, serve http://$(HOST):$(PORT) with the scheduler on.
run: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	$(FLASK) serve --host $(HOST) --port $(PORT)

## Install and run every test (PostgreSQL tests too when TEST_DATABASE_URL is set).
test: install
	$(BIN)/python -m pytest -n 2 --dist loadgroup

test-fast: $(STAMP)
	$(BIN)/python -m pytest tests/unit -q

lint: $(STAMP)
	$(BIN)/ruff check app tests benchmarks config.py wsgi.py migrations

bench: $(STAMP)
	$(BIN)/python benchmarks/engine.py

clean:
	rm -rf $(VENV) instance .pytest_cache node_modules $(VENDOR)
