#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test of port/picolibc: the on-target suite's C library group
# (target-tests/suite_newlib.c, main from suite_main.c with
# SUITE_LIBC_ONLY=1) linked with picolibc (--specs=picolibc.specs,
# picolibc's crt0-semihost and libsemihost: stdout and exit status through
# semihosting) and the port (ph_picolibc.c + port/libc/ph_libc.c, as
# objects), for each board named on the command line.  Per board:
#
#   1. reads the board's facts: -mcpu, float ABI and QEMU machine from
#      boards/<board>/board.cmake, code and data RAM (REGION_TEXT and
#      REGION_DATA) from linker/<board>.ld, handed to picolibc.ld as
#      __flash / __ram (the heap is picolibc.ld's, between .bss and the
#      stack: port/libc's default ph_board_regions);
#   2. cross-compiles the core (libpageheap.a), the port, the suite's two
#      files, test/board-picolibc.c and boards/common/board_faults.c, links
#      with -Wl,-Map and --cref;
#   3. checks the link map: the nine names of picolibc's allocator
#      (malloc free calloc realloc memalign aligned_alloc posix_memalign
#      malloc_usable_size cfree) are defined by ph_libc.o / ph_picolibc.o,
#      no nano-malloc-*.c.o member and no sbrk (libc_picolib_picosbrk.c.o)
#      is linked, and names the picolibc objects that call malloc/realloc;
#   4. runs it under qemu-system-arm: exit 0 after "suite: PASS".
#
# With --without-port the port is left out and the map check must fail
# (picolibc's own malloc is linked): the check's own negative test.
#
#   port/picolibc/test-picolibc.sh [--without-port] [--out DIR] BOARD...
#
# A missing cross compiler, picolibc or QEMU is a failure, not a skip
# (scripts/install-deps.sh installs them).  Environment: PH_QEMU_TIMEOUT
# (seconds per QEMU run, default 60).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
out="$root/build/picolibc-test"
with_port=1
boards=()
while [ $# -gt 0 ]; do
    case "$1" in
        --without-port) with_port=0 ;;
        --out) out="$2"; shift ;;
        -*) echo "test-picolibc.sh: unknown option $1" >&2; exit 2 ;;
        *) boards+=("$1") ;;
    esac
    shift
done
[ "${#boards[@]}" -gt 0 ] || { echo "usage: $0 [--without-port] [--out DIR] BOARD..." >&2; exit 2; }
qemu_timeout="${PH_QEMU_TIMEOUT:-60}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# shellcheck source=port/libc/map-cref.sh
source "$root/port/libc/map-cref.sh"

fail() {
    echo "test-picolibc.sh: FAIL: $*"
    exit 1
}

for tool in arm-none-eabi-gcc arm-none-eabi-ar arm-none-eabi-size qemu-system-arm timeout; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool not found (run scripts/install-deps.sh)"
done
[ -f "$(arm-none-eabi-gcc -print-file-name=picolibc.specs)" ] ||
    fail "picolibc.specs not found (run scripts/install-deps.sh: picolibc-arm-none-eabi)"

port_names=(malloc free calloc realloc memalign aligned_alloc posix_memalign
            malloc_usable_size cfree)
forbidden='libc\.a\((nano-malloc-[a-z_]+|libc_picolib_picosbrk)\.c\.o\)'

# board_fact BOARD NAME: set(NAME value) from boards/BOARD/board.cmake.
board_fact() {
    sed -n "s/^set($2 \\([^ )]*\\)).*/\\1/p" "$root/boards/$1/board.cmake" | head -n 1
}

# region BOARD ALIAS: "ORIGIN LENGTH" of the MEMORY region that
# linker/BOARD.ld names ALIAS (REGION_TEXT, REGION_DATA).
region() {
    local ld="$root/linker/$1.ld" name
    name="$(sed -n "s/^REGION_ALIAS(\"$2\", *\\([A-Za-z0-9_]*\\));.*/\\1/p" "$ld")"
    [ -n "$name" ] || return 1
    awk -v n="$name" '$1 == n {
        for (i = 1; i <= NF; i++) {
            if ($i == "ORIGIN") o = $(i + 2)
            if ($i == "LENGTH") l = $(i + 2)
        }
        sub(/,$/, "", o); print o, l; exit }' "$ld"
}

