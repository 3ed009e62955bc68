#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/target/run-target-bench.sh: the on-target benchmark (bench/target/
# bench.c) on QEMU boards, as a markdown table, compared with the goals
# (against newlib's dlmalloc in the same run, see "Goals" in the output).
#
#   bench/target/run-target-bench.sh [board...]
#
# Boards default to mps2-an385 (Cortex-M3: the reference board; its counter
# ticks once per 40 instructions), netduinoplus2 (Cortex-M4: TIM2 counts
# exactly one per instruction) and virt (Cortex-A15: the PMU cycle counter,
# exactly one per instruction).  For each board it configures its own build
# directory through scripts/board.sh (the core and the benchmark at -O2 by
# default), builds the three benchmark firmwares and runs each once under
# `qemu-system-arm -icount shift=0` with the board's QEMU command:
#
#   bench         pageheap (malloc/free, page alloc/free, scavenge) and
#                 newlib's and newlib-nano's allocators on the same trace in
#                 the same run (their objects from this toolchain's libc,
#                 renamed, called at _malloc_r / _free_r);
#   bench-newlib  a firmware linked with full newlib's own malloc (no
#                 port/newlib): malloc() / free();
#   bench-nano    the same with newlib-nano.
#
# Progress goes to stderr, the table to stdout; the firmware outputs stay in
# the work directory (printed at the end).  Exit status 0 when every run
# ended with "bench: done" (the targets' "NOT met" is a finding, not a
# failure).
#
# Environment:
#   PH_TARGET_BENCH_OPT   O2 (default) or Os: optimisation of the core and
#                         the benchmark (newlib's objects are Debian's)
#   PH_BENCH_OPS          measured operations of the small trace (default
#                         1000000; the page trace runs half as
#                         many, the scavenge trace a fifth)
#   PH_TARGET_BENCH_ROOT  build root (default build/target-bench-<opt>)
#   PH_TARGET_BENCH_TIMEOUT  seconds per QEMU run (default 900)
#   PH_JOBS               parallel build jobs (default 2)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/common.sh
source "$here/../../scripts/common.sh"
cd "$PH_ROOT"

opt="${PH_TARGET_BENCH_OPT:-O2}"
ops="${PH_BENCH_OPS:-1000000}"
broot="${PH_TARGET_BENCH_ROOT:-$PH_ROOT/build/target-bench-$opt}"
qtimeout="${PH_TARGET_BENCH_TIMEOUT:-900}"
case "$opt" in
    O2) cmake_args="-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE=-O2" ;;
    Os) cmake_args="-DCMAKE_BUILD_TYPE=MinSizeRel" ;;
    *) echo "run-target-bench.sh: PH_TARGET_BENCH_OPT must be O2 or Os" >&2; exit 2 ;;
esac
cmake_args="$cmake_args -DPH_BENCH_OPS=$ops"

