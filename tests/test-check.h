/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * CHECK for the unit tests that keep going after a failed check, so one run
 * reports every broken expectation: it prints where and what, counts the
 * failure in check_failures, and main() turns a non-zero count into exit 1.
 */
#pragma once

#include <stdio.h>

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
