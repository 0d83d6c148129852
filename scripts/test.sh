#!/usr/bin/env bash
# The whole test suite, from a fresh Debian 12 machine (as root) or a developer checkout:
# installs missing packages, checks formatting, builds the `release` preset whole (g++
# -O2, -Werror: the build that is packaged, benchmarks and fuzz replays included) and runs
# every test on it, then does the same with the `asan` preset (clang ASan+UBSan, debug),
# then builds the Debian packages and checks them (lintian, contents, the systemd unit).
# Usage: scripts/test.sh [--quick]   (--quick: the g++ `dev` debug build and its tests only)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

quick=0
[ "${1:-}" = --quick ] && quick=1
jobs=$(nproc)

step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }

# The PostgreSQL tests start a throwaway cluster per test program under /tmp/bt-pg-* and
# stop it when the program ends. A program ctest killed at its timeout cannot: on exit,
# also on failure, stop the clusters this run created (their own postmaster.pid names the
# process) and remove them.
marker=$(mktemp /tmp/bluetrace-test-run.XXXXXX)
stop_leftover_clusters() {
  local dir as=()
  [ "$(id -u)" -eq 0 ] && as=(runuser -u postgres --)
  for dir in /tmp/bt-pg-*; do
    [ -d "$dir" ] && [ "$dir" -nt "$marker" ] || continue
    if [ -f "$dir/data/postmaster.pid" ]; then
      echo "stopping a PostgreSQL test cluster left running: $dir"
      (cd /tmp && "${as[@]}" /usr/lib/postgresql/15/bin/pg_ctl -D "$dir/data" -m immediate -w stop) || true
    fi
    rm -rf "$dir"
  done
  rm -f "$marker"
}
trap stop_leftover_clusters EXIT

# Builds preset $1 whole and runs every test on it.
build_and_test() {
  step "$1 build"
  cmake --preset "$1" >/dev/null
  cmake --build --preset "$1" -j "$jobs"
  step "$1 tests"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --preset "$1" -j "$jobs"
}

step "dependencies"
scripts/install-deps.sh

step "format check"
scripts/check-format.sh

if [ $quick -eq 1 ]; then
  build_and_test dev
else
  build_and_test release
  build_and_test asan
  step "Debian packages: build, lintian, contents, unit"
  scripts/build-packages.sh
fi

step "all tests passed"
