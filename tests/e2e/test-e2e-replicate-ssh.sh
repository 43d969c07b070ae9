#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
#
# test-e2e-replicate-ssh.sh: replication over the ssh transport, through a
# real sshd (issue 14: "ssh ... tested"; "ssh with a bad key fails with a
# clear message").
#
#   host b runs sshd on a high port with its own configuration, host key
#   and authorized_keys, all in the test's directory (nothing of the
#   machine's /etc/ssh or ~/.ssh is read or changed), in a private mount
#   namespace where /run is a tmpfs (sshd wants /run/sshd); zuma-sendd on a
#   runs with --ssh-config, the test's ssh_config (known hosts: b's key
#   alone, StrictHostKeyChecking yes).  The targets' relay command is the
#   build's zuma-recvd --relay with b's run directory.
#
#   1. a full run, then an incremental one, over ssh: the replica's
#      snapshots are identical to the source's (sha256 of the devices) and
#      Verify says the digests are the same;
#   2. a target whose key sshd does not accept: the run fails, and its
#      error carries ssh's own words ("Permission denied");
#   3. a target whose host key is unknown to ssh: the run fails with
#      "Host key verification failed".
#
# Needs root, loop devices, dbus-daemon, ip, nsenter, unshare, openssl,
# ssh, ssh-keygen and sshd (openssh-server); exits 77 (skip) without them.
set -euo pipefail

# shellcheck source=e2e-lib.sh
. "$(dirname "$(realpath "$0")")/e2e-lib.sh"
# shellcheck source=e2e-hosts.sh
. "$(dirname "$(realpath "$0")")/e2e-hosts.sh"

SSHD=$(command -v sshd || echo /usr/sbin/sshd)
[ -x "$SSHD" ] || zuma_test_skip "sshd is not installed (openssh-server)"
for tool in ssh ssh-keygen unshare; do
        command -v "$tool" >/dev/null || zuma_test_skip "$tool is not installed"
done
# shellcheck source=e2e-replication.sh
. "$(dirname "$(realpath "$0")")/e2e-replication.sh"

hosts_init
trap repl_exit EXIT
T=$ZUMA_TEST_DIR
PORT=2222
VOL=svol

e2e_step "two hosts; sshd on b with the test's keys"
hosts_setup 2
host_start a
host_start b
B=$(host_addr b)
S=$T/ssh
mkdir -p "$S"
chmod 700 "$S"
for key in host_key id_ok id_bad; do
        ssh-keygen -q -t ed25519 -N "" -C "test-$key" -f "$S/$key" || e2e_fail "ssh-keygen $key failed"
done
cp "$S/id_ok.pub" "$S/authorized_keys"
cat >"$S/sshd_config" <<EOF
ListenAddress $B
Port $PORT
HostKey $S/host_key
AuthorizedKeysFile $S/authorized_keys
PidFile $S/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
LogLevel VERBOSE
EOF
echo "[$B]:$PORT $(cut -d' ' -f1,2 "$S/host_key.pub")" >"$S/known_hosts"
: >"$S/known_hosts_empty"
# b-unknown is b under a name whose known hosts are empty.
cat >"$S/ssh_config" <<EOF
Host b-unknown
        HostName $B
        UserKnownHostsFile $S/known_hosts_empty
Host *
        UserKnownHostsFile $S/known_hosts
        GlobalKnownHostsFile /dev/null
        StrictHostKeyChecking yes
        UpdateHostKeys no
EOF
# sshd wants /run/sshd (its privilege separation directory): a tmpfs on
# /run in a mount namespace of its own gives it one, and the machine's /run
# stays as it is.
sshd_run() {
        # shellcheck disable=SC2016 # expanded by the inner shell
        unshare -m --propagation private sh -c \
                'mount -t tmpfs -o mode=755 tmpfs /run && mkdir -m 755 /run/sshd && exec "$@"' \
                sh "$SSHD" -f "$S/sshd_config" "$@"
}
sshd_run -t || e2e_fail "sshd refuses the test's configuration"
host_exec b bash -c "$(declare -f sshd_run); SSHD='$SSHD' S='$S' sshd_run -D -e" >>"$S/sshd.log" 2>&1 &
deadline=$((SECONDS + ZUMA_TEST_TIMEOUT))
until host_exec a bash -c "exec 3<>/dev/tcp/$B/$PORT" 2>/dev/null; do
        [ $SECONDS -lt $deadline ] || e2e_fail "sshd on b does not answer: $(cat "$S/sshd.log")"
        sleep 0.05
