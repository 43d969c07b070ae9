#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-notifyd-replication.sh: zuma-notifyd telling of replications, between
# the real zuma-sendd (on the private system bus, with the real
# zuma-snapshotd) and dunst (the helpers of e2e-notifyd.sh, as in
# test-notifyd.sh):
#
#   1. a target where nothing listens (127.0.0.1:1): one "Replication of
#      VOL to away failed" CRITICAL; the run failing again is not told again;
#   2. a target that holds the snapshot already: "Volume VOL replicated to
#      standin" LOW, "Snapshot s1, nothing new to send" (the texts of runs
#      that sent bytes are the unit tests'); two more runs within the
#      window ([coalesce] window=3s) update the same notification (same id)
#      into "... replicated to standin 3 times", in fewer posts than runs;
#   3. that target failing (a newer snapshot it refuses): told once, not on
#      the retry; a success; failing again: told again.
#
# The receiving end is a stand-in (repl-standin.py), not zuma-recvd: a real
# receiver needs a replica volume with the source's UUID under another
# zuma-snapshotd, that is a second host (network namespaces, e2e-hosts.sh),
# which would make this test of notifications as heavy as
# test-e2e-replicate.sh.  The stand-in speaks the protocol up to WELCOME
# (TLS with its own throwaway certificate, pinned by the target) and lists
# s1 with its real creation time, so zuma-sendd finds the target "already
# holds" it and emits Finished; it refuses any SEND, so zuma-sendd emits
# Failed.  Both signals are the real daemon's.  zuma-recvd's Received and
# Failed are covered by the unit tests of the texts only.
#
# Needs root, loop devices, /dev/fuse, dbus-daemon, dbus-run-session, dunst,
# xvfb-run (and xauth), python3, openssl; exits 77 (skip) without them.
set -euo pipefail

HERE=$(dirname "$(realpath "$0")")
# shellcheck source=e2e-notifyd.sh
. "$HERE/e2e-notifyd.sh"
notifyd_private_session "$@"

# shellcheck source=e2e-lib.sh
. "$HERE/e2e-lib.sh"

: "${ZUMA_NOTIFYD:=$ZUMA_BUILD_DIR/agents/notifyd/zuma-notifyd}"
: "${ZUMA_SENDD:=$ZUMA_BUILD_DIR/agents/sendd/zuma-sendd}"
[ -x "$ZUMA_NOTIFYD" ] || zuma_test_skip "no zuma-notifyd at $ZUMA_NOTIFYD (build first)"
[ -x "$ZUMA_SENDD" ] || zuma_test_skip "no zuma-sendd at $ZUMA_SENDD (build first)"
command -v openssl >/dev/null || zuma_test_skip "no openssl to make the test's certificates"
VOL=replvol
WINDOW=3
SENDD_PID=
STANDIN_PID=

cleanup() {
        local status=$?

        set +e
        [ -z "$SENDD_PID" ] || kill -KILL "$SENDD_PID" 2>/dev/null
        [ -z "$STANDIN_PID" ] || kill -KILL "$STANDIN_PID" 2>/dev/null
        # python3 may be a launcher (pyenv) whose child is the stand-in.
        pkill -KILL -f "repl-standin.py .*$ZUMA_TEST_DIR/" 2>/dev/null
        notifyd_stop_all
        (exit "$status")
        e2e_cleanup
}

# certificate NAME: a throwaway EC P-256 certificate, TLS_DIR/NAME.{crt,key}.
certificate() {
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
                -subj "/CN=$1" -keyout "$TLS_DIR/$1.key" -out "$TLS_DIR/$1.crt" 2>/dev/null ||
                fail "openssl could not make the $1 certificate"
}

fingerprint() {
        openssl x509 -in "$TLS_DIR/$1.crt" -noout -fingerprint -sha256 |
                sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' | sed 's/^/sha256:/'
}

