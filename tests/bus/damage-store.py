#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""damage-store.py DUMP ORIGIN STORE TREE|newest-superblock

Damages one leaf of a B-tree of a (stopped) Zumastor store, the way a bad
sector or a stray write would: finds the tree's root with zumastor-dump
--json, reads the root node (it must be an internal node: the tree needs
depth 2 or more), and overwrites bytes in the middle of its second child (of at least
three, so neither end of the image depends on it),
so that block fails its checksum.  Prints "BLOCK FIRST-KEY-A": the damaged
block and the first key (for the shared tree, the chunk) it covers.
The node layout is docs/format.md's SsDiskNode and SsDiskBranch.

With newest-superblock it damages instead both copies of the newest
commit's superblock (the primary at block (txid mod 2) x 32 and its mirror
64 blocks further, format.h), so only the older commit can be read, and
prints that newest txid.
"""
import json
import os
import struct
import subprocess
import sys

BLOCK = 4096
NODE_HEADER = 48
BRANCH = 24


def main():
    dump, origin, store, tree = sys.argv[1:5]
    out = subprocess.run([dump, "--json", "--origin", origin, store], check=True,
                         capture_output=True, text=True).stdout
    dumped = json.loads(out)
    if tree == "newest-superblock":
        txid = dumped["superblock"]["txid"]
        fd = os.open(store, os.O_RDWR)
        try:
            for area in (txid % 2, txid % 2 + 2):
                os.pwrite(fd, b"\xa5" * 256, area * 32 * BLOCK + 1024)
            os.fsync(fd)
        finally:
            os.close(fd)
        print(txid)
        return
    roots = {t["name"]: t for t in dumped["trees"]}
    root = roots[tree]
    if root["depth"] < 2:
        sys.exit(f"tree {tree} has depth {root['depth']}: nothing below its root")
    fd = os.open(store, os.O_RDWR)
    try:
        node = os.pread(fd, BLOCK, root["root"] * BLOCK)
        level, count = struct.unpack_from("<HH", node, 34)
        # Neither the first child nor the last: udev's probe (blkid) reads
        # both ends of every new device, and would find the damage before
        # the test looks for it.
        if level == 0 or count < 3:
            sys.exit(f"root of {tree} is level {level} with {count} entries (3 needed)")
        key_a, _key_b, child = struct.unpack_from("<QQQ", node, NODE_HEADER + BRANCH)
        os.pwrite(fd, b"\xa5" * 256, child * BLOCK + 1024)
        os.fsync(fd)
    finally:
        os.close(fd)
    print(child, key_a)


if __name__ == "__main__":
    main()
