# SPDX-License-Identifier: GPL-2.0-only
# shellcheck shell=bash
#
# bench-lib.sh: what the shell benchmarks (frontend-bench.sh,
# schedule-bench.sh) share: progress lines on stderr and the JSON line of
# each metric on stdout, in bench-util.c's format (bench/README.md).
# Source it after setting BENCH_NAME (the prefix of error messages);
# json_field needs python3.

bench_start=$SECONDS

progress() {
        printf '[%7ds] %s\n' $((SECONDS - bench_start)) "$*" >&2
}

die() {
        echo "$BENCH_NAME: $*" >&2
        exit 1
}

json_string() {
        local s=$1

        s=${s//\\/\\\\}
        s=${s//\"/\\\"}
        printf '"%s"' "$s"
}

json_number() {
        case "$1" in
        "" | nan | inf | -inf | null) printf 'null' ;;
        *) printf '%.6g' "$1" ;;
        esac
}

# emit METRIC VALUE UNIT BASELINE NOTE: the line bench-util.c's emit() prints.
emit() {
        printf '{"metric": %s, "value": %s, "unit": %s, "baseline": %s, "note": %s}\n' \
                "$(json_string "$1")" "$(json_number "$2")" "$(json_string "$3")" \
                "$(json_number "$4")" "$(json_string "$5")"
}

# require_positive NAME...: exit 2 unless each variable NAME holds a
# positive integer (the knobs from the environment).
require_positive() {
        local knob

        for knob in "$@"; do
                if ! [[ ${!knob} =~ ^[1-9][0-9]*$ ]]; then
                        echo "$BENCH_NAME: $knob=${!knob}: not a positive integer" >&2
                        exit 2
                fi
        done
}

# start_server: the harness's private bus and zuma-snapshotd on it, and
# udevd with the build tree's rules when it can run (udev=1, else 0).
# shellcheck disable=SC2034 # udev is the sourcing script's
start_server() {
        zuma_test_start_bus
        zuma_test_start_daemon
        udev=0
        if zuma_test_start_udev; then
                udev=1
        fi
}

# zumactl ARGS...: the build's zumactl ($ZUMACTL), never waiting forever.
zumactl() {
        timeout 300 "$ZUMACTL" --no-progress "$@"
}

# ratio A B: A / B, "nan" when B is 0 or A is not a number.
ratio() {
        awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "nan") print "nan"; else print a / b }'
}

# json_field PATH...: the values at each PATH (keys and list indices joined
# by dots) of the JSON document on stdin, on one line.
json_field() {
        python3 -c '
import json, sys
document = json.load(sys.stdin)
values = []
for path in sys.argv[1:]:
        value = document
        for key in path.split("."):
                value = value[int(key)] if isinstance(value, list) else value[key]
        values.append("null" if value is None else str(value))
print(" ".join(values))
' "$@"
}
