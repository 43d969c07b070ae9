# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-notifyd.sh: what the zuma-notifyd tests share (test-notifyd.sh,
# test-notifyd-replication.sh): a private session bus, dunst under Xvfb
# reporting what it receives (`dunst -print`, read by dunst-records.py),
# zuma-notifyd between the private system bus and that session bus.
#
#   notifyd_private_session ARGS...  first thing in the test, before
#                                    e2e-lib.sh: the tools or skip (77), then
#                                    the test runs again under
#                                    dbus-run-session with a configuration of
#                                    its own (no activation, so a killed dunst
#                                    stays gone)
#   step TEXT, fail TEXT, zctl ARGS  e2e_step, e2e_fail (with the notifications
#                                    and zuma-notifyd's log), e2e_zumactl
#   session_has_owner NAME, session_owner_pid NAME
#   wait_owner PID HAS-OWNER NAME WHAT
#   dunst_start, dunst_stop          dunst (writing to $DUNST_OUT)
#   records, record_count            the notifications so far, one a line:
#                                    id, urgency, appname, summary, body
#   wait_record AFTER PATTERN [SECONDS], field RECORD N,
#   expect RECORD URGENCY SUMMARY BODY-REGEX
#   notifyd_start, notifyd_alive     zuma-notifyd with $ZUMA_TEST_DIR/notify.conf
#   notifyd_stop_all                 for the EXIT trap: notifier and dunst

NOTIFYD_LIB_DIR=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
NOTIFY_NAME=org.zumastor.Notify1
SERVER_NAME=org.freedesktop.Notifications
NOTIFYD_PID=
DUNST_PID=
DUNST_OUT=

notifyd_private_session() {
        local tool conf status=0

        for tool in dunst xvfb-run xauth dbus-run-session dbus-daemon gdbus python3; do
                command -v "$tool" >/dev/null || {
                        echo "SKIP: $tool is not installed (build-aux/install-deps.sh installs it)"
                        exit 77
                }
        done
        [ -z "${ZUMA_NOTIFYD_TEST_SESSION:-}" ] || return 0
        conf=$(mktemp /tmp/zuma-notifyd-session.XXXXXX.conf)
        cat >"$conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
CONF
        ZUMA_NOTIFYD_TEST_SESSION=1 dbus-run-session --config-file="$conf" -- "$0" "$@" ||
                status=$?
        rm -f "$conf"
        exit $status
}

step() { e2e_step "$@"; }
fail() {
        echo "--- notifications so far:" >&2
        [ -z "$DUNST_OUT" ] || records >&2 || true
        echo "--- zuma-notifyd's log (tail):" >&2
        tail -n 40 "$ZUMA_TEST_DIR/notifyd.log" >&2 || true
        e2e_fail "$@"
}
zctl() { e2e_zumactl "$@"; }

session_has_owner() {
        gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
                --method org.freedesktop.DBus.NameHasOwner "$1" 2>/dev/null | grep -q true
}

session_owner_pid() {
        gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
                --method org.freedesktop.DBus.GetConnectionUnixProcessID "$1" |
                sed -n 's/^(uint32 \([0-9]*\),)$/\1/p'
}

# wait_owner PID HAS-OWNER NAME WHAT: until HAS-OWNER NAME (session_has_owner
# or zuma_test_has_owner) says NAME has an owner; fails when PID (WHAT) exits
# first or after the deadline.
wait_owner() {
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        until "$2" "$3"; do
                zuma_test_alive "$1" || fail "$4 exited at start: see its log in $ZUMA_TEST_DIR"
                [ $SECONDS -lt $deadline ] || fail "$4 did not take $3"
                sleep 0.05
        done
}

# --- dunst ---

dunst_start() {
        echo "=== dunst ($(date +%T))" >>"$ZUMA_TEST_DIR/dunst.log"
        xvfb-run -a -e "$ZUMA_TEST_DIR/xvfb.log" dunst -print >>"$DUNST_OUT" \
                2>>"$ZUMA_TEST_DIR/dunst.log" </dev/null &
        DUNST_PID=$!
        wait_owner "$DUNST_PID" session_has_owner $SERVER_NAME dunst
}

# Kills dunst itself (the owner of the name); xvfb-run then ends Xvfb.
dunst_stop() {
        local pid deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        [ -n "$DUNST_PID" ] || return 0
        pid=$(session_owner_pid $SERVER_NAME 2>/dev/null || true)
        [ -z "$pid" ] || kill -TERM "$pid"
        while session_has_owner $SERVER_NAME; do
                [ $SECONDS -lt $deadline ] || fail "$SERVER_NAME outlived dunst"
                sleep 0.05
        done
        zuma_test_wait_exit "$DUNST_PID" 10 || true
        DUNST_PID=
}

records() {
        python3 "$NOTIFYD_LIB_DIR/dunst-records.py" "$DUNST_OUT"
}

record_count() {
        records | wc -l
}

# wait_record AFTER PATTERN [SECONDS]: the first notification after the
# first AFTER ones whose "summary<TAB>body" matches the extended regular
# expression PATTERN; prints it (id, urgency, appname, summary, body).
wait_record() {
        local after=$1 pattern=$2 deadline=$((SECONDS + ${3:-$ZUMA_TEST_TIMEOUT})) line

        while :; do
                line=$(records | tail -n +$((after + 1)) | awk -F '\t' -v p="$pattern" \
                        '($4 "\t" $5) ~ p { print; exit }')
                [ -z "$line" ] || break
                [ $SECONDS -lt $deadline ] || fail "no notification matching /$pattern/ arrived"
                sleep 0.1
        done
        printf '%s\n' "$line"
}

field() {
        printf '%s\n' "$1" | cut -f "$2"
}

# expect RECORD URGENCY SUMMARY BODY-REGEX
expect() {
        local record=$1

        [ "$(field "$record" 3)" = Zumastor ] || fail "app name is '$(field "$record" 3)', not Zumastor: $record"
        [ "$(field "$record" 2)" = "$2" ] || fail "urgency $(field "$record" 2), want $2: $record"
        [ "$(field "$record" 4)" = "$3" ] || fail "summary '$(field "$record" 4)', want '$3'"
        field "$record" 5 | grep -Eq -- "$4" || fail "body '$(field "$record" 5)' does not match /$4/"
        step "got: [$2] $3 | $(field "$record" 5)"
}

# --- zuma-notifyd ---

notifyd_start() {
        G_DEBUG=fatal-criticals "$ZUMA_NOTIFYD" --config "$ZUMA_TEST_DIR/notify.conf" \
                --system-bus-address "$DBUS_SYSTEM_BUS_ADDRESS" --verbose \
                >>"$ZUMA_TEST_DIR/notifyd.log" 2>&1 </dev/null &
        NOTIFYD_PID=$!
        wait_owner "$NOTIFYD_PID" session_has_owner $NOTIFY_NAME zuma-notifyd
}

notifyd_alive() {
        zuma_test_alive "$NOTIFYD_PID" || fail "zuma-notifyd died"
}

notifyd_stop_all() {
        [ -z "$NOTIFYD_PID" ] || kill -KILL "$NOTIFYD_PID" 2>/dev/null
        NOTIFYD_PID=
        dunst_stop 2>/dev/null
}
