# The one entry point. `make demo` and `make test` work on a fresh machine with Python, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install postgres chromium demo test lint typecheck pytest bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

# The review store's tests start a throwaway PostgreSQL server from Debian's binaries
# (initdb, pg_ctl); install them when they are missing. Needs root or sudo and Debian's
# package registry.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
postgres:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then \
		echo "PostgreSQL binaries found"; \
	else \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; \
	fi

# The HTML report's browser test drives Debian's Chromium through Playwright (the Python
# package only: its own browser download is not used); install Chromium when it is missing.
chromium:
	@if [ -x /usr/bin/chromium ]; then \
		echo "Chromium found"; \
	else \
		$(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; \
	fi

demo: install
	$(BIN)/python -m metasift.demo

lint: install
	$(BIN)/ruff check src tests benchmarks validation examples
	$(BIN)/ruff format --check src tests benchmarks validation examples

typecheck: install
	$(BIN)/mypy src/metasift/stats

pytest: install postgres chromium
	$(BIN)/lint-imports
	$(BIN)/pytest

test: postgres chromium lint typecheck pytest

bench: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/batch.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
