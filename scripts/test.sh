#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root) or a developer checkout:
# installs missing packages, builds everything with -Werror (g++ debug, then clang
# ASan+UBSan), runs every test including the fuzz-corpus replays, checks formatting, then
# builds the Debian packages and checks them (lintian, contents, the systemd unit).
# Usage: scripts/test.sh [--quick]   (--quick: the g++ build and tests only)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

quick=0
[ "${1:-}" = --quick ] && quick=1
jobs=$(nproc)

step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }

step "dependencies"
scripts/install-deps.sh

step "format check"
scripts/check-format.sh

step "g++ debug build"
cmake --preset dev >/dev/null
cmake --build --preset dev -j "$jobs"

step "g++ debug tests"
ctest --preset dev -j "$jobs"

if [ $quick -eq 0 ]; then
  step "clang ASan+UBSan build"
  cmake --preset asan >/dev/null
  cmake --build --preset asan -j "$jobs"

  step "clang ASan+UBSan tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --preset asan -j "$jobs"

  step "Debian packages: build, lintian, contents, unit"
  scripts/build-packages.sh
fi

step "all tests passed"
