#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# boards/common/run-qemu.sh: runs one firmware under QEMU for CTest.
#
#   run-qemu.sh [--timeout SECONDS] [--log FILE] -- qemu-system-arm ARGS...
#
# Streams the firmware's output (console and semihosting) as it comes,
# kills QEMU after SECONDS (default 60; status 124), and exits with QEMU's
# exit status, which is the firmware's exit status (semihosting
# SYS_EXIT_EXTENDED): 0 = pass.  stdin is /dev/null.  The last line says
# how it ended.
set -uo pipefail

timeout_s=60
log=""
while [ $# -gt 0 ]; do
    case "$1" in
        --timeout) timeout_s="$2"; shift 2 ;;
        --log) log="$2"; shift 2 ;;
        --) shift; break ;;
        *) echo "run-qemu.sh: unknown option $1" >&2; exit 2 ;;
    esac
done
[ $# -gt 0 ] || { echo "run-qemu.sh: no QEMU command" >&2; exit 2; }
command -v "$1" >/dev/null 2>&1 ||
    { echo "run-qemu.sh: $1 not found (scripts/install-deps.sh installs qemu-system-arm)"; exit 127; }

t0=$(date +%s.%N)
if [ -n "$log" ]; then
    timeout -k 5 "$timeout_s" "$@" </dev/null 2>&1 | tee "$log"
else
    timeout -k 5 "$timeout_s" "$@" </dev/null 2>&1
fi
rc=${PIPESTATUS[0]}
t1=$(date +%s.%N)
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
case "$rc" in
    0)   echo "run-qemu.sh: exit status 0 (pass) after ${secs} s" ;;
    124) echo "run-qemu.sh: FAIL: killed after ${timeout_s} s (timeout)" ;;
    98)  echo "run-qemu.sh: FAIL: exit status 98 (simulated power gate violation) after ${secs} s" ;;
    99)  echo "run-qemu.sh: FAIL: exit status 99 (CPU fault) after ${secs} s" ;;
    *)   echo "run-qemu.sh: FAIL: exit status $rc after ${secs} s" ;;
esac
exit "$rc"
