#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-replicate-faults.sh: zuma-sendd on host a replicating to
# zuma-recvd on host b (network namespaces, real TCP with TLS, e2e-hosts.sh
# and e2e-replication.sh) under faults.  Both agents run with --timeout 5,
# the sender with --retry 2; the target is rate limited so that a transfer
# lasts long enough to be hit in the middle.
#
#   1. link cut: 48 MiB of data, the link taken down once a seeded number
#      of bytes (past the stream's first resume point) went over; the run
#      fails with a clear error within 13 s (the sender's 5 s timeout,
#      which GIO's TLS write waits out twice, and no more); link up; the sender's retry resumes the
#      stream (both agents log "(resumed)"), the replica verifies and its
#      device's sha256 equals the source's, and the bytes on the wire for
#      the whole thing stay well below twice the stream.  Prints
#      repl_resume_resent_bytes: the link's bytes minus the stream's size
#      (an upper bound: it includes TCP/TLS framing), and the stream bytes
#      received twice (from the receiver's log, exact).
#   2. kill -9 of zuma-sendd mid-transfer, restarted, Replicate: resumes
#      and verifies; kill -9 of zuma-recvd mid-transfer, restarted: the
#      sender's retry resumes and verifies.
#   3. damage in flight.  Over TLS a flipped bit is the TLS layer's to
#      catch: a proxy on the path flips one bit of the TLS byte stream and
#      the run fails with a TLS error, nothing applied.  The stream
#      format's own checks are tested underneath TLS: an incremental stream
#      written to a file (Volume.SendStream, repl-stream.py), one bit
#      flipped at seeded positions (one in the header, one in the last
#      record, the rest anywhere), each copy fed to b's Volume.ReceiveStream:
#      every one fails, no snapshot appears, b's snapshots keep their
#      sha256; the intact stream then applies and verifies.
#   4. hostile peers against zuma-recvd (zuma-repl-peer, with host a's
#      certificate, so that TLS lets them in): garbage instead of HELLO, a
#      HELLO for a volume b does not have, a SEND over a base b does not
#      hold, a peer that stalls after HELLO (cut after the receiver's
#      timeout, logged, and a real run still works after), a peer that
#      offers 1 GiB of random DATA after a valid SEND (the receiver's job
#      refuses the stream at its header after about a MiB and the session
#      ends; the receiver's peak RSS stays below 100 MB, nothing is
#      applied, b's snapshots intact).  Each gets a clear ERROR message,
#      except the flood, whose reader may see the receiver's close reset
#      the connection before its ERROR: then zuma-recvd's log must say why.
#   5. TLS: a target whose pin is wrong fails with both fingerprints in
#      the job's error; a sender the source does not allow gets the
#      receiver's "not allowed"; neither applies anything.
#   6. the target's store fills in the middle of a stream: the sender's
#      run fails with the receiver's own reason (it looks for an ERROR
#      between DATA frames, and the receiver reads on a moment before it
#      closes), and b's snapshot is intact, with no new one.
#
# What is not here: the ssh transport's faults (a bad key) are the ssh
# tests'; a 10 GB flood (1 GiB shows the same bound: the receiver never
# holds more than one frame, and it stops the flood at the first bad
# record anyway).
#
# The seed (ZUMA_TEST_SEED=N replays it) chooses the data written, the
# cut points and the flipped bits; it is printed first.
#
# Needs root, loop devices, dbus-daemon, ip, nsenter, python3 with its
# dbus module, openssl; exits 77 (skip) without them.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-hosts.sh
. "$(dirname "$(realpath "$0")")/e2e-hosts.sh"
# shellcheck source=e2e-replication.sh
. "$(dirname "$(realpath "$0")")/e2e-replication.sh"

: "${ZUMA_REPL_PEER:=$ZUMA_BUILD_DIR/tests/e2e/zuma-repl-peer}"
[ -x "$ZUMA_REPL_PEER" ] || zuma_test_skip "no zuma-repl-peer at $ZUMA_REPL_PEER"
# The python3 with dbus-python (a pyenv one on PATH may lack it; run from /
# so that the source tree's dbus/ is not taken for the module).
REPL_PYTHON=
for python in python3 /usr/bin/python3; do
        if (cd / && "$python" -c 'import dbus.bus') 2>/dev/null; then
                REPL_PYTHON=$(command -v "$python")
                break
        fi
