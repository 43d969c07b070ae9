#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-replicate.sh: replication between hosts, end to end, as an
# administrator runs it with zumactl: three hosts (network namespaces, each
# with its own bus, zuma-snapshotd, zuma-sendd and zuma-recvd, TLS between
# them with a certificate per host, e2e-hosts.sh and e2e-replication.sh).
#
#   1. ext4 on a's volume "vol", many small files; a frozen snapshot, a
#      full run to b while the file system is written to; then an
#      incremental run.  After each: the replica's snapshot device has the
#      same sha256, its mounted tree the same manifest, verify says same,
#      and status shows the target's last snapshot.
#   2. chained: b forwards vol to c by itself (--after-snapshot): the
#      snapshot that arrives on b goes on to c, identical.
#   3. fan-out: xfs on a's volume "xvol", replicated to b and to c.
#   4. nothing new: a run sends nothing and says so.
#   4b. a period (--period 2s): new snapshots of xvol reach c with no run
#      asked for, and the next run shows in status until the period goes.
#   5. retention on the target (--keep hourly=2): scheduled-named
#      snapshots beyond the newest 2 go from b, the newest replicated one
#      and hand-taken ones stay; a still has them all.
#   6. on c (the end of the chain), zuma-mounterd mounts the newest
#      complete snapshot (never the origin, which receives) and moves to
#      the next one when it arrives.
#
# Every random part takes its seed from ZUMA_TEST_SEED (printed).
# Needs root, loop devices, /dev/fuse, dbus-daemon, ip, nsenter, openssl,
# mkfs.ext4, mkfs.xfs; exits 77 (skip) without them.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-hosts.sh
. "$(dirname "$(realpath "$0")")/e2e-hosts.sh"
# shellcheck source=e2e-replication.sh
. "$(dirname "$(realpath "$0")")/e2e-replication.sh"

for tool in mkfs.ext4 mkfs.xfs fsfreeze; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
hosts_init
trap repl_exit EXIT
T=$ZUMA_TEST_DIR
SEED=${ZUMA_TEST_SEED:-$RANDOM$RANDOM}
echo "seed: ZUMA_TEST_SEED=$SEED"

# fill DIR SEED COUNT: COUNT small files of seeded random sizes and bytes.
fill() {
        python3 - "$@" <<'EOF'
import os, random, sys
root, seed, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
for i in range(count):
    d = os.path.join(root, "d%02d" % (i % 37))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%05d" % i), "wb") as f:
        f.write(rng.randbytes(rng.randrange(1, 24 * 1024)))
EOF
}

# snap HOST VOL MNT NAME: a snapshot with the file system frozen.
snap() {
        E2E_FROZEN=$3
        fsfreeze -f "$3"
        host_zumactl "$1" snapshot "$2" "$4" >/dev/null || {
                fsfreeze -u "$3"
                e2e_fail "host $1: no snapshot $4 of $2"
        }
        fsfreeze -u "$3"
        E2E_FROZEN=
}

# same HOST1 HOST2 VOL SNAP FSTYPE: the two snapshots are identical, as
# devices and as mounted trees.
same() {
        local a b dir

        a=$(repl_snapshot_sha "$1" "$3" "$4")
        b=$(repl_snapshot_sha "$2" "$3" "$4")
        [ "$a" = "$b" ] || e2e_fail "$3@$4 differs between $1 ($a) and $2 ($b)"
        for h in "$1" "$2"; do
                dir=$T/view-$h
                mkdir -p "$dir"
                mount -o ro${5:+,$([ "$5" = xfs ] && echo norecovery,nouuid || echo noload)} \
                        "$(host_zumactl "$h" attach "$3" "$4")" "$dir" ||
                        e2e_fail "host $h: cannot mount $3@$4"
                e2e_manifest "$dir" >"$T/manifest-$h"
                umount "$dir"
        done
        e2e_same_manifest "$T/manifest-$1" "$T/manifest-$2" "$3@$4 on $2"
        host_zumactl "$1" detach "$3" "$4" >/dev/null
        host_zumactl "$2" detach "$3" "$4" >/dev/null
}

# verify_same HOST VOL TARGET SNAP
verify_same() {
        local out

        out=$(host_zumactl "$1" verify "$2" --target "$3" --snapshot "$4") ||
                e2e_fail "host $1: verify $2 on $3 failed: $out"
        echo "$out" | grep -q "same" || e2e_fail "host $1: verify $2 on $3: $out"
}

