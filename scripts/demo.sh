#!/usr/bin/env bash
# The main job: an end-to-end demo of bluetrace on 127.0.0.1. Installs missing Debian
# packages, builds the release preset if needed, starts a bluetrace-server in a temporary
# state directory with the original assignment's sample users, runs three scripted clients
# that log in, download TempIDs and beacon one another over UDP, has one of them upload its
# contact log, and shows the server's console (the phone numbers and encounter times) and
# its report file. Everything it started is stopped on exit, whatever happens.
#
# Usage: scripts/demo.sh [--keep]     (--keep: leave the temporary directory for a look)
# BLUETRACE_BIN_DIR=<dir> uses the programs in <dir> instead of building build/release.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

keep=0
[ "${1:-}" = --keep ] && keep=1

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
step() { printf '\n%s=== %s%s\n' "$bold" "$1" "$plain"; }
say() { printf '%s\n' "$*"; }

step "dependencies"
scripts/install-deps.sh

if [ -n "${BLUETRACE_BIN_DIR:-}" ]; then
  bin=$(readlink -f "$BLUETRACE_BIN_DIR")
else
  step "build (release preset; nothing to do when up to date)"
  [ -f build/release/build.ninja ] || cmake --preset release >/dev/null
  cmake --build --preset release --target bluetrace-server bluetrace-client
  bin=$PWD/build/release/bin
fi

work=$(mktemp -d -t bluetrace-demo.XXXXXX)
pids=()
fds=()
cleanup() {
  local status=$?
  for fd in "${fds[@]}"; do eval "exec ${fd}>&-" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ $keep -eq 1 ]; then
    say "demo files kept in $work"
  else
    rm -rf "$work"
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Waits (at most 20 s) until file $1 contains the fixed string $2 at least $3 times.
wait_for() {
  local file=$1 text=$2 count=${3:-1}
  for _ in $(seq 200); do
    if [ -f "$file" ] && [ "$(grep -cF -- "$text" "$file" || true)" -ge "$count" ]; then
      return 0
    fi
    sleep 0.1
  done
  say "demo: timed out waiting for '$text' in $file" >&2
  [ -f "$file" ] && sed 's/^/  | /' "$file" >&2
  return 1
}

free_udp_port() {
  python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

step "server"
mkdir -m 0700 "$work/server"
cp tests/data/original/credentials.txt tests/data/original/tempIDs.txt "$work/server/"
cat >"$work/server/demo.toml" <<EOF
# The demo's server: loopback only, a free port, the original's 60 s block, cheap hashes.
[server]
bind_address = "127.0.0.1"
port = 0
state_dir = "$work/server"
[auth]
block_duration = 60
argon2_memory_kib = 4096
argon2_iterations = 1
EOF
"$bin/bluetrace-server" --config "$work/server/demo.toml" --ready-file "$work/server/ready" \
  >"$work/server/console.txt" 2>"$work/server/log.txt" &
pids+=($!)
wait_for "$work/server/ready" ""
port=$(cat "$work/server/ready")
say "bluetrace-server listens on 127.0.0.1:$port, state in $work/server"
say "$(grep -o 'certificate .*' "$work/server/log.txt" | head -1)"
say "users (the original's credentials.txt):"
sed 's/\r$//; s/ .*//; s/^/  /' "$work/server/credentials.txt"

# The clients keep the original's 3-minute retention of received beacons.
cat >"$work/client.toml" <<EOF
[contact_log]
retention = 180
EOF

declare -A udp out
# start_client NAME: a scripted bluetrace-client whose stdin is a FIFO this script writes
# commands to one at a time (so it stays up to receive beacons), output in NAME.out.
start_client() {
  local name=$1 fd
  mkdir -m 0700 "$work/$name"
  mkfifo "$work/$name/stdin"
  udp[$name]=$(free_udp_port)
  out[$name]=$work/$name/transcript.txt
  "$bin/bluetrace-client" 127.0.0.1 "$port" "${udp[$name]}" --ca-file "$work/server/server.crt" \
    --config "$work/client.toml" --data-dir "$work/$name" \
    <"$work/$name/stdin" >"${out[$name]}" 2>&1 &
  pids+=($!)
  exec {fd}>"$work/$name/stdin"
  fds+=("$fd")
  eval "fd_$name=$fd"
}
# send NAME LINE...: types lines into a client.
send() {
  local name=$1 fdvar="fd_$1"
  shift
  printf '%s\n' "$@" >&"${!fdvar}"
}

step "three clients log in (as in the original: Username, Password)"
start_client alice
start_client bob
start_client carol
send alice +61410888888 comp3331
send bob +61410777777 datha457
send carol +61410666666 kara1234
for c in alice bob carol; do wait_for "${out[$c]}" "Welcome to the BlueTrace Simulator!"; done
say "alice = +61410888888 on UDP ${udp[alice]}, bob = +61410777777 on UDP ${udp[bob]}," \
  "carol = +61410666666 on UDP ${udp[carol]}"

step "they download TempIDs and beacon one another"
send alice Download_tempID
wait_for "${out[alice]}" "TempID:"
send bob Download_tempID
wait_for "${out[bob]}" "TempID:"
send alice "Beacon 127.0.0.1 ${udp[bob]}"
wait_for "${out[bob]}" "The beacon is valid." 1
send carol "Beacon 127.0.0.1 ${udp[bob]}"
wait_for "${out[bob]}" "The beacon is valid." 2
send bob "Beacon 127.0.0.1 ${udp[alice]}"
wait_for "${out[alice]}" "The beacon is valid." 1
send alice "Beacon 127.0.0.1 ${udp[carol]}"
wait_for "${out[carol]}" "The beacon is valid." 1
send carol Hello
wait_for "${out[carol]}" "Error. Invalid command"

step "an old beacon replayed to carol (the original's sample TempID of 2020) is invalid"
python3 -c 'import socket, sys
beacon = b"12345678901234567890" + b"13/05/2020 17:45:06" + b"13/05/2020 18:00:05" + b"1"
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(beacon, ("127.0.0.1", int(sys.argv[1])))' \
  "${udp[carol]}"
wait_for "${out[carol]}" "The beacon is invalid."

step "bob tests positive and uploads his contact log"
send bob Upload_contact_log
wait_for "${out[bob]}" "received by the server"
wait_for "$work/server/console.txt" "Contact log checking"

for c in alice bob carol; do send "$c" logout; done
wait_for "$work/server/console.txt" " logout" 3

step "what each client's terminal showed"
for c in alice carol bob; do
  say "--- $c"
  cat "${out[$c]}"
done

step "the server's console (the original's lines for the health authority)"
cat "$work/server/console.txt"

step "the report file kept by the server"
for r in "$work"/server/reports/*.txt; do
  say "--- ${r#"$work"/}"
  cat "$r"
done

step "bob's contactlog.txt (the original's format: TempID start expiry)"
cat "$work/bob/contactlog.txt"

step "done: stopping the server"
kill "${pids[0]}"
wait "${pids[0]}" && say "bluetrace-server stopped cleanly"
