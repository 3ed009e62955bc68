#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# scripts/test-consumer.sh: pageheap used as a library by outside projects
# (consumer-tests/), from scratch in build/consumer/:
#
#   install-host      pageheap built for the host with PH_WORD_BITS=32
#                     PH_PORTABLE_BITS=ON PH_CONFIG_DEFINES=PH_MAX_REGIONS=12
#                     (layout switches and a build parameter that must
#                     travel with the package), `cmake --install` into prefix-host:
#                     the library, pageheap.h, pageheapConfig*.cmake and
#                     pageheapTargets*.cmake must be there
#   host-package      consumer-tests/host: find_package(pageheap 0.1 CONFIG
#                     REQUIRED) from prefix-host, pageheap::pageheap; runs it
#   version-refused   the same asking for the next minor and the next major
#                     version must fail to configure (0.x: same minor only)
#   host-subdir       consumer-tests/host with add_subdirectory(pageheap):
#                     only the core library target, no test, the parent's
#                     CMAKE_BUILD_TYPE untouched; runs it
#   firmware-subdir   consumer-tests/firmware with cmake/arm-none-eabi.cmake
#                     and add_subdirectory: only pageheap, pageheap_newlib,
#                     pageheap_cortexm; runs it under qemu-system-arm
#                     (mps2-an385)
#   install-arm       pageheap cross-built for cortex-m3, installed into
#                     prefix-arm (+ ph_newlib.h, ph_libc.h, ph_cortexm.h, ph_newlib.c, ph_libc.c,
#                     libpageheap_cortexm.a)
#   firmware-package  consumer-tests/firmware with find_package(pageheap
#                     COMPONENTS newlib cortexm) from prefix-arm; QEMU
#   wrong-install     the firmware against prefix-host (a 64-bit host
#                     build), and with PH_CPU=cortex-m4 against prefix-arm,
#                     must fail to configure
#
# A run must exit 0 and print its PASS line ("consumer: PASS",
# "consumer-firmware: PASS").  Each check's output goes to
# build/consumer/logs/<check>.log and is shown when it fails.  The last
# line is "test-consumer.sh: N passed, M failed"; the exit status is
# non-zero when M > 0.  Environment: PH_JOBS (default 2).
set -uo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT" || exit 1

out="$PH_ROOT/build/consumer"
logs="$out/logs"
rm -rf "$out"
mkdir -p "$logs"
toolchain="$PH_ROOT/cmake/arm-none-eabi.cmake"
gen=()
command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)

passed=0 failed=0 failed_names=()

# check NAME FUNCTION: runs one check with its output in logs/NAME.log.
check() {
    local name="$1"; shift
    local t0=$SECONDS
    if "$@" >"$logs/$name.log" 2>&1; then
        echo "test-consumer.sh: $name: OK ($((SECONDS - t0)) s)"
        passed=$((passed + 1))
    else
        echo "test-consumer.sh: $name: FAILED ($((SECONDS - t0)) s); its log:"
        sed 's/^/  | /' "$logs/$name.log"
        failed=$((failed + 1))
        failed_names+=("$name")
    fi
}

# configure DIR ARGS...: a fresh configure.
configure() {
    local dir="$1"; shift
    rm -rf "$dir"
    cmake "${gen[@]}" -B "$dir" "$@"
}

# run_tests DIR PASS_LINE: ctest in DIR must run exactly one test, it must
# pass (exit 0) and print PASS_LINE.
run_tests() {
    local dir="$1" line="$2" n
    n="$(ctest --test-dir "$dir" -N | sed -n 's/^Total Tests: //p')"
    [ "$n" = 1 ] || { echo "expected 1 test in $dir, found ${n:-none}"; return 1; }
    ctest --test-dir "$dir" --output-on-failure -V >"$dir/ctest.log" 2>&1
    local rc=$?
    cat "$dir/ctest.log"
    [ "$rc" -eq 0 ] || return 1
    grep -q "$line" "$dir/ctest.log" || { echo "no line '$line'"; return 1; }
}

# has_files PREFIX FILE...: every FILE exists under PREFIX.
has_files() {
    local prefix="$1" f bad=0; shift
    for f in "$@"; do
        [ -f "$prefix/$f" ] || { echo "not installed: $prefix/$f"; bad=1; }
    done
    (cd "$prefix" && find . -type f | sort)
    return "$bad"
}

# must_fail_configure DIR REASON ARGS...: configuring must fail, with a
# message matching the extended regex REASON.
must_fail_configure() {
    local dir="$1" reason="$2"; shift 2
    if configure "$dir" "$@" >"$dir.log" 2>&1; then
        cat "$dir.log"
        echo "configured, but should have been refused: $*"
        return 1
    fi
    cat "$dir.log"
    tr -s ' \n' ' ' <"$dir.log" | grep -qE "$reason" ||
        { echo "refused, but not with /$reason/"; return 1; }
    echo "refused, as it should be"
}

