# Every target sets up what it needs: a fresh machine needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev

.PHONY: setup demo test plan plan-all lint

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

## test: the whole suite (REPORTING_REQUIRE_SERVICES=1 makes missing services fail, not skip)
test: setup
	$(PY) -m pytest

## plan: the resource tree of one stack, e.g. `make plan STACK=prod-maths`
plan: setup
	$(PY) -m offline.plan $(STACK)

## plan-all: the resource tree of every stack file
plan-all: setup
	$(PY) -m offline.plan

## lint: ruff, lint and format
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
