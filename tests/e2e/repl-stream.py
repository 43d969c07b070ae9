#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
#
# repl-stream.py: zuma-snapshotd's SendStream and ReceiveStream with a
# regular file as the stream, for tests that damage a stream on its way
# (gdbus call cannot pass file descriptors).  The bus is
# DBUS_SYSTEM_BUS_ADDRESS.
#
#   repl-stream.py send VOLUME FROM TO FILE   FROM "" for a full stream
#   repl-stream.py receive VOLUME FILE
#
# Waits for the job; prints "ok", or "failed: MESSAGE" and exits 1.
import os
import sys
import time

import dbus

BUS_NAME = "org.zumastor.Zumastor1"
ROOT = "/org/zumastor/Zumastor1"
VOLUME = "org.zumastor.Zumastor1.Volume"
JOB = "org.zumastor.Zumastor1.Job"


def volume_path(bus, name):
    root = bus.get_object(BUS_NAME, ROOT)
    objects = root.GetManagedObjects(dbus_interface="org.freedesktop.DBus.ObjectManager")
    for path, interfaces in objects.items():
        if VOLUME in interfaces and str(interfaces[VOLUME].get("Name", "")) == name:
            return path
    sys.exit("no volume %s on this bus" % name)


def wait_job(bus, path, timeout=120):
    job = bus.get_object(BUS_NAME, path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        props = job.GetAll(JOB, dbus_interface="org.freedesktop.DBus.Properties")
        if props["Finished"]:
            if props["Success"]:
                print("ok")
                return 0
            print("failed: %s" % props["ErrorMessage"])
            return 1
        time.sleep(0.05)
    sys.exit("job %s did not finish in %d s" % (path, timeout))


def main():
    bus = dbus.bus.BusConnection(os.environ["DBUS_SYSTEM_BUS_ADDRESS"])
    mode = sys.argv[1]
    volume = bus.get_object(BUS_NAME, volume_path(bus, sys.argv[2]))
    if mode == "send":
        fd = os.open(sys.argv[5], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        job = volume.SendStream(sys.argv[3], sys.argv[4], dbus.types.UnixFd(fd),
                                dbus.Dictionary({}, signature="sv"), dbus_interface=VOLUME)
    elif mode == "receive":
        fd = os.open(sys.argv[3], os.O_RDONLY)
        job = volume.ReceiveStream(dbus.types.UnixFd(fd), dbus.Dictionary({}, signature="sv"),
                                   dbus_interface=VOLUME)
    else:
        sys.exit("usage: repl-stream.py send VOLUME FROM TO FILE | receive VOLUME FILE")
    os.close(fd)
    return wait_job(bus, job)


if __name__ == "__main__":
    sys.exit(main())
