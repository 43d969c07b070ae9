# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # variables shared with repl-bench.sh
#
# repl-zuma.sh: the Zumastor side of repl-bench.sh, sourced by it when the
# agents are built: its hooks (zuma_replicate_prepare, _full,
# _incremental) and the measurements only Zumastor has (the zstd baseline
# of the changed chunks, a cut run resumed).  The hosts run zuma-sendd
# (a) and zuma-recvd (b) as tests/e2e/e2e-replication.sh starts them,
# each with its own TLS certificate, the receiver's pinned by the target.
#
# A run's time is the sender's own (the seconds of the target's Finished
# signal: from the Replicate call to the end of the run's job, the
# receiver's commit included); zuma_transfer prints the time seen from
# outside (a gdbus process and a signal more) in the note.
#
#   zuma_changed_baseline FROM TO   zuma_changed_count, zuma_changed_zstd:
#                                   chunks of a's volume that differ between
#                                   the snapshots, and zstd -3 of them
#   zuma_resume_bench FULL_SNAP     host c gets FULL_SNAP whole, rate-limited;
#                                   zuma-sendd is killed (-9) halfway and the
#                                   run resumed; emits repl_resume_resent_bytes

# shellcheck source-path=SCRIPTDIR source=../tests/e2e/e2e-replication.sh
. "$ZUMA_SOURCE_DIR/tests/e2e/e2e-replication.sh"

zuma_replicate_prepare() {
        local src=$1 vol=$2 dst=$3 uuid origin store

        trap repl_exit EXIT
        repl_certs "$src" "$dst"
        uuid=$(repl_uuid "$src" "$vol") || die "no UUID for $vol"
        origin=$(host_loop_device "$dst" "$vol-origin" "${volume_mib}M")
        store=$(host_loop_device "$dst" "$vol-store" "$((volume_mib * 2))M")
        host_zumactl "$dst" define volume "$vol" "$origin" "$store" --initialize \
                --uuid "$uuid" >/dev/null || die "host $dst: cannot define the replica of $vol"
        repl_agent_start "$dst" recvd
        repl_agent_start "$src" sendd
        repl_define_source "$dst" "$vol" "$src"
        repl_define_target "$src" "$vol" "$dst"
}

# zuma_run SRC VOL SNAP DST: one run; zuma_run_s and zuma_run_bytes (the
# sender's figures), zuma_run_outside_s (the Replicate call to the signal,
# seen from here).
zuma_run() {
        local figures

        figures=$(repl_replicate_timed "$1" "$2" "$4" "$3") || return 1
        read -r zuma_run_s zuma_run_bytes zuma_run_outside_s <<<"$figures"
        [ "$(repl_target_prop "$1" "$(repl_uuid "$1" "$2")" "$4" LastSnapshot)" = "$3" ] ||
                die "the target $4 does not hold $3 after the run"
}

zuma_replicate_full() {
        zuma_run "$1" "$2" "$3" "$4"
}

# The sender picks the newest snapshot both sides hold as the base: FROM,
# sent by the run before.
zuma_replicate_incremental() {
        zuma_run "$1" "$2" "$4" "$5"
}

zuma_changed_baseline() {
        local from=$1 to=$2 chunk dev_from dev_to figures

        chunk=$(host_zumactl a --json status "$volume" | e2e_json 'd["chunk_size"]') ||
                die "no chunk size for $volume"
        dev_from=$(host_zumactl a attach "$volume" "$from") || die "cannot attach $from"
        dev_to=$(host_zumactl a attach "$volume" "$to") || die "cannot attach $to"
        figures=$("$ZUMA_REPL_ZSTD_CHANGED" "$dev_from" "$dev_to" "$chunk") ||
                die "repl-zstd-changed $from $to failed"
        host_zumactl a detach "$volume" "$from" >/dev/null || true
        host_zumactl a detach "$volume" "$to" >/dev/null || true
        read -r zuma_changed_count zuma_changed_zstd <<<"$figures"
        zuma_chunk_size=$chunk
}

zuma_resume_bench() {
        local snap=$1 uuid origin store full_bytes full_s rate sent tx0 rx0 total
        local deadline cut_at resumed_s

        full_bytes=${measured[zuma_repl_bytes_full]}
        full_s=${measured[zuma_repl_s_full]}
        host_add c 10.77.0.3
        host_start c
        repl_certs c
        uuid=$(repl_uuid a "$volume")
        origin=$(host_loop_device c "$volume-origin" "${volume_mib}M")
        store=$(host_loop_device c "$volume-store" "$((volume_mib * 2))M")
        host_zumactl c define volume "$volume" "$origin" "$store" --initialize \
                --uuid "$uuid" >/dev/null || die "host c: cannot define the replica"
        repl_agent_start c recvd
        repl_define_source c "$volume" a
        # Slow enough that the cut lands halfway whatever the machine: the
        # uncut run's bytes over twice its time, and at least 4 s.
        rate=$(awk -v b="$full_bytes" -v s="$full_s" 'BEGIN {
                d = 2 * s; if (d < 4) d = 4; printf "%d", b / d }')
        repl_define_target a "$volume" c "'rate_limit': <@t $rate>"
        progress "resume: $snap to host c at $rate bytes/s, zuma-sendd killed halfway"
        tx0=$(host_tx_bytes a c)
        rx0=$(host_rx_bytes a c)
        repl_replicate_start a "$volume" c "$snap" >/dev/null || die "Replicate to c refused"
        deadline=$((SECONDS + 300))
        until sent=$(repl_target_prop a "$uuid" c BytesSent) && [ "$sent" -ge $((full_bytes / 2)) ]; do
                [ $SECONDS -lt $deadline ] || die "the run to c never got halfway"
                sleep 0.05
        done
        repl_agent_kill a sendd
        cut_at=$(($(host_tx_bytes a c) - tx0 + $(host_rx_bytes a c) - rx0))
        progress "resume: killed at $sent bytes sent ($cut_at on the wire); restarting zuma-sendd"
        repl_agent_start a sendd
        zuma_run a "$volume" "$snap" c || die "the resumed run to c failed"
        resumed_s=$zuma_run_s
        total=$(($(host_tx_bytes a c) - tx0 + $(host_rx_bytes a c) - rx0))
        grep -q "sending $snap (full) (resumed)" "$(host_dir a)/sendd.log" ||
                progress "resume: the sender's log does not say the run resumed"
        repl_verify a "$volume" c "$snap" | grep -q "'same': <true>" ||
                die "c's $snap does not verify after the resume"
        emit repl_resume_resent_bytes $((total - full_bytes)) bytes "$full_bytes" \
                "full send of $snap to a third host at $rate bytes/s, zuma-sendd killed (-9) after $sent bytes sent ($cut_at on the wire), restarted, run again (resumed, $resumed_s s): wire bytes of both runs ($total, a-c veth, both directions) minus the uncut full run's to b (the baseline); verified by digest; $fs_note"
}
