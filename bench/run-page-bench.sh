#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-page-bench.sh BUILD_DIR
#
# Instructions per operation of pageheap's page allocator, against the naive
# reference model on the same trace, counted with valgrind's callgrind, so
# the figures are exact and repeatable on a noisy machine.  Prints a
# markdown table on stdout.  Takes about 5 minutes on 2 cores.
#
# The trace (see bench/page_bench.c): a region of 16 Ki pages (64 MiB) and
# one of 256 Ki pages (1 GiB, mmap'ed MAP_NORESERVE), 4 KiB pages, x86-64;
# warm-up to 75% live pages; then allocate 1..64 pages (uniform) while live
# pages < 75%, else free a uniformly chosen live run.  1,000,000 measured
# operations for pageheap; the reference model, which costs O(pages) per
# allocation, runs the first 50,000 (16 Ki) / 10,000 (256 Ki) of the same
# trace and must place every run at the same address (placement_match).
#
# Method: two callgrind runs per heap size.
#
# 1. Per-operation counts (median, worst, mean): every measured call is made
#    through a wrapper that issues CALLGRIND_ZERO_STATS, calls the allocator,
#    and issues CALLGRIND_DUMP_STATS_AT("<label>").  With --combine-dumps=yes
#    callgrind appends one part per call to one file; each part carries its
#    label ("desc: Trigger: Client Request: <label>") and its instruction
#    count ("summary: N").  Callgrind counts a basic block when it is left,
#    so a part holds the wrapper's block up to the ZERO request, the call
#    and the whole callee, and stops where the DUMP request's block starts:
#    a constant overhead per wrapper.  page_bench measures it first by
#    calling, through the same wrapper, a stub whose body is one `ret`
#    ("stub-<label>" parts, which must all be equal); this script subtracts
#    (stub - 1).  A figure is then the instructions from the allocator
#    function's first instruction to its `ret`, inclusive of everything it
#    calls.  All 1,000,000 pageheap operations are dumped this way (about
#    0.1 ms and under 1 KB each, so up to ~1 GB per heap size under /tmp
#    while it runs; the file is parsed and deleted).  Collection stays on
#    from the start (ZERO/DUMP need it; --collect-atstart=no would leave
#    every part empty); --dump-instr=no --dump-line=no keep the parts
#    small; the warm-ups run uninstrumented (CALLGRIND_STOP/
#    START_INSTRUMENTATION in page_bench), which matters for the model.
#
# 2. Profile: the same trace again with no client requests, collecting
#    only inside bench_measured_pageheap() (--collect-atstart=no
#    --toggle-collect=bench_measured_pageheap).  callgrind_annotate
#    --inclusive=yes gives the inclusive cost of ph_page_alloc and
#    ph_page_free; divided by the call counts page_bench prints, these are
#    the exact means over all operations, computed independently of the
#    per-op dumps.  The script checks that both methods agree to the
#    instruction; the function list is printed for whoever optimises.
#
# Environment overrides (for quick runs): PH_BENCH_OPS (1000000),
# PH_BENCH_REF_OPS_SMALL (50000), PH_BENCH_REF_OPS_LARGE (10000),
# PH_BENCH_SEED (1), PH_BENCH_KEEP=1 keeps the work directory.
set -euo pipefail

# shellcheck source=bench/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
bench_setup page_bench $# "${1:-}" valgrind callgrind_annotate awk sort

OPS=${PH_BENCH_OPS:-1000000}
SEED=${PH_BENCH_SEED:-1}
HEAPS=(16384 262144)
declare -A REF_OPS=([16384]=${PH_BENCH_REF_OPS_SMALL:-50000} [262144]=${PH_BENCH_REF_OPS_LARGE:-10000})
declare -A HEAP_NAME=([16384]="16 Ki pages (64 MiB)" [262144]="256 Ki pages (1 GiB)")

bench_workdir page-bench "${PH_BENCH_KEEP:-0}"

# ---- run 1: per-operation dumps ------------------------------------------