done

e2e_step "the agents: zuma-recvd on b, zuma-sendd on a with the test's ssh_config"
repl_certs a b
host_volume a "$VOL" 64M >/dev/null
repl_replica b "$VOL" 64M "$(repl_uuid a "$VOL")"
repl_agent_start b recvd
repl_agent_start a sendd --ssh-config "$S/ssh_config"
repl_define_source b "$VOL" a
relay="$ZUMA_RECVD --relay --run-dir $(host_dir b)/recvd-run"

# define_ssh_target NAME ADDRESS KEY: a target of VOL on a, over ssh.
define_ssh_target() {
        repl_gdbus a --dest org.zumastor.Send1 --object-path /org/zumastor/Send1/Manager \
                --method org.zumastor.Send1.Manager.DefineTarget "$VOL" "$1" "$2" \
                "{'ssh_key': <'$3'>, 'relay_command': <'$relay'>}" >/dev/null ||
                e2e_fail "cannot define the ssh target $1"
}
define_ssh_target b "ssh://root@$B:$PORT" "$S/id_ok"

# write_random MIB_OFFSET MIB: random bytes into a's origin.
origin=$(host_zumactl a --json status "$VOL" | e2e_json 'd["device"]')
write_random() {
        dd if=/dev/urandom of="$origin" bs=1M seek="$1" count="$2" oflag=direct status=none ||
                e2e_fail "cannot write a's origin"
}

e2e_step "full, then incremental, over ssh"
write_random 0 8
write_random 40 4
host_zumactl a snapshot "$VOL" s1 --no-attach >/dev/null || e2e_fail "no snapshot s1"
repl_replicate a "$VOL" b s1
write_random 2 1
write_random 50 2
host_zumactl a snapshot "$VOL" s2 --no-attach >/dev/null || e2e_fail "no snapshot s2"
repl_replicate a "$VOL" b s2
grep -q "sending s2 over s1" "$(host_dir a)/sendd.log" || e2e_fail "s2 was not sent over s1"
for snap in s1 s2; do
        want=$(repl_snapshot_sha a "$VOL" "$snap")
        got=$(repl_snapshot_sha b "$VOL" "$snap")
        [ "$want" = "$got" ] || e2e_fail "b's $snap differs from a's ($got, not $want)"
done
answer=$(repl_verify a "$VOL" b s2)
[[ $answer == *"'same': <true>"* ]] || e2e_fail "verify over ssh: $answer"
echo "replica identical after full and incremental runs; verify: same"

e2e_step "a key sshd does not accept"
define_ssh_target badkey "ssh://root@$B:$PORT" "$S/id_bad"
job=$(repl_replicate_start a "$VOL" badkey s2) || e2e_fail "Replicate to badkey refused"
if message=$(repl_wait_job a "$job"); then
        e2e_fail "the run with a refused key succeeded"
fi
[[ $message == *"Permission denied"* ]] || e2e_fail "refused key: the error says '$message'"
echo "refused key: $message"

e2e_step "an unknown host key"
define_ssh_target unknown "ssh://root@b-unknown:$PORT" "$S/id_ok"
job=$(repl_replicate_start a "$VOL" unknown s2) || e2e_fail "Replicate to unknown refused"
if message=$(repl_wait_job a "$job"); then
        e2e_fail "the run to an unknown host key succeeded"
fi
[[ $message == *"Host key verification failed"* ]] ||
        e2e_fail "unknown host key: the error says '$message'"
echo "unknown host key: $message"
echo "PASS"
