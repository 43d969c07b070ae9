#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-hotplug.sh: zuma-mounterd's hot-plug against the real
# zuma-snapshotd, a real systemd-udevd with the build tree's rules, real
# loop devices, a real ext4 and a private bus.
#
#   1. volume hp (ext4, its origin mounted by zuma-mounterd) and volume
#      other, which stays running throughout; hp's definition records its
#      origin's identity (loop:0:FILE);
#   2. hp's two loop devices detached in every order (origin first, store
#      first) and attached again in every order, twice, with a spare loop
#      device attached in between so they come back under other numbers:
#      each time the volume stops and is unmounted by itself, starts and is
#      mounted again by itself only once both are back, and a file written
#      before the detach reads back the same (sha256); other and the
#      server are unaffected; the time from the last attach to the origin
#      mounted is printed (hotplug_to_mounted_ms, never asserted);
#   3. a store whose volume was forgotten, attached: reported (zumactl
#      status, Mounter1.UnknownStores), nothing started; an unprivileged
#      zumactl import is refused; zumactl import adopts it and it runs;
#   4. a store whose every superblock copy is damaged, attached: reported
#      with the reason, nothing started, the mounter still running;
#      zumactl import refuses it (Corrupt).
#
# ZUMA_TEST_SEED=N replays the random contents; ZUMA_HOTPLUG_ROUNDS=N
# (default 8) sets how many detach/attach rounds run (orders cycle).
# Needs root, loop devices, /dev/fuse, dbus-daemon, systemd-udevd,
# mkfs.ext4, setpriv; exits 77 (skip) without them.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-mounter.sh
. "$(dirname "$(realpath "$0")")/e2e-mounter.sh"

for tool in mkfs.ext4 setpriv mountpoint; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
: "${ZUMA_HOTPLUG_ROUNDS:=8}"
SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed=$SEED (ZUMA_TEST_SEED=$SEED replays it)"
T=

step() { e2e_step "$@"; }
fail() { e2e_fail "$@"; }
zctl() { e2e_zumactl "$@"; }

hotplug_cleanup() {
        local status=$?

        set +e
        e2e_mounter_kill
        (exit "$status")
        e2e_cleanup
}

log_tail() {
        echo "(mounterd: $(tail -n 8 "$ZUMA_TEST_DIR/mounterd.log" | tr '\n' '|'))"
}

# poll TEXT COMMAND...: until COMMAND succeeds, or fail saying TEXT.
poll() {
        local text=$1 deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        shift
        until "$@"; do
                [ $SECONDS -lt $deadline ] || fail "$text $(log_tail)"
                sleep 0.02
        done
}

volume_field() {
        "$ZUMACTL" --json status "$1" | e2e_json "d.get('$2', '')"
}

is_state() { [ "$(volume_field "$1" state)" = "$2" ]; }
# "NAME STATE ORIGIN_DEVICE STORE_DEVICE DEVICE" of every volume, one line
# each, in one call.
volumes_now() {
        "$ZUMACTL" --json status |
                e2e_json '[" ".join((v["name"], v["state"], v["origin_device"], v["store_device"], v.get("device") or "-")) for v in d["volumes"]]'
}
not_mounted() { ! mountpoint -q "$1" 2>/dev/null; }
# No loop device is attached to FILE any more.
file_free() { [ -z "$(losetup -n -O NAME -j "$1")" ]; }

# attach FILE: a loop device over FILE, listed for the harness' cleanup.
attach() {
        local dev

        dev=$(losetup -f --show "$1")
        echo "$dev" >>"$ZUMA_TEST_DIR/loops"
        echo "$dev"
}

# detach FILE: `losetup -d` of FILE's loop device (deferred to its last
# close while the server holds it).
detach() {
        local dev

        dev=$(losetup -n -O NAME -j "$1" | head -n 1)
        [ -n "$dev" ] || fail "no loop device over $1 to detach"
        losetup -d "$dev"
}

unknown_stores() {
        "$ZUMACTL" --json status | e2e_json 'd.get("unknown_stores", [])'
}

reported() { unknown_stores | grep -q -- "$1"; }
not_reported() { ! unknown_stores | grep -q -- "$1"; }

