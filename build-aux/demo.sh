#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The engine demo (make demo): two loop devices over sparse files, the
# snapshot store created on them by build/tests/zuma-demo, then the offline
# tools zumastor-dump and zumastor-check run on the result.  Everything it
# makes is removed on exit, also on failure or Ctrl-C.  Needs root (losetup).
#
#   build-aux/demo.sh [BUILDDIR]
set -euo pipefail

BUILD=${1:-build}
DEMO=$BUILD/tests/zuma-demo
DUMP=$BUILD/snapstore/zumastor-dump
CHECK=$BUILD/snapstore/zumastor-check

if [ -t 1 ]; then
        BOLD=$(printf '\033[1m') PLAIN=$(printf '\033[0m')
else
        BOLD="" PLAIN=""
fi

say() {
        printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"
}

for tool in "$DEMO" "$DUMP" "$CHECK"; do
        if [ ! -x "$tool" ]; then
                echo "demo: $tool is missing: run 'make build' (or 'meson compile -C $BUILD')" >&2
                exit 1
        fi
done
if [ "$(id -u)" -ne 0 ]; then
        echo "demo: loop devices need root: run as root (e.g. sudo make demo)" >&2
        exit 1
fi

WORK=$(mktemp -d "${TMPDIR:-/var/tmp}/zuma-demo.XXXXXX")
ORIGIN_DEV=""
STORE_DEV=""

cleanup() {
        local rc=$?
        [ -n "$STORE_DEV" ] && losetup -d "$STORE_DEV" 2>/dev/null || true
        [ -n "$ORIGIN_DEV" ] && losetup -d "$ORIGIN_DEV" 2>/dev/null || true
        rm -rf "$WORK"
        if [ "$rc" -eq 0 ]; then
                say "Demo finished: loop devices detached, $WORK removed"
        else
                echo "demo: failed (exit $rc); loop devices detached, $WORK removed" >&2
        fi
        exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say "Two sparse files in $WORK: origin 64 MiB, store 128 MiB"
truncate -s 64M "$WORK/origin.img"
truncate -s 128M "$WORK/store.img"
ORIGIN_DEV=$(losetup -f --show "$WORK/origin.img")
STORE_DEV=$(losetup -f --show "$WORK/store.img")
echo "origin: $ORIGIN_DEV -> $WORK/origin.img"
echo "store:  $STORE_DEV -> $WORK/store.img"

say "zuma-demo: create a store, take snapshots, overwrite, read them back"
"$DEMO" "$ORIGIN_DEV" "$STORE_DEV"

say "zumastor-dump --origin $ORIGIN_DEV $STORE_DEV"
"$DUMP" --origin "$ORIGIN_DEV" "$STORE_DEV"

say "zumastor-dump --json --exceptions (first lines; the full dump is valid JSON)"
"$DUMP" --json --exceptions --origin "$ORIGIN_DEV" "$STORE_DEV" > "$WORK/dump.json"
python3 -m json.tool "$WORK/dump.json" > /dev/null
head -n 20 "$WORK/dump.json"
echo "... ($(wc -l < "$WORK/dump.json") lines, parsed by python3 -m json.tool)"

say "zumastor-check --origin $ORIGIN_DEV $STORE_DEV"
"$CHECK" --origin "$ORIGIN_DEV" "$STORE_DEV"
echo "zumastor-check exit status: 0 (clean)"
