#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# zumactl's replication commands (define/forget target and source,
# replicate, verify, and status) against stand-ins on a private
# dbus-daemon: zumactl-fake-server (zuma-snapshotd with volume vol0) and
# zumactl-fake-replication (zuma-sendd and zuma-recvd; what they answer is
# at the top of zumactl-fake-replication.c).  The daemons' own behaviour
# is their tests' business; this checks what zumactl sends, shows and
# exits with.
#
#   test-zumactl-replication.sh ZUMACTL ZUMACTL-FAKE-SERVER ZUMACTL-FAKE-REPLICATION
set -u

ZUMACTL=${1:?usage: test-zumactl-replication.sh ZUMACTL FAKE-SERVER FAKE-REPLICATION}
FAKE_SERVER=${2:?}
FAKE_REPLICATION=${3:?}

HARNESS=$(dirname "$(realpath "$0")")/../bus/zuma-test-bus.sh
# The bus tests' harness: a private bus with the shipped policy, which
# lets root only own the daemons' names.
# shellcheck source=../bus/zuma-test-bus.sh
. "$HARNESS"
[[ $(id -u) == 0 ]] || zuma_test_skip "needs root (the bus policy: only root owns the names)"
command -v dbus-daemon >/dev/null || zuma_test_skip "no dbus-daemon"
command -v python3 >/dev/null || zuma_test_skip "no python3"

FAILS=0
CHECKS=0
fail() { echo "FAIL: $*"; FAILS=$((FAILS + 1)); }

# The stand-ins leave with the bus when the harness stops it.
zuma_test_setup
zuma_test_start_bus || exit 1
T=$ZUMA_TEST_DIR

# run CODE ARGS...: runs zumactl, checks its exit code; output in $OUT/$ERR.
run() {
    local want=$1
    shift
    CHECKS=$((CHECKS + 1))
    OUT=$("$ZUMACTL" --no-progress "$@" 2>"$T/err")
    local got=$?
    ERR=$(cat "$T/err")
    if [[ $got != "$want" ]]; then
        fail "zumactl $* exited $got, expected $want${ERR:+: $ERR}"
        return 1
    fi
    return 0
}
# expect EXPR VALUE: the Python expression over d = the JSON in $OUT prints VALUE.
expect() {
    local got
    CHECKS=$((CHECKS + 1))
    got=$(python3 -c 'import json, sys; d = json.loads(sys.argv[2]); print(eval(sys.argv[1]))' \
        "$1" "$OUT" 2>&1)
    [[ $got == "$2" ]] || fail "$1 is '$got', expected '$2' in: $OUT"
}
has() { # has TEXT WORDS: TEXT contains WORDS
    CHECKS=$((CHECKS + 1))
    [[ $1 == *"$2"* ]] || fail "expected '$2' in: $1"
}
# start PROGRAM ARGS...: starts a stand-in and polls until the command
# line in $READY succeeds.
start() {
    "$@" >>"$T/fakes.log" 2>&1 &
    for _ in $(seq 200); do
        eval "$READY" >/dev/null 2>&1 && return 0
        sleep 0.05
    done
    cat "$T/fakes.log"
    echo "FAIL: $1 did not come up"
    exit 1
}

# --- no daemons: named in the message, exit status 11 ---------------------------
run 11 replicate vol0 && has "$ERR" "zuma-sendd is not running"
has "$ERR" "is DBUS_SYSTEM_BUS_ADDRESS right?"
run 11 define source vol0 && has "$ERR" "zuma-recvd is not running"
run 11 verify vol0

# --- a snapshot server without replication: status leaves it out ------------------
READY='[[ $("$ZUMACTL" list) == vol0 ]]'
start "$FAKE_SERVER" stay
run 0 --json status && expect '"targets" in d["volumes"][0], "sender_fingerprint" in d' \
    '(False, False)'
run 0 status && [[ $OUT != *Replication* ]] || fail "status without zuma-sendd: $OUT"

