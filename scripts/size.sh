#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints a markdown table of the code size of libpageheap.a per Arm core at
# -Os and -O2: text/data/bss summed over the library's objects, as
# arm-none-eabi-size reports them.  Builds (or brings up to date) the same
# build directories as build-matrix.sh.
#
#   scripts/size.sh            -> table on stdout, progress on stderr
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

command -v arm-none-eabi-size >/dev/null || {
    echo "size.sh: arm-none-eabi-size not found (run scripts/install-deps.sh)" >&2
    exit 1
}

rc=0
rows=()
for cpu in "${PH_ARM_CPUS[@]}"; do
    for opt in "${PH_OPTS[@]}"; do
        echo "size.sh: building $cpu -$opt" >&2
        if ! ph_build_core "$cpu" "$opt"; then
            echo "size.sh: build failed, see $(ph_core_log "$cpu" "$opt")" >&2
            rows+=("| $cpu | -$opt | build failed | | | | |")
            rc=1
            continue
        fi
        lib="$(ph_core_dir "$cpu" "$opt")/libpageheap.a"
        # The allocator is every object but ph_check.c (checking, statistics,
        # introspection), which a firmware that never calls those functions
        # does not link (--gc-sections drops it).
        read -r alloc diag data bss < <(arm-none-eabi-size "$lib" | awk '
            NR > 1 { if ($6 ~ /^ph_check\./) d += $1; else a += $1; da += $2; b += $3 }
            END { print a + 0, d + 0, da + 0, b + 0 }')
        rows+=("| $cpu | -$opt | $alloc | $diag | $data | $bss | $((alloc + diag + data + bss)) |")
    done
done

echo "libpageheap.a, arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion), -mthumb -mfloat-abi=soft (bytes):"
echo
echo "| core | opt | allocator text | ph_check.c text | data | bss | total |"
echo "|---|---|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
exit "$rc"
