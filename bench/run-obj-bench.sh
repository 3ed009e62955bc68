#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-obj-bench.sh BUILD_DIR
#
# Instructions per call of pageheap's malloc family against glibc, jemalloc
# and mimalloc (Debian's libjemalloc2 / libmimalloc2.0, LD_PRELOAD'ed), on
# the same two traces, counted exactly with valgrind's callgrind; and the
# footprint each one needs.  Prints markdown tables on stdout.  About 4-5
# minutes on 2 cores (PH_JOBS, default 2, runs in parallel).
#
# The traces (bench/obj_bench.c generates them from the seed before anything
# runs, so every allocator gets exactly the same requests):
#   small  the small-object workload (as on Cortex-M3): sizes uniform in 16..512 B,
#          ~745 live objects (75% of a 256 KiB heap), 1,000,000 measured
#          operations (malloc with probability 0.5 + (745 - live) / 64, else
#          free a uniformly chosen live object); pageheap with 256-byte pages
#          (the Cortex-M default) in a 256 KiB region.
#   mixed  sizes log-uniform 8 B..64 KiB, 10% of them 64..256 KiB, ~2,000
#          live objects (~41 MB), 300,000 measured operations of which 10%
#          reallocs (size x 2^u, u in -1..1); pageheap with 4 KiB pages in a
#          64 MiB region.
#   Warm-up (not measured): the mallocs that reach the live target.  It
#   includes each C library allocator's initialisation (first-call set-up,
#   arena creation), so the worst cases below are after a warm-up.  All runs
#   use LD_BIND_NOW=1, so no lazy PLT binding inside an allocator is counted.
#
# Method (page_bench's, see bench/run-page-bench.sh), one process per
# allocator and trace:
#   1. perop: the first WINDOW measured operations each go through a
#      wrapper that brackets the one call with CALLGRIND_ZERO_STATS /
#      CALLGRIND_DUMP_STATS_AT(label), --combine-dumps=yes; the wrapper's
#      constant overhead, measured through the same wrapper with a
#      one-instruction stub, is subtracted (stub - 1).  A figure counts from
#      the allocator function's first instruction to its `ret`, callees
#      included.  Median, 99th percentile and worst come from this window.
#      Instrumentation starts after the warm-up (--instr-atstart=no, then
#      CALLGRIND_START_INSTRUMENTATION), so that the start-up code has no
#      cost centres for each dump to walk: a dump then costs ~0.1 ms and
#      ~1 KB, which is still why the window is the first 250,000 operations
#      of the small trace (of 1,000,000) and the first 100,000 of the mixed
#      one (of 300,000).
#   2. plain: the same trace, no client requests; the window's calls go
#      through out-of-line wrappers win_<op>, the rest through all_<op>;
#      callgrind_annotate's inclusive - self cost of a wrapper is the exact
#      cost of the allocator calls it made.  The window's sums must equal
#      the per-op dumps' (checked); the means in the table are over ALL
#      measured operations (win + all).
#   3. native (no valgrind): footprints, and every object filled with a
#      pattern checked at its free / realloc; pageheap also: alignment,
#      ph_usable_size, ph_check, and a binary search for the smallest region
#      (whole pages, metadata included) that serves the whole trace without
#      one failed request.  When the small trace fails requests in the 256
#      KiB region, pageheap is also measured in that smallest region.
#
# Environment: PH_OBJ_BENCH_SEED (1), PH_OBJ_BENCH_SMALL_OPS (1000000),
# PH_OBJ_BENCH_MIXED_OPS (300000), PH_OBJ_BENCH_SMALL_WINDOW (250000),
# PH_OBJ_BENCH_MIXED_WINDOW (100000), PH_OBJ_BENCH_SMALL_PAGE (256),
# PH_OBJ_BENCH_MIXED_PAGE (4096), PH_OBJ_BENCH_ALLOCS ("ph glibc jemalloc
# mimalloc"), PH_JOBS (2), PH_OBJ_BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

# shellcheck source=bench/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
bench_setup obj_bench $# "${1:-}" valgrind callgrind_annotate awk sort

