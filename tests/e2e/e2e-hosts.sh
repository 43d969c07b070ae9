# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-hosts.sh: several "hosts" on one machine for the replication tests
# and benchmarks; source it after e2e-lib.sh.  A host is a network
# namespace zuma-PID-NAME (PID: the test's, so that runs never meet) with
# its address on lo, one veth pair to every other host (a full mesh: a
# pair per two hosts, so that one link can be cut alone and its counters
# are that link's traffic only), and, once started, a private dbus-daemon
# and a zuma-snapshotd of its own.
#
#   hosts_init                  root and tools check, temp dir, EXIT trap
#   hosts_setup N               hosts a, b, c, ... at 10.77.0.1, .2, .3, ...
#   host_add NAME ADDR          one host more, linked to every host so far
#   host_addr NAME              its IPv4 address
#   host_exec NAME CMD...       CMD in the host's network namespace, with the
#                               host's ZUMA_TEST_DIR and bus in its environment
#   host_start NAME             its dbus-daemon and zuma-snapshotd
#   host_zumactl NAME ARGS...   zumactl on the host's bus; returns its status
#   host_volume NAME VOL SIZE [STORE_SIZE]  loop-backed origin and store on
#                               the host, volume defined with --initialize;
#                               prints the origin's device
#   host_loop_device NAME FILE SIZE  a loop device of the host (the harness's,
#                               over HOST_DIR/images/FILE.img); prints it
#   host_dir NAME               the host's directory (state, run, logs, images)
#   host_tcp_recv NAME PORT     listen on the host's address; the bytes of one
#                               connection go to stdout (run it in the background)
#   host_tcp_send NAME ADDR PORT  send stdin to ADDR:PORT from the host; retries
#                               a refused connection until a deadline
#   link_down A B / link_up A B cut and restore the link between A and B
#   host_tx_bytes NAME [PEER]   bytes the host sent on its links (to PEER only)
#   host_rx_bytes NAME [PEER]   bytes it received
#   hosts_cleanup               everything back as it was; idempotent (the
#                               EXIT trap runs it)
#
# Each host has its directory HOST_DIR=$ZUMA_TEST_DIR/hosts/NAME, which the
# bus harness uses as its ZUMA_TEST_DIR for that host: the harness's command
# mode (zuma-test-bus.sh start-bus, start-daemon, ...) runs its functions
# unchanged, one bus and one daemon per directory.  Logs are
# HOST_DIR/bus.log and HOST_DIR/snapshotd.log.
#
# Namespaces are entered with `nsenter --net`, not `ip netns exec`: the
# latter also unshares the mount namespace (to mount a sysfs of the network
# namespace), which would hide the daemon's FUSE mount and every file
# system mounted on a host from the test and from its cleanup.  So every
# host shares the machine's mounts, block devices and /dev; only the
# network is its own.  Reading a link's counters needs that sysfs, so
# host_tx_bytes does use `ip netns exec`.
#
# Cutting a link sets both ends down: the kernel removes the routes through
# them, so a new connection fails at once (ENETUNREACH) and one in flight
# retransmits into nothing until link_up puts the routes back.  With ethtool
# installed, segmentation offloads are off on every veth, so the counters
# count the frames a real link would carry (each with its own headers).
# IPv6 is off in every host: no neighbour discovery in the counters.

HOSTS_PREFIX=zuma-$$-
HOSTS_NAMES=()
declare -A HOSTS_ADDR=()

hosts_init() {
        local tool

        zuma_test_require_root
        for tool in ip nsenter python3 sha256sum; do
                command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
        done
        [ -x "$ZUMACTL" ] || zuma_test_skip "no zumactl at $ZUMACTL (build first)"
        ip netns add "${HOSTS_PREFIX}probe" 2>/dev/null ||
                zuma_test_skip "cannot create a network namespace here"
        ip netns del "${HOSTS_PREFIX}probe"
        zuma_test_setup
        trap hosts_exit EXIT
        mkdir -p "$ZUMA_TEST_DIR/hosts"
}

hosts_exit() {
        local status=$?

        set +e
        # What e2e_cleanup and zuma_test_cleanup would do first, before the
        # daemons are stopped: a frozen file system, or a daemon waiting on
        # itself, would keep them from stopping.
        if [ -n "${E2E_FROZEN:-}" ]; then
                fsfreeze -u "$E2E_FROZEN" 2>/dev/null
                E2E_FROZEN=
        fi
        [ "$status" = 0 ] || zuma_test_abort_fuse
        hosts_cleanup
        (exit "$status")
        e2e_cleanup
}

host_ns() {
        echo "$HOSTS_PREFIX$1"
}

host_dir() {
        echo "$ZUMA_TEST_DIR/hosts/$1"
}

host_addr() {
        echo "${HOSTS_ADDR[$1]}"
}

