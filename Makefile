# Everyday tasks. `make run` and `make test` bootstrap everything on a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
DEV_STAMP := $(VENV)/.installed-dev-stamp
DOCS_STAMP := $(VENV)/.installed-docs-stamp
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install install-dev run serve test test-fast lint format docs bench loadtest clean translations evidence

# What serving needs (quick on a newcomer's first `make run`).
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

# Plus what testing, linting and load testing need (pytest, Playwright, locust, scipy, ruff, mypy...).
$(DEV_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

# MkDocs Material alone, for building the documentation.
$(DOCS_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[docs]'
	touch $(DOCS_STAMP)

install: $(STAMP)

install-dev: $(DEV_STAMP)

## Migrate the SQLite default, load the demo when empty, serve with the scheduler.
run: install
	$(BIN)/fairslot db upgrade
	$(BIN)/fairslot demo
	$(BIN)/fairslot serve --host $(HOST) --port $(PORT)

## The whole suite (SQLite; PostgreSQL too when FAIRSLOT_TEST_DATABASE_URL is set), on every core
## (TEST_WORKERS=0 runs it in one process).
TEST_WORKERS ?= auto
test: install-dev
	./.ci/browser-deps
	./.ci/edge-deps
	$(BIN)/pytest -n $(TEST_WORKERS) --durations=25

## The suite without the slow statistics, processes and browser tests.
test-fast: install-dev
	$(BIN)/pytest -n $(TEST_WORKERS) -m "not slow and not browser"

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy app
	$(BIN)/lint-imports

## The documentation site into site/ (git-ignored); any warning (a broken link or anchor) fails the build.
docs: $(DOCS_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The evidence: `fairslot simulate` on the default scenario (seed 1) into build/evidence/, and its
## self-contained report (report.html in English, report.fr.html in French) where /stats/how-we-know serves it
## (docs/evidence/report.md).
evidence: install
	$(BIN)/fairslot simulate --seed 1 --out build/evidence
	mkdir -p app/web/static/evidence
	cp build/evidence/report.html build/evidence/report.fr.html app/web/static/evidence/

## Benchmarks: they print their figures (no timed assertions anywhere). Floods run through the edge
## (nginx with the generated configuration) and direct, from distinct loopback addresses.
bench: install-dev
	./.ci/edge-deps
	$(BIN)/python bench/bench_draw.py
	$(BIN)/python bench/bench_draw_db.py
	$(BIN)/python bench/bench_verify_draw.py
	$(BIN)/python bench/bench_http.py
	$(BIN)/python bench/bench_edge.py
	$(BIN)/python bench/bench_record_download.py
	$(BIN)/python bench/bench_sms.py
	$(BIN)/python bench/bench_verify.py
	$(BIN)/python bench/bench_faults.py
	$(BIN)/python bench/bench_planning.py
	$(BIN)/python bench/bench_desk_day.py

## A bounded headless locust run on 127.0.0.1; CSV files land in loadtests/results/.
loadtest: install-dev
	$(BIN)/python loadtests/run.py

## Catalogs of the web pages and of the notifications: extract, start a catalog for a new language of
## app/domain/languages.py, merge, compile the .mo files (commit all), list what is left to translate.
translations: install-dev
	$(BIN)/pybabel extract -F babel.cfg -k N_ --no-location --sort-output --project Fairslot \
		--copyright-holder Fairslot -o app/web/locales/messages.pot .
	for lang in $$($(BIN)/python -c 'from app.domain.languages import LANGUAGES; print(*LANGUAGES)'); do \
		test -f app/web/locales/$$lang/LC_MESSAGES/messages.po || $(BIN)/pybabel init --no-wrap \
			-i app/web/locales/messages.pot -d app/web/locales -l $$lang; \
	done
	$(BIN)/pybabel update -i app/web/locales/messages.pot -d app/web/locales --no-wrap \
		--ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -d app/web/locales --statistics
	$(BIN)/pybabel extract -k N_ --no-default-keywords --no-location --sort-output --project Fairslot \
		--copyright-holder Fairslot -o app/services/messages/locales/notifications.pot app/services/messages/texts.py
	$(BIN)/pybabel update -D notifications -i app/services/messages/locales/notifications.pot \
		-d app/services/messages/locales --no-wrap --ignore-obsolete
	$(BIN)/pybabel compile -D notifications -d app/services/messages/locales --statistics
	$(BIN)/pybabel extract -F app/simulation/babel.cfg -k N_ --no-location --sort-output --project Fairslot \
		--copyright-holder Fairslot -o app/simulation/locales/simulation.pot .
	$(BIN)/pybabel update -D simulation -i app/simulation/locales/simulation.pot \
		-d app/simulation/locales --no-wrap --ignore-obsolete --no-fuzzy-matching
	$(BIN)/pybabel compile -D simulation -d app/simulation/locales --statistics
	-$(BIN)/python -m app.web.catalog_check

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis screenshots loadtests/results site