SEED=${PH_OBJ_BENCH_SEED:-1}
JOBS=${PH_JOBS:-2}
read -ra ALLOCS <<<"${PH_OBJ_BENCH_ALLOCS:-ph glibc jemalloc mimalloc}"
declare -A OPS=([small]=${PH_OBJ_BENCH_SMALL_OPS:-1000000} [mixed]=${PH_OBJ_BENCH_MIXED_OPS:-300000})
declare -A WINDOW=([small]=${PH_OBJ_BENCH_SMALL_WINDOW:-250000} [mixed]=${PH_OBJ_BENCH_MIXED_WINDOW:-100000})
declare -A PAGE=([small]=${PH_OBJ_BENCH_SMALL_PAGE:-256} [mixed]=${PH_OBJ_BENCH_MIXED_PAGE:-4096})
declare -A HEAP=([small]=262144 [mixed]=67108864)
declare -A PRELOAD=([ph]="" [glibc]="" [jemalloc]=libjemalloc.so.2 [mimalloc]=libmimalloc.so.2)
declare -A NAME=([ph]=pageheap [glibc]=glibc [jemalloc]=jemalloc [mimalloc]=mimalloc)
TRACES=(small mixed)

bench_workdir obj-bench "${PH_OBJ_BENCH_KEEP:-0}"

# shellcheck disable=SC2317  # called through pool_run
# run_bench ALLOC TRACE HEAP_BYTES MODE: obj_bench with the allocator's
# preload, under valgrind for perop/plain.  Output in $WORK/<id>.<mode>.*
run_bench() {
    local alloc=$1 trace=$2 heap=$3 mode=$4
    local id=$trace-$alloc-$heap out
    out=$WORK/$id.$mode
    local args=(--alloc "$alloc" --trace "$trace" --ops "${OPS[$trace]}" --seed "$SEED"
                --window "${WINDOW[$trace]}" --page-size "${PAGE[$trace]}" --heap-bytes "$heap"
                --mode "$mode")
    local env=(env LD_BIND_NOW=1)
    [ -n "${PRELOAD[$alloc]}" ] && env+=(LD_PRELOAD="${PRELOAD[$alloc]}")
    local rc=0
    case $mode in
        native)
            "${env[@]}" "$BIN" "${args[@]}" >"$out.txt" 2>"$out.err" || rc=$? ;;
        perop)
            "${env[@]}" valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
                --instr-atstart=no --combine-dumps=yes --dump-instr=no --dump-line=no \
                --compress-strings=yes --compress-pos=yes \
                "$BIN" "${args[@]}" >"$out.txt" 2>"$out.err" || rc=$? ;;
        plain)
            "${env[@]}" valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
                --instr-atstart=no --dump-instr=no --dump-line=no \
                "$BIN" "${args[@]}" >"$out.txt" 2>"$out.err" || rc=$? ;;
    esac
    echo "$rc" >"$out.rc"
    if [ "$mode" = perop ] && [ -f "$out.cg" ]; then
        # One "label value" per part, folded into a histogram, then per label:
        # n sum min median p99 max (median: the lower one).
        grep -E '^(desc: Trigger: Client Request: |summary: )' "$out.cg" |
            awk '/^desc:/ { label = $5; next }
                 label != "" { h[label " " $2]++; label = "" }
                 END { for (k in h) print k, h[k] }' |
            sort -k1,1 -k2,2n |
            awk 'function flush() {
                     if (cur == "") return
                     mid = int((n + 1) / 2); p = int((99 * n + 99) / 100); acc = 0; med = ""; q = ""
                     for (i = 1; i <= m; i++) {
                         acc += cnt[i]
                         if (med == "" && acc >= mid) med = val[i]
                         if (q == "" && acc >= p) q = val[i]
                     }
                     printf "%s %d %.0f %d %d %d %d\n", cur, n, sum, val[1], med, q, val[m]
                 }
                 $1 != cur { flush(); cur = $1; n = 0; sum = 0; m = 0 }
                 { m++; val[m] = $2; cnt[m] = $3; n += $3; sum += $2 * $3 }
                 END { flush() }' >"$out.stats"
        rm -f "$out.cg"
    fi
    if [ "$mode" = plain ] && [ -f "$out.cg" ]; then
        callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$out.cg" >"$out.annotate"
        callgrind_annotate --threshold=100 --auto=no "$out.cg" >"$out.self"
        rm -f "$out.cg"
    fi
    return 0
}

