#!/usr/bin/env bash
# Checks (or with --fix, applies) .clang-format on every tracked C++ file.
set -euo pipefail
cf=${1:-clang-format}
cd "$(dirname "$(readlink -f "$0")")/.."
mapfile -t files < <(find include src tests fuzz bench -name '*.cpp' -o -name '*.hpp' | sort)
if [ "${2:-}" = --fix ]; then
  "$cf" -i "${files[@]}"
  exit 0
fi
bad=0
for f in "${files[@]}"; do
  if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
    echo "not formatted: $f"
    bad=1
  fi
done
[ $bad -eq 0 ] && echo "format-check: ${#files[@]} files formatted"
exit $bad
