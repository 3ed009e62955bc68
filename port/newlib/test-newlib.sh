#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Test of port/newlib (CTest: newlib_qemu).  Three firmware images for QEMU's
# mps2-an385 (Cortex-M3): test/newlib-test.c with full newlib ("full") and
# with newlib-nano ("nano"), and test/newlib-defaults-test.c, which relies on
# the port's weak defaults ("defaults").  For each:
#
#   1. cross-compiles the core (core/src/*.c, -ffreestanding, as
#      libpageheap.a), the port (ph_newlib.c and ../libc/ph_libc.c, as
#      objects), the start-up
#      code and the program under test/, linked with --specs=rdimon.specs
#      (semihosting console, exit(n) ends QEMU with n), -Wl,-Map and --cref;
#   2. checks the link map: every malloc-family name (plain and _r) is
#      defined by ph_libc.o (plain) or ph_newlib.o (_r), none of newlib's
#      allocator objects (mallocr,
#      nano-mallocr, freer, callocr, ..., their malloc/calloc/... wrappers,
#      _sbrk_r / sbrk) was pulled from libc, and nothing refers to _sbrk;
#   3. runs it under qemu-system-arm: "full" and "nano" must exit 0 after the
#      line "newlib-test: PASS"; "defaults" must pass its checks and then be
#      stopped by abort() in the default fault hook (a non-zero status).
#
#   port/newlib/test-newlib.sh [SOURCE_ROOT [OUT_DIR]]
#
# SOURCE_ROOT defaults to the repository holding this script, OUT_DIR to
# SOURCE_ROOT/build/newlib-test.  A missing cross compiler or QEMU is a
# failure, not a skip (scripts/install-deps.sh installs both).
# Environment: PH_QEMU_TIMEOUT (seconds per QEMU run, default 60).
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "${1:-$here/../..}" && pwd)"
out="${2:-$root/build/newlib-test}"
qemu_timeout="${PH_QEMU_TIMEOUT:-60}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

fail() {
    echo "test-newlib.sh: FAIL: $*"
    exit 1
}

for tool in arm-none-eabi-gcc arm-none-eabi-ar arm-none-eabi-size arm-none-eabi-nm qemu-system-arm timeout; do
    command -v "$tool" >/dev/null 2>&1 ||
        fail "$tool not found (run scripts/install-deps.sh: gcc-arm-none-eabi, libnewlib-arm-none-eabi, qemu-system-arm)"
done

cpu=(-mcpu=cortex-m3 -mthumb -mfloat-abi=soft)
common=(-Os -g -ffunction-sections -fdata-sections)
warn=(-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wpointer-arith)

# The names the port must define: the plain ones come from port/libc's
# ph_libc.o, the reentrant ones from ph_newlib.o.  (newlib's allocator
# objects, which must not be linked: $newlib_allocator_members, from
# port/libc/map-cref.sh.)
plain_names=(malloc free calloc realloc memalign aligned_alloc posix_memalign
             malloc_usable_size)
reent_names=(_malloc_r _free_r _calloc_r _realloc_r _memalign_r _malloc_usable_size_r)
port_names=("${plain_names[@]}" "${reent_names[@]}")

# cref_definer / cref_users: the map's cross-reference table.
# shellcheck source=port/libc/map-cref.sh
source "$here/../libc/map-cref.sh"

