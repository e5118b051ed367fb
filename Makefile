# Feddi Partner API. `make help` lists the targets.
#
# Without DATABASE_URL, the targets that need a database start a private
# PostgreSQL cluster under .data/pg (db/devdb.sh) and use it.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
DEVDB := bash db/devdb.sh

ifdef DATABASE_URL
db_url = $(DATABASE_URL)
db_start = true
else
db_url = $$($(DEVDB) url)
db_start = $(DEVDB) start >/dev/null
endif

.PHONY: help
help: ## List the targets.
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_\/-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: run
run: ## Serve the API on 127.0.0.1:8080 (private database, migrated, demo key printed once).
	@echo "make run: starting the database (the first time also creates the cluster)"
	@$(db_start)
	@export DATABASE_URL="$(db_url)"; \
	echo "make run: building bin/feddi (a minute the first time, seconds after)"; \
	$(GO) build -o bin/feddi ./cmd/feddi; \
	echo "make run: migrating the database"; \
	./bin/feddi migrate; \
	./bin/feddi bootstrap --if-empty --merchant "Demo Merchant" --integration "Demo POS"; \
	echo "make run: serving (Ctrl-C stops)"; \
	exec ./bin/feddi serve

# Tests run through gotestsum (pinned in go.mod's tool section): one line per
# package, the failures again at the end, and the run kept as JSON so that the
# ten slowest tests are printed after it, where a regression shows.
GOTESTSUM := $(GO) tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg --jsonfile .data/test.json

.PHONY: test
test: ## Run every test with the race detector (private database); prints wall time and the ten slowest tests.
	@$(db_start)
	@mkdir -p .data
	@start=$$(date +%s); status=0; \
	DATABASE_URL="$(db_url)" $(GOTESTSUM) -- -race -count=1 -timeout 15m ./... || status=$$?; \
	echo; echo "ten slowest tests:"; \
	$(GO) tool gotestsum tool slowest --jsonfile .data/test.json --threshold 0s --num 10 | sed 's/^/  /'; \
	echo "make test: $$(( $$(date +%s) - start ))s wall"; \
	exit $$status

.PHONY: test-short
test-short: ## The edit-test loop: every test but the long concurrent mixes, no race detector.
	@$(db_start)
	@mkdir -p .data
	@start=$$(date +%s); \
	DATABASE_URL="$(db_url)" $(GOTESTSUM) -- -short -count=1 -timeout 5m ./...; \
	echo "make test-short: $$(( $$(date +%s) - start ))s wall"

# The TypeScript client example (examples/typescript) against a real server:
# types generated from GET /openapi, tsc strict, run with Node. It needs Node
# 20 and the pinned packages, so plain `make test` skips it.
.PHONY: test-ts
test-ts: ## Generate a TypeScript client from the served document, type-check and run the example against a real server.
	@command -v node >/dev/null || { echo "make test-ts needs Node 20 (node and npm on PATH)"; exit 1; }
	@if [ ! -x node_modules/.bin/openapi-typescript ] || [ ! -x node_modules/.bin/tsc ]; then npm ci --silent; fi
	@$(db_start)
	DATABASE_URL="$(db_url)" FEDDI_TEST_TS=1 $(GO) test -count=1 -timeout 15m -v -run '^TestTypeScriptClient$$' ./examples/typescript

# The end-to-end tests (internal/httpapi: every operation, the concurrent
# mixes and their ledger invariants), the ledger's and the session-state
# proof (TestBehindPgBouncer) with every test's pool going through PgBouncer
# in transaction mode (db/pgbouncer.sh), four server connections per
# database so that clients share them. Test databases are still created
# and migrated directly, as migrations run in production.
PGBOUNCER := bash db/pgbouncer.sh
PGBOUNCER_PKGS ?= ./internal/httpapi/ ./internal/ledger/ ./internal/payments/... ./internal/sms/

