#!/bin/sh
# The tree is formatted by .clang-format (scripts/format applies it): a file that is not fails here,
# naming the file, so a review never argues about layout.
cd "$(dirname "$0")/../.."
command -v clang-format >/dev/null || { echo "clang-format is not installed (scripts/setup installs it)"; exit 1; }
files=$(git ls-files '*.cpp' '*.hpp' '*.h' 2>/dev/null || find actors app config connectors gateways messages simulator tests -name '*.[ch]pp')
[ -n "$files" ] || { echo "no source files found"; exit 1; }
# shellcheck disable=SC2086
if ! clang-format --dry-run -Werror $files 2>/tmp/mi-format.$$; then
  grep -o '^[^:]*:[0-9]*' /tmp/mi-format.$$ | sort -u | head -50
  echo "not formatted: run scripts/format"
  rm -f /tmp/mi-format.$$
  exit 1
fi
rm -f /tmp/mi-format.$$
echo "$(echo "$files" | wc -l) files formatted as .clang-format says"
