#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds and tests the ports for boards that really power RAM down
# (port/nrf52840, port/rp2040).  QEMU models neither chip, so:
#
#   (a) cross build, warnings as errors, for each port's real CPU:
#         nrf52840  -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16
#         rp2040    -mcpu=cortex-m0plus -mthumb
#       the core (core/src/*.c, as libpageheap.a), the port (with the
#       code it shares, port/common/ph_hwgate.c) at -Os and -O2, and the
#       port's example firmware (example/main.c + its linker script,
#       -nostdlib, libgcc only), linked; prints arm-none-eabi-size of the
#       port object, the core library and the firmware.  Nothing is run.
#   (b) host unit tests of the register logic (port/<chip>/test/*.c) with
#       fake register blocks and mmap'd memory standing in for the RAM,
#       built with gcc -Wall -Wextra -Werror (plus the core's stricter set
#       for the port itself, and ASan/UBSan when the compiler has them), in
#       two layouts: the host's 64-bit bitmap words and the Cortex-M0's
#       32-bit words with the portable bit helpers.
#
#   scripts/build-hw-ports.sh            everything, into build/hw-ports/
#
# The last line is "build-hw-ports.sh: OK" when every step passed; the exit
# status is non-zero otherwise.  Environment: PH_HW_OUT (default
# build/hw-ports).
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

out="${PH_HW_OUT:-$PH_ROOT/build/hw-ports}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

failed=()
fail() {
    echo "build-hw-ports.sh: FAIL: $*"
    failed+=("$1")
}

for tool in arm-none-eabi-gcc arm-none-eabi-ar arm-none-eabi-ld arm-none-eabi-size arm-none-eabi-nm gcc; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "build-hw-ports.sh: $tool not found (scripts/install-deps.sh installs gcc-arm-none-eabi and gcc)"
        echo "build-hw-ports.sh: FAILED"
        exit 1
    fi
done

# The core's warning set (PH_CORE_WARNINGS in CMakeLists.txt), used for the
# core, the ports and the example firmware alike.
strict=(-std=c11 -Wall -Wextra -Werror -Wpedantic
        -Wshadow -Wconversion -Wsign-conversion
        -Wcast-align -Wcast-qual -Wpointer-arith
        -Wstrict-prototypes -Wmissing-prototypes
        -Wundef -Wwrite-strings -Wnull-dereference
        -Wdouble-promotion -Wvla)
core_inc=(-I"$PH_ROOT/core/include" -I"$PH_ROOT/core/src")
# What port/nrf52840 and port/rp2040 share (port/common/ph_hwgate.[ch]; its
# PRIMASK steps are port/cortex-m's).
gate_src="$PH_ROOT/port/common/ph_hwgate.c"
gate_inc=(-I"$PH_ROOT/port/common" -I"$PH_ROOT/port/cortex-m")
# Freestanding: GCC must not turn the copy/zero loops into memcpy/memset.
free=(-ffreestanding -fno-tree-loop-distribute-patterns -ffunction-sections -fdata-sections)

# run LOG CMD...: runs CMD with its output in LOG; prints the log on failure.
run() {
    local log="$1"; shift
    if ! "$@" >>"$log" 2>&1; then
        sed 's/^/      /' "$log" | tail -n 40
        return 1
    fi
}

# ---- (a) cross builds ------------------------------------------------------

