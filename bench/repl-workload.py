#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""repl-workload.py: the file trees and changes of the replication benchmark.

    repl-workload.py setup DIR --seed S --volume-bytes B
    repl-workload.py change DIR 1pct|large|none --seed S --volume-bytes B [--round N]

Everything written is a function of the seed, the volume size and the
round alone, so the same command gives the same tree and the same change
on any file system (ext4 on a Zumastor origin, btrfs, ...): the benchmark
applies each change to every side and compares the transfers.

setup: DIR/small/DDD/FFFFF, small files of 1..8 blocks of 4 KiB (37.5% of
the volume in all), and DIR/large.bin (25% of the volume), random bytes
(incompressible).
change 1pct: one random 4 KiB block rewritten in place in randomly chosen
small files, as many blocks as 1% of the volume's 4 KiB blocks (distinct
blocks, so mostly distinct files).
change large: large.bin rewritten in place with new random bytes.
change none: nothing.
Prints one line saying what it wrote.  The caller syncs.
"""

import argparse
import os
import random
import sys

BLOCK = 4096
FILES_PER_DIR = 100
SMALL_SHARE = 0.375
LARGE_SHARE = 0.25
WRITE_PIECE = 1 << 20


def small_sizes(rng, total):
    """Block counts of the small files, up to total bytes."""
    sizes = []
    used = 0
    while True:
        blocks = rng.randint(1, 8)
        if used + blocks * BLOCK > total:
            return sizes
        sizes.append(blocks)
        used += blocks * BLOCK


def small_path(root, index):
    return os.path.join(root, "small", "%03d" % (index // FILES_PER_DIR), "%05d" % index)


def large_bytes(volume_bytes):
    return int(volume_bytes * LARGE_SHARE) // WRITE_PIECE * WRITE_PIECE


def write_random(path, size, rng, mode):
    with open(path, mode) as f:
        left = size
        while left:
            piece = min(left, WRITE_PIECE)
            f.write(rng.randbytes(piece))
            left -= piece


def setup(args):
    rng = random.Random("%d:setup:%d" % (args.seed, args.volume_bytes))
    sizes = small_sizes(rng, int(args.volume_bytes * SMALL_SHARE))
    for index, blocks in enumerate(sizes):
        path = small_path(args.dir, index)
        if index % FILES_PER_DIR == 0:
            os.makedirs(os.path.dirname(path), exist_ok=True)
        write_random(path, blocks * BLOCK, rng, "wb")
    large = large_bytes(args.volume_bytes)
    write_random(os.path.join(args.dir, "large.bin"), large, rng, "wb")
    print("setup: %d small files (%d blocks), large.bin %d MiB"
          % (len(sizes), sum(sizes), large >> 20))


def change(args):
    rng = random.Random("%d:%s:%d:%d" % (args.seed, args.workload, args.round,
                                         args.volume_bytes))
    if args.workload == "none":
        print("change none: nothing written")
        return
    if args.workload == "large":
        path = os.path.join(args.dir, "large.bin")
        size = os.path.getsize(path)
        write_random(path, size, rng, "r+b")
        print("change large: large.bin rewritten, %d MiB" % (size >> 20))
        return
    # 1pct: the sizes come from the setup's generator, not from the file
    # system, so both sides choose the same blocks.
    sizes = small_sizes(random.Random("%d:setup:%d" % (args.seed, args.volume_bytes)),
                        int(args.volume_bytes * SMALL_SHARE))
    blocks = args.volume_bytes // BLOCK // 100
    cells = [(index, block) for index, count in enumerate(sizes) for block in range(count)]
    if blocks > len(cells):
        sys.exit("repl-workload: %d blocks to change, only %d in small files" % (blocks, len(cells)))
    chosen = sorted(rng.sample(cells, blocks))
    for index, block in chosen:
        fd = os.open(small_path(args.dir, index), os.O_WRONLY)
        try:
            os.pwrite(fd, rng.randbytes(BLOCK), block * BLOCK)
        finally:
            os.close(fd)
    print("change 1pct: %d blocks in %d small files"
          % (blocks, len({index for index, _ in chosen})))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["setup", "change"])
    parser.add_argument("dir")
    parser.add_argument("workload", nargs="?", choices=["1pct", "large", "none"])
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--volume-bytes", type=int, required=True)
    parser.add_argument("--round", type=int, default=1)
    args = parser.parse_args()
    if (args.command == "change") != (args.workload is not None):
        parser.error("change takes a workload, setup none")
    if args.volume_bytes < 16 * WRITE_PIECE:
        parser.error("the volume is smaller than 16 MiB")
    if args.command == "setup":
        setup(args)
    else:
        change(args)


if __name__ == "__main__":
    main()
