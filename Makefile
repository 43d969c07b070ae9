# SPDX-License-Identifier: GPL-2.0-only
#
# Thin convenience layer over meson.  Everything real lives in meson.build;
# these targets install missing Debian packages first, so they work as root
# on a fresh Debian 12 clone.
#
#   make demo              build, then run the demo: zuma-snapshotd on a private
#                          bus, a volume on loop devices driven with zumactl,
#                          ext4 snapshots mounted read-only (root, seconds)
#   make check             build and run every test suite
#   make bench [QUICK=1]   build and run the benchmarks (QUICK=1: short run)
#   make build             configure (once) and compile into build/
#   make fuzz [FUZZ_SECONDS=60]   clang + libFuzzer build in build-fuzz/, run each fuzzer
#   make format / check-format    clang-format every tracked *.c / *.h
#   make clean             remove the build directories

BUILDDIR ?= build
FUZZDIR ?= build-fuzz
FUZZ_SECONDS ?= 60
FUZZERS = superblock node snapshot store stream
MESON ?= meson
CLANG_FORMAT ?= clang-format

ifeq ($(QUICK),1)
BENCH_ENV = ZUMA_BENCH_QUICK=1
else
BENCH_ENV =
endif

.PHONY: all deps build demo check bench fuzz format check-format clean

all: build

deps:
	./build-aux/install-deps.sh

$(BUILDDIR)/build.ninja: | deps
	$(MESON) setup $(BUILDDIR)

build: deps $(BUILDDIR)/build.ninja
	$(MESON) compile -C $(BUILDDIR)

demo: build
	./build-aux/demo.sh $(BUILDDIR)
	./build-aux/demo-replication.sh $(BUILDDIR)

check: build
	$(MESON) test -C $(BUILDDIR) --print-errorlogs --no-suite vm-long

bench: build
	$(BENCH_ENV) $(MESON) test -C $(BUILDDIR) --benchmark --verbose

$(FUZZDIR)/build.ninja: | deps
	CC=clang $(MESON) setup $(FUZZDIR) -Dfuzzers=true \
		-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized

# Each fuzzer starts from the committed seeds in tests/fuzz/corpus/NAME and
# writes what it discovers to $(FUZZDIR)/corpus/NAME, never into the source
# tree.  Crashes land in $(FUZZDIR)/crashes/.
fuzz: deps $(FUZZDIR)/build.ninja
	$(MESON) compile -C $(FUZZDIR)
	@mkdir -p $(FUZZDIR)/crashes
	@status=0; for f in $(FUZZERS); do \
		mkdir -p $(FUZZDIR)/corpus/$$f; \
		echo "== fuzz-$$f for $(FUZZ_SECONDS) s"; \
		$(FUZZDIR)/tests/fuzz-$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZDIR)/crashes/$$f- \
			$(FUZZDIR)/corpus/$$f tests/fuzz/corpus/$$f || status=1; \
	done; \
	if [ $$status -ne 0 ]; then \
		echo "fuzz: crashes found, inputs in $(FUZZDIR)/crashes/:"; ls $(FUZZDIR)/crashes; \
	fi; \
	exit $$status

format:
	git ls-files -z '*.c' '*.h' | xargs -0 -r $(CLANG_FORMAT) -i

check-format:
	git ls-files -z '*.c' '*.h' | xargs -0 -r $(CLANG_FORMAT) --dry-run -Werror

clean:
	rm -rf $(BUILDDIR) $(FUZZDIR) build-asan build-ci