# orphan_store NAME: images NAME-origin.img and NAME-store.img holding a
# volume NAME that the server then forgot, their loop devices detached.
orphan_store() {
        local origin store

        origin=$(zuma_test_loop_device "$1-origin" 32M)
        store=$(zuma_test_loop_device "$1-store" 32M)
        zctl define volume "$1" "$origin" "$store" --initialize >/dev/null
        zctl forget volume "$1" --force >/dev/null
        losetup -d "$origin" "$store"
        poll "the loop device of $1's store stayed" file_free "$IMG/$1-store.img"
        poll "the loop device of $1's origin stayed" file_free "$IMG/$1-origin.img"
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

e2e_init
trap hotplug_cleanup EXIT
T=$ZUMA_TEST_DIR
[ "$E2E_UDEV" = 1 ] || zuma_test_skip "hot-plug needs systemd-udevd"
IMG=$T/images
START=$SECONDS

step "volumes hp and other, the origin of hp mounted by zuma-mounterd"
origin=$(zuma_test_loop_device hp-origin 64M)
store=$(zuma_test_loop_device hp-store 64M)
zctl define volume hp "$origin" "$store" --initialize >/dev/null
[ "$(volume_field hp origin_identity)" = "loop:0:$IMG/hp-origin.img" ] ||
        fail "hp's origin identity is '$(volume_field hp origin_identity)'"
mkfs.ext4 -q -F -E nodiscard "$(volume_field hp device)"
other_origin=$(zuma_test_loop_device other-origin 32M)
other_store=$(zuma_test_loop_device other-store 32M)
zctl define volume other "$other_origin" "$other_store" --initialize >/dev/null
mkfs.ext4 -q -F -E nodiscard "$(volume_field other device)"
e2e_mounter_start
mkdir -p "$T/hp" "$T/other"
zctl mount hp --at "$T/hp"
zctl mount other --at "$T/other"
poll "hp was not mounted" mountpoint -q "$T/hp"
poll "other was not mounted" mountpoint -q "$T/other"
python3 -c 'import random, sys
r = random.Random(int(sys.argv[1]))
sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(1 << 20)))' "$SEED" >"$T/hp/data"
echo other >"$T/other/file"
want=$(sha256sum <"$T/hp/data")
other_device=$(volume_field other device)
SERVER_PID=$(zuma_test_pid snapshotd)

declare -a latencies=()
for ((round = 0; round < ZUMA_HOTPLUG_ROUNDS; round++)); do
        if ((round % 2 == 0)); then first=origin second=store; else first=store second=origin; fi
        if (((round / 2) % 2 == 0)); then again1=origin again2=store; else again1=store again2=origin; fi
        step "round $round: detach $first then $second; attach $again1 then $again2"
        old=$(volumes_now | awk '$1 == "hp" { print $3, $4 }')
        sync -f "$T/hp/data"
        detach "$IMG/hp-$first.img"
        poll "hp's origin is still mounted after its $first left" not_mounted "$T/hp"
        detach "$IMG/hp-$second.img"
        poll "the origin's loop device stayed" file_free "$IMG/hp-origin.img"
        poll "the store's loop device stayed" file_free "$IMG/hp-store.img"
        now=$(volumes_now)
        grep -q "^hp stopped " <<<"$now" || fail "hp did not stop: $now"
        grep -q "^other running .* $other_device\$" <<<"$now" || fail "other changed with hp: $now"
        mountpoint -q "$T/other" || fail "other's mount went with hp"

        # Loop numbers change: two spare devices take the numbers hp's
        # devices left (the lowest free ones).
        spares=
        if ((round % 2 == 1)); then
                truncate -s 1M "$IMG/spare1.img" "$IMG/spare2.img"
                spares="$(attach "$IMG/spare1.img") $(attach "$IMG/spare2.img")"
        fi
        attach "$IMG/hp-$again1.img" >/dev/null
        # One device alone starts nothing.
        zuma_test_settle
        is_state hp stopped || fail "hp started with only its $again1 present"
        t0=$(now_ms)
        attach "$IMG/hp-$again2.img" >/dev/null
        poll "hp was not mounted again" mountpoint -q "$T/hp"
        latencies+=($(($(now_ms) - t0)))
        [ "$(sha256sum <"$T/hp/data")" = "$want" ] || fail "hp's data changed across the re-attach"
        now=$(volumes_now)
        new=$(awk '$1 == "hp" && $2 == "running" { print $3, $4 }' <<<"$now")
        [ "$new" = "$(losetup -n -O NAME -j "$IMG/hp-origin.img") $(losetup -n -O NAME -j "$IMG/hp-store.img")" ] ||
                fail "hp does not run on its loop devices: $now"
        if [ -n "$spares" ]; then
                for dev in $old; do
                        grep -qw "$dev" <<<"$new" && fail "hp came back on $dev with the spares attached ($old -> $new)"
                done
                # shellcheck disable=SC2086
                losetup -d $spares
        fi
        grep -q "^other running .* $other_device\$" <<<"$now" || fail "other changed: $now"
        [ "$(cat "$T/other/file")" = other ] || fail "other's file changed"
        [ "$(zuma_test_pid snapshotd)" = "$SERVER_PID" ] && zuma_test_alive "$SERVER_PID" ||
                fail "zuma-snapshotd died"
