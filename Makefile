# The two commands in the README: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint format clean screenshots bench bench-smoke faults faults-smoke

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools

# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(VENV)/.installed $@

## Run the web server, Celery workers and beat on embedded defaults (Ctrl-C stops all).
run: $(VENV)/.installed
	$(BIN)/python -m config.devrun

# axe-core, which the accessibility tests serve to the browser (npm only for the tests).
node_modules/.installed: package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

## Run the whole test suite (uses DATABASE_URL / CELERY_BROKER_URL / REDIS_URL when set).
## Without npm, the accessibility tests say they were skipped (never under CI).
test: $(VENV)/.installed-dev
	@if command -v npm >/dev/null; then $(MAKE) --no-print-directory node_modules/.installed; fi
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Lint, format check, type check and the architecture's import rules, as CI runs them.
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	DEBUG=true $(BIN)/mypy .
	$(BIN)/lint-imports --no-cache

## Every speed and scale figure against its limit on the real stack (PostgreSQL and Redis
## running; DATABASE_URL names the database the scratch ones are made beside): a table, and
## bench/results/latest.json and history.jsonl. About 10 minutes on 2 cores.
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.suite

## The same at a tenth of the size, as CI runs it: checks the benchmarks work, not their timings.
bench-smoke: $(VENV)/.installed-dev
	$(BIN)/python -m bench.suite --smoke

## The product under faults on real processes (kill -9 a worker, Redis and PostgreSQL stopped,
## Twilio failing, callbacks late): a table of sent / lost / duplicated per case, and
## bench/results/faults.json and faults_history.jsonl. Starts its own PostgreSQL and Redis
## for the cases that stop them; the others use DATABASE_URL's server and Redis on 6379.
faults: $(VENV)/.installed-dev
	$(BIN)/python -m bench.faults.suite

## The same cases at their short size, as CI runs them (a few minutes).
faults-smoke: $(VENV)/.installed-dev
	$(BIN)/python -m bench.faults.suite --smoke

format: $(VENV)/.installed-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/ .pytest_cache .mypy_cache .ruff_cache node_modules

# The guide's pictures (docs/images/), taken again by the browser journeys that walk them.
screenshots: $(VENV)/.installed-dev node_modules/.installed
	$(BIN)/python -m pytest tests/e2e/test_journeys_*.py -q -p no:cacheprovider
	$(BIN)/python -m tests.e2e.guide_images