.PHONY: test-pgbouncer
test-pgbouncer: ## The end-to-end tests with the service behind PgBouncer in transaction mode.
	@$(db_start)
	@mkdir -p .data
	@FEDDI_PGBOUNCER_POOL_SIZE=4 $(PGBOUNCER) start >/dev/null
	@start=$$(date +%s); status=0; \
	DATABASE_URL="$(db_url)" FEDDI_TEST_PGBOUNCER_URL="$$($(PGBOUNCER) url)" \
		$(GO) tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg -- -count=1 -timeout 15m $(PGBOUNCER_PKGS) || status=$$?; \
	$(PGBOUNCER) stop; \
	echo "make test-pgbouncer: $$(( $$(date +%s) - start ))s wall"; \
	exit $$status

# A replicated deployment on this machine (deploy/cluster.sh): PgBouncer,
# three feddi serve replicas and HAProxy in front.
CLUSTER := bash deploy/cluster.sh

.PHONY: cluster
cluster: ## PgBouncer, 3 feddi serve replicas and HAProxy in front, all local (make cluster/stop).
	@$(db_start)
	$(GO) build -o bin/feddi ./cmd/feddi
	@$(CLUSTER) start

.PHONY: cluster/stop
cluster/stop: ## Stop the replicas, HAProxy and PgBouncer of make cluster.
	@$(CLUSTER) stop

# The replicas of test-cluster sweep every 2 s (so that sweepers run while
# replicas die) and lift the SMS caps the enrollments would meet.
CLUSTER_TEST_ENV := FEDDI_GRANT_SWEEP_INTERVAL=2s FEDDI_PAYMENT_EXPIRY_SWEEP_INTERVAL=2s \
	FEDDI_SMS_LIMIT_PER_INTEGRATION=1000000/1h FEDDI_SMS_LIMIT_PER_COUNTRY=1000000/1h
CLUSTER_LOAD ?= 40s

.PHONY: test-cluster
test-cluster: ## Kill and restart replicas of make cluster under a bounded load; check keys, ledger, sweepers, envelopes.
	@$(db_start)
	$(GO) build -o bin/feddi ./cmd/feddi
	@$(CLUSTER) stop >/dev/null 2>&1 || true
	@$(CLUSTER_TEST_ENV) $(CLUSTER) start >/dev/null
	@start=$$(date +%s); status=0; \
	DATABASE_URL="$(db_url)" FEDDI_TEST_CLUSTER_URL="$$($(CLUSTER) url)" FEDDI_TEST_CLUSTER_LOAD=$(CLUSTER_LOAD) $(CLUSTER_TEST_ENV) \
		$(GO) test -count=1 -timeout 5m -run TestClusterKeepsEveryKeyOnce -v ./internal/loadtest/ | grep -v '^=== RUN' || status=$$?; \
	$(CLUSTER) stop; \
	echo "make test-cluster: $$(( $$(date +%s) - start ))s wall"; \
	exit $$status

# The same service on a Citus cluster (db/citus.sh): a coordinator and two
# workers, each a private cluster with Citus preloaded. `feddi migrate`
# prepares feddi_template (it distributes every merchant table by
# merchant_id when it finds Citus); the nodes are then restarted so that no
# session holds it, and every test clones it on all three nodes. The
# end-to-end tests, the ledger's guards and the concurrent mixes run
# against the coordinator; then, alone since it stops a worker, the chaos
# test (internal/loadtest; CITUS_CHAOS_SKIP=1 leaves it out).
CITUS_SH := bash db/citus.sh
CITUS_PKGS ?= ./internal/httpapi/ ./internal/ledger/ ./internal/payments/... ./internal/platform/migrate/

