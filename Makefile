# facekit: `make setup && make run` sets up and serves; `make test` runs the tests.
GO       ?= go
BIN      := bin/facekit
ADDR     ?= 127.0.0.1:8080
DATA     ?= data
FUZZTIME ?= 20s
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

run: build
	$(BIN) serve --addr $(ADDR) --data $(DATA)

vet:
	$(GO) vet ./...

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
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime $(FUZZTIME) ./engine/imageio
	$(GO) test -run '^$$' -fuzz '^FuzzDecodeBase64$$' -fuzztime $(FUZZTIME) ./engine/imageio
	$(GO) test -run '^$$' -fuzz '^FuzzParseBody$$' -fuzztime $(FUZZTIME) ./server/baidu
	$(GO) test -run '^$$' -fuzz '^FuzzKernels$$' -fuzztime $(FUZZTIME) ./engine/tfgraph

# The benchmark suite (facekit vs raw dlib per stage, 1->all-core scaling,
# 1:N search at 10k/100k/1M, HTTP load): writes docs/benchmarks.md. Knobs
# are documented in scripts/bench.sh; Go microbenchmarks: go test -bench.
bench: models
	scripts/bench.sh

clean:
	rm -rf bin