# build VARIANT PROGRAM SPECS...: compiles and links one firmware from
# test/PROGRAM.c into $out/VARIANT.
build() {
    local variant="$1" program="$2"; shift 2
    local -a specs=("$@")
    local dir="$out/$variant"
    rm -rf "$dir"
    mkdir -p "$dir/core"
    local -a inc=(-I"$root/core/include" -I"$here" -I"$root/port/libc" -I"$root/boards/common")
    local src obj
    local -a core_objs=()
    for src in "$root"/core/src/*.c; do
        obj="$dir/core/$(basename "${src%.c}").o"
        arm-none-eabi-gcc "${cpu[@]}" "${specs[@]}" "${common[@]}" -std=c11 -ffreestanding \
            -Wall -Wextra -I"$root/core/include" -I"$root/core/src" -c "$src" -o "$obj" ||
            return 1
        core_objs+=("$obj")
    done
    rm -f "$dir/libpageheap.a"
    arm-none-eabi-ar rcs "$dir/libpageheap.a" "${core_objs[@]}" || return 1
    local -a defs=(-DPH_NEWLIB_COUNT_CALLS)
    [ "$variant" = nano ] && defs+=(-DPH_TEST_NANO)
    # The board's start-up code (and the semihosting exit its default
    # exception handler uses) with the test's board_init (rdimon console).
    local -a objs=()
    for src in "$here/ph_newlib.c" "$root/port/libc/ph_libc.c" "$root/boards/common/cortex-m/startup.c" \
               "$root/boards/common/semihost.c" "$here/test/board-rdimon.c" \
               "$here/test/$program.c"; do
        arm-none-eabi-gcc "${cpu[@]}" "${specs[@]}" "${common[@]}" -std=gnu11 "${warn[@]}" \
            "${defs[@]}" "${inc[@]}" -c "$src" -o "$dir/$(basename "${src%.c}").o" || return 1
        objs+=("$dir/$(basename "${src%.c}").o")
    done
    local -a extra=()
    [ "$variant" = nano ] && extra+=(-u _printf_float) # nano's printf has no %f unless asked
    # The port is linked as an object (not from an archive), before libc:
    # its definitions are there before the linker searches libc, so no libc
    # allocator member is ever needed.  -nostartfiles: the board's reset
    # handler replaces rdimon-crt0.
    arm-none-eabi-gcc "${cpu[@]}" "${specs[@]}" --specs=rdimon.specs -nostartfiles \
        -L "$root/linker" -T "$root/linker/mps2-an385.ld" -Wl,--gc-sections \
        -Wl,-Map="$dir/newlib-test.map" -Wl,--cref "${extra[@]}" \
        "${objs[@]}" "$dir/libpageheap.a" -o "$dir/newlib-test.elf" || return 1
}

# check_map VARIANT: the link-map checks.  Prints what it found.
check_map() {
    local map="$out/$1/newlib-test.map" bad=0 name def users
    [ -s "$map" ] || { echo "  map: $map missing"; return 1; }
    local want
    for name in "${port_names[@]}"; do
        def="$(cref_definer "$map" "$name")"
        want=ph_newlib.o
        [[ "$name" == _* ]] || want=ph_libc.o
        case "$def" in
            */"$want") ;;
            "") echo "  map: $name is not in the link (expected from $want)"; bad=1 ;;
            *) echo "  map: $name defined by $def, not $want"; bad=1 ;;
        esac
    done
    local pulled
    pulled="$(grep -oE "$newlib_allocator_members" "$map" | sort -u)"
    if [ -n "$pulled" ]; then
        echo "  map: newlib allocator objects linked:"
        while read -r m; do echo "    $m"; done <<<"$pulled"
        bad=1
    fi
    for name in _sbrk_r sbrk __malloc_av_ __malloc_free_list __malloc_sbrk_start; do
        if [ -n "$(cref_definer "$map" "$name")" ]; then
            echo "  map: $name is linked ($(cref_definer "$map" "$name"))"
            bad=1
        fi
    done
    # librdimon's _sbrk shares an object with _write, so it is linked, but
    # nothing may call it.
    users="$(cref_users "$map" _sbrk | tr '\n' ' ')"
    if [ -n "$users" ]; then
        echo "  map: _sbrk is referred to by: $users"
        bad=1
    fi
    # Who in newlib calls the port (informative: proves the internals are
    # wired to it).
    users="$(cref_users "$map" _malloc_r | grep -v 'ph_newlib\.o$' | sed -E 's/.*\((lib_a-)?([^)]*)\.o\)$/\2/; s|.*/||' | sort -u | tr '\n' ' ')"
    echo "  map: _malloc_r defined by ph_newlib.o, called from: ${users:-nothing}"
    [ "$bad" -eq 0 ] && echo "  map: ${#plain_names[@]} plain names from ph_libc.o, ${#reent_names[@]} reentrant from ph_newlib.o; no newlib allocator object; nothing calls _sbrk"
    return "$bad"
}

