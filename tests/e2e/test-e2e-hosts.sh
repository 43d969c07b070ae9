#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-hosts.sh: the multi-host harness (e2e-hosts.sh) itself.
#
#   1. two hosts, each with its own bus and zuma-snapshotd side by side on
#      this machine; a volume defined and a snapshot taken on each through
#      its own bus, and neither bus sees the other's volume;
#   2. the hosts ping each other; a random byte stream sent over TCP from
#      a to b arrives intact, and the link counters saw at least its size;
#   3. link_down: the stream fails at once; link_up: it goes through again;
#   4. hosts_cleanup: no namespace, daemon, bus or loop device is left.
#
# Needs root, loop devices, dbus-daemon, ip, nsenter, ping, python3;
# exits 77 (skip) without them.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-hosts.sh
. "$(dirname "$(realpath "$0")")/e2e-hosts.sh"

command -v ping >/dev/null || zuma_test_skip "ping is not installed (iputils-ping)"
hosts_init
T=$ZUMA_TEST_DIR

e2e_step "two hosts, a daemon on each"
hosts_setup 2
host_start a
host_start b
for h in a b; do
        host_volume "$h" "vol-$h" 64M >/dev/null
        host_zumactl "$h" snapshot "vol-$h" first --no-attach >/dev/null ||
                e2e_fail "host $h: no snapshot"
        names=$(host_zumactl "$h" --json list | e2e_json d) ||
                e2e_fail "host $h: no list"
        [ "$names" = "vol-$h" ] || e2e_fail "host $h lists '$names', not only vol-$h"
        snaps=$(host_zumactl "$h" --json list "vol-$h" | e2e_json d)
        [ "$snaps" = first ] || e2e_fail "host $h: vol-$h has snapshots '$snaps', not first"
done
[ "$(cat "$(host_dir a)/snapshotd.pid")" != "$(cat "$(host_dir b)/snapshotd.pid")" ] ||
        e2e_fail "one daemon for both hosts"

e2e_step "ping and a TCP stream from a to b"
host_exec a ping -c 1 -W 5 "$(host_addr b)" >/dev/null || e2e_fail "a cannot ping b"
host_exec b ping -c 1 -W 5 "$(host_addr a)" >/dev/null || e2e_fail "b cannot ping a"
head -c 4M /dev/urandom >"$T/stream"
want=$(sha256sum <"$T/stream")
tx_before=$(host_tx_bytes a b)
host_tcp_recv b 7700 >"$T/received" &
recv_pid=$!
host_tcp_send a "$(host_addr b)" 7700 <"$T/stream" || e2e_fail "the stream from a to b failed"
wait "$recv_pid" || e2e_fail "b's receiver failed"
[ "$(sha256sum <"$T/received")" = "$want" ] || e2e_fail "b received other bytes than a sent"
sent=$(($(host_tx_bytes a b) - tx_before))
[ "$sent" -ge $((4 << 20)) ] || e2e_fail "a's link to b counted $sent bytes for a 4 MiB stream"
echo "a sent $sent bytes on the wire for 4194304 bytes of stream"

e2e_step "link down: the stream fails; link up: it goes through"
link_down a b
if host_tcp_send a "$(host_addr b)" 7701 <"$T/stream" 2>"$T/send.err"; then
        e2e_fail "a reached b with the link down"
fi
grep -q "unreachable" "$T/send.err" || e2e_fail "not an unreachable network: $(cat "$T/send.err")"
if host_exec a ping -c 1 -W 1 "$(host_addr b)" >/dev/null 2>&1; then
        e2e_fail "a pings b with the link down"
fi
link_up a b
host_tcp_recv b 7702 >"$T/received" &
recv_pid=$!
host_tcp_send a "$(host_addr b)" 7702 <"$T/stream" || e2e_fail "the stream failed after link_up"
wait "$recv_pid" || e2e_fail "b's receiver failed after link_up"
[ "$(sha256sum <"$T/received")" = "$want" ] || e2e_fail "b received other bytes after link_up"

e2e_step "cleanup leaves nothing behind"
daemons="$(cat "$(host_dir a)/snapshotd.pid") $(cat "$(host_dir b)/snapshotd.pid")"
hosts_cleanup
left=$(ip netns list | awk -v p="$HOSTS_PREFIX" 'index($1, p) == 1' || true)
[ -z "$left" ] || e2e_fail "namespaces left: $left"
for pid in $daemons; do
        ! zuma_test_alive "$pid" || e2e_fail "zuma-snapshotd $pid still runs"
done
left=$(losetup -n -O NAME,BACK-FILE -l | awk -v dir="$T/" 'index($2, dir) == 1' || true)
[ -z "$left" ] || e2e_fail "loop devices left: $left"
left=$(awk -v dir="$T/" 'index($2, dir) == 1' /proc/self/mounts)
[ -z "$left" ] || e2e_fail "mounts left: $left"
hosts_cleanup
echo "PASS"
