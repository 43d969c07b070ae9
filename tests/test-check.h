/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CHECK for the unit tests that keep going after a failed check, so one run
 * reports every broken expectation: it prints where and what, counts the
 * failure in check_failures, and main() turns a non-zero count into exit 1.
 */
#pragma once

#include <stdio.h>

#include "snapstore.h"

static int check_failures;

#define CHECK(cond, ...) \
        do { \
                if (!(cond)) { \
                        printf("FAIL: %s:%d: %s: ", __FILE__, __LINE__, #cond); \
                        printf(__VA_ARGS__); \
                        printf("\n"); \
                        check_failures++; \
                } \
        } while (0)

/* CHECK_SS: the same for engine calls, with the engine's last error. */
#define CHECK_SS(cond) \
        do { \
                if (!(cond)) { \
                        fprintf(stderr, "FAIL %s:%d: %s (%s)\n", __FILE__, __LINE__, #cond, \
                                ss_last_error()); \
                        check_failures++; \
                } \
        } while (0)
