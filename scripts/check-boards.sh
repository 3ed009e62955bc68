#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/check-boards.sh: checks of the board machinery itself (the rule
# "a board is one folder plus one linker map"), run by scripts/boards.sh
# after the boards.
#
#   scripts/check-boards.sh names [root]   no board named outside its folder
#   scripts/check-boards.sh reconfigure    board.sh applies PH_CMAKE_ARGS to
#                                          an existing build folder
#   scripts/check-boards.sh sizes          each board's sizes from its RAM
#   scripts/check-boards.sh arenas         the suite passes on small arenas
#   scripts/check-boards.sh [all]          the four
#
# names: a board's facts (RAM, sizes, QEMU command, ...) live in
# boards/<board>/ and linker/<board>.ld, so nothing else may name a board:
# every board folder's name is looked for in every other file of the tree
# (root, default the repository), comments, Markdown and docs/ (the
# documentation's images) excluded.  A few
# files name a board as a choice, not as a fact (the default board of
# scripts/run.sh, ...): they are listed below with the reason.
#
# sizes: what boards/common/sizing.cmake derives from each board's linker
# script (boards/common/print-sizing.cmake, no configure): the boards that
# had their sizes keyed by name in target-tests/, demo/qemu/ and
# bench/target/ before must get the same sizes from their RAM, the others
# full sizes (the small-object trace's 256 KiB heap) (or, for lm3s6965evb, the small-board ones).
#
# reconfigure: configures a board (hello only) in a scratch build root,
# then runs board.sh build with PH_CMAKE_ARGS=-DPH_QEMU_TIMEOUT=77: the
# cache must hold 77 and board.sh must say it configured again.
#
# arenas: builds netduinoplus2's on-target suite with SUITE_ARENA_BYTES =
# 16, 24, 32 and 40 KiB (one build folder, configured again for each) and
# runs it under QEMU: each must print "suite: PASS" (a group whose fixture
# truly cannot fit is skipped with its reason, which passes).
#
# Prints "check-boards: <check>: PASS|FAIL ..." per check; exit status 0
# iff every check passed.  Environment: PH_JOBS, PH_BUILD_ROOT (scratch
# builds go to <root>/check-boards/).
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT" || exit 1

scratch="${PH_BUILD_ROOT:-$PH_ROOT/build}/check-boards"

# file: why it may name a board (a choice of board, not a fact about one)
allowed=(
    "scripts/run.sh: its default board"
    "bench/target/run-target-bench.sh: the boards benchmarked by default"
    "bench/target/run-target-profile.sh: the board profiled by default (the reference board)"
    "port/newlib/test-newlib.sh: port/newlib's own test runs on mps2-an385"
    "scripts/check-boards.sh: these checks run on named boards"
    "scripts/check-os-speed.sh: the -Os / -O2 comparison runs on the reference board"
    "CMakePresets.json: generated from boards/*/board.cmake by scripts/gen-presets.sh"
    "consumer-tests/firmware/CMakeLists.txt: an outside project's firmware for one QEMU board, with its own memory map"
    "consumer-tests/firmware/mps2-an385.ld: that firmware's own memory map"
    "scripts/test-libc-ports.sh: port/picolibc's test runs on the default board and a Cortex-M33 one"
    "target-tests/cxx/CMakeLists.txt: the C++ firmware's default board (PH_CXX_BOARD), a choice"
    "consumer-tests/picolibc/CMakeLists.txt: an outside project's picolibc firmware for one QEMU board, with its own memory map"
    "demo/qemu/sample-output.txt: a captured run of the demo on run.sh's default board, the plot test's fixture"
)

is_allowed() {
    local a
    for a in "${allowed[@]}"; do
        [ "${a%%:*}" = "$1" ] && return 0
    done
    return 1
}

