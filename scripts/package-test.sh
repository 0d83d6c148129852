#!/usr/bin/env bash
# Package test, as root, of the .debs in build/packages/ (scripts/build-packages.sh):
#  1. installs bluetrace-server and bluetrace-client with apt-get;
#  2. checks files, owners, modes, the _bluetrace user and the installed unit;
#  3. does what the unit's systemd would do (StateDirectory, LoadCredential), runs the
#     installed server with the packaged configuration as _bluetrace on 127.0.0.1 (a free
#     port; no systemd runs on CI machines), logs in with the installed client as a user
#     added with the installed bluetrace-admin, downloads a TempID, stops the server by
#     its pid, and has bluetrace-admin verify the state it left;
#  4. purges both packages and checks that nothing is left behind.
# The _bluetrace user outlives the purge, as Debian does for system users (see
# packaging/debian/bluetrace-server.postrm); this test removes it again when it created it.
# Whatever happens, it leaves the machine as it found it (trap). It refuses to run where
# bluetrace is installed or its directories exist, so it never touches real data.
#
# Usage: scripts/package-test.sh
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }
fail() {
  printf 'package-test: FAIL: %s\n' "$*" >&2
  exit 1
}

[ "$(id -u)" -eq 0 ] || fail "run as root (it installs and purges packages)"

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
arch=$(dpkg --print-architecture)
server_deb=$PWD/build/packages/bluetrace-server_${version}_$arch.deb
client_deb=$PWD/build/packages/bluetrace-client_${version}_$arch.deb
[ -f "$server_deb" ] && [ -f "$client_deb" ] || fail "no packages: run scripts/build-packages.sh"

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed\|config-files'; }
for p in bluetrace-server bluetrace-client; do
  installed "$p" && fail "$p is already installed here; this test would remove it"
done
for d in /etc/bluetrace /var/lib/bluetrace; do
  [ -e "$d" ] && fail "$d exists; this test would delete it"
done
user_existed=0
getent passwd _bluetrace >/dev/null && user_existed=1

