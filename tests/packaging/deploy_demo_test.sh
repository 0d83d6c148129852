#!/usr/bin/env bash
# scripts/deploy-demo.sh, run for real: a throwaway PostgreSQL, two bluetrace-server
# instances as the least-privilege role, HAProxy, a client served again after one instance
# is killed. Checks that it exits 0 having done each step, that it leaves no process and no
# temporary directory behind, also when it is stopped half-way (SIGTERM), and that the
# GRANT statements of docs/DEPLOYMENT.md are the ones the script runs.
#
# Skips (status 77) only when haproxy is not installed and we are not root; as root a
# missing haproxy is a failure (scripts/install-deps.sh installs it).
#
# Usage: deploy_demo_test.sh <source dir> <directory of bluetrace-server, -client, -admin>
set -uo pipefail
src=${1:?usage: $0 <source dir> <bin dir>}
bin=${2:?usage: $0 <source dir> <bin dir>}
script=$src/scripts/deploy-demo.sh
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# --- the documented grants are the script's ------------------------------------------
grants_of() { grep -E '^GRANT ' "$1" | sort; }
if [ "$(grants_of "$script")" != "$(grants_of "$src/docs/DEPLOYMENT.md")" ]; then
  fail "the GRANT lines of docs/DEPLOYMENT.md differ from those of scripts/deploy-demo.sh"
  diff <(grants_of "$script") <(grants_of "$src/docs/DEPLOYMENT.md")
fi
[ "$(grants_of "$script" | wc -l)" -ge 5 ] || fail "scripts/deploy-demo.sh has too few GRANT lines"

# --- prerequisites ---------------------------------------------------------------------
if ! command -v haproxy >/dev/null && [ ! -x /usr/sbin/haproxy ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "SKIP: haproxy is not installed (scripts/install-deps.sh installs it, as root)"
    [ $failures -eq 0 ] && exit 77
    exit 1
  fi
  fail "haproxy is not installed; run scripts/install-deps.sh"
  exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# What a run (its output in $1) started must be gone once it has exited: the pids it named
# ("pid N"), PostgreSQL (started by pg_ctl, found by its data directory) and the temporary
# directory ("socket in <dir>/pg").
check_nothing_left() {
  local out=$1 what=$2 pid dir
  while read -r pid; do
    if kill -0 "$pid" 2>/dev/null && [ "$(ps -o stat= -p "$pid" | cut -c1)" != Z ]; then
      fail "$what: pid $pid is still running: $(ps -o args= -p "$pid")"
    fi
  done < <(grep -o 'pid [0-9]*' "$out" | awk '{print $2}' | sort -u)
  dir=$(sed -n 's|.*socket in \(/tmp/bt-deploy\.[^/]*\)/pg.*|\1|p' "$out" | head -1)
  if [ -z "$dir" ]; then
    fail "$what: the output does not name the temporary directory"
    return
  fi
  if pgrep -f "postgres -D $dir/pg/data" >/dev/null; then
    fail "$what: PostgreSQL of $dir is still running"
  fi
  [ ! -e "$dir" ] || fail "$what: $dir was left behind"
}

# --- a whole run -----------------------------------------------------------------------
start=$SECONDS
timeout 100 bash "$script" --bin-dir "$bin" >"$tmp/run.txt" 2>&1
status=$?
took=$((SECONDS - start))
if [ $status -ne 0 ]; then
  fail "deploy-demo.sh exited $status"
  cat "$tmp/run.txt"
else
  for expect in \
    "refused to bluetrace, as it should be: CREATE TABLE" \
    "refused to bluetrace, as it should be: UPDATE audit" \
    "says \"ready\"" \
    "haproxy: server a UP" \
    "haproxy: server b UP" \
    "Welcome to the BlueTrace Simulator!" \
    "marked [ab] DOWN" \
    "served by instance [ab]: the account registered through [ab] is in the shared database" \
    "deploy-demo: OK"; do
    grep -q -- "$expect" "$tmp/run.txt" || fail "the run's output lacks: $expect"
  done
  [ "$(grep -c '^  client| TempID:' "$tmp/run.txt")" -eq 2 ] || fail "not two TempIDs downloaded"
  # Not a failure: a loaded machine is slower; the timeout above bounds the run.
  [ $took -lt 60 ] || echo "note: the run took $took s (under a minute on an idle machine)"
  if [ $failures -ne 0 ]; then cat "$tmp/run.txt"; fi
fi
check_nothing_left "$tmp/run.txt" "after a whole run"
echo "deploy-demo.sh: exit $status in $took s"

# --- stopped half-way --------------------------------------------------------------------
# SIGTERM once HAProxy runs: everything started so far (PostgreSQL, both instances,
# HAProxy) must be stopped and the directory removed. (A background job ignores SIGINT,
# so Ctrl-C is the same trap reached through TERM.)
bash "$script" --bin-dir "$bin" >"$tmp/stopped.txt" 2>&1 &
pid=$!
for _ in $(seq 600); do
  grep -q "HAProxy (pid" "$tmp/stopped.txt" && break
  kill -0 $pid 2>/dev/null || break
  sleep 0.1
done
if grep -q "HAProxy (pid" "$tmp/stopped.txt"; then
  kill -TERM $pid
  for _ in $(seq 300); do
    kill -0 $pid 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 $pid 2>/dev/null; then
    fail "deploy-demo.sh did not stop within 30 s of SIGTERM"
    kill -KILL $pid
  fi
  wait $pid
  status=$?
  [ $status -eq 143 ] || fail "stopped by SIGTERM, deploy-demo.sh exited $status, not 143"
  grep -q "deploy-demo: FAILED" "$tmp/stopped.txt" || fail "no FAILED line after SIGTERM"
  check_nothing_left "$tmp/stopped.txt" "after SIGTERM"
else
  wait $pid
  fail "the second run never reached HAProxy"
  cat "$tmp/stopped.txt"
fi

if [ $failures -ne 0 ]; then
  echo "$failures failure(s)"
  exit 1
fi
echo "PASS"
