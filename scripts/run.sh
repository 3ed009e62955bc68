#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main command of the README: installs what is missing, builds the
# default board's demo firmware (demo/qemu, board mps2-an385, a Cortex-M3)
# and runs it under QEMU, its output in this terminal: a firmware-like
# workload on newlib's malloc (= pageheap), a map of the heap per RAM
# section after every phase, the statistics, what the scavenger powered
# down, and what newlib's own allocators would have kept powered.
#
#   scripts/run.sh            the demo on mps2-an385
#   scripts/run.sh <board>    the same demo on another QEMU board
#                             (boards/<board>, e.g. netduinoplus2, virt)
#   scripts/run.sh --host [args...]
#                             the earlier host demo of the page allocator
#                             (build/host/demo/page_demo, args passed on)
#
# Environment: PH_SKIP_DEPS=1 skips scripts/install-deps.sh; PH_JOBS
# (parallel build jobs, default 2); PH_BUILD_ROOT (default build/: the board
# builds in build/board-<board>, as scripts/board.sh).  Exits with the
# demo's status (0: it ended with ph_check OK).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

deps() {
    if [ "${PH_SKIP_DEPS:-0}" != 1 ]; then
        bash "$PH_ROOT/scripts/install-deps.sh" >&2
    fi
}

if [ "${1:-}" = "--host" ]; then
    shift
    deps
    cmake -S "$PH_ROOT" -B "$PH_ROOT/build/host" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
    cmake --build "$PH_ROOT/build/host" --target page_demo -j "$PH_JOBS" >&2
    exec "$PH_ROOT/build/host/demo/page_demo" "$@"
fi

board="${1:-mps2-an385}"
case "$board" in
    -h|--help) sed -n '2,23p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac
[ -f "$PH_ROOT/boards/$board/board.cmake" ] || {
    echo "run.sh: no board '$board' (boards/*/board.cmake)" >&2
    exit 2
}
deps
dir="${PH_BUILD_ROOT:-$PH_ROOT/build}/board-$board"

# scripts/board.sh configures with the board's CPU and float ABI; only the
# demo firmware is built here (its test-suite and benchmark siblings are
# scripts/board.sh's and bench/target's business).
if [ ! -f "$dir/CMakeCache.txt" ]; then
    bash "$PH_ROOT/scripts/board.sh" "$board" configure >&2
fi
echo "run.sh: building demo/qemu for $board in $dir" >&2
cmake --build "$dir" --target demo -j "$PH_JOBS" >&2

qemu="$(bash "$PH_ROOT/scripts/board.sh" "$board" qemu-command)"
qemu="${qemu% -kernel*}"
echo "run.sh: $qemu -kernel $dir/demo/qemu/demo.elf" >&2
# shellcheck disable=SC2086
exec $qemu -kernel "$dir/demo/qemu/demo.elf"
