# The two commands of the README:
#   make demo   set up .venv, install, generate the contracts' code, run `hotline demo`
#   make test   the same set-up, then lint, type-check and the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test setup generate lint typecheck bench-intake screenshots clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

setup: $(STAMP)

generate: setup
	$(BIN)/python -m proto.generate

demo: generate
	$(BIN)/hotline demo

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/mypy core sync node province_hub city_node station_agent loadtest web proto/generate.py

# The suite on parallel workers (pytest-xdist): most tests wait on sockets, processes and
# PostgreSQL rather than compute, so more workers than the 2 cores pay; tests that start real
# node processes run in lanes, one at a time each (tests/helpers/lanes.py).
# `make test PYTEST_WORKERS=0` runs it in one process; PYTEST_ARGS adds options
# (`make test PYTEST_ARGS=--durations=30`). The tests marked `alone` time a promise the README
# makes (the demo ends within a minute); under four busy workers on two cores that measures the
# load, not the demo, so they run afterwards, by themselves.
PYTEST_WORKERS ?= 4
PYTEST_ARGS ?=

test: generate lint typecheck
	$(BIN)/pytest -n $(PYTEST_WORKERS) -m "not alone" $(PYTEST_ARGS)
	$(BIN)/pytest -n 0 -m alone $(PYTEST_ARGS)

# The web front's pages drawn by headless Chromium into docs/odr/ (for docs/odr.md); Chinese
# needs a CJK font on the machine (Debian: fonts-wqy-zenhei).
screenshots: generate
	HOTLINE_SCREENSHOTS=docs/odr $(BIN)/pytest -q -n 0 tests/web/test_screenshots.py

bench-intake: generate
	$(BIN)/hotline bench intake

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
