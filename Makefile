# facekit: `make run` sets up what is missing and serves; `make test` runs the tests.
GO       ?= go
BIN      := bin/facekit
ADDR     ?= 127.0.0.1:8080
DATA     ?= data
# Fuzz budgets are execution counts, not durations: with a duration, Go
# 1.26's fuzz coordinator can report "context deadline exceeded" as a
# failure when the time runs out mid-run (golang/go#75804, fixed in 1.27).
# Each count is about 20 s of fuzzing here; FUZZTIME=… overrides them all.
FUZZTIME ?=
# Portable by default; `make NATIVE=1` builds dlib's code for this CPU
# (faster HOG on machines with AVX2, but the binary then needs such a CPU).
ifeq ($(NATIVE),1)
export CGO_CXXFLAGS := -O3 -march=native
endif

.PHONY: setup deps models build run test test-short fuzz e2e bench vet clean

setup: deps models build

deps:
	scripts/setup.sh

models:
	scripts/fetch-models.sh

build:
	$(GO) build -o $(BIN) ./cmd/facekit

# `make run` alone works on a fresh clone: deps and models are idempotent
# (they install or fetch only what is missing, and verify what is there),
# and build runs after them even under -j, since it needs the native deps.
run: deps models
	$(MAKE) build
	$(BIN) serve --addr $(ADDR) --data $(DATA)

# gofmt -l lists unformatted files; any listed file fails the target.
vet:
	$(GO) vet ./...
	@out="$$($$($(GO) env GOROOT)/bin/gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*'))"; \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

# The full suite: native deps and models are provisioned first, so this one
# command works on a fresh Debian machine.
test: deps models vet
	$(GO) test -count=1 -timeout 40m ./...
	$(MAKE) fuzz
	$(MAKE) e2e

# The web console in headless Debian chromium (installs chromium and
# playwright-core if missing); screenshots land in server/console/e2e/screenshots.
e2e:
	scripts/console-e2e.sh

test-short:
	$(GO) test -short ./...

# A short run of every fuzz target, as CI does.
fuzz:
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(or $(FUZZTIME),1000000x) ./engine/imageio
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBase64$$' -fuzztime $(or $(FUZZTIME),1000000x) ./engine/imageio
	$(GO) test -run '^$$' -fuzz '^FuzzParseBody$$' -fuzztime $(or $(FUZZTIME),150000x) ./server/baidu
	$(GO) test -run '^$$' -fuzz '^FuzzKernels$$' -fuzztime $(or $(FUZZTIME),1000000x) ./engine/tfgraph

# The benchmark suite (facekit vs raw dlib per stage, 1->all-core scaling,
# 1:N search at 10k/100k/1M, HTTP load): writes docs/benchmarks.md. Knobs
# are documented in scripts/bench.sh; Go microbenchmarks: go test -bench.
bench: models
	scripts/bench.sh

clean:
	rm -rf bin
