#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# zumactl against the real zuma-snapshotd on a private dbus-daemon: every
# subcommand, human and --json output, and the exit code of each error
# class.  Volumes live on loop devices over sparse files.  With the FUSE
# frontend it also writes data through the volume's device and checks
# that a snapshot keeps it and that revert brings it back.
#
#   test-zumactl.sh ZUMACTL ZUMA-SNAPSHOTD [ZUMACTL-FAKE-SERVER]
#
# With the fake server (tests/zumactl/zumactl-fake-server.c, a mock that
# answers CreateSnapshot/DefineVolume and leaves the bus before the new
# object can be read) it also checks that an acknowledged creation is
# never reported as NotFound.
#
# Needs root (loop devices; the AccessDenied check runs zumactl as nobody).
# Uses the bus tests' harness (tests/bus/zuma-test-bus.sh; ZUMA_TEST_FRONTEND
# fuse|none|auto as it reads it) when it is there, else a minimal one of its
# own (ZUMA_TEST_FRONTEND default none).
set -u

ZUMACTL=${1:?usage: test-zumactl.sh ZUMACTL ZUMA-SNAPSHOTD}
SNAPSHOTD=${2:?usage: test-zumactl.sh ZUMACTL ZUMA-SNAPSHOTD}
FAKE_SERVER=${3:-}
HARNESS=$(dirname "$(realpath "$0")")/../bus/zuma-test-bus.sh

skip() { echo "SKIP: $*"; exit 77; }
[[ $(id -u) == 0 ]] || skip "needs root"
command -v python3 >/dev/null || skip "no python3"
[[ -x $SNAPSHOTD ]] || skip "no $SNAPSHOTD"

FAILS=0
CHECKS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

if [[ -r $HARNESS ]]; then
    # The bus tests' harness: a private bus with the shipped policy.
    ZUMA_SNAPSHOTD=$SNAPSHOTD
    . "$HARNESS"
    zuma_test_require_root
    zuma_test_setup
    zuma_test_start_bus || exit 1
    T=$ZUMA_TEST_DIR
    start_server() { zuma_test_start_daemon || exit 1; }
    stop_server() { zuma_test_stop_daemon; }
    server_log() { cat "$T/snapshotd.log"; }
    # device NAME SIZE: sets DEVICE to a loop device over a new sparse file.
    device() { DEVICE=$(zuma_test_loop_device "$1" "$2") || exit 1; }
else
    # A minimal harness of our own.
    command -v dbus-daemon >/dev/null || skip "no dbus-daemon"
    T=$(mktemp -d /tmp/zumactl-test.XXXXXX)
    chmod 755 "$T" # nobody must reach the bus socket
    LOOPS=()
    PIDS=()
    cleanup() {
        local status=$? pid loop
        for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null; done
        for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null; done
        for loop in "${LOOPS[@]}"; do losetup -d "$loop" 2>/dev/null; done
        rm -rf "$T"
        exit $status
    }
    trap cleanup EXIT
    cat >"$T/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$T/bus</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*"/>
    <allow receive_sender="*"/>
  </policy>
  <policy user="root">
    <allow own="org.zumastor.Zumastor1"/>
  </policy>
</busconfig>
CONF
    dbus-daemon --config-file="$T/bus.conf" --nofork --nopidfile 2>"$T/dbus.log" &
    PIDS+=($!)
    export DBUS_SYSTEM_BUS_ADDRESS="unix:path=$T/bus"
    for _ in $(seq 100); do [[ -S $T/bus ]] && break; sleep 0.05; done
    [[ -S $T/bus ]] || { cat "$T/dbus.log"; echo "FAIL: dbus-daemon did not start"; exit 1; }
    mkdir -p "$T/state" "$T/run"
    ZUMA_TEST_FRONTEND=${ZUMA_TEST_FRONTEND:-none}
    start_server() {
        G_DEBUG=${G_DEBUG:+$G_DEBUG,}fatal-criticals "$SNAPSHOTD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" --state-dir "$T/state" \
            --run-dir "$T/run" --frontend "$ZUMA_TEST_FRONTEND" >>"$T/snapshotd.log" 2>&1 &
        SERVER=$!
        PIDS+=($SERVER)
        # Poll with a deadline until the server answers.
        for _ in $(seq 200); do
            "$ZUMACTL" list >/dev/null 2>&1 && return 0
            kill -0 "$SERVER" 2>/dev/null || break
            sleep 0.05
        done
        cat "$T/snapshotd.log"
        echo "FAIL: zuma-snapshotd did not come up"
        exit 1
    }
    stop_server() {
        kill "$SERVER"
        wait "$SERVER" 2>/dev/null
    }
    server_log() { cat "$T/snapshotd.log"; }
    device() {
        local file=$T/$1.img
        truncate -s "$2" "$file"
        DEVICE=$(losetup -f --show "$file") || exit 1
        LOOPS+=("$DEVICE")
    }