# hosts_setup N: hosts a, b, c, ... with addresses 10.77.0.1 onwards.
hosts_setup() {
        local i names=abcdefghijklmnopqrstuvwxyz

        if ! [[ $1 =~ ^[0-9]+$ ]] || [ "$1" -lt 1 ] || [ "$1" -gt 26 ]; then
                e2e_fail "hosts_setup: 1 to 26 hosts, not $1"
        fi
        for ((i = 0; i < $1; i++)); do
                host_add "${names:i:1}" "10.77.0.$((i + 1))"
        done
}

host_add() {
        local name=$1 addr=$2 ns peer

        # The veth to PEER is named to-PEER, and an interface name has at
        # most 15 characters.
        [[ $name =~ ^[a-z0-9]{1,12}$ ]] || e2e_fail "host_add: bad host name '$name' (a-z0-9, 1-12)"
        [ -z "${HOSTS_ADDR[$name]:-}" ] || e2e_fail "host_add: host $name exists"
        ns=$(host_ns "$name")
        ip netns add "$ns" || e2e_fail "cannot create network namespace $ns"
        HOSTS_NAMES+=("$name")
        HOSTS_ADDR[$name]=$addr
        mkdir -p "$(host_dir "$name")/images"
        nsenter --net="/run/netns/$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 \
                net.ipv6.conf.default.disable_ipv6=1 2>/dev/null || true
        ip -n "$ns" link set lo up
        ip -n "$ns" addr add "$addr/32" dev lo
        for peer in "${HOSTS_NAMES[@]}"; do
                [ "$peer" = "$name" ] || hosts_connect "$name" "$peer"
        done
}

hosts_connect() {
        local a=$1 b=$2

        ip link add "to-$b" netns "$(host_ns "$a")" type veth peer name "to-$a" \
                netns "$(host_ns "$b")" || e2e_fail "cannot link hosts $a and $b"
        if command -v ethtool >/dev/null; then
                host_exec "$a" ethtool -K "to-$b" tso off gso off gro off >/dev/null 2>&1 || true
                host_exec "$b" ethtool -K "to-$a" tso off gso off gro off >/dev/null 2>&1 || true
        fi
        link_up "$a" "$b"
}

# The ends go up, then the route to the other's address through each.
link_up() {
        local a=$1 b=$2

        if ! ip -n "$(host_ns "$a")" link set "to-$b" up ||
                ! ip -n "$(host_ns "$b")" link set "to-$a" up ||
                ! ip -n "$(host_ns "$a")" route replace "$(host_addr "$b")/32" dev "to-$b" \
                        src "$(host_addr "$a")" ||
                ! ip -n "$(host_ns "$b")" route replace "$(host_addr "$a")/32" dev "to-$a" \
                        src "$(host_addr "$b")"; then
                e2e_fail "cannot bring the link between $a and $b up"
        fi
}

link_down() {
        if ! ip -n "$(host_ns "$1")" link set "to-$2" down ||
                ! ip -n "$(host_ns "$2")" link set "to-$1" down; then
                e2e_fail "cannot take the link between $1 and $2 down"
        fi
}

