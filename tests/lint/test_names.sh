#!/bin/sh
# ctest splits a test name at ';' (a CMake list separator): a doctest case named with one is
# registered under fragments that match nothing, and "passes" without running. Refuse such names,
# also when the name is split over several string literals and lines.
cd "$(dirname "$0")/../.."
bad=$(grep -rPzo --include='*.cpp' '(TEST_CASE|SUBCASE)\((\s*"([^"\\]|\\.)*")+\s*\)' \
        actors app config connectors gateways messages simulator tests | tr '\0' '\n' | grep ';')
if [ -n "$bad" ]; then
  echo "test names must not contain ';' (ctest would silently skip them):"
  echo "$bad"
  exit 1
fi
echo "no test name contains ';'"