sendd_start() {
        # (No leak check under ASan for a process that speaks TLS: see
        # REPL_TLS_ASAN_OPTIONS in e2e-replication.sh.)
        G_DEBUG=fatal-criticals ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
                "$ZUMA_SENDD" --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" \
                --state-dir "$ZUMA_TEST_DIR/sendd-state" --run-dir "$ZUMA_TEST_DIR/sendd-run" \
                --tls-cert "$TLS_DIR/sender.crt" --tls-key "$TLS_DIR/sender.key" --retry 60 \
                --verbose >>"$ZUMA_TEST_DIR/sendd.log" 2>&1 </dev/null &
        SENDD_PID=$!
        wait_owner "$SENDD_PID" zuma_test_has_owner org.zumastor.Send1 zuma-sendd
}

standin_start() {
        python3 "$HERE/repl-standin.py" "$TLS_DIR/standin.crt" "$TLS_DIR/standin.key" \
                "$ZUMA_TEST_DIR/standin.port" "$1" "$2" >>"$ZUMA_TEST_DIR/standin.log" 2>&1 </dev/null &
        STANDIN_PID=$!
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
        until [ -s "$ZUMA_TEST_DIR/standin.port" ]; do
                zuma_test_alive "$STANDIN_PID" || fail "the stand-in exited: $(cat "$ZUMA_TEST_DIR/standin.log")"
                [ $SECONDS -lt $deadline ] || fail "the stand-in did not listen"
                sleep 0.05
        done
}

# signals NAME: the Send1.Target signals NAME zuma-notifyd received so far
# (its debug log).
signals() {
        grep -c "Send1.Target.$1 from" "$ZUMA_TEST_DIR/notifyd.log" || true
}

# replicate TARGET Finished|Failed [ARGS...]: a run, until zuma-notifyd has
# its signal (one at a time: the runs of a target do not overlap).
replicate() {
        local target=$1 signal=$2 before deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        shift 2
        before=$(signals "$signal")
        zctl replicate "$VOL" --target "$target" --no-wait "$@" >/dev/null
        until [ "$(signals "$signal")" -gt "$before" ]; do
                [ $SECONDS -lt $deadline ] || fail "no $signal of target $target reached zuma-notifyd"
                sleep 0.05
        done
}

# wait_log TEXT N: until zuma-notifyd's log holds TEXT N times.
wait_log() {
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        until [ "$(grep -cF -- "$1" "$ZUMA_TEST_DIR/notifyd.log" || true)" -ge "$2" ]; do
                [ $SECONDS -lt $deadline ] || fail "zuma-notifyd did not log '$1' $2 times"
                sleep 0.1
        done
}

# count_summary SUMMARY: notifications with exactly this summary so far.
count_summary() {
        records | awk -F '\t' -v s="$1" '$4 == s' | wc -l
}

trap cleanup EXIT
e2e_init
TLS_DIR=$ZUMA_TEST_DIR/tls
mkdir -p "$TLS_DIR"
DUNST_OUT=$ZUMA_TEST_DIR/dunst.out
: >"$DUNST_OUT"
cat >"$ZUMA_TEST_DIR/notify.conf" <<CONF
[events]
replication=true
replication-failure=true
[coalesce]
window=${WINDOW}s
CONF

step "dunst, zuma-notifyd (window ${WINDOW}s), volume $VOL with snapshot s1, zuma-sendd"
dunst_start
notifyd_start
ORIGIN_LOOP=$(zuma_test_loop_device "$VOL-origin" 16M)
STORE_LOOP=$(zuma_test_loop_device "$VOL-store" 8M)
zctl define volume "$VOL" "$ORIGIN_LOOP" "$STORE_LOOP" --initialize --chunk-size 16K >/dev/null
zctl snapshot "$VOL" s1 >/dev/null
certificate sender
certificate standin
sendd_start