done
[ -n "$REPL_PYTHON" ] || zuma_test_skip "no python3 with its dbus module (python3-dbus)"
REPL_STREAM=$E2E_LIB_DIR/repl-stream.py

SEED=${ZUMA_TEST_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')}
echo "seed $SEED (ZUMA_TEST_SEED=$SEED replays this run)"
RANDOM=$((SEED % 32768))
MIB=$((1024 * 1024))
RATE=8000000

hosts_init
trap repl_exit EXIT
T=$ZUMA_TEST_DIR

# seeded_bytes SEED BYTES: a reproducible pseudo-random byte stream
# (AES-CTR of zeros; openssl ends on the closed pipe).
seeded_bytes() {
        { openssl enc -aes-128-ctr -K "$(printf '%032x' "$1")" -iv 0 -nosalt </dev/zero 2>/dev/null ||
                true; } | head -c "$2"
}

# seeded_write DEV OFFSET_MIB MIB SEED
seeded_write() {
        seeded_bytes "$4" $(($3 * MIB)) |
                dd of="$1" bs=1M seek="$2" iflag=fullblock oflag=direct conv=notrunc status=none
}

# rand_between LOW HIGH: from the seeded $RANDOM.
rand_between() {
        echo $(($1 + (RANDOM * 32768 + RANDOM) % ($2 - $1 + 1)))
}

# wait_tx_past BASE BYTES JOB: until the link a→b carried BYTES more than
# BASE; fails if the job ends first.
wait_tx_past() {
        local deadline=$((SECONDS + 60))

        while [ $(($(host_tx_bytes a b) - $1)) -lt "$2" ]; do
                [ $SECONDS -lt $deadline ] || e2e_fail "the run sent no $2 bytes in 60 s"
                [ "$(repl_job_prop a "$3" Finished)" = false ] ||
                        e2e_fail "the run ended before $2 bytes went over: the cut comes too late"
                sleep 0.05
        done
}

# count_lines FILE PATTERN
count_lines() {
        grep -c -- "$2" "$1" || true
}

# wait_log FILE PATTERN COUNT SECONDS: until PATTERN appears COUNT times.
wait_log() {
        local deadline=$((SECONDS + $4))

        until [ "$(count_lines "$1" "$2")" -ge "$3" ]; do
                [ $SECONDS -lt $deadline ] || e2e_fail "no '$2' (x$3) in $1 after $4 s"
                sleep 0.1
        done
}

# same_replica SNAP: verify says same, and the devices' sha256 agree.
same_replica() {
        local verdict sha_a sha_b

        verdict=$(repl_verify a vol b "$1") || e2e_fail "verify of $1 failed"
        [[ $verdict == *"'same': <true>"* ]] || e2e_fail "verify of $1: $verdict"
        sha_a=$(repl_snapshot_sha a vol "$1")
        sha_b=$(repl_snapshot_sha b vol "$1")
        [ "$sha_a" = "$sha_b" ] || e2e_fail "$1: sha256 $sha_a on a, $sha_b on b"
}

b_snapshots() {
        host_zumactl b --json list vol | e2e_json '" ".join(sorted(d))'
}

# b_intact WANT_LIST SNAP SHA: b lists exactly WANT_LIST and SNAP's device
# still has SHA.
b_intact() {
        local got

        got=$(b_snapshots)
        [ "$got" = "$1" ] || e2e_fail "b holds '$got', not '$1'"
        got=$(repl_snapshot_sha b vol "$2")
        [ "$got" = "$3" ] || e2e_fail "b's $2 changed: sha256 $got, was $3"
}

B_LOG=$(host_dir b)/recvd.log
A_LOG=$(host_dir a)/sendd.log

e2e_step "two hosts, a volume on a, its replica on b, the agents"
hosts_setup 2
host_start a
host_start b
repl_certs a b
# A certificate no source allows, outside the hosts' directories.
mkdir -p "$T/stranger"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj /CN=stranger \
        -keyout "$T/stranger/host.key" -out "$T/stranger/host.crt" 2>/dev/null ||
        e2e_fail "openssl could not make the stranger's certificate"
dev=$(host_volume a vol 64M 320M)
uuid=$(repl_uuid a vol)
repl_replica b vol 64M "$uuid" 320M
repl_agent_start a sendd --timeout 5
repl_agent_start b recvd --timeout 5
repl_define_source b vol a
repl_define_target a vol b "'rate_limit': <@t $RATE>"

# --- 1. link cut ---
e2e_step "1. link cut in the middle of a 48 MiB full stream"
t0=$SECONDS
seeded_write "$dev" 0 48 "$SEED"
host_zumactl a snapshot vol s1 --no-attach >/dev/null || e2e_fail "no snapshot s1"
# The stream's size, for the resent figure: the same stream into a file.
out=$(host_exec a "$REPL_PYTHON" "$REPL_STREAM" send vol "" s1 "$T/s1.stream") ||
        e2e_fail "SendStream s1 to a file: $out"
stream_bytes=$(stat -c %s "$T/s1.stream")
rm -f "$T/s1.stream"
cut=$(rand_between $((22 * MIB)) $((30 * MIB)))
echo "stream of s1: $stream_bytes bytes; cut after $cut bytes on the link"
tx0=$(host_tx_bytes a b)
job=$(repl_replicate_start a vol b)
wait_tx_past "$tx0" "$cut" "$job"
link_down a b
cut_at=$SECONDS
message=$(repl_wait_job a "$job" 60) && e2e_fail "the run succeeded across a cut link"
echo "the cut run failed after $((SECONDS - cut_at)) s: $message"
# The sender's timeout is 5 s (GIO's TLS write waits it out twice): the run
# must not wait out more (a TLS close_notify to the dead peer) before it
# reports, and retries.
[ $((SECONDS - cut_at)) -le 13 ] || e2e_fail "the cut was noticed after $((SECONDS - cut_at)) s"
[[ $message == *"timed out"* || $message == *"onnection"* || $message == *"reset"* ]] ||
        e2e_fail "no clear error for the cut link: '$message'"
wait_log "$B_LOG" "the connection broke after" 1 20
link_up a b
repl_wait_snapshot b vol s1 60
wait_log "$A_LOG" "sending s1 (full) (resumed)" 1 5
wait_log "$B_LOG" "receiving s1 (full) from .* (resumed)" 1 5
same_replica s1
wire=$(($(host_tx_bytes a b) - tx0))
first=$(grep -o "the connection broke after [0-9]* stream bytes" "$B_LOG" | head -1 | grep -o "[0-9]*")
second=$(grep -o "received s1 ([0-9]* stream bytes)" "$B_LOG" | grep -o "[0-9]*" | tail -1)
echo "repl_resume_resent_bytes $((wire - stream_bytes)) (link bytes $wire for a stream of $stream_bytes)"
echo "stream bytes received twice: $((first + second - stream_bytes)) ($first before the cut, $second after)"
[ "$wire" -lt $((stream_bytes * 3 / 2)) ] ||
        e2e_fail "$wire bytes on the link for a stream of $stream_bytes: the resume resent too much"
[ $((first + second - stream_bytes)) -lt $((20 * MIB)) ] ||
        e2e_fail "the resumed session resent $((first + second - stream_bytes)) stream bytes"
echo "case 1: $((SECONDS - t0)) s"

# --- 2. kill -9 ---
e2e_step "2a. kill -9 of zuma-sendd in the middle of a 32 MiB incremental"
t0=$SECONDS
seeded_write "$dev" 0 32 $((SEED + 1))
host_zumactl a snapshot vol s2 --no-attach >/dev/null || e2e_fail "no snapshot s2"
resumed_a=$(count_lines "$A_LOG" "(resumed)")
broke_b=$(count_lines "$B_LOG" "the connection broke after")
tx0=$(host_tx_bytes a b)
job=$(repl_replicate_start a vol b)
wait_tx_past "$tx0" "$(rand_between $((18 * MIB)) $((28 * MIB)))" "$job"
repl_agent_kill a sendd
wait_log "$B_LOG" "the connection broke after" $((broke_b + 1)) 20
repl_agent_start a sendd --timeout 5
# The restarted sender may retry on its own; a Replicate joins that run.
repl_replicate a vol b
repl_wait_snapshot b vol s2 30
wait_log "$A_LOG" "sending s2 over s1 (resumed)" 1 5
[ "$(count_lines "$A_LOG" "(resumed)")" -gt "$resumed_a" ] || e2e_fail "the sender did not resume s2"
same_replica s2
echo "case 2a: $((SECONDS - t0)) s"

e2e_step "2b. kill -9 of zuma-recvd in the middle of a 32 MiB incremental"
t0=$SECONDS
seeded_write "$dev" 16 32 $((SEED + 2))
host_zumactl a snapshot vol s3 --no-attach >/dev/null || e2e_fail "no snapshot s3"
tx0=$(host_tx_bytes a b)
job=$(repl_replicate_start a vol b)
wait_tx_past "$tx0" "$(rand_between $((18 * MIB)) $((28 * MIB)))" "$job"
repl_agent_kill b recvd
message=$(repl_wait_job a "$job" 30) && e2e_fail "the run succeeded with its receiver killed"
echo "the run failed: $message"
repl_agent_start b recvd --timeout 5
# The sender's retry (2 s, then 4 s, ...) finishes the job.
repl_wait_snapshot b vol s3 40
wait_log "$A_LOG" "sending s3 over s2 (resumed)" 1 5
wait_log "$B_LOG" "receiving s3 over s2 from .* (resumed)" 1 5
same_replica s3
echo "case 2b: $((SECONDS - t0)) s"

# --- 3. damage ---
e2e_step "3a. a proxy flips one bit of the TLS stream"
t0=$SECONDS
seeded_write "$dev" 40 4 $((SEED + 3))
host_zumactl a snapshot vol s4 --no-attach >/dev/null || e2e_fail "no snapshot s4"
sha_s3=$(repl_snapshot_sha b vol s3)
flip_at=$(rand_between 65536 $((2 * MIB)))
echo "the proxy flips a bit at byte $flip_at of the sender's bytes"
cat >"$T/flip-proxy.py" <<'EOF'
import socket, sys, threading
addr, port, to_addr, to_port, flip_at, ready = sys.argv[1:7]
server = socket.create_server((addr, int(port)))
server.settimeout(30)
open(ready, "w").close()
client, _ = server.accept()
upstream = socket.create_connection((to_addr, int(to_port)))
def back():
        try:
                while data := upstream.recv(65536):
                        client.sendall(data)
        except OSError:
                pass
        client.close()
threading.Thread(target=back, daemon=True).start()
seen, flip_at = 0, int(flip_at)
try:
        while data := client.recv(65536):
                if seen <= flip_at < seen + len(data):
                        data = bytearray(data)
                        data[flip_at - seen] ^= 0x10
                seen += len(data)
                upstream.sendall(bytes(data))
except OSError:
        pass
upstream.close()
EOF
host_exec a python3 "$T/flip-proxy.py" "$(host_addr a)" 7999 "$(host_addr b)" 7890 "$flip_at" \
        "$T/proxy.ready" &
proxy=$!
until [ -e "$T/proxy.ready" ]; do
        kill -0 "$proxy" 2>/dev/null || e2e_fail "the bit-flipping proxy did not start"
        sleep 0.05
done
repl_gdbus a --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
        --method org.zumastor.Send1.Manager.DefineTarget vol flip "$(host_addr a):7999" \
        "{'pin': <'$(repl_fingerprint b)'>}" >/dev/null || e2e_fail "cannot define target flip"
job=$(repl_replicate_start a vol flip)
message=$(repl_wait_job a "$job" 60) && e2e_fail "a run through a bit-flipping proxy succeeded"
echo "the run through the proxy failed: $message"
# The receiver's TLS layer catches the flip; the sender sees the
# connection end.
grep -q "the connection broke after [0-9]* stream bytes: .*TLS.*Decryption has failed" "$B_LOG" ||
        e2e_fail "zuma-recvd did not log the TLS failure of the flipped bit"
repl_gdbus a --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
        --method org.zumastor.Send1.Manager.ForgetTarget vol flip "{}" >/dev/null ||
        e2e_fail "cannot forget target flip"
wait "$proxy" || true
b_intact "s1 s2 s3" s3 "$sha_s3"
echo "case 3a: $((SECONDS - t0)) s"

e2e_step "3b. one bit flipped in a stream: every position caught, nothing applied"
t0=$SECONDS
out=$(host_exec a "$REPL_PYTHON" "$REPL_STREAM" send vol s3 s4 "$T/s4.stream") ||
        e2e_fail "SendStream s3 to s4 into a file: $out"
size=$(stat -c %s "$T/s4.stream")
positions="$(rand_between 0 359) $(rand_between $((size - 48)) $((size - 1)))"
for _ in 1 2 3 4; do
        positions="$positions $(rand_between 360 $((size - 1)))"
done
echo "stream of $size bytes; bits flipped at bytes $positions"
for pos in $positions; do
        cp "$T/s4.stream" "$T/flipped.stream"
        python3 -c 'import sys
f = open(sys.argv[1], "r+b"); pos = int(sys.argv[2])
f.seek(pos); b = f.read(1); f.seek(pos); f.write(bytes([b[0] ^ (1 << (pos % 8))]))' \
                "$T/flipped.stream" "$pos"
        out=$(host_exec b "$REPL_PYTHON" "$REPL_STREAM" receive vol "$T/flipped.stream") &&
                e2e_fail "a stream with a bit flipped at byte $pos was applied: $out"
        echo "byte $pos: $out"
        [ "$(b_snapshots)" = "s1 s2 s3" ] || e2e_fail "byte $pos: b holds $(b_snapshots)"
done
b_intact "s1 s2 s3" s3 "$sha_s3"
out=$(host_exec b "$REPL_PYTHON" "$REPL_STREAM" receive vol "$T/s4.stream") ||
        e2e_fail "the intact stream was refused: $out"
rm -f "$T/s4.stream" "$T/flipped.stream"
same_replica s4
echo "case 3b: $((SECONDS - t0)) s"

# --- 4. hostile peers ---
e2e_step "4. hostile peers against zuma-recvd"
t0=$SECONDS
peer() {
        host_exec a env ASAN_OPTIONS="$REPL_TLS_ASAN_OPTIONS" "$ZUMA_REPL_PEER" \
                "$(host_dir a)/tls/host.crt" "$(host_dir a)/tls/host.key" \
                "$(repl_fingerprint b)" "$(host_addr b):7890" "$@"
}
sha_s4=$(repl_snapshot_sha b vol s4)


out=$(peer garbage "$SEED") || e2e_fail "peer garbage: $out"
echo "garbage: $out"
[[ $out == "ERROR frame header"* ]] || e2e_fail "garbage instead of HELLO: '$out'"

out=$(peer hello 00000000-1111-2222-3333-444444444444) || e2e_fail "peer hello: $out"
echo "unknown volume: $out"
[[ $out == "ERROR volume 00000000-1111-2222-3333-444444444444 is not a replication source"* ]] ||
        e2e_fail "HELLO for an unknown volume: '$out'"

out=$(peer send "$uuid" nosuch 12345) || e2e_fail "peer send: $out"
echo "wrong base: $out"
[[ $out == *"ERROR the target has no snapshot nosuch of that time"* ]] ||
        e2e_fail "SEND over a base b does not hold: '$out'"

out=$(peer stall "$uuid") || e2e_fail "peer stall: $out"
echo "stall: $(echo "$out" | tr '\n' ' ')"
elapsed=$(echo "$out" | sed -n 's/^elapsed //p')
[[ $out == *"WELCOME"* ]] || e2e_fail "the stalling peer had no WELCOME: '$out'"
if [ "${elapsed%.*}" -lt 4 ] || [ "${elapsed%.*}" -gt 15 ]; then
        e2e_fail "the stalling peer was cut after $elapsed s, not the receiver's 5 s timeout"
fi
grep -q "volume vol: Socket I/O timed out$" "$B_LOG" ||
        e2e_fail "zuma-recvd did not log the stalled peer's timeout"

out=$(peer flood "$uuid" $((1024 * MIB)) "$SEED") || e2e_fail "peer flood: $out"
echo "flood: $(echo "$out" | tr '\n' ' ')"
# The receiver stops the flood at the stream's header: its ERROR, or (when
# its close resets the connection before the peer reads) its log says why.
if [[ $out != *"ERROR "*"bad magic"* ]]; then
        [[ $out == *"closed "* ]] || e2e_fail "1 GiB of garbage DATA: '$out'"
        grep -q "the receive job failed: .*stream header: bad magic" "$B_LOG" ||
                e2e_fail "1 GiB of garbage DATA: no ERROR and no reason in zuma-recvd's log"
fi
hwm=$(awk '/^VmHWM:/ { print $2 }' "/proc/$(repl_agent_pid b recvd)/status")
echo "zuma-recvd's peak RSS: $hwm kB"
# Under AddressSanitizer (its quarantine holds freed memory) RSS says
# nothing about what the receiver holds: the bound is the plain build's.
if ldd "$ZUMA_RECVD" | grep -q libasan; then
        echo "(AddressSanitizer build: the RSS bound is not checked)"
elif [ "$hwm" -ge 100000 ]; then
        e2e_fail "zuma-recvd's peak RSS is $hwm kB"
fi
b_intact "s1 s2 s3 s4" s4 "$sha_s4"
# After all that, zuma-recvd still serves a real run.
seeded_write "$dev" 8 2 $((SEED + 4))
host_zumactl a snapshot vol s5 --no-attach >/dev/null || e2e_fail "no snapshot s5"
repl_replicate a vol b
same_replica s5
echo "case 4: $((SECONDS - t0)) s"

# --- 5. TLS refusals ---
e2e_step "5. TLS: a wrong pin, a sender not allowed"
t0=$SECONDS
sha_s5=$(repl_snapshot_sha b vol s5)
seeded_write "$dev" 12 2 $((SEED + 5))
host_zumactl a snapshot vol s6 --no-attach >/dev/null || e2e_fail "no snapshot s6"
repl_gdbus a --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
        --method org.zumastor.Send1.Manager.DefineTarget vol wrongpin "$(host_addr b)" \
        "{'pin': <'$(repl_fingerprint a)'>}" >/dev/null || e2e_fail "cannot define target wrongpin"
job=$(repl_replicate_start a vol wrongpin)
message=$(repl_wait_job a "$job" 30) && e2e_fail "a run to a wrongly pinned receiver succeeded"
echo "wrong pin: $message"
[[ $message == *"$(repl_fingerprint a)"* && $message == *"$(repl_fingerprint b)"* ]] ||
        e2e_fail "the wrong pin's error does not name both fingerprints: '$message'"
repl_gdbus a --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
        --method org.zumastor.Send1.Manager.ForgetTarget vol wrongpin "{}" >/dev/null ||
        e2e_fail "cannot forget target wrongpin"

stranger=$(openssl x509 -in "$T/stranger/host.crt" -noout -fingerprint -sha256 |
        sed 's/.*=//; s/://g' | tr 'A-F' 'a-f' | sed 's/^/sha256:/')
repl_gdbus b --dest org.zumastor.Recv1 --object-path /org/zumastor/Recv1/Manager \
        --method org.zumastor.Recv1.Manager.DefineSource vol \
        "{'listen': <'$(host_addr b):7890'>, 'allow': <@as ['$stranger']>}" >/dev/null ||
        e2e_fail "cannot redefine source vol on b"
job=$(repl_replicate_start a vol b)
message=$(repl_wait_job a "$job" 30) && e2e_fail "a sender the source does not allow got through"
echo "not allowed: $message"
[[ $message == *"not allowed"* && $message == *"$(repl_fingerprint a)"* ]] ||
        e2e_fail "no 'not allowed' naming the sender's certificate: '$message'"
b_intact "s1 s2 s3 s4 s5" s5 "$sha_s5"
echo "case 5: $((SECONDS - t0)) s"

# --- 6. the target's store fills during a stream ---
e2e_step "6. the target's store fills: the sender reads the receiver's reason"
t0=$SECONDS
small=$(host_volume a small 64M)
repl_replica b small 64M "$(repl_uuid a small)" 16M
repl_define_source b small a
repl_define_target a small b
seeded_write "$small" 0 4 $((SEED + 6))
host_zumactl a snapshot small f1 --no-attach >/dev/null || e2e_fail "no snapshot f1"
repl_replicate a small b
sha_f1=$(repl_snapshot_sha b small f1)
# 40 MiB rewritten: b must copy 40 MiB out of its origin for f1, into a
# 16 MiB store whose one snapshot is pinned by the receive.
seeded_write "$small" 0 40 $((SEED + 7))
host_zumactl a snapshot small f2 --no-attach >/dev/null || e2e_fail "no snapshot f2"
job=$(repl_replicate_start a small b)
message=$(repl_wait_job a "$job" 60) && e2e_fail "a stream into a full store succeeded"
echo "store full: $message"
[[ $message == *"receiver says"* && $message == *"full"* ]] ||
        e2e_fail "the sender did not report the receiver's reason: '$message'"
have=$(host_zumactl b --json list small | e2e_json '" ".join(sorted(d))')
[ "$have" = f1 ] || e2e_fail "b's small holds '$have' after the failed stream, not f1"
[ "$(repl_snapshot_sha b small f1)" = "$sha_f1" ] || e2e_fail "b's f1 changed"
echo "case 6: $((SECONDS - t0)) s"

repl_agent_stop a sendd
repl_agent_stop b recvd
echo "ALL OK (seed $SEED)"
