#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The long randomised runs that the test command shortens: the host tests
# under AddressSanitizer + UndefinedBehaviorSanitizer with the randomised
# tests' operation counts multiplied by SCALE (default 4, i.e. 16 times the
# test command's sanitizer run and 4 times its -O2 run), then the -O2 build
# at the same scale.  For a nightly job or before a release; not part of
# scripts/test.sh.  A seed other than the tests' fixed ones:
# PH_TEST_SEED=<n> scripts/soak.sh.
#
#   scripts/soak.sh [SCALE]
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

scale="${1:-4}"
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:strict_string_checks=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
t0=$SECONDS
for cfg in san o2; do
    dir="build/soak-$cfg"
    case "$cfg" in
        san) args=(-DCMAKE_BUILD_TYPE=Debug -DPH_SANITIZE=ON) ;;
        o2)  args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPH_SANITIZE=OFF) ;;
    esac
    cmake -S . -B "$dir" "${args[@]}" -DPH_BUILD_BENCH=OFF -DPH_TEST_SCALE="$scale" >/dev/null
    cmake --build "$dir" -j "$PH_JOBS" >/dev/null
    # Only the randomised host tests take the scale; the rest run as always.
    ctest --test-dir "$dir" -L host --output-on-failure -j "$PH_JOBS" --timeout 36000
done
echo "soak.sh: scale $scale passed in $((SECONDS - t0)) s"
