#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The coverage-guided differential fuzzer (host-tests/fuzz/fuzz_heap.c,
# libFuzzer + ASan + UBSan), run for a bounded time:
#
#   scripts/fuzz.sh [SECONDS] [WORD_BITS]
#
#   SECONDS     length of the timed run (default 60; e.g. 3600 for a long run)
#   WORD_BITS   empty: the machine word's layout (64-page chunks on x86-64,
#               build dir build/fuzz); 32: the Cortex-M layout (build/fuzz-w32)
#
# Steps: configure and build the fuzzer with clang; replay every seed in
# host-tests/fuzz/corpus/ and every input kept in host-tests/fuzz/crashes-found/
# once (a regression check); then fuzz for SECONDS from a COPY of the seed
# corpus (the repository's corpus never grows), printing libFuzzer's progress
# lines (cov: edges, ft: features) and, last, one summary line:
#
#   fuzz.sh: N executions in S s (E/s), cov: C, ft: F, corpus: K inputs
#
# Fails when the build fails, a replayed input fails, or libFuzzer finds a
# crash, a leak, a sanitizer report or a timeout; the input that failed is
# in <build dir>/artifacts/ (replay it: <build dir>/fuzz_heap <file>).
# Environment: PH_JOBS (default 2) build jobs; PH_FUZZ_CC (default clang).
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

secs="${1:-60}"
bits="${2:-}"
case "$secs" in ''|*[!0-9]*) echo "fuzz.sh: SECONDS must be a number (got '$secs')" >&2; exit 2 ;; esac
case "$bits" in ''|32|64) ;; *) echo "fuzz.sh: WORD_BITS must be empty, 32 or 64" >&2; exit 2 ;; esac
dir="$PH_ROOT/build/fuzz${bits:+-w$bits}"
src="$PH_ROOT/host-tests/fuzz"
cc="${PH_FUZZ_CC:-clang}"
if ! command -v "$cc" >/dev/null; then
    echo "fuzz.sh: $cc not found (scripts/install-deps.sh installs clang and libclang-rt)" >&2
    exit 1
fi

# Sanitizer reports abort, so libFuzzer keeps the input and fails.  A
# smaller quarantine (256 MB by default) keeps an hour's run well inside
# -rss_limit_mb.
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1}:abort_on_error=1:symbolize=1:quarantine_size_mb=64"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}:halt_on_error=1:abort_on_error=1"

echo "fuzz.sh: build $dir ($cc${bits:+, PH_WORD_BITS=$bits})"
cmake -S "$src" -B "$dir" -DCMAKE_C_COMPILER="$cc" -DPH_FUZZ_WORD_BITS="$bits" >"$dir.configure.log" 2>&1 ||
    { cat "$dir.configure.log"; exit 1; }
cmake --build "$dir" -j "$PH_JOBS" >"$dir.build.log" 2>&1 || { cat "$dir.build.log"; exit 1; }
bin="$dir/fuzz_heap"

# 1. Regression: every seed and every kept crash input, once each.
mapfile -t inputs < <(find "$src/corpus" "$src/crashes-found" -type f ! -name '*.md' 2>/dev/null | sort)
if [ "${#inputs[@]}" -eq 0 ]; then
    echo "fuzz.sh: no seed inputs in $src/corpus" >&2
    exit 1
fi
echo "fuzz.sh: replaying ${#inputs[@]} inputs once each"
if ! "$bin" "${inputs[@]}" >"$dir/replay.log" 2>&1; then
    tail -n 60 "$dir/replay.log"
    echo "fuzz.sh: FAILED: a seed or kept input fails (log: $dir/replay.log)"
    exit 1
fi

# 2. The timed run, from a copy of the corpus.
work="$dir/corpus-run"
rm -rf "$work" "$dir/artifacts"
mkdir -p "$work" "$dir/artifacts"
cp "$src"/corpus/* "$work"/
log="$dir/fuzz.log"
echo "fuzz.sh: fuzzing for $secs s (log: $log)"
set +e
"$bin" -max_total_time="$secs" -max_len=4096 -timeout=20 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$work" >"$log" 2>&1
rc=$?
set -e
# progress: the lines where coverage grew, thinned to about 10, and the end
grep -E '^#[0-9]+.*(INITED|pulse|DONE)' "$log" | tail -n 12 || true
if [ "$rc" -ne 0 ] || ls "$dir"/artifacts/* >/dev/null 2>&1; then
    grep -vE '^#[0-9]+' "$log" | tail -n 80
    echo "fuzz.sh: FAILED (libFuzzer exit $rc); inputs: $(ls "$dir"/artifacts/ 2>/dev/null | tr '\n' ' ')"
    exit 1
fi
done_line="$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1)"
execs="$(sed -n 's/^stat::number_of_executed_units:[[:space:]]*//p' "$log")"
rate="$(sed -n 's/^stat::average_exec_per_sec:[[:space:]]*//p' "$log")"
cov="$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$done_line")"
ft="$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$done_line")"
corp="$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$done_line")"
echo "fuzz.sh: $execs executions in $secs s ($rate/s), cov: $cov, ft: $ft, corpus: $corp inputs"
