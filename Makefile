# Tether — build, run and test. `make help` lists the targets.
GO       ?= go
DATA     ?= ./tether-data
LISTEN   ?= 127.0.0.1:8443
FUZZTIME ?= 30s
BIN      ?= bin
DIST     ?= dist

# Release identity: the linker stamps it into internal/version, so that
# `relay --version` names the commit. Outside a git checkout pass them:
# make build VERSION=1.2.0 COMMIT=<hash>.
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT   ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)
# Every date in the archives, packages and man pages: the last commit's.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH

# Reproducible builds: no checkout path (-trimpath), no VCS stamp, an empty
# build ID and no cgo, so two checkouts of one commit build the same bytes.
VERSION_PKG := github.com/tether-support/tether/internal/version
GOBUILD = CGO_ENABLED=0 $(GO) build -trimpath -buildvcs=false \
	-ldflags "-buildid= -X $(VERSION_PKG).Version=$(VERSION) -X $(VERSION_PKG).Commit=$(COMMIT)"

# Release platforms. The agent needs PTYs and Unix descriptor calls: it
# does not build for Windows.
PLATFORMS       ?= linux/amd64 linux/arm64 darwin/arm64 windows/amd64
AGENT_PLATFORMS ?= linux/amd64 linux/arm64 darwin/arm64
# The packaging program is its own module (tools/release): nfpm stays out
# of the programs' dependencies.
RELEASE = cd tools/release && $(GO) run . 

.PHONY: help build run test lint fuzz bench clean dist deb

help: ## list the targets
	@grep -E '^[a-z]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-6s %s\n", $$1, $$2}'

build: ## build relay, agent and tech into bin/ (reproducibly; VERSION, COMMIT)
	$(GOBUILD) -o $(BIN)/ ./cmd/...

dist: build ## release archives, .deb packages and SHA256SUMS in dist/ (signed with DIST_SIGNING_KEY)
	rm -rf $(DIST)/build $(DIST)/share $(DIST)/*.tar.gz $(DIST)/*.zip $(DIST)/*.deb $(DIST)/SHA256SUMS $(DIST)/SHA256SUMS.sig
	@for p in $(PLATFORMS); do \
	  os=$${p%/*}; arch=$${p#*/}; cmds="./cmd/relay ./cmd/tech"; \
	  case " $(AGENT_PLATFORMS) " in *" $$p "*) cmds="$$cmds ./cmd/agent";; esac; \
	  echo "build $$os/$$arch"; \
	  GOOS=$$os GOARCH=$$arch $(GOBUILD) -o $(abspath $(DIST))/build/$${os}_$$arch/ $$cmds || exit 1; \
	done
	$(RELEASE) dist -root $(CURDIR) -bin $(abspath $(BIN)) -dist $(abspath $(DIST)) -version $(VERSION)

deb: build ## .deb packages for this machine's architecture in dist/
	$(RELEASE) deb -root $(CURDIR) -bin $(abspath $(BIN)) -dist $(abspath $(DIST)) -version $(VERSION)

run: build ## run the relay on its embedded default (DATA=./tether-data, self-signed TLS)
	./bin/relay serve --data $(DATA) --listen $(LISTEN)

# GORACE: race-built programs (test binaries, and the binaries the
# integration tests run) otherwise sleep 1 s before every successful exit.
test: lint ## run the whole test suite with the race detector
	GORACE="atexit_sleep_ms=0 $$GORACE" $(GO) test -race -count=1 -timeout 60m ./...
	cd tools/release && $(GO) test -count=1 -timeout 30m ./...

lint: ## gofmt and go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd tools/release && $(GO) vet ./...

fuzz: ## run every fuzz test for FUZZTIME each (seed corpora run in `make test` too)
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run='^$$' -fuzz="^$$f$$" -fuzztime=$(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

bench: build ## benchmarks: hot paths (allocs), then tether vs OpenSSH, the desktop vs x11vnc + noVNC and PostgreSQL vs bbolt side by side, then a relay cluster (sessions per second with 1–3 relays, idle agents over 3) (bench/run.sh; BENCH_QUICK=1 for a smoke run)
	$(GO) test -run='^$$' -bench=. -benchmem ./internal/e2e/ ./internal/x11/ ./internal/tilecodec/ ./recordings/ ./internal/transport/ ./internal/broker/ ./internal/sanitize/ ./internal/trust/ ./internal/viewer/
	./bench/run.sh

clean: ## remove build output
	rm -rf $(BIN) $(DIST)