# cross_build NAME CPU_FLAGS...: core, port, example firmware of port/NAME.
cross_build() {
    local name="$1"; shift
    local -a cpu=("$@")
    local dir="$out/$name" src="$PH_ROOT/port/$name"
    local log="$dir/build.log" objs=() o
    rm -rf "$dir"
    mkdir -p "$dir/core"
    : >"$log"
    echo "--- $name: ${cpu[*]}"
    for f in "$PH_ROOT"/core/src/*.c; do
        o="$dir/core/$(basename "$f" .c).o"
        run "$log" arm-none-eabi-gcc "${cpu[@]}" -Os "${free[@]}" "${strict[@]}" "${core_inc[@]}" \
            -c "$f" -o "$o" || return 1
        objs+=("$o")
    done
    run "$log" arm-none-eabi-ar rcs "$dir/libpageheap.a" "${objs[@]}" || return 1
    # The port (and the shared gate code) at -O2 too: some warnings only
    # show at one level.
    local port_src
    for port_src in "$src/ph_port_$name.c" "$gate_src"; do
        run "$log" arm-none-eabi-gcc "${cpu[@]}" -O2 "${free[@]}" "${strict[@]}" -I"$PH_ROOT/core/include" \
            "${gate_inc[@]}" -c "$port_src" -o "$dir/$(basename "$port_src" .c)-O2.o" || return 1
    done
    run "$log" arm-none-eabi-gcc "${cpu[@]}" -Os -g "${free[@]}" "${strict[@]}" -I"$PH_ROOT/core/include" \
        "${gate_inc[@]}" -c "$src/ph_port_$name.c" -o "$dir/ph_port_$name-only.o" || return 1
    run "$log" arm-none-eabi-gcc "${cpu[@]}" -Os -g "${free[@]}" "${strict[@]}" -I"$PH_ROOT/core/include" \
        "${gate_inc[@]}" -c "$gate_src" -o "$dir/ph_hwgate.o" || return 1
    # The port object: the port and the gate code it uses, as one.
    run "$log" arm-none-eabi-ld -r "$dir/ph_port_$name-only.o" "$dir/ph_hwgate.o" \
        -o "$dir/ph_port_$name.o" || return 1
    run "$log" arm-none-eabi-gcc "${cpu[@]}" -Os -g "${free[@]}" "${strict[@]}" -I"$PH_ROOT/core/include" \
        "${gate_inc[@]}" -I"$PH_ROOT/port/common/example" -I"$src" -c "$src/example/main.c" \
        -o "$dir/main.o" || return 1
    run "$log" arm-none-eabi-gcc "${cpu[@]}" -nostdlib -T "$src/example/$name-example.ld" \
        -Wl,--gc-sections -Wl,-Map="$dir/$name-example.map" -Wl,--fatal-warnings \
        "$dir/main.o" "$dir/ph_port_$name.o" "$dir/libpageheap.a" -lgcc \
        -o "$dir/$name-example.elf" || return 1
    # The port must need nothing but libgcc helpers.
    local ext
    ext="$(arm-none-eabi-nm -u "$dir/ph_port_$name.o" | awk '{print $2}' | grep -v '^__aeabi_' | tr '\n' ' ')"
    if [ -n "$ext" ]; then
        echo "      the port needs symbols from outside: $ext"
        return 1
    fi
    echo "    port object (-Os, with port/common/ph_hwgate.c):"
    arm-none-eabi-size "$dir/ph_port_$name.o" | sed "s|$out/||; s/^/      /"
    echo "    core library (-Os, totals):"
    arm-none-eabi-size -t "$dir/libpageheap.a" | tail -n 1 | sed 's/(TOTALS)/libpageheap.a (TOTALS)/; s/^/      /'
    echo "    example firmware (port + core + main, --gc-sections):"
    arm-none-eabi-size "$dir/$name-example.elf" | sed "s|$out/||; s/^/      /"
}

cross_build nrf52840 -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 ||
    fail "nrf52840 cross build (log: ${out#"$PH_ROOT"/}/nrf52840/build.log)"
cross_build rp2040 -mcpu=cortex-m0plus -mthumb ||
    fail "rp2040 cross build (log: ${out#"$PH_ROOT"/}/rp2040/build.log)"

# ---- (b) host unit tests -------------------------------------------------------

san=()
if echo 'int main(void){return 0;}' |
    gcc -x c - -fsanitize=address,undefined -o "$out/san-probe" >/dev/null 2>&1; then
    # shellcheck disable=SC2054 # the commas belong to the flag
    san=(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
fi
rm -f "$out/san-probe"

# host_test NAME LAYOUT DEFINES...: builds and runs port/NAME/test.
host_test() {
    local name="$1" layout="$2"; shift 2
    local -a defs=("$@")
    local dir="$out/host-$layout" src="$PH_ROOT/port/$name"
    local log="$dir/$name.log" objs=()
    mkdir -p "$dir/$name"
    : >"$log"
    for f in "$PH_ROOT"/core/src/*.c; do
        run "$log" gcc -O1 -g "${san[@]}" "${defs[@]}" -ffreestanding -fno-tree-loop-distribute-patterns \
            "${strict[@]}" "${core_inc[@]}" -c "$f" -o "$dir/$name/$(basename "$f" .c).o" || return 1
        objs+=("$dir/$name/$(basename "$f" .c).o")
    done
    run "$log" gcc -O1 -g "${san[@]}" "${defs[@]}" "${strict[@]}" -DPH_HWGATE_MMIO_TRACE \
        -I"$PH_ROOT/core/include" "${gate_inc[@]}" -c "$src/ph_port_$name.c" -o "$dir/$name/port.o" || return 1
    run "$log" gcc -O1 -g "${san[@]}" "${defs[@]}" "${strict[@]}" -DPH_HWGATE_MMIO_TRACE \
        -I"$PH_ROOT/core/include" "${gate_inc[@]}" -c "$gate_src" -o "$dir/$name/gate.o" || return 1
    run "$log" gcc -std=c11 -O1 -g "${san[@]}" "${defs[@]}" -Wall -Wextra -Werror -Wshadow \
        -I"$PH_ROOT/core/include" "${gate_inc[@]}" -I"$PH_ROOT/port/common/test" -I"$src" \
        -c "$src/test/test_$name.c" -o "$dir/$name/test.o" || return 1
    run "$log" gcc "${san[@]}" "${objs[@]}" "$dir/$name/port.o" "$dir/$name/gate.o" "$dir/$name/test.o" \
        -o "$dir/test_$name" || return 1
    printf '    %-10s %-28s ' "$name" "($layout)"
    if ! "$dir/test_$name" 2>"$dir/$name.err"; then
        echo "FAILED"
        sed 's/^/      /' "$dir/$name.err" | head -n 40
        return 1
    fi
    cat "$dir/$name.err" >&2
}

echo "--- host unit tests (fake registers, mmap'd RAM${san:+, ASan+UBSan})"
for name in nrf52840 rp2040; do
    host_test "$name" w64 || fail "$name host test (64-bit words)"
    host_test "$name" w32 -DPH_WORD_BITS=32 -DPH_PORTABLE_BITS=1 ||
        fail "$name host test (32-bit words, portable bits)"
done

if [ "${#failed[@]}" -gt 0 ]; then
    echo "build-hw-ports.sh: ${#failed[@]} step(s) failed: ${failed[*]}"
    echo "build-hw-ports.sh: FAILED"
    exit 1
fi
echo "build-hw-ports.sh: OK"
