#!/usr/bin/env bash
# make-ca.sh: a small private certificate authority for bluetrace and a server certificate
# signed by it, for clients on other machines that should verify the server instead of
# trusting it on first use. Needs only bash and the openssl command. See certs/README.md.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: make-ca.sh [--dir DIR] [--days DAYS] [--force] HOST...

Writes into DIR (default: the directory holding this script):
  ca.key, ca.crt          a private CA: EC P-256, CA:TRUE, pathlen 0, valid 10 years
  server.key, server.crt  a server certificate signed by that CA, valid DAYS (default 825)
HOST is a DNS name or an IP address the clients use to reach the server; every HOST goes
into the certificate's subjectAltName and the first one is also its common name.

An existing CA in DIR is reused, so rerunning issues a new server certificate that the
clients already trust (rotation). --force replaces the CA as well; every client then
needs the new ca.crt. Private keys are created with mode 0600.
EOF
}

die() {
  echo "make-ca.sh: $*" >&2
  exit 1
}

dir="$(dirname "$(readlink -f "$0")")"
days=825
force=0
hosts=()
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || die "--dir needs a value"; dir="$2"; shift 2 ;;
    --days) [ $# -ge 2 ] || die "--days needs a value"; days="$2"; shift 2 ;;
    --force) force=1; shift ;;
    -h | --help) usage; exit 0 ;;
    -*) die "unknown option $1 (see --help)" ;;
    *) hosts+=("$1"); shift ;;
  esac
done
[ ${#hosts[@]} -gt 0 ] || { usage >&2; exit 2; }
if ! [[ "$days" =~ ^[0-9]{1,4}$ ]] || [ "$days" -lt 1 ] || [ "$days" -gt 3650 ]; then
  die "--days must be a whole number from 1 to 3650, got '$days'"
fi
command -v openssl >/dev/null || die "the openssl command is not installed"

# Each HOST becomes one subjectAltName entry. Only these characters can reach the openssl
# configuration below, so a HOST cannot inject other settings.
dns_re='^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$'

is_ipv4() {
  local IFS=. octets o
  [[ "$1" =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]] || return 1
  read -r -a octets <<<"$1"
  for o in "${octets[@]}"; do [ "$((10#$o))" -le 255 ] || return 1; done
}

# RFC 4291 text form: up to 8 groups of 1-4 hex digits, at most one "::", optionally an
# IPv4 address in place of the last two groups.
is_ipv6() {
  local a="$1" head tail g n=0
  [[ "$a" == *:* && "$a" =~ ^[0-9A-Fa-f:.]+$ ]] || return 1
  if [[ "$a" =~ ^(.*:)([0-9.]+)$ ]] && [[ "${BASH_REMATCH[2]}" == *.* ]]; then
    local prefix="${BASH_REMATCH[1]}"
    is_ipv4 "${BASH_REMATCH[2]}" || return 1
    a="${prefix}0:0"
  fi
  [[ "$a" == *::*::* ]] && return 1
  if [[ "$a" == *::* ]]; then
    head="${a%%::*}" tail="${a#*::}"
    [[ "$head" == :* || "$head" == *: || "$tail" == :* || "$tail" == *: ]] && return 1
    for g in ${head//:/ } ${tail//:/ }; do n=$((n + 1)); done
    [ "$n" -le 7 ] || return 1
    a="${head}:${tail}"
    a="${a#:}" a="${a%:}"
    [ -z "$a" ] && return 0
  else
    for g in ${a//:/ }; do n=$((n + 1)); done
    [ "$n" -eq 8 ] || return 1
    [[ "$a" == :* || "$a" == *: ]] && return 1
  fi
  [[ "$a" == *::* ]] && return 1
  local IFS=:
  for g in $a; do [[ "$g" =~ ^[0-9A-Fa-f]{1,4}$ ]] || return 1; done
}

san=""
for h in "${hosts[@]}"; do
  if is_ipv4 "$h" || is_ipv6 "$h"; then
    entry="IP:$h"
  elif [[ "$h" =~ $dns_re && ! "$h" =~ (^|\.)[0-9]+$ ]]; then  # 1.2.3.256 is no name
    entry="DNS:$h"
  else
    die "'$h' is neither a DNS name nor an IP address"
  fi
  san="${san:+$san,}$entry"
done

umask 077
mkdir -p "$dir"
ca_key="$dir/ca.key"
ca_crt="$dir/ca.crt"
server_key="$dir/server.key"
server_crt="$dir/server.crt"

work="$(mktemp -d "$dir/.make-ca.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# A private configuration, so the system openssl.cnf adds no extensions of its own.
cat >"$work/openssl.cnf" <<EOF
[req]
prompt = no
distinguished_name = dn
[dn]
CN = placeholder
[ca_ext]
basicConstraints = critical,CA:TRUE,pathlen:0
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
[server_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
subjectAltName = $san
EOF

new_key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
serial() { echo "0x$(openssl rand -hex 16)"; }

if [ -e "$ca_key" ] && [ $force -eq 0 ]; then
  [ -e "$ca_crt" ] || die "$ca_key exists but $ca_crt does not; restore it or use --force"
  echo "Reusing the existing CA in $dir (use --force to replace it)."
else
  [ -e "$ca_key" ] && echo "Replacing the CA in $dir (--force): clients need the new ca.crt."
  new_key "$work/ca.key"
  openssl req -x509 -new -config "$work/openssl.cnf" -extensions ca_ext \
    -key "$work/ca.key" -subj "/CN=bluetrace private CA" -sha256 -days 3650 \
    -set_serial "$(serial)" -out "$work/ca.crt"
  chmod 0644 "$work/ca.crt"
  mv -f "$work/ca.key" "$ca_key"
  mv -f "$work/ca.crt" "$ca_crt"
fi

new_key "$work/server.key"
openssl req -new -config "$work/openssl.cnf" -key "$work/server.key" \
  -subj "/CN=${hosts[0]}" -out "$work/server.csr"
openssl x509 -req -in "$work/server.csr" -CA "$ca_crt" -CAkey "$ca_key" \
  -set_serial "$(serial)" -days "$days" -sha256 \
  -extfile "$work/openssl.cnf" -extensions server_ext -out "$work/server.crt" 2>/dev/null
openssl verify -CAfile "$ca_crt" "$work/server.crt" >/dev/null ||
  die "the new server certificate does not verify against $ca_crt"
chmod 0644 "$work/server.crt"
# The key first: a certificate on disk always has its key next to it.
mv -f "$work/server.key" "$server_key"
mv -f "$work/server.crt" "$server_crt"

fingerprint="$(openssl x509 -noout -fingerprint -sha256 -in "$server_crt" | sed 's/^[^=]*=//')"
cat <<EOF

CA certificate      $ca_crt
  copy it to every client machine and configure it as the client's CA file.
CA private key      $ca_key
  keep it private (mode 0600), ideally offline; it is needed only to issue server
  certificates. Never copy it to the server or the clients.
Server certificate  $server_crt    -> server: tls.certificate
Server private key  $server_key    -> server: tls.private_key (keep mode 0600)
  for: $san
  fingerprint SHA256:$fingerprint
EOF
