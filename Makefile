# pmflow: `make run` and `make test` work on a fresh machine (they create .venv and install).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
export PMFLOW_DATABASE_URL ?= sqlite:///var/pmflow.db

.PHONY: run test setup browser bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

# Debian's chromium for the page tests (Playwright drives it; it never downloads a browser).
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the page tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-thai-tlwg >/dev/null) \
	  || echo "warning: could not install chromium; the page tests will skip"; }

run: $(STAMP)
	$(BIN)/pmflow db upgrade
	$(BIN)/pmflow demo --if-empty
	$(BIN)/pmflow serve --host 127.0.0.1 --port $${PORT:-8000}

test: $(STAMP) browser
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python -m pip install -q -e '.[bench]'
	@echo "see benchmarks/README.md"

clean:
	rm -rf $(VENV) var .pytest_cache
