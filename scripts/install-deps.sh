#!/usr/bin/env bash
# Installs the Debian 12 packages bluetrace needs to build, test, fuzz, benchmark and
# package itself. Idempotent: when every package is already present it does nothing (no
# apt-get update, no network). Must run as root when something is missing.
set -euo pipefail

packages=(
  # toolchain
  cmake ninja-build pkg-config g++ clang libclang-rt-14-dev clang-format
  # libraries
  openssl libssl-dev libboost-dev libargon2-dev libtomlplusplus-dev libspdlog-dev libfmt-dev
  libcli11-dev libgtest-dev libgmock-dev libedit-dev libbenchmark-dev libsystemd-dev libpq-dev
  libmstch-dev
  # bench/login_bound_bench compares libsodium's Argon2id with libargon2 (bench only)
  libsodium-dev
  # the PostgreSQL backend's tests start a throwaway cluster
  postgresql-15
  # packaging and checks
  debhelper dh-sequence-installsysusers lintian fakeroot dpkg-dev systemd
  # test tooling
  python3 procps haproxy
  # the console's real-browser test
  chromium chromium-driver python3-selenium
)

# Read dpkg's database once; grepping a pipe with `grep -q` under pipefail can fail at
# random (dpkg-query gets SIGPIPE when grep stops early).
installed=$(dpkg-query -W -f='${Package} ${Status}\n' 2>/dev/null | awk '$4 == "installed" {print $1}')
provided=$(dpkg-query -W -f='${Status}|${Provides}\n' 2>/dev/null |
  awk -F'|' '$1 ~ / installed$/ {print $2}' | tr ',' '\n' | sed 's/ (.*//; s/^ *//')

missing=()
for p in "${packages[@]}"; do
  # Virtual packages (dh-sequence-installsysusers is provided by debhelper) count when an
  # installed package provides them.
  if grep -qx -- "$p" <<<"$installed" || grep -qx -- "$p" <<<"$provided"; then
    continue
  fi
  missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}" >&2
  echo "install-deps: run this script as root to install them" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