# A job pool of $JOBS: start "$@" once fewer than $JOBS jobs run.
pool_run() {
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    "$@" &
}
pool_wait() { wait; }

# ---- stage 1: native runs (footprints; which allocators are there) --------

for trace in "${TRACES[@]}"; do
    for alloc in "${ALLOCS[@]}"; do
        pool_run run_bench "$alloc" "$trace" "${HEAP[$trace]}" native
    done
done
pool_wait

declare -A AVAILABLE
status=0
notes=()
for trace in "${TRACES[@]}"; do
    for alloc in "${ALLOCS[@]}"; do
        out=$WORK/$trace-$alloc-${HEAP[$trace]}.native
        rc=$(cat "$out.rc")
        if [ "$rc" = 2 ] && grep -q 'malloc comes from' "$out.err"; then
            notes+=("- ${NAME[$alloc]}: not measured ($(head -1 "$out.err"))")
            continue
        fi
        AVAILABLE[$alloc]=1
        if [ "$rc" != 0 ]; then
            echo "$0: ${NAME[$alloc]} ($trace, native) failed:" >&2
            cat "$out.err" >&2
            status=1
        fi
    done
done

# field KEY FILE [PREFIX]: value of key=value on the first line starting with PREFIX.
field() {
    awk -v key="$1" -v pre="${3:-result}" '$1 == pre {
        for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) { print kv[2]; exit } } }' "$2"
}

# The runs under callgrind: "alloc trace heap" per line.  pageheap's small
# trace also in the smallest region that serves it, when 256 KiB does not.
CASES=()
for trace in "${TRACES[@]}"; do
    for alloc in "${ALLOCS[@]}"; do
        [ -n "${AVAILABLE[$alloc]:-}" ] || continue
        CASES+=("$alloc $trace ${HEAP[$trace]}")
        if [ "$alloc" = ph ]; then
            nat=$WORK/$trace-ph-${HEAP[$trace]}.native.txt
            failed=$(field failed "$nat")
            minb=$(field min_heap_bytes "$nat" footprint_search)
            if [ "${failed:-0}" != 0 ] && [ -n "$minb" ]; then
                CASES+=("ph $trace $minb")
            fi
        fi
    done
done

# ---- stage 2: callgrind, per-op dumps first (the long ones), then plain ---

for c in "${CASES[@]}"; do
    read -r alloc trace heap <<<"$c"
    pool_run run_bench "$alloc" "$trace" "$heap" perop
done
for c in "${CASES[@]}"; do
    read -r alloc trace heap <<<"$c"
    pool_run run_bench "$alloc" "$trace" "$heap" plain
done
pool_wait

# ---- the tables ------------------------------------------------------------

# label_stat LABEL FILE: "n sum min median p99 max" of a label.
label_stat() { awk -v l="$1" '$1 == l { print $2, $3, $4, $5, $6, $7 }' "$2"; }
# cost FUNCTION FILE: Ir of a function from callgrind_annotate (0 if absent).
cost() {
    awk -v fn="$1" 'BEGIN { v = 0 }
                    { line = $0; sub(/\([^)]*\)/, "", line); split(line, w, " ")
                      f = w[2]; sub(/.*:/, "", f) }
                    f == fn { gsub(/,/, "", w[1]); v = w[1]; exit }
                    END { print v }' "$2"
}
kib() { awk -v b="$1" 'BEGIN { if (b % 1024 == 0) printf "%d KiB", b / 1024; else printf "%.1f KiB", b / 1024 }'; }

declare -A PH_SMALL_FIG
checks=()
echo "## Object allocator: instructions per call (callgrind), pageheap vs glibc, jemalloc, mimalloc"
echo
# trace_file TRACE: a native run's output that describes the trace.
trace_file() { grep -l '^trace ' "$WORK/$1"-*.native.txt | head -1; }
small_txt=$(trace_file small)
mixed_txt=$(trace_file mixed)
echo "Traces (seed $SEED, x86-64 host; each allocator runs the same requests in its own process):"
echo
for trace in "${TRACES[@]}"; do
    t=$(trace_file "$trace")
    case $trace in
        small) desc="sizes uniform 16..512 B, ~745 live objects (75% of 256 KiB), malloc/free only" ;;
        mixed) desc="sizes log-uniform 8 B..64 KiB + 10% 64..256 KiB, ~2000 live objects, 10% reallocs" ;;
    esac
    printf -- '- **%s**: %s; %s measured ops (%s mallocs, %s frees, %s reallocs) after %s warm-up mallocs; live bytes mean %s, peak %s (%s objects at most).\n' \
        "$trace" "$desc" "$(field ops "$t" trace)" "$(field mallocs "$t" trace)" \
        "$(field frees "$t" trace)" "$(field reallocs "$t" trace)" "$(field warmup_ops "$t" trace)" \
        "$(field mean_live_bytes "$t" trace)" "$(field peak_live_bytes "$t" trace)" \
        "$(field peak_live_objects "$t" trace)"
