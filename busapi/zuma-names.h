/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The bus names, object roots and interface names of every Zumastor
 * daemon, in one place (docs/bus-api.md says why they are what they are).
 *
 * Each daemon owns one versioned well-known name and puts every object it
 * exports under the object root spelled like that name, as systemd's
 * hostname1 and timedate1 do: org.zumastor.Scheduler1 lives at
 * /org/zumastor/Scheduler1.  A daemon never names another daemon's
 * objects by path; it refers to a volume by the volume's UUID (the Uuid
 * property of org.zumastor.Zumastor1.Volume) and asks the owner for the
 * path when it needs one.  Version 2 of an API is a new name and root
 * (org.zumastor.Zumastor2 at /org/zumastor/Zumastor2), never a change
 * under the old one.
 *
 * Plain macros, no GLib: anything may include this header.  Error names
 * (org.zumastor.Zumastor1.Error.*) are in zuma-error.h; every daemon uses
 * that one domain.
 */
#pragma once

/* --- zuma-snapshotd: stores, volumes, snapshots (system bus) --- */

#define ZUMA_SNAPSHOTD_BUS_NAME "org.zumastor.Zumastor1"
#define ZUMA_SNAPSHOTD_OBJECT_ROOT "/org/zumastor/Zumastor1"
/* The Manager; the root is its org.freedesktop.DBus.ObjectManager. */
#define ZUMA_SNAPSHOTD_MANAGER_PATH ZUMA_SNAPSHOTD_OBJECT_ROOT "/Manager"
/* Parent of volumes/NAME (NAME escaped) and volumes/NAME/snapshots/ID. */
#define ZUMA_SNAPSHOTD_VOLUMES_PATH ZUMA_SNAPSHOTD_OBJECT_ROOT "/volumes"
/* Parent of jobs/N. */
#define ZUMA_SNAPSHOTD_JOBS_PATH ZUMA_SNAPSHOTD_OBJECT_ROOT "/jobs"

#define ZUMA_INTERFACE_PREFIX "org.zumastor.Zumastor1."
#define ZUMA_INTERFACE_MANAGER ZUMA_INTERFACE_PREFIX "Manager"
#define ZUMA_INTERFACE_VOLUME ZUMA_INTERFACE_PREFIX "Volume"
#define ZUMA_INTERFACE_SNAPSHOT ZUMA_INTERFACE_PREFIX "Snapshot"
/* Implemented by the job objects of every daemon that runs long operations,
 * under that daemon's own root, so one job watcher serves them all. */
#define ZUMA_INTERFACE_JOB ZUMA_INTERFACE_PREFIX "Job"

/* --- the daemons to come (system bus unless said otherwise) ---
 * Each one's interfaces are named under its bus name
 * (org.zumastor.Scheduler1.Schedule, ...), each has a Manager object at
 * ROOT/Manager and an ObjectManager at ROOT. */

/* zuma-schedulerd: timed snapshots, retention classes, pruning. */
#define ZUMA_SCHEDULERD_BUS_NAME "org.zumastor.Scheduler1"
#define ZUMA_SCHEDULERD_OBJECT_ROOT "/org/zumastor/Scheduler1"

/* zuma-mounterd: mounts of origins and snapshots, hotplug auto-start. */
#define ZUMA_MOUNTERD_BUS_NAME "org.zumastor.Mounter1"
#define ZUMA_MOUNTERD_OBJECT_ROOT "/org/zumastor/Mounter1"
#define ZUMA_MOUNTERD_MANAGER_PATH ZUMA_MOUNTERD_OBJECT_ROOT "/Manager"
#define ZUMA_MOUNTER_INTERFACE_MANAGER "org.zumastor.Mounter1.Manager"

/* zuma-sendd: replication sender; one process owns the name, each
 * outgoing replication is an object of its own. */
#define ZUMA_SENDD_BUS_NAME "org.zumastor.Send1"
#define ZUMA_SENDD_OBJECT_ROOT "/org/zumastor/Send1"
#define ZUMA_SENDD_MANAGER_PATH ZUMA_SENDD_OBJECT_ROOT "/Manager"

/* zuma-recvd: replication receiver. */
#define ZUMA_RECVD_BUS_NAME "org.zumastor.Recv1"
#define ZUMA_RECVD_OBJECT_ROOT "/org/zumastor/Recv1"
#define ZUMA_RECVD_MANAGER_PATH ZUMA_RECVD_OBJECT_ROOT "/Manager"

/* zuma-notifyd: one per user session, on the SESSION bus.  It owns the
 * name only to stay single per session (a second one exits); it exports
 * no interface in version 1. */
#define ZUMA_NOTIFYD_BUS_NAME "org.zumastor.Notify1"
#define ZUMA_NOTIFYD_OBJECT_ROOT "/org/zumastor/Notify1"
