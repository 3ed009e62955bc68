#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# bench/target/run-target-profile.sh: where the allocator's instructions go
# on a Cortex-M, instruction by instruction (the on-target counterpart of
# callgrind's per-instruction counts on the host).
#
#   bench/target/run-target-profile.sh [BOARD [FUNCTION...]]
#
# Builds the benchmark firmware (bench/target/bench.c, -O2, the small trace
# with PH_BENCH_OPS measured operations, default 100000, and no
# smallest-heap search) for BOARD (default mps2-an385, Cortex-M3), runs it
# once under QEMU with one instruction per translation block
# (`-singlestep -d exec,nochain`, logging only the FUNCTIONs' addresses,
# default ph_free fit_release: the free path) and counts how often each address
# ran.  Prints, per function: its calls (how often its first instruction
# ran), its own instructions per call, and every instruction that runs at
# least 0.02 times per call of the first FUNCTION (the entry point: its
# callees' lines are per call of it too).  Counts cover the whole firmware
# run (warm-up and the page and scavenge traces included), so they are
# exact counts of a known run, not the benchmark's table.  Needs
# arm-none-eabi-nm / objdump, qemu-system-arm and python3; about a minute.
#
# Environment: PH_BENCH_OPS (default 100000), PH_TARGET_PROFILE_ROOT (build
# root, default build/target-profile), PH_JOBS (default 2).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/common.sh
source "$here/../../scripts/common.sh"
cd "$PH_ROOT"

board=${1:-mps2-an385}
shift || true
funcs=("$@")
[ ${#funcs[@]} -gt 0 ] || funcs=(ph_free fit_release)
ops="${PH_BENCH_OPS:-100000}"
broot="${PH_TARGET_PROFILE_ROOT:-$PH_ROOT/build/target-profile}"
dir="$broot/board-$board"
mkdir -p "$broot"
for tool in arm-none-eabi-nm arm-none-eabi-objdump qemu-system-arm python3; do
    command -v "$tool" >/dev/null || { echo "run-target-profile.sh: needs $tool" >&2; exit 2; }
done

echo "run-target-profile.sh: $board: build (-O2, $ops ops, no footprint search) in $dir" >&2
PH_BUILD_ROOT="$broot" PH_CMAKE_ARGS="-DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS_RELEASE=-O2 \
    -DPH_BENCH_OPS=$ops -DPH_BENCH_FOOTPRINT=0" \
    bash scripts/board.sh "$board" configure >"$broot/$board.build.log" 2>&1
cmake --build "$dir" --target bench -j "$PH_JOBS" >>"$broot/$board.build.log" 2>&1
elf="$dir/bench/target/bench.elf"

# -dfilter: each function's address range (the Thumb bit cleared)
filter=""
for f in "${funcs[@]}"; do
    line=$(arm-none-eabi-nm -S "$elf" | awk -v f="$f" '$4 == f && !done { print $1, $2; done = 1 }')
    [ -n "$line" ] || { echo "run-target-profile.sh: no function $f in $elf" >&2; exit 2; }
    read -r addr size <<<"$line"
    filter="${filter:+$filter,}0x$addr+0x$size"
done

qemu_cmd="$(PH_BUILD_ROOT="$broot" bash scripts/board.sh "$board" qemu-command)"
qemu_cmd="${qemu_cmd% -kernel*}"
echo "run-target-profile.sh: $board: running under QEMU -singlestep (the log is counted as it comes)" >&2
counts="$broot/$board.pcs"
# shellcheck disable=SC2086
$qemu_cmd -singlestep -d exec,nochain -dfilter "$filter" -kernel "$elf" \
    2>&1 >"$broot/$board.out" </dev/null |
    awk -F/ '/^Trace/ { n[$2]++ } END { for (a in n) print a, n[a] }' >"$counts"
grep -q '^bench: done' "$broot/$board.out" ||
    { echo "run-target-profile.sh: the firmware did not finish, see $broot/$board.out" >&2; exit 1; }

python3 - "$elf" "$counts" "${funcs[@]}" <<'PY'
import re, subprocess, sys

elf, counts, funcs = sys.argv[1], sys.argv[2], sys.argv[3:]
pcs = {int(a, 16): int(n) for a, n in (l.split() for l in open(counts))}
syms = {}
for l in subprocess.run(['arm-none-eabi-nm', '-S', elf], capture_output=True, text=True).stdout.split('\n'):
    p = l.split()
    if len(p) == 4 and p[3] in funcs:
        syms[p[3]] = (int(p[0], 16) & ~1, int(p[1], 16))
text = {}
for l in subprocess.run(['arm-none-eabi-objdump', '-d', elf], capture_output=True, text=True).stdout.split('\n'):
    m = re.match(r'\s+([0-9a-f]+):\s+(?:[0-9a-f]{4} ?){1,2}\s+(.*)', l)
    if m:
        text[int(m.group(1), 16)] = m.group(2).strip()
entry = funcs[0]
ncalls = pcs.get(syms[entry][0], 0) or 1
print('## Instructions per call on %s (QEMU -singlestep, every instruction counted)' % elf.split('/')[-4][len('board-'):])
print()
print('| function | calls | own instructions per call | per call of %s |' % entry)
print('|---|---:|---:|---:|')
for f in funcs:
    a, n = syms[f]
    own = sum(c for pc, c in pcs.items() if a <= pc < a + n)
    calls = pcs.get(a, 0)
    print('| %s | %d | %.1f | %.1f |' % (f, calls, own / calls if calls else 0, own / ncalls))
for f in funcs:
    a, n = syms[f]
    print()
    print('### %s: instructions run at least 0.02 times per call of %s' % (f, entry))
    print('```')
    for pc in sorted(p for p in pcs if a <= p < a + n):
        if pcs[pc] / ncalls >= 0.02:
            print('%6x %6.2f  %s' % (pc, pcs[pc] / ncalls, text.get(pc, '?')))
    print('```')
PY