.PHONY: test-citus
test-citus: ## The end-to-end tests, ledger guards and concurrent mixes on a local Citus cluster (coordinator + 2 workers).
	@mkdir -p .data
	$(GO) build -o bin/feddi ./cmd/feddi
	@FEDDI_PG_FAST=1 $(CITUS_SH) start >/dev/null
	@DATABASE_URL="$$($(CITUS_SH) template)" ./bin/feddi migrate >.data/citus-migrate.log 2>&1 || { cat .data/citus-migrate.log; exit 1; }
	@$(CITUS_SH) restart
	@start=$$(date +%s); status=0; \
	export DATABASE_URL="$$($(CITUS_SH) url)" FEDDI_TEST_CITUS_URL="$$($(CITUS_SH) url)"; \
	$(GO) tool gotestsum --format pkgname-and-test-fails --format-hide-empty-pkg -- -count=1 -timeout 20m $(CITUS_PKGS) || status=$$?; \
	if [ -z "$(CITUS_CHAOS_SKIP)" ]; then \
		$(GO) tool gotestsum --format pkgname-and-test-fails -- -count=1 -timeout 10m -run '^TestCitus' ./internal/loadtest/ || status=$$?; \
	fi; \
	echo "make test-citus: $$(( $$(date +%s) - start ))s wall"; \
	exit $$status

.PHONY: citus/stop
citus/stop: ## Stop the Citus cluster of make test-citus.
	@$(CITUS_SH) stop

# Every shell example of README.md and docs/*.md, run in reading order against
# a fresh server per document (internal/docstest). The examples use curl and jq;
# as root they are installed when missing, as db/devdb.sh does for PostgreSQL.
.PHONY: test-docs
test-docs: ## Run every shell example of README.md and docs/*.md against a fresh server, in reading order.
	@for tool in curl jq; do \
		command -v $$tool >/dev/null 2>&1 && continue; \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			echo "make test-docs: installing $$tool (the examples use it)"; \
			apt-get update -qq </dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$tool </dev/null; \
		else echo "make test-docs: the examples need $$tool; install it (Debian: sudo apt-get install $$tool)"; exit 1; fi; \
	done
	@$(db_start)
	@start=$$(date +%s); \
	DATABASE_URL="$(db_url)" FEDDI_TEST_DOCS=1 $(GO) test -count=1 -timeout 10m -run '^TestDocs$$' ./internal/docstest; \
	echo "make test-docs: $$(( $$(date +%s) - start ))s wall"

# The fuzz targets, package:target. Each runs FUZZTIME inputs (a count, Nx:
# with a duration, Go 1.26's fuzz coordinator can fail a target with a bare
# "context deadline exceeded" when the time runs out on a loaded machine,
# go.dev/issue/75804); a plain go test runs their seed corpus
# (testdata/fuzz) like any test. None needs a database.
FUZZTIME ?= 20000x
FUZZ_TARGETS := \
	./internal/platform/ijson:FuzzCheck \
	./internal/platform/httpx:FuzzRequestPath \
	./internal/platform/keyset:FuzzDecode \
	./internal/auth:FuzzCredentialParsing \
	./internal/payments:FuzzCredentialCheck \
	./internal/ratelimit:FuzzCallingCode

.PHONY: fuzz
fuzz: ## Fuzz request decoding, credentials, cursors and phones, FUZZTIME (20000x) inputs each.
	@start=$$(date +%s); \
	for t in $(FUZZ_TARGETS); do \
		echo "fuzz $${t#*:} ($${t%%:*}) for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}"; \
	done; \
	echo "make fuzz: $$(( $$(date +%s) - start ))s wall"

# Flags for the load test, e.g. make bench BENCH_ARGS="-scenarios pay,topup -duration 10s".
BENCH_ARGS ?=

.PHONY: bench
# CITUS=1 runs it on the Citus cluster of db/citus.sh instead (restarted with
# fsync on): pgbench on the coordinator, feddi on a fresh database made on
# every node and distributed by feddi migrate.
bench: ## Load test: pgbench TPC-B, then every scenario against a real feddi serve (fsync on); CITUS=1 on the Citus cluster.
	$(GO) build -o bin/feddi ./cmd/feddi
	$(GO) build -o bin/feddi-load ./cmd/feddi-load
