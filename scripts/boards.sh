#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/boards.sh: builds and tests every board under boards/ (each folder
# with a board.cmake): configure + build (build/board-<board>) + ctest of
# every QEMU_TEST firmware (hello, and the on-target suite, demo and
# benchmark folders where they exist), through scripts/board.sh.
#
# Prints one summary line per board (tests passed/failed, seconds), the
# failing tests' output, and the last line "boards.sh: N passed, M failed"
# (boards, and with no board named the four checks of
# scripts/check-boards.sh: "check:names", "check:sizes",
# "check:reconfigure", "check:arenas"); the exit status is non-zero when any failed.
#
#   scripts/boards.sh [board...]        (default: every board, then the checks)
#
# Environment: PH_JOBS (default 2), PH_BUILD_ROOT, PH_CMAKE_ARGS,
# PH_CTEST_ARGS (passed to scripts/board.sh); logs in
# build/logs/board-<board>.log.
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT" || exit 1

if [ $# -gt 0 ]; then
    boards=("$@")
else
    boards=()
    for f in boards/*/board.cmake; do
        [ -f "${f%board.cmake}CMakeLists.txt" ] || continue   # boards/common: no board
        b="${f#boards/}"
        boards+=("${b%/board.cmake}")
    done
fi

for tool in cmake arm-none-eabi-gcc qemu-system-arm; do
    command -v "$tool" >/dev/null 2>&1 ||
        { echo "boards.sh: $tool not found (scripts/install-deps.sh installs it)"; exit 1; }
done

logdir="$PH_ROOT/build/logs"
mkdir -p "$logdir"
passed=0 failed=0
summary=()
t_all=$SECONDS

# record NAME STATUS DETAIL T0 LOG TAIL: one summary row (timed from T0),
# counted; a failure also shows the last TAIL lines of its log.
record() {
    local line
    line="$(printf '%-17s %-6s %s (%d s)' "$1" "$2" "$3" "$((SECONDS - $4))")"
    summary+=("$line")
    echo "$line"
    if [ "$2" = ok ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "--- boards.sh: $1: last $6 lines of $5"
        tail -n "$6" "$5"
    fi
}
for b in "${boards[@]}"; do
    log="$logdir/board-$b.log"
    t0=$SECONDS
    echo "=== boards.sh: $b"
    if bash "$PH_ROOT/scripts/board.sh" "$b" test >"$log" 2>&1; then
        status=ok
    else
        status=FAILED
    fi
    # ctest's own count, e.g. "100% tests passed, 0 tests failed out of 3"
    counts="$(grep -E 'tests passed, [0-9]+ tests? failed out of' "$log" | tail -n 1)"
    [ -n "$counts" ] || counts="no ctest summary (build or configure failed)"
    record "$b" "$status" "$counts" "$t0" "$log" 60
done

# With no board named, the checks of the board machinery follow
# (scripts/check-boards.sh: no board named outside its folder, the sizes
# each board gets from its RAM, PH_CMAKE_ARGS on an existing build folder,
# the suite on small arenas), one row each.
if [ $# -eq 0 ]; then
    for check in names sizes reconfigure arenas; do
        log="$logdir/check-boards-$check.log"
        t0=$SECONDS
        echo "=== boards.sh: check-boards.sh $check"
        if bash "$PH_ROOT/scripts/check-boards.sh" "$check" >"$log" 2>&1; then
            status=ok
        else
            status=FAILED
        fi
        record "check:$check" "$status" \
            "$(grep -E '^check-boards: [a-z]+: (PASS|FAIL)' "$log" | tail -n 1 | sed 's/^check-boards: [a-z]*: //')" \
            "$t0" "$log" 30
    done
fi

echo
echo "=== boards.sh: summary ($((SECONDS - t_all)) s)"
for line in "${summary[@]}"; do
    echo "  $line"
done
echo "boards.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