# host_link_bytes NAME PEER|"" tx|rx: the sum over the host's links (or
# the one to PEER) of the statistic.
host_link_bytes() {
        local ns links=() peer

        ns=$(host_ns "$1")
        if [ -n "$2" ]; then
                links=("to-$2")
        else
                for peer in "${HOSTS_NAMES[@]}"; do
                        [ "$peer" = "$1" ] || links+=("to-$peer")
                done
        fi
        [ ${#links[@]} -gt 0 ] || {
                echo 0
                return
        }
        # shellcheck disable=SC2016 # expanded by the inner shell
        ip netns exec "$ns" sh -c 'stat=$1; shift; total=0
                for link; do
                        n=$(cat "/sys/class/net/$link/statistics/${stat}_bytes") || exit 1
                        total=$((total + n))
                done
                echo $total' sh "$3" "${links[@]}"
}

host_tx_bytes() {
        host_link_bytes "$1" "${2:-}" tx
}

host_rx_bytes() {
        host_link_bytes "$1" "${2:-}" rx
}

# host_env DIR CMD...: CMD with the environment through which the bus
# harness's command mode and zumactl find the host's bus and daemon.
host_env() {
        local dir=$1

        shift
        env ZUMA_TEST_DIR="$dir" ZUMA_TEST_STATE_DIR="$dir/state" ZUMA_TEST_RUN_DIR="$dir/run" \
                DBUS_SYSTEM_BUS_ADDRESS="unix:path=$dir/system_bus_socket" "$@"
}

# host_exec NAME CMD...: CMD in the host's network namespace, in its
# environment (host_env).
host_exec() {
        local name=$1

        shift
        host_env "$(host_dir "$name")" nsenter --net="/run/netns/$(host_ns "$name")" -- "$@"
}

# host_harness NAME COMMAND [ARGS...]: zuma-test-bus.sh COMMAND for the host.
host_harness() {
        local name=$1

        shift
        host_exec "$name" bash "$ZUMA_TEST_HARNESS" "$@"
}

host_start() {
        host_harness "$1" start-bus || e2e_fail "host $1: cannot start its bus"
        host_harness "$1" start-daemon || e2e_fail "host $1: cannot start zuma-snapshotd"
}

host_zumactl() {
        local name=$1

        shift
        host_exec "$name" timeout 300 "$ZUMACTL" --no-progress "$@"
}

host_loop_device() {
        host_harness "$1" loop-device "$2" "$3" || e2e_fail "host $1: no loop device for $2"
}

host_volume() {
        local name=$1 vol=$2 size=$3 origin store dev

        origin=$(host_loop_device "$name" "$vol-origin" "$size")
        store=$(host_loop_device "$name" "$vol-store" "${4:-$size}")
        host_zumactl "$name" define volume "$vol" "$origin" "$store" --initialize >/dev/null ||
                e2e_fail "host $name: cannot define volume $vol"
        dev=$(host_zumactl "$name" --json status "$vol" | e2e_json 'd["device"]') ||
                e2e_fail "host $name: no status for volume $vol"
        echo "$dev"
}

# host_tcp_recv NAME PORT: one connection's bytes on stdout.  Listens
# before it returns control to the sender's retries (host_tcp_send).
host_tcp_recv() {
        host_exec "$1" python3 -c '
import socket, sys
addr, port = sys.argv[1], int(sys.argv[2])
server = socket.create_server((addr, port), reuse_port=False)
server.settimeout(60)
conn, _ = server.accept()
conn.settimeout(600)
out = sys.stdout.buffer
while True:
        data = conn.recv(1 << 20)
        if not data:
                break
        out.write(data)
out.flush()
' "$(host_addr "$1")" "$2"
}

# host_tcp_send NAME ADDR PORT: stdin to ADDR:PORT.  A refused connection
# (the receiver not listening yet) is retried for ZUMA_TEST_TIMEOUT
# seconds; any other error (no route: a link is down) fails at once.
host_tcp_send() {
        host_exec "$1" python3 -c '
import socket, sys, time
addr, port, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
deadline = time.monotonic() + wait
while True:
        try:
                conn = socket.create_connection((addr, port), timeout=10)
                break
        except ConnectionRefusedError:
                if time.monotonic() > deadline:
                        raise
                time.sleep(0.02)
while True:
        data = sys.stdin.buffer.read(1 << 20)
        if not data:
                break
        conn.sendall(data)
conn.shutdown(socket.SHUT_WR)
conn.close()
' "$2" "$3" "$ZUMA_TEST_TIMEOUT"
}

# host_kill_others NAME: ends every process in the host's namespace but its
# bus and zuma-snapshotd (listeners, rsync daemons, ... the test started).
host_kill_others() {
        local ns dir keep pid signal left deadline=$((SECONDS + 10))

        ns=$(host_ns "$1")
        dir=$(host_dir "$1")
        keep=" $(cat "$dir/bus.pid" "$dir/snapshotd.pid" 2>/dev/null | tr "\n" " " || true) "
        for signal in TERM KILL; do
                for pid in $(ip netns pids "$ns" 2>/dev/null); do
                        [[ $keep == *" $pid "* ]] || kill -"$signal" "$pid" 2>/dev/null || true
                done
                while [ $SECONDS -lt $deadline ]; do
                        left=0
                        for pid in $(ip netns pids "$ns" 2>/dev/null); do
                                [[ $keep == *" $pid "* ]] || left=1
                        done
                        [ $left = 1 ] || return 0
                        sleep 0.05
                done
                deadline=$((SECONDS + 5))
        done
}

hosts_cleanup() {
        local ns name dir

        [ -n "${ZUMA_TEST_DIR:-}" ] && [ -d "$ZUMA_TEST_DIR/hosts" ] || return 0
        for ns in $(ip netns list 2>/dev/null | awk -v p="$HOSTS_PREFIX" 'index($1, p) == 1 { print $1 }'); do
                host_kill_others "${ns#"$HOSTS_PREFIX"}"
        done
        # The file systems on the hosts' devices, then each daemon (it
        # unmounts its FUSE mount), its bus and its loop devices.
        zuma_test_unmount_leftovers filesystems
        for dir in "$ZUMA_TEST_DIR"/hosts/*/; do
                [ -d "$dir" ] || continue
                dir=${dir%/}
                host_env "$dir" bash "$ZUMA_TEST_HARNESS" stop-daemon || true
                host_env "$dir" bash "$ZUMA_TEST_HARNESS" stop-bus || true
                host_env "$dir" bash "$ZUMA_TEST_HARNESS" detach-loops || true
        done
        for ns in $(ip netns list 2>/dev/null | awk -v p="$HOSTS_PREFIX" 'index($1, p) == 1 { print $1 }'); do
                name=${ns#"$HOSTS_PREFIX"}
                host_kill_others "$name"
                ip netns del "$ns" 2>/dev/null || zuma_test_log "cannot delete network namespace $ns"
                unset "HOSTS_ADDR[$name]"
        done
        HOSTS_NAMES=()
}
