# Every target sets up what it needs: a fresh machine needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
# Starts (or finds) the throwaway PostgreSQL cluster and exports its connection settings.
POSTGRES := eval "$$(scripts/postgres.sh start)"

.PHONY: setup demo test plan plan-all cost lint bench

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## setup: create .venv with the program, function and test dependencies
setup: $(VENV)/.installed

## demo: the dev hub and its spokes as `pulumi preview` would list them (no AWS account needed)
demo: setup
	$(PY) -m offline.plan --environment dev

## test: the whole suite; PostgreSQL is installed and started if missing, moto by the tests
## (REPORTING_REQUIRE_SERVICES=1 makes a missing service fail the run instead of skipping)
test: setup
	$(POSTGRES) && $(PY) -m pytest

## plan: the resource tree of one stack, e.g. `make plan STACK=prod-maths`
plan: setup
	$(PY) -m offline.plan $(STACK)

## plan-all: the resource tree of every stack file
plan-all: setup
	$(PY) -m offline.plan

## cost: the monthly cost estimate of one stack and the share of compute hours its schedules
## switch off, e.g. `make cost STACK=prod` (list prices from offline/cost/, no network)
cost: setup
	$(PY) -m offline.cost $(STACK)

## lint: ruff, lint and format
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

## bench: loader throughput and memory against PostgreSQL, then the stream functions' throughput
## on a moto server, zip sizes and import times, then extract -> load -> merge rows/s and the
## extractor's memory from PostgreSQL, then the operations functions' zips and cold imports and
## the scheduler's runs on moto (results go in docs/benchmarks.md)
bench: setup
	$(POSTGRES) && $(PY) bench/loader_bench.py
	$(PY) bench/stream_bench.py
	$(POSTGRES) && $(PY) bench/extract_bench.py
	$(PY) bench/operations_bench.py