if [ $# -gt 0 ]; then
    boards=("$@")
else
    boards=(mps2-an385 netduinoplus2 virt)
fi
firmwares=(bench bench-newlib bench-nano)
mkdir -p "$broot"
work="$broot/results"
mkdir -p "$work"
status=0

# ---- build and run -----------------------------------------------------------

for b in "${boards[@]}"; do
    [ -f "boards/$b/board.cmake" ] || { echo "run-target-bench.sh: no board $b" >&2; status=1; continue; }
    dir="$broot/board-$b"
    echo "run-target-bench.sh: $b: configure + build (-$opt, $ops ops) in $dir" >&2
    if ! PH_BUILD_ROOT="$broot" PH_CMAKE_ARGS="$cmake_args" \
            bash scripts/board.sh "$b" configure >"$work/$b.build.log" 2>&1 ||
       ! cmake --build "$dir" --target "${firmwares[@]}" -j "$PH_JOBS" >>"$work/$b.build.log" 2>&1; then
        echo "run-target-bench.sh: $b: build failed, see $work/$b.build.log" >&2
        status=1
        continue
    fi
    qemu_cmd="$(PH_BUILD_ROOT="$broot" bash scripts/board.sh "$b" qemu-command)"
    qemu_cmd="${qemu_cmd% -kernel*}"
    for fw in "${firmwares[@]}"; do
        out="$work/$b.$fw.txt"
        echo "run-target-bench.sh: $b: $fw under QEMU -icount shift=0" >&2
        t0=$(date +%s)
        # shellcheck disable=SC2086
        timeout "$qtimeout" $qemu_cmd -icount shift=0 -kernel "$dir/bench/target/$fw.elf" \
            </dev/null >"$out" 2>&1 || true
        echo "run-target-bench.sh: $b: $fw took $(( $(date +%s) - t0 )) s" >&2
        if ! grep -q '^bench: done' "$out"; then
            echo "run-target-bench.sh: $b: $fw did not finish, see $out" >&2
            status=1
        fi
    done
done

# ---- the table ------------------------------------------------------------------

# val FILE KIND KEY [FILTER...]: KEY's value on the first line of FILE that
# starts with KIND and holds every FILTER (key=value) as a field.
val() {
    local f="$1" kind="$2" key="$3"
    shift 3
    [ -f "$f" ] || return 0
    awk -v kind="$kind" -v key="$key" -v filt="$*" '
        $1 != kind { next }
        {
            delete kv
            for (i = 2; i <= NF; i++) { p = index($i, "="); if (p) kv[substr($i, 1, p - 1)] = substr($i, p + 1) }
            n = split(filt, fs, " ")
            for (j = 1; j <= n; j++) { p = index(fs[j], "="); if (kv[substr(fs[j], 1, p - 1)] != substr(fs[j], p + 1)) next }
            if (key in kv) { print kv[key]; exit }
        }' "$f"
}

# cell FILE WORK HEAP OP: "mean / median / worst" of one result line.
cell() {
    local m md w
    m=$(val "$1" result mean "alloc=$2" "work=$3" "heap=$4" "op=$5")
    md=$(val "$1" result median "alloc=$2" "work=$3" "heap=$4" "op=$5")
    w=$(val "$1" result worst "alloc=$2" "work=$3" "heap=$4" "op=$5")
    if [ -z "$m" ]; then echo "-"; else echo "$m / $md / $w"; fi
}

kib() { awk -v b="$1" 'BEGIN { if (b % 1024 == 0) printf "%d KiB", b / 1024; else printf "%.1f KiB", b / 1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.3f", a / b }'; }

echo "## On-target benchmark: instructions per call (QEMU, -icount shift=0, -$opt)"
echo
first=""
for b in "${boards[@]}"; do
    f="$work/$b.bench.txt"
    [ -f "$f" ] && grep -q '^trace name=small' "$f" && { first=$f; break; }
done
if [ -n "$first" ]; then
    echo "Small trace (small objects): sizes uniform 16..512 B, $(val "$first" bench ops) measured malloc/free after"
    echo "warm-up mallocs up to the live-object target, held near 75% of the heap; bench/obj_bench.c's"
    echo "\"small\" trace, drawn from the same generator and seed ($(val "$first" bench seed)). Page trace: runs of"
    echo "1..$(val "$first" trace requests name=pages | sed 's/^1\.\.//') pages of $(val "$first" bench page) B, held at 75%. Scavenge: the same page churn"
    echo "with $(val "$first" trace granule name=scavenge) B granules, load swinging 75% / 40%, ph_scavenge(h, SIZE_MAX) every 16 operations,"
    echo "release / acquire hooks that do nothing."
    echo
fi
echo "| allocator | board / CPU | heap | malloc mean / median / worst | free mean / median / worst | failed | page alloc mean / median / worst | page free mean / median / worst | scavenge per granule mean / median / worst | smallest heap / peak live |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"

declare -a notes=() checks=() targets=()
for b in "${boards[@]}"; do
    f="$work/$b.bench.txt"
    [ -f "$f" ] || continue
    cpu=$(val "$f" bench cpu)
    ipt=$(val "$f" bench insns_per_tick)
    heap=$(val "$f" bench heap)
    live=$(val "$f" bench live)
    peak=$(val "$f" trace peak_live_bytes name=small)
    where="$b / $cpu"
    [ "$ipt" != 1 ] && where="$where ($ipt insns/tick)"
    # pageheap at the trace's heap, then at the smallest heap that serves it
    minb=$(val "$f" footprint min_heap_bytes alloc=pageheap)
    case "$minb" in ''|none) fp="-" ;; *) fp="$(kib "$minb") / $(kib "$peak") = $(ratio "$minb" "$peak")" ;; esac
    ph_heaps=("$heap")
    if [ -n "$minb" ] && [ "$minb" != none ] && [ -n "$(val "$f" result mean alloc=pageheap work=small "heap=$minb" op=malloc)" ]; then
        ph_heaps+=("$minb")
    fi
    for h in "${ph_heaps[@]}"; do
        hcol="$(kib "$h"), $live live"
        [ "$h" != "$heap" ] && hcol="$(kib "$h") (smallest that serves)"
        printf '| pageheap | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$where" "$hcol" \
            "$(cell "$f" pageheap small "$h" malloc)" "$(cell "$f" pageheap small "$h" free)" \
            "$(val "$f" result failed alloc=pageheap work=small "heap=$h" op=malloc)" \
            "$(cell "$f" pageheap pages "$heap" page_alloc)" "$(cell "$f" pageheap pages "$heap" page_free)" \
            "$(cell "$f" pageheap scavenge "$heap" scavenge_granule)" "$fp"
        fp="-"
    done
    for a in newlib newlib-nano; do
        sb=$(val "$f" footprint sbrk_high_bytes "alloc=$a")
        printf '| %s (_malloc_r, same run) | %s | %s | %s | %s | %s | - | - | - | %s |\n' "$a" "$where" \
            "$(kib "$heap"), $live live" "$(cell "$f" "$a" small "$heap" malloc)" \
            "$(cell "$f" "$a" small "$heap" free)" \
            "$(val "$f" result failed "alloc=$a" work=small "heap=$heap" op=malloc)" \
            "$( [ -n "$sb" ] && echo "$(kib "$sb") sbrk / $(kib "$peak") = $(ratio "$sb" "$peak")" || echo -)"
    done
    for fw in bench-newlib bench-nano; do
        g="$work/$b.$fw.txt"
        [ -f "$g" ] || continue
        a=$(awk '$1 == "result" { for (i = 2; i <= NF; i++) if ($i ~ /^alloc=/) { print substr($i, 7); exit } }' "$g")
        [ -n "$a" ] || continue
        sb=$(val "$g" footprint sbrk_high_bytes "alloc=$a")
        printf '| %s (own firmware) | %s | %s | %s | %s | %s | - | - | - | %s |\n' "$a" "$where" \
            "$(kib "$heap"), $live live" "$(cell "$g" "$a" small "$heap" malloc)" \
            "$(cell "$g" "$a" small "$heap" free)" \
            "$(val "$g" result failed "alloc=$a" work=small "heap=$heap" op=malloc)" \
            "$( [ -n "$sb" ] && echo "$(kib "$sb") sbrk / $(kib "$peak") = $(ratio "$sb" "$peak")" || echo -)"
    done
    if [ "$ipt" != 1 ]; then
        notes+=("- $b: its counter ticks once per $ipt instructions, so one call's median and worst are known only to within $ipt instructions (the wrapper's calibrated overhead subtracted); the means are exact to a fraction of an instruction (a call starts at an effectively random phase of the tick), as the chunked totals below confirm.")
    fi
    for a in pageheap newlib newlib-nano; do
        cm=$(val "$f" total chunked_mean "alloc=$a")
        bm=$(val "$f" total bracketed_mean "alloc=$a")
        [ -n "$cm" ] && checks+=("- $b, $a: bracketed mean per call $bm; chunked totals (the same requests without brackets, minus a run on one-instruction stubs) $cm.")
    done
    sc=$(val "$f" result mean alloc=pageheap work=scavenge op=scavenge_call)
    if [ -n "$sc" ]; then
        checks+=("- $b, ph_scavenge: $(val "$f" trace calls name=scavenge) calls, $(val "$f" trace releasing name=scavenge) of them released $(val "$f" trace granules name=scavenge) granules; per call mean / median / worst $(cell "$f" pageheap scavenge "$heap" scavenge_call); calls that released nothing $(cell "$f" pageheap scavenge "$heap" scavenge_nothing_released).")
    fi
    # The goals, pageheap at the trace's heap against newlib's dlmalloc in
    # the same run: malloc and free means each at most newlib's and their
    # sum at most 0.9x newlib's; worst malloc <= 400, free <= 300; smallest
    # heap <= 1.10x peak live; page alloc / free means at most 60 % of the
    # figures before the page-layer rework (Cortex-M3: 405 / 307, i.e.
    # <= 243 / 184).
    am=$(val "$f" result mean alloc=pageheap work=small "heap=$heap" op=malloc)
    aw=$(val "$f" result worst alloc=pageheap work=small "heap=$heap" op=malloc)
    fm=$(val "$f" result mean alloc=pageheap work=small "heap=$heap" op=free)
    fw_=$(val "$f" result worst alloc=pageheap work=small "heap=$heap" op=free)
    nam=$(val "$f" result mean alloc=newlib work=small "heap=$heap" op=malloc)
    nfm=$(val "$f" result mean alloc=newlib work=small "heap=$heap" op=free)
    pam=$(val "$f" result mean alloc=pageheap work=pages "heap=$heap" op=page_alloc)
    pfm=$(val "$f" result mean alloc=pageheap work=pages "heap=$heap" op=page_free)
    if [ -n "$am" ] && [ -n "$nam" ]; then
        targets+=("$(awk -v b="$b" -v cpu="$cpu" -v am="$am" -v aw="$aw" -v fm="$fm" -v fw="$fw_" \
                         -v nam="$nam" -v nfm="$nfm" -v pam="$pam" -v pfm="$pfm" \
                         -v r="$(ratio "$minb" "$peak")" -v h="$(kib "$heap")" '
            function v(x, t) { return x + 0 <= t + 0 ? "met" : "NOT met" }
            BEGIN { printf "- %s (%s), %s heap: malloc mean %s (<= newlib %s: %s), free mean %s (<= newlib %s: %s), sum %.2f (<= 0.9 x %.2f = %.2f: %s); worst malloc %s (<= 400: %s), free %s (<= 300: %s); smallest heap / peak live %s (<= 1.10: %s)",
                    b, cpu, h, am, nam, v(am, nam), fm, nfm, v(fm, nfm), am + fm, nam + nfm, 0.9 * (nam + nfm), v(am + fm, 0.9 * (nam + nfm)),
                    aw, v(aw, 400), fw, v(fw, 300), r, (r == "-" ? "not measured" : v(r, 1.10))
                    if (pam != "" && cpu == "cortex-m3")
                        printf "; page alloc mean %s (<= 243: %s), page free mean %s (<= 184: %s)", pam, v(pam, 243), pfm, v(pfm, 184)
                    printf ".\n" }')")
    fi
done
echo
echo "Instructions from the allocator function's first instruction to its return, callees included"
echo "(call set-up excluded; the wrapper around each call is calibrated on a one-instruction stub and"
echo "subtracted). pageheap: ph_malloc / ph_free on a heap of its own (one region, 256 B pages, no"
echo "port: no lock); newlib rows \"same run\": newlib's own objects from this toolchain's libc.a /"
echo "libc_nano.a, renamed, called at _malloc_r / _free_r on an arena of the same size; \"own firmware\":"
echo "a firmware linked with that newlib's allocator (no port/newlib), called at malloc() / free()"
echo "(3..4 instructions more: the wrapper that loads _impure_ptr), on the board's sbrk. failed:"
echo "mallocs that returned NULL (the trace goes on; the later free is skipped). Page alloc / free and"
echo "scavenge: pageheap only. smallest heap: pageheap, the smallest region (metadata included) that"
echo "serves the whole trace without a failed request (binary search, each candidate running it);"
echo "newlib: its sbrk high-water mark."
echo
if [ ${#notes[@]} -gt 0 ]; then printf '%s\n' "${notes[@]}"; echo; fi
echo "### Goals (pageheap at the trace's heap, against newlib's dlmalloc in the same run)"
echo
if [ ${#targets[@]} -gt 0 ]; then printf '%s\n' "${targets[@]}"; else echo "- no results"; fi
echo
echo "### Checks"
echo
printf '%s\n' "${checks[@]}"
echo
echo "Firmware outputs: $work"
exit "$status"
