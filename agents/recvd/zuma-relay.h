/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * `zuma-recvd --relay`: what an ssh transport runs on the receiving host.
 * It connects to the local zuma-recvd's RUN_DIR/relay.sock and copies
 * stdin to the socket and the socket to stdout until both ends are done,
 * so that the sender's ssh child carries the same protocol as a TLS
 * connection, with ssh as the authentication.
 */
#pragma once

/* Returns the process's exit status. */
int zuma_relay_run(const char *run_dir);
