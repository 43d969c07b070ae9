#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# The replication demo (the second half of make demo): two hosts, "alpha"
# and "beta", on this machine: each a network namespace with its own
# address, system bus, zuma-snapshotd, zuma-sendd and zuma-recvd, and its
# own TLS certificate.  alpha keeps a volume with ext4 on it; beta keeps a
# replica.  The commands shown are what an administrator types on each
# host (the README's two-host example): the replica defined with the
# source's UUID, the source and the target with each other's fingerprint,
# a full run, a change, an incremental run that sends only what changed,
# verify, and the replica's snapshot mounted on beta.
#
# It reuses the multi-host test harness (tests/e2e/e2e-hosts.sh and
# e2e-replication.sh); everything lives under one /tmp/zuma-test.XXXXXX
# directory and is removed on exit.  Needs root, /dev/fuse, ip, nsenter,
# openssl; takes seconds.
#
#   build-aux/demo-replication.sh [BUILDDIR]
set -euo pipefail

SOURCE_DIR=$(realpath "$(dirname "${BASH_SOURCE[0]}")/..")
BUILD_DIR=$(realpath "${1:-build}")

# shellcheck source=demo-lib.sh
. "$SOURCE_DIR/build-aux/demo-lib.sh"

[ "$(id -u)" -eq 0 ] || die "network namespaces and loop devices need root"
for tool in ip nsenter openssl mkfs.ext4 fsfreeze; do
        command -v "$tool" >/dev/null || die "$tool is not installed (run build-aux/install-deps.sh)"
done
export ZUMA_BUILD_DIR=$BUILD_DIR ZUMA_SOURCE_DIR=$SOURCE_DIR ZUMA_TEST_FRONTEND=fuse
export ZUMACTL=$BUILD_DIR/zumactl/zumactl
export ZUMA_SNAPSHOTD=$BUILD_DIR/agents/snapshotd/zuma-snapshotd
# shellcheck source=../tests/e2e/e2e-lib.sh
. "$SOURCE_DIR/tests/e2e/e2e-lib.sh"
# shellcheck source=../tests/e2e/e2e-hosts.sh
. "$SOURCE_DIR/tests/e2e/e2e-hosts.sh"
# shellcheck source=../tests/e2e/e2e-replication.sh
. "$SOURCE_DIR/tests/e2e/e2e-replication.sh"

# on a|b zumactl ARGS...: the command as typed on a (the harness's
# host a) or beta (b), then run there.
on() {
        local host=$1 label=alpha

        shift
        [ "$host" = b ] && label=beta
        printf '%s%s%s' "$BOLD" "$label" "$PLAIN"
        show "$@"
        shift
        host_zumactl "$host" "$@"
}

hosts_init
trap repl_exit EXIT
DIR=$ZUMA_TEST_DIR

say "Two hosts on this machine: alpha (10.77.0.1) and beta (10.77.0.2)"
hosts_setup 2
# The harness names them a and b.
repl_certs a b
host_start a
host_start b
repl_agent_start a sendd
repl_agent_start b recvd
echo "each runs its own system bus, zuma-snapshotd, and zuma-sendd (alpha) or zuma-recvd (beta),"
echo "with a certificate made by:"
show openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \
        -subj /CN=alpha -keyout /etc/zumastor/tls/host.key -out /etc/zumastor/tls/host.crt

say "On alpha: a volume with ext4 on it"
origin=$(host_loop_device a home-origin 128M)
store=$(host_loop_device a home-store 128M)
on a zumactl define volume home "$origin" "$store" --initialize
dev=$(host_zumactl a --json status home | e2e_json 'd["device"]')
mkfs.ext4 -q "$dev"
mkdir -p "$DIR/alpha-home"
mount "$dev" "$DIR/alpha-home"
cp -a /usr/share/doc/bash /usr/share/doc/coreutils "$DIR/alpha-home/" 2>/dev/null || true
echo "version 1" >"$DIR/alpha-home/notes.txt"
uuid=$(host_zumactl a --json status home | e2e_json 'd["uuid"]')
fsfreeze -f "$DIR/alpha-home"
on a zumactl snapshot home monday
fsfreeze -u "$DIR/alpha-home"

say "On beta: the replica, with the source volume's UUID, and the source"
origin=$(host_loop_device b home-origin 128M)
store=$(host_loop_device b home-store 128M)
on b zumactl define volume home "$origin" "$store" --initialize --uuid "$uuid"
on b zumactl define source home --listen 10.77.0.2:7890 --allow "$(repl_fingerprint a)"

say "On alpha: the target, beta's certificate pinned; a full run"
on a zumactl define target home 10.77.0.2 --name beta --pin "$(repl_fingerprint b)" \
        --keep hourly=24 --keep daily=7
on a zumactl replicate home --target beta

say "A change, a snapshot, an incremental run: only the changed chunks go"
echo "version 2" >"$DIR/alpha-home/notes.txt"
fsfreeze -f "$DIR/alpha-home"
on a zumactl snapshot home tuesday
fsfreeze -u "$DIR/alpha-home"
tx=$(host_tx_bytes a b)
on a zumactl replicate home --target beta
echo "bytes on the wire: $(($(host_tx_bytes a b) - tx))"
on a zumactl verify home --target beta
on a zumactl status home

say "On beta: the replica's snapshot, mounted read-only"
device=$(host_zumactl b attach home tuesday)
mkdir -p "$DIR/beta-tuesday"
mount -o ro,noload "$device" "$DIR/beta-tuesday"
show_line "cat /mnt/home@tuesday/notes.txt"
cat "$DIR/beta-tuesday/notes.txt"
diff -r --no-dereference "$DIR/alpha-home" "$DIR/beta-tuesday" >/dev/null &&
        echo "(the same tree as on alpha)"
umount "$DIR/beta-tuesday" "$DIR/alpha-home"
on b zumactl status home
repl_agent_stop a sendd
repl_agent_stop b recvd
say "Done: everything is removed on exit"
