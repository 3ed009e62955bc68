# SPDX-License-Identifier: MIT
# shellcheck shell=bash disable=SC2034
# Shared helpers for scripts/*.sh.  Sourced, not run.
#
# Sets PH_ROOT (the repository root, found from this file's path, so the
# scripts work from any directory) and defines the core-only build helper
# used by build-matrix.sh and size.sh.

PH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PH_JOBS="${PH_JOBS:-2}"

# The cores the library is built for, as -mcpu names.
PH_ARM_CPUS=(cortex-m0 cortex-m3 cortex-m4 cortex-m7 cortex-m33 cortex-m55 cortex-a15)
# Optimisation levels of the matrix: -Os is what firmware ships, -O2 is the
# speed build.
PH_OPTS=(Os O2)

# ph_core_dir TARGET OPT: build directory of one matrix cell.  TARGET is an
# Arm -mcpu name or host-gcc / host-clang.  The -Os Arm builds live in
# build/arm-<cpu>, the rest get a suffix.
ph_core_dir() {
    local target="$1" opt="$2"
    case "$target" in
        host-*) echo "$PH_ROOT/build/core-${target}-${opt}" ;;
        *)      if [ "$opt" = Os ]; then echo "$PH_ROOT/build/arm-${target}"
                else echo "$PH_ROOT/build/arm-${target}-${opt}"; fi ;;
    esac
}

# ph_core_log TARGET OPT: log file of one matrix cell.
ph_core_log() {
    echo "$PH_ROOT/build/logs/core-$1-$2.log"
}

# ph_build_core TARGET OPT: configure and build only libpageheap.a for one
# matrix cell, writing all output to its log (ph_core_log).  Fails on an error
# and on any warning (the core has -Werror; this also catches CMake warnings).
ph_build_core() {
    local target="$1" opt="$2"
    local dir log
    dir="$(ph_core_dir "$target" "$opt")"
    log="$(ph_core_log "$target" "$opt")"
    mkdir -p "$(dirname "$log")"
    local -a args=(-S "$PH_ROOT" -B "$dir"
                   -DPH_BUILD_TESTS=OFF -DPH_BUILD_BENCH=OFF -DPH_BUILD_DEMO=OFF)
    case "$opt" in
        Os) args+=(-DCMAKE_BUILD_TYPE=MinSizeRel) ;;
        O2) args+=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG") ;;
        *)  echo "ph_build_core: unknown opt $opt" >&2; return 2 ;;
    esac
    case "$target" in
        host-gcc)   args+=(-DCMAKE_C_COMPILER=gcc) ;;
        host-clang) args+=(-DCMAKE_C_COMPILER=clang) ;;
        *)          args+=("-DCMAKE_TOOLCHAIN_FILE=$PH_ROOT/cmake/arm-none-eabi.cmake"
                           "-DPH_CPU=$target") ;;
    esac
    {
        echo "=== $target -$opt: $dir"
        cmake "${args[@]}" &&
        cmake --build "$dir" --target pageheap -j "$PH_JOBS"
    } >"$log" 2>&1 || return 1
    ! grep -qE 'warning:|CMake Warning' "$log"
}

# ph_size_tool TARGET: the size(1) that reads the target's objects.
ph_size_tool() {
    case "$1" in
        host-*) echo size ;;
        *)      echo arm-none-eabi-size ;;
    esac
}

# ph_board_var FILE NAME: the value of set(NAME value) in a board's
# board.cmake (each fact is one set() on one line, boards/README.md);
# empty if absent.
ph_board_var() {
    sed -n "s/^[[:space:]]*set([[:space:]]*$2[[:space:]]\{1,\}\"\{0,1\}\([^\")]*\)\"\{0,1\}[[:space:]]*).*/\1/p" "$1" | head -n 1
}
