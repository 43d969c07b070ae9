/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What a fuzz target tells the corpus replay (replay.c) about the input it
 * just ran: whether the decoder accepted or rejected it.  libFuzzer ignores
 * it; the replay uses it to require that known-bad corpus files (named
 * bad-*) are rejected and, with --valid-accepted, that files named valid-*
 * are accepted.  Weak, so a target built without the replay still links and
 * a target that never sets it leaves FUZZ_UNKNOWN.
 */
#pragma once

enum { FUZZ_UNKNOWN = 0, FUZZ_ACCEPTED = 1, FUZZ_REJECTED = 2 };

__attribute__((weak)) int fuzz_verdict;