e2e_step "three hosts: bus, server, sender and receiver on each"
hosts_setup 3
repl_certs a b c
for h in a b c; do
        host_start "$h"
done
dev=$(host_volume a vol 128M)
xdev=$(host_volume a xvol 320M 64M)
uuid=$(repl_uuid a vol)
xuuid=$(repl_uuid a xvol)
repl_replica b vol 128M "$uuid"
repl_replica c vol 128M "$uuid"
repl_replica b xvol 320M "$xuuid" 64M
repl_replica c xvol 320M "$xuuid" 64M
for h in a b c; do
        repl_agent_start "$h" sendd
        repl_agent_start "$h" recvd
done
for h in b c; do
        host_zumactl "$h" define source vol --listen "$(host_addr "$h"):7890" \
                --allow "$(repl_fingerprint a)" --allow "$(repl_fingerprint b)" >/dev/null ||
                e2e_fail "host $h: define source vol"
        host_zumactl "$h" define source xvol --listen "$(host_addr "$h"):7890" \
                --allow "$(repl_fingerprint a)" >/dev/null || e2e_fail "host $h: define source xvol"
        host_zumactl a define target xvol "$(host_addr "$h")" --name "$h" \
                --pin "$(repl_fingerprint "$h")" >/dev/null || e2e_fail "a: define target xvol $h"
done
host_zumactl a define target vol "$(host_addr b)" --name b --pin "$(repl_fingerprint b)" \
        --keep hourly=2 >/dev/null || e2e_fail "a: define target vol b"
host_zumactl b define target vol "$(host_addr c)" --name c --pin "$(repl_fingerprint c)" \
        --after-snapshot >/dev/null || e2e_fail "b: define target vol c"

e2e_step "ext4 on a, a full run to b while the file system is written"
mkfs.ext4 -q -F "$dev"
mkdir -p "$T/a-vol"
mount "$dev" "$T/a-vol"
fill "$T/a-vol" "$SEED" 2000
snap a vol "$T/a-vol" first
# Writes during the transfer: they land on a's origin, never in "first".
(
        for i in $(seq 1 10); do
                fill "$T/a-vol/busy" "$((SEED + i))" 50
        done
) &
writer=$!
out=$(host_zumactl a replicate vol --target b) || e2e_fail "replicate vol to b: $out"
echo "$out"
wait "$writer" || e2e_fail "the writer failed"
same a b vol first ext4
verify_same a vol b first
host_zumactl a --json status vol | e2e_json '[t for t in d["targets"] if t["name"] == "b"][0]["last_snapshot"]' |
        grep -qx first || e2e_fail "a's status does not show b holding first"

e2e_step "chained: b forwarded first to c by itself"
repl_wait_snapshot c vol first 60
same b c vol first ext4

e2e_step "an incremental run"
fill "$T/a-vol/more" "$((SEED + 100))" 300
rm -rf "$T/a-vol/d03"
snap a vol "$T/a-vol" second
tx=$(host_tx_bytes a b)
host_zumactl a replicate vol --target b >/dev/null || e2e_fail "incremental run to b failed"
sent=$(($(host_tx_bytes a b) - tx))
echo "incremental run: $sent bytes on the wire"
same a b vol second ext4
verify_same a vol b second
repl_wait_snapshot c vol second 60
same b c vol second ext4

e2e_step "nothing new: a run sends nothing"
tx=$(host_tx_bytes a b)
out=$(host_zumactl a replicate vol --target b) || e2e_fail "an empty run failed: $out"
sent=$(($(host_tx_bytes a b) - tx))
[ "$sent" -lt 65536 ] || e2e_fail "a run with nothing new put $sent bytes on the wire"

e2e_step "fan-out: xfs on a's xvol, to b and to c"
mkfs.xfs -q -f -K "$xdev"
mkdir -p "$T/a-xvol"
mount "$xdev" "$T/a-xvol"
fill "$T/a-xvol" "$((SEED + 7))" 1500
snap a xvol "$T/a-xvol" x1
for h in b c; do
        host_zumactl a replicate xvol --target "$h" >/dev/null || e2e_fail "xvol to $h failed"
        same a "$h" xvol x1 xfs
