#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Checks that the project is MIT-licensed file by file: a LICENSE file at
# the root naming the MIT licence, and an "SPDX-License-Identifier: MIT" line
# within the first five lines of every tracked source, header, script,
# linker, build and documentation file.  Files whose format has no comments
# (JSON), fuzz corpus inputs (raw bytes) and the documentation's images
# (docs/*.png: binary, drawn by scripts/plot-demo.py) are exempt.  Prints every file
# that lacks the line and fails if there is one.
set -euo pipefail
# shellcheck source=scripts/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cd "$PH_ROOT"

bad=0
if ! grep -q '^MIT License' LICENSE 2>/dev/null; then
    echo "check-license: LICENSE is missing or is not the MIT licence"
    bad=1
fi
missing=0 checked=0
while IFS= read -r f; do
    case "$f" in
        LICENSE|*.json|*/corpus/*|docs/*.png) continue ;;
    esac
    [ -f "$f" ] || continue
    checked=$((checked + 1))
    if ! head -n 5 "$f" | grep -q 'SPDX-License-Identifier: MIT'; then
        echo "check-license: no SPDX-License-Identifier: MIT line in $f"
        missing=$((missing + 1))
    fi
done < <(git ls-files --cached --others --exclude-standard)
echo "check-license: $checked files checked, $missing without the SPDX line"
[ "$bad" -eq 0 ] && [ "$missing" -eq 0 ]