# build BOARD: the firmware in $out/BOARD.
build() {
    local board="$1" dir="$out/$1" cpu fabi
    cpu="$(board_fact "$board" PH_BOARD_CPU)"
    fabi="$(board_fact "$board" PH_BOARD_FLOAT_ABI)"
    [ -n "$cpu" ] && [ -n "$fabi" ] || { echo "  build: no PH_BOARD_CPU / FLOAT_ABI in boards/$board/board.cmake"; return 1; }
    local text data
    text="$(region "$board" REGION_TEXT)" && data="$(region "$board" REGION_DATA)" ||
        { echo "  build: no REGION_TEXT / REGION_DATA in linker/$board.ld"; return 1; }
    read -r flash flash_size <<<"$text"
    read -r ram ram_size <<<"$data"
    echo "  board: -mcpu=$cpu -mfloat-abi=$fabi, code $flash +$flash_size, data $ram +$ram_size (linker/$board.ld)"
    rm -rf "$dir"
    mkdir -p "$dir/core"
    local -a arch=(-mcpu="$cpu" -mthumb -mfloat-abi="$fabi" --specs=picolibc.specs)
    local -a common=(-Os -g -ffunction-sections -fdata-sections)
    local -a warn=(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes)
    local src obj
    local -a core_objs=() objs=()
    for src in "$root"/core/src/*.c; do
        obj="$dir/core/$(basename "${src%.c}").o"
        arm-none-eabi-gcc "${arch[@]}" "${common[@]}" -std=c11 -ffreestanding -Wall -Wextra -Werror \
            -I"$root/core/include" -I"$root/core/src" -c "$src" -o "$obj" || return 1
        core_objs+=("$obj")
    done
    arm-none-eabi-ar rcs "$dir/libpageheap.a" "${core_objs[@]}" || return 1
    local -a srcs=("$root/target-tests/suite_main.c" "$root/target-tests/suite_newlib.c" "$here/test/board-picolibc.c"
                "$root/boards/common/board_faults.c")
    if [ "$with_port" -eq 1 ]; then
        srcs=("$here/ph_picolibc.c" "$root/port/libc/ph_libc.c" "${srcs[@]}")
    else
        # The suite asks for the default heap: a stub that has none, so
        # picolibc's own malloc serves the C library (never run).
        printf '%s\n' '#include "ph_libc.h"' 'ph_heap *ph_libc_heap(void) { return NULL; }' \
            'ph_heap *ph_newlib_heap(void) { return NULL; }' \
            >"$dir/no-port.c"
        srcs+=("$dir/no-port.c")
    fi
    for src in "${srcs[@]}"; do
        obj="$dir/$(basename "${src%.c}").o"
        arm-none-eabi-gcc "${arch[@]}" "${common[@]}" -std=gnu11 "${warn[@]}" \
            -DSUITE_LIBC_ONLY=1 -DSUITE_ARENA_BYTES=4096u -DSUITE_ARENA_FROM_HEAP=0 \
            -DPH_LIBC_PAGE_SIZE=1024u -DPH_TEST_BOARD="\"$board (picolibc)\"" -DPH_TEST_CPU="\"$cpu\"" \
            -I"$root/core/include" -I"$root/port/libc" -I"$root/port/newlib" -I"$here" \
            -I"$root/boards/common" -I"$root/target-tests" -c "$src" -o "$obj" || return 1
        objs+=("$obj")
    done
    # picolibc.ld with the board's memory; the semihosting crt0 and stdio.
    arm-none-eabi-gcc "${arch[@]}" --crt0=semihost --oslib=semihost \
        -Wl,--defsym=__flash="$flash" -Wl,--defsym=__flash_size="$flash_size" \
        -Wl,--defsym=__ram="$ram" -Wl,--defsym=__ram_size="$ram_size" \
        -Wl,--defsym=__stack_size=32K -Wl,--gc-sections -Wl,--no-warn-rwx-segments \
        -Wl,-Map="$dir/picolibc-test.map" -Wl,--cref \
        "${objs[@]}" "$dir/libpageheap.a" -o "$dir/picolibc-test.elf" || return 1
}

# check_map BOARD: the link-map checks; prints what it found.
check_map() {
    local map="$out/$1/picolibc-test.map" bad=0 name def users
    [ -s "$map" ] || { echo "  map: $map missing"; return 1; }
    for name in "${port_names[@]}"; do
        def="$(cref_definer "$map" "$name")"
        case "$def" in
            */ph_libc.o | */ph_picolibc.o) ;;
            "") echo "  map: $name is not in the link (expected from the port)"; bad=1 ;;
            *) echo "  map: $name defined by $def, not the port"; bad=1 ;;
        esac
    done
    local pulled
    pulled="$(grep -oE "$forbidden" "$map" | sort -u)"
    if [ -n "$pulled" ]; then
        echo "  map: picolibc allocator objects linked:"
        while read -r m; do echo "    $m"; done <<<"$pulled"
        bad=1
    fi
    for name in sbrk __malloc_free_list __malloc_sbrk_start __malloc_malloc; do
        def="$(cref_definer "$map" "$name")"
        [ -n "$def" ] && { echo "  map: $name is linked ($def)"; bad=1; }
    done
    users="$( (cref_users "$map" malloc; cref_users "$map" realloc) | grep -v 'ph_libc\.o$' |
             sed -E 's/.*\((libc_)?([^)]*)\.c\.o\)$/\2/; s|.*/||' | sort -u | tr '\n' ' ')"
    echo "  map: malloc / realloc called from: ${users:-nothing}"
    [ "$bad" -eq 0 ] && echo "  map: the ${#port_names[@]} names from ph_libc.o / ph_picolibc.o; no nano-malloc object, no sbrk"
    return "$bad"
}

