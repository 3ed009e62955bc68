#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmarks: installs what is missing, builds the host configuration
# (build/host, RelWithDebInfo: -O2 -g, so callgrind can name functions) and
# runs bench/run-page-bench.sh (page allocator), bench/run-scav-bench.sh
# (scavenger) and bench/run-obj-bench.sh (malloc family against glibc,
# jemalloc and mimalloc) on it.  Arguments are passed on to the first.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$PH_ROOT/scripts/install-deps.sh" >&2
cmake -S "$PH_ROOT" -B "$PH_ROOT/build/host" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
cmake --build "$PH_ROOT/build/host" -j "$PH_JOBS" >&2
bench="$PH_ROOT/bench/run-page-bench.sh"
if [ ! -f "$bench" ]; then
    echo "bench.sh: bench/run-page-bench.sh is not there yet" >&2
    exit 1
fi
cd "$PH_ROOT"
bash "$bench" build/host "$@"
echo
bash "$PH_ROOT/bench/run-scav-bench.sh" build/host
echo
bash "$PH_ROOT/bench/run-obj-bench.sh" build/host
