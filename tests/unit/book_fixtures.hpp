#pragma once

// Test support for the book codecs: the recorded sets of ../shared/fixtures/books (frames, the expected book after
// every frame, Binance's REST snapshot), read in place, and the line-by-line comparison with a codec's books.
// Link Boost::json (the expected lines are read with it, not with the code under test).

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "messages/book/book_codec.hpp"
#include "messages/decimal.hpp"

namespace mi::test {

/// fixtures/books/<name>; a missing fixture fails the test (configure with -DMI_FIXTURES_DIR=...).
inline std::filesystem::path book_fixture_path(const std::string& name) {
  return std::filesystem::path(MI_FIXTURES_DIR) / "books" / name;
}

/// The lines of fixtures/books/<name>.
inline std::vector<std::string> book_fixture_lines(const std::string& name) {
  std::vector<std::string> lines;
  std::ifstream in(book_fixture_path(name));
  if (!in) {
    FAIL_CHECK("fixture " << book_fixture_path(name).string() << " is missing (configure with -DMI_FIXTURES_DIR=...)");
    return lines;
  }
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

/// The whole of fixtures/books/<name> ("" and a failed check when missing).
inline std::string book_fixture_text(const std::string& name) {
  std::ifstream in(book_fixture_path(name));
  if (!in) {
    FAIL_CHECK("fixture " << book_fixture_path(name).string() << " is missing (configure with -DMI_FIXTURES_DIR=...)");
    return {};
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Our status for the oracle's: it names an applied delta after the exchange's own word ("update", "delta",
/// "l2update", "applied_first").
inline std::string oracle_status(const std::string& s) {
  if (s == "applied_first" || s == "update" || s == "delta" || s == "l2update")
    return "applied";
  return s;
}

/// The oracle's side (an array of [price, qty] texts) equals the best levels of `book`'s side, as decimals.
inline void check_side(const mi::book::order_book& book, mi::book::side s, const boost::json::array& expected,
                       std::size_t frame) {
  const std::size_t depth = 10;
  const std::size_t n = std::min(depth, book.size(s));
  CHECK_MESSAGE(n == expected.size(), "frame " << frame << ": " << (s == mi::book::side::bid ? "bids" : "asks"));
  for (std::size_t i = 0; i < std::min(n, expected.size()); ++i) {
    const auto& pair = expected[i].as_array();
    const auto price = mi::decimal::parse(std::string(pair[0].as_string()));
    const auto qty = mi::decimal::parse(std::string(pair[1].as_string()));
    REQUIRE(price);
    REQUIRE(qty);
    CHECK_MESSAGE(book.at(s, i).price == *price, "frame " << frame << " level " << i);
    CHECK_MESSAGE(book.at(s, i).qty == *qty, "frame " << frame << " level " << i);
  }
}

/// Feeds every frame of `set` (fixtures/books/<set>.frames.jsonl) to `codec` and checks its book, status and
/// checksum verdict after each against <set>.expected.jsonl, line for line. Returns the number of frames.
inline std::size_t check_book_set(mi::book::book_codec& codec, const std::string& set) {
  const std::vector<std::string> frames = book_fixture_lines(set + ".frames.jsonl");
  const std::vector<std::string> expected = book_fixture_lines(set + ".expected.jsonl");
  REQUIRE(!frames.empty());
  REQUIRE(frames.size() == expected.size());
  for (std::size_t i = 0; i < frames.size(); ++i) {
    const mi::book::frame_result r = codec.on_frame(frames[i]);
    const boost::json::object e = boost::json::parse(expected[i]).as_object();
    CHECK_MESSAGE(std::string(mi::book::to_string(r.what)) == oracle_status(std::string(e.at("status").as_string())),
                  "frame " << i << ": " << r.reason);
    const auto& ck = e.at("checksum_ok");
    if (ck.is_null())
      CHECK_MESSAGE(!r.checksum_ok.has_value(), "frame " << i);
    else
      CHECK_MESSAGE((r.checksum_ok && *r.checksum_ok == ck.as_bool()), "frame " << i);
    CHECK_MESSAGE(codec.book().valid(), "frame " << i);
    check_side(codec.book(), mi::book::side::bid, e.at("bids").as_array(), i);
    check_side(codec.book(), mi::book::side::ask, e.at("asks").as_array(), i);
  }
  return frames.size();
}

/// One expected outcome of a hand-written frame (tests/data/books).
struct expected_outcome {
  mi::book::status what;
  std::optional<bool> checksum_ok;
};

/// Feeds tests/data/books/<name> to `codec` frame by frame and checks each status and checksum verdict, and that the
/// book is valid exactly when the status says so.
inline void check_data_file(mi::book::book_codec& codec, const std::string& name,
                            const std::vector<expected_outcome>& want) {
  std::ifstream in(std::string(MI_SOURCE_DIR) + "/tests/data/books/" + name);
  REQUIRE_MESSAGE(in, "tests/data/books/" << name << " is missing");
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    lines.push_back(line);
  REQUIRE(lines.size() == want.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const mi::book::frame_result r = codec.on_frame(lines[i]);
    CHECK_MESSAGE(r.what == want[i].what, "frame " << i << ": " << mi::book::to_string(r.what) << " " << r.reason);
    CHECK_MESSAGE(r.checksum_ok == want[i].checksum_ok, "frame " << i);
    if (r.what == mi::book::status::resync || r.what == mi::book::status::awaiting_snapshot)
      CHECK_MESSAGE(!codec.book().valid(), "frame " << i);
    if (r.what == mi::book::status::snapshot || r.what == mi::book::status::applied)
      CHECK_MESSAGE(codec.book().valid(), "frame " << i);
  }
}

/// The side `s` of `book` is exactly `levels` ({price, qty} texts compared as decimals), best first.
inline void check_levels(const mi::book::order_book& book, mi::book::side s,
                         const std::vector<std::pair<std::string, std::string>>& levels) {
  REQUIRE(book.size(s) == levels.size());
  for (std::size_t i = 0; i < levels.size(); ++i) {
    CHECK(book.at(s, i).price == *mi::decimal::parse(levels[i].first));
    CHECK(book.at(s, i).qty == *mi::decimal::parse(levels[i].second));
  }
}

} // namespace mi::test