per_op_run() {
    local pages=$1 out=$WORK/perop-$1
    valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
        --combine-dumps=yes --dump-instr=no --dump-line=no \
        --compress-strings=yes --compress-pos=yes \
        "$BIN" --pages "$pages" --ops "$OPS" --ref-ops "${REF_OPS[$pages]}" \
        --seed "$SEED" --mode perop >"$out.txt" 2>"$out.err" || {
        echo "$0: page_bench --pages $pages (perop) failed:" >&2
        cat "$out.txt" "$out.err" >&2
        return 1
    }
    # One "label value" per part, folded into a histogram, then per label:
    # n sum min median max (median: the lower one).
    grep -E '^(desc: Trigger: Client Request: |summary: )' "$out.cg" |
        awk '/^desc:/ { label = $5; next }
             label != "" { h[label " " $2]++; label = "" }
             END { for (k in h) print k, h[k] }' |
        sort -k1,1 -k2,2n |
        awk 'function flush() {
                 if (cur == "") return
                 mid = int((n + 1) / 2); acc = 0
                 for (i = 1; i <= m; i++) { acc += cnt[i]; if (acc >= mid) { med = val[i]; break } }
                 printf "%s %d %.0f %d %d %d\n", cur, n, sum, val[1], med, val[m]
             }
             $1 != cur { flush(); cur = $1; n = 0; sum = 0; m = 0 }
             { m++; val[m] = $2; cnt[m] = $3; n += $3; sum += $2 * $3 }
             END { flush() }' >"$out.stats"
    rm -f "$out.cg"
}

# ---- run 2: profile of the measured pageheap operations ------------------

profile_run() {
    local pages=$1 out=$WORK/profile-$1
    valgrind --tool=callgrind --callgrind-out-file="$out.cg" \
        --collect-atstart=no --toggle-collect=bench_measured_pageheap \
        "$BIN" --pages "$pages" --ops "$OPS" --ref-ops 0 --seed "$SEED" \
        --mode plain >"$out.txt" 2>"$out.err" || {
        echo "$0: page_bench --pages $pages (plain) failed:" >&2
        cat "$out.txt" "$out.err" >&2
        return 1
    }
    callgrind_annotate --inclusive=yes --threshold=100 --auto=no "$out.cg" >"$out.annotate"
    callgrind_annotate --threshold=100 --auto=no "$out.cg" >"$out.self"
}

pids=()
for pages in "${HEAPS[@]}"; do
    per_op_run "$pages" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done
pids=()
for pages in "${HEAPS[@]}"; do
    profile_run "$pages" & pids+=($!)
done
for pid in "${pids[@]}"; do wait "$pid"; done

# ---- the table -------------------------------------------------------------

# field KEY FILE ALLOCATOR: value of key=value on the "result allocator=..." line.
field() {
    awk -v key="$1" -v who="$3" '$1 == "result" && $2 == "allocator=" who {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); if (kv[1] == key) print kv[2] } }' "$2"
}
# label_stat LABEL FILE: "n sum min median max" of a label.
label_stat() { awk -v l="$1" '$1 == l { print $2, $3, $4, $5, $6 }' "$2"; }
# inclusive FUNCTION FILE: inclusive Ir from callgrind_annotate.
inclusive() {
    awk -v fn="$1" '{ line = $0; sub(/\([^)]*\)/, "", line); split(line, w, " ")
                      f = w[2]; sub(/.*:/, "", f) }
                    f == fn { gsub(/,/, "", w[1]); print w[1]; exit }' "$2"
}

