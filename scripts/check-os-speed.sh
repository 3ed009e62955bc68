#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A firmware built for size keeps the malloc and free fast paths: runs the
# on-target benchmark (bench/target, small-object trace) on mps2-an385
# (Cortex-M3) at -O2 and at -Os and fails when the -Os mean of ph_malloc or
# of ph_free is more than PH_OS_SPEED_MAX_PCT percent (default 125) of the
# -O2 mean measured in the same run.  Instruction counts under QEMU
# -icount, so the figures repeat exactly; a shorter trace than the full
# benchmark's (PH_BENCH_OPS, default 200000 here) keeps it under a minute.
# (Before the fast path was kept at -Os: free 137.8 against 90.0, 153 %.)
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

max_pct="${PH_OS_SPEED_MAX_PCT:-125}"
export PH_BENCH_OPS="${PH_BENCH_OPS:-200000}"
board=mps2-an385
declare -A mean_malloc mean_free
for opt in O2 Os; do
    out="$(PH_TARGET_BENCH_OPT=$opt PH_TARGET_BENCH_ROOT="$PH_ROOT/build/os-speed-$opt" \
           bash bench/target/run-target-bench.sh "$board" 2>"$PH_ROOT/build/os-speed-$opt.log")" || {
        echo "check-os-speed: the -$opt benchmark failed, see build/os-speed-$opt.log"
        exit 1
    }
    # The first pageheap row: the trace's own heap.  Columns: malloc and
    # free "mean / median / worst".
    row="$(printf '%s\n' "$out" | grep -m1 '^| pageheap |')" || {
        echo "check-os-speed: no pageheap row in the -$opt output"; exit 1; }
    mean_malloc[$opt]="$(printf '%s\n' "$row" | awk -F'|' '{ split($5, a, "/"); print a[1] + 0 }')"
    mean_free[$opt]="$(printf '%s\n' "$row" | awk -F'|' '{ split($6, a, "/"); print a[1] + 0 }')"
done
status=0
for what in malloc free; do
    if [ "$what" = malloc ]; then o2="${mean_malloc[O2]}" os="${mean_malloc[Os]}"
    else o2="${mean_free[O2]}" os="${mean_free[Os]}"; fi
    pct="$(awk -v a="$os" -v b="$o2" 'BEGIN { printf "%.1f", 100 * a / b }')"
    verdict=OK
    if awk -v p="$pct" -v m="$max_pct" 'BEGIN { exit !(p > m) }'; then verdict=FAIL; status=1; fi
    echo "check-os-speed: $board ph_$what mean -Os $os, -O2 $o2 instructions: $pct % (limit $max_pct %): $verdict"
done
exit "$status"
