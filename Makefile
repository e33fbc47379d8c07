# pmflow: `make run` and `make test` work on a fresh machine (they create .venv and install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PMFLOW_DATABASE_URL ?= sqlite:///var/pmflow.db

.PHONY: run test setup browser pdftools bench clean messages catalogues lint pg-client
CATALOGUES := $(patsubst %.po,%.mo,$(wildcard api/locale/*/LC_MESSAGES/messages.po))

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP) catalogues

# The pages' translations, compiled once here (api/i18n.py only loads the .mo files).
catalogues: $(CATALOGUES)
api/locale/%/LC_MESSAGES/messages.mo: api/locale/%/LC_MESSAGES/messages.po | $(RUN_STAMP)
	$(BIN)/pybabel compile -i $< -o $@ -l $*

# pg_dump / pg_restore / psql for the backup and restore test (PostgreSQL runs elsewhere).
pg-client:
	@command -v pg_dump >/dev/null || { \
	  echo "installing Debian's postgresql-client for the backup test"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null) \
	  || echo "warning: could not install postgresql-client; the backup test will skip"; }

lint: $(STAMP)
	$(BIN)/ruff check .

# What running needs, not the test tools: `make run` installs pmflow without [dev].
RUN_STAMP := $(VENV)/.run-stamp
$(RUN_STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e .
	touch $(RUN_STAMP)

# Debian's chromium for the page tests (Playwright drives it; it never downloads a browser).
browser:
	@{ test -x /usr/bin/chromium && test -d /usr/share/fonts/truetype/tlwg; } || { \
	  echo "installing Debian's chromium and Thai fonts for the page tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null) \
	  || echo "warning: could not install chromium; the page tests will skip"; }

# poppler-utils' pdftotext: the document tests read the text back out of every PDF kind.
pdftools:
	@command -v pdftotext >/dev/null || { \
	  echo "installing poppler-utils (pdftotext) for the document tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils >/dev/null) \
	  || echo "warning: could not install poppler-utils; the document text tests will skip"; }

run: $(RUN_STAMP) catalogues
	$(BIN)/pmflow db upgrade
	$(BIN)/pmflow demo --if-empty
	$(BIN)/pmflow serve --host 127.0.0.1 --port $${PORT:-8000}

test: setup browser pdftools pg-client lint
	$(BIN)/python -m pytest -q

# Re-extract the pages' texts and merge them into api/locale/*/messages.po (then translate the
# new Thai msgstr); `make setup` compiles the .mo files.
messages: $(STAMP)
	$(BIN)/pybabel extract -F api/locale/babel.cfg -k N_ -k gettext:2 --no-location -o api/locale/messages.pot .
	$(BIN)/pybabel update -i api/locale/messages.pot -d api/locale --no-location --ignore-obsolete

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	@echo "see benchmarks/README.md"

clean:
	rm -rf $(VENV) var .pytest_cache
