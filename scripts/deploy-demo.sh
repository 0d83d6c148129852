#!/usr/bin/env bash
# Several bluetrace-server instances on one PostgreSQL behind HAProxy, on one machine,
# loopback only (docs/DEPLOYMENT.md). Starts a throwaway PostgreSQL 15 (Unix socket in a
# temporary directory, no TCP), creates the database with an owner role, which applies the
# migrations, and a least-privilege login role, which the servers use; starts two
# bluetrace-server instances sharing one certificate, and HAProxy in TCP mode (TLS passed
# through) with health checks on their /readyz; then a real bluetrace-client registers,
# logs in and downloads a TempID through HAProxy, the instance that served it is killed
# (SIGKILL), and the client is served again through HAProxy by the other one.
#
# Runs as root (PostgreSQL then runs as the postgres user) or not. Everything it started
# is stopped (by pid) and the temporary directory removed on exit, also on failure or
# Ctrl-C. Every wait has a timeout. Exit status 0 only when every step worked.
#
# Usage: scripts/deploy-demo.sh [--bin-dir DIR]
#   --bin-dir DIR (or BIN_DIR=DIR): where bluetrace-server, -client and -admin are; the
#     default is build/release/bin, else build/dev/bin, else the ones on PATH.
#   SQL_DIR=DIR: the migrations (default: packaging/sql of this repository, else
#     /usr/share/bluetrace/sql). PG_BIN=DIR: PostgreSQL's programs
#     (default /usr/lib/postgresql/15/bin).
set -euo pipefail
repo=$(cd "$(dirname "$(readlink -f "$0")")/.." && pwd)

bin_dir=${BIN_DIR:-}
while [ $# -gt 0 ]; do
  case $1 in
    --bin-dir)
      bin_dir=${2:?--bin-dir needs a directory}
      shift 2
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "deploy-demo: unknown argument $1 (--help)" >&2
      exit 2
      ;;
  esac
done

if [ -t 1 ]; then bold=$'\033[1m' plain=$'\033[0m'; else bold='' plain=''; fi
started_at=$SECONDS
step() { printf '\n%s=== [%2ds] %s%s\n' "$bold" $((SECONDS - started_at)) "$1" "$plain"; }
say() { printf '%s\n' "$*"; }
die() {
  printf 'deploy-demo: %s\n' "$*" >&2
  exit 1
}

# --- what it needs --------------------------------------------------------------------
if [ -z "$bin_dir" ]; then
  for d in "$repo/build/release/bin" "$repo/build/dev/bin"; do
    if [ -x "$d/bluetrace-server" ] && [ -x "$d/bluetrace-client" ] && [ -x "$d/bluetrace-admin" ]; then
      bin_dir=$d
      break
    fi
  done
fi
if [ -z "$bin_dir" ] && command -v bluetrace-server >/dev/null; then
  bin_dir=$(dirname "$(command -v bluetrace-server)")
fi
[ -n "$bin_dir" ] || die "no bluetrace programs: build them (cmake --preset release && cmake --build --preset release) or pass --bin-dir"
bin_dir=$(readlink -f "$bin_dir")
for p in bluetrace-server bluetrace-client bluetrace-admin; do
  [ -x "$bin_dir/$p" ] || die "$bin_dir/$p is missing"
done
sql_dir=${SQL_DIR:-}
if [ -z "$sql_dir" ]; then
  sql_dir=$repo/packaging/sql
  [ -d "$sql_dir" ] || sql_dir=/usr/share/bluetrace/sql
fi
[ -d "$sql_dir" ] || die "no migrations in $sql_dir (set SQL_DIR)"
pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$pg_bin/initdb" ] || die "no PostgreSQL 15 in $pg_bin (apt-get install postgresql-15, or set PG_BIN)"
haproxy=$(command -v haproxy || true)
[ -n "$haproxy" ] || [ ! -x /usr/sbin/haproxy ] || haproxy=/usr/sbin/haproxy
[ -n "$haproxy" ] || die "haproxy is not installed (apt-get install haproxy)"
command -v openssl >/dev/null || die "openssl is not installed"
as_root=0
[ "$(id -u)" -eq 0 ] && as_root=1

# --- clean-up -------------------------------------------------------------------------
# Under /tmp whatever TMPDIR says: the socket path must stay short (107 bytes).
work=$(mktemp -d /tmp/bt-deploy.XXXXXX)
chmod 0711 "$work" # the postgres user must reach $work/pg when we run as root
pg=$work/pg
pids=()
pg_running=0