done
sorted=$(printf '%s\n' "${latencies[@]}" | sort -n)
median=$(echo "$sorted" | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }')
echo "hotplug_to_mounted_ms: median $median of ${#latencies[@]} (all: $(echo $sorted))"

step "a store no volume owns is reported, never started"
orphan_store lost
lost_store=$(attach "$IMG/lost-store.img")
lost_origin=$(attach "$IMG/lost-origin.img")
poll "the lost store was not reported" reported "$lost_store"
unknown_stores | grep -q "'volume_name': 'lost'" || fail "the report does not name volume lost"
"$ZUMACTL" status | grep -q "Unknown store on $lost_store: volume lost" ||
        fail "zumactl status does not show the unknown store"
"$ZUMACTL" list | grep -qx lost && fail "the unknown store was imported by itself"

step "an unprivileged import is refused; zumactl import adopts the store"
status=0
setpriv --reuid=65534 --regid=65534 --clear-groups "$ZUMACTL" import "$lost_store" \
        "$lost_origin" 2>"$T/nobody.err" || status=$?
[ $status = 6 ] || fail "an unprivileged import got $status, not 6: $(cat "$T/nobody.err")"
status=0
"$ZUMACTL" import "$lost_store" 2>"$T/usage.err" || status=$?
[ $status = 2 ] && grep -q "ORIGIN" "$T/usage.err" || fail "import without ORIGIN: $status $(cat "$T/usage.err")"
zctl import "$lost_store" "$lost_origin" --name lost | grep -q "Imported volume lost" ||
        fail "zumactl import did not say what it imported"
is_state lost running || fail "the imported volume does not run"
poll "the imported store is still reported" not_reported "$lost_store"

step "a store with a damaged superblock is reported with the reason, nothing started"
orphan_store bad
# Every superblock area (blocks 0, 32, 64, 96): the volume name, under the checksum.
for block in 0 32 64 96; do
        printf 'XXXXXXXX' | dd of="$IMG/bad-store.img" bs=1 seek=$((block * 4096 + 100)) \
                conv=notrunc status=none
done
bad_store=$(attach "$IMG/bad-store.img")
bad_origin=$(attach "$IMG/bad-origin.img")
poll "the damaged store was not reported" reported "$bad_store"
unknown_stores | grep -q "checksum" || fail "the report does not say why: $(unknown_stores)"
"$ZUMACTL" status | grep -q "Store on $bad_store cannot be read" ||
        fail "zumactl status does not show the damaged store"
"$ZUMACTL" list | grep -qx bad && fail "the damaged store was imported"
zuma_test_alive "$E2E_MOUNTER_PID" || fail "zuma-mounterd died on the damaged store"
status=0
"$ZUMACTL" import "$bad_store" "$bad_origin" 2>"$T/bad.err" || status=$?
[ $status = 9 ] || fail "importing the damaged store got $status, not 9: $(cat "$T/bad.err")"

step "stop: nothing left mounted"
e2e_mounter_stop
not_mounted "$T/hp" || fail "hp is still mounted after the mounter stopped"
not_mounted "$T/other" || fail "other is still mounted after the mounter stopped"
echo "PASS ($((SECONDS - START)) s)"