fi

start_server
FRONTEND=$ZUMA_TEST_FRONTEND
device origin 64M
ORIGIN=$DEVICE
device store 32M
STORE=$DEVICE
echo "origin $ORIGIN, store $STORE, frontend $FRONTEND"

# --- helpers ---------------------------------------------------------------
# run CODE ARGS...: runs zumactl, checks its exit code; output in $OUT/$ERR.
run() {
    local want=$1
    shift
    CHECKS=$((CHECKS + 1))
    OUT=$("$ZUMACTL" "$@" 2>"$T/err")
    local got=$?
    ERR=$(cat "$T/err")
    if [[ $got != "$want" ]]; then
        fail "zumactl $* exited $got, expected $want${ERR:+: $ERR}"
        return 1
    fi
    if [[ $want != 0 && $ERR != zumactl:* ]]; then
        fail "zumactl $*: no 'zumactl:' message on stderr: $ERR"
    fi
    return 0
}
# as_nobody CODE ARGS...
as_nobody() {
    local want=$1
    shift
    CHECKS=$((CHECKS + 1))
    OUT=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$ZUMACTL" "$@" 2>"$T/err")
    local got=$?
    ERR=$(cat "$T/err")
    [[ $got == "$want" ]] || fail "as nobody: zumactl $* exited $got, expected $want: $ERR"
}
# json EXPR: evaluates a Python expression over d = the JSON in $OUT.
json() {
    python3 -c 'import json, sys; d = json.loads(sys.argv[2]); print(eval(sys.argv[1]))' \
        "$1" "$OUT"
}
# expect EXPR VALUE: json EXPR prints VALUE.
expect() {
    local got
    CHECKS=$((CHECKS + 1))
    got=$(json "$1" 2>&1)
    [[ $got == "$2" ]] || fail "$1 is '$got', expected '$2' in: $OUT"
}

# wait_job PATH: polls the job's Finished property with a deadline.
wait_job() {
    local i
    for i in $(seq 200); do
        if command -v busctl >/dev/null; then
            busctl --address="$DBUS_SYSTEM_BUS_ADDRESS" get-property org.zumastor.Zumastor1 \
                "$1" org.zumastor.Zumastor1.Job Finished 2>/dev/null | grep -q true && return
        elif command -v gdbus >/dev/null; then
            gdbus call --address "$DBUS_SYSTEM_BUS_ADDRESS" -d org.zumastor.Zumastor1 -o "$1" \
                -m org.freedesktop.DBus.Properties.Get org.zumastor.Zumastor1.Job Finished \
                2>/dev/null | grep -q true && return
        else
            sleep 2
            return
        fi
        sleep 0.05
    done
    fail "job $1 did not finish"
}

# --- usage errors: nothing reaches the server --------------------------------
run 2 frobnicate
run 2 start
run 2 define volume vol0 "$ORIGIN"
run 2 define volume vol0 "$ORIGIN" "$STORE" --chunk-size 16Q
run 2 snapshot vol0 --priority high
run 2 writable vol0 s maybe
run 2 resize vol0
run 2 policy vol0 sometimes

# --- an empty server ----------------------------------------------------------
run 0 --json status && {
    expect 'd["volumes"]' '[]'
    expect 'd["server"]["frontend"]' "$FRONTEND"
}
run 0 status && [[ $OUT == "No volumes defined." ]] || fail "status: $OUT"
run 0 --json list && expect 'd' '[]'
run 3 status nosuch
run 3 start nosuch

