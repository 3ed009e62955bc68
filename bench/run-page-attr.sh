#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# run-page-attr.sh BUILD_DIR [PAGES]
#
# Where the instructions of ph_page_alloc and ph_page_free go on the page
# trace (bench/page_bench.c, PAGES pages of 4 KiB, default 16384; 200,000
# measured operations), per call, by the inlined helpers they are made of.
# At -O2 the page calls inline the whole run index (core/src/ph_tree.h), so
# callgrind's function list shows one function each; this script counts
# every instruction (callgrind --dump-instr=yes), asks addr2line -i for
# the chain of inlined functions at each address and sums the counts by
# the two helpers below the entry point (for example "pages_find_all >
# pages_find"), and inside the index's update by mark_run and the two below
# it (for example "mark_run > set_value > chunk_value").  Needs valgrind, addr2line and
# python3; takes about ten seconds.
set -euo pipefail

# shellcheck source=bench/bench_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/bench_lib.sh"
pages=${2:-16384}
bench_setup page_bench $(( $# == 2 ? 1 : $# )) "${1:-}" valgrind addr2line python3
bench_workdir page-attr "${PH_BENCH_KEEP:-0}"

valgrind --tool=callgrind --dump-instr=yes --dump-line=no --compress-pos=no \
    --callgrind-out-file="$WORK/attr.cg" --collect-atstart=no \
    --toggle-collect=bench_measured_pageheap \
    "$BIN" --pages "$pages" --ops 200000 --ref-ops 0 --seed 1 --mode plain \
    >"$WORK/attr.txt" 2>"$WORK/attr.err"

python3 - "$BIN" "$WORK/attr.cg" "$WORK/attr.txt" "$pages" <<'PY'
import collections, re, subprocess, sys

exe, cg, txt, pages = sys.argv[1:5]
names, cost, fn, skip = {}, collections.Counter(), None, False
for line in open(cg):
    line = line.rstrip('\n')
    m = re.match(r'c?fn=\((\d+)\)(?: (.*))?', line)
    if m:
        if m.group(2):
            names[m.group(1)] = m.group(2)
        if line.startswith('fn='):
            fn = names.get(m.group(1))
        continue
    if line.startswith('calls='):
        skip = True  # the next cost line is the call's inclusive cost
        continue
    if line.startswith('0x'):
        if skip:
            skip = False
            continue
        addr, n = line.split()[:2]
        if fn in ('ph_page_alloc', 'ph_page_free'):
            cost[(fn, int(addr, 16))] += int(n)

addrs = sorted({a for _, a in cost})
out = subprocess.run(['addr2line', '-e', exe, '-i', '-f', '-a'] + [hex(a) for a in addrs],
                     capture_output=True, text=True, check=True).stdout.split('\n')
chains, cur, i = {}, None, 0
while i < len(out):
    if out[i].startswith('0x'):
        cur = int(out[i], 16)
        chains[cur] = []
        i += 1
    elif out[i] == '':
        i += 1
    else:
        chains[cur].append(out[i])  # function; the next line is its file:line
        i += 2

text = open(txt).read()
calls = {'ph_page_alloc': int(re.search(r'allocs=(\d+)', text).group(1)),
         'ph_page_free': int(re.search(r'frees=(\d+)', text).group(1))}
print(f'## Where ph_page_alloc / ph_page_free spend their instructions ({pages} pages, per call)')
print()
for f in ('ph_page_alloc', 'ph_page_free'):
    by, total = collections.Counter(), 0
    for (g, a), n in cost.items():
        if g != f:
            continue
        chain = chains.get(a, ['?'])[::-1]  # outermost first
        # the two helpers below the entry point; inside the run index's
        # update, the two below mark_run
        below = chain[chain.index('mark_run'):][:3] if 'mark_run' in chain else chain[1:3]
        by[' > '.join(below) if below else '(the entry point itself)'] += n
        total += n
    print(f'{f}: {total / calls[f]:.1f} per call over {calls[f]} calls')
    print()
    print('| inlined helpers | instructions per call |')
    print('|---|---:|')
    for key, n in by.most_common():
        if n / calls[f] >= 0.5:
            print(f'| {key} | {n / calls[f]:.1f} |')
    print()
PY
