#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
#
# Runs zuma-bench from a build directory: bench/run.sh BUILDDIR
# JSON lines (one per metric) go to stdout, progress to stderr.
# Environment: ZUMA_BENCH_QUICK=1 for the short run (~1 minute); the rest
# (ZUMA_BENCH_DIR, ZUMA_BENCH_LOOP, ...) is described in bench/README.md.
set -eu

build=${1:-build}
bin="$build/bench/zuma-bench"

if command -v ninja >/dev/null 2>&1 && [ -f "$build/build.ninja" ]; then
	ninja -C "$build" bench/zuma-bench >&2
fi
if [ ! -x "$bin" ]; then
	echo "run.sh: $bin not found; configure and build first (meson setup $build && ninja -C $build)" >&2
	exit 2
fi
if [ "$(id -u)" != 0 ]; then
	echo "run.sh: not root: page-cache drops are skipped (O_DIRECT is used anyway)" >&2
	if [ "${ZUMA_BENCH_LOOP:-0}" != 0 ]; then
		echo "run.sh: ZUMA_BENCH_LOOP=1 needs root for loop devices" >&2
		exit 2
	fi
fi
exec "$bin"