done
echo
echo "| trace | allocator | heap | measured ops (per-op window) | malloc mean / median / p99 / worst | free mean / median / p99 / worst | realloc mean / median / p99 / worst | failed |"
echo "|---|---|---|---:|---:|---:|---:|---:|"
for c in "${CASES[@]}"; do
    read -r alloc trace heap <<<"$c"
    id=$trace-$alloc-$heap
    po=$WORK/$id.perop
    pl=$WORK/$id.plain
    if [ "$(cat "$po.rc")" != 0 ] || [ "$(cat "$pl.rc")" != 0 ]; then
        echo "$0: $id under callgrind failed:" >&2
        cat "$po.err" "$pl.err" >&2 | tail -20
        status=1
    fi
    case $alloc in
        ph) heapcol="$(kib "$heap"), ${PAGE[$trace]} B pages"; who="pageheap, $(kib "$heap")"
            [ "$heap" != "${HEAP[$trace]}" ] && heapcol="$heapcol (smallest that serves)" ;;
        *)  heapcol="-"; who=${NAME[$alloc]} ;;
    esac
    case $alloc in ph) wrap=ph ;; *) wrap=c ;; esac
    cols=()
    for opn in malloc free realloc; do
        # per-op window
        read -r _ _ smin _ _ smax <<<"$(label_stat "stub-$opn" "$po.stats")"
        if [ -z "${smin:-}" ] || [ "$smin" != "$smax" ]; then
            echo "$id: calibration of $opn is not constant (${smin:-?}..${smax:-?})" >&2; status=1
        fi
        ov=$(( ${smin:-1} - 1 ))
        read -r n sum _ med p99 mx <<<"$(label_stat "$opn" "$po.stats")"
        # profile: inclusive - self of the wrappers
        wi=$(cost "win_${wrap}_$opn" "$pl.annotate"); ws=$(cost "win_${wrap}_$opn" "$pl.self")
        ai=$(cost "all_${wrap}_$opn" "$pl.annotate"); as=$(cost "all_${wrap}_$opn" "$pl.self")
        wcalls=$(field "win_$opn" "$pl.txt"); acalls=$(field "all_$opn" "$pl.txt")
        win_prof=$((wi - ws)); all_prof=$((ai - as))
        total_calls=$((wcalls + acalls))
        if [ -z "${n:-}" ]; then
            cols+=("-")
            [ "$wcalls" = 0 ] || { echo "$id: $opn: no per-op parts for $wcalls calls" >&2; status=1; }
            continue
        fi
        win_dump=$((sum - n * ov))
        if [ "$win_dump" = "$win_prof" ] && [ "$n" = "$wcalls" ]; then
            agree="agree exactly: yes"
        elif [ "$alloc" = jemalloc ] || [ "$alloc" = mimalloc ]; then
            # Their purging is paced by the clock (jemalloc's dirty/muzzy
            # decay, mimalloc's purge delay), and the per-op run is several
            # times slower than the plain one, so the two runs differ.
            agree=$(awk -v a="$win_dump" -v b="$win_prof" 'BEGIN {
                printf "differ by %.2f%% (time-paced purging: the two runs do not take the same paths)", (a - b) * 100 / b }')
        else
            agree="agree exactly: NO"; status=1
        fi
        checks+=("- $trace, $who: $opn: per-op dumps sum to $win_dump instructions over $n calls; profile (inclusive - self of win_${wrap}_$opn) $win_prof over $wcalls calls: $agree. Calibration overhead subtracted: $ov.")
        mean=$(awk -v a="$win_prof" -v b="$all_prof" -v n="$total_calls" 'BEGIN { printf "%.1f", (a + b) / n }')
        cols+=("$mean / $((med - ov)) / $((p99 - ov)) / $((mx - ov))")
        if [ "$alloc" = ph ] && [ "$trace" = small ]; then
            PH_SMALL_FIG[$heap,$opn,mean]=$mean; PH_SMALL_FIG[$heap,$opn,max]=$((mx - ov))
        fi
    done
    ops=$(field ops "$pl.txt"); win=$(field window "$pl.txt")
    failed=$(field failed "$pl.txt")
    [ "$alloc" != ph ] && [ "${failed:-0}" != 0 ] && status=1
    printf '| %s | %s | %s | %s (%s) | %s | %s | %s | %s |\n' "$trace" "${NAME[$alloc]}" "$heapcol" \
        "$ops" "$win" "${cols[0]}" "${cols[1]}" "${cols[2]}" "$failed"
    if [ "$alloc" = ph ]; then
        chk=$(field check "$pl.txt"); flt=$(field faults "$pl.txt")
        checks+=("- $trace, $who: after the run ph_check=$chk, faults=$flt.")
        { [ "$chk" = 0 ] && [ "$flt" = 0 ]; } || status=1
    fi
