# genai-observability-stack — `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_-]+( [a-zA-Z0-9_-]+)*:.*## / {printf "  \033[36m%-12s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: bootstrap
bootstrap: ## Install the venv, Debian prometheus/alertmanager and the npm tools (idempotent)
	@./scripts/bootstrap.sh

.PHONY: lint
lint: bootstrap ## ruff, secret scan and workflow lint
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@if [ -x scripts/lint-extra.sh ]; then ./scripts/lint-extra.sh; fi

# `make test` in parallel processes (pytest-xdist): the e2e tier, mostly waiting on alert windows,
# starts first on a worker of its own while two more run the rest module by module (a module's
# fixtures are started once). TEST_WORKERS=0 runs everything in this process, one after the other.
TEST_WORKERS ?= 3
TEST_PARALLEL = $(if $(filter 0,$(TEST_WORKERS)),,-n $(TEST_WORKERS) --dist loadscope --no-loadscope-reorder)

.PHONY: test
test: lint ## Everything provable without Docker, on real engines (needs nothing else)
	$(VENV)/bin/pytest $(TEST_PARALLEL) $(PYTEST_ARGS)

.PHONY: check
check: lint ## Edit loop (well under 90 s): lint + the tests that start no external process
	CHECK_TIER=1 $(VENV)/bin/pytest -m "not external" $(PYTEST_ARGS)

.PHONY: format
format: bootstrap ## Apply ruff formatting and safe fixes
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

.PHONY: lock
lock: ## Re-resolve constraints.txt from pyproject.toml in a scratch venv
	rm -rf /tmp/genai-obs-lock && python3 -m venv /tmp/genai-obs-lock
	/tmp/genai-obs-lock/bin/pip install -q '.[dev]'
	( echo '# Lock file: exact versions for every Python dependency (pip install -c constraints.txt).'; \
	  echo '# Regenerate with `make lock` after changing pyproject.toml.'; \
	  /tmp/genai-obs-lock/bin/pip freeze --exclude genai-observability-stack ) > constraints.txt

.PHONY: run
RUN_HOST ?= 127.0.0.1
# With the load scripts' demo keys (demo_app/config.py) unless API_KEYS is set: without them
# every load-script request counts as the free tier and is throttled.
run: bootstrap ## Run rag-api locally on 127.0.0.1:8000 (no Docker; RUN_HOST=0.0.0.0 to expose it)
	API_KEYS="$${API_KEYS:-$$($(PY) -c 'from demo_app.config import DEMO_API_KEYS; print(DEMO_API_KEYS)')}" \
	  $(PY) -m demo_app --host $(RUN_HOST)

.PHONY: generate rules dashboards
generate: bootstrap ## Regenerate every generated file (rules, dashboards, their docs) from genai-obs.yaml
	$(PY) -m generators $(GENERATE_ARGS)
rules dashboards: generate ## Aliases of `make generate`

.PHONY: export
export: bootstrap ## Artifacts for production under dist/ (PROFILE=production|demo NAMESPACE=… LABELS="k=v …")
	$(PY) -m export --profile $(or $(PROFILE),production) $(if $(NAMESPACE),--namespace $(NAMESPACE)) \
	  $(foreach l,$(LABELS),--label $(l)) $(EXPORT_ARGS)

# --- Docker stack (needs Docker with Compose v2) ------------------------------------------------
.PHONY: up down clean ps logs smoke
up: ## Start the whole stack and wait until every service is healthy
	@./scripts/stack.sh up
down: ## Stop the stack (keeps data volumes)
	@./scripts/stack.sh down
clean: ## Stop the stack and delete its data volumes (asks first)
	@./scripts/stack.sh clean
ps: ## Show stack services and health
	@./scripts/stack.sh ps
logs: ## Follow the stack's logs (SERVICE=name for one)
	@./scripts/stack.sh logs $(SERVICE)
smoke: bootstrap ## Docker smoke test of the running stack's wiring (skips without Docker)
	$(VENV)/bin/pytest -m docker tests/smoke $(PYTEST_ARGS)

# --- Load and incidents ---------------------------------------------------------------------------
.PHONY: load incident scenarios e2e bench bench-figures
load: bootstrap ## Steady demo traffic against the running stack (RATE=req/s, DURATION=s)
	$(PY) -m demo_app.loadgen run steady $(if $(RATE),--rate $(RATE)) $(if $(DURATION),--duration $(DURATION))
incident: bootstrap ## Reproduce an incident: make incident SCENARIO=error-burst [SCENARIOS_FILE=path]
	$(PY) -m demo_app.loadgen run $(SCENARIO) $(if $(SCENARIOS_FILE),--scenarios $(SCENARIOS_FILE))
scenarios: bootstrap ## List incident scenarios [SCENARIOS_FILE=path]
	$(PY) -m demo_app.loadgen list $(if $(SCENARIOS_FILE),--scenarios $(SCENARIOS_FILE))
e2e: bootstrap ## End-to-end alert path; records detection times in docs/scenarios.md
	E2E_WRITE_DOCS=1 $(VENV)/bin/pytest -m e2e tests/e2e $(PYTEST_ARGS)
bench: bootstrap ## Benchmarks, ~12 min, print figures (BENCH_ARGS="peers --quick" for one)
	$(PY) -m bench $(BENCH_ARGS)
# The figures docs/performance.md leads with, one command after the other: on a quiet machine,
# so every figure comes from one run under the same conditions. The 40 ms run takes one app at a
# time: five apps at ~90 req/s each saturate two CPUs, and the loss would measure the CPU share.
bench-figures: bootstrap ## docs/performance.md's summary and §1-§5 in one run, ~15 min (quiet machine)
	$(PY) -m bench floor levers
	$(PY) -m bench peers --together --rounds 15
	$(PY) -m bench peers --latency-ms 40 --rounds 9
	$(PY) -m bench overhead --latency-scale 0.05 --concurrency 8 --rounds 6 --seconds 10
	@if [ -x $(VENV)/bin/py-spy ]; then $(PY) -m bench.profile --seconds 30; \
	else echo "profile (§4) skipped: it needs py-spy ($(VENV)/bin/pip install py-spy)"; fi
