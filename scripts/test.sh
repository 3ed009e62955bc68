#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command of the README.  Installs what is missing, then for three
# host configurations configures, builds and runs every CTest test:
#
#   build/host       default layout, RelWithDebInfo (-O2 -g)
#   build/host-san   AddressSanitizer + UndefinedBehaviorSanitizer, Debug (-O0 -g),
#                    the randomised tests at a quarter of their operations
#                    (PH_TEST_SCALE=0.25; scripts/soak.sh runs them long)
#   build/host-w32   32-bit bitmap words and the portable bit helpers: the
#                    Cortex-M0 layout on the host, RelWithDebInfo
#
# then builds the core for every Arm core and the host, warnings as errors
# (scripts/build-matrix.sh), the real power-gating ports
# (scripts/build-hw-ports.sh), runs the libFuzzer differential fuzzer for
# 60 s from its seed corpus (scripts/fuzz.sh, build/fuzz), holds the -Os
# build's malloc / free within 125 % of -O2's on Cortex-M3
# (scripts/check-os-speed.sh), builds every QEMU board's firmware, running
# its on-target suite under qemu-system-arm (scripts/boards.sh), and uses
# pageheap as a library of outside projects: find_package from an install
# prefix and add_subdirectory, on the host and for mps2-an385 under QEMU
# (scripts/test-consumer.sh), and runs the C library ports beyond newlib:
# picolibc on two boards with its link-map check, a C++ firmware's new /
# delete and STL through pageheap (scripts/test-libc-ports.sh).  Before the
# builds it checks the licence lines and that CMakePresets.json is what scripts/gen-presets.sh writes (a
# preset per board folder).  Every step runs even when an earlier one
# failed and prints its time.  The last line is "test.sh: N passed, M
# failed in T" (steps, and the whole run's time); the exit status is
# non-zero when M > 0.
#
# Environment: PH_JOBS (default 2) parallel jobs for builds and ctest;
# PH_SKIP_DEPS=1 skips install-deps.sh.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

# Sanitizer reports must fail the test, with a stack to read.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

passed=0 failed=0 failed_names=() start=$SECONDS

# step NAME CMD...: runs one step, counts it, never stops the script.
step() {
    local name="$1"; shift
    local t0=$SECONDS
    echo
    echo "=== test.sh: $name"
    # set -e does not act inside an if condition: the step functions check
    # every command themselves.
    if "$@"; then
        echo "=== test.sh: $name: OK ($((SECONDS - t0)) s)"
        passed=$((passed + 1))
    else
        echo "=== test.sh: $name: FAILED ($((SECONDS - t0)) s)"
        failed=$((failed + 1))
        failed_names+=("$name")
    fi
}

# host_config DIR CMAKE_ARGS...: configure, build, run ctest.
host_config() {
    local dir="$1"; shift
    local -a ctest_args=(--test-dir "$dir" --output-on-failure -j "$PH_JOBS" --timeout 600)
    # Once the host tests exist, a build that registers none is an error.
    if [ -f "$PH_ROOT/host-tests/CMakeLists.txt" ]; then
        ctest_args+=(--no-tests=error)
    fi
    cmake -S "$PH_ROOT" -B "$dir" "$@" || return 1
    cmake --build "$dir" -j "$PH_JOBS" || return 1
    ctest "${ctest_args[@]}" || return 1
}

if [ "${PH_SKIP_DEPS:-0}" != 1 ]; then
    step "install-deps" bash "$PH_ROOT/scripts/install-deps.sh"
fi
step "license (LICENSE + SPDX line in every file)" bash "$PH_ROOT/scripts/check-license.sh"
step "presets (CMakePresets.json = scripts/gen-presets.sh: host configs + one per board)" \
    bash "$PH_ROOT/scripts/gen-presets.sh" --check
step "plot (scripts/plot-demo.py --check: run.sh's plots from demo/qemu/sample-output.txt)" python3 "$PH_ROOT/scripts/plot-demo.py" --check
step "host (build/host)" host_config build/host \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPH_SANITIZE=OFF -DPH_WORD_BITS= -DPH_PORTABLE_BITS=OFF
step "host-san (build/host-san, ASan+UBSan, the run index in machine words: PH_LANES_SIMD=0)" host_config build/host-san \
    -DCMAKE_BUILD_TYPE=Debug -DPH_SANITIZE=ON -DPH_BUILD_BENCH=OFF -DPH_TEST_SCALE=0.25 \
    -DPH_CONFIG_DEFINES=PH_LANES_SIMD=0
step "host-w32 (build/host-w32, PH_WORD_BITS=32 PH_PORTABLE_BITS=ON)" host_config build/host-w32 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPH_WORD_BITS=32 -DPH_PORTABLE_BITS=ON -DPH_BUILD_BENCH=OFF
step "build-matrix (core for every Arm core and the host, -Werror)" \
    bash "$PH_ROOT/scripts/build-matrix.sh"
if [ -f "$PH_ROOT/scripts/build-hw-ports.sh" ]; then
    step "hw-ports (real power-gating ports: cross build + host register tests)" \
        bash "$PH_ROOT/scripts/build-hw-ports.sh"
fi
step "fuzz (libFuzzer, 60 s from the seed corpus)" bash "$PH_ROOT/scripts/fuzz.sh" 60
step "os-speed (-Os keeps the malloc / free fast paths: Cortex-M3 under QEMU)" \
    bash "$PH_ROOT/scripts/check-os-speed.sh"
if [ -f "$PH_ROOT/scripts/boards.sh" ]; then
    step "boards (every QEMU board: build, on-target suite under qemu-system-arm)" \
        bash "$PH_ROOT/scripts/boards.sh"
fi
step "consumer (find_package from an install, add_subdirectory, on the host and a board under QEMU)" \
    bash "$PH_ROOT/scripts/test-consumer.sh"
step "libc ports (picolibc on a Cortex-M3 and a Cortex-M33 QEMU board, C++ on the M3 one)" \
    bash "$PH_ROOT/scripts/test-libc-ports.sh"

echo
if [ "$failed" -gt 0 ]; then
    echo "test.sh: failed steps: ${failed_names[*]}"
fi
total=$((SECONDS - start))
echo "test.sh: $passed passed, $failed failed in $((total / 60)) min $((total % 60)) s"
[ "$failed" -eq 0 ]