ifdef CITUS
	@$(CITUS_SH) stop >/dev/null; FEDDI_PG_FAST= $(CITUS_SH) start >/dev/null
	./bin/feddi-load -pg "$$($(CITUS_SH) url)" -db "$$($(CITUS_SH) recreate feddi_bench)" -feddi bin/feddi -pgbench "$$($(DEVDB) bindir)/pgbench" $(BENCH_ARGS)
else
	@FEDDI_PG_FAST= $(db_start)
	./bin/feddi-load -pg "$(db_url)" -feddi bin/feddi -pgbench "$$($(DEVDB) bindir)/pgbench" $(BENCH_ARGS)
endif

.PHONY: bench-go
bench-go: ## In-process Go benchmarks (go test -bench), handy with -cpuprofile.
	@$(db_start)
	DATABASE_URL="$(db_url)" $(GO) test -run '^$$' -bench . -benchtime 5s -timeout 20m ./...

.PHONY: codes
codes: ## Report the documented error codes no test provokes, per operation.
	@$(db_start)
	@mkdir -p .data && rm -f .data/codes.txt
	DATABASE_URL="$(db_url)" FEDDI_TEST_CODES="$(CURDIR)/.data/codes.txt" $(GO) test -count=1 -timeout 15m ./... >/dev/null
	@sort -u .data/codes.txt -o .data/codes.txt
	FEDDI_TEST_CODES_REPORT="$(CURDIR)/.data/codes.txt" $(GO) test -count=1 -run TestErrorCodeCoverageReport -v ./internal/platform/spec | grep -v '^=== RUN'

.PHONY: test-docs-ui
test-docs-ui: ## Open GET /docs in headless Chromium (installed when missing): every operation shown, nothing fetched elsewhere; screenshot in .data/docs.png.
	@$(db_start)
	@mkdir -p .data
	@chromium="$$(bash scripts/chromium.sh path)"; \
	DATABASE_URL="$(db_url)" FEDDI_CHROMIUM="$$chromium" \
		$(GO) test -count=1 -timeout 30m -run '^TestDocsPage' -v ./internal/httpapi | grep -v '^=== \(RUN\|PAUSE\|CONT\)'

.PHONY: generate
generate: ## Regenerate gen/ from openapi/ and db/.
	$(GO) tool oapi-codegen -config oapi-codegen.yaml openapi/openapi.yaml
	$(GO) tool oapi-codegen -config gen/client/oapi-codegen.yaml openapi/openapi.yaml
	$(GO) tool sqlc generate
	bash scripts/docsui-assets.sh

.PHONY: verify
verify: generate ## Fail when generated code is stale, go.mod untidy, code unformatted or the document breaks a released one.
	@git add -N gen >/dev/null 2>&1 || true
	@git diff --exit-code --stat -- gen || { echo "generated code is stale: run make generate and commit gen/"; exit 1; }
	@$(GO) mod tidy -diff || { echo "go.mod is not tidy: run go mod tidy"; exit 1; }
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "run gofmt -w"; exit 1; }
	@GO="$(GO)" bash openapi/breaking.sh || { echo "openapi/openapi.yaml breaks a released api_version (oasdiff above): see docs/conventions.md#breaking-changes"; exit 1; }
	@echo "verify: ok"

.PHONY: lint
lint: ## Lint the Go code and the OpenAPI document.
	$(GO) tool golangci-lint run ./...
	@if [ ! -d node_modules ]; then npm ci --silent; fi
	npx --no-install redocly lint openapi/openapi.yaml

.PHONY: build
build: ## Build bin/feddi.
	$(GO) build -o bin/feddi ./cmd/feddi

.PHONY: db/start
db/start: ## Start the private PostgreSQL (or reuse it).
	@$(DEVDB) start

.PHONY: db/stop
db/stop: ## Stop the private PostgreSQL.
	@$(DEVDB) stop

.PHONY: db/reset
db/reset: ## Delete the private PostgreSQL's data and start it afresh.
	@$(DEVDB) reset
