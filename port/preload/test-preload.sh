#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# test-preload.sh LIBPAGEHEAP_PRELOAD.SO
#
# Runs real programs from Debian's packages with the malloc family served by
# pageheap (LD_PRELOAD) and checks them (registered with CTest by
# port/preload/CMakeLists.txt as preload_programs):
#
#   sqlite3   workloads/sqlite-workload.sql on a database file, with a first
#             region of 16 MiB so the heap grows region by region
#   python3   workloads/python-workload.py, four threads, PYTHONMALLOC=malloc
#   sort      coreutils sort --parallel=2 of a 300k-line file
#   xz        xz -T2 compress | xz -T2 decompress round trip (if installed)
#   perl      a hash of 300k keys built, sorted and dropped (if installed)
#   python3   workloads/api-check.py: the C library semantics of each call,
#             a 3 GiB block, threads plus fork; a double free must abort
#             with the library's message, and with PH_PRELOAD_FAULT=count be
#             refused and counted
#
# For each program: exit status 0, stdout identical to the same run without
# the preload library (and known values where the output is deterministic),
# no "pageheap-preload: fault" on stderr, and the library's own exit report
# (PH_PRELOAD_STATS=<file>; a file, since coreutils close stderr before
# exit) showing at least a minimum number of mallocs, no fault and a heap
# that passes ph_check.  Prints what it ran and the counts.
set -euo pipefail

if [ $# -ne 1 ] || [ ! -f "$1" ]; then
    echo "usage: $0 path/to/libpageheap_preload.so" >&2
    exit 2
fi
SO="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
W="$HERE/workloads"
PY=/usr/bin/python3 # Debian's python3, not whatever python3 the PATH has

work="$(mktemp -d "${TMPDIR:-/tmp}/ph-preload.XXXXXX")"
trap 'rm -rf "$work"' EXIT
cd "$work"

failed=0
fail() {
    echo "test-preload: FAIL: $*"
    failed=$((failed + 1))
}

# Sum of a counter ("N mallocs", "faults N") over the report lines of a
# stats file (one line per process that exited).
stat_sum() {
    grep -o "[0-9]\+ $2" "$1" | awk '{ s += $1 } END { print s + 0 }'
}
fault_sum() {
    grep -o "faults [0-9]\+" "$1" | awk '{ s += $2 } END { print s + 0 }'
}

# check_stats NAME STATSFILE PROG MIN_MALLOCS: the library's exit reports.
# Every process of a run reports (the bash that runs the command line, a
# pipe's other programs); the minimum applies to PROG's own lines.
check_stats() {
    local name="$1" st="$2" prog="$3" min="$4" n
    if [ ! -s "$st" ]; then
        fail "$name: no report from the preload library in $st (was it loaded?)"
        return
    fi
    sed "s/^/    /" "$st"
    grep "^pageheap-preload: $prog\[" "$st" >"$st.prog" || true
    n="$(stat_sum "$st.prog" mallocs)"
    [ "$n" -ge "$min" ] || fail "$name: $prog made $n mallocs through pageheap, expected at least $min"
    [ "$(fault_sum "$st")" = 0 ] || fail "$name: the heap refused calls (faults)"
    if grep -q "check FAILED" "$st"; then
        fail "$name: ph_check failed at exit"
    fi
    summary+=("$(printf '%-8s %9s mallocs %8s reallocs %9s frees   (all processes: %s mallocs)' \
        "$name" "$n" "$(stat_sum "$st.prog" reallocs)" "$(stat_sum "$st.prog" frees)" \
        "$(stat_sum "$st" mallocs)")")
}

# check_stderr NAME FILE: no fault message from the library.
check_stderr() {
    if grep -q "pageheap-preload: fault" "$2"; then
        fail "$1: the library reported a fault:"
        sed "s/^/    /" "$2"
    fi
}

# run_pair NAME MIN_MALLOCS [VAR=VALUE...] -- CMD...: runs CMD (in the
# shell, so CMD may hold redirections and pipes) without and with the
# preload library (the VAR=VALUE settings apply to the preloaded run only)
# and compares.  NAME is also the program whose mallocs are counted.
run_pair() {
    local name="$1" min="$2" t0 rc
    local -a vars=()
    shift 2
    while [ "$1" != -- ]; do vars+=("$1"); shift; done
    shift
    echo "test-preload: $name: $*"
    t0=$SECONDS
    rc=0
    bash -c "$*" >"$name.ref.out" 2>"$name.ref.err" || rc=$?
    if [ "$rc" -ne 0 ]; then
        fail "$name: exit status $rc without the preload library (test set-up broken?)"
        sed "s/^/    /" "$name.ref.err"
        return
    fi
    rc=0
    env "${vars[@]}" LD_PRELOAD="$SO" PH_PRELOAD_STATS="$work/$name.stats" \
        bash -c "$*" >"$name.out" 2>"$name.err" || rc=$?
    [ "$rc" -eq 0 ] || { fail "$name: exit status $rc under pageheap"; sed "s/^/    /" "$name.err"; }
    check_stderr "$name" "$name.err"
    if ! cmp -s "$name.ref.out" "$name.out"; then
        fail "$name: output differs from the run without the preload library"
        diff "$name.ref.out" "$name.out" | head -20 | sed "s/^/    /"
    fi
    check_stats "$name" "$name.stats" "$name" "$min"
    echo "test-preload: $name: $(wc -l <"$name.out") lines of output compared ($((SECONDS - t0)) s)"
}

summary=()
for prog in sqlite3 "$PY" sort; do
    command -v "$prog" >/dev/null || { echo "test-preload: $prog is not installed (scripts/install-deps.sh)"; exit 1; }
done
nm -D --defined-only "$SO" >/dev/null 2>&1 && {
    exported="$(nm -D --defined-only "$SO" | awk '{ print $3 }' | sort | tr '\n' ' ')"
    echo "test-preload: $(basename "$SO") exports: $exported"
    case "$exported" in
        *ph_*) fail "the library exports pageheap's internal ph_* symbols" ;;
    esac
}

