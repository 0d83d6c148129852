#!/usr/bin/env bash
# Builds the Debian packages bluetrace-server and bluetrace-client (and their -dbgsym
# packages) from this checkout into build/packages/, then checks them: lintian must report
# no error and no warning, the packages must hold what they promise (programs, conffile,
# systemd unit, sysusers file, man pages, bash completions), the unit must pass
# `systemd-analyze verify` without a word on stderr and rate at most 2.0 in
# `systemd-analyze security --offline`.
#
# The build runs in a temporary copy of the tree (without build/ and .git), with
# packaging/debian as debian/, so the checkout stays clean. It does not run the test suite
# (scripts/test.sh does). Needs no root: dpkg-buildpackage uses fakeroot where needed.
#
# Usage: scripts/build-packages.sh [--no-build]   (--no-build: only check build/packages/)
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."
root=$PWD
out=$root/build/packages

build=1
[ "${1:-}" = --no-build ] && build=0

step() { printf '\n=== %s (%ss)\n' "$1" "$SECONDS"; }
fail() {
  printf 'build-packages: FAIL: %s\n' "$*" >&2
  exit 1
}

work=$(mktemp -d -t bluetrace-pkg.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

version=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)
arch=$(dpkg --print-architecture)

if [ $build -eq 1 ]; then
  step "dpkg-buildpackage (bluetrace $version, $arch)"
  src=$work/bluetrace-$version
  mkdir -p "$src"
  tar -C "$root" --exclude=./build --exclude=./.git --exclude=./debian -cf - . | tar -C "$src" -xf -
  cp -r packaging/debian "$src/debian"
  (
    cd "$src"
    DEB_BUILD_OPTIONS="nocheck parallel=$(nproc)" dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1
  ) || {
    tail -n 60 "$work/build.log" >&2
    fail "dpkg-buildpackage failed (log above)"
  }
  rm -rf "$out"
  mkdir -p "$out"
  cp "$work"/*.deb "$work"/*.changes "$work"/*.buildinfo "$out"/
  ls -l "$out"
fi

server=$out/bluetrace-server_${version}_$arch.deb
client=$out/bluetrace-client_${version}_$arch.deb
for f in "$server" "$client" "$out/bluetrace-server-dbgsym_${version}_$arch.deb" \
  "$out/bluetrace-client-dbgsym_${version}_$arch.deb"; do
  [ -f "$f" ] || fail "missing $f"
done

step "lintian (no error, no warning)"
# --fail-on applies to the tags shown; overrides (none so far) would be listed with -o.
lintian --fail-on error,warning --display-level '>=warning' "$out"/bluetrace_"${version}"_"$arch".changes ||
  fail "lintian reported errors or warnings"
echo "lintian: clean"

step "package contents"
contents() { dpkg-deb -c "$1" | awk '{print $1, $2, $6}'; }
expect() { # package, "mode owner path" lines
  local deb=$1 listing
  shift
  listing=$(contents "$deb")
  for line in "$@"; do
    grep -qxF -- "$line" <<<"$listing" || fail "$(basename "$deb") lacks: $line"
  done
}
expect "$server" \
  "-rwxr-xr-x root/root ./usr/bin/bluetrace-server" \
  "-rwxr-xr-x root/root ./usr/bin/bluetrace-admin" \
  "-rw-r--r-- root/root ./etc/bluetrace/server.toml" \
  "-rw-r--r-- root/root ./lib/systemd/system/bluetrace-server.service" \
  "-rw-r--r-- root/root ./usr/lib/sysusers.d/bluetrace-server.conf" \
  "-rw-r--r-- root/root ./usr/share/man/man8/bluetrace-server.8.gz" \
  "-rw-r--r-- root/root ./usr/share/man/man5/bluetrace-server.toml.5.gz" \
  "-rw-r--r-- root/root ./usr/share/man/man8/bluetrace-admin.8.gz" \
  "-rw-r--r-- root/root ./usr/share/bash-completion/completions/bluetrace-server" \
  "-rw-r--r-- root/root ./usr/share/bash-completion/completions/bluetrace-admin" \
  "-rw-r--r-- root/root ./usr/share/doc/bluetrace-server/copyright" \
  "-rw-r--r-- root/root ./usr/share/doc/bluetrace-server/changelog.gz"
expect "$client" \
  "-rwxr-xr-x root/root ./usr/bin/bluetrace-client" \
  "-rw-r--r-- root/root ./usr/share/man/man1/bluetrace-client.1.gz" \
  "-rw-r--r-- root/root ./usr/share/bash-completion/completions/bluetrace-client" \
  "-rw-r--r-- root/root ./usr/share/doc/bluetrace-client/copyright"
# Every program in /usr/bin has its man page.
for deb in "$server" "$client"; do
  for prog in $(contents "$deb" | awk '$3 ~ /^\.\/usr\/s?bin\// {sub(".*/", "", $3); print $3}'); do
    contents "$deb" | grep -qE "/usr/share/man/man[18]/$prog\.[18]\.gz$" ||
      fail "$(basename "$deb"): $prog has no man page"
  done
done
dpkg-deb -I "$server" conffiles | grep -qx /etc/bluetrace/server.toml ||
  fail "server.toml is not a conffile"
dpkg-deb -f "$server" Depends | grep -q openssl || fail "bluetrace-server does not depend on openssl"
dpkg-deb -I "$server" postinst | grep -q systemd-sysusers ||
  fail "postinst does not create the user (dh_installsysusers did not run)"
echo "contents: as expected"

step "packaged config and systemd unit"
tree=$work/tree
dpkg-deb -x "$server" "$tree"
# Its state directory, /var/lib/bluetrace, exists only where the package is installed
# (package-test.sh checks it there): stand in an empty one for it.
mkdir -p "$work/state"
"$tree/usr/bin/bluetrace-server" --check-config --config "$tree/etc/bluetrace/server.toml" \
  --state-dir "$work/state" ||
  fail "the packaged server.toml does not pass --check-config"
# verify wants the ExecStart binary to exist: point it at the extracted one.
unit=$work/unit/bluetrace-server.service
mkdir -p "$(dirname "$unit")"
sed -e "s|^ExecStart=/usr/bin/|ExecStart=$tree/usr/bin/|" -e "s|^ExecStartPre=/usr/bin/|ExecStartPre=$tree/usr/bin/|" \
  "$tree/lib/systemd/system/bluetrace-server.service" >"$unit"
verify_err=$(systemd-analyze verify --man=no "$unit" 2>&1) || fail "systemd-analyze verify: $verify_err"
[ -z "$verify_err" ] || fail "systemd-analyze verify said: $verify_err"
# --threshold is on the 0-100 scale: 20 is an exposure of 2.0.
security_rc=0
security=$(systemd-analyze security --offline=true --threshold=20 "$unit" 2>&1) || security_rc=$?
rating=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' <<<"$security")
[ -n "$rating" ] || fail "no rating from systemd-analyze security: $security"
[ $security_rc -eq 0 ] || fail "systemd-analyze security: exposure $rating is above 2.0"
echo "systemd-analyze verify: clean; security exposure $rating (at most 2.0)"

step "packages built and checked in build/packages/"