status=0
declare -A MEAN_PER_OP
{
echo "## pageheap page allocator: instructions per operation (callgrind)"
echo
echo "Trace: 4 KiB pages, x86-64; requests of 1-64 pages (uniform); the heap held at 75% live pages"
echo "(allocate below 75%, else free a uniformly chosen live run); seed $SEED; warm-up to 75% not measured."
echo
echo "| heap | allocator | measured ops | alloc mean / median / worst | free mean / median / worst | mean per op | failed | highest page / peak live |"
echo "|---|---|---:|---:|---:|---:|---:|---:|"
for pages in "${HEAPS[@]}"; do
    st=$WORK/perop-$pages.stats
    txt=$WORK/perop-$pages.txt
    for who in pageheap reference; do
        case $who in pageheap) pre=ph ;; reference) pre=ref ;; esac
        ops=$(field ops "$txt" "$who")
        [ -n "$ops" ] || continue
        read -r sn ssum smin smed smax <<<"$(label_stat "stub-$pre-alloc" "$st")"
        [ "$smin" = "$smax" ] || { echo "calibration of $pre-alloc is not constant ($smin..$smax)" >&2; status=1; }
        ca=$((smin - 1))
        read -r sn ssum smin smed smax <<<"$(label_stat "stub-$pre-free" "$st")"
        [ "$smin" = "$smax" ] || { echo "calibration of $pre-free is not constant ($smin..$smax)" >&2; status=1; }
        cf=$((smin - 1))
        read -r an asum amin amed amax <<<"$(label_stat "$pre-alloc" "$st")"
        read -r fn fsum fmin fmed fmax <<<"$(label_stat "$pre-free" "$st")"
        failed=$(field failed "$txt" "$who")
        high=$(field highest_page "$txt" "$who")
        peak=$(field peak_live "$txt" "$who")
        row=$(awk -v an="$an" -v asum="$asum" -v amed="$amed" -v amax="$amax" -v ca="$ca" \
                  -v fn="$fn" -v fsum="$fsum" -v fmed="$fmed" -v fmax="$fmax" -v cf="$cf" \
                  -v high="$high" -v peak="$peak" 'BEGIN {
            am = asum / an - ca; fm = fsum / fn - cf
            all = (asum - an * ca + fsum - fn * cf) / (an + fn)
            printf "%.1f / %d / %d | %.1f / %d / %d | %.1f | %.3f", \
                am, amed - ca, amax - ca, fm, fmed - cf, fmax - cf, all, high / peak }')
        IFS='|' read -r acol fcol mcol ratio <<<"$row"
        acol=$(echo $acol); fcol=$(echo $fcol); mcol=$(echo $mcol); ratio=$(echo $ratio)
        [ "$who" = pageheap ] && MEAN_PER_OP[$pages]=$mcol
        printf '| %s | %s | %s | %s | %s | %s | %s | %s / %s = %s |\n' \
            "${HEAP_NAME[$pages]}" "$who" "$ops" "$acol" "$fcol" "$mcol" \
            "$failed" "$high" "$peak" "$ratio"
        if [ "$who" = pageheap ] && [ "$failed" != 0 ]; then status=1; fi
    done
done
echo
echo "Figures are instructions executed from the allocator function's first instruction to its"
echo "return, everything it calls included (call set-up excluded). mean per op = all measured"
echo "allocations and frees together. failed = allocations that found no room (warm-up included)."
echo "highest page / peak live = one past the highest page ever handed out over the most pages"
echo "live at once (1.000 = no fragmentation footprint). The reference model (naive byte-per-page"
echo "first fit, ref/refmodel.c) runs only the first ops of the same trace, as stated."
echo
echo "### Checks"
echo
for pages in "${HEAPS[@]}"; do
    txt=$WORK/perop-$pages.txt
    ann=$WORK/profile-$pages.annotate
    st=$WORK/perop-$pages.stats
    ptxt=$WORK/profile-$pages.txt
    pa=$(inclusive ph_page_alloc "$ann"); pf=$(inclusive ph_page_free "$ann")
    na=$(field allocs "$ptxt" pageheap); nf=$(field frees "$ptxt" pageheap)
    read -r an asum _ _ _ <<<"$(label_stat ph-alloc "$st")"
    read -r fn fsum _ _ _ <<<"$(label_stat ph-free "$st")"
    ca=$(( $(label_stat stub-ph-alloc "$st" | awk '{print $3}') - 1 ))
    cf=$(( $(label_stat stub-ph-free "$st" | awk '{print $3}') - 1 ))
    da=$((asum - an * ca)); df=$((fsum - fn * cf))
    agree=yes
    if [ "$da" != "$pa" ] || [ "$df" != "$pf" ] || [ "$an" != "$na" ] || [ "$fn" != "$nf" ]; then
        agree=NO; status=1
    fi
    echo "- ${HEAP_NAME[$pages]}: per-op dumps sum to alloc $da / free $df instructions over" \
         "$an / $fn calls; profile (inclusive cost of ph_page_alloc / ph_page_free) gives" \
         "$pa / $pf over $na / $nf calls: agree exactly: $agree." \
         "Calibration overhead subtracted: alloc $ca, free $cf."
    echo "- ${HEAP_NAME[$pages]}: $(grep -o 'check=[^ ]* faults=[^ ]*' "$txt"), reference" \
         "$(grep -o 'placement_match=[a-z]*' "$txt" || echo 'placement_match=not run')."
    awk '$1 == "heap" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
         printf "- %s: metadata %d bytes for %d usable pages = %.2f bytes per page.\n",
                name, v["metadata_bytes"], v["usable_pages"], v["metadata_bytes"] / v["usable_pages"] }' \
        name="${HEAP_NAME[$pages]}" "$txt"
    grep -q 'check=0 faults=0' "$txt" || status=1
    grep -q 'placement_match=no' "$txt" && status=1
