#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-scav-bench.sh BUILD_DIR
#
# Instructions per call and per released granule of ph_scavenge and ph_idle
# on a 1 GiB host heap (262,144 pages of 4 KiB), granules of 4 KiB and
# 64 KiB, counted with valgrind's callgrind: exact and repeatable on a noisy
# machine.  Prints a markdown table on stdout.  About 10 minutes on 2 cores.
#
# The port's release and acquire hooks are empty functions: the figures are
# the heap's own work (finding, marking and counting granules) plus the
# indirect call into the hook and its return, not the hook's work (madvise,
# a power switch).  See bench/scav_bench.c for the scenarios:
#
#   drain            75% of the pages live in runs of 1..64 pages, then half
#                    of the runs freed at random; one ph_scavenge(h,
#                    SIZE_MAX), then one more (nothing left to release)
#   scavenge(G)      from a scavenged heap, 100,000 churn operations (the
#                    load swings between 75% and 40% live every 25,000), one
#                    ph_scavenge(h, one granule) after every 16
#   scavenge(1 MiB)  the same, ph_scavenge(h, 1 MiB) after every 64
#   idle             the same, ph_idle(h) with the default policy: budget
#                    4 KiB per call (PH_IDLE_BUDGET_BYTES), 12% headroom,
#                    decay shift 4
#
# Method (page_bench's, see bench/run-page-bench.sh): run 1 brackets every
# measured call with CALLGRIND_ZERO_STATS / CALLGRIND_DUMP_STATS_AT(label)
# and --combine-dumps=yes, so callgrind writes one part per call; the
# wrapper's constant overhead is measured through the same wrapper with a
# one-instruction stub and subtracted (stub - 1), so a figure counts from the
# function's first instruction to its `ret`, callees included.  scav_bench
# prints `call <label> <bytes released>` per measured call, in the same
# order, which gives each part its granule count.  Run 2 repeats the trace
# without client requests under --toggle-collect=ph_scavenge
# --toggle-collect=ph_idle; the inclusive cost that callgrind_annotate gives
# must equal the sum of the per-call figures (checked).
#
# Columns: per call = every measured call; releasing = the calls that
# released at least one granule; per granule: amortised = all instructions
# of all calls (empty ones included) / granules released; median and worst
# of (a releasing call's instructions / the granules it released); empty
# calls = calls that released nothing.
#
# Environment: PH_SCAV_BENCH_OPS (100000) churn operations, PH_SCAV_BENCH_SEED
# (1), PH_SCAV_BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

# shellcheck source=bench/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
bench_setup scav_bench $# "${1:-}" valgrind callgrind_annotate awk sort paste
OPS=${PH_SCAV_BENCH_OPS:-100000}
SEED=${PH_SCAV_BENCH_SEED:-1}

bench_workdir scav-bench "${PH_SCAV_BENCH_KEEP:-0}"

# name|granule|arguments|labels|function
CASES=()
for g in 4096 65536; do
    CASES+=("drain-$g|$g|--scenario drain|scav scav-empty|ph_scavenge")
    CASES+=("scavg-$g|$g|--scenario scav --nbytes $g|scav|ph_scavenge")
    CASES+=("scav1m-$g|$g|--scenario scav --nbytes 1048576 --every 64|scav|ph_scavenge")
    CASES+=("idle-$g|$g|--scenario idle|idle|ph_idle")
done

run_case() {
    local name=$1 g=$2 args=$3 out=$WORK/$1
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
        --combine-dumps=yes --dump-instr=no --dump-line=no \
        "$BIN" --granule "$g" $args --ops "$OPS" --seed "$SEED" --mode perop \
        >"$out.txt" 2>"$out.err" || { echo "$0: $name (perop) failed" >&2; cat "$out.err" >&2; return 1; }
    # label summary, one per part, in order
    awk '/^desc: Trigger: Client Request: / { label = $5; next }
         /^summary: / && label != "" { print label, $2; label = "" }' "$out.cg" >"$out.parts"
    rm -f "$out.cg"
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --callgrind-out-file="$out.plain.cg" \
        --collect-atstart=no --toggle-collect=ph_scavenge --toggle-collect=ph_idle \
        "$BIN" --granule "$g" $args --ops "$OPS" --seed "$SEED" --mode plain \
        >"$out.plain.txt" 2>"$out.plain.err" || { echo "$0: $name (plain) failed" >&2; return 1; }
    callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$out.plain.cg" >"$out.annotate"
    rm -f "$out.plain.cg"
}

pids=()
for c in "${CASES[@]}"; do
    IFS='|' read -r name g args labels fn <<<"$c"
    run_case "$name" "$g" "$args" & pids+=($!)
    if [ ${#pids[@]} -ge 2 ]; then
        for pid in "${pids[@]}"; do wait "$pid"; done
        pids=()
    fi
done
for pid in "${pids[@]}"; do wait "$pid"; done

# inclusive FUNCTION FILE: inclusive Ir of a function from callgrind_annotate.
inclusive() {
    awk -v fn="$1" '{ line = $0; sub(/\([^)]*\)/, "", line); split(line, w, " ")
                      f = w[2]; sub(/.*:/, "", f) }
                    f == fn { gsub(/,/, "", w[1]); print w[1]; exit }' "$2"
}
# med_max: median (lower) and maximum of the numbers on stdin ("- -" if none).
med_max() { sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)], a[NR]; else print "-", "-" }'; }

