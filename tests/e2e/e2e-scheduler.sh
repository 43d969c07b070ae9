# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-scheduler.sh: what the end-to-end tests of zuma-schedulerd share;
# source it after e2e-lib.sh, and set SCHED_STATE, SCHED_RUN and LOOKS
# (files under ZUMA_TEST_DIR), VOL, and NOW (the test clock's time, in
# seconds since the epoch) before the first call.  The scheduler runs on
# the private bus; its log is ZUMA_TEST_DIR/schedulerd.log; SCHED_TZ, when
# set, is its TZ.  Skips (77) without a built zuma-schedulerd.
#
#   sched_start [--test-clock] [ARGS...]  starts it (at $NOW on its test
#                                         clock with --test-clock), waits
#                                         until it owns its name
#   sched_stop, sched_kill                SIGTERM (must exit 0) or SIGKILL;
#                                         both wait until the name is gone
#   clock_call METHOD ARG                 TestClock.METHOD(ARG), answered
#                                         once the scheduler acted on it
#   advance SECONDS                       the clock moved on; the look is
#                                         appended to $LOOKS
#   look_again                            a look at the same time
#   schedule_json                         zumactl --json schedule $VOL

: "${ZUMA_SCHEDULERD:=$ZUMA_BUILD_DIR/agents/schedulerd/zuma-schedulerd}"
[ -x "$ZUMA_SCHEDULERD" ] || zuma_test_skip "no zuma-schedulerd at $ZUMA_SCHEDULERD"
SCHED=org.zumastor.Scheduler1
SCHED_MANAGER=/org/zumastor/Scheduler1/Manager
SCHED_PID=

sched_start() {
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT)) clock=() tz=()

        if [ "${1:-}" = --test-clock ]; then
                clock=(--test-clock "$NOW")
                shift
        fi
        [ -z "${SCHED_TZ:-}" ] || tz=("TZ=$SCHED_TZ")
        echo "=== zuma-schedulerd ${clock[*]} $* ($(date +%T))" >>"$ZUMA_TEST_DIR/schedulerd.log"
        env "${tz[@]}" G_DEBUG=fatal-criticals "$ZUMA_SCHEDULERD" \
                --bus-address "$DBUS_SYSTEM_BUS_ADDRESS" --state-dir "$SCHED_STATE" \
                --run-dir "$SCHED_RUN" "${clock[@]}" --verbose \
                "$@" >>"$ZUMA_TEST_DIR/schedulerd.log" 2>&1 </dev/null &
        SCHED_PID=$!
        until zuma_test_has_owner $SCHED; do
                if ! zuma_test_alive "$SCHED_PID" || [ $SECONDS -ge $deadline ]; then
                        tail -n 30 "$ZUMA_TEST_DIR/schedulerd.log" >&2
                        e2e_fail "zuma-schedulerd did not take $SCHED"
                fi
                sleep 0.05
        done
}

# The name goes with the connection, a moment after the process.
sched_wait_name_gone() {
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        while zuma_test_has_owner $SCHED; do
                [ $SECONDS -lt $deadline ] || e2e_fail "$SCHED outlived its owner"
                sleep 0.05
        done
}

sched_stop() {
        kill -TERM "$SCHED_PID"
        zuma_test_wait_exit "$SCHED_PID" 30 || e2e_fail "zuma-schedulerd exited with $?"
        SCHED_PID=
        sched_wait_name_gone
}

sched_kill() {
        kill -KILL "$SCHED_PID"
        zuma_test_wait_exit "$SCHED_PID" 10 || true
        SCHED_PID=
        sched_wait_name_gone
}

# For EXIT traps: kills it if it runs, whatever happens.
sched_cleanup_kill() {
        if [ -n "$SCHED_PID" ] && zuma_test_alive "$SCHED_PID"; then
                kill -KILL "$SCHED_PID"
                zuma_test_wait_exit "$SCHED_PID" 10
        fi
}

clock_call() {
        gdbus call --system --timeout 300 -d $SCHED -o $SCHED_MANAGER \
                -m $SCHED.TestClock."$1" -- "$2" '{}' >/dev/null ||
                e2e_fail "TestClock.$1 $2 failed"
}

advance() {
        NOW=$((NOW + $1))
        clock_call Advance "$1"
        echo "$NOW" >>"$LOOKS"
}

look_again() {
        clock_call Advance 0
        echo "$NOW" >>"$LOOKS"
}

schedule_json() {
        e2e_zumactl --json schedule "$VOL"
}
