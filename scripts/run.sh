#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The main command of the README: installs what is missing, builds the
# default board's demo firmware (demo/qemu, board mps2-an385, a Cortex-M3)
# and runs it under QEMU, its output in this terminal: a firmware-like
# workload on newlib's malloc (= pageheap), a map of the heap per RAM
# section after every phase, the statistics, what the scavenger powered
# down, and what newlib's own allocators would have kept powered.  Then
# scripts/plot-demo.py draws two pictures of the run and their paths are
# printed: build/demo/<board>-ram.svg (RAM kept powered over the simulated
# time, pageheap against newlib's dlmalloc and nano) and
# build/demo/<board>-map.svg (the per-granule maps at the peak and at the
# end).  The demo's lines that begin with '@' are for the plots: they are
# kept, with the rest, in build/demo/<board>-output.txt, not shown.
# Without matplotlib (python3-matplotlib) it says so and draws nothing.
#
#   scripts/run.sh            the demo on mps2-an385
#   scripts/run.sh <board>    the same demo on another QEMU board
#                             (boards/<board>, e.g. netduinoplus2, virt)
#   scripts/run.sh --docs     the demo on mps2-an385, and writes the README's
#                             picture docs/demo-ram.png and the plot test's
#                             fixture demo/qemu/sample-output.txt from it
#   scripts/run.sh --host [args...]
#                             the earlier host demo of the page allocator
#                             (build/host/demo/page_demo, args passed on)
#
# Environment: PH_SKIP_DEPS=1 skips scripts/install-deps.sh; PH_JOBS
# (parallel build jobs, default 2); PH_BUILD_ROOT (default build/: the board
# builds in build/board-<board>, as scripts/board.sh; the demo's output and
# plots go to build/demo/).  Exits with the demo's status (0: it ended with
# ph_check OK), or 1 when the plots fail for another reason than a missing
# matplotlib.
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

docs=0
if [ "${1:-}" = "--docs" ]; then
    docs=1
    shift
    [ $# -eq 0 ] || { echo "run.sh: --docs runs the default board only" >&2; exit 2; }
fi
board="${1:-mps2-an385}"
case "$board" in
    -h|--help) sed -n '2,32p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
out="${PH_BUILD_ROOT:-$PH_ROOT/build}/demo"
mkdir -p "$out"
capture="$out/$board-output.txt"
echo "run.sh: $qemu -kernel $dir/demo/qemu/demo.elf (output kept in $capture)" >&2
# The whole output to the file, the lines for people to the terminal.
set +e
# shellcheck disable=SC2086
$qemu -kernel "$dir/demo/qemu/demo.elf" | tee "$capture" | grep --line-buffered -v '^@'
status=${PIPESTATUS[0]}
set -e

plot=(python3 "$PH_ROOT/scripts/plot-demo.py" "$capture" --out-dir "$out")
[ "$docs" -eq 0 ] || plot+=(--png "$PH_ROOT/docs/demo-ram.png")
if ! command -v python3 >/dev/null 2>&1; then
    echo "run.sh: no plots: python3 is missing (scripts/install-deps.sh installs it)" >&2
    exit "$status"
fi
rc=0
paths="$("${plot[@]}" 2>"$out/plot.log")" || rc=$?
if [ "$rc" -eq 3 ]; then
    echo "run.sh: no plots: matplotlib is missing (Debian's python3-matplotlib;" \
        "scripts/install-deps.sh installs it); the text above is the whole demo" >&2
    exit "$status"
elif [ "$rc" -ne 0 ]; then
    cat "$out/plot.log" >&2
    echo "run.sh: the plots failed: ${plot[*]}" >&2
    exit 1
fi
while IFS= read -r p; do
    echo "run.sh: picture of the run: $p" >&2
done <<<"$paths"
if [ "$docs" -eq 1 ]; then
    fixture="$PH_ROOT/demo/qemu/sample-output.txt"
    {
        echo "# SPDX-License-Identifier: MIT"
        echo "# demo/qemu/demo.elf's output on $board, captured by scripts/run.sh --docs: the"
        echo "# fixture of scripts/plot-demo.py --check (scripts/test.sh)"
        cat "$capture"
    } >"$fixture"
    echo "run.sh: wrote $PH_ROOT/docs/demo-ram.png and $fixture" >&2
fi
exit "$status"
