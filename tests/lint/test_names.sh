#!/bin/sh
# ctest splits a test name at ';' (a CMake list separator): a doctest case named with one is
# registered under fragments that match nothing, and "passes" without running. Refuse such names.
cd "$(dirname "$0")/../.."
bad=$(grep -rn --include='*.cpp' -E '(TEST_CASE|SUBCASE)\(.*;.*"\)' actors app config connectors gateways messages simulator tests)
if [ -n "$bad" ]; then
  echo "test names must not contain ';' (ctest would silently skip them):"
  echo "$bad"
  exit 1
fi
echo "no test name contains ';'"
