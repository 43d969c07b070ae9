/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The one rule for volume and snapshot names (busapi/zuma-name-rule.h):
 * a table of names each kind must accept or refuse, with the reason, and
 * the engine's wrappers (ss_name_valid, ss_volume_name_valid) agreeing
 * with the rule on every entry and on every single byte.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapstore.h"
#include "zuma-name-rule.h"

typedef struct NameCase {
        const char *name;
        ZumaNameVerdict volume;   /* as a volume name */
        ZumaNameVerdict snapshot; /* as a snapshot name */
} NameCase;

#define OK ZUMA_NAME_VALID
#define EMPTY ZUMA_NAME_EMPTY
#define LONG ZUMA_NAME_TOO_LONG
#define CHAR ZUMA_NAME_BAD_CHAR
#define START ZUMA_NAME_BAD_START

static const NameCase cases[] = {
        { "vol0", OK, OK },
        { "a", OK, OK },
        { "A.b_c+d-e", OK, OK },
        { "0day", OK, OK },
        { "_hidden_not", OK, OK },
        { "+plus", OK, OK },
        { "vol0-2026-01-02-03:04:05", CHAR, OK }, /* the server's generated names */
        { "host:vol", CHAR, OK },                 /* ':' splits HOST:VOLUME */
        { "", EMPTY, EMPTY },
        { ".", START, START },
        { "..", START, START },
        { ".hidden", START, START },
        { "-option", START, START },
        { "vol@snap", CHAR, CHAR }, /* '@' joins VOLUME@SNAPSHOT */
        { "a/b", CHAR, CHAR },
        { "/abs", CHAR, CHAR },
        { "two words", CHAR, CHAR },
        { "tab\tname", CHAR, CHAR },
        { "new\nline", CHAR, CHAR },
        { "$HOME", CHAR, CHAR },
        { "%k", CHAR, CHAR },
        { "glob*", CHAR, CHAR },
        { "q?", CHAR, CHAR },
        { "'quoted'", CHAR, CHAR },
        { "back\\slash", CHAR, CHAR },
        { "hash#", CHAR, CHAR },
        { "eq=", CHAR, CHAR },
        { "caf\xc3\xa9", CHAR, CHAR }, /* ASCII only */
        { "\x7f", CHAR, CHAR },
        { "-a@b", CHAR, CHAR }, /* a bad character is reported before the start */
};

static int failures;

static void check(bool ok, const char *what, const char *name)
{
        if (!ok) {
                fprintf(stderr, "FAIL: %s: \"%s\"\n", what, name);
                failures++;
        }
}

static void check_lengths(void)
{
        char name[ZUMA_SNAPSHOT_NAME_MAX + 2];

        memset(name, 'n', sizeof(name));
        name[ZUMA_VOLUME_NAME_MAX] = '\0';
        check(zuma_volume_name_valid(name), "63-byte volume name refused", name);
        name[ZUMA_VOLUME_NAME_MAX] = 'n';
        name[ZUMA_VOLUME_NAME_MAX + 1] = '\0';
        check(zuma_volume_name_check(name, NULL) == ZUMA_NAME_TOO_LONG,
              "64-byte volume name not too long", name);
        check(!ss_volume_name_valid(name), "ss_volume_name_valid takes 64 bytes", name);
        check(zuma_snapshot_name_valid(name), "64-byte snapshot name refused", name);

        memset(name, 'n', sizeof(name));
        name[ZUMA_SNAPSHOT_NAME_MAX] = '\0';
        check(zuma_snapshot_name_valid(name), "127-byte snapshot name refused", name);
        check(ss_name_valid(name, SS_NAME_MAX), "ss_name_valid refuses 127 bytes", name);
        check(!ss_name_valid(name, 10), "ss_name_valid ignores max_len", name);
        name[ZUMA_SNAPSHOT_NAME_MAX] = 'n';
        name[ZUMA_SNAPSHOT_NAME_MAX + 1] = '\0';
        check(zuma_snapshot_name_check(name, NULL) == ZUMA_NAME_TOO_LONG,
              "128-byte snapshot name not too long", name);
        check(!ss_name_valid(name, SS_NAME_MAX), "ss_name_valid takes 128 bytes", name);
        check(!ss_name_valid(name, 1000), "ss_name_valid goes past SS_NAME_MAX", name);
}

/* Every byte alone and after a letter: the set is exactly [A-Za-z0-9._+-]
 * (and ':' for snapshots), and the wrappers say the same. */
static void check_every_byte(void)
{
        for (int c = 1; c < 256; c++) {
                char alone[2] = { (char)c, 0 }, after[3] = { 'a', (char)c, 0 };
                bool in_set = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                              (c >= '0' && c <= '9') || strchr("._+-", c);
                bool starts = in_set && c != '.' && c != '-';

                check(zuma_volume_name_valid(after) == in_set, "volume character", after);
                check(zuma_snapshot_name_valid(after) == (in_set || c == ':'), "snapshot character",
                      after);
                check(zuma_volume_name_valid(alone) == starts, "volume first character", alone);
                check(zuma_snapshot_name_valid(alone) == (starts || c == ':'),
                      "snapshot first character", alone);
                check(ss_volume_name_valid(after) == zuma_volume_name_valid(after),
                      "ss_volume_name_valid differs", after);
                check(ss_name_valid(after, SS_NAME_MAX) == zuma_snapshot_name_valid(after),
                      "ss_name_valid differs", after);
        }
}

int main(void)
{
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const NameCase *t = &cases[i];
                size_t bad = SIZE_MAX;

                check(zuma_volume_name_check(t->name, NULL) == t->volume, "volume verdict",
                      t->name);
                check(zuma_snapshot_name_check(t->name, &bad) == t->snapshot, "snapshot verdict",
                      t->name);
                if (t->snapshot == ZUMA_NAME_BAD_CHAR)
                        check(bad < strlen(t->name) && !zuma_name_char_valid(t->name[bad], true) &&
                                      strspn(t->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMN"
                                                      "OPQRSTUVWXYZ0123456789._+-:") == bad,
                              "bad character offset", t->name);
                check(ss_volume_name_valid(t->name) == (t->volume == OK), "ss_volume_name_valid",
                      t->name);
                check(ss_name_valid(t->name, SS_NAME_MAX) == (t->snapshot == OK), "ss_name_valid",
                      t->name);
        }
        check_lengths();
        check_every_byte();
        if (failures) {
                fprintf(stderr, "%d failures\n", failures);
                return 1;
        }
        printf("name rule: %zu names and every byte agree\n", sizeof(cases) / sizeof(cases[0]));
        return 0;
}