# --- define ---------------------------------------------------------------------
run 8 define volume vol0 "$ORIGIN" "$STORE" --initialize --chunk-size 3000
run 0 --json define volume vol0 "$ORIGIN" "$STORE" --initialize --chunk-size 16K \
    --full-policy autodelete --mount-point /srv/vol0 && {
    expect 'd["name"]' vol0
    expect 'd["state"]' running
    expect 'd["chunk_size"]' 16384
    expect 'd["full_policy"]' autodelete
    expect 'd["mount_point"]' /srv/vol0
    expect 'd["origin_device"]' "$ORIGIN"
    expect 'd["store_device"]' "$STORE"
    expect 'd["store_size"] > 0' True
    expect '0 <= d["store_used_percent"] <= 100' True
    expect 'd["snapshot_count"]' 0
    # Just started: the growth is not known yet.
    expect 'd["store_usage_rate"]' 0.0
    expect 'd["store_full_in_seconds"]' None
}
run 0 status vol0 && [[ $OUT == *"Store growth:"*"not growing"* ]] || fail "status vol0: $OUT"
run 4 define volume vol0 "$ORIGIN" "$STORE" --initialize
run 0 list && [[ $OUT == vol0 ]] || fail "list: $OUT"
run 0 status && [[ $OUT == NAME*vol0*running* ]] || fail "status table: $OUT"
# Starting a running volume succeeds and changes nothing (idempotent).
run 0 --json start vol0 && expect 'd["state"]' running

# --- snapshots ------------------------------------------------------------------
run 0 --json snapshot vol0 first --priority 3 && {
    expect 'd["name"]' first
    expect 'd["id"]' 1
    expect 'd["volume"]' vol0
    expect 'd["priority"]' 3
    expect 'd["pinned"]' False
    expect 'd["writable"]' False
    expect 'isinstance(d["creation_time"], int)' True
    expect 'd["creation_time_iso8601"].endswith("Z")' True
}
run 0 snapshot vol0 && AUTO=$OUT
[[ ${AUTO:-} =~ ^vol0-[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}:[0-9]{2}:[0-9]{2}$ ]] ||
    fail "generated snapshot name '${AUTO:-}'"
run 0 snapshot vol0 third --pin --writable --no-attach && [[ $OUT == third ]] || fail "snapshot: $OUT"
run 4 snapshot vol0 first
run 8 snapshot vol0 'bad/name'
run 0 --json list vol0 && expect 'd' "['first', '$AUTO', 'third']"
run 0 list vol0 && [[ $OUT == $'first\n'"$AUTO"$'\nthird' ]] || fail "list vol0: $OUT"

run 0 --json status vol0 --usage && {
    expect 'd["snapshot_count"]' 3
    expect '[s["id"] for s in d["snapshots"]]' '[1, 2, 3]'
    expect 'sorted(d["snapshots"][0]["usage"])' "['exclusive_bytes', 'private_chunks', 'shared_chunks']"
    expect 'd["snapshots"][2]["pinned"] and d["snapshots"][2]["writable"]' True
}
run 0 status vol0 --usage && [[ $OUT == *EXCLUSIVE* && $OUT == *pinned,writable* ]] ||
    fail "status vol0 --usage: $OUT"
