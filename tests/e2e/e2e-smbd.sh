# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# e2e-smbd.sh: a private smbd for test-e2e-views.sh and the demo.  One
# read-only guest share, "share", with Samba's vfs_shadow_copy2 reading
# the snapshots of a directory from a view of @GMT-YYYY.MM.DD-HH.MM.SS
# links (zuma-mounterd's views): what Windows shows as "Previous
# Versions".  smbd listens on 127.0.0.1 at a free high port, with its
# configuration, state and logs under one directory; nothing of the
# machine's Samba is read or changed.  The share's directories must be
# traversable by the guest (nobody).
#
#   smbd_missing             why smbd cannot run here ("" when it can)
#   smbd_start DIR SHARE VIEW
#                            starts it (DIR/smb.conf, DIR/smb/...); sets
#                            SMBD_PID, SMB_PORT, SMB_CONF; waits until it
#                            answers (ZUMA_TEST_TIMEOUT); 1 if it does not
#   smb COMMAND              smbclient -c COMMAND on the share (SMB3, guest)
#   smbd_stop                stops it and every process it forked

SMBD_PID=
SMB_PORT=
SMB_CONF=

smbd_missing() {
        local tool modules

        for tool in smbd smbclient; do
                if ! command -v "$tool" >/dev/null; then
                        echo "$tool is not installed (Debian: samba smbclient samba-vfs-modules)"
                        return
                fi
        done
        modules=$(smbd -b | awk '/MODULESDIR:/ { print $2 }')
        [ -e "$modules/vfs/shadow_copy2.so" ] ||
                echo "Samba's shadow_copy2 module is not installed (Debian: samba-vfs-modules)"
}

smb() {
        timeout 30 smbclient -s "$SMB_CONF" -p "$SMB_PORT" -m SMB3 -N //127.0.0.1/share -c "$1"
}

smbd_start() {
        local dir=$1 share=$2 view=$3 deadline=$((SECONDS + ${ZUMA_TEST_TIMEOUT:-30}))

        SMB_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
        SMB_CONF=$dir/smb.conf
        mkdir -p "$dir/smb/lock" "$dir/smb/state" "$dir/smb/cache" "$dir/smb/private" \
                "$dir/smb/pid" "$dir/smb/log"
        cat >"$SMB_CONF" <<EOF
[global]
  server role = standalone server
  map to guest = Bad User
  guest account = nobody
  smb ports = $SMB_PORT
  interfaces = 127.0.0.1
  bind interfaces only = yes
  lock directory = $dir/smb/lock
  state directory = $dir/smb/state
  cache directory = $dir/smb/cache
  private dir = $dir/smb/private
  pid directory = $dir/smb/pid
  ncalrpc dir = $dir/smb/state/ncalrpc
  log file = $dir/smb/log/%m.log
  load printers = no
  printing = bsd
  printcap name = /dev/null
  disable spoolss = yes
  server min protocol = SMB2
[share]
  path = $share
  guest ok = yes
  read only = yes
  vfs objects = shadow_copy2
  shadow:mountpoint = $share
  shadow:snapdir = $view
  shadow:format = @GMT-%Y.%m.%d-%H.%M.%S
  shadow:localtime = no
EOF
        # A process group of its own (no --no-process-group): smbd signals
        # its group when it stops.
        smbd --foreground -s "$SMB_CONF" </dev/null >"$dir/smb/log/smbd.out" 2>&1 &
        SMBD_PID=$!
        until smb 'ls' >/dev/null 2>&1; do
                if ! kill -0 "$SMBD_PID" 2>/dev/null || [ $SECONDS -ge $deadline ]; then
                        echo "smbd did not answer on 127.0.0.1:$SMB_PORT: $(tail -n 5 "$dir/smb/log/smbd.out")" >&2
                        return 1
                fi
                sleep 0.05
        done
}

smbd_stop() {
        local children pid status=0 deadline=$((SECONDS + 10))

        [ -n "$SMBD_PID" ] || return 0
        children=$(pgrep -P "$SMBD_PID" || true)
        kill -TERM "$SMBD_PID" 2>/dev/null || true
        # 143: it ended on our SIGTERM; 124: it did not end in time.
        zuma_test_wait_exit "$SMBD_PID" 10 || status=$?
        [ $status != 124 ] || kill -KILL "$SMBD_PID" 2>/dev/null || true
        for pid in $children; do
                while kill -0 "$pid" 2>/dev/null && [ $SECONDS -lt $deadline ]; do sleep 0.05; done
                kill -KILL "$pid" 2>/dev/null || true
        done
        SMBD_PID=
}
