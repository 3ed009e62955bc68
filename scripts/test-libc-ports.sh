#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The C library ports beyond newlib's own test (a step of scripts/test.sh,
# about 40 s), in build/libc-ports/:
#
#   picolibc        port/picolibc/test-picolibc.sh on mps2-an385 (Cortex-M3)
#                   and mps2-an505 (Cortex-M33, hard float): the on-target
#                   suite's C library group linked with picolibc and the
#                   port, the link-map check, the run under QEMU
#   picolibc-noport the same firmware without the port: the map check must
#                   fail (it finds picolibc's nano-malloc and sbrk)
#   picolibc-cmake  a cross build with -DPH_C_LIBRARY=picolibc installs
#                   pageheap::picolibc (sources, headers, exported target),
#                   and consumer-tests/picolibc (an outside project:
#                   add_subdirectory, pageheap::picolibc, picolibc's crt0)
#                   links no nano-malloc object and passes under QEMU
#   cxx             target-tests/cxx (its own C/C++ project, add_subdirectory
#                   of pageheap, pageheap::newlib): a C++ firmware for
#                   mps2-an385 whose new / new[] / aligned new / sized delete
#                   and STL workload must reach pageheap; the link map must
#                   show libstdc++'s operators calling the port's malloc,
#                   memalign and free and no newlib allocator object; QEMU
#                   must print "cxx-test: PASS"
#   cxx-noport      the same firmware linked without the port
#                   (-DPH_CXX_WITHOUT_PORT=ON): its map check must fail
#                   (newlib's mallocr.o serves operator new)
#
# Prints "test-libc-ports.sh: N passed, M failed"; exit status 0 iff M = 0.
# Logs: build/libc-ports/<check>.log.  Environment: PH_JOBS.
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
# shellcheck source=port/libc/map-cref.sh
source "$PH_ROOT/port/libc/map-cref.sh"
cd "$PH_ROOT" || exit 1

out="${PH_BUILD_ROOT:-$PH_ROOT/build}/libc-ports"
mkdir -p "$out"
toolchain="$PH_ROOT/cmake/arm-none-eabi.cmake"
# The boards of the picolibc test: the default board and a Cortex-M33.
picolibc_boards=(mps2-an385 mps2-an505)

passed=0 failed=0 failed_names=()

# check NAME FUNCTION: runs one check, its output in $out/NAME.log (the
# lines worth reading echoed), counts it.
check() {
    local name="$1" fn="$2" t0=$SECONDS
    if "$fn" >"$out/$name.log" 2>&1; then
        passed=$((passed + 1))
        grep -E '^  (map|size|board): |qemu: (suite|cxx-test|consumer-picolibc): |PASS|installed' "$out/$name.log" | sed 's/^/  /'
        echo "test-libc-ports.sh: $name: OK ($((SECONDS - t0)) s)"
    else
        failed=$((failed + 1))
        failed_names+=("$name")
        tail -n 40 "$out/$name.log" | sed 's/^/  /'
        echo "test-libc-ports.sh: $name: FAILED ($((SECONDS - t0)) s), log $out/$name.log"
    fi
}

picolibc() {
    bash "$PH_ROOT/port/picolibc/test-picolibc.sh" --out "$out/picolibc" "${picolibc_boards[@]}"
}

picolibc_noport() {
    bash "$PH_ROOT/port/picolibc/test-picolibc.sh" --without-port --out "$out/picolibc-noport" \
        "${picolibc_boards[0]}"
}

picolibc_cmake() {
    local b="$out/picolibc-cmake" f
    rm -rf "$b"
    cmake -S "$PH_ROOT" -B "$b/build" "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m3 \
        -DPH_C_LIBRARY=picolibc &&
        cmake --build "$b/build" -j "$PH_JOBS" &&
        cmake --install "$b/build" --prefix "$b/prefix" || return 1
    for f in share/pageheap/picolibc/ph_picolibc.c share/pageheap/picolibc/ph_libc.c \
             include/ph_picolibc.h include/ph_libc.h; do
        [ -f "$b/prefix/$f" ] || { echo "missing $f"; return 1; }
    done
    grep -q 'add_library(pageheap::picolibc INTERFACE IMPORTED)' \
        "$b/prefix/lib/cmake/pageheap/pageheapTargets.cmake" || { echo "pageheap::picolibc not exported"; return 1; }
    if grep -q 'pageheap::newlib' "$b/prefix/lib/cmake/pageheap/pageheapTargets.cmake"; then
        echo "pageheap::newlib exported by a picolibc build"
        return 1
    fi
    echo "  installed: pageheap::picolibc (ph_picolibc.c, ph_libc.c, ph_picolibc.h, ph_libc.h), no pageheap::newlib"
    cmake -S "$PH_ROOT/consumer-tests/picolibc" -B "$b/consumer" "-DCMAKE_TOOLCHAIN_FILE=$toolchain" \
        -DPH_CPU=cortex-m3 -DPH_C_LIBRARY=picolibc &&
        cmake --build "$b/consumer" -j "$PH_JOBS" || return 1
    if grep -qE 'libc\.a\((nano-malloc-[a-z_]+|libc_picolib_picosbrk)\.c\.o\)' "$b/consumer/firmware.map"; then
        echo "  map: consumer-tests/picolibc links picolibc's own allocator"
        return 1
    fi
    [ "$(cref_definer "$b/consumer/firmware.map" malloc | sed 's|.*/||')" = ph_libc.c.obj ] ||
        { echo "  map: malloc is not port/libc's"; return 1; }
    echo "  map: consumer-tests/picolibc: malloc from ph_libc.c, no nano-malloc object"
    ctest --test-dir "$b/consumer" --output-on-failure -V >"$b/consumer/ctest.log" 2>&1
    local rc=$?
    sed -n 's/^[0-9]*: \(consumer-picolibc: .*\)/  qemu: \1/p' "$b/consumer/ctest.log"
    [ "$rc" -eq 0 ]
}

