#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Remakes the version-2 fixture of test-upgrade: a store in the format that
# stored 160-byte snapshot records, before the compact snapshot table.  Run
# it from a build of a commit before that change (the fixture committed was
# made at the commit named in v2-fixture.sha256):
#
#   tests/upgrade/make-v2-fixture.sh BUILDDIR
#
# It writes v2-origin.img.zst, v2-store.img.zst and v2-fixture.sha256 (the
# sha256 of each live snapshot's image, by id) next to itself.
set -eu
build=${1:?usage: make-v2-fixture.sh BUILDDIR}
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

"$build/tests/make-v2-fixture" "$tmp"
zstd -q -19 -f "$tmp/origin.img" -o "$here/v2-origin.img.zst"
zstd -q -19 -f "$tmp/store.img" -o "$here/v2-store.img.zst"
{
        echo "# made by make-v2-fixture.sh at $(git -C "$here" rev-parse HEAD)"
        for img in "$tmp"/snap-*.img; do
                id=${img##*/snap-}
                id=${id%.img}
                echo "$id $(sha256sum "$img" | cut -d' ' -f1)"
        done | sort -n
} >"$here/v2-fixture.sha256"