done
echo
echo "### Constructed worst case"
echo
echo "A heap laid out to make one call's search and update longest (page_bench.c, worst_cases:"
echo "the only fitting run inside, or straddling, the last whole chunks, above single free pages,"
echo "so the search scans the whole top level and the run's value falls at every level), one"
echo "measured call each:"
echo
for pages in "${HEAPS[@]}"; do
    txt=$WORK/perop-$pages.txt
    st=$WORK/perop-$pages.stats
    ca=$(( $(label_stat stub-ph-alloc "$st" | awk '{print $3}') - 1 ))
    cf=$(( $(label_stat stub-ph-free "$st" | awk '{print $3}') - 1 ))
    read -r _ _ _ _ wa <<<"$(label_stat ph-worst-alloc "$st")"
    read -r _ _ _ _ wf <<<"$(label_stat ph-worst-free "$st")"
    read -r _ _ _ _ wha <<<"$(label_stat ph-whole-alloc "$st")"
    read -r _ _ _ _ whf <<<"$(label_stat ph-whole-free "$st")"
    read -r _ _ _ _ wla <<<"$(label_stat ph-long-alloc "$st")"
    levels=$(grep -o 'worst levels=[0-9]*' "$txt" | cut -d= -f2)
    chunks=$(grep -o 'worst .*chunks=[0-9]*' "$txt" | sed 's/.*chunks=//')
    grep -q 'worst .*ok=yes' "$txt" || status=1
    echo "- ${HEAP_NAME[$pages]} (K = $levels levels): worst alloc $((wa - ca)), worst free $((wf - cf))" \
         "instructions (runs of up to W pages); the whole heap ($chunks chunks) in one call:" \
         "alloc $((wha - ca)), free $((whf - cf)); W + 1 pages past a candidate run in every chunk:" \
         "alloc $((wla - ca))."
done
echo
small=${MEAN_PER_OP[16384]:-}; large=${MEAN_PER_OP[262144]:-}
if [ -n "$small" ] && [ -n "$large" ]; then
    awk -v s="$small" -v l="$large" 'BEGIN {
        printf "- Goals of the page trace: mean per op at 16 Ki pages %.1f (target <= 250): %s; at 256 Ki pages %.1f = %.3fx the 16 Ki figure (target <= 1.10x): %s.\n",
            s, (s <= 250 ? "met" : "NOT met"), l, l / s, (l <= 1.10 * s ? "met" : "NOT met") }'
fi
echo
# The function list of callgrind_annotate, objects' paths dropped.
functions() {
    awk '/file:function/ { on = 1; getline; next } on && NF == 0 { exit }
         on { gsub(/ *\[[^]]*\]/, ""); print }' "$1" | head -25
}
for pages in "${HEAPS[@]}"; do
    echo "### Cost by function, ${HEAP_NAME[$pages]}, the $OPS measured pageheap operations"
    echo
    echo "Inclusive (a function and everything it calls):"
    echo
    echo '```'
    functions "$WORK/profile-$pages.annotate"
    echo '```'
    echo
    echo "Self (the function's own instructions):"
    echo
    echo '```'
    functions "$WORK/profile-$pages.self"
    echo '```'
    echo
done
}
exit $status
