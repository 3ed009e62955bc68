#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Prints a markdown table of the code size of libpageheap.a per Arm core at
# -Os and -O2: text/data/bss summed over the library's objects, as
# arm-none-eabi-size reports them.  Builds (or brings up to date) the same
# build directories as build-matrix.sh.
#
# Then the linked size on Cortex-M3 at -Os: bench/size/ph_calls.c (every
# allocator call a firmware makes; and with PH_SIZE_MALLOC_ONLY the malloc
# family and ph_idle alone) linked with -ffunction-sections --gc-sections
# against libpageheap.a, and bench/size/newlib_calls.c (the same malloc
# calls) against full newlib's own allocator; the bytes each allocator's
# objects keep in the link are summed from the map file
# (bench/size/map-sizes.awk), code and read-only data apart from RAM.
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

# ---- linked size, Cortex-M3 -Os ------------------------------------------------

work="$PH_ROOT/build/size-linked"
mkdir -p "$work"
flags=(-mcpu=cortex-m3 -mthumb -mfloat-abi=soft -Os -ffunction-sections -fdata-sections)
lib="$(ph_core_dir cortex-m3 Os)/libpageheap.a"
# newlib's dlmalloc: the objects of its malloc family in libc.a.
nl_members='^lib_a-(malloc|mallocr|free|freer|calloc|callocr|realloc|reallocr|malign|malignr|msize|msizer|mlock|sbrkr)\.o$'
# link NAME SOURCE [CFLAGS...]: links one test firmware, writes NAME.map.
link() {
    local name="$1" src="$2"
    shift 2
    arm-none-eabi-gcc "${flags[@]}" "$@" -I"$PH_ROOT/core/include" "$src" \
        ${lib_arg:+"$lib_arg"} --specs=nosys.specs -Wl,--gc-sections \
        -Wl,-Map="$work/$name.map" -o "$work/$name.elf" >"$work/$name.log" 2>&1
}
# sum NAME REGEX KIND: bytes of KIND (rom / ram) kept from the members matching REGEX.
sum() {
    awk -f "$PH_ROOT/bench/size/map-sizes.awk" "$work/$1.map" |
        awk -v re="$2" -v kind="$3" '$1 ~ re && $2 == kind { s += $3 } END { print s + 0 }'
}
linked=()
if [ -f "$lib" ]; then
    lib_arg="$lib"
    if link ph-all "$PH_ROOT/bench/size/ph_calls.c" && link ph-malloc "$PH_ROOT/bench/size/ph_calls.c" -DPH_SIZE_MALLOC_ONLY; then
        for v in all malloc; do
            rom=$(sum "ph-$v" '^ph_.*\.c\.obj$' rom)
            ram=$(sum "ph-$v" '^ph_.*\.c\.obj$' ram)
            what="every call (malloc family, page API, ph_scavenge, ph_idle)"
            [ "$v" = malloc ] && what="malloc family + ph_idle"
            linked+=("| pageheap | $what | $rom | $ram | $((rom + ram)) |")
        done
    else
        echo "size.sh: linking the pageheap size firmware failed, see $work/ph-*.log" >&2
        rc=1
    fi
    lib_arg=""
    if link newlib "$PH_ROOT/bench/size/newlib_calls.c"; then
        rom=$(sum newlib "$nl_members" rom)
        ram=$(sum newlib "$nl_members" ram)
        linked+=("| newlib (dlmalloc, libc.a) | malloc family | $rom | $ram | $((rom + ram)) |")
    else
        echo "size.sh: linking the newlib size firmware failed, see $work/newlib.log" >&2
        rc=1
    fi
fi
echo
echo "Linked into a firmware, Cortex-M3 -Os, -ffunction-sections --gc-sections (bytes the"
echo "allocator's objects keep in the link; bench/size/):"
echo
echo "| allocator | calls linked | code + rodata | data + bss | total |"
echo "|---|---|---:|---:|---:|"
printf '%s\n' "${linked[@]}"
exit "$rc"