# qemu VARIANT: runs $out/VARIANT/newlib-test.elf under QEMU, output in
# $out/VARIANT/qemu.log (echoed); returns QEMU's exit status (124: timeout).
qemu() {
    local dir="$out/$1" rc
    timeout "$qemu_timeout" qemu-system-arm -M mps2-an385 -nographic -monitor none \
        -semihosting-config enable=on,target=native \
        -kernel "$dir/newlib-test.elf" </dev/null >"$dir/qemu.log" 2>&1
    rc=$?
    sed 's/^/  qemu: /' "$dir/qemu.log"
    [ "$rc" -eq 124 ] && echo "  qemu: timed out after $qemu_timeout s"
    return "$rc"
}

# run VARIANT: the test program must exit 0 after its PASS line.
run() {
    local rc
    qemu "$1"
    rc=$?
    [ "$rc" -eq 0 ] || { echo "  qemu: exit status $rc (expected 0)"; return 1; }
    grep -q '^newlib-test: PASS' "$out/$1/qemu.log" || { echo "  qemu: no PASS line"; return 1; }
}

# run_defaults: the defaults program must get through its checks and then be
# stopped by abort() in the default fault hook: a non-zero status that is
# neither a timeout nor the start-up code's trap (99), and no line after.
run_defaults() {
    local rc log="$out/defaults/qemu.log"
    qemu defaults
    rc=$?
    grep -q '^newlib-defaults-test: bad free next' "$log" ||
        { echo "  qemu: the checks before the bad free did not pass"; return 1; }
    if grep -q 'FAIL' "$log" || [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$rc" -eq 99 ]; then
        echo "  qemu: exit status $rc (expected abort's)"
        return 1
    fi
    echo "  qemu: aborted with status $rc, as the default fault hook should"
}

failed=()
for variant in full nano defaults; do
    case "$variant" in
        full)     specs=();                  program=newlib-test ;;
        nano)     specs=(--specs=nano.specs); program=newlib-test ;;
        defaults) specs=();                  program=newlib-defaults-test ;;
    esac
    echo "=== newlib ($variant): build test/$program.c"
    if ! build "$variant" "$program" "${specs[@]}"; then
        failed+=("$variant:build")
        continue
    fi
    arm-none-eabi-size "$out/$variant/newlib-test.elf" | sed 's/^/  size: /'
    # The board's heap banks (linker/mps2-an385.ld), outside .bss.
    arm-none-eabi-nm "$out/$variant/newlib-test.elf" |
        awk '$3 ~ /^__ph_heap[0-9]_(start|end)$/ { a[$3] = $1 }
             END { for (i = 0; i < 4; i++) if (("__ph_heap" i "_start") in a)
                       printf "  size: heap bank %d: 0x%s..0x%s\n", i,
                              a["__ph_heap" i "_start"], a["__ph_heap" i "_end"] }'
    arm-none-eabi-size "$out/$variant/ph_libc.o" "$out/$variant/ph_newlib.o" | tail -n 2 | sed 's/^/  size: /'
    echo "=== newlib ($variant): map check"
    check_map "$variant" || failed+=("$variant:map")
    echo "=== newlib ($variant): qemu"
    if [ "$variant" = defaults ]; then
        run_defaults || failed+=("$variant:qemu")
    else
        run "$variant" || failed+=("$variant:qemu")
    fi
done

if [ "${#failed[@]}" -gt 0 ]; then
    fail "${failed[*]}"
fi
echo "test-newlib.sh: PASS (full newlib, newlib-nano, the port's defaults)"
