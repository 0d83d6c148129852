#!/usr/bin/env bash
# Fuzzing campaign: builds the `fuzz` preset (clang + libFuzzer + ASan/UBSan) and runs every
# fuzz target (or the ones named) for a bounded number of executions each. New inputs go to
# build/fuzz/corpus-out/<target>/, never into the committed seed corpora; crashes are
# written to build/fuzz/artifacts/. Exit status is non-zero on any finding.
# Usage: scripts/fuzz.sh [-r RUNS] [-t MAX_SECONDS_PER_TARGET] [target...]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

runs=1000000
max_time=600
while getopts "r:t:" opt; do
  case $opt in
    r) runs=$OPTARG ;;
    t) max_time=$OPTARG ;;
    *) echo "usage: $0 [-r RUNS] [-t SECONDS] [target...]" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))

scripts/install-deps.sh >/dev/null
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  mapfile -t targets < <(sed -n 's/^ *\([a-z_0-9]*\) *$/\1/p' fuzz/targets.cmake)
fi

out=build/fuzz/corpus-out
art=build/fuzz/artifacts
mkdir -p "$art"
status=0
for t in "${targets[@]}"; do
  mkdir -p "$out/$t"
  dict=()
  [ -f "fuzz/$t.dict" ] && dict=("-dict=fuzz/$t.dict")
  log=build/fuzz/$t.log
  if "build/fuzz/fuzz/${t}_fuzz" -runs="$runs" -max_total_time="$max_time" \
      -artifact_prefix="$art/$t-" -print_final_stats=1 "${dict[@]}" \
      "$out/$t" "fuzz/corpus/$t" >"$log" 2>&1; then
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    secs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf '%-20s ok   %12s execs  %8s exec/s\n' "$t" "$execs" "$secs"
  else
    printf '%-20s FINDING, see %s\n' "$t" "$log"
    status=1
  fi
done
exit $status
