# Every target sets up what it needs: a fresh machine needs only `make demo` or `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STACK ?= dev
# Starts (or finds) the throwaway PostgreSQL cluster and exports its connection settings.
POSTGRES := eval "$$(scripts/postgres.sh start)"

.PHONY: setup demo test test-localstack plan plan-all cost diagram lint bench runner-packages

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

## setup: create .venv with the program, function and test dependencies
setup: $(VENV)/.installed

## demo: the dev hub and its spokes running end to end on this machine, from the real stack
## files: moto in-process for AWS, SQLite for every database (no AWS account, Docker or server);
## extracts, change stream, files by hand, a quarantined file and a report (docs/demo.md)
demo: setup
	$(PY) -m offline.demo

## test: the whole suite; PostgreSQL is installed and started if missing, Graphviz installed,
## moto started by the tests (REPORTING_REQUIRE_SERVICES=1 makes a missing service fail the run
## instead of skipping)
test: setup
	scripts/graphviz.sh
	$(POSTGRES) && $(PY) -m pytest

## test-localstack: the function and end-to-end tests against LocalStack on this host instead of
## moto: localstack-core 2026.3.0 (the last open-source release) in its own Python 3.13
## virtualenv with LocalStack's pinned requirements, started on a free port with telemetry off
## and stopped afterwards (scripts/localstack.sh). Tests that need what it cannot serve offline
## are reported as not applicable; any other skip fails the run
test-localstack: setup
	scripts/localstack.sh install
	$(POSTGRES) && REPORTING_REQUIRE_SERVICES=1 scripts/localstack.sh run \
		$(PY) -m pytest tests/functions tests/e2e

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

## diagram: the architecture of one environment from mocked runs of its hub and spoke stack
## files: docs/architecture-ENV.png and .svg (AWS icons; Graphviz installed from Debian if
## missing) and the README's Mermaid block, e.g. `make diagram ENV=prod`
# Only from the command line: POSIX shells give `ENV` another meaning (a startup file).
DIAGRAM_ENV := $(if $(filter command line,$(origin ENV)),$(ENV),dev)
diagram: setup
	scripts/graphviz.sh
	$(PY) -m offline.diagram $(DIAGRAM_ENV)

## runner-packages: what the report server installs offline, in build/runner-packages: the
## wheels of functions/report_runner/requirements.txt for Python 3.11 on manylinux ARCH (aarch64,
## for t4g/Graviton, or x86_64) and REGION's RDS certificate bundle; then upload them with
## Microsoft's ODBC Driver 18 RPM (docs/report-server.md), e.g.
## `make runner-packages ARCH=x86_64 REGION=eu-west-2`
ARCH ?= aarch64
REGION ?= eu-west-2
RUNNER_PACKAGES := build/runner-packages
runner-packages: setup
	@case "$(ARCH)" in aarch64|x86_64) ;; *) echo "ARCH must be aarch64 or x86_64" >&2; exit 2;; esac
	rm -rf $(RUNNER_PACKAGES) && mkdir -p $(RUNNER_PACKAGES)
	$(PY) -m pip download --quiet --dest $(RUNNER_PACKAGES) --only-binary=:all: \
		--implementation cp --python-version 3.11 --abi cp311 \
		--platform manylinux_2_28_$(ARCH) --platform manylinux2014_$(ARCH) \
		-r functions/report_runner/requirements.txt
	curl -fsSL -o $(RUNNER_PACKAGES)/rds-ca-bundle.pem \
		https://truststore.pki.rds.amazonaws.com/$(REGION)/$(REGION)-bundle.pem
	@echo
	@echo "Add Microsoft's ODBC Driver 18 RPM for RHEL 9 on $(ARCH) (msodbcsql18-*.$(ARCH).rpm from"
	@echo "https://packages.microsoft.com/rhel/9/prod/Packages/m/; its licence needs ACCEPT_EULA=Y)"
	@echo "to $(RUNNER_PACKAGES)/, then upload everything from the office or as the deployer:"
	@echo "  aws s3 sync --delete $(RUNNER_PACKAGES)/ s3://<reports bucket>/packages/"
	@echo "The server installs them at its first boot (docs/report-server.md)."

## lint: ruff, lint and format; the README's architecture blocks match the stack files; the
## GitHub workflows valid against GitHub's schema and audited by zizmor (offline)
lint: setup
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .
	$(PY) -m offline.diagram --check-readme
	$(PY) -m check_jsonschema --builtin-schema vendor.github-workflows .github/workflows/*.yml
	$(VENV)/bin/zizmor --offline .github/workflows

## bench: loader throughput and memory against PostgreSQL, then the stream functions' throughput
## on a moto server, zip sizes and import times, then extract -> load -> merge rows/s and the
## extractor's memory from PostgreSQL, then the operations functions' zips and cold imports and
## the scheduler's runs on moto, then the report runner's file writing from SQLite and PostgreSQL
## (results go in docs/benchmarks.md)
bench: setup
	$(POSTGRES) && $(PY) bench/loader_bench.py
	$(PY) bench/stream_bench.py
	$(POSTGRES) && $(PY) bench/extract_bench.py
	$(PY) bench/operations_bench.py
	$(PY) bench/report_bench.py
	$(POSTGRES) && $(PY) bench/report_bench.py --db "$$REPORTING_TEST_POSTGRES"
