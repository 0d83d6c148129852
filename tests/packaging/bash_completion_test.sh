#!/usr/bin/env bash
# The bash completions of packaging/bash-completion/: sources each file in a clean bash,
# checks that it registers a function for its program, then completes command lines as
# bash would (COMP_WORDS, COMP_CWORD, the function) and compares COMPREPLY. Hermetic: a
# temporary directory for the file arguments, no bash-completion package needed.
#
# Usage: bash_completion_test.sh <packaging/bash-completion directory>
set -uo pipefail
dir=${1:?usage: $0 <packaging/bash-completion directory>}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/state/reports" "$tmp/stuff"
touch "$tmp/conf.toml" "$tmp/my conf.toml" "$tmp/cert.pem" "$tmp/state/x.txt" \
  "$tmp/state/reports/20200513T175000Z-61410888888-1.txt" \
  "$tmp/state/reports/20200514T000000Z-61410777777-1.txt"

failures=0

# Completes the words given (the last is the one under the cursor) with the completion
# of program $1 from file $dir/$1; prints COMPREPLY sorted, one a line.
complete_line() {
  local program=$1
  bash --norc --noprofile -c '
    source "$1" || exit 1
    spec=$(complete -p "$2" 2>/dev/null) || { echo "no completion registered for $2"; exit 1; }
    func=${spec#*-F }
    func=${func%% *}
    shift
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMP_POINT=${#COMP_LINE}
    "$func" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
    printf "%s\n" "${COMPREPLY[@]}" | LC_ALL=C sort' _ "$dir/$program" "$@"
}

# expect "<expected, one candidate a line>" <words...>
expect() {
  local want=$1 got
  shift
  got=$(complete_line "$@")
  if [ "$got" != "$(printf '%s\n' "$want" | LC_ALL=C sort)" ]; then
    printf 'FAIL: completing [%s]\n  expected: %s\n  got:      %s\n' "$*" \
      "$(printf '%s' "$want" | tr '\n' '|')" "$(printf '%s' "$got" | tr '\n' '|')"
    failures=$((failures + 1))
  else
    printf 'ok: [%s] -> %s\n' "$*" "$(printf '%s' "$got" | tr '\n' '|')"
  fi
}
lines() { printf '%s\n' "$@"; }

# bluetrace-admin: commands, subcommands, options, values, files and report names.
expect user bluetrace-admin us
expect "$(lines audit blocked compact db migrate-credentials reports staff unblock user verify)" \
  bluetrace-admin ""
expect "$(lines add passwd remove)" bluetrace-admin user ""
expect add bluetrace-admin user a
expect "$(lines add list passwd remove)" bluetrace-admin staff ""
expect "$(lines admin tracer)" bluetrace-admin staff add ana --role ""
expect "$(lines --help --password-file --role)" bluetrace-admin staff add ana --
expect reports bluetrace-admin --state-dir "$tmp/state" re
expect blocked bluetrace-admin --config = "$tmp/conf.toml" bl
expect "$(lines --config --help --state-dir --version)" bluetrace-admin --
expect "$(lines --format --help --summary)" bluetrace-admin reports --
expect "$(lines --help --password-file)" bluetrace-admin user add --
expect "$(lines export import migrate)" bluetrace-admin db --conninfo "dbname=x" ''
expect "$(lines --conninfo --help --sql-dir)" bluetrace-admin db --
expect "$(lines --help --merge)" bluetrace-admin db import --
expect "$(lines csv json text)" bluetrace-admin blocked --format ""
expect json bluetrace-admin blocked --format = j
expect "$(lines admin_user_added admin_user_removed)" bluetrace-admin audit --event admin_us
expect "$(lines "$tmp/conf.toml")" bluetrace-admin --config "$tmp/co"
expect "$(lines "$tmp/my conf.toml")" bluetrace-admin -c "$tmp/my"
expect "$(lines "$tmp/state" "$tmp/stuff")" bluetrace-admin --state-dir "$tmp/st"
expect "$(lines "$tmp/cert.pem")" bluetrace-admin user passwd +61410888888 --password-file "$tmp/ce"
expect "$(lines 20200513T175000Z-61410888888-1.txt 20200514T000000Z-61410777777-1.txt)" \
  bluetrace-admin --state-dir "$tmp/state" reports show 2020
expect "" bluetrace-admin user add +614

# bluetrace-server: options, their values and files.
expect --check-config bluetrace-server --ch
expect "$(lines --tls-certificate --tls-key)" bluetrace-server --tls
expect "$(lines "$tmp/cert.pem")" bluetrace-server --tls-key "$tmp/ce"
expect "$(lines "$tmp/conf.toml")" bluetrace-server --config = "$tmp/con"
expect "$(lines "$tmp/state" "$tmp/stuff")" bluetrace-server --state-dir "$tmp/s"
expect warn bluetrace-server --log-level w
expect "$(lines local utc)" bluetrace-server --time-zone ""
expect "" bluetrace-server 4000 ""

# bluetrace-client.
expect --ca-file bluetrace-client 127.0.0.1 4000 8000 --ca
expect "$(lines "$tmp/cert.pem")" bluetrace-client --ca-file "$tmp/ce"
expect "$(lines "$tmp/state" "$tmp/stuff")" bluetrace-client --data-dir "$tmp/s"
expect error bluetrace-client --log-level e
expect "$(lines --register)" bluetrace-client --reg

if [ $failures -ne 0 ]; then
  echo "$failures completion check(s) failed"
  exit 1
fi
echo "all completion checks passed"
