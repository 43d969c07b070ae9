# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-replication.sh: what the replication tests share; source it after
# e2e-lib.sh and e2e-hosts.sh.  Each host (a network namespace with its
# own bus and zuma-snapshotd, e2e-hosts.sh) runs zuma-sendd and zuma-recvd
# as a real host would, with its own TLS certificate:
#
#   repl_certs NAME...             a throwaway EC P-256 certificate per host,
#                                  HOST_DIR/tls/host.{crt,key}
#   repl_fingerprint NAME          its "sha256:HEX"
#   repl_agent_start NAME sendd|recvd|mounterd [ARGS...]
#                                  the agent on the host's bus, waits for its name
#   repl_agent_stop NAME AGENT     SIGTERM, and a clean exit
#   repl_agent_kill NAME AGENT     SIGKILL (a crash)
#   repl_agents_cleanup            every agent started
#   repl_exit                      the EXIT trap: agents, then hosts_exit
#   repl_replica NAME VOL SIZE UUID [STORE_SIZE]
#                                  a volume defined with the source's UUID
#   repl_snapshot_sha NAME VOL SNAP  sha256 of the snapshot's device
#   repl_wait_snapshot NAME VOL SNAP  until the host's volume has it
#
# and, through the agents' bus APIs: repl_define_source, repl_define_target,
# repl_replicate (one run that must succeed), repl_replicate_timed (the same,
# printing the sender's "SECONDS BYTES" and the caller's), repl_replicate_start and
# repl_wait_job, repl_verify, repl_target_prop, repl_uuid.
#
# Logs: HOST_DIR/sendd.log and HOST_DIR/recvd.log.  Skips (77) without the
# agents or openssl.

: "${ZUMA_SENDD:=$ZUMA_BUILD_DIR/agents/sendd/zuma-sendd}"
: "${ZUMA_RECVD:=$ZUMA_BUILD_DIR/agents/recvd/zuma-recvd}"
: "${ZUMA_MOUNTERD:=$ZUMA_BUILD_DIR/agents/mounterd/zuma-mounterd}"
[ -x "$ZUMA_SENDD" ] || zuma_test_skip "no zuma-sendd at $ZUMA_SENDD"
[ -x "$ZUMA_RECVD" ] || zuma_test_skip "no zuma-recvd at $ZUMA_RECVD"
command -v openssl >/dev/null || zuma_test_skip "no openssl to make the test's certificates"
# A run that fails is retried soon in tests.
: "${REPL_RETRY_S:=2}"
# LeakSanitizer's exit check crashes ("Tracer caught signal 11") in a
# process that loaded glib-networking's GnuTLS module and used its threads:
# under ASan, the processes that speak TLS run with AddressSanitizer's
# memory checks but without the leak check.
REPL_TLS_ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0
REPL_AGENTS=()

repl_certs() {
        local name dir

        for name in "$@"; do
                dir=$(host_dir "$name")/tls
                mkdir -p "$dir"
                openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
                        -subj "/CN=$name" -keyout "$dir/host.key" -out "$dir/host.crt" \
                        2>/dev/null || e2e_fail "openssl could not make $name's certificate"
        done
}

repl_fingerprint() {
        openssl x509 -in "$(host_dir "$1")/tls/host.crt" -noout -fingerprint -sha256 |
                sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' | sed 's/^/sha256:/'
}

repl_bus_name() {
        case $1 in
        sendd) echo org.zumastor.Send1 ;;
        recvd) echo org.zumastor.Recv1 ;;
        mounterd) echo org.zumastor.Mounter1 ;;
        esac
}

repl_agent_start() {
        local name=$1 agent=$2 dir binary pid deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
        local extra=()

        shift 2
        dir=$(host_dir "$name")
        case $agent in
        sendd) binary=$ZUMA_SENDD extra=(--retry "$REPL_RETRY_S") ;;
        recvd) binary=$ZUMA_RECVD ;;
        mounterd) binary=$ZUMA_MOUNTERD ;;
        esac
        [ "$agent" = mounterd ] ||
                extra+=(--tls-cert "$dir/tls/host.crt" --tls-key "$dir/tls/host.key")
        echo "=== zuma-$agent $* ($(date +%T))" >>"$dir/$agent.log"
        rm -f "$dir/$agent.pid"
        # The daemon writes its own pid (exec): the one to signal.
        host_exec "$name" bash -c 'echo $$ >"$0"; exec "$@"' "$dir/$agent.pid" \
                env G_DEBUG=fatal-criticals ASAN_OPTIONS="$REPL_TLS_ASAN_OPTIONS" "$binary" \
                --bus-address "unix:path=$dir/system_bus_socket" \
                --state-dir "$dir/$agent-state" --run-dir "$dir/$agent-run" --verbose \
                "${extra[@]}" "$@" >>"$dir/$agent.log" 2>&1 </dev/null &
        until [ -s "$dir/$agent.pid" ]; do sleep 0.02; done
        pid=$(cat "$dir/$agent.pid")
        REPL_AGENTS+=("$name:$agent")
        until host_exec "$name" bash -c ". '$ZUMA_TEST_HARNESS'; zuma_test_has_owner $(repl_bus_name "$agent")"; do
                if ! kill -0 "$pid" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
                        tail -n 30 "$dir/$agent.log" >&2
                        e2e_fail "host $name: zuma-$agent did not take its name"
                fi
                sleep 0.05
        done
}