done
echo
echo "Instructions from the allocator function's first instruction to its return, everything it"
echo "calls included (call set-up excluded), x86-64, gcc -O2 (pageheap) / Debian's builds (others)."
echo "mean: over all measured operations (callgrind profile); median, p99, worst: over the"
echo "per-op window, the first operations of the measured run as stated. Everything is after an"
echo "unmeasured warm-up that includes each allocator's initialisation, with LD_BIND_NOW=1. Kernel"
echo "work (mmap, munmap, madvise, brk) is not counted: callgrind counts user-space instructions."
echo "failed: requests that returned NULL (the trace goes on; a later free of that object is skipped)."
echo

# ---- footprints ------------------------------------------------------------

echo "### Footprint (native run of the same traces)"
echo
echo "| trace | allocator | measure | bytes | / peak live bytes |"
echo "|---|---|---|---:|---:|"
for trace in "${TRACES[@]}"; do
    for alloc in "${ALLOCS[@]}"; do
        [ -n "${AVAILABLE[$alloc]:-}" ] || continue
        nat=$WORK/$trace-$alloc-${HEAP[$trace]}.native.txt
        peak=$(field peak_live_bytes "$nat" footprint)
        row() { awk -v t="$trace" -v a="${NAME[$alloc]}" -v m="$1" -v b="$2" -v p="$peak" \
                    'BEGIN { if (b == "") print "| " t " | " a " | " m " | - | - |";
                             else printf "| %s | %s | %s | %d | %.3f |\n", t, a, m, b, b / p }'; }
        case $alloc in
            ph)
                minb=$(field min_heap_bytes "$nat" footprint_search)
                meta=$(field meta_bytes "$nat" footprint_search)
                nonmono=$(field larger_sizes_failing "$nat" footprint_search)
                if [ -n "$minb" ]; then
                    row "smallest region serving the whole trace (${PAGE[$trace]} B pages, $meta B metadata included)" "$minb"
                    [ "$nonmono" = 0 ] || notes+=("- $trace, pageheap: $nonmono of the 64 region sizes just above the smallest one fail a request (first fit is not monotone in the heap size).")
                else
                    row "smallest region serving the whole trace: not found up to 16x $(kib "${HEAP[$trace]}")" ""
                fi
                row "peak pages in use x page size, $(kib "${HEAP[$trace]}") region" \
                    "$(field peak_used_bytes "$nat" footprint)"
                row "peak sum of ph_usable_size (chunk rounding)" "$(field peak_usable_bytes "$nat" footprint)"
                pfail=$(field failed "$nat")
                [ "${pfail:-0}" = 0 ] || notes+=("- $trace, pageheap in the $(kib "${HEAP[$trace]}") region: $pfail of the requests failed (the peak figures above are of that run). At the end of that run $(field end_small_spans "$nat" footprint) fit arenas held $(field end_span_bytes "$nat" footprint) bytes for $(field end_small_object_bytes "$nat" footprint) bytes of live objects (usable sizes).")
                ;;
            glibc)
                row "peak mallinfo2() arena + hblkhd" "$(field peak_arena_hblkhd "$nat" footprint)" ;;
            jemalloc)
                row "peak stats.active (pages holding objects)" "$(field peak_active "$nat" footprint)"
                row "peak stats.resident (with metadata, dirty pages)" "$(field peak_resident "$nat" footprint)" ;;
            mimalloc)
                row "peak commit (mi_process_info)" "$(field peak_commit "$nat" footprint)" ;;
        esac
        corrupt=$(field corrupt "$nat"); mis=$(field misaligned "$nat"); short=$(field short_usable "$nat")
        extra=""
        if [ "$alloc" = ph ]; then
            extra=", ph_usable_size short $short, ph_check=$(field check "$nat"), faults=$(field faults "$nat")"
        fi
        checks+=("- $trace, ${NAME[$alloc]}, native: objects found corrupt $corrupt, misaligned $mis$extra.")
    done