# --- status with zuma-sendd and zuma-recvd ------------------------------------------
READY='"$ZUMACTL" --json status | grep -q targets'
start "$FAKE_REPLICATION"
run 0 status && {
    has "$OUT" "Replication targets (zuma-sendd):"
    has "$OUT" "offsite"
    has "$OUT" "about 2 hours"
    has "$OUT" "4.0 KiB"
    has "$OUT" "connection refused"
    has "$OUT" "Replication sources (zuma-recvd):"
    has "$OUT" "Certificate of zuma-sendd: sha256:aa"
    has "$OUT" "Certificate of zuma-recvd: sha256:bb"
}
run 0 --json status && {
    expect 'd["sender_fingerprint"], d["receiver_fingerprint"]' "('sha256:aa', 'sha256:bb')"
    expect '[t["name"] for t in d["volumes"][0]["targets"]]' "['offsite']"
    expect 'd["volumes"][0]["targets"][0]["state"], d["volumes"][0]["targets"][0]["last_snapshot"]' \
        "('failed', 'vol0-s1')"
    expect '7190 < d["volumes"][0]["targets"][0]["last_snapshot_age"] < 7300' True
    expect 'd["volumes"][0]["targets"][0]["bytes_pending"]' 4096
    expect 'd["volumes"][0]["targets"][0]["next_run"]' None
    expect 'd["volumes"][0]["sources"][0]["state"], d["volumes"][0]["sources"][0]["peer"]' \
        "('idle', None)"
    expect 'd["volumes"][0]["sources"][0]["last_received_iso8601"].endswith("Z")' True
}
run 0 status vol0 && {
    has "$OUT" "Target:"
    has "$OUT" "offsite at backup:7890, failed; last vol0-s1 (about 2 hours old)"
    has "$OUT" "Source:"
}
run 0 --json status vol0 && expect 'len(d["targets"]), len(d["sources"])' '(1, 1)'
# Reading is for everyone (the bus policy).
CHECKS=$((CHECKS + 1))
OUT=$(setpriv --reuid=nobody --regid=nogroup --clear-groups "$ZUMACTL" --json status 2>&1) &&
    expect 'len(d["volumes"][0]["targets"]), len(d["volumes"][0]["sources"])' '(1, 1)' ||
    fail "status as nobody: $OUT"

# --- define and forget -----------------------------------------------------------------
run 0 define target vol0 backup2:7890 --name second && [[ -z $OUT ]] || fail "define printed: $OUT"
run 0 --json define target vol0 ssh://root@backup3 --name third --period 1h30m \
    --rate-limit 1.5M --compress 9 --keep hourly=24 --keep daily=7 --after-snapshot && {
    expect 'd["name"], d["address"]' "('third', 'ssh://root@backup3')"
    expect 'd["period"], d["rate_limit"], d["compress"], d["after_snapshot"]' \
        '(5400, 1572864, 9, True)'
    expect 'd["keep"]' "{'hourly': 24, 'daily': 7}"
    expect 'd["last_snapshot"], d["last_snapshot_age"]' '(None, None)'
}
run 3 define target nosuch backup && has "$ERR" "no volume 'nosuch'"
run 0 --json forget target vol0 --name third && expect 'd["forgotten"], d["name"]' "(True, 'third')"
run 3 forget target vol0 --name third
run 0 --json define source vol0 --allow sha256:aa --allow sha256:bb &&
    expect 'd["volume"], d["state"]' "('vol0', 'idle')"
run 0 forget source vol0 && [[ -z $OUT ]] || fail "forget source printed: $OUT"

# --- replicate: the job of zuma-sendd ----------------------------------------------------
run 0 replicate vol0 --target offsite &&
    [[ $OUT == "vol0: offsite holds vol0-s1: 3.0 MiB of changed chunks, 1.0 MiB on the wire" ]] ||
    fail "replicate: $OUT"
run 0 --json replicate vol0 && {
    expect 'd["operation"], d["done"], d["success"]' "('replicate', 3145728, True)"
    expect 'd["object_path"].startswith("/org/zumastor/Send1/jobs/")' True
}
run 0 replicate vol0 --no-wait && [[ $OUT == /org/zumastor/Send1/jobs/* ]] ||
    fail "replicate --no-wait: $OUT"
run 1 replicate vol0 --snapshot broken && has "$ERR" "replicating volume 'vol0': sending to backup:7890: connection reset by peer"
run 3 replicate nosuch

# --- verify: exit 0 only when the digests are the same -----------------------------------
run 0 verify vol0 && [[ $OUT == "snapshot vol0-s1: same (digest xxh3:aaaa)" ]] || fail "verify: $OUT"
run 1 verify vol0 --snapshot changed &&
    [[ $OUT == "snapshot changed: DIFFERENT: local xxh3:aaaa remote xxh3:bbbb" ]] ||
    fail "verify changed: $OUT"
run 1 --json verify vol0 --snapshot changed && expect 'd["same"], d["remote_digest"]' \
    "(False, 'xxh3:bbbb')"

echo "$CHECKS checks, $FAILS failed"
((FAILS == 0))
