# The two commands of the README. Each one is self-sufficient on a fresh machine with Python 3.11:
# it creates .venv, installs what it needs, and does its job.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test lint messages install install-test translations fonts clean

run: install fonts
	$(FLASK) setup --demo
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-test fonts
	$(BIN)/ruff check .
	$(BIN)/python -m pytest $(PYTEST_ARGS)

lint: install-test
	$(BIN)/ruff check .

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
	rm -rf $(VENV) .pytest_cache .ruff_cache
