#pragma once

// Test support for the codec tests: captured frames read in place from ../shared/fixtures.

#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "messages/codec.hpp"

namespace mi::test {

/// Lines of fixtures/exchanges/<exchange>/<name> (MI_FIXTURES_DIR). A missing fixture fails the
/// test: a codec test without its captures would check nothing (scripts/test says how to point
/// the build at the fixtures: cmake -DMI_FIXTURES_DIR=...).
inline std::vector<std::string> fixture_lines(const std::string& exchange, const std::string& name) {
  const auto path = std::filesystem::path(MI_FIXTURES_DIR) / "exchanges" / exchange / name;
  std::vector<std::string> lines;
  std::ifstream in(path);
  if (!in) {
    FAIL_CHECK("fixture " << path.string() << " is missing (configure with -DMI_FIXTURES_DIR=...)");
    return lines;
  }
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  return lines;
}

/// Trades as the fixtures' expected lines write them: a JSON array of `decode` objects.
inline std::string as_json_array(const std::vector<mi::trade>& trades) {
  std::string out = "[";
  for (std::size_t i = 0; i < trades.size(); ++i) {
    if (i != 0)
      out += ',';
    out += mi::trade_to_json(trades[i]);
  }
  return out + "]";
}

} // namespace mi::test