# The volume's list (from Volume.ListSnapshots) says of each snapshot what
# the snapshot's own object does (status VOL SNAP reads its properties).
run 0 --json status vol0 && LISTED=$OUT
for name in first "$AUTO" third; do
    run 0 --json status vol0 "$name" && OUT=$(python3 -c 'import json, sys
listed = {s["name"]: s for s in json.loads(sys.argv[1])["snapshots"]}
one = json.loads(sys.argv[2])
one.pop("usage", None)
one.pop("usage_error", None)
print(json.dumps({"listed": listed[sys.argv[3]], "one": one}))' "$LISTED" "$OUT" "$name") &&
        expect 'd["listed"] == d["one"] and d["one"]["size"] > 0 and d["one"]["object_path"] != ""' True
done
# Per-snapshot usage needs a volume: refused, not silently dropped.
run 2 status --usage && [[ $ERR == *"name the volume"* ]] || fail "status --usage: $ERR"
run 0 --json status vol0 first && {
    expect 'd["name"]' first
    expect '"exclusive_bytes" in d["usage"]' True
}
run 0 status vol0 first && [[ $OUT == *"Priority:"*3* ]] || fail "status vol0 first: $OUT"
run 3 status vol0 nosuch

# --- rename, pin, priority, writable ---------------------------------------------
run 0 --json rename vol0 first renamed && expect 'd["name"]' renamed
run 3 rename vol0 first other
run 4 rename vol0 renamed third
run 0 --json pin vol0 renamed && expect 'd["pinned"]' True
run 0 --json unpin vol0 renamed && expect 'd["pinned"]' False
run 0 pin vol0 renamed && [[ -z $OUT ]] || fail "pin printed: $OUT"
run 0 --json priority vol0 renamed -5 && expect 'd["priority"]' -5
run 0 priority vol0 renamed 7
run 0 --json status vol0 renamed && expect 'd["priority"], d["pinned"]' '(7, True)'
run 2 priority vol0 renamed 2147483648
run 0 --json writable vol0 renamed on && expect 'd["writable"]' True
run 0 --json writable vol0 renamed off && expect 'd["writable"]' False

# --- attach and detach -------------------------------------------------------------
if [[ $FRONTEND == none ]]; then
    run 1 attach vol0 third  # NotSupported without a data frontend
else
    run 0 attach vol0 third && [[ -b $OUT ]] || fail "attach printed '$OUT'"
    run 0 --json detach vol0 third && expect 'd["device"]' None
    run 0 --json attach vol0 third && expect 'd["device"] is not None' True
fi
run 0 detach vol0 third
run 3 detach vol0 nosuch

# --- policy ---------------------------------------------------------------------
run 0 --json policy vol0 refuse && expect 'd["full_policy"]' refuse
run 0 policy vol0 && [[ $OUT == refuse ]] || fail "policy: $OUT"
run 0 policy vol0 autodelete

# --- jobs: delete, revert, resize -----------------------------------------------
run 3 delete vol0 nosuch
run 3 delete vol0 "$AUTO" nosuch
run 0 --json list vol0 && expect 'len(d)' 3  # all or nothing
run 0 --json delete vol0 "$AUTO" && {
    expect 'd["operation"]' delete-snapshots
    expect 'd["finished"] and d["success"]' True
}
run 0 --json list vol0 && expect 'd' "['renamed', 'third']"
run 0 delete vol0 third --no-progress && [[ -z $OUT ]] || fail "delete printed: $OUT"

run 3 revert vol0 nosuch
run 0 --json revert vol0 renamed && {
    expect 'd["operation"]' revert
    expect 'd["success"]' True
}
run 0 --json revert vol0 renamed --no-wait && {
    expect 'd["operation"]' revert
    JOB=$(json 'd["object_path"]')
    wait_job "$JOB"
}
run 0 resize vol0 --store --no-wait && [[ $OUT == /org/zumastor/Zumastor1/jobs/* ]] ||
    fail "resize --no-wait printed '$OUT'"
wait_job "$OUT"
run 0 --json resize vol0 --store && expect 'd["name"]' vol0
run 0 resize vol0 --origin --store

# --- access: read for everyone, changes for root -------------------------------------
as_nobody 0 status vol0
as_nobody 0 --json list vol0
as_nobody 6 snapshot vol0 sneaky
as_nobody 6 stop vol0
as_nobody 6 pin vol0 renamed
as_nobody 6 delete vol0 renamed
as_nobody 6 forget volume vol0

# --- stop and start ----------------------------------------------------------------
run 0 --json stop vol0 && {
    expect 'd["state"]' stopped
    expect 'd["device"]' None
}
run 0 stop vol0
run 0 status && [[ $OUT == *vol0*stopped* ]] || fail "status (stopped): $OUT"
run 10 status vol0 renamed
run 10 list vol0
# A stopped volume's snapshots stay listed (read-only), without devices.
run 0 --json status vol0 && expect 'd["state"], [(x["name"], x["device"]) for x in d["snapshots"]]' "('stopped', [('renamed', None)])"
run 0 status vol0 && [[ $OUT == *"State:"*stopped* ]] || fail "status vol0 (stopped): $OUT"
run 10 snapshot vol0
run 10 pin vol0 renamed
run 0 --json start vol0 && expect 'd["state"]' running
run 0 --json list vol0 && expect 'd' "['renamed']"

# --- forget and define again (the store keeps the snapshots) -------------------------
run 5 forget volume vol0
run 0 --json forget volume vol0 --force && expect 'd["forgotten"]' True
run 3 forget volume vol0
run 0 --json list && expect 'd' '[]'
run 0 define volume vol0 "$ORIGIN" "$STORE" && [[ -z $OUT ]] || fail "define printed: $OUT"
run 0 --json list vol0 && expect 'd' "['renamed']"

# --- the server persists volumes across restarts -------------------------------------
stop_server
run 11 status
[[ $ERR == *"is zuma-snapshotd running?"* ]] || fail "unreachable hint missing: $ERR"
run 11 snapshot vol0
start_server
run 0 --json status vol0 && expect 'd["name"]' vol0
# revert --abandon: nothing to abandon is NotFound; it takes VOL only.
run 3 revert --abandon vol0
[[ $ERR == *"no unfinished revert"* ]] || fail "revert --abandon without a revert: $ERR"
run 2 revert --abandon vol0 renamed
run 2 revert --abandon --force vol0
# start on a running volume succeeds and changes nothing (idempotent).
run 0 start --accept-rollback vol0
run 0 forget volume vol0 --force

# --- data through the devices (FUSE frontend) -------------------------------------
if [[ $FRONTEND == fuse ]]; then
    device data-origin 16M
    DORIGIN=$DEVICE
    device data-store 16M
    DSTORE=$DEVICE
    head -c 4M /dev/urandom >"$T/before.bin"
    head -c 4M /dev/urandom >"$T/after.bin"
    run 0 --json define volume data "$DORIGIN" "$DSTORE" --initialize && DEV=$(json 'd["device"]')
    [[ -b ${DEV:-} ]] || fail "volume data has no device: ${DEV:-}"
    dd if="$T/before.bin" of="$DEV" bs=1M oflag=direct status=none || fail "writing $DEV"
    run 0 --json snapshot data before && SNAPDEV=$(json 'd["device"]')
    dd if="$T/after.bin" of="$DEV" bs=1M oflag=direct status=none || fail "overwriting $DEV"
    run 0 --json status data before && {
        expect 'd["usage"]["exclusive_bytes"] >= 4 * 1024 * 1024' True
    }
    cmp -n 4M "$T/before.bin" "${SNAPDEV:-/nonexistent}" || fail "snapshot 'before' lost its data"
    cmp -n 4M "$T/after.bin" "$DEV" || fail "origin does not hold the new data"
    run 0 revert data before --no-progress
    run 0 --json status data && DEV=$(json 'd["device"]')
    cmp -n 4M "$T/before.bin" "${DEV:-/nonexistent}" || fail "revert did not bring the data back"
    run 0 forget volume data --force
fi

# --- a server that leaves right after acknowledging a creation ---------------------
# "exit 0 <=> the snapshot exists": once the server answered CreateSnapshot
# (or DefineVolume) with a path, zumactl must not say NotFound (3) if the
# server is gone before the new object's properties can be read.  The real
# server cannot be made to die in that window on purpose, so a mock plays
# it (zumactl-fake-server.c says how it avoids any race).
if [[ -n $FAKE_SERVER && -x $FAKE_SERVER ]]; then
    SNAP7=/org/zumastor/Zumastor1/volumes/vol0/snapshots/7
    stop_server
    # fake MODE: starts the mock and polls (with a deadline) until it answers.
    fake() {
        "$FAKE_SERVER" "$1" >>"$T/fake-server.log" 2>&1 &
        FAKE_PID=$!
        for _ in $(seq 200); do
            [[ $("$ZUMACTL" list 2>/dev/null) == vol0 ]] && return 0
            kill -0 "$FAKE_PID" 2>/dev/null || break
            sleep 0.05
        done
        cat "$T/fake-server.log"
        fail "zumactl-fake-server $1 did not come up"
        return 1
    }
    fake_done() {
        kill "$FAKE_PID" 2>/dev/null
        wait "$FAKE_PID" 2>/dev/null
    }

    # The name was given: the snapshot and its name are known.
    fake leave && {
        run 0 snapshot vol0 given && [[ $OUT == given ]] || fail "snapshot, server left: '$OUT'"
        [[ $ERR == *warning*"left the bus"*"'given'"*"$SNAP7"* ]] ||
            fail "snapshot, server left: no warning: $ERR"
        fake_done
    }
    fake leave && {
        run 0 --json snapshot vol0 given && {
            expect 'd["name"], d["volume"], d["object_path"]' "('given', 'vol0', '$SNAP7')"
        }
        fake_done
    }
    # A generated name: known from CreateSnapshot's answer.
    fake leave && {
        run 0 snapshot vol0 && [[ $OUT == vol0-generated ]] ||
            fail "generated snapshot, server left: '$OUT'"
        fake_done
    }
    # The answer alone is enough: zumactl does not need SnapshotCreated.
    fake leave-silent && {
        run 0 snapshot vol0 && [[ $OUT == vol0-generated ]] ||
            fail "generated snapshot, silent server left: '$OUT'"
        [[ $ERR == *warning*"left the bus"*"'vol0-generated'"*"$SNAP7"* ]] ||
            fail "generated snapshot, silent server left: no warning: $ERR"
        fake_done
    }
    fake leave-silent && {
        run 0 --json snapshot vol0 && {
            expect 'd["name"], d["volume"], d["object_path"]' "('vol0-generated', 'vol0', '$SNAP7')"
        }
        fake_done
    }
    # A server answering without the name: unknown, so unreachable,
    # saying where the snapshot was created.
    fake leave-nameless && {
        run 11 snapshot vol0 && [[ $ERR == *"WAS created at $SNAP7"*"left the bus"* ]] ||
            fail "generated snapshot, nameless answer, server left: $ERR"
        fake_done
    }
    # A name given is known even then.
    fake leave-nameless && {
        run 0 snapshot vol0 given && [[ $OUT == given ]] ||
            fail "snapshot, nameless answer, server left: '$OUT'"
        fake_done
    }
    # The server stays, the object is not there: gone, not "no snapshot".
    fake stay && {
        run 1 snapshot vol0 given && [[ $ERR == *"created at $SNAP7"*"gone already"* ]] ||
            fail "snapshot gone at once: $ERR"
        fake_done
    }
    # DefineVolume: without --json nothing is read after it; with --json
    # what is known.
    fake leave && {
        run 0 --json define volume vol1 "$ORIGIN" "$STORE" && {
            expect 'd["name"], d["object_path"]' "('vol1', '/org/zumastor/Zumastor1/volumes/vol1')"
        }
        [[ $ERR == *warning*"left the bus"* ]] || fail "define, server left: no warning: $ERR"
        fake_done
    }
    # A store that cannot measure a snapshot (a damaged tree): status of
    # the snapshot still answers, with the usage fields saying why they
    # are empty; only a snapshot that does not exist fails.
    fake damaged && {
        run 0 status vol0 snap7 && [[ $OUT == *"/dev/zumastor-fake"* &&
            $OUT == *"Usage:"*"checksum mismatch"* ]] || fail "status of a damaged snapshot: $OUT"
        run 0 --json status vol0 snap7 && {
            expect 'd["name"], d["device"], d["usage"], "checksum mismatch" in d["usage_error"]' \
                "('snap7', '/dev/zumastor-fake', None, True)"
        }
        run 0 --json status vol0 --usage && {
            expect '[(s["name"], s["usage"], "block 42" in s["usage_error"]) for s in d["snapshots"]]' \
                "[('snap7', None, True)]"
        }
        run 3 status vol0 nosuch
        fake_done
    }
    fake stay && {
        run 1 --json define volume vol1 "$ORIGIN" "$STORE" &&
            [[ $ERR == *"volume was created at"*"gone already"* ]] ||
            fail "volume gone at once: $ERR"
        fake_done
    }
fi

# --- help --------------------------------------------------------------------------
run 0 help && [[ $OUT == *Commands:* ]] || fail "help: $OUT"
run 0 help revert && [[ $OUT == *--no-wait* ]] || fail "help revert: $OUT"
run 0 --version && [[ $OUT == "zumactl "* ]] || fail "--version: $OUT"

echo "$CHECKS checks, $FAILS failed"
if ((FAILS > 0)); then
    echo "--- zuma-snapshotd log"
    server_log
    exit 1
fi
exit 0