work=$(mktemp -d -t bluetrace-pkgtest.XXXXXX)
server_pid=
cleanup() {
  local status=$?
  set +e
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid"
    wait "$server_pid" 2>/dev/null
  fi
  for p in bluetrace-client bluetrace-server; do
    installed "$p" && dpkg --purge "$p" >/dev/null
  done
  dpkg-statoverride --list /etc/bluetrace/server.toml >/dev/null 2>&1 &&
    dpkg-statoverride --remove /etc/bluetrace/server.toml
  rm -rf /etc/bluetrace /var/lib/bluetrace "$work"
  if [ $user_existed -eq 0 ] && getent passwd _bluetrace >/dev/null; then
    userdel _bluetrace
  fi
  if [ $user_existed -eq 0 ] && getent group _bluetrace >/dev/null; then
    groupdel _bluetrace
  fi
  if [ $status -eq 0 ]; then
    echo "package-test: passed; the machine is as it was"
  else
    echo "package-test: FAILED (status $status); the machine is as it was" >&2
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step "install"
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
  "$server_deb" "$client_deb" >"$work/apt.log" 2>&1 || {
  cat "$work/apt.log" >&2
  fail "apt-get install failed"
}
installed bluetrace-server && installed bluetrace-client || fail "packages not installed"
# A first installation says what it made and what to do next.
grep -q 'SHA-256 fingerprint [0-9A-F:]\{95\}' "$work/apt.log" ||
  fail "apt-get install did not show the certificate's fingerprint"
grep -q 'bluetrace-admin --config /etc/bluetrace/server.toml user add' "$work/apt.log" ||
  fail "apt-get install did not show the next steps"

step "files, owners, modes"
check() { # path, "mode owner:group"
  local got
  got=$(stat -c '%a %U:%G' "$1" 2>/dev/null) || fail "missing: $1"
  [ "$got" = "$2" ] || fail "$1 is $got, expected $2"
  printf '%-50s %s\n' "$1" "$got"
}
check /usr/bin/bluetrace-server "755 root:root"
check /usr/bin/bluetrace-client "755 root:root"
check /usr/bin/bluetrace-admin "755 root:root"
check /etc/bluetrace "755 root:root"
check /etc/bluetrace/server.toml "640 root:_bluetrace"
check /etc/bluetrace/server.crt "644 root:root"
check /etc/bluetrace/server.key "600 root:root"
check /lib/systemd/system/bluetrace-server.service "644 root:root"
check /usr/lib/sysusers.d/bluetrace-server.conf "644 root:root"
check /usr/share/man/man8/bluetrace-server.8.gz "644 root:root"
check /usr/share/man/man5/bluetrace-server.toml.5.gz "644 root:root"
check /usr/share/man/man1/bluetrace-client.1.gz "644 root:root"
check /usr/share/man/man8/bluetrace-admin.8.gz "644 root:root"
for prog in bluetrace-server bluetrace-admin bluetrace-client; do
  check /usr/share/bash-completion/completions/$prog "644 root:root"
done
cmp -s /etc/bluetrace/server.toml packaging/server.toml || fail "installed server.toml differs"
# The PostgreSQL backend's migrations, for bluetrace-admin db migrate.
for sql in packaging/sql/*.sql; do
  check "/usr/share/bluetrace/sql/$(basename "$sql")" "644 root:root"
  cmp -s "$sql" "/usr/share/bluetrace/sql/$(basename "$sql")" || fail "installed $(basename "$sql") differs"
done
openssl x509 -in /etc/bluetrace/server.crt -noout -ext subjectAltName | grep -q 'IP Address:127.0.0.1' ||
  fail "the generated certificate does not name 127.0.0.1"
# Not started on installation (dh_installsystemd --no-enable), so nothing listens yet.
pgrep -u _bluetrace >/dev/null && fail "something already runs as _bluetrace"

step "the _bluetrace user"
IFS=: read -r _ _ uid gid _ home shell < <(getent passwd _bluetrace) || fail "no user _bluetrace"
[ "$uid" -lt 1000 ] || fail "_bluetrace is not a system user (uid $uid)"
[ "$(getent group _bluetrace | cut -d: -f3)" = "$gid" ] || fail "_bluetrace's group is not _bluetrace"
[ "$home" = /var/lib/bluetrace ] || fail "_bluetrace's home is $home"
[ "$shell" = /usr/sbin/nologin ] || fail "_bluetrace's shell is $shell"
passwd -S _bluetrace | awk '{exit !($2 == "L")}' || fail "_bluetrace's password is not locked"
echo "_bluetrace: uid $uid, gid $gid, home $home, shell $shell, password locked"
as_service() { setpriv --reuid=_bluetrace --regid=_bluetrace --clear-groups --no-new-privs "$@"; }
as_service cat /etc/bluetrace/server.key >/dev/null 2>&1 && fail "_bluetrace can read the key"
as_service /usr/bin/bluetrace-server --check-config --config /etc/bluetrace/server.toml ||
  fail "the packaged configuration does not pass --check-config as _bluetrace"

step "installed unit"
verify_err=$(systemd-analyze verify --man=no /lib/systemd/system/bluetrace-server.service 2>&1) ||
  fail "systemd-analyze verify: $verify_err"
[ -z "$verify_err" ] || fail "systemd-analyze verify said: $verify_err"
systemd-analyze security --offline=true --threshold=20 /lib/systemd/system/bluetrace-server.service |
  tail -n 1

step "run the installed server as _bluetrace"
# The package made the state directory (the README's steps run before any start); what
# systemd does for the unit: LoadCredential= (a directory only the service user can read),
# UMask=0077.
check /var/lib/bluetrace "750 _bluetrace:_bluetrace"
chmod 0711 "$work"
creds=$work/credentials
install -d -o _bluetrace -g _bluetrace -m 0500 "$creds"
install -o _bluetrace -g _bluetrace -m 0400 /etc/bluetrace/server.crt "$creds/server.crt"
install -o _bluetrace -g _bluetrace -m 0400 /etc/bluetrace/server.key "$creds/server.key"
run=$work/run
install -d -o _bluetrace -g _bluetrace -m 0700 "$run"
# A user added exactly as the README's first step after installing says (runuser), before
# the server has ever run.
printf 'comp3331\n' | runuser -u _bluetrace -- bluetrace-admin --config /etc/bluetrace/server.toml \
  user add +61410888888 || fail "bluetrace-admin user add (the README's first step) failed"
grep -q '^+61410888888 \$argon2id\$' /var/lib/bluetrace/credentials.txt ||
  fail "bluetrace-admin did not store an Argon2id hash in credentials.txt"
check /var/lib/bluetrace/credentials.txt "600 _bluetrace:_bluetrace"

(
  umask 0077
  exec setpriv --reuid=_bluetrace --regid=_bluetrace --clear-groups --no-new-privs \
    /usr/bin/bluetrace-server --config /etc/bluetrace/server.toml \
    --tls-certificate "$creds/server.crt" --tls-key "$creds/server.key" \
    --bind 127.0.0.1 --port 0 --ready-file "$run/port"
) 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do
  [ -s "$run/port" ] && break
  kill -0 "$server_pid" 2>/dev/null || {
    cat "$work/server.log" >&2
    fail "the server exited at start-up"
  }
  sleep 0.1
done
[ -s "$run/port" ] || fail "the server did not become ready in 10 s"
port=$(cat "$run/port")
[ "$(stat -c %U /proc/"$server_pid")" = _bluetrace ] || fail "the server does not run as _bluetrace"
echo "server pid $server_pid as _bluetrace on 127.0.0.1 port $port"

step "log in with the installed client"
client_home=$work/client
mkdir -p "$client_home"
client_rc=0
printf '+61410888888\ncomp3331\nDownload_tempID\nlogout\n' |
  HOME=$client_home bluetrace-client 127.0.0.1 "$port" 0 --data-dir "$client_home" \
    --ca-file /etc/bluetrace/server.crt >"$work/client.out" 2>&1 || client_rc=$?
cat "$work/client.out"
[ $client_rc -eq 0 ] || fail "the client exited with status $client_rc"
grep -q 'Welcome to the BlueTrace Simulator!' "$work/client.out" || fail "no login"
grep -qE '^[0-9]{20}$' "$work/client.out" || fail "no TempID received"
check /var/lib/bluetrace/tempIDs.txt "600 _bluetrace:_bluetrace"

step "stop the server by its pid"
kill -TERM "$server_pid"
server_rc=0
wait "$server_pid" || server_rc=$?
server_pid=
cat "$work/server.log"
[ $server_rc -eq 0 ] || fail "the server exited with status $server_rc after SIGTERM"
as_service bluetrace-admin --config /etc/bluetrace/server.toml verify ||
  fail "bluetrace-admin verify found problems in the state the server left"
# systemd removes the credentials directory when the service stops.
rm -rf "$creds" "$run"

step "purge"
DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq bluetrace-server bluetrace-client \
  >"$work/apt.log" 2>&1 || {
  cat "$work/apt.log" >&2
  fail "apt-get purge failed"
}
for p in bluetrace-server bluetrace-client; do
  installed "$p" && fail "$p is still installed or has configuration files left"
done
for f in /etc/bluetrace /var/lib/bluetrace /usr/bin/bluetrace-server /usr/bin/bluetrace-client \
  /usr/bin/bluetrace-admin \
  /lib/systemd/system/bluetrace-server.service /usr/lib/sysusers.d/bluetrace-server.conf \
  /usr/share/doc/bluetrace-server /usr/share/doc/bluetrace-client; do
  [ ! -e "$f" ] || fail "left behind: $f"
done
statoverrides=$(dpkg-statoverride --list)
grep -q bluetrace <<<"$statoverrides" && fail "a statoverride was left behind"
find /etc/systemd -name 'bluetrace*' | grep -q . && fail "systemd links were left behind"
pgrep -u _bluetrace >/dev/null && fail "a process of _bluetrace is still running"
# find fails on files that vanish while it walks (other processes' temporary files).
owned=$(find / -xdev \( -path /proc -o -path /sys \) -prune -o -user _bluetrace -print 2>/dev/null || true)
[ -z "$owned" ] || fail "files owned by _bluetrace were left behind: $owned"
getent passwd _bluetrace >/dev/null || fail "_bluetrace was removed (Debian keeps system users)"
echo "nothing left behind; _bluetrace kept, as Debian does for system users"