# The bash that run_pair starts (and rm, sha256sum) are preloaded too and
# report as well; the minimums count only the named program's lines.

# ---- sqlite3 ----------------------------------------------------------------
run_pair sqlite3 200000 PH_PRELOAD_HEAP_MB=16 -- \
    "rm -f db db-wal db-shm; sqlite3 db < '$W/sqlite-workload.sql'"
grep -q "^rows|20000|" sqlite3.out || fail "sqlite3: 'rows|20000|' not printed"
grep -q "^after delete|10000|" sqlite3.out || fail "sqlite3: 'after delete|10000|' not printed"
grep -qx "ok" sqlite3.out || fail "sqlite3: integrity_check not ok"
regions="$(grep -o "[0-9]* regions" sqlite3.stats | awk '{ print $1 }' | sort -n | tail -1)"
[ "${regions:-0}" -ge 3 ] || fail "sqlite3: a 16 MiB first region should have grown to 3 or more regions (got ${regions:-none})"

# ---- python3 -------------------------------------------------------------------
# The reference run uses pymalloc as usual: the output must not depend on
# the allocator at all.
run_pair python3 1000000 PYTHONMALLOC=malloc -- "$PY '$W/python-workload.py'"
[ "$(grep -c '^thread ' python3.out)" = 4 ] || fail "python3: expected 4 thread digests"

# ---- sort (coreutils, threads) -------------------------------------------------
"$PY" -c "
import random
r = random.Random(7)
w = 'alpha beta gamma delta eps zeta eta theta iota kappa'.split()
with open('in.txt', 'w') as f:
    for i in range(300000):
        f.write('%s%d %d %s\n' % (r.choice(w), r.randrange(5000), r.randrange(10**6), 'x' * r.randrange(40)))
"
run_pair sort 100 -- "sort --parallel=2 -S 16M -k2,2n -k1,1 in.txt | sha256sum"

# ---- xz (xz-utils, threads) ------------------------------------------------------
if command -v xz >/dev/null; then
    run_pair xz 200 -- "xz -T2 -3 --block-size=1MiB -c in.txt | xz -d -T2 | sha256sum"
    [ "$(cut -d' ' -f1 xz.out)" = "$(sha256sum <in.txt | cut -d' ' -f1)" ] ||
        fail "xz: the round trip changed the data"
else
    echo "test-preload: xz not installed, skipped"
fi

# ---- perl ------------------------------------------------------------------------
if command -v perl >/dev/null; then
    run_pair perl 200000 -- "perl -e 'my %h; for my \$i (1..300000) { \$h{\"k\$i\"} = [ (\$i) x (\$i % 7) ] }
        my \$s = 0; \$s += @{\$h{\$_}} for sort keys %h; print \"\$s\n\"; %h = ()'"
    [ "$(cat perl.out)" = 899998 ] || fail "perl: expected 899998"
else
    echo "test-preload: perl not installed, skipped"
fi

# ---- the C library's semantics, threads and fork, faults --------------------------
echo "test-preload: api: $PY api-check.py api (semantics, 3 GiB block, threads + fork)"
rc=0
LD_PRELOAD="$SO" PH_PRELOAD_STATS="$work/api.stats" "$PY" "$W/api-check.py" api >api.out 2>api.err || rc=$?
cat api.out
if [ "$rc" -ne 0 ] || ! grep -qx "api ok" api.out; then
    fail "api: exit status $rc"
    sed "s/^/    /" api.err
fi
check_stderr api api.err
check_stats api api.stats python3 10000
regions="$(grep -o "[0-9]* regions" api.stats | awk '{ print $1 }' | sort -n | tail -1)"
[ "${regions:-0}" -ge 2 ] || fail "api: the 3 GiB block should have added a region"

echo "test-preload: double free: must abort with the library's message"
rc=0
# (in a child bash, so that its "Aborted" notice goes to double.err too)
LD_PRELOAD="$SO" bash -c '"$0" "$1" double; exit $?' "$PY" "$W/api-check.py" >double.out 2>double.err || rc=$?
sed "s/^/    /" double.err
[ "$rc" -eq 134 ] || fail "double free: exit status $rc, expected 134 (SIGABRT)"
grep -q "pageheap-preload: fault: double free" double.err || fail "double free: no fault message"

echo "test-preload: double free with PH_PRELOAD_FAULT=count: refused, counted, goes on"
rc=0
PH_PRELOAD_FAULT=count LD_PRELOAD="$SO" PH_PRELOAD_STATS="$work/count.stats" \
    "$PY" "$W/api-check.py" double >count.out 2>count.err || rc=$?
sed "s/^/    /" count.stats 2>/dev/null || true
if [ "$rc" -ne 0 ] || ! grep -qx "faults refused" count.out; then
    fail "PH_PRELOAD_FAULT=count: exit status $rc"
fi
grep -q "faults 2," count.stats 2>/dev/null || fail "PH_PRELOAD_FAULT=count: expected 'faults 2' in the report"
grep -q "check ok" count.stats 2>/dev/null || fail "PH_PRELOAD_FAULT=count: heap check after refused frees"

echo
echo "test-preload: calls served by pageheap (all processes of each run):"
printf '    %s\n' "${summary[@]}"
if [ "$failed" -ne 0 ]; then
    echo "test-preload: $failed check(s) FAILED"
    exit 1
fi
echo "test-preload: all checks passed ($SECONDS s)"
