# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# What the demos (build-aux/demo.sh, build-aux/demo-replication.sh) share:
# headings, and commands printed as an administrator would type them
# before they run.

if [ -t 1 ]; then
        BOLD=$(printf '\033[1m') PLAIN=$(printf '\033[0m')
else
        BOLD="" PLAIN=""
fi

say() {
        printf '\n%s== %s%s\n' "$BOLD" "$*" "$PLAIN"
}

die() {
        echo "demo: $*" >&2
        exit 1
}

# The command as an administrator would type it, then the command.
show() {
        local arg line='$'

        for arg in "$@"; do
                if [[ $arg =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
                        line+=" $arg"
                else
                        line+=" $(printf '%q' "$arg")"
                fi
        done
        echo "$line"
}

# A command line printed as it is, for pipes and redirections.
show_line() {
        echo "\$ $*"
}

run() {
        show "$@"
        "$@"
}

# Commands whose failure is the point (a file that is gone, files that differ).
run_may_fail() {
        show "$@"
        "$@" || true
}

