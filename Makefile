# model-runner: build, run and test. `make help` lists the targets.
SHELL := /bin/bash
NODE ?= node
SOCKET ?= model-runner.sock
APT_PACKAGES := docker-registry skopeo apache2-utils openssl tinyproxy curl
TEST_FILES = $(shell find test -name '*.test.ts' | sort)
# The peer-credentials addon compiles against the headers of the node that runs it, found beside it
# (include/node under its prefix) so that no download is needed; without them node-gyp fetches its own.
ADDON := build/Release/peer_credentials.node
NODE_DIR ?= $(shell $(NODE) -p "require('path').resolve(process.execPath, '..', '..')")
NODE_GYP_FLAGS ?= $(if $(wildcard $(NODE_DIR)/include/node/node_api.h),--nodedir=$(NODE_DIR)) --loglevel=warn

.PHONY: help install compile build addon binary run test demo bench bench-pull lint clean test-deps native llama-server readme-settings

help: ## Show the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

node_modules/.install-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: node_modules/.install-stamp ## Install npm dependencies

# `configure build`, not `rebuild`: rebuild empties build/, which also holds native-engine.json.
# npm runs the script so that its bundled node-gyp is on PATH; package.json's "gypfile": false
# keeps npm ci from running its own `node-gyp rebuild`.
$(ADDON): binding.gyp native/peer-credentials.cc | node_modules/.install-stamp
	npm run --silent build:native -- $(NODE_GYP_FLAGS)

addon: $(ADDON) ## Compile the peer-credentials addon the server needs to check who connects to its socket

compile: install addon ## Compile TypeScript to dist/, bundle node-llama-cpp, the peer-credentials addon and the unified-KV library
	npx tsc -p tsconfig.json
	$(NODE) --import tsx scripts/bundle-node-llama-cpp.ts
	@scripts/build-llama-context-params.sh $(NODE_GYP_FLAGS)

build: compile ## compile, then llama.cpp for this CPU when that measures faster (NATIVE_ENGINE=off skips it)
	@scripts/build-native-engine.sh || echo "native-engine: the native step failed; the prebuilt binaries run" >&2

# The single binary. BINARY_BACKENDS picks the prebuilt llama.cpp backends it carries (cpu, cuda,
# vulkan; all: each one installed); BINARY_LOCAL_ENGINE=1 adds the -march=native build make build chose.
BINARY := dist/model-runner
BINARY_BACKENDS ?= all
BINARY_LOCAL_ENGINE ?= 0
BINARY_INPUTS = $(shell find src scripts/binary -name '*.ts') package-lock.json

$(BINARY): $(BINARY_INPUTS) $(ADDON) | node_modules/.install-stamp
	BINARY_BACKENDS="$(BINARY_BACKENDS)" BINARY_LOCAL_ENGINE="$(BINARY_LOCAL_ENGINE)" BINARY_OUT=$(BINARY) $(NODE) --import tsx scripts/binary/build.ts

binary: $(BINARY) ## Build dist/model-runner: one executable with node, the server, node-llama-cpp and its backends inside

run: compile ## Install, build and start the server on ./model-runner.sock at once; llama.cpp compiles for this CPU in the background
	@scripts/build-native-engine.sh --background || echo "native-engine: the native step failed; the prebuilt binaries run" >&2
	$(NODE) dist/cli.js serve --socket $(SOCKET)

demo: compile ## Put a tiny generated model into ./models as ai/demo, and a tiny reranker as ai/demo-reranker
	$(NODE) dist/cli.js demo
	$(NODE) dist/cli.js demo --reranker

test-deps: ## Install the Debian packages the tests drive (a real registry, skopeo)
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

test: test-deps build ## Install everything the tests need and run every test
	$(NODE) --import tsx --test --test-reporter=spec --test-concurrency=1 $(TEST_FILES)

lint: install ## Type-check the sources, the tests and the scripts without emitting
	npx tsc -p tsconfig.json --noEmit
	npx tsc -p tsconfig.test.json

clean: ## Remove build output (dist/, the addon, the native-engine choice)
	rm -rf dist .cache build

native: install ## Only the native step of build: compile, test and benchmark llama.cpp for this CPU (cached)
	scripts/build-native-engine.sh

llama-server: ## Build llama-server, llama-bench and llama-batched-bench from the bundled llama.cpp into .cache/
	scripts/build-llama-server.sh >/dev/null

bench: build ## Benchmark our server against llama-server (Q8_0 and F16); JSON in .cache/bench/latest.json
	scripts/bench.sh

bench-pull: install test-deps ## Pull with our puller and with skopeo side by side: 500 MB direct (and curl), 144 MB and 1 GB through a capped CDN, 144 MB through a proxy; JSON in .cache/bench/pull-latest.json
	$(NODE) --import tsx scripts/bench-pull/main.ts

readme-settings: install ## Regenerate README.md's configuration table from the settings in src/config.ts
	$(NODE) --import tsx scripts/readme-settings.ts
