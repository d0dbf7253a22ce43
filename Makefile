# Tether — build, run and test. `make help` lists the targets.
GO       ?= go
DATA     ?= ./tether-data
LISTEN   ?= 127.0.0.1:8443
FUZZTIME ?= 30s

.PHONY: help build run test lint fuzz bench clean

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

build: ## build relay, agent and tech into bin/
	$(GO) build -o bin/ ./cmd/...

run: build ## run the relay on its embedded default (DATA=./tether-data, self-signed TLS)
	./bin/relay serve --data $(DATA) --listen $(LISTEN)

# GORACE: race-built programs (test binaries, and the binaries the
# integration tests run) otherwise sleep 1 s before every successful exit.
test: lint ## run the whole test suite with the race detector
	GORACE="atexit_sleep_ms=0 $$GORACE" $(GO) test -race -count=1 -timeout 60m ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

fuzz: ## run every fuzz test for FUZZTIME each (seed corpora run in `make test` too)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: build ## benchmarks: hot paths (allocs), then tether vs OpenSSH side by side (bench/run.sh; BENCH_QUICK=1 for a smoke run)
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/e2e/ ./internal/x11/ ./internal/tilecodec/ ./recordings/ ./internal/transport/ ./internal/broker/ ./internal/sanitize/ ./internal/trust/
	./bench/run.sh

clean: ## remove build output
	rm -rf bin/