status=0
checks=()
echo "## pageheap scavenger: instructions per call and per released granule (callgrind)"
echo
echo "1 GiB heap (262,144 pages of 4 KiB), x86-64, one region; release/acquire hooks are empty"
echo "functions (the figures include calling them, not any work in them). Churn: $OPS operations,"
echo "runs of 1..64 pages, load swinging between 75% and 40% live; seed $SEED."
echo
echo "| granule | call | calls (releasing) | granules released | per call median / worst | releasing call median / worst | per granule amortised / median / worst | empty call median / worst |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
    IFS='|' read -r name g args labels fn <<<"$c"
    out=$WORK/$name
    case $fn in ph_scavenge) stub=stub-scav ;; *) stub=stub-idle ;; esac
    read -r smin smax <<<"$(awk -v l="$stub" '$1 == l { print $2 }' "$out.parts" | sort -n | awk 'NR == 1 { lo = $1 } { hi = $1 } END { print lo, hi }')"
    if [ "$smin" != "$smax" ]; then
        echo "calibration of $stub is not constant ($smin..$smax)" >&2; status=1
    fi
    over=$((smin - 1))
    total_all=0
    for label in $labels; do
        # "instructions granules" per call of this label
        paste -d' ' <(awk -v l="$label" -v o="$over" '$1 == l { print $2 - o }' "$out.parts") \
                    <(awk -v l="$label" -v g="$g" '$1 == "call" && $2 == l { print $3 / g }' "$out.txt") \
            >"$out.$label.pairs"
        nparts=$(awk -v l="$label" '$1 == l' "$out.parts" | wc -l)
        ncalls=$(awk -v l="$label" '$1 == "call" && $2 == l' "$out.txt" | wc -l)
        if [ "$nparts" != "$ncalls" ] || [ "$nparts" = 0 ]; then
            echo "$name/$label: $nparts dump parts for $ncalls calls" >&2; status=1
        fi
        read -r n nrel gran total <<<"$(awk '{ n++; t += $1; gr += $2; if ($2 > 0) r++ }
            END { printf "%d %d %d %.0f\n", n, r, gr, t }' "$out.$label.pairs")"
        total_all=$((total_all + total))
        read -r cmed cmax <<<"$(awk '{ print $1 }' "$out.$label.pairs" | med_max)"
        read -r rmed rmax <<<"$(awk '$2 > 0 { print $1 }' "$out.$label.pairs" | med_max)"
        read -r pmed pmax <<<"$(awk '$2 > 0 { printf "%.1f\n", $1 / $2 }' "$out.$label.pairs" | med_max)"
        read -r emed emax <<<"$(awk '$2 == 0 { print $1 }' "$out.$label.pairs" | med_max)"
        amort=$(awk -v t="$total" -v gr="$gran" 'BEGIN { if (gr > 0) printf "%.1f", t / gr; else print "-" }')
        case $name in
            drain-*)  what="ph_scavenge(h, SIZE_MAX)"; [ "$label" = scav-empty ] && what="ph_scavenge(h, SIZE_MAX), nothing left" ;;
            scavg-*)  what="ph_scavenge(h, $((g / 1024)) KiB) every 16 ops" ;;
            scav1m-*) what="ph_scavenge(h, 1 MiB) every 64 ops" ;;
            idle-*)   what="ph_idle(h), 4 KiB budget, every 16 ops" ;;
        esac
        printf '| %s KiB | %s | %s (%s) | %s | %s / %s | %s / %s | %s / %s / %s | %s / %s |\n' \
            "$((g / 1024))" "$what" "$n" "$nrel" "$gran" "$cmed" "$cmax" "$rmed" "$rmax" \
            "$amort" "$pmed" "$pmax" "$emed" "$emax"
    done
    incl=$(inclusive "$fn" "$out.annotate")
    agree=yes
    [ "$incl" = "$total_all" ] || { agree=NO; status=1; }
    grep -q 'check=0' "$out.txt" || status=1
    checks+=("- $name: per-call figures sum to $total_all instructions; profile (inclusive cost of $fn) $incl: agree exactly: $agree. Calibration overhead subtracted: $over. $(grep -o 'check=[^ ]*' "$out.txt"), $(grep -o 'failed_allocs=[^ ]*' "$out.txt").")
done
echo
echo "Figures are instructions from the function's first instruction to its return, everything"
echo "it calls included. Command: \`bench/run-scav-bench.sh BUILD_DIR\` (RelWithDebInfo build)."
echo
echo "### Checks"
echo
printf '%s\n' "${checks[@]}"
exit $status
