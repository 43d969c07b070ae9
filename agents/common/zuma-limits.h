/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What one caller may ask of a Zumastor daemon at once.  Each refusal is
 * org.zumastor.Zumastor1.Error.LimitExceeded, or InvalidArgument for an
 * over-long string; the limits keep a hostile or buggy caller from making
 * a daemon use unbounded memory or time.
 *
 *   ZUMA_MAX_VOLUMES         volumes defined at once (zuma-snapshotd)
 *   ZUMA_MAX_SNAPSHOTS       live snapshots per volume
 *   ZUMA_MAX_DELETE_NAMES    names in one DeleteSnapshots call
 *   ZUMA_MAX_JOBS            jobs running at once per daemon (finished ones
 *                            lingering on the bus do not count)
 *   ZUMA_VOLUME_NAME_MAX     bytes in a volume name (the store records it)
 *   ZUMA_SNAPSHOT_NAME_MAX   bytes in a snapshot name
 *   ZUMA_PATH_MAX            bytes in a path argument
 *   ZUMA_OPTION_STRING_MAX   bytes in any other string option
 */
#pragma once

#define ZUMA_MAX_VOLUMES 256
#define ZUMA_MAX_SNAPSHOTS 65536
#define ZUMA_MAX_DELETE_NAMES 1024
#define ZUMA_MAX_JOBS 16

/* ZUMA_VOLUME_NAME_MAX and ZUMA_SNAPSHOT_NAME_MAX come with the one name
 * rule; they equal the store's SS_VOLUME_NAME_MAX and SS_NAME_MAX (checked
 * in zuma-options.c), so a name the bus accepts always fits the store. */
#include "zuma-name-rule.h"

/* Bytes in a path argument, without the NUL (PATH_MAX - 1). */
#define ZUMA_PATH_MAX 4095
/* Bytes in a string option other than a path. */
#define ZUMA_OPTION_STRING_MAX 4095
