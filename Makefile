# pmflow: `make run` and `make test` work on a fresh machine (they create .venv and install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PMFLOW_DATABASE_URL ?= sqlite:///var/pmflow.db

.PHONY: run test setup browser pdftools bench clean messages

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

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

run: $(STAMP)
	$(BIN)/pmflow db upgrade
	$(BIN)/pmflow demo --if-empty
	$(BIN)/pmflow serve --host 127.0.0.1 --port $${PORT:-8000}

test: $(STAMP) browser pdftools
	$(BIN)/python -m pytest -q

# Re-extract the pages' texts and merge them into api/locale/*/messages.po (then translate the
# new Thai msgstr); the .mo files are compiled when api.i18n is imported.
messages: $(STAMP)
	$(BIN)/pybabel extract -F api/locale/babel.cfg -k N_ -k gettext:2 --no-location -o api/locale/messages.pot .
	$(BIN)/pybabel update -i api/locale/messages.pot -d api/locale --no-location --ignore-obsolete

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	@echo "see benchmarks/README.md"

clean:
	rm -rf $(VENV) var .pytest_cache