# run BOARD: exit 0 after "suite: PASS".
run() {
    local dir="$out/$1" rc machine
    machine="$(board_fact "$1" PH_BOARD_QEMU_MACHINE)"
    timeout "$qemu_timeout" qemu-system-arm -M "$machine" -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -kernel "$dir/picolibc-test.elf" </dev/null >"$dir/qemu.log" 2>&1
    rc=$?
    sed 's/^/  qemu: /' "$dir/qemu.log"
    [ "$rc" -eq 124 ] && echo "  qemu: timed out after $qemu_timeout s"
    [ "$rc" -eq 0 ] || { echo "  qemu: exit status $rc (expected 0)"; return 1; }
    grep -q '^suite: PASS' "$dir/qemu.log" || { echo "  qemu: no PASS line"; return 1; }
}

failed=()
for board in "${boards[@]}"; do
    echo "=== picolibc ($board): build"
    if ! build "$board"; then
        failed+=("$board:build")
        continue
    fi
    arm-none-eabi-size "$out/$board/picolibc-test.elf" | sed 's/^/  size: /'
    echo "=== picolibc ($board): map check"
    if [ "$with_port" -eq 0 ]; then
        if check_map "$board"; then
            failed+=("$board:map-passed-without-port")
        else
            echo "  map: fails without the port, as it must"
        fi
        continue
    fi
    check_map "$board" || { failed+=("$board:map"); continue; }
    echo "=== picolibc ($board): qemu"
    run "$board" || failed+=("$board:qemu")
done

[ "${#failed[@]}" -eq 0 ] || fail "${failed[*]}"
if [ "$with_port" -eq 1 ]; then
    echo "test-picolibc.sh: PASS (${boards[*]})"
else
    echo "test-picolibc.sh: PASS (the map check fails without the port on ${boards[*]})"
fi
