#!/usr/bin/env bash
# Every benchmark in bench/ in one command, and one table of every figure beside its target
# (docs/BENCHMARKS.md records them). Builds the release preset (only the benchmarks and the
# two programs the original's workload runs), runs each benchmark with settings that finish
# in reasonable time on 2 cores, keeps each one's whole output, and prints every row of the
# `| figure | measured | target |` tables the benchmarks print under one header, the other
# tables they print after it.
#
# Default settings (about 15-25 minutes on 2 shared cores, most of it the 10-million-line
# TempID store and pg_bench's loads):
#   tempid_store_bench   10,000,000 lines (the 10-million-line open, issue 14 §1-§2)
#   idle_sessions_bench  10,000 idle TLS sessions, then logged in (issue 14 §3)
#   server_load_bench    8 clients for 10 s, default Argon2id, then a 64 KiB one
#   login_bound_bench    12 pairs of 2 s windows, 16 clients (issue 14 §4)
#   login_flood_bench    96 guessing threads, 40 logins per case
#   auth_timing_bench    100 rounds
#   pg_bench             2 s per run, 1,000,000 stored TempIDs, a 1,000,000-line import
#   original_workload.py 100,000 tempIDs.txt lines, a 1,000-entry contact log, 5 uploads
# --full: pg_bench at its own sizes (10M and 30M stored, a 10M-line import; about an hour).
# Every benchmark stops by itself and also runs under `timeout`; on exit, also on failure or
# Ctrl-C, this script stops whatever it started.
#
# Usage: scripts/bench.sh [--full] [--keep]   (--keep: leave the outputs' directory)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

full=0
keep=0
for arg in "$@"; do
  case $arg in
    --full) full=1 ;;
    --keep) keep=1 ;;
    *) echo "usage: scripts/bench.sh [--full] [--keep]" >&2; exit 2 ;;
  esac
done

benches=(tempid_store_bench idle_sessions_bench server_load_bench login_bound_bench
  login_flood_bench auth_timing_bench pg_bench)
out=$(mktemp -d -t bluetrace-bench.XXXXXX)
current=
cleanup() {
  local status=$?
  # `timeout` runs each benchmark in a process group of its own: stop it whole.
  if [ -n "$current" ] && kill -0 "$current" 2>/dev/null; then
    kill -TERM "$current" 2>/dev/null || true
    wait "$current" 2>/dev/null || true
  fi
  if [ $keep -eq 1 ] || [ $status -ne 0 ]; then
    echo "outputs kept in $out" >&2
  else
    rm -rf "$out"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "=== build (release preset: ${benches[*]}, bluetrace-server, bluetrace-client)"
[ -f build/release/build.ninja ] || cmake --preset release >/dev/null
nice -n 10 cmake --build --preset release --target "${benches[@]}" bluetrace-server \
  bluetrace-client
bin=$PWD/build/release

# run NAME LIMIT_SECONDS COMMAND...: one benchmark, bounded, output to $out/NAME.txt.
failed=()
run() {
  local name=$1 limit=$2
  shift 2
  echo "=== $name: $*"
  local start=$SECONDS status=0
  timeout --kill-after=10 "$limit" "$@" >"$out/$name.txt" 2>&1 &
  current=$!
  wait "$current" || status=$?
  current=
  echo "    $((SECONDS - start)) s, exit status $status (output: $out/$name.txt)"
  if [ $status -ne 0 ]; then
    failed+=("$name")
    tail -5 "$out/$name.txt" | sed 's/^/    | /'
  fi
}

run tempid_store 1800 "$bin/bench/tempid_store_bench"
run idle_sessions 900 "$bin/bench/idle_sessions_bench" 10000 120
run server_load 120 "$bin/bench/server_load_bench" 8 10
run server_load_cheap 120 "$bin/bench/server_load_bench" 8 10 64
run login_bound 300 "$bin/bench/login_bound_bench" 12 2 16
run login_flood 900 "$bin/bench/login_flood_bench" 96 40
run auth_timing 300 "$bin/bench/auth_timing_bench" 100
if [ $full -eq 1 ]; then
  run pg 7200 "$bin/bench/pg_bench"
else
  run pg 1800 "$bin/bench/pg_bench" 2 1000000 600 1000000
fi
run original_workload 300 python3 bench/original_workload.py "$bin/bin" 100000 1000 5

# The rows of every `| figure | measured | target |` table, under one header; the other
# tables (other columns) after it, each under its benchmark's name.
echo
echo "=== every figure beside its target ($(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores," \
  "load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "| benchmark | figure | measured | target |"
echo "|---|---|---|---|"
for f in "$out"/*.txt; do
  name=$(basename "$f" .txt)
  awk -v name="$name" -F'|' '
    /^\|/ && NF == 5 && $2 !~ /^ *-*$/ && $2 !~ /^ *figure *$/ && $0 !~ /^\|[-| ]*$/ {
      printf "| %s |%s|%s|%s|\n", name, $2, $3, $4
    }' "$f"
  # tempid_store_bench prints "<figure> = <measured> [target <target>: met]" lines.
  sed -n 's/^ *\(.*[^ ]\) *\[target \(.*\)\]$/| '"$name"' | \1 | (in the figure) | \2 |/p' "$f"
done
for f in "$out"/*.txt; do
  name=$(basename "$f" .txt)
  other=$(awk -F'|' '/^\|/ && NF != 5' "$f")
  [ -n "$other" ] || continue
  echo
  echo "--- $name"
  printf '%s\n' "$other"
done
for f in "$out"/server_load*.txt "$out"/login_bound.txt "$out"/auth_timing.txt; do
  # These print their figures as text; the targets are in docs/BENCHMARKS.md.
  [ -f "$f" ] || continue
  echo
  echo "--- $(basename "$f" .txt) (text; targets in docs/BENCHMARKS.md)"
  grep -v '^|' "$f" | head -20
done

if [ ${#failed[@]} -gt 0 ]; then
  echo
  echo "benchmarks that failed or timed out: ${failed[*]}" >&2
  exit 1
fi
