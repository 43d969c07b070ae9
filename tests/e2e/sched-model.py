#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The snapshots a schedule should leave, computed apart from the daemon.

sched-model.py [--every SECONDS KEEP] [--counts]
               VOLUME LOOKS PINNED HOURLY DAILY WEEKLY MONTHLY YEARLY

LOOKS is a file of times (UTC seconds, one a line) at which the scheduler
looked at the volume while the server ran it; PINNED a file of the names
pinned by hand.  A count of 0 leaves a class off; --every adds the every
class.  Prints "NAME PRIORITY" for every scheduled snapshot that must exist
at the last look, sorted by name; with --counts, "CLASS N" for each class
that is on: how many snapshots it keeps (the schedule's Kept property).
Written from docs/schedules.md only (no code shared with agents/schedulerd):
one snapshot per look whose latest instant (of any class) has none yet,
named after the largest class with an instant since the previous snapshot;
classes ordered by their longest gap (every by its interval, below a
calendar class of the same gap); retention keeps the first snapshot of each
class's newest N periods that have one; priorities -10 per class rank by
the largest class keeping it (-60 for the smallest of the six), -60 for a
pinned one no class keeps.
"""
import argparse
import datetime

HOUR, DAY = 3600, 86400
CALENDAR = ["hourly", "daily", "weekly", "monthly", "yearly"]
# The longest time between two instants of a class, which orders them.
LONGEST_GAP = {"hourly": HOUR, "daily": DAY, "weekly": 7 * DAY, "monthly": 31 * DAY,
               "yearly": 366 * DAY}


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def epoch(year, month=1):
    return int(datetime.datetime(year, month, 1, tzinfo=datetime.timezone.utc).timestamp())


class Schedule:
    def __init__(self, keep, every):
        self.keep = dict(keep)
        self.every = every
        gaps = dict(LONGEST_GAP)
        if every:
            gaps["every"] = every
            self.keep["every"] = keep["every"]
        # Every class first on a tie: sort by (gap, 0 for every, 1 otherwise).
        self.order = sorted(gaps, key=lambda c: (gaps[c], c != "every"))
        self.on = [c for c in self.order if self.keep.get(c, 0) > 0]

    def priority(self, cls):
        return -10 * (len(self.order) - self.order.index(cls))

    def latest_instant(self, cls, t):
        """The class's latest instant at or before t."""
        d = utc(t)
        if cls == "every":
            return t - t % self.every
        if cls == "hourly":
            return t - t % HOUR
        if cls == "daily":
            return t - t % DAY
        if cls == "weekly":
            day = t // DAY
            return (day - (day + 3) % 7) * DAY  # 1970-01-01 was a Thursday
        if cls == "monthly":
            return epoch(d.year, d.month)
        return epoch(d.year)

    def period(self, cls, t):
        d = utc(t)
        return {
            "every": t // self.every if self.every else None,
            "hourly": t // HOUR,
            "daily": t // DAY,
            "weekly": (t // DAY + 3) // 7,
            "monthly": (d.year, d.month),
            "yearly": d.year,
        }[cls]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--every", nargs=2, type=int, metavar=("SECONDS", "KEEP"))
    parser.add_argument("--counts", action="store_true")
    parser.add_argument("volume")
    parser.add_argument("looks")
    parser.add_argument("pinned")
    parser.add_argument("keep", nargs=5, type=int)
    args = parser.parse_args()
    keep = dict(zip(CALENDAR, args.keep))
    every = 0
    if args.every:
        every, keep["every"] = args.every
    schedule = Schedule(keep, every)
    with open(args.looks) as f:
        looks = [int(x) for x in f.read().split()]
    with open(args.pinned) as f:
        pinned = set(f.read().split())

    taken = []  # (instant, label)
    for now in looks:
        due = max(schedule.latest_instant(c, now) for c in schedule.on)
        prev = taken[-1][0] if taken else None
        if prev is not None and due <= prev:
            continue
        served = [c for c in schedule.on if prev is None or schedule.latest_instant(c, due) > prev]
        taken.append((due, served[-1]))

    kept_by = {instant: [] for instant, _ in taken}
    for cls in schedule.on:
        first = {}
        for instant, _ in taken:
            p = schedule.period(cls, instant)
            if p not in first or instant < first[p]:
                first[p] = instant
        for p in sorted(first)[-schedule.keep[cls]:]:
            kept_by[first[p]].append(cls)

    if args.counts:
        for cls in schedule.on:
            print(cls, sum(1 for classes in kept_by.values() if cls in classes))
        return
    out = []
    for instant, label in taken:
        name = "%s-%s-%s" % (args.volume, label, utc(instant).strftime("%Y-%m-%d-%H:%M"))
        if kept_by[instant]:
            out.append((name, schedule.priority(kept_by[instant][-1])))
        elif name in pinned:
            out.append((name, -60))
    for name, priority in sorted(out):
        print(name, priority)


main()
