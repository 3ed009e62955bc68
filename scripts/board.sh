#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/board.sh: configure, build, test or run one board's firmware.
#
#   scripts/board.sh <board> [configure|build|test|run <firmware>|qemu-command]
#
#   configure   cmake -S . -B build/board-<board> with the Arm toolchain,
#               PH_CPU and PH_FLOAT_ABI read from boards/<board>/board.cmake
#               (the board folder is the single source of truth)
#   build       configure (if needed) + build every firmware of the board
#               (hello, and target-tests/, demo/qemu/, bench/target/ where
#               they exist)
#   test        build + ctest (every QEMU_TEST firmware under QEMU)   [default]
#   run <fw>    build + run <fw>.elf under QEMU in this terminal
#   qemu-command  print the board's QEMU command line (without -kernel)
#
# Environment: PH_JOBS (parallel jobs, default 2), PH_BUILD_ROOT (default
# build/), PH_CMAKE_ARGS (extra cmake arguments, e.g. -DPH_QEMU_ICOUNT=ON:
# when set, an existing build folder is configured again with them, and
# they stay in its cache), PH_CTEST_ARGS (extra ctest arguments, e.g. -R
# hello).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

usage() {
    echo "usage: scripts/board.sh <board> [configure|build|test|run <firmware>|qemu-command]" >&2
    echo "boards: $(cd boards && for d in */board.cmake; do printf '%s ' "${d%/board.cmake}"; done)" >&2
    exit 2
}

[ $# -ge 1 ] || usage
board="$1"
action="${2:-test}"
bfile="$PH_ROOT/boards/$board/board.cmake"
[ -f "$bfile" ] || { echo "board.sh: no boards/$board/board.cmake" >&2; usage; }

# board_var NAME: the value of set(NAME value) in the board's board.cmake.
board_var() {
    sed -n "s/^[[:space:]]*set([[:space:]]*$1[[:space:]]\{1,\}\"\{0,1\}\([^\")]*\)\"\{0,1\}[[:space:]]*).*/\1/p" "$bfile" | head -n 1
}

cpu="$(board_var PH_BOARD_CPU)"
float_abi="$(board_var PH_BOARD_FLOAT_ABI)"
if [ -z "$cpu" ] || [ -z "$float_abi" ]; then
    echo "board.sh: boards/$board/board.cmake lacks PH_BOARD_CPU or PH_BOARD_FLOAT_ABI" >&2
    exit 2
fi
dir="${PH_BUILD_ROOT:-$PH_ROOT/build}/board-$board"

configure() {
    # shellcheck disable=SC2086
    cmake -S "$PH_ROOT" -B "$dir" \
        "-DCMAKE_TOOLCHAIN_FILE=$PH_ROOT/cmake/arm-none-eabi.cmake" \
        "-DPH_CPU=$cpu" "-DPH_FLOAT_ABI=$float_abi" "-DPH_BOARD=$board" \
        -DPH_BUILD_TESTS=OFF -DPH_BUILD_BENCH=OFF -DPH_BUILD_DEMO=OFF \
        ${PH_CMAKE_ARGS:-}
}

# An existing build folder is configured again when PH_CMAKE_ARGS is set
# (cmake takes -D on an existing cache), so the arguments are never ignored;
# the values stay in the cache for later runs without PH_CMAKE_ARGS.
build() {
    if [ ! -f "$dir/CMakeCache.txt" ]; then
        configure
    elif [ -n "${PH_CMAKE_ARGS:-}" ]; then
        echo "board.sh: $dir exists: configuring it again with PH_CMAKE_ARGS=$PH_CMAKE_ARGS"
        configure
    fi
    cmake --build "$dir" -j "$PH_JOBS"
}

case "$action" in
    configure) configure ;;
    build) build ;;
    test)
        build
        # shellcheck disable=SC2086
        ctest --test-dir "$dir" --output-on-failure -j "$PH_JOBS" --no-tests=error ${PH_CTEST_ARGS:-}
        ;;
    run)
        [ $# -ge 3 ] || usage
        build
        cmake --build "$dir" --target "$3-run"
        ;;
    qemu-command)
        [ -f "$dir/CMakeCache.txt" ] || configure >/dev/null
        machine="$(board_var PH_BOARD_QEMU_MACHINE)"
        qargs="$(board_var PH_BOARD_QEMU_ARGS | tr ';' ' ')"
        echo "qemu-system-arm -M $machine -nographic -monitor none -semihosting-config enable=on,target=native${qargs:+ $qargs} -kernel <firmware>.elf"
        ;;
    *) usage ;;
esac
