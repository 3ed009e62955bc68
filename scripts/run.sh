#!/usr/bin/env bash
# The main command of the README: installs what is missing, builds the host
# configuration (build/host) and runs the demo, build/host/demo/page_demo.
# Arguments are passed on to the demo.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bash "$PH_ROOT/scripts/install-deps.sh" >&2
cmake -S "$PH_ROOT" -B "$PH_ROOT/build/host" -DCMAKE_BUILD_TYPE=RelWithDebInfo >&2
if [ ! -f "$PH_ROOT/demo/CMakeLists.txt" ]; then
    echo "run.sh: demo/ is not there yet (no demo/CMakeLists.txt)" >&2
    exit 1
fi
cmake --build "$PH_ROOT/build/host" --target page_demo -j "$PH_JOBS" >&2
exec "$PH_ROOT/build/host/demo/page_demo" "$@"
