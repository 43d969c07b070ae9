/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one rule for volume and snapshot names.  Plain C without GLib: the
 * engine (snapstore), the server, its data frontend and the udev probe all
 * include this header, so a name one of them accepts is a name every other
 * one accepts.
 *
 *   volume name     1 to 63 bytes of  [A-Za-z0-9._+-]
 *   snapshot name   1 to 127 bytes of [A-Za-z0-9._:+-]
 *   neither starts with '.' or '-'
 *
 * Why these characters:
 *
 * - Names become device links, /dev/zumastor/VOLUME and
 *   /dev/zumastor/VOLUME@SNAPSHOT, made by udev from the probe's
 *   ZUMASTOR_VOLUME and ZUMASTOR_SNAPSHOT properties.  udev keeps only
 *   [0-9A-Za-z#+-.:=@_/] (and UTF-8) in a link name and turns anything else
 *   into '_', and a space in SYMLINK separates two links; every character
 *   here is one udev keeps as it is, so the link is the name.
 * - '/' would make a path of a name (a link in a subdirectory, a mount
 *   point or state file outside its directory), so neither name has it.
 * - '@' joins volume and snapshot in VOLUME@SNAPSHOT; neither name has it,
 *   so the link splits at its only '@'.
 * - ':' is kept out of volume names so that HOST:VOLUME (replication
 *   targets, as scp and rsync write them) splits at the first ':'; snapshot
 *   names need it for the time of day in the names the server generates
 *   (VOLUME-YYYY-MM-DD-HH:MM:SS).
 * - No leading '.': no "." or ".." and no hidden files where a name becomes
 *   a path component (mount points, image files, state files).  No leading
 *   '-': a name passed to a command (mount, zumactl, udevadm) is never
 *   taken for an option.
 * - ASCII only, no spaces, quotes, '$', '%' or shell and glob
 *   characters: names go into udev rules' substitutions, D-Bus object
 *   paths (escaped), file names, logs and shell scripts unquoted by
 *   accident, and compare byte for byte.
 *
 * The lengths are the on-disk limits: the superblock keeps 64 bytes and a
 * snapshot record 128 bytes for a NUL-padded name (docs/format.md).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#define ZUMA_VOLUME_NAME_MAX 63    /* bytes in a volume name, without NUL */
#define ZUMA_SNAPSHOT_NAME_MAX 127 /* bytes in a snapshot name, without NUL */

/* The rule in words, for error messages. */
#define ZUMA_VOLUME_NAME_RULE "1 to 63 bytes of [A-Za-z0-9._+-], not starting with '.' or '-'"
#define ZUMA_SNAPSHOT_NAME_RULE "1 to 127 bytes of [A-Za-z0-9._:+-], not starting with '.' or '-'"

typedef enum {
        ZUMA_NAME_VALID,
        ZUMA_NAME_EMPTY,
        ZUMA_NAME_TOO_LONG,
        ZUMA_NAME_BAD_CHAR,  /* a character outside the set */
        ZUMA_NAME_BAD_START, /* starts with '.' or '-' */
} ZumaNameVerdict;

/* Whether c may appear in a name; colon_ok for snapshot names. */
static inline bool zuma_name_char_valid(char c, bool colon_ok)
{
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
               c == '.' || c == '_' || c == '+' || c == '-' || (colon_ok && c == ':');
}

/* What is wrong with name, if anything; *ret_bad (when not NULL) gets the
 * offset of the first bad character for ZUMA_NAME_BAD_CHAR.  Reads at most
 * max_len + 1 bytes of name. */
static inline ZumaNameVerdict zuma_name_check(const char *name, size_t max_len, bool colon_ok,
                                              size_t *ret_bad)
{
        size_t len = 0;

        /* strnlen() by hand: GCC warns when the bound exceeds a short array. */
        while (len <= max_len && name[len])
                len++;
        if (len == 0)
                return ZUMA_NAME_EMPTY;
        if (len > max_len)
                return ZUMA_NAME_TOO_LONG;
        for (size_t i = 0; i < len; i++)
                if (!zuma_name_char_valid(name[i], colon_ok)) {
                        if (ret_bad)
                                *ret_bad = i;
                        return ZUMA_NAME_BAD_CHAR;
                }
        if (name[0] == '.' || name[0] == '-')
                return ZUMA_NAME_BAD_START;
        return ZUMA_NAME_VALID;
}

static inline ZumaNameVerdict zuma_volume_name_check(const char *name, size_t *ret_bad)
{
        return zuma_name_check(name, ZUMA_VOLUME_NAME_MAX, false, ret_bad);
}

static inline ZumaNameVerdict zuma_snapshot_name_check(const char *name, size_t *ret_bad)
{
        return zuma_name_check(name, ZUMA_SNAPSHOT_NAME_MAX, true, ret_bad);
}

static inline bool zuma_volume_name_valid(const char *name)
{
        return zuma_volume_name_check(name, NULL) == ZUMA_NAME_VALID;
}

static inline bool zuma_snapshot_name_valid(const char *name)
{
        return zuma_snapshot_name_check(name, NULL) == ZUMA_NAME_VALID;
}