# code_of FILE: the file without its comments.
code_of() {
    case "$1" in
        *.c | *.h | *.cpp)
            # the preprocessor drops comments without expanding anything
            gcc -fpreprocessed -dD -E -P -x c "$1" 2>/dev/null ||
                arm-none-eabi-gcc -fpreprocessed -dD -E -P -x c "$1" 2>/dev/null ;;
        *.S | *.ld) sed 's|/\*.*\*/||; s|//.*||' "$1" ;;
        *) sed 's/\(^\|[[:space:]]\)#.*//' "$1" ;;   # CMake, shell, YAML
    esac
}

check_names() {
    local root="${1:-$PH_ROOT}" bad=0 f b boards=() files
    for f in "$root"/boards/*/CMakeLists.txt; do
        b="${f%/CMakeLists.txt}"
        boards+=("${b##*/}")
    done
    if git -C "$root" rev-parse --show-toplevel >/dev/null 2>&1; then
        files="$(git -C "$root" ls-files --cached --others --exclude-standard)"
    else
        files="$(cd "$root" && find . -type f ! -path './build/*' ! -path './.git/*' | sed 's|^\./||')"
    fi
    while IFS= read -r f; do
        case "$f" in
            boards/* | linker/* | docs/* | *.md | LICENSE | build/* | */corpus/*) continue ;; # docs: documentation and its pictures; corpus: raw fuzz inputs
        esac
        [ -f "$root/$f" ] || continue
        is_allowed "$f" && continue
        local code
        code="$(cd "$root" && code_of "$f")"
        for b in "${boards[@]}"; do
            if printf '%s\n' "$code" | grep -qw -- "$b"; then
                echo "check-boards: names: $f names board $b:"
                printf '%s\n' "$code" | grep -w -- "$b" | head -n 3 | sed 's/^/    /'
                bad=1
            fi
        done
    done <<<"$files"
    if [ "$bad" -eq 0 ]; then
        echo "check-boards: names: PASS (${#boards[@]} boards, named only in boards/, linker/, documentation and comments)"
    else
        echo "check-boards: names: FAIL (board facts belong in boards/<board>/board.cmake or linker/<board>.ld)"
    fi
    return "$bad"
}

# board: the sizes it must get (the RAM, then what follows from it)
big="suite=262144 from_heap=0 scale=100 nano=OFF demo_mirror=262144 demo_defines= bench_heap=262144 bench_arena=524288"
expected=(
    "microbit ram=16384 suite=4096 from_heap=1 scale=40 nano=ON demo_mirror=0 demo_defines=MAX_PACKETS=24,SENSOR_RING=24,EVENT_LOG=8,MAP_MAX_CELLS=128 bench_heap=0 bench_arena=0"
    "netduinoplus2 ram=196608 suite=49152 from_heap=0 scale=100 nano=OFF demo_mirror=40960 demo_defines= bench_heap=65536 bench_arena=114688"
    "lm3s6965evb ram=65536 suite=16384 from_heap=0 scale=100 nano=OFF demo_mirror=12288 demo_defines=MAX_PACKETS=96,SENSOR_RING=64,EVENT_LOG=24,MAP_MAX_CELLS=512 bench_heap=0 bench_arena=0"
    "mps2-an385 ram=4194304 $big"
    "mps2-an386 ram=4194304 $big"
    "mps2-an500 ram=4194304 $big"
    "mps2-an505 ram=2097152 $big"
    "mps3-an547 ram=4194304 $big"
    "virt ram=134217728 $big"
)

check_sizes() {
    local bad=0 n=0 f b got want e
    for f in boards/*/CMakeLists.txt; do
        b="${f%/CMakeLists.txt}"
        b="${b#boards/}"
        n=$((n + 1))
        if ! got="$(cmake "-DPH_ROOT=$PH_ROOT" "-DPH_BOARD=$b" -P boards/common/print-sizing.cmake 2>&1)"; then
            echo "check-boards: sizes: $b: $got"
            bad=1
            continue
        fi
        want=""
        for e in "${expected[@]}"; do
            [ "${e%% *}" = "$b" ] && want="$e"
        done
        if [ -n "$want" ] && [ "$got" != "$want" ]; then
            echo "check-boards: sizes: $b:"
            echo "    got  $got"
            echo "    want $want"
            bad=1
        fi
    done
    if [ "$bad" -eq 0 ]; then
        echo "check-boards: sizes: PASS ($n boards sized from their linker scripts' RAM)"
    else
        echo "check-boards: sizes: FAIL"
    fi
    return "$bad"
}

