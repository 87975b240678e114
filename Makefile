# The project's front door. Every target builds its own virtual environment from the requirements
# files, so a fresh clone needs only python3 (3.11 or newer) and, for synth and the template tests, node.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
BENCH_STAMP := $(VENV)/.installed-bench
MUTATE_STAMP := $(VENV)/.installed-mutate
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: demo test test-fast lint bench mutate synth deploy diagram docs-tables schema clean live-plan live-plan-endpoint

# The pinned requirements, then the project itself (editable, without resolving its dependencies again)
# so that the `endpoint-updater` command exists.
$(STAMP): requirements.txt requirements-dev.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

## demo: run an update and a failed update against the embedded emulator (no AWS account)
demo: $(STAMP)
	$(BIN)/python -m endpoint_updater.offline.demo

## test: every suite (unit, integration, workflow, infrastructure)
test: $(STAMP)
	$(BIN)/python -m pytest -n 2 $(PYTEST_ARGS)

## lint: ruff and mypy
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

## diagram: regenerate the Mermaid diagram of the state machine in README.md from the ASL file
diagram: $(STAMP)
	$(BIN)/python -m statemachine.diagram --write README.md

## docs-tables: regenerate the per-function permissions table and wildcard reasons of docs/settings-and-permissions.md
docs-tables: $(STAMP)
	$(BIN)/python -m infra.permissions --write docs/settings-and-permissions.md

## schema: ship the published input schema with the functions' shared package
schema:
	cp statemachine/input.schema.json endpoint_updater/core/input.schema.json
	cp statemachine/rollout.input.schema.json endpoint_updater/core/rollout.input.schema.json

$(BENCH_STAMP): $(STAMP) requirements-bench.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-bench.txt
	touch $(BENCH_STAMP)

## bench: cold starts, one update's cost, polling policy, concurrent updates; table + bench/results/
bench: $(BENCH_STAMP)
	$(BIN)/python -m bench $(BENCH_ARGS)

$(MUTATE_STAMP): $(STAMP) requirements-mutate.txt
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements-mutate.txt
	touch $(MUTATE_STAMP)

## mutate: mutation testing of endpoint_updater/core against the fast suites (~30 min; MUTATE_ARGS: see tools/mutate.py)
mutate: $(MUTATE_STAMP)
	$(BIN)/python tools/mutate.py $(MUTATE_ARGS)

## synth: the CloudFormation template, with no AWS credentials
synth: $(STAMP)
	$(BIN)/python app.py

## deploy: needs AWS credentials and the CDK command line (npm package aws-cdk)
deploy: $(STAMP)
	npx --yes aws-cdk@2 deploy --app "$(BIN)/python app.py"

## live-plan: ENDPOINT=name [REGION= PROFILE= INPUT=file JSON=1]: `endpoint-updater plan` against your AWS account,
## read-only (Describe/List calls only), to compare with the emulator before the first update; never run by `make test`
live-plan: live-plan-endpoint $(STAMP)
	$(BIN)/endpoint-updater plan --endpoint "$(ENDPOINT)" $(if $(INPUT),--input "$(INPUT)") \
		$(if $(REGION),--region "$(REGION)") $(if $(PROFILE),--profile "$(PROFILE)") $(if $(JSON),--json)

# Checked before anything is built, so that a forgotten ENDPOINT costs nothing.
live-plan-endpoint:
	@if [ -z "$(ENDPOINT)" ]; then \
		echo "make live-plan: ENDPOINT is required: the name of an endpoint in your account, e.g." \
			"make live-plan ENDPOINT=churn-prod [REGION=eu-west-1] [PROFILE=prod] [INPUT=update.json] [JSON=1]" >&2; \
		exit 2; fi

clean:
	rm -rf $(VENV) cdk.out build .pytest_cache .mypy_cache .ruff_cache mutants
