#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command of the README.  Installs what is missing, then for three
# host configurations configures, builds and runs every CTest test:
#
#   build/host       default layout, RelWithDebInfo (-O2 -g)
#   build/host-san   AddressSanitizer + UndefinedBehaviorSanitizer, Debug (-O0 -g)
#   build/host-w32   32-bit bitmap words and the portable bit helpers: the
#                    Cortex-M0 layout on the host, RelWithDebInfo
#
# then builds the core for every Arm core and the host, warnings as errors
# (scripts/build-matrix.sh), the real power-gating ports
# (scripts/build-hw-ports.sh), runs the libFuzzer differential fuzzer for
# 60 s from its seed corpus (scripts/fuzz.sh, build/fuzz), and builds every
# QEMU board's firmware, running its on-target suite under qemu-system-arm
# (scripts/boards.sh).  Every step
# runs even when an earlier one failed.  The last line is "test.sh: N
# passed, M failed" (steps); the exit status is non-zero when M > 0.
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

passed=0 failed=0 failed_names=()

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
step "host (build/host)" host_config build/host \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPH_SANITIZE=OFF -DPH_WORD_BITS= -DPH_PORTABLE_BITS=OFF
step "host-san (build/host-san, ASan+UBSan)" host_config build/host-san \
    -DCMAKE_BUILD_TYPE=Debug -DPH_SANITIZE=ON -DPH_BUILD_BENCH=OFF
step "host-w32 (build/host-w32, PH_WORD_BITS=32 PH_PORTABLE_BITS=ON)" host_config build/host-w32 \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPH_WORD_BITS=32 -DPH_PORTABLE_BITS=ON -DPH_BUILD_BENCH=OFF
step "build-matrix (core for every Arm core and the host, -Werror)" \
    bash "$PH_ROOT/scripts/build-matrix.sh"
if [ -f "$PH_ROOT/scripts/build-hw-ports.sh" ]; then
    step "hw-ports (real power-gating ports: cross build + host register tests)" \
        bash "$PH_ROOT/scripts/build-hw-ports.sh"
fi
step "fuzz (libFuzzer, 60 s from the seed corpus)" bash "$PH_ROOT/scripts/fuzz.sh" 60
if [ -f "$PH_ROOT/scripts/boards.sh" ]; then
    step "boards (every QEMU board: build, on-target suite under qemu-system-arm)" \
        bash "$PH_ROOT/scripts/boards.sh"
fi

echo
if [ "$failed" -gt 0 ]; then
    echo "test.sh: failed steps: ${failed_names[*]}"
fi
echo "test.sh: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
