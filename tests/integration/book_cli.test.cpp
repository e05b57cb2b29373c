// The `book` command as a user runs it: the market-ingestor binary, frames on stdin, one JSON line per frame on
// stdout, compared line for line with the recorded sets' expected books (one set per exchange; the codecs' unit
// tests cover every set).
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "tests/harness/process.hpp"
#include "messages/decimal.hpp"
#include "tests/unit/book_fixtures.hpp"

namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

void check_side_json(const boost::json::array& got, const boost::json::array& want, std::size_t frame) {
  REQUIRE_MESSAGE(got.size() == want.size(), "frame " << frame);
  for (std::size_t i = 0; i < got.size(); ++i)
    for (std::size_t k = 0; k < 2; ++k) {
      const auto g = mi::decimal::parse(std::string(got[i].as_array()[k].as_string()));
      const auto w = mi::decimal::parse(std::string(want[i].as_array()[k].as_string()));
      REQUIRE(g);
      REQUIRE(w);
      CHECK_MESSAGE(*g == *w, "frame " << frame << " level " << i);
    }
}

void check_cli_set(const std::string& exchange, const std::string& set, bool with_snapshot) {
  std::vector<std::string> argv{MI_BINARY, "book", "--exchange", exchange, "--depth", "10"};
  if (with_snapshot) {
    argv.push_back("--snapshot");
    argv.push_back(mi::test::book_fixture_path(set + ".rest_depth.json").string());
  }
  const std::string frames = mi::test::book_fixture_text(set + ".frames.jsonl");
  const auto expected = mi::test::book_fixture_lines(set + ".expected.jsonl");
  REQUIRE(!frames.empty());
  const auto r = mi::test::run(argv, frames);
  REQUIRE(r.exit_code == 0);
  const auto lines = split_lines(r.output);
  REQUIRE(lines.size() == expected.size());
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto got = boost::json::parse(lines[i]).as_object();
    const auto want = boost::json::parse(expected[i]).as_object();
    CHECK_MESSAGE(std::string(got.at("status").as_string()) ==
                    mi::test::oracle_status(std::string(want.at("status").as_string())),
                  "frame " << i);
    CHECK_MESSAGE(got.at("checksum_ok") == want.at("checksum_ok"), "frame " << i);
    check_side_json(got.at("bids").as_array(), want.at("bids").as_array(), i);
    check_side_json(got.at("asks").as_array(), want.at("asks").as_array(), i);
  }
}

} // namespace

TEST_CASE("book cli: one recorded set per exchange prints the oracle's books line for line") {
  SUBCASE("binance") { check_cli_set("binance", "binance_spot.LRCBTC", true); }
  SUBCASE("okx") { check_cli_set("okx", "okx.BTC-USDT", false); }
  SUBCASE("bybit") { check_cli_set("bybit", "bybit_v5.BTCUSDT", false); }
  SUBCASE("coinbase") { check_cli_set("coinbase", "coinbase_legacy.NU-GBP", false); }
  SUBCASE("kraken") { check_cli_set("kraken", "kraken_v2.BTC-USD", false); }
}

TEST_CASE("book cli: a sequence gap prints one resync, no levels until the next snapshot, then the right book") {
  const std::string frames = mi::test::read_file(std::string(MI_SOURCE_DIR) + "/tests/data/books/binance_gap.jsonl");
  const auto r = mi::test::run({MI_BINARY, "book", "--exchange", "binance"}, frames);
  REQUIRE(r.exit_code == 0);
  const auto lines = split_lines(r.output);
  REQUIRE(lines.size() == 8);
  const std::vector<std::string> want{"snapshot", "dropped_stale",     "applied",  "applied",
                                      "resync",   "awaiting_snapshot", "snapshot", "applied"};
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto got = boost::json::parse(lines[i]).as_object();
    CHECK_MESSAGE(got.at("status").as_string() == want[i], "frame " << i);
    if (want[i] == "resync" || want[i] == "awaiting_snapshot")
      CHECK(got.at("bids").as_array().empty());
  }
  CHECK(lines.back() ==
        R"({"bids":[["9.5","3"],["9","2"]],"asks":[["12","4"],["13","1"]],"checksum_ok":null,"status":"applied"})");
}

TEST_CASE("book cli: an unknown exchange is a usage error naming the registry's exchanges") {
  const auto r = mi::test::run({MI_BINARY, "book", "--exchange", "nyse"}, "", true);
  CHECK(r.exit_code == 2);
  CHECK(r.output.find("binance") != std::string::npos);
}
