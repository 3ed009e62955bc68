# SPDX-License-Identifier: MIT
# bench/bench_lib.sh: sourced by the run-*-bench.sh scripts.
# shellcheck shell=bash

# bench_setup PROGRAM ARGC BUILD_DIR TOOL...: checks the script's one
# argument (BUILD_DIR), sets BIN to the absolute path of
# BUILD_DIR/bench/PROGRAM, and checks that every TOOL is installed; exits 2
# (with a message) otherwise.
bench_setup() {
    local prog="$1" argc="$2" dir="${3:-}" tool
    shift 3
    if [ "$argc" -ne 1 ]; then
        echo "usage: $0 BUILD_DIR" >&2
        exit 2
    fi
    BIN=$dir/bench/$prog
    if [ ! -x "$BIN" ]; then
        echo "$0: $BIN not found; build the project first" >&2
        exit 2
    fi
    BIN=$(cd "$(dirname "$BIN")" && pwd)/$prog
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$0: $tool is needed" >&2; exit 2; }
    done
}

# bench_workdir NAME KEEP: sets WORK to a fresh directory /tmp/NAME.XXXXXX,
# removed when the script exits unless KEEP is 1 (then its path goes to
# stderr).
bench_workdir() {
    WORK=$(mktemp -d "/tmp/$1.XXXXXX")
    if [ "$2" = 1 ]; then
        echo "work directory: $WORK" >&2
    else
        trap 'rm -rf "$WORK"' EXIT
    fi
}
