# The two commands of the README. Each one is self-sufficient on a fresh machine with Python 3.11:
# it creates .venv, installs what it needs, and does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: axe run serve install-serve test lint date-sweep messages install install-test translations fonts clean

run: install fonts
	$(FLASK) setup --demo --address http://$(HOST):$(PORT)
	$(FLASK) run --host $(HOST) --port $(PORT)

# Production: gunicorn (gunicorn.conf.py) with the PostgreSQL, S3 and RQ extras, configured by
# AUDIT_TRACKER_* settings only (README « Mise en production »). Migrates, never loads the demo.
serve: install-serve fonts
	$(FLASK) setup
	$(FLASK) check
	$(BIN)/gunicorn -c gunicorn.conf.py wsgi:app

install-serve: $(VENV)/.installed-serve translations

$(VENV)/.installed-serve: $(VENV)/bin/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[pg,s3,queue]'
	touch $(VENV)/.installed $@

# Tests run on TEST_WORKERS pytest-xdist workers (one per CPU; TEST_WORKERS=0 runs them in this
# process), each with a PostgreSQL database of its own; the browser journeys share one worker.
TEST_WORKERS ?= auto
test: install-test fonts axe
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup $(PYTEST_ARGS)

# axe-core for the browser suite's accessibility check, from the npm registry into node_modules/
# (never a CDN, never committed). Without npm the check skips, unless the browser is required.
AXE_VERSION ?= 4.14.1
axe: node_modules/axe-core/axe.min.js
node_modules/axe-core/axe.min.js:
	@if command -v npm >/dev/null 2>&1; then \
	  npm install --no-save --no-package-lock --no-audit --no-fund axe-core@$(AXE_VERSION); \
	else echo "npm absent: the accessibility check (tests/e2e/test_accessibility.py) will skip"; fi

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/mypy

# The date-sensitive test modules with the app's clock on each of these days (SQLite): month
# ends, 29 February, Sundays, 31 December, the days the clocks change. No test may depend on the
# day it runs; tests/test_date_sweep.py keeps a lighter version of this in every `make test`.
SWEEP_DATES ?= 2018-02-28 2025-01-01 2026-06-30 2026-12-06 2026-12-31 2027-01-31 2027-02-28 \
               2028-02-29 2028-03-01 2029-12-31 2031-10-26 2032-03-28 2035-08-15
DATE_TESTS ?= tests/test_setup.py tests/test_demo_story.py tests/test_calendar.py \
              tests/test_readiness_rules.py tests/test_readiness_pages.py tests/test_deadlines.py \
              tests/test_reminders.py tests/test_indicators.py tests/test_findings_service.py \
              tests/test_findings_pages.py tests/test_evidence.py tests/test_exports.py
date-sweep: install-test fonts
	@failed=""; for day in $(SWEEP_DATES); do \
	  echo "== clock on $$day"; \
	  AUDIT_TRACKER_TEST_TODAY=$$day $(BIN)/python -m pytest -q $(DATE_TESTS) \
	    || failed="$$failed $$day"; \
	done; \
	if [ -n "$$failed" ]; then echo "Failed on:$$failed"; exit 1; fi

install: $(VENV)/.installed translations
install-test: $(VENV)/.installed-test translations

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/bin/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

# The PDF dossier embeds DejaVu (French typography needs its narrow no-break space): install it
# where we may (Debian or Ubuntu as root), otherwise say how; everything else runs without it.
DEJAVU := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
fonts:
	@if [ ! -e $(DEJAVU) ] && [ -z "$$AUDIT_TRACKER_DOSSIER_FONT_DIR" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null \
	    || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq fonts-dejavu-core >/dev/null); \
	  else \
	    echo "Police DejaVu absente : le dossier PDF en a besoin (apt-get install fonts-dejavu-core," \
	         "ou AUDIT_TRACKER_DOSSIER_FONT_DIR=<dossier de DejaVuSans.ttf>)."; \
	  fi; \
	fi

# Extract the French strings and merge them into each catalogue; then translate what is new.
# No line numbers and sorted by message, so that two branches adding strings rarely collide.
messages: install-test
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --omit-header -o $(VENV)/messages.pot .
	$(BIN)/pybabel update -i $(VENV)/messages.pot -d audit_tracker/translations \
	  --no-fuzzy-matching --ignore-obsolete

# Compiled catalogues are build output: compiled from the .po files, never committed.
translations: $(VENV)/.installed
	$(BIN)/pybabel --quiet compile -d audit_tracker/translations

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .mypy_cache
