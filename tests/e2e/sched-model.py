#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""The snapshots a schedule should leave, computed apart from the daemon.

sched-model.py VOLUME LOOKS PINNED HOURLY DAILY WEEKLY MONTHLY YEARLY

LOOKS is a file of times (UTC seconds, one a line) at which the scheduler
looked at the volume while the server ran it; PINNED a file of the names
pinned by hand.  Prints "NAME PRIORITY" for every scheduled snapshot that
must exist at the last look, sorted by name.  Written from
docs/schedules.md only (no code shared with agents/schedulerd): one
snapshot per look whose latest hourly instant has none yet, named after the
largest class with an instant since the previous snapshot; retention keeps
the first snapshot of each class's newest N periods; priorities -10 per
class rank by the largest class keeping it, -60 for a pinned one no class
keeps.
"""
import datetime
import sys

HOUR, DAY = 3600, 86400
CLASSES = ["hourly", "daily", "weekly", "monthly", "yearly"]
PRIORITY = {"hourly": -50, "daily": -40, "weekly": -30, "monthly": -20, "yearly": -10}


def utc(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc)


def latest_instant(cls, t):
    """The class's latest instant at or before t."""
    d = utc(t)
    if cls == "hourly":
        return t - t % HOUR
    if cls == "daily":
        return t - t % DAY
    if cls == "weekly":
        day = t // DAY
        monday = day - (day + 3) % 7  # 1970-01-01 was a Thursday
        return monday * DAY
    if cls == "monthly":
        return int(datetime.datetime(d.year, d.month, 1, tzinfo=datetime.timezone.utc).timestamp())
    return int(datetime.datetime(d.year, 1, 1, tzinfo=datetime.timezone.utc).timestamp())


def period(cls, t):
    d = utc(t)
    return {
        "hourly": t // HOUR,
        "daily": t // DAY,
        "weekly": (t // DAY + 3) // 7,
        "monthly": (d.year, d.month),
        "yearly": d.year,
    }[cls]


def main():
    volume, looks_file, pinned_file = sys.argv[1:4]
    keep = dict(zip(CLASSES, (int(x) for x in sys.argv[4:9])))
    on = [c for c in CLASSES if keep[c] > 0]
    looks = [int(x) for x in open(looks_file).read().split()]
    pinned = set(open(pinned_file).read().split())

    taken = []  # (instant, label)
    for now in looks:
        due = latest_instant("hourly", now)
        prev = taken[-1][0] if taken else None
        if prev is not None and due <= prev:
            continue
        served = [c for c in on if prev is None or latest_instant(c, due) > prev]
        taken.append((due, served[-1]))

    names = {}
    for instant, label in taken:
        names[instant] = "%s-%s-%s" % (volume, label, utc(instant).strftime("%Y-%m-%d-%H:%M"))
    kept_by = {instant: [] for instant, _ in taken}
    for cls in on:
        first = {}
        for instant, _ in taken:
            p = period(cls, instant)
            if p not in first or instant < first[p]:
                first[p] = instant
        for p in sorted(first)[-keep[cls]:]:
            kept_by[first[p]].append(cls)

    out = []
    for instant, _ in taken:
        name = names[instant]
        if kept_by[instant]:
            out.append((name, PRIORITY[kept_by[instant][-1]]))
        elif name in pinned:
            out.append((name, -60))
    for name, priority in sorted(out):
        print(name, priority)


main()
