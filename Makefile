# `make` builds every briefing under content/; `make test` runs the whole suite (CI), `make test-fast` the quick part.
# Both start from nothing: they create .venv and install what they need.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
TEST_INSTALLED := $(VENV)/.installed-test
BENCH_INSTALLED := $(VENV)/.installed-bench

.PHONY: all install build test test-fast lint bench checksums system-deps test-deps clean

all: build

$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e .
	touch $@

$(TEST_INSTALLED): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[test]"
	touch $@

$(BENCH_INSTALLED): $(INSTALLED) pyproject.toml
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e ".[bench]"
	touch $@

system-deps:
	@sh scripts/system-deps.sh

test-deps:
	@sh scripts/system-deps.sh test

install: $(INSTALLED)

build: $(INSTALLED) system-deps
	$(BIN)/briefing build

# What CI runs (.ci/run): lint, then every test, the slow ones included.
test: lint test-deps
	$(BIN)/python -m pytest -n 2 --dist worksteal -q

# What a developer runs on every change: the tests not marked slow, in about a minute on 2 cores.
test-fast: $(TEST_INSTALLED) system-deps
	$(BIN)/python -m pytest -n 2 --dist worksteal -q -m "not slow"

bench: $(BENCH_INSTALLED) system-deps
	@sh scripts/system-deps.sh bench
	$(BIN)/python scripts/bench.py

lint: $(TEST_INSTALLED)
	$(BIN)/ruff check briefing tests scripts build.py
	$(BIN)/mypy
	$(BIN)/actionlint .github/workflows/*.yml

checksums:
	cd output && sha256sum *.pdf *.manifest.json > SHA256SUMS

clean:
	rm -rf .cache output/*.pdf output/*.html output/*.json
