#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages that the build, the tests, the benchmarks and
# the QEMU boards need, and only those that are missing.  Nothing is done (no
# apt-get update, no network) when everything is installed already.
# Works on a fresh Debian 12 (bookworm); runs apt through sudo when not root.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# package -> what it provides to the project
packages=(
    cmake                     # the build
    make                      # CMake's default generator
    gcc                       # host compiler: tests, bench, demo, core on x86-64
    libc6-dev                 # host C headers (only a Recommends of gcc)
    pkg-config                # finds cmocka
    libcmocka-dev             # host unit tests
    valgrind                  # callgrind instruction counts (bench)
    gcc-arm-none-eabi         # cross compiler for Cortex-M/A
    binutils-arm-none-eabi    # arm-none-eabi-size/nm/objcopy
    libnewlib-arm-none-eabi   # C library for the boards
    picolibc-arm-none-eabi    # the other C library: port/picolibc's test (scripts/test-libc-ports.sh)
    libstdc++-arm-none-eabi-newlib  # C++ on target: port/cxx's firmware (new/delete, STL via malloc)
    qemu-system-arm           # runs the boards
    sqlite3                   # real program run under the LD_PRELOAD library (test)
    python3                   # real program run under the LD_PRELOAD library (test)
    libjemalloc-dev           # peer allocator in the object benchmark
    libmimalloc-dev           # peer allocator in the object benchmark
    clang                     # the fuzzer (libFuzzer) and the clang build-matrix cells
    libclang-rt-14-dev        # libFuzzer and the sanitizer runtimes for clang
    python3-matplotlib        # scripts/plot-demo.py: run.sh's SVG plots of the demo (optional there)
)

installed() {
    # "install ok installed" only: a removed package whose config files remain
    # is known to dpkg but not installed.
    [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]
}

if ! command -v dpkg-query >/dev/null 2>&1; then
    # Not a Debian system: check the tools themselves and leave the rest to the user.
    missing_tools=()
    for tool in cmake make gcc pkg-config valgrind arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm; do
        command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
    done
    if [ "${#missing_tools[@]}" -gt 0 ]; then
        echo "install-deps.sh: not a Debian system and missing: ${missing_tools[*]}" >&2
        exit 1
    fi
    echo "install-deps.sh: not a Debian system, but every tool is on PATH"
    exit 0
fi

missing=()
for p in "${packages[@]}"; do
    installed "$p" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
    echo "install-deps.sh: all ${#packages[@]} packages present"
    exit 0
fi

echo "install-deps.sh: installing ${missing[*]}"
if [ "$(id -u)" -eq 0 ]; then
    sudo=()
elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
else
    echo "install-deps.sh: not root and no sudo; install as root: ${missing[*]}" >&2
    exit 1
fi
# Another apt or dpkg run (an unattended upgrade on a fresh machine) may hold
# the package manager's lock: wait for it up to PH_APT_LOCK_WAIT seconds
# (default 600) instead of failing.  apt's own output goes to a log, printed
# only when a command fails, so a good run prints three lines.
lock_wait="${PH_APT_LOCK_WAIT:-600}"
log="$(mktemp "${TMPDIR:-/tmp}/ph-install-deps.XXXXXX")"
apt() {
    # env: sudo resets the environment, so pass the variable through the command.
    if ! "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get -q -o DPkg::Lock::Timeout="$lock_wait" "$@" >>"$log" 2>&1; then
        echo "install-deps.sh: apt-get $1 failed; its output:" >&2
        tail -n 40 "$log" >&2
        rm -f "$log"
        exit 1
    fi
}
# DPkg::Lock::Timeout covers dpkg's lock; "update" takes the lists lock,
# which older apt does not wait for, so it is retried.
for try in 1 2 3 4 5 6; do
    if "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -q \
            -o DPkg::Lock::Timeout="$lock_wait" update >>"$log" 2>&1; then
        break
    fi
    [ "$try" -lt 6 ] || apt update     # the last try prints the log and exits
    echo "install-deps.sh: apt-get update failed (lock held?), retrying in 20 s"
    sleep 20
done
apt install -y --no-install-recommends "${missing[@]}"
rm -f "$log"

for p in "${missing[@]}"; do
    installed "$p" || { echo "install-deps.sh: $p still missing" >&2; exit 1; }
done
echo "install-deps.sh: done"
