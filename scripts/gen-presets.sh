#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/gen-presets.sh: writes CMakePresets.json, the configure, build and
# test presets of the three host configurations of scripts/test.sh and of
# every board folder (boards/<board>/board.cmake).
#
#   scripts/gen-presets.sh           rewrite CMakePresets.json
#   scripts/gen-presets.sh --check   fail (and show the difference) when the
#                                    committed file is not what this script
#                                    writes, e.g. after a board was added;
#                                    then let CMake parse it
#
# Presets (cmake --preset <p>; cmake --build --preset <p>; ctest --preset <p>):
#   host       build/host      RelWithDebInfo, the default layout
#   host-san   build/host-san  Debug, ASan + UBSan, no benchmarks, the run
#                              index in machine words (PH_LANES_SIMD=0)
#   host-w32   build/host-w32  PH_WORD_BITS=32 PH_PORTABLE_BITS=ON, no benchmarks
#   <board>    build/board-<board>: cmake/arm-none-eabi.cmake, PH_BOARD=<board>,
#              PH_CPU / PH_FLOAT_ABI from boards/<board>/board.cmake, no
#              host tests/bench/demo: what scripts/board.sh <board> configures
# The build folders are those of test.sh and board.sh, with the same
# cache, so a preset and the scripts can take turns in one folder.  The file
# needs CMake 3.21 (presets version 3: no generator named, so CMake picks
# the same one as the scripts).  JSON has no comments: this header is the
# file's documentation.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

file="$PH_ROOT/CMakePresets.json"

# The boards: every boards/<board>/board.cmake but boards/common's (the
# shared firmware function, not a board), in C-locale order.
boards() {
    local f
    for f in boards/*/board.cmake; do
        [ -f "$f" ] || continue
        f="${f#boards/}"
        f="${f%/board.cmake}"
        [ "$f" = common ] || echo "$f"
    done | LC_ALL=C sort
}

# host_preset NAME DESCRIPTION CACHE_JSON: one configure preset.
host_preset() {
    cat <<JSON
    {
      "name": "$1",
      "displayName": "$2",
      "binaryDir": "\${sourceDir}/build/$1",
      "cacheVariables": {
$3
      }
    },
JSON
}

generate() {
    local -a names=(host host-san host-w32)
    local b cpu fabi machine bfile total
    echo '{'
    echo '  "version": 3,'
    echo '  "cmakeMinimumRequired": { "major": 3, "minor": 21, "patch": 0 },'
    echo '  "configurePresets": ['
    host_preset host "Host: default layout, RelWithDebInfo (scripts/test.sh, build/host)" \
'        "CMAKE_BUILD_TYPE": "RelWithDebInfo",
        "PH_SANITIZE": "OFF",
        "PH_WORD_BITS": "",
        "PH_PORTABLE_BITS": "OFF"'
    host_preset host-san "Host: AddressSanitizer + UndefinedBehaviorSanitizer, Debug, run index in machine words (scripts/test.sh, build/host-san)" \
'        "CMAKE_BUILD_TYPE": "Debug",
        "PH_SANITIZE": "ON",
        "PH_BUILD_BENCH": "OFF",
        "PH_CONFIG_DEFINES": "PH_LANES_SIMD=0"'
    host_preset host-w32 "Host: 32-bit bitmap words and portable bit helpers, the Cortex-M0 layout (scripts/test.sh, build/host-w32)" \
'        "CMAKE_BUILD_TYPE": "RelWithDebInfo",
        "PH_WORD_BITS": "32",
        "PH_PORTABLE_BITS": "ON",
        "PH_BUILD_BENCH": "OFF"'
    cat <<'JSON'
    {
      "name": "board",
      "hidden": true,
      "displayName": "A board: the Arm toolchain, only the board's firmware (scripts/board.sh)",
      "toolchainFile": "${sourceDir}/cmake/arm-none-eabi.cmake",
      "cacheVariables": {
        "PH_BUILD_TESTS": "OFF",
        "PH_BUILD_BENCH": "OFF",
        "PH_BUILD_DEMO": "OFF"
      }
JSON
    local -a bl
    mapfile -t bl < <(boards)
    total=${#bl[@]}
    [ "$total" -gt 0 ] || { echo "gen-presets.sh: no boards/*/board.cmake" >&2; return 1; }
    for b in "${bl[@]}"; do
        bfile="boards/$b/board.cmake"
        cpu="$(ph_board_var "$bfile" PH_BOARD_CPU)"
        fabi="$(ph_board_var "$bfile" PH_BOARD_FLOAT_ABI)"
        machine="$(ph_board_var "$bfile" PH_BOARD_QEMU_MACHINE)"
        if [ -z "$cpu" ] || [ -z "$fabi" ]; then
            echo "gen-presets.sh: $bfile lacks PH_BOARD_CPU or PH_BOARD_FLOAT_ABI" >&2
            return 1
        fi
        names+=("$b")
        cat <<JSON
    },
    {
      "name": "$b",
      "displayName": "Board $b: $cpu, $fabi float ABI${machine:+, QEMU -M $machine} (scripts/board.sh $b, build/board-$b)",
      "inherits": "board",
      "binaryDir": "\${sourceDir}/build/board-$b",
      "cacheVariables": {
        "PH_BOARD": "$b",
        "PH_CPU": "$cpu",
        "PH_FLOAT_ABI": "$fabi"
      }
JSON
    done
    echo '    }'
    echo '  ],'
    local kind last=$(( ${#names[@]} - 1 )) i
    for kind in build test; do
        echo "  \"${kind}Presets\": ["
        for i in "${!names[@]}"; do
            printf '    { "name": "%s", "configurePreset": "%s"' "${names[$i]}" "${names[$i]}"
            if [ "$kind" = test ]; then
                printf ',\n      "output": { "outputOnFailure": true },\n'
                printf '      "execution": { "noTestsAction": "error" } }'
            else
                printf ' }'
            fi
            [ "$i" -lt "$last" ] && printf ','
            printf '\n'
        done
        if [ "$kind" = build ]; then echo '  ],'; else echo '  ]'; fi
    done
    echo '}'
}

case "${1:-}" in
    "")
        generate >"$file.tmp" || { rm -f "$file.tmp"; exit 1; }
        mv "$file.tmp" "$file"
        echo "gen-presets.sh: wrote CMakePresets.json ($(boards | wc -l) boards)"
        ;;
    --check)
        tmp="$(mktemp)"
        trap 'rm -f "$tmp"' EXIT
        generate >"$tmp" || exit 1
        if ! diff -u "$file" "$tmp"; then
            echo "gen-presets.sh: CMakePresets.json is not what scripts/gen-presets.sh writes" \
                 "(a board added or changed?): run scripts/gen-presets.sh and commit it"
            exit 1
        fi
        # CMake reads the file: the presets must parse and name every board.
        listed="$(cmake --list-presets=all 2>&1)" || { echo "$listed"; exit 1; }
        for b in $(boards); do
            grep -q "\"$b\"" <<<"$listed" ||
                { echo "$listed"; echo "gen-presets.sh: cmake does not list preset $b"; exit 1; }
        done
        echo "gen-presets.sh: CMakePresets.json is up to date ($(boards | wc -l) boards + 3 host presets; cmake lists them)"
        ;;
    *)
        echo "usage: scripts/gen-presets.sh [--check]" >&2
        exit 2
        ;;
esac
