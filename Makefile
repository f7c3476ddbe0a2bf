# The one entry point. `make demo` and `make test` work on a fresh machine with Python, pip and make.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install postgres demo test lint typecheck pytest bench clean

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

demo: install
	$(BIN)/python -m metasift.demo

lint: install
	$(BIN)/ruff check src tests benchmarks validation
	$(BIN)/ruff format --check src tests benchmarks validation

typecheck: install
	$(BIN)/mypy src/metasift/stats

pytest: install postgres
	$(BIN)/lint-imports
	$(BIN)/pytest

test: postgres lint typecheck pytest

bench: install
	$(BIN)/python -m pip install --quiet -e ".[dev,bench]"
	$(BIN)/python benchmarks/batch.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