# --- 1: nothing listens ---
step "target away at 127.0.0.1:1 (nothing listens): a run fails"
zctl define target "$VOL" 127.0.0.1:1 --name away --pin "$(fingerprint standin)" >/dev/null
n=$(record_count)
replicate away Failed
rec=$(wait_record "$n" "^Replication of $VOL to away failed")
expect "$rec" CRITICAL "Replication of $VOL to away failed" "."
step "the run fails again: not told again"
replicate away Failed
wait_log "$VOL to away failed again: told already" 1
[ "$(count_summary "Replication of $VOL to away failed")" = 1 ] ||
        fail "the second failure of target away was told again"

# --- 2: a target that holds s1 already ---
ctime=$(zctl --json status "$VOL" s1 | e2e_json 'd["creation_time"]')
step "target standin (a stand-in receiver holding s1, created at $ctime)"
standin_start s1 "$ctime"
zctl define target "$VOL" "127.0.0.1:$(cat "$ZUMA_TEST_DIR/standin.port")" --name standin \
        --pin "$(fingerprint standin)" >/dev/null
n=$(record_count)
replicate standin Finished
first=$(wait_record "$n" "^Volume $VOL replicated to standin")
expect "$first" LOW "Volume $VOL replicated to standin" "^Snapshot s1, nothing new to send$"
id=$(field "$first" 1)
step "two more runs within the window"
replicate standin Finished
replicate standin Finished
last=$(wait_record "$n" "^Volume $VOL replicated to standin 3 times" $((WINDOW + ZUMA_TEST_TIMEOUT)))
expect "$last" LOW "Volume $VOL replicated to standin 3 times" \
        "^since [0-9]{2}:[0-9]{2}, nothing new to send; the newest is s1, nothing new to send$"
posts=$(records | tail -n +$((n + 1)) | awk -F '\t' -v v="replicated to standin" 'index($4, v)' | wc -l)
ids=$(records | tail -n +$((n + 1)) | awk -F '\t' -v v="replicated to standin" 'index($4, v) { print $1 }' | sort -u)
[ "$ids" = "$id" ] || fail "the coalesced posts have ids '$(echo "$ids" | tr '\n' ' ')', want all $id (replaces_id)"
[ "$posts" -lt 3 ] || fail "3 runs made $posts posts: not coalesced"
step "3 runs: $posts posts of notification $id"

# --- 3: failing, succeeding, failing ---
step "snapshot s2, which the stand-in refuses: the run fails"
zctl snapshot "$VOL" s2 >/dev/null
told=0
for round in 1 2; do
        n=$(record_count)
        replicate standin Failed
        rec=$(wait_record "$n" "^Replication of $VOL to standin failed")
        expect "$rec" CRITICAL "Replication of $VOL to standin failed" "stand-in receives nothing"
        told=$((told + 1))
        step "failing again: not told again"
        replicate standin Failed
        wait_log "$VOL to standin failed again: told already" "$round"
        [ "$(count_summary "Replication of $VOL to standin failed")" = "$told" ] ||
                fail "a repeated failure of target standin was told again"
        if [ "$round" = 1 ]; then
                step "a success (s1, which it holds), then failing again is told again"
                replicate standin Finished --snapshot s1
        fi
done
notifyd_alive

step "SIGTERM: zuma-sendd and zuma-notifyd exit 0"
kill -TERM "$SENDD_PID"
zuma_test_wait_exit "$SENDD_PID" 30 || fail "zuma-sendd exited with $?"
SENDD_PID=
kill -TERM "$NOTIFYD_PID"
status=0
wait "$NOTIFYD_PID" || status=$?
NOTIFYD_PID=
[ $status = 0 ] || fail "zuma-notifyd exited with $status"
kill -TERM "$STANDIN_PID"
wait "$STANDIN_PID" || true
pkill -TERM -f "repl-standin.py .*$ZUMA_TEST_DIR/" 2>/dev/null || true
STANDIN_PID=
dunst_stop
step "all passed"
