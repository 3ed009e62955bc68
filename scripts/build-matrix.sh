#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the core library, warnings as errors, for every Arm core in
# PH_ARM_CPUS (with cmake/arm-none-eabi.cmake) and for the x86-64 host (gcc
# and clang), each at -Os and -O2.  Only libpageheap.a is built: tests, bench
# and demo are host programs covered by test.sh.
#
#   scripts/build-matrix.sh            every cell
#   PH_MATRIX_OPTS=Os scripts/build-matrix.sh   only -Os
#
# Prints one line per cell: OK/FAIL, target, level, build dir, and the symbols
# the library needs from outside itself (libgcc helpers such as __aeabi_*
# are expected; memcpy/memset would need the firmware's libc).  A failing
# cell's errors/warnings are printed below its line; the full log is in
# build/logs/.  Exits non-zero if any cell fails.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

read -r -a opts <<<"${PH_MATRIX_OPTS:-${PH_OPTS[*]}}"
targets=("${PH_ARM_CPUS[@]}" host-gcc host-clang)

# Undefined symbols of the archive that none of its own objects defines.
external_symbols() {
    local nm="$1" lib="$2"
    comm -23 \
        <("$nm" -u "$lib" 2>/dev/null | awk 'NF==2 && $1=="U" {print $2}' | sort -u) \
        <("$nm" --defined-only "$lib" 2>/dev/null | awk 'NF==3 {print $3}' | sort -u) |
        tr '\n' ' '
}

ok=0 fail=0
for target in "${targets[@]}"; do
    case "$target" in
        host-*) nm="nm"; label="$target" ;;
        *)      nm=arm-none-eabi-nm; label="arm-$target" ;;
    esac
    for opt in "${opts[@]}"; do
        dir="$(ph_core_dir "$target" "$opt")"
        rel="${dir#"$PH_ROOT"/}"
        if ph_build_core "$target" "$opt"; then
            ext="$(external_symbols "$nm" "$dir/libpageheap.a")"
            printf 'OK    %-18s -%s  %-28s needs: %s\n' "$label" "$opt" "$rel" "${ext:-nothing}"
            ok=$((ok + 1))
        else
            printf 'FAIL  %-18s -%s  %-28s log: %s\n' "$label" "$opt" "$rel" \
                "$(ph_core_log "$target" "$opt" | sed "s|^$PH_ROOT/||")"
            grep -E 'error|warning:|CMake (Error|Warning)' "$(ph_core_log "$target" "$opt")" |
                head -n 20 | sed 's/^/      /' || true
            fail=$((fail + 1))
        fi
    done
done

echo "build-matrix.sh: $ok OK, $fail FAIL"
[ "$fail" -eq 0 ]
