# tracehound developer commands. `make run` and `make test` are the two set-up commands.

GO        ?= go
BIN       := $(CURDIR)/bin
BUILDER_VERSION := v0.165.0
BUILDER   := $(BIN)/builder-$(BUILDER_VERSION)
GEN_FILES := cmd/tracehound/main.go cmd/tracehound/main_others.go cmd/tracehound/main_windows.go cmd/tracehound/components.go

.PHONY: run build test generate check-generate fuzz bench bench-ab compat compat-update

## run: start the collector with the embedded default config (store in ./data, API on :8080)
run:
	$(GO) run ./cmd/tracehound

## build: build bin/tracehound
build:
	$(GO) build -o $(BIN)/tracehound ./cmd/tracehound

## test: every unit, conformance and end-to-end test (installs missing test dependencies first:
## Chromium, PostgreSQL, Node.js, with apt)
test:
	bash .ci/install-deps.sh
	$(GO) test -count=1 -timeout 25m ./...

$(BUILDER):
	mkdir -p $(BIN)
	GOBIN=$(BIN) $(GO) install go.opentelemetry.io/collector/cmd/builder@$(BUILDER_VERSION)
	mv $(BIN)/builder $(BUILDER)

## generate: regenerate cmd/tracehound from builder-config.yaml with the pinned ocb
generate: $(BUILDER)
	$(BUILDER) --config builder-config.yaml --skip-get-modules --skip-compilation >/dev/null 2>&1 || \
		$(BUILDER) --config builder-config.yaml --skip-get-modules --skip-compilation
	gofmt -w $(GEN_FILES)

## check-generate: fail when the committed cmd/tracehound sources drift from builder-config.yaml
check-generate: generate
	@git diff --exit-code -- $(GEN_FILES) || \
		(echo "cmd/tracehound is out of date with builder-config.yaml: run 'make generate' and commit" >&2; exit 1)
	@test -z "$$(git ls-files --others --exclude-standard cmd/tracehound)" || \
		(echo "make generate created files that are not committed" >&2; exit 1)

## compat: real-client compatibility suite (Node.js 20+ and npm; runs npm ci in e2e/clients)
compat:
	$(GO) test -count=1 -run '^TestCompat_' -v ./e2e

## compat-update: rerun the suite and rewrite docs/compatibility.md from its results
compat-update:
	$(GO) test -count=1 -run '^TestCompat_' ./e2e -update-compat

## bench: ingest vs stock and Jaeger, then proxy overhead (BENCH_QUERY_RECORDS=1000000 adds the query bench)
bench:
	bash bench/run.sh

## bench-ab: interleaved ingest runs of the commit BASE=<rev> and the working tree, compared on
## CPU per span normalised by the load generator's (bench/ab.sh)
bench-ab:
	bash bench/ab.sh $(BASE)

## fuzz: a short run of every fuzz target (FUZZTIME=10s by default; a count such as 500x also works)
FUZZTIME ?= 10s
fuzz:
	@grep -rl --include='*_test.go' '^func Fuzz' . | xargs -n1 dirname | sort -u | while read -r dir; do \
		for target in $$(grep -h '^func Fuzz' $$dir/*_test.go | sed 's/^func \(Fuzz[A-Za-z0-9_]*\).*/\1/'); do \
			echo "fuzz $$dir $$target"; \
			$(GO) test -run '^$$' -fuzz "^$$target$$" -fuzztime $(FUZZTIME) $$dir || exit 1; \
		done; \
	done