repl_agent_pid() {
        cat "$(host_dir "$1")/$2.pid" 2>/dev/null
}

repl_agent_stop() {
        local pid

        pid=$(repl_agent_pid "$1" "$2")
        [ -n "$pid" ] || return 0
        kill -TERM "$pid" 2>/dev/null || true
        zuma_test_wait_exit "$pid" 60 || e2e_fail "host $1: zuma-$2 exited with $? on SIGTERM"
        rm -f "$(host_dir "$1")/$2.pid"
}

repl_agent_kill() {
        local pid

        pid=$(repl_agent_pid "$1" "$2")
        [ -n "$pid" ] || return 0
        kill -KILL "$pid" 2>/dev/null || true
        zuma_test_wait_exit "$pid" 20 || true
        rm -f "$(host_dir "$1")/$2.pid"
}

repl_agents_cleanup() {
        local entry pid

        for entry in "${REPL_AGENTS[@]}"; do
                pid=$(repl_agent_pid "${entry%%:*}" "${entry#*:}")
                if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
                        kill -TERM "$pid" 2>/dev/null || true
                        zuma_test_wait_exit "$pid" 20 || kill -KILL "$pid" 2>/dev/null || true
                fi
        done
}

repl_replica() {
        local name=$1 vol=$2 size=$3 uuid=$4 origin store

        origin=$(host_loop_device "$name" "$vol-origin" "$size")
        store=$(host_loop_device "$name" "$vol-store" "${5:-$size}")
        host_zumactl "$name" define volume "$vol" "$origin" "$store" --initialize \
                --uuid "$uuid" >/dev/null || e2e_fail "host $name: cannot define replica $vol"
}

repl_snapshot_sha() {
        local dev

        dev=$(host_zumactl "$1" attach "$2" "$3") || e2e_fail "host $1: cannot attach $2@$3"
        sha256sum "$dev" | cut -d' ' -f1
}

repl_wait_snapshot() {
        local deadline=$((SECONDS + ${4:-60}))

        until host_zumactl "$1" --json list "$2" | e2e_json "'$3' in d" | grep -q True; do
                [ $SECONDS -lt $deadline ] || e2e_fail "host $1: no snapshot $2@$3 after ${4:-60} s"
                sleep 0.2
        done
}

# The EXIT trap of a replication test: the agents, then the hosts
# (hosts_exit), the test's status kept for it.
repl_exit() {
        local status=$?

        set +e
        repl_agents_cleanup
        (exit "$status")
        hosts_exit
}

# --- sources, targets and runs (through the agents' bus APIs) ---

repl_gdbus() {
        local name=$1

        shift
        host_exec "$name" timeout 120 gdbus call --system "$@"
}

# repl_define_source HOST VOL SENDER...: HOST receives VOL from the SENDER
# hosts (their certificates allowed), listening on its address.
repl_define_source() {
        local host=$1 vol=$2 allow="" sender

        shift 2
        for sender in "$@"; do
                allow="$allow${allow:+, }'$(repl_fingerprint "$sender")'"
        done
        repl_gdbus "$host" --dest org.zumastor.Recv1 --object-path /org/zumastor/Recv1/Manager \
                --method org.zumastor.Recv1.Manager.DefineSource "$vol" \
                "{'listen': <'$(host_addr "$host"):7890'>, 'allow': <@as [$allow]>}" >/dev/null ||
                e2e_fail "host $host: cannot define source $vol"
}

# repl_define_target HOST VOL RECEIVER [OPTIONS]: HOST replicates VOL to
# RECEIVER (target named after it, its certificate pinned); OPTIONS: more
# a{sv} entries, e.g. "'rate_limit': <@t 1000000>".
repl_define_target() {
        local host=$1 vol=$2 receiver=$3 extra=${4:+, $4}

        repl_gdbus "$host" --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
                --method org.zumastor.Send1.Manager.DefineTarget "$vol" "$receiver" \
                "$(host_addr "$receiver")" "{'pin': <'$(repl_fingerprint "$receiver")'>$extra}" \
                >/dev/null || e2e_fail "host $host: cannot define target $receiver of $vol"
}

# repl_replicate HOST VOL RECEIVER [SNAPSHOT]: starts a run; prints its job.
repl_replicate_start() {
        local options="{}"

        [ -n "${4:-}" ] && options="{'snapshot': <'$4'>}"
        repl_gdbus "$1" --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
                --method org.zumastor.Send1.Manager.Replicate "$2" "$3" "$options" |
                sed "s/^(objectpath '//; s/',)\$//"
}

