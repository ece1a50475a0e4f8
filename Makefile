# Everyday tasks. `make run` and `make test` bootstrap everything on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve test test-fast lint format bench loadtest clean translations

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Migrate the SQLite default, load the demo when empty, serve with the scheduler.
run: install
	$(BIN)/fairslot db upgrade
	$(BIN)/fairslot demo
	$(BIN)/fairslot serve --host $(HOST) --port $(PORT)

## The whole suite (SQLite; PostgreSQL too when FAIRSLOT_TEST_DATABASE_URL is set).
test: install
	./.ci/browser-deps
	$(BIN)/pytest

## The suite without the slow statistics, processes and browser tests.
test-fast: install
	$(BIN)/pytest -m "not slow and not browser"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Benchmarks: they print their figures (no timed assertions anywhere).
bench: install
	command -v wrk >/dev/null || apt-get install -y --no-install-recommends wrk
	$(BIN)/python bench/bench_draw.py
	$(BIN)/python bench/bench_draw_db.py
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_record_download.py
	$(BIN)/python bench/bench_faults.py

## A bounded headless locust run on 127.0.0.1; CSV files land in loadtests/results/.
loadtest: install
	$(BIN)/python loadtests/run.py

## Web page catalogs: extract the messages, merge them into fr/en, compile the .mo files (commit all).
translations: install
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project Fairslot \
		--copyright-holder Fairslot -o app/web/locales/messages.pot .
	$(BIN)/pybabel update -i app/web/locales/messages.pot -d app/web/locales --no-wrap \
		--ignore-obsolete
	$(BIN)/pybabel compile -d app/web/locales --statistics

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis screenshots loadtests/results