check_reconfigure() {
    local root="$scratch/reconfigure" b=lm3s6965evb out
    rm -rf "$root"
    if ! PH_BUILD_ROOT="$root" PH_CMAKE_ARGS="-DPH_BOARD_SUITES=OFF" \
        bash scripts/board.sh "$b" configure >"$scratch/reconfigure.log" 2>&1; then
        echo "check-boards: reconfigure: FAIL (configure, see $scratch/reconfigure.log)"
        return 1
    fi
    out="$(PH_BUILD_ROOT="$root" PH_CMAKE_ARGS="-DPH_BOARD_SUITES=OFF -DPH_QEMU_TIMEOUT=77" \
        bash scripts/board.sh "$b" build 2>&1)"
    printf '%s\n' "$out" >>"$scratch/reconfigure.log"
    if ! grep -q '^PH_QEMU_TIMEOUT:STRING=77$' "$root/board-$b/CMakeCache.txt"; then
        echo "check-boards: reconfigure: FAIL (PH_CMAKE_ARGS ignored on an existing build folder)"
        return 1
    fi
    if ! printf '%s\n' "$out" | grep -q 'configuring it again with PH_CMAKE_ARGS'; then
        echo "check-boards: reconfigure: FAIL (board.sh did not say it configured again)"
        return 1
    fi
    echo "check-boards: reconfigure: PASS (PH_CMAKE_ARGS applied to an existing build folder of $b)"
}

check_arenas() {
    local root="$scratch/arenas" b=netduinoplus2 kib bad=0 log res=()
    mkdir -p "$root"
    for kib in 16 24 32 40; do
        log="$scratch/arenas-$kib.log"
        if PH_BUILD_ROOT="$root" PH_CMAKE_ARGS="-DSUITE_ARENA_BYTES=$((kib * 1024))" \
               bash scripts/board.sh "$b" configure >"$log" 2>&1 &&
           cmake --build "$root/board-$b" -j "$PH_JOBS" --target suite >>"$log" 2>&1 &&
           ctest --test-dir "$root/board-$b" --output-on-failure -R "^$b:suite\$" -V >>"$log" 2>&1 &&
           grep -q "suite: PASS $b" "$log"; then
            local skipped
            skipped="$(grep -o 'suite: [a-z-]* skipped' "$log" | sed 's/suite: //; s/ skipped//' | tr '\n' ' ')"
            res+=("${kib} KiB ok${skipped:+ (skipped: ${skipped% })}")
        else
            res+=("${kib} KiB FAILED")
            echo "check-boards: arenas: $kib KiB: $(grep -m 1 "suite: FAIL" "$log" | sed "s/^[0-9]*: //" || echo "see $log")"
            bad=1
        fi
    done
    local all
    all="$(printf '%s; ' "${res[@]}")"
    if [ "$bad" -eq 0 ]; then
        echo "check-boards: arenas: PASS ($b suite: ${all%; })"
    else
        echo "check-boards: arenas: FAIL ($b suite: ${all%; })"
    fi
    return "$bad"
}

mkdir -p "$scratch"
case "${1:-all}" in
    names) check_names "${2:-}" ;;
    sizes) check_sizes ;;
    reconfigure) check_reconfigure ;;
    arenas) check_arenas ;;
    all)
        rc=0
        check_names || rc=1
        check_sizes || rc=1
        check_reconfigure || rc=1
        check_arenas || rc=1
        exit "$rc"
        ;;
    *) echo "usage: scripts/check-boards.sh [names [root]|sizes|reconfigure|arenas|all]" >&2; exit 2 ;;
esac