# The C++ firmware's map: the program's operators, libstdc++'s objects
# that define them, and what those call.
cxx_map() {
    local map="$1" bad=0 sym def
    # new, new[], aligned new (single, array), nothrow new[], delete[],
    # sized delete, sized aligned delete, aligned delete[]
    for sym in _Znwj _Znaj _ZnwjSt11align_val_t _ZnajSt11align_val_t _ZnajRKSt9nothrow_t \
               _ZdaPv _ZdlPvj _ZdlPvjSt11align_val_t _ZdaPvSt11align_val_t; do
        def="$(cref_definer "$map" "$sym")"
        if ! cref_users "$map" "$sym" | grep -q 'cxx_test\.cpp\.obj$'; then
            echo "  map: cxx_test.cpp does not call $sym"; bad=1
        fi
        case "$def" in
            *libstdc++*.a\(* | *libsupc++*.a\(*) ;;
            *) echo "  map: $sym defined by '${def:-nothing}', not libstdc++"; bad=1 ;;
        esac
    done
    for sym in malloc free memalign; do
        def="$(cref_definer "$map" "$sym")"
        case "$def" in
            */ph_libc.c.obj) ;;
            *) echo "  map: $sym defined by '${def:-nothing}', not port/libc"; bad=1 ;;
        esac
        echo "  map: $sym called by libstdc++'s" \
            "$(cref_users "$map" "$sym" | grep -E 'lib(std|sup)c\+\+' | sed -E 's/.*\(([^)]*)\.o\)$/\1/' | sort -u | tr '\n' ' ')"
    done
    for sym in _ZdlPv _ZdlPvSt11align_val_t; do # what the sized forms forward to
        cref_users "$map" free | grep -q "$(cref_definer "$map" "$sym" | sed -E 's/.*\(([^)]*)\)$/\1/')" ||
            { echo "  map: the object defining $sym does not call free"; bad=1; }
    done
    if grep -qE "$newlib_allocator_members" "$map"; then
        echo "  map: newlib allocator objects linked: $(grep -oE "$newlib_allocator_members" "$map" | sort -u | tr '\n' ' ')"
        bad=1
    fi
    [ "$bad" -eq 0 ] && echo "  map: cxx_test.cpp's 9 operator new/delete forms are libstdc++'s, which call port/libc's malloc / memalign / free; no newlib allocator object"
    return "$bad"
}

cxx() {
    local b="$out/cxx"
    cmake -S "$PH_ROOT/target-tests/cxx" -B "$b" "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m3 &&
        cmake --build "$b" -j "$PH_JOBS" || return 1
    arm-none-eabi-size "$b/cxx-test.elf" | sed 's/^/  size: /'
    cxx_map "$b/cxx-test.map" || return 1
    ctest --test-dir "$b" --output-on-failure -V >"$b/ctest.log" 2>&1
    local rc=$?
    sed -n 's/^[0-9]*: \(cxx-test: .*\)/  qemu: \1/p' "$b/ctest.log"
    [ "$rc" -eq 0 ] && grep -q 'cxx-test: PASS' "$b/ctest.log"
}

cxx_noport() {
    local b="$out/cxx-noport"
    cmake -S "$PH_ROOT/target-tests/cxx" -B "$b" "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m3 \
        -DPH_CXX_WITHOUT_PORT=ON &&
        cmake --build "$b" -j "$PH_JOBS" || return 1
    if cxx_map "$b/cxx-test.map"; then
        echo "  map: the check passed without the port"
        return 1
    fi
    echo "  map: fails without the port, as it must"
}

check picolibc picolibc
check picolibc-noport picolibc_noport
check picolibc-cmake picolibc_cmake
check cxx cxx
check cxx-noport cxx_noport

if [ "$failed" -gt 0 ]; then
    echo "test-libc-ports.sh: failed: ${failed_names[*]}"
fi
echo "test-libc-ports.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
