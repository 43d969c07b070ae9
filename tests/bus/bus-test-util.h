/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Plumbing of the bus tests: the bus connection and the signals seen on
 * it, proxies, properties read straight from the daemon, exact D-Bus
 * error names, and the harness (zuma-test-bus.sh) for devices and the
 * daemon's life.
 */
#pragma once

#include <gio/gio.h>
#include <string.h>

#include "zuma-bus-generated.h"
#include "zuma-error.h"
#include "zuma-names.h"

#define BUS_NAME ZUMA_SNAPSHOTD_BUS_NAME
#define ROOT_PATH ZUMA_SNAPSHOTD_OBJECT_ROOT
#define MANAGER_PATH ZUMA_SNAPSHOTD_MANAGER_PATH
#define IFACE_MANAGER ZUMA_INTERFACE_MANAGER
#define IFACE_VOLUME ZUMA_INTERFACE_VOLUME
#define IFACE_SNAPSHOT ZUMA_INTERFACE_SNAPSHOT
#define IFACE_JOB ZUMA_INTERFACE_JOB
#define SIGNAL_TIMEOUT_S 20
#define MiB (1024 * 1024)

/* The system bus the harness started (DBUS_SYSTEM_BUS_ADDRESS). */
extern GDBusConnection *test_bus;

/* Connects and starts recording every org.zumastor.Zumastor1.* signal. */
void test_bus_init(void);
void test_bus_fini(void);

/* Takes the first recorded signal member on path whose parameters print
 * (g_variant_print with types) as want (NULL: any); waits for it up to
 * SIGNAL_TIMEOUT_S and aborts the test without it. */
GVariant *wait_signal(const char *path, const char *member, const char *want);
/* Forgets every signal recorded so far. */
void drain_signals(void);
/* Fails if a signal member from path came in since the last drain or wait
 * (call it right after the call that must not cause one). */
void assert_no_signal(const char *path, const char *member);

/* Options from GVariant text, e.g. "{'force': <true>}", floating. */
GVariant *opts(const char *text);

/* Asserts error came from the bus as name ("NotFound", short for
 * org.zumastor.Zumastor1.Error.NotFound, or a full name). */
void assert_error_name(GError *error, const char *name);

#define NO_OPTS opts("{}")

#define assert_fails(name, call) \
        do { \
                g_autoptr(GError) error_ = NULL; \
                gboolean ok_ = (call); \
                g_assert_false(ok_); \
                assert_error_name(error_, (name)); \
        } while (0)

#define assert_fails_mentioning(name, word, call) \
        do { \
                g_autoptr(GError) error_ = NULL; \
                gboolean ok_ = (call); \
                g_assert_false(ok_); \
                assert_error_name(error_, (name)); \
                if (!strstr(error_->message, (word))) \
                        g_error("error \"%s\" does not mention %s", error_->message, (word)); \
        } while (0)

#define assert_ok(call) \
        do { \
                g_autoptr(GError) error_ = NULL; \
                gboolean ok_ = (call); \
                g_assert_no_error(error_); \
                g_assert_true(ok_); \
        } while (0)

#define PROXY_FLAGS \
        (G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES | G_DBUS_PROXY_FLAGS_DO_NOT_CONNECT_SIGNALS)

ZumaBusManager *manager(void);
ZumaBusVolume *volume(const char *path);
ZumaBusSnapshot *snapshot(const char *path);
ZumaBusJob *job(const char *path);

/* Properties, read with a Properties.Get call each (no proxy cache). */
GVariant *prop(const char *path, const char *iface, const char *name);
char *prop_s(const char *path, const char *iface, const char *name);
guint64 prop_t(const char *path, const char *iface, const char *name);
guint32 prop_u(const char *path, const char *iface, const char *name);
gint32 prop_i(const char *path, const char *iface, const char *name);
gboolean prop_b(const char *path, const char *iface, const char *name);
double prop_d(const char *path, const char *iface, const char *name);
gint64 prop_x(const char *path, const char *iface, const char *name);
void assert_prop_s(const char *path, const char *iface, const char *name, const char *want);
gboolean object_exists(const char *path);

/* "zuma-test-bus.sh COMMAND ARG1 ARG2": its stdout, stripped. */
char *harness(const char *command, const char *arg1, const char *arg2);
/* A loop device over a new sparse file of size (truncate syntax),
 * images/NAME.img, or NAME-2.img... when NAME was asked for before. */
char *loop_device(const char *name, const char *size);
/* A shell command that must succeed. */
void run(const char *command);

/* Writes, or checks, len bytes of one value at offset (O_DIRECT). */
void write_device(const char *device, guint64 offset, gsize len, guint8 value);
gboolean device_holds(const char *device, guint64 offset, gsize len, guint8 value);
/* What the kernel says of a block device: its size in bytes
 * (BLKGETSIZE64) and whether it is read-only (BLKROGET). */
guint64 device_size(const char *device);
gboolean device_read_only(const char *device);
/* The file a loop device is attached to (/sys/block/loopN/loop/backing_file). */
char *loop_backing_file(const char *device);

char *define(const char *name, const char *origin, const char *store, const char *options,
             GError **error);
gboolean define_fails(const char *name, const char *origin, const char *store, const char *options,
                      GError **error);
/* Volume.CreateSnapshot; asserts it succeeds and answers with the name
 * given (name not "") and the name the new object has. */
char *create_snapshot(const char *vol, const char *name, const char *options);
/* The same, also giving the name the call answered with. */
char *create_snapshot_named(const char *vol, const char *name, const char *options,
                            char **ret_name);
/* Waits for the Completed of the job at job_path of the daemon running
 * now (not an earlier daemon's job of that number); asserts it ended with
 * error name want ("" for success) and that its properties say the same. */
void wait_job(const char *job_path, const char *want);