compatible="compatible with requested version"
package_files=(lib/libpageheap.a include/pageheap.h
               lib/cmake/pageheap/pageheapConfig.cmake
               lib/cmake/pageheap/pageheapConfigVersion.cmake
               lib/cmake/pageheap/pageheapTargets.cmake)

install_host() {
    configure "$out/pageheap-host" -S "$PH_ROOT" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DPH_BUILD_TESTS=OFF -DPH_BUILD_BENCH=OFF -DPH_BUILD_DEMO=OFF \
        -DPH_WORD_BITS=32 -DPH_PORTABLE_BITS=ON -DPH_CONFIG_DEFINES=PH_MAX_REGIONS=12 &&
    cmake --build "$out/pageheap-host" -j "$PH_JOBS" &&
    cmake --install "$out/pageheap-host" --prefix "$out/prefix-host" &&
    has_files "$out/prefix-host" "${package_files[@]}" lib/libpageheap_preload.so
}

host_package() {
    configure "$out/host-package" -S consumer-tests/host \
        "-DCMAKE_PREFIX_PATH=$out/prefix-host" -DCONSUMER_EXPECT_WORD_BITS=32 \
        -DCONSUMER_EXPECT_MAX_REGIONS=12 &&
    cmake --build "$out/host-package" -j "$PH_JOBS" &&
    run_tests "$out/host-package" "consumer: PASS"
}

# The next minor and the next major release of what project(VERSION) says.
version_refused() {
    local v major minor
    v="$(sed -n 's/^project(pageheap VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt)"
    major="${v%%.*}" minor="${v#*.}"; minor="${minor%%.*}"
    echo "pageheap $v: asking for $major.$((minor + 1)) and $((major + 1)).0"
    must_fail_configure "$out/host-minor" "$compatible" -S consumer-tests/host \
        "-DCMAKE_PREFIX_PATH=$out/prefix-host" "-DCONSUMER_PAGEHEAP_VERSION=$major.$((minor + 1))" &&
    must_fail_configure "$out/host-major" "$compatible" -S consumer-tests/host \
        "-DCMAKE_PREFIX_PATH=$out/prefix-host" "-DCONSUMER_PAGEHEAP_VERSION=$((major + 1)).0"
}

host_subdir() {
    configure "$out/host-subdir" -S consumer-tests/host -DCONSUMER_PAGEHEAP=subdir &&
    cmake --build "$out/host-subdir" -j "$PH_JOBS" &&
    run_tests "$out/host-subdir" "consumer: PASS"
}

firmware_subdir() {
    configure "$out/firmware-subdir" -S consumer-tests/firmware \
        "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m3 -DCONSUMER_PAGEHEAP=subdir &&
    cmake --build "$out/firmware-subdir" -j "$PH_JOBS" &&
    run_tests "$out/firmware-subdir" "consumer-firmware: PASS"
}

install_arm() {
    configure "$out/pageheap-arm" -S "$PH_ROOT" "-DCMAKE_TOOLCHAIN_FILE=$toolchain" \
        -DPH_CPU=cortex-m3 &&
    cmake --build "$out/pageheap-arm" -j "$PH_JOBS" &&
    cmake --install "$out/pageheap-arm" --prefix "$out/prefix-arm" &&
    has_files "$out/prefix-arm" "${package_files[@]}" lib/libpageheap_cortexm.a \
        include/ph_newlib.h include/ph_libc.h include/ph_cortexm.h \
        share/pageheap/newlib/ph_newlib.c share/pageheap/newlib/ph_libc.c
}

firmware_package() {
    configure "$out/firmware-package" -S consumer-tests/firmware \
        "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m3 -DCONSUMER_PAGEHEAP=package \
        "-DCMAKE_PREFIX_PATH=$out/prefix-arm" &&
    cmake --build "$out/firmware-package" -j "$PH_JOBS" &&
    run_tests "$out/firmware-package" "consumer-firmware: PASS"
}

wrong_install() {
    must_fail_configure "$out/firmware-hostpkg" "$compatible.*64bit" -S consumer-tests/firmware \
        "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m3 -DCONSUMER_PAGEHEAP=package \
        "-DCMAKE_PREFIX_PATH=$out/prefix-host" &&
    must_fail_configure "$out/firmware-m4" "built with PH_CPU=cortex-m3" -S consumer-tests/firmware \
        "-DCMAKE_TOOLCHAIN_FILE=$toolchain" -DPH_CPU=cortex-m4 -DCONSUMER_PAGEHEAP=package \
        "-DCMAKE_PREFIX_PATH=$out/prefix-arm"
}

check install-host install_host
check host-package host_package
check version-refused version_refused
check host-subdir host_subdir
check firmware-subdir firmware_subdir
check install-arm install_arm
check firmware-package firmware_package
check wrong-install wrong_install

if [ "$failed" -gt 0 ]; then
    echo "test-consumer.sh: failed: ${failed_names[*]}"
fi
echo "test-consumer.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
