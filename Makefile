# One entry point for people and CI. `make test` sets up everything it needs from this repo.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
TOOLS := .venv-tools
CHECKOV := .venv-checkov
BIN := $(VENV)/bin
PYTEST := $(BIN)/pytest -p no:cacheprovider

.PHONY: install tools run demo chaos test test-unit test-functional test-e2e test-fuzz test-chaos test-artifact fuzz lint format build deploy validate bench clean

install: $(VENV)/.installed  ## virtualenv with the package, the local stack and the test tools

$(VENV)/.installed: requirements/runtime.txt requirements/dev.txt requirements/collector.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements/dev.txt
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements/collector.txt
	$(BIN)/pip install --quiet --no-deps -e .
	touch $@

tools: $(TOOLS)/.installed $(CHECKOV)/.installed  ## aws-sam-cli, cfn-lint; checkov (each pins its own boto3)

$(TOOLS)/.installed: requirements/tools.txt
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet -r requirements/tools.txt
	touch $@

# The '*' .gitignore inside keeps the virtualenv out of git, as Python 3.13's venv does.
$(CHECKOV)/.installed: requirements/checkov.txt
	test -x $(CHECKOV)/bin/python || $(PYTHON) -m venv $(CHECKOV)
	echo '*' > $(CHECKOV)/.gitignore
	$(CHECKOV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV)/bin/pip install --quiet -r requirements/checkov.txt
	touch $@

run: install  ## start the local stack with its defaults (Ctrl-C stops it)
	$(BIN)/otlp-failover local $(ARGS)

chaos: install  ## faults under concurrent SDK clients; a table of sent/acknowledged/delivered/lost (ARGS="--quick")
	$(BIN)/python -m otlp_failover_dev.chaos $(ARGS)

demo: install  ## failover drill on a local stack: outage, recovery, drain, tally (ARGS="--protocol json")
	$(BIN)/otlp-failover drill $(ARGS)

test: install tools lint test-unit test-functional test-e2e test-fuzz test-chaos test-artifact validate build  ## everything CI runs

test-unit: install
	$(PYTEST) tests/unit -q

test-functional: install  ## four workers: the tier mostly waits on local servers, not the CPU
	$(PYTEST) tests/functional -q -n 4

# A stack's thread that dies with an exception (a drain outliving its stack) fails the tier.
test-e2e: install  ## two workers: the tests mostly wait on outages, probes and drains
	$(PYTEST) tests/e2e -q -n 2 -W error::pytest.PytestUnhandledThreadExceptionWarning

test-fuzz: install  ## a short fuzz pass: the seeds plus a few hundred generated requests
	$(PYTEST) tests/fuzz -q

test-chaos: install  ## every chaos scenario, small and short (about 4 minutes)
	$(PYTEST) tests/chaos -q

test-artifact: install  ## the layer and functions built by their Makefiles for this host, each handler run from them alone
	$(PYTEST) tests/artifact -q

lint: install  ## ruff (lint + format check) and mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install  ## performance figures side by side -> bench-results.json (BENCH_QUICK=1: smoke run)
	BENCH_QUICK=$(BENCH_QUICK) $(BIN)/python -m bench

validate: tools  ## cfn-lint, sam validate --lint and checkov (offline, .checkov.yaml) over template.yaml
	$(TOOLS)/bin/cfn-lint template.yaml
	SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam validate --lint --region us-east-1
	$(CHECKOV)/bin/checkov --config-file .checkov.yaml

build: tools  ## sam build without Docker (makefile build method, arm64 wheels)
	SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam build

# The first deploy is guided: while samconfig.toml keeps no parameter_overrides for its
# default environment, sam deploy --guided asks for every parameter (PARAMETERS are the
# answers it offers) and saves them there; later runs deploy without asking. GUIDED=1 asks
# again. Nothing runs this but a person: it needs AWS credentials and changes a stack.
SAMCONFIG_HAS_PARAMETERS = import sys, tomllib; deploy = tomllib.load(open("samconfig.toml", "rb")).get("default", {}).get("deploy", {}); sys.exit(0 if deploy.get("parameters", {}).get("parameter_overrides") else 1)

deploy: build  ## sam build + sam deploy, --guided the first time (PARAMETERS=file.yaml from `otlp-failover config from-collector`, HEADERS_SECRET_ARNS=arn,...)
	@overrides=(); \
	if [ -n "$(PARAMETERS)" ]; then overrides+=("file://$(abspath $(PARAMETERS))"); fi; \
	if [ -n "$(HEADERS_SECRET_ARNS)" ]; then overrides+=("HeadersSecretArns=$(HEADERS_SECRET_ARNS)"); fi; \
	guided=(); \
	if [ "$(GUIDED)" = 1 ] || ! $(TOOLS)/bin/python -c '$(SAMCONFIG_HAS_PARAMETERS)'; then guided=(--guided); fi; \
	set -x; SAM_CLI_TELEMETRY=0 $(TOOLS)/bin/sam deploy "$${guided[@]}" \
	    $${overrides[0]:+--parameter-overrides "$${overrides[@]}"} $(ARGS)

clean:
	rm -rf .aws-sam build $(VENV) $(TOOLS) $(CHECKOV)

fuzz: install  ## fuzz the ingest handler and the exporter against hostile backends (FUZZ_EXAMPLES=20000 by default here; CI runs a short pass)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-20000} $(PYTEST) tests/fuzz -q