done
echo
echo "peak live bytes = the most requested bytes live at once (small: $(field peak_live_bytes "$small_txt" trace), mixed: $(field peak_live_bytes "$mixed_txt" trace))."
echo "The smallest region is found by a binary search over whole pages, each candidate running the"
echo "whole trace (warm-up included) in a fresh heap; it includes the region's metadata pages."
echo "glibc's arena counts its heap top and the program's few own allocations; mimalloc commits"
echo "whole segments, so its figure says little about a trace this small."
echo

# ---- goals (stated for Cortex-M3 against newlib; the host tracks the fixed bounds) ----

h=${HEAP[small]}
if [ -n "${PH_SMALL_FIG[$h,malloc,mean]:-}" ]; then
    echo "### Goals of the small trace, pageheap (stated on Cortex-M3, where the means are compared with newlib's in the same run: bench/target; the host tracks the fixed bounds)"
    echo
    for heap in $(printf '%s\n' "${!PH_SMALL_FIG[@]}" | cut -d, -f1 | sort -un); do
        awk -v h="$(kib "$heap")" -v am="${PH_SMALL_FIG[$heap,malloc,mean]}" -v aw="${PH_SMALL_FIG[$heap,malloc,max]}" \
            -v fm="${PH_SMALL_FIG[$heap,free,mean]}" -v fw="${PH_SMALL_FIG[$heap,free,max]}" '
            function v(x, t) { return x <= t ? "met" : "NOT met" }
            BEGIN { printf "- %s region: malloc mean %s, worst %s (<= 400: %s); free mean %s, worst %s (<= 300: %s).\n",
                    h, am, aw, v(aw, 400), fm, fw, v(fw, 300) }'
    done
    nat=$WORK/small-ph-$h.native.txt
    r=$(field ratio "$nat" footprint_search)
    [ -n "$r" ] && awk -v r="$r" 'BEGIN { printf "- Smallest heap serving the whole run / peak live bytes: %.3f (<= 1.10: %s).\n", r, r <= 1.10 ? "met" : "NOT met" }'
    echo "- Worst cases are over the per-op window (the first ${WINDOW[small]} measured operations)."
    echo
fi

# The pageheap functions of callgrind_annotate's list (objects' paths dropped).
ph_functions() {
    awk '/file:function/ { on = 1; getline; next } on && NF == 0 { exit }
         on && /core\/src\// { gsub(/ *\[[^]]*\]/, ""); sub(/[^ ]*core\/src\//, "")
                                 fn = $NF; sub(/.*:/, "", fn); if (!seen[fn]++) print }' "$1" | head -16
}
for c in "${CASES[@]}"; do
    read -r alloc trace heap <<<"$c"
    [ "$alloc" = ph ] || continue
    pl=$WORK/$trace-ph-$heap.plain
    echo "### Cost by function, pageheap, $trace trace, $(kib "$heap") region, all measured operations"
    echo
    echo "Inclusive (a function and everything it calls; each function once), then self (by the"
    echo "file of the code: inlined helpers count in their header); the one ph_check after the run"
    echo "is included:"
    echo
    echo '```'
    ph_functions "$pl.annotate"
    echo '```'
    echo
    echo '```'
    ph_functions "$pl.self"
    echo '```'
    echo
done

echo "### Checks"
echo
printf '%s\n' "${checks[@]}"
[ ${#notes[@]} -eq 0 ] || { echo; echo "### Notes"; echo; printf '%s\n' "${notes[@]}"; }
exit $status