repl_job_prop() {
        repl_gdbus "$1" --dest org.zumastor.Send1 --object-path "$2" \
                --method org.freedesktop.DBus.Properties.Get org.zumastor.Zumastor1.Job "$3" |
                sed "s/^(<//; s/>,)\$//; s/^'//; s/'\$//"
}

# repl_wait_job HOST JOB: until it finished; returns 0 on success, else
# prints its error message and returns 1.
repl_wait_job() {
        local deadline=$((SECONDS + ${3:-120}))

        until [ "$(repl_job_prop "$1" "$2" Finished)" = true ]; do
                [ $SECONDS -lt $deadline ] || e2e_fail "host $1: job $2 did not finish"
                sleep 0.1
        done
        [ "$(repl_job_prop "$1" "$2" Success)" = true ] && return 0
        repl_job_prop "$1" "$2" ErrorMessage
        return 1
}

# repl_replicate HOST VOL RECEIVER [SNAPSHOT]: one run, which must succeed.
repl_replicate() {
        local job message

        job=$(repl_replicate_start "$@") || e2e_fail "host $1: Replicate $2 to $3 refused"
        message=$(repl_wait_job "$1" "$job") || e2e_fail "host $1: replicating $2 to $3: $message"
}

# repl_replicate_timed HOST VOL RECEIVER [SNAPSHOT]: one run, which must
# succeed, timed by the sender: prints "SECONDS BYTES OUTSIDE" from the
# target's Finished signal (from the Replicate call to the end of the run's
# job; the bytes the sender put on the wire) and the seconds from before the
# gdbus call to the signal seen here (10 ms polls).  A gdbus monitor of the
# target is subscribed before the call, so the signal cannot be missed.
repl_replicate_timed() {
        local host=$1 vol=$2 receiver=$3 dir path log monitor line job t0 t1
        local deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))

        dir=$(host_dir "$host")
        path=$(repl_target_path "$host" "$(repl_uuid "$host" "$vol")_$receiver")
        log=$(mktemp "$dir/monitor.XXXXXX")
        host_exec "$host" gdbus monitor --system --dest org.zumastor.Send1 --object-path "$path" \
                >"$log" 2>&1 &
        monitor=$!
        # gdbus prints the owner once its match rule is in place.
        until grep -q "is owned by" "$log"; do
                if [ $SECONDS -ge $deadline ] || ! kill -0 "$monitor" 2>/dev/null; then
                        kill "$monitor" 2>/dev/null
                        e2e_fail "host $host: cannot monitor $path: $(cat "$log")"
                fi
                sleep 0.01
        done
        t0=$(date +%s.%N)
        job=$(repl_replicate_start "$@") || {
                kill "$monitor" 2>/dev/null
                e2e_fail "host $host: Replicate $vol to $receiver refused"
        }
        deadline=$((SECONDS + 3600))
        until line=$(grep -m 1 -E "Send1\.Target\.(Finished|Failed) " "$log"); do
                if [ $SECONDS -ge $deadline ]; then
                        kill "$monitor" 2>/dev/null
                        e2e_fail "host $host: job $job did not finish"
                fi
                sleep 0.01
        done
        t1=$(date +%s.%N)
        kill "$monitor" 2>/dev/null
        wait "$monitor" 2>/dev/null || true
        rm -f "$log"
        case $line in
        *Target.Failed*) e2e_fail "host $host: replicating $vol to $receiver: ${line#*Failed }" ;;
        esac
        # ... Target.Finished ('SNAP', uint64 BYTES, SECONDS)
        echo "$line" | sed -E 's/.*, uint64 ([0-9]+), ([0-9.e+-]+)\)$/\2 \1/' |
                awk -v a="$t0" -v b="$t1" '{ printf "%.3f %s %.3f\n", $1, $2, b - a }'
}

repl_target_path() {
        local escaped

        escaped=$(python3 -c 'import sys
s = sys.argv[1]
print("".join(c if c.isalnum() else "_%02x" % ord(c) for c in s))' "$2")
        echo "/org/zumastor/Send1/targets/$escaped"
}

# repl_target_prop HOST VOL_UUID TARGET PROPERTY
repl_target_prop() {
        repl_gdbus "$1" --dest org.zumastor.Send1 --object-path "$(repl_target_path "$1" "${2}_$3")" \
                --method org.freedesktop.DBus.Properties.Get org.zumastor.Send1.Target "$4" |
                sed "s/^(<//; s/>,)\$//; s/^'//; s/'\$//; s/^uint64 //; s/^int64 //"
}

# repl_verify HOST VOL RECEIVER [SNAPSHOT]: prints the a{sv} Verify returns.
repl_verify() {
        local options="{}"

        [ -n "${4:-}" ] && options="{'snapshot': <'$4'>}"
        repl_gdbus "$1" --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
                --method org.zumastor.Send1.Manager.Verify "$2" "$3" "$options"
}

repl_uuid() {
        host_zumactl "$1" --json status "$2" | e2e_json 'd["uuid"]'
}