# Runs a PostgreSQL server program as the cluster's owner (postgres when we are root), from
# the cluster's directory (the postgres user may not enter ours).
as_pg_owner() {
  if [ $as_root -eq 1 ]; then
    (cd "$pg" && runuser -u postgres -- "$@")
  else
    (cd "$pg" && "$@")
  fi
}

# Sends SIGTERM to pid $1 and waits for it at most 5 s, then sends SIGKILL.
stop_pid() {
  local pid=$1
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  local status=$?
  set +e
  trap - EXIT INT TERM
  for pid in "${pids[@]}"; do stop_pid "$pid"; done
  if [ $pg_running -eq 1 ]; then
    as_pg_owner timeout 15 "$pg_bin/pg_ctl" -D "$pg/data" -m immediate -w -t 10 stop >/dev/null 2>&1
  fi
  rm -rf "$work"
  if [ "$status" -eq 0 ]; then
    say "deploy-demo: OK: every step worked; everything it started is stopped and removed"
  else
    say "deploy-demo: FAILED (exit $status); everything it started is stopped and removed" >&2
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Waits (at most $1 s) until the command after it succeeds; says what it waited for.
wait_until() {
  local seconds=$1 what=$2
  shift 2
  local end=$((SECONDS + seconds))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "timed out after ${seconds}s waiting for $what"
    sleep 0.1
  done
}

# Prints file $1 indented (for failures).
show() { if [ -f "$1" ]; then sed 's/^/  | /' "$1" >&2; fi; }

# Plain bash from here on where it can be: on a loaded machine every process started counts.

# A port from 20000-32767 (below Linux's ephemeral range, so no port-0 bind takes it
# meanwhile) on which nothing listens on 127.0.0.1 now.
free_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 12768))
    if ! (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# GET http://127.0.0.1:$1$2 (HTTP/1.0, 5 s at most): prints the body; fails unless 200.
http_get() {
  local fd reply
  { exec {fd}<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
  printf 'GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$2" >&"$fd"
  reply=$(timeout 5 cat <&"$fd")
  exec {fd}>&-
  reply=${reply//$'\r'/}
  printf '%s\n' "${reply#*$'\n\n'}"
  [[ $reply == "HTTP/1."[01]" 200"* ]]
}

# --- PostgreSQL -----------------------------------------------------------------------
step "a throwaway PostgreSQL 15: initdb in $pg, Unix socket only"
mkdir -m 0700 "$pg"
[ $as_root -eq 1 ] && chown postgres: "$pg"
# The bootstrap superuser "btadmin" is this script's: it creates the roles and the database
# and is used for nothing else. trust only for it, only over the socket in a 0700 directory;
# the two bluetrace roles log in with passwords (SCRAM).
as_pg_owner timeout 120 "$pg_bin/initdb" -D "$pg/data" -U btadmin -A trust --no-sync --no-locale \
  -E UTF8 >"$work/initdb.log" 2>&1 || {
  show "$work/initdb.log"
  die "initdb failed"
}
cat >"$pg/hba.conf" <<'EOF'
local all btadmin trust
local bluetrace bluetrace_owner,bluetrace scram-sha-256
EOF
as_pg_owner cp "$pg/hba.conf" "$pg/data/pg_hba.conf"
# 20 connections: 2 instances x postgres.pool_size 4 + the migration + this script's psql.
pg_running=1 # from here on, clean-up stops it (a stop of a cluster not running is harmless)
as_pg_owner timeout 90 "$pg_bin/pg_ctl" -D "$pg/data" -l "$pg/log" -w -t 60 \
  -o "-k $pg -c listen_addresses='' -c max_connections=20" start >/dev/null || {
  show "$pg/log"
  die "PostgreSQL did not start"
}
say "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') runs: socket in $pg, no TCP listener, max_connections=20"

export PGCONNECT_TIMEOUT=5
# psql as role $1 on database $2, stopping at the first error.
run_psql() {
  local role=$1 db=$2
  shift 2
  timeout 30 "$pg_bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$pg" -U "$role" -d "$db" "$@"
}

step "roles and database"
owner_pw=$(openssl rand -hex 16)
server_pw=$(openssl rand -hex 16)
# The passwords are hex, so they cannot break out of the literals.
run_psql btadmin postgres <<EOF
CREATE ROLE bluetrace_owner LOGIN PASSWORD '$owner_pw';
CREATE ROLE bluetrace LOGIN PASSWORD '$server_pw';
CREATE DATABASE bluetrace OWNER bluetrace_owner;
EOF
run_psql btadmin bluetrace <<'EOF'
REVOKE ALL ON DATABASE bluetrace FROM PUBLIC;
ALTER SCHEMA public OWNER TO bluetrace_owner;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
EOF
say "bluetrace_owner: owns the database and its schema, runs the migrations"
say "bluetrace:       the servers' login role (no ownership; the grants below only)"
umask 077
printf '%s\n' "$owner_pw" >"$work/owner.password"
printf '%s\n' "$server_pw" >"$work/server.password"
umask 022

step "migrations as bluetrace_owner, from $sql_dir"
cat >"$work/owner.toml" <<EOF
# bluetrace-admin's view of the database, as the schema's owner.
[server]
state_dir = "$work"
[storage]
backend = "postgres"
[postgres]
conninfo = "host=$pg dbname=bluetrace user=bluetrace_owner"
password_file = "$work/owner.password"
EOF
say "\$ bluetrace-admin db migrate --config owner.toml --sql-dir $sql_dir"
timeout 30 "$bin_dir/bluetrace-admin" db migrate --config "$work/owner.toml" --sql-dir "$sql_dir" |
  sed 's/^/  /'
say "schema version: $(PGPASSWORD=$owner_pw run_psql bluetrace_owner bluetrace -At -c \
  "SELECT max(version) FROM schema_version")"

step "the servers' least-privilege grants (as bluetrace_owner)"
# docs/DEPLOYMENT.md shows these statements; tests/packaging/deploy_demo_test.sh keeps the
# two equal.
cat >"$work/grants.sql" <<'EOF'
GRANT CONNECT ON DATABASE bluetrace TO bluetrace;
GRANT USAGE ON SCHEMA public TO bluetrace;
GRANT SELECT, INSERT, UPDATE, DELETE ON users, lockouts TO bluetrace;
GRANT SELECT, INSERT, DELETE ON tempids, devices TO bluetrace;
GRANT SELECT, INSERT ON reports, audit TO bluetrace;
-- schema version 4: upload codes, and the report retention
GRANT SELECT, INSERT, UPDATE, DELETE ON upload_codes, upload_code_failures TO bluetrace;
GRANT DELETE ON reports TO bluetrace;
-- schema version 5: the console
GRANT SELECT, INSERT, UPDATE, DELETE ON console_staff, console_sessions, contact_status TO bluetrace;
-- schema version 6: upload codes issued per day (the console's activity chart)
GRANT SELECT, INSERT, UPDATE ON upload_codes_issued TO bluetrace;
-- schema version 7: audit.retention (no DELETE on audit: the function prunes)
GRANT EXECUTE ON FUNCTION bluetrace_prune_audit(bigint, bigint, text) TO bluetrace;
GRANT SELECT ON schema_version TO bluetrace;
GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO bluetrace;
GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO bluetrace;
EOF
sed 's/^/  /' "$work/grants.sql"
PGPASSWORD=$owner_pw run_psql bluetrace_owner bluetrace -f "$work/grants.sql"
# What the role may not do: change the schema, rewrite the audit chain, record a migration.
for sql in "CREATE TABLE x (a int)" "UPDATE audit SET event = ''" "DELETE FROM audit" \
  "INSERT INTO schema_version (version, name) VALUES (99, 'x')"; do
  if PGPASSWORD=$server_pw run_psql bluetrace bluetrace -c "$sql" >"$work/refused.log" 2>&1; then
    die "the server role was allowed: $sql"
  fi
  grep -q "permission denied" "$work/refused.log" || {
    show "$work/refused.log"
    die "unexpected error for: $sql"
  }
  say "  refused to bluetrace, as it should be: $sql"
done

# --- the servers ----------------------------------------------------------------------
step "one certificate for both instances (self-signed, EC P-256)"
mkdir -m 0700 "$work/tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 60 \
  -subj "/CN=bluetrace-demo" -addext "subjectAltName=IP:127.0.0.1" \
  -keyout "$work/tls/server.key" -out "$work/tls/server.crt" 2>"$work/openssl.log" || {
  show "$work/openssl.log"
  die "openssl failed"
}
chmod 0600 "$work/tls/server.key"
fingerprint="SHA256:$(openssl x509 -noout -fingerprint -sha256 -in "$work/tls/server.crt" | sed 's/.*=//')"
say "fingerprint $fingerprint"

declare -A tls_port ops_port server_pid
start_server() {
  local name=$1 dir=$work/$1
  mkdir -m 0700 "$dir"
  cat >"$dir/server.toml" <<EOF
# Instance $name: loopback only, free ports, the shared certificate, the shared database.
[server]
bind_address = "127.0.0.1"
port = 0
state_dir = "$dir"
[auth]
argon2_memory_kib = 4096
argon2_iterations = 1
[timeouts]
shutdown_grace = 1
[tls]
certificate = "$work/tls/server.crt"
private_key = "$work/tls/server.key"
[ops]
metrics_address = "127.0.0.1:0"
[storage]
backend = "postgres"
[postgres]
conninfo = "host=$pg dbname=bluetrace user=bluetrace"
password_file = "$work/server.password"
pool_size = 4
EOF
  "$bin_dir/bluetrace-server" --config "$dir/server.toml" --ready-file "$dir/ready" \
    >"$dir/console.txt" 2>"$dir/log.txt" &
  server_pid[$name]=$!
  pids+=($!)
}
server_ready() { [ -s "$work/$1/ready" ] || ! kill -0 "${server_pid[$1]}"; }

step "two bluetrace-server instances, storage.backend = postgres, as role bluetrace"
start_server a
start_server b
for s in a b; do
  wait_until 60 "instance $s to listen" server_ready "$s"
  kill -0 "${server_pid[$s]}" 2>/dev/null || {
    show "$work/$s/log.txt"
    die "instance $s exited"
  }
  tls_port[$s]=$(cat "$work/$s/ready")
  ops_port[$s]=$(sed -n 's/.*ops listener on 127.0.0.1 port \([0-9]*\).*/\1/p' "$work/$s/log.txt" | head -1)
  [ -n "${ops_port[$s]}" ] || {
    show "$work/$s/log.txt"
    die "instance $s did not say its ops port"
  }
  ready=$(http_get "${ops_port[$s]}" /readyz) || die "instance $s: /readyz did not answer 200"
  say "instance $s: pid ${server_pid[$s]}, TLS on 127.0.0.1:${tls_port[$s]}, /readyz on 127.0.0.1:${ops_port[$s]} says \"$ready\""
done

# --- HAProxy --------------------------------------------------------------------------
step "HAProxy in TCP mode (TLS passed through), health checks on /readyz"
mkdir -m 0700 "$work/haproxy"
proxy_port=$(free_port)
stats_port=$(free_port)
cat >"$work/haproxy/haproxy.cfg" <<EOF
global
    log stderr format short local0 info

defaults
    mode tcp
    log global
    option tcplog
    timeout connect 2s
    # Longer than the server's timeouts.idle (300 s): the server ends idle sessions, not us.
    timeout client 330s
    timeout server 330s
    # A connection refused by a dead instance is retried once, on another instance.
    retries 1
    option redispatch

frontend bluetrace
    bind 127.0.0.1:$proxy_port
    default_backend bluetrace_servers

backend bluetrace_servers
    balance leastconn
    option httpchk
    http-check send meth GET uri /readyz
    http-check expect status 200
    default-server inter 1s fall 2 rise 2 on-marked-down shutdown-sessions
    server a 127.0.0.1:${tls_port[a]} check port ${ops_port[a]}
    server b 127.0.0.1:${tls_port[b]} check port ${ops_port[b]}

# The servers' states for this script (and an operator's browser), loopback only.
frontend stats
    mode http
    bind 127.0.0.1:$stats_port
    stats enable
    stats uri /stats
    timeout client 10s
EOF
"$haproxy" -c -q -f "$work/haproxy/haproxy.cfg" || die "haproxy refused its configuration"
"$haproxy" -db -f "$work/haproxy/haproxy.cfg" >"$work/haproxy/log.txt" 2>&1 &
haproxy_pid=$!
pids+=($!)
sed 's/^/  /' "$work/haproxy/haproxy.cfg"

# Prints "<server> <status>" per server of the backend, from HAProxy's statistics (CSV).
haproxy_status() {
  local csv f
  csv=$(http_get "$stats_port" "/stats;csv") || return 1
  while IFS=, read -r -a f; do
    if [ ${#f[@]} -gt 17 ] && [ "${f[0]}" = bluetrace_servers ] &&
      [ "${f[1]}" != BACKEND ] && [ "${f[1]}" != FRONTEND ]; then
      echo "${f[1]} ${f[17]}"
    fi
  done <<<"$csv"
}
both_up() { [ "$(haproxy_status | grep -c ' UP$')" -eq 2 ]; }
wait_until 30 "HAProxy to see both instances UP" both_up
haproxy_status | sed 's/^/  haproxy: server /'
say "HAProxy (pid $haproxy_pid) listens on 127.0.0.1:$proxy_port"

# --- a client through HAProxy ---------------------------------------------------------
user=+61410999001
client_udp=$(free_port)
mkdir -m 0700 "$work/client"
umask 077
printf 'correct horse battery\n' >"$work/client/password"
# The fingerprint an operator publishes: the same for both instances, so the client's
# trust-on-first-use entry for the proxy's address holds whichever instance answers.
printf '127.0.0.1:%s %s\n' "$proxy_port" "$fingerprint" >"$work/client/known_servers"
umask 022

# run_client TRANSCRIPT [--register]: one non-interactive session through HAProxy: log in
# (registering first with --register), Download_tempID, and log out at the end of input.
run_client() {
  local out=$1
  shift
  printf 'Download_tempID\n' | timeout 60 "$bin_dir/bluetrace-client" 127.0.0.1 "$proxy_port" \
    "$client_udp" --known-servers "$work/client/known_servers" --data-dir "$work/client" \
    --user "$user" --password-file "$work/client/password" "$@" >"$out" 2>&1
}
# Which instance printed "user: $user" $1 times on its console.
served_by() {
  local s
  for s in a b; do
    if [ "$(grep -cxF "user: $user" "$work/$s/console.txt" || true)" -ge "$1" ]; then
      echo "$s"
      return 0
    fi
  done
  return 1
}

step "bluetrace-client registers $user, logs in and downloads a TempID through 127.0.0.1:$proxy_port"
run_client "$work/client/first.txt" --register || {
  show "$work/client/first.txt"
  die "the first client session failed"
}
sed 's/^/  client| /' "$work/client/first.txt"
grep -q "^TempID:" "$work/client/first.txt" || die "no TempID in the client's output"
first_tempid=$(grep -A1 '^TempID:' "$work/client/first.txt" | tail -1)
victim=$(served_by 1) || die "neither instance's console shows $user"
survivor=b
[ "$victim" = b ] && survivor=a
say "served by instance $victim (its console: \"user: $user\", TempID $first_tempid)"

step "SIGKILL instance $victim (pid ${server_pid[$victim]})"
kill -KILL "${server_pid[$victim]}"
wait "${server_pid[$victim]}" 2>/dev/null || true
killed_at=$SECONDS
victim_down() { haproxy_status | grep -q "^$victim DOWN"; }
wait_until 20 "HAProxy to mark $victim DOWN" victim_down
say "HAProxy's health check marked $victim DOWN after ~$((SECONDS - killed_at)) s:"
haproxy_status | sed 's/^/  haproxy: server /'

step "the same client logs in again through 127.0.0.1:$proxy_port and downloads a TempID"
run_client "$work/client/second.txt" || {
  show "$work/client/second.txt"
  die "the second client session failed"
}
sed 's/^/  client| /' "$work/client/second.txt"
grep -q "^TempID:" "$work/client/second.txt" || die "no TempID in the client's output"
second_tempid=$(grep -A1 '^TempID:' "$work/client/second.txt" | tail -1)
grep -qxF "user: $user" "$work/$survivor/console.txt" || die "instance $survivor did not serve the client"
say "served by instance $survivor: the account registered through $victim is in the shared database"

step "the database holds both TempIDs"
rows=$(PGPASSWORD=$server_pw run_psql bluetrace bluetrace -At -F ' ' \
  -c "SELECT tempid, start, expiry FROM tempids WHERE phone = '$user' ORDER BY start, tempid")
printf '%s\n' "$rows" | sed 's/^/  /'
grep -q "^$first_tempid " <<<"$rows" || die "the first TempID is not in the database"
grep -q "^$second_tempid " <<<"$rows" || die "the second TempID is not in the database"

step "stopping everything"
