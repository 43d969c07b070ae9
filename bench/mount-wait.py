#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""mount-wait.py TIMEOUT_S MOUNT_POINT -- COMMAND...

Runs COMMAND, then waits until MOUNT_POINT appears in /proc/self/mountinfo
and prints the milliseconds from just before COMMAND started to the
moment the mount was seen.  The kernel wakes a poll() on mountinfo
(POLLPRI) at every change of the mount table, so the time is that of the
change, not of a polling interval.  Exits 1 (and prints nothing) when the
command fails or the mount does not appear within TIMEOUT_S seconds.
"""
import os
import select
import subprocess
import sys
import time


def mounted(mountinfo, mount_point):
    mountinfo.seek(0)
    for line in mountinfo.read().splitlines():
        fields = line.split(" ")
        # Field 5 is the mount point, octal-escaped like the kernel does.
        if len(fields) > 4 and fields[4].encode().decode("unicode_escape") == mount_point:
            return True
    return False


def main():
    if len(sys.argv) < 5 or sys.argv[3] != "--":
        sys.exit("usage: mount-wait.py TIMEOUT_S MOUNT_POINT -- COMMAND...")
    timeout_s = float(sys.argv[1])
    mount_point = os.path.realpath(sys.argv[2])
    command = sys.argv[4:]
    with open("/proc/self/mountinfo") as mountinfo:
        poller = select.poll()
        poller.register(mountinfo, select.POLLPRI | select.POLLERR)
        if mounted(mountinfo, mount_point):
            sys.exit(f"mount-wait.py: {mount_point} is mounted already")
        start = time.monotonic()
        result = subprocess.run(command, stdout=subprocess.DEVNULL)
        if result.returncode != 0:
            sys.exit(f"mount-wait.py: {' '.join(command)} exited with {result.returncode}")
        deadline = start + timeout_s
        while not mounted(mountinfo, mount_point):
            left = deadline - time.monotonic()
            if left <= 0:
                sys.exit(f"mount-wait.py: {mount_point} was not mounted within {timeout_s} s")
            poller.poll(left * 1000)
        print(f"{(time.monotonic() - start) * 1000:.3f}")


if __name__ == "__main__":
    main()
