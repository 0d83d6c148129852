#!/usr/bin/env bash
# Keeps the repository self-contained:
#  1. no file refers to documents that live outside the repository (the names below);
#  2. every citation `docs/ORIGINAL.md §N` (also `§2, 3, 6.2`, and continued on the next
#     comment line) names a section that docs/ORIGINAL.md has: `## N.` or `### N.M`.
# Files checked: those git lists (tracked, plus untracked ones not ignored) when the
# directory is a git checkout, else every file outside build*/, out/ and .git/. Binary
# files are skipped. Needs bash, grep and perl (perl-base; no modules).
#
# Usage: self_contained_test.sh <source directory>
#        self_contained_test.sh --self-test   (checks that the checks catch planted faults)
set -uo pipefail

# Spelled in pieces so that this file does not name them itself.
forbidden=("ASSIGNMENT"".md" "BUILD""-NOTES" "STYLE"".md" "..""/shared" "/work""/shared")

# Prints the files to check under $1, NUL-separated, as paths relative to $1.
list_files() {
  local src=$1
  if command -v git >/dev/null 2>&1 && git -C "$src" rev-parse --is-inside-work-tree \
    >/dev/null 2>&1 && [ "$(git -C "$src" rev-parse --show-toplevel)" -ef "$src" ]; then
    git -C "$src" ls-files -z --cached --others --exclude-standard
  else
    (cd "$src" && find . \( -name .git -o -path './build' -o -path './build-*' \
      -o -path './out' \) -prune -o -type f -printf '%P\0')
  fi
}

# check <source directory>: prints every problem; returns 1 if there is any.
check() {
  local src=$1 failures=0 files=()
  local f
  while IFS= read -r -d '' f; do
    [ -f "$src/$f" ] && files+=("$f")  # a tracked file deleted in the work tree is skipped
  done < <(list_files "$src")
  if [ ${#files[@]} -eq 0 ]; then
    echo "FAIL: no files found under $src"
    return 1
  fi

  local args=() p hits
  for p in "${forbidden[@]}"; do args+=(-e "$p"); done
  hits=$(cd "$src" && printf '%s\0' "${files[@]}" | xargs -0 grep -n -I -F "${args[@]}" --)
  if [ -n "$hits" ]; then
    echo "FAIL: files refer to documents outside the repository (cite docs/ORIGINAL.md instead):"
    printf '%s\n' "$hits" | sed 's/^/  /'
    failures=$((failures + 1))
  fi

  if [ ! -f "$src/docs/ORIGINAL.md" ]; then
    echo "FAIL: docs/ORIGINAL.md is missing"
    return 1
  fi
  (cd "$src" && printf '%s\0' "${files[@]}" | perl -0 -e '
    use strict;
    my $original = "docs/ORIGINAL.md";
    open(my $fh, "<", $original) or die "$original: $!\n";
    my $doc = do { local $/; <$fh> };
    close($fh);
    my %sections;
    $sections{$1} = 1 while $doc =~ /^## (\d+)\. /mg;
    $sections{$1} = 1 while $doc =~ /^### (\d+\.\d+) /mg;
    # Between words: blanks, or a line end followed by a comment leader.
    my $sep = qr{(?:[ \t]|\n[ \t]*(?://+|\#+|\*)?)*};
    my $num = qr{\d+(?:\.\d+)?};
    my ($bad, $count) = (0, 0);
    local $/ = "\0";
    while (my $file = <STDIN>) {
      chomp $file;
      next unless -T $file;
      open(my $in, "<", $file) or die "$file: $!\n";
      my $text = do { local $/; <$in> };
      close($in);
      while ($text =~ /ORIGINAL\.md`?$sep(§)?[ \t]*($num(?:[ \t]*,$sep$num)*)/g) {
        my ($list, $end) = ($2, $-[0]);
        my $line = 1 + (substr($text, 0, $end) =~ tr/\n//);
        for my $n (split /[^\d.]+/, $list) {
          next if $n eq "";
          ++$count;
          unless ($sections{$n}) {
            print "FAIL: $file:$line cites $original §$n, which has no such section\n";
            ++$bad;
          }
        }
      }
    }
    print "checked $count citations of $original\n";
    exit($bad ? 1 : 0);
  ') || failures=$((failures + 1))

  [ $failures -eq 0 ]
}

self_test() {
  local failures=0 orig="ORIGINAL"".md"  # spelled in pieces: this file cites nothing
  self_test_dir=$(mktemp -d)
  trap 'rm -rf "$self_test_dir"' EXIT
  local tmp=$self_test_dir
  mkdir -p "$tmp/docs" "$tmp/src" "$tmp/build"
  printf '# Original\n\n## 1. Shape\n\n## 6. Decisions\n\n### 6.1 One\n\n### 6.8 Eight\n' \
    >"$tmp/docs/$orig"
  printf '// (docs/%s §6.8), (docs/%s §1, 6,\n// 6.1) and `docs/%s` §6\n' \
    "$orig" "$orig" "$orig" >"$tmp/src/a.hpp"
  # What a build directory holds is not checked.
  printf 'see %s\n' "${forbidden[0]}" >"$tmp/build/generated.txt"

  expect() {  # expect <0|1> <what>
    local got=0 out
    out=$(check "$tmp" 2>&1) || got=1
    if [ "$got" != "$1" ]; then
      printf 'FAIL (self-test): %s: expected %s, got %s\n%s\n' "$2" "$1" "$got" "$out"
      failures=$((failures + 1))
    else
      printf 'ok (self-test): %s\n' "$2"
    fi
  }

  expect 0 "a clean tree passes"
  local p
  for p in "${forbidden[@]}"; do
    printf 'read %s first\n' "$p" >"$tmp/src/planted.txt"
    expect 1 "a file naming $p fails"
  done
  rm "$tmp/src/planted.txt"
  printf '// docs/%s §6.13\n' "$orig" >"$tmp/src/b.hpp"
  expect 1 "a citation of a missing subsection fails"
  printf '// (docs/%s §1,\n// 7)\n' "$orig" >"$tmp/src/b.hpp"
  expect 1 "a missing section in a list continued on the next line fails"
  printf '// (docs/%s\n// 2)\n' "$orig" >"$tmp/src/b.hpp"
  expect 1 "a citation without the section sign is checked too"
  rm "$tmp/src/b.hpp"
  expect 0 "the tree is clean again"
  rm "$tmp/docs/$orig"
  expect 1 "a missing docs/ORIGINAL.md fails"
  [ $failures -eq 0 ]
}

if [ "${1:-}" = "--self-test" ]; then
  self_test && echo "self-test passed" && exit 0
  exit 1
fi
src=${1:?usage: $0 <source directory> | --self-test}
if check "$src"; then
  echo "the repository is self-contained"
  exit 0
fi
exit 1
