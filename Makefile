# Thin wrapper over CMake.  `make run` and `make test` work alone on a fresh
# Debian 12 machine: each installs the packages it needs first.
#   make run    install deps, build, start seglogd on 127.0.0.1:9092, data in ./data
#   make test   install deps, build (release, ASan+UBSan, fuzz) and run every test
#   make bench  build and run the benchmarks in bench/
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
CTEST_FLAGS ?= --output-on-failure -j$(JOBS)
FUZZ_SECONDS ?= 10

.PHONY: all deps build build-asan build-fuzz test test-release test-asan test-fuzz \
        run bench format check-format check-generated clean

all: build

deps:
	@bash scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

build-asan: deps
	@cmake -S . -B $(BUILD)/asan -DCMAKE_BUILD_TYPE=Debug -DSEGLOG_SANITIZE=ON >/dev/null
	@cmake --build $(BUILD)/asan -j$(JOBS)

build-fuzz: deps
	@CC=clang cmake -S . -B $(BUILD)/fuzz -DCMAKE_BUILD_TYPE=Debug -DSEGLOG_FUZZ=ON \
	    -DSEGLOG_FUZZ_SECONDS=$(FUZZ_SECONDS) >/dev/null
	@cmake --build $(BUILD)/fuzz -j$(JOBS)

test-release: build
	@cd $(BUILD) && ctest $(CTEST_FLAGS)

test-asan: build-asan
	@cd $(BUILD)/asan && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest $(CTEST_FLAGS)

test-fuzz: build-fuzz
	@cd $(BUILD)/fuzz && ctest $(CTEST_FLAGS) -L fuzz

test: check-format test-release test-asan test-fuzz
	@echo "make test: all suites passed"

check-format:
	@bash scripts/check-source.sh

# Regenerates the protocol codecs into a scratch dir and diffs them against the
# committed ones.  Needs Kafka's JSON message definitions, which the build never
# reads: make check-generated KAFKA_MESSAGES=/path/to/kafka/clients/.../message
check-generated:
	@test -n "$(KAFKA_MESSAGES)" || { echo "usage: make check-generated KAFKA_MESSAGES=DIR" >&2; exit 2; }
	@/usr/bin/python3 tools/protogen/protogen --check --in "$(KAFKA_MESSAGES)" --out brokerd/proto/gen

format:
	@git ls-files '*.c' '*.h' | grep -v '/gen/' | xargs clang-format -i

run: build
	@if [ ! -x $(BUILD)/brokerd/seglogd ]; then \
	    echo "make run: seglogd is not built yet (brokerd/ lands with issue 3)" >&2; exit 1; fi
	@mkdir -p data
	exec $(BUILD)/brokerd/seglogd --override log.dirs=./data

bench: build
	@bash bench/run-all.sh $(BUILD)

clean:
	rm -rf $(BUILD)
