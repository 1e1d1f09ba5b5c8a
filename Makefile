# The verbs people type. `make` alone lists them.
#
# Local servers (PostgreSQL 5432, Redis 6379, RabbitMQ 5672) are made sure of by
# scripts/ensure-services.sh; every target that needs them depends on `services`.

SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

CARGO ?= cargo
# Services in deployment order; one whose services/<name> folder does not exist
# yet is skipped by `migrate` (and by scripts/dev.sh).
SERVICES := catalog cart order payment-webhook
BIN_DIR := target/debug

# Local PostgreSQL as the scripts set it up (trust auth for postgres).
PSQL := psql -X -w -h 127.0.0.1 -p 5432 -U postgres -d postgres -v ON_ERROR_STOP=1

# Use the `ci` nextest profile when the config is there.
NEXTEST_PROFILE := $(if $(wildcard .config/nextest.toml),--profile ci)

.PHONY: help services build test test-long test-chaos lint fmt migrate seed dev bench bench-catalog bench-cart bench-webhook bench-checkout clean-test-dbs deploy-check gateway token demo

help: ## List the targets
	@grep -hE '^[a-zA-Z0-9_-]+:.*?## ' $(MAKEFILE_LIST) \
	  | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-15s %s\n", $$1, $$2}'

services: ## Make sure PostgreSQL, Redis and RabbitMQ run locally (installs/starts them)
	@scripts/ensure-services.sh

build: ## Build every service binary (debug)
	$(CARGO) build --workspace --bins

# --no-tests=warn: a workspace with no tests yet is not a failure (nextest exits 4 otherwise).
test: services ## Lint, then run all tests (doc tests, nextest, the README purchase walkthrough, the OpenAPI contract, the storefront in Chromium) against the local servers
	@scripts/install-tools.sh
	@scripts/lint.sh --if-available
	@scripts/check-deploy.sh
	$(CARGO) test --workspace --doc
	$(CARGO) nextest run --workspace --no-fail-fast --no-tests=warn $(NEXTEST_PROFILE)
	scripts/demo.sh --standalone >/dev/null
	scripts/contract.sh
	scripts/storefront-test.sh

test-long: services ## The long property runs: 300 random payment sequences against the emulator (PAYMENT_MODEL_CASES)
	PAYMENT_MODEL_CASES=$${PAYMENT_MODEL_CASES:-300} $(CARGO) nextest run -p order --test payment_model --no-capture

test-chaos: services ## The chaos suite: private servers, purchases under crashes and kills, every invariant checked (docs/reliability.md)
	scripts/chaos/run.sh

demo: ## The README's purchase through the gateway against make dev (make demo ARGS=--standalone: its own stack)
	scripts/demo.sh $(ARGS)

ROLE ?= customer
SUB ?= dev-customer
token: ## Mint a development JWT: make token ROLE=admin SUB=alice (refuses with APP_ENV=production)
	@$(CARGO) run -q -p platform --bin dev-token -- --role $(ROLE) --sub $(SUB)

lint: ## Check formatting and run clippy with warnings as errors
	@scripts/lint.sh

fmt: ## Format all code
	$(CARGO) fmt --all

migrate: services build ## Run every present service's migrations on the local database
	@for s in $(SERVICES); do \
	  if [[ ! -d services/$$s ]]; then echo "migrate: $$s not in this checkout, skipped"; continue; fi; \
	  echo "migrate: $$s"; \
	  $(BIN_DIR)/$$s migrate; \
	done

seed: migrate ## Load the demo catalog (catalog seed --demo)
	$(BIN_DIR)/catalog seed --demo

dev: ## Run every service locally with pretty logs (Ctrl-C stops them all)
	@scripts/dev.sh

deploy-check: ## Check Dockerfile, Compose file, Helm charts and the gateway (lint, render, validate; no cluster)
	@scripts/check-deploy.sh

gateway: ## Run only the local NGINX gateway on :8080 (deploy/nginx/) in front of the local ports
	@scripts/gateway.sh run

# Every bench adds its headline rows to one summary file ($$BENCH_SUMMARY); a bench that fails
# does not stop the others, and the table of every bench that ran is printed at the end.
bench: ## Run the benchmark scripts in scripts/bench/, then one summary table (figure, baseline, ratio, target, met/missed)
	@shopt -s nullglob; benches=(scripts/bench/*.sh); \
	if (( $${#benches[@]} == 0 )); then echo "no benchmarks yet"; exit 0; fi; \
	export BENCH_SUMMARY=$$(mktemp /tmp/commerce-bench-summary.XXXXXX); failed=(); \
	for b in "$${benches[@]}"; do echo "== $$b"; bash "$$b" || failed+=("$$b"); done; \
	source scripts/lib/bench.sh; bench_summary_print "$$BENCH_SUMMARY"; rm -f "$$BENCH_SUMMARY"; \
	if (( $${#failed[@]} )); then echo "bench: failed: $${failed[*]}" >&2; exit 1; fi

bench-catalog: ## Catalog benchmark vs NGINX (SIZE=100k default, SIZE=1m), then a 3,000-request burst on one page
	@bash scripts/bench/catalog-listing.sh

bench-cart: ## Cart benchmark: read cart and add to cart (with catalog) vs NGINX static, p50/p99, RSS
	@bash scripts/bench/cart.sh

bench-webhook: ## Benchmark POST /webhooks/stripe: signed events/s, p50/p99, accepted = published
	@bash scripts/bench/webhook.sh

bench-checkout: ## End-to-end checkout: paid orders/s, checkout p50/p99, oversells, vs pgbench TPC-B; CPU per paid order by process and by statement
	@bash scripts/bench/checkout.sh

clean-test-dbs: services ## Drop leftover per-test databases (tk_*) and test templates (tktpl_*)
	@dbs=$$($(PSQL) -Atc "select datname from pg_database where datname like 'tk\_%' or datname like 'tktpl\_%'"); \
	n=0; for db in $$dbs; do \
	  $(PSQL) -qc "drop database if exists \"$$db\" with (force)"; n=$$((n + 1)); \
	done; \
	echo "clean-test-dbs: dropped $$n database(s)"
