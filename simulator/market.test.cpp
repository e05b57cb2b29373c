#include <doctest/doctest.h>

#include <stdexcept>

#include "simulator/generator.hpp"
#include "simulator/market.hpp"

namespace {

std::vector<std::uint64_t> ids(const std::vector<mi::trade>& ts) {
  std::vector<std::uint64_t> out;
  for (const auto& t : ts)
    out.push_back(std::stoull(t.trade_id));
  return out;
}

/// A market of BTCUSDT with ids first..first+n-1 at ts 1000 ns apart, starting at 1'000'000.
mi::sim::market filled(std::uint64_t first, std::uint64_t n, std::size_t limit = 1000) {
  mi::sim::market m("okx", {"BTCUSDT", "ETHUSDT"}, {"ethusdt"}, limit);
  mi::sim::symbol_generator g({"BTCUSDT", "BTC", "USDT", true}, 1, "okx", first);
  for (std::uint64_t i = 0; i < n; ++i)
    m.record(g.next(static_cast<std::int64_t>(1'000'000 + 1000 * i)));
  return m;
}

} // namespace

TEST_CASE("market: lists configured minus rejected symbols (any case) - unknown symbols are refused") {
  mi::sim::market m("kraken", {"BTCUSD", "ETHUSDT", "SOLEUR"}, {"ethusdt"}, 10);
  REQUIRE(m.configured().size() == 3);
  REQUIRE(m.listed().size() == 2);
  CHECK(m.listed()[0].base == "BTC");
  CHECK(m.listed()[0].quote == "USD"); // fiat quote beyond Binance's list
  CHECK(m.listed()[1].symbol == "SOLEUR");
  CHECK(m.find("ETHUSDT") == nullptr);
  CHECK(m.rejected("ETHUSDT"));
  CHECK_THROWS_WITH_AS(mi::sim::market("okx", {"btc-usdt"}, {}, 10), doctest::Contains("unknown symbol 'btc-usdt'"),
                       std::runtime_error);
}

TEST_CASE("market: history pages by id both ways, newest, and by time - trades keep every field") {
  auto m = filled(100, 50); // ids 100..149
  CHECK(ids(m.from_id("BTCUSDT", 140, 5)) == std::vector<std::uint64_t>{140, 141, 142, 143, 144});
  CHECK(ids(m.from_id("BTCUSDT", 147, 5)) == std::vector<std::uint64_t>{147, 148, 149});
  CHECK(ids(m.from_id("BTCUSDT", 1, 2)) == std::vector<std::uint64_t>{100, 101});
  CHECK(m.from_id("BTCUSDT", 150, 5).empty());
  CHECK(ids(m.before_id("BTCUSDT", 103, 10)) == std::vector<std::uint64_t>{100, 101, 102});
  CHECK(ids(m.before_id("BTCUSDT", 1000, 2)) == std::vector<std::uint64_t>{148, 149});
  CHECK(ids(m.newest("BTCUSDT", 3)) == std::vector<std::uint64_t>{147, 148, 149});
  CHECK(ids(m.since_ns("BTCUSDT", 1'000'000 + 1000 * 10 - 1, 2)) == std::vector<std::uint64_t>{110, 111});
  CHECK(m.newest("ETHUSDT", 3).empty());
  CHECK(m.newest("XYZ", 3).empty());

  mi::sim::symbol_generator g({"BTCUSDT", "BTC", "USDT", true}, 1, "okx", 100);
  const auto first = g.next(1'000'000);
  CHECK(m.from_id("BTCUSDT", 100, 1).at(0) == first);
}

TEST_CASE("market: the history is bounded per symbol, the oldest forgotten first") {
  auto m = filled(1, 30, 10);
  CHECK(m.history_size("BTCUSDT") == 10);
  CHECK(ids(m.newest("BTCUSDT", 100)) == std::vector<std::uint64_t>{21, 22, 23, 24, 25, 26, 27, 28, 29, 30});
  CHECK(ids(m.from_id("BTCUSDT", 1, 2)) == std::vector<std::uint64_t>{21, 22});
}
