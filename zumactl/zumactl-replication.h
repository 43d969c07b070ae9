/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Replication as zumactl shows it: the targets of zuma-sendd
 * (org.zumastor.Send1) and the sources of zuma-recvd
 * (org.zumastor.Recv1), read from their object managers for status and
 * after a definition.  Either daemon may be absent: status then leaves
 * its part out.
 */
#pragma once

#include "zuma-recv-generated.h"
#include "zuma-send-generated.h"
#include "zumactl.h"

G_BEGIN_DECLS

typedef struct ZumactlReplication ZumactlReplication;

/* The targets and sources on the bus; a daemon that is not running
 * contributes nothing.  Never fails. */
ZumactlReplication *zumactl_replication_load(ZumactlContext *ctx);
void zumactl_replication_free(ZumactlReplication *replication);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(ZumactlReplication, zumactl_replication_free)

/* The "targets" and "sources" members (arrays) of the volume of uuid,
 * each left out when its daemon is not running. */
void zumactl_replication_volume_json(ZumactlReplication *replication, const char *uuid,
                                     JsonBuilder *builder);

/* "Target:" and "Source:" lines of the volume of uuid. */
void zumactl_replication_volume_human(ZumactlReplication *replication, const char *uuid,
                                      GString *out);

/* "sender_fingerprint" and "receiver_fingerprint" (null: no
 * certificate), each left out when its daemon is not running. */
void zumactl_replication_host_json(ZumactlReplication *replication, JsonBuilder *builder);

/* A table of every target and one of every source, and the fingerprints
 * of the daemons' certificates; "" when neither daemon runs. */
char *zumactl_replication_tables(ZumactlReplication *replication);

/* One target or source as a whole JSON value on stdout. */
void zumactl_print_target_json(ZumaSendTarget *target);
void zumactl_print_source_json(ZumaRecvSource *source);

G_END_DECLS
