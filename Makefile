# The two commands: `make run` (set up, serve the app) and `make test` (set up, run every test).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
PYTEST_ARGS ?=

# The Kaggle catalogue, when this checkout sits beside the shared data folder (NETFLIX_CSV wins).
SHARED_CSV := $(abspath ../shared/data/netflix_titles.csv)
export NETFLIX_CSV ?= $(wildcard $(SHARED_CSV))

.PHONY: setup run api test lint bench media db-status db-stop chromium clean help
.DEFAULT_GOAL := help

help:  ## List the commands
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

DEMO_SUBSCRIBERS ?= 3000

setup: $(VENV)/.app-installed  ## Migrate, load the catalogue and seed a demo year (plans, demo accounts) if empty, make the sample clips
	$(BIN)/python -m database upgrade
	$(BIN)/python -m etl.load_catalogue --if-empty
	$(BIN)/python -m seed.generate --if-empty --subscribers $(DEMO_SUBSCRIBERS) || echo "Demo data not seeded (see above); the app runs without it."
	$(BIN)/python -m backend.watching.media

run: setup  ## Set up (as `make setup`), serve the web app on http://localhost:8501
	$(BIN)/python -m streamlit run app.py --server.port $(PORT)

API_PORT ?= 8000

api: setup  ## Set up (as `make setup`: the same plans, demo data and media as `make run`), serve the JSON API on http://localhost:8000 (docs: /docs)
	$(BIN)/python -m uvicorn api.main:create_app --factory --host 127.0.0.1 --port $(API_PORT)

# pytest in parallel (one worker per core, each test file on one worker: see [tool.pytest.ini_options]) with a
# coverage summary; PYTEST_ARGS come last, so e.g. PYTEST_ARGS="-n 0 -k etl" runs a few tests in one process.
PYTEST_PARALLEL ?= -n auto --cov --cov-report=
# The schemathesis fuzz runs in one process after the rest: under pytest-xdist its 186 cases were reported as 3.
FUZZ_TESTS = tests/api/test_fuzz.py

test: $(VENV)/.dev-installed chromium lint  ## Set up and run the whole suite (lint, types, unit, database, app, browser) in parallel, with coverage
	$(BIN)/python -m backend.watching.media
	$(BIN)/python -m pytest $(PYTEST_PARALLEL) --ignore=$(FUZZ_TESTS) $(PYTEST_ARGS)
	$(BIN)/python -m pytest -n 0 --cov --cov-append --cov-report=term:skip-covered $(FUZZ_TESTS)

lint: $(VENV)/.dev-installed  ## The static checks: ruff check, ruff format --check, mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: $(VENV)/.dev-installed  ## Benchmarks (figures printed, nothing asserted)
	$(BIN)/python -m benchmarks.etl
	$(BIN)/python -m benchmarks.etl_reload
	$(BIN)/python -m benchmarks.seed
	$(BIN)/python -m benchmarks.discovery
	$(BIN)/python -m benchmarks.dashboards

media: $(VENV)/.app-installed  ## Generate the sample clips and trailers under static/generated/ (skips existing ones)
	$(BIN)/python -m backend.watching.media

db-status: $(VENV)/.app-installed  ## Where the database is and its schema revision
	$(BIN)/python -m database status

db-stop: $(VENV)/.app-installed  ## Stop the embedded PostgreSQL server
	$(BIN)/python -m database stop

chromium:  ## Debian's Chromium for the browser tests (skipped when present)
	@scripts/install-chromium.sh

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.app-installed: requirements.txt constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.txt -c constraints.txt
	@touch $@

$(VENV)/.dev-installed: requirements-dev.txt $(VENV)/.app-installed
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt -c constraints.txt
	@touch $@

clean:  ## Remove the virtualenv and caches (keeps data/)
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache .coverage .coverage.* test-artifacts