done
fill "$T/a-xvol/more" "$((SEED + 8))" 200
snap a xvol "$T/a-xvol" x2
for h in b c; do
        host_zumactl a replicate xvol --target "$h" >/dev/null || e2e_fail "xvol x2 to $h failed"
        same a "$h" xvol x2 xfs
        verify_same a xvol "$h" x2
done

# target_field HOST VOL TARGET FIELD: one field of the target in zumactl's
# JSON status, empty for null.
target_field() {
        host_zumactl "$1" --json status "$2" |
                e2e_json "[t for t in d['targets'] if t['name'] == '$3'][0]['$4']"
}

e2e_step "a period: a sends xvol to c every 2 s by itself, nothing asked"
host_zumactl a define target xvol "$(host_addr c)" --name c --pin "$(repl_fingerprint c)" \
        --period 2s >/dev/null || e2e_fail "a: redefine target xvol c with --period 2s"
[ "$(target_field a xvol c period)" = 2 ] || e2e_fail "a's target xvol c has no 2 s period"
[ -n "$(target_field a xvol c next_run)" ] || e2e_fail "a's target xvol c has no next run"
[ -z "$(target_field a xvol b next_run)" ] ||
        e2e_fail "a's target xvol b, which has no period, has a next run"
for x in x3 x4; do
        fill "$T/a-xvol/$x" "$((SEED + 9))" 50
        snap a xvol "$T/a-xvol" "$x"
        repl_wait_snapshot c xvol "$x" 60
done
same a c xvol x4 xfs
# Back to runs on demand: the period's timer goes with it.
host_zumactl a define target xvol "$(host_addr c)" --name c --pin "$(repl_fingerprint c)" \
        --period 0s >/dev/null || e2e_fail "a: redefine target xvol c without a period"
# (a periodic run may be under way: its end schedules nothing)
deadline=$((SECONDS + 60))
until [ -z "$(target_field a xvol c next_run)" ]; do
        [ $SECONDS -lt $deadline ] ||
                e2e_fail "a's target xvol c still has a next run with the period gone"
        sleep 0.2
done

e2e_step "retention on b: hourly=2, the newest replicated kept"
for hour in 01 02 03; do
        echo "$hour" >"$T/a-vol/hour"
        snap a vol "$T/a-vol" "vol-hourly-2026-12-07-$hour:00"
        host_zumactl a replicate vol --target b >/dev/null || e2e_fail "hourly $hour to b failed"
done
have=$(host_zumactl b --json list vol | e2e_json '" ".join(sorted(d))')
want="first second vol-hourly-2026-12-07-02:00 vol-hourly-2026-12-07-03:00"
[ "$have" = "$want" ] || e2e_fail "b holds '$have', not '$want'"
have=$(host_zumactl a --json list vol | e2e_json 'len(d)')
[ "$have" = 5 ] || e2e_fail "a holds $have snapshots, not its 5"

e2e_step "on c, the newest complete snapshot mounted by zuma-mounterd, following"
repl_agent_start c mounterd --template "$T/c-snaps/{volume}@{snapshot}"
host_zumactl c mount vol --at "" --snapshots newest:1 >/dev/null || e2e_fail "c: mount vol"
newest=vol-hourly-2026-12-07-03:00
repl_wait_snapshot c vol "$newest" 60
wait_mounted() {
        local deadline=$((SECONDS + 30))

        until mountpoint -q "$T/c-snaps/vol@$1"; do
                [ $SECONDS -lt $deadline ] || e2e_fail "c: vol@$1 is not mounted"
                sleep 0.1
        done
}
wait_mounted "$newest"
[ "$(cat "$T/c-snaps/vol@$newest/hour")" = 03 ] || e2e_fail "c's mount is not the 03:00 snapshot"
echo 04 >"$T/a-vol/hour"
snap a vol "$T/a-vol" vol-hourly-2026-12-07-04:00
host_zumactl a replicate vol --target b >/dev/null || e2e_fail "hourly 04 to b failed"
wait_mounted vol-hourly-2026-12-07-04:00
[ "$(cat "$T/c-snaps/vol@vol-hourly-2026-12-07-04:00/hour")" = 04 ] ||
        e2e_fail "c's new mount is not the 04:00 snapshot"
host_zumactl c unmount vol >/dev/null || e2e_fail "c: unmount vol"
repl_agent_stop c mounterd

umount "$T/a-vol" "$T/a-xvol"
for h in a b c; do
        repl_agent_stop "$h" sendd
        repl_agent_stop "$h" recvd
done
e2e_step "done"
