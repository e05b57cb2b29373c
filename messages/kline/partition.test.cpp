#include "messages/kline/partition.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using mi::kline_engine::global_key;
using mi::kline_engine::partition_of;
using mi::kline_engine::partition_of_subject;
using mi::kline_engine::partition_resume;

TEST_CASE("kline partition: FNV-1a 64 of exchange.symbol modulo the partition count, as the published test vectors") {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c and of "foobar" 0x85944171f73967e8 (the FNV authors' test vectors);
  // the residues below were computed from those numbers, not by this code.
  CHECK(partition_of("a", 7) == 0xaf63dc4c8601ec8cULL % 7);
  CHECK(partition_of("foobar", 7) == 0x85944171f73967e8ULL % 7);
  CHECK(partition_of("a", 7) == 5);
  CHECK(partition_of("foobar", 1000) == 0x85944171f73967e8ULL % 1000);
  // One partition (the default) or none configured: everything in partition 0.
  CHECK(partition_of("binance.BTCUSDT", 1) == 0);
  CHECK(partition_of("binance.BTCUSDT", 0) == 0);
}

TEST_CASE("kline partition: a MARKET_RAW subject falls in the partition of its exchange.symbol") {
  for (std::uint32_t p : {2U, 3U, 4U, 16U}) {
    CHECK(partition_of_subject("market.raw.binance.BTCUSDT", p) == partition_of("binance.BTCUSDT", p));
    CHECK(partition_of_subject("market.raw.okx.ETH_USDT", p) == partition_of("okx.ETH_USDT", p));
  }
  CHECK(partition_of_subject("market.kline.binance.BTCUSDT.1m", 4) == 0); // not a trade subject
}

TEST_CASE("kline partition: many symbols spread over every partition, none holding more than twice its share") {
  const std::vector<std::string> exchanges{"binance", "okx", "bybit", "coinbase", "kraken"};
  std::vector<int> per(4, 0);
  for (const auto& ex : exchanges)
    for (int i = 0; i < 200; ++i)
      ++per[partition_of(ex + ".SYM" + std::to_string(i) + "USDT", 4)];
  for (int n : per) {
    CHECK(n > 0);
    CHECK(n < 2 * 1000 / 4);
  }
}

TEST_CASE("kline partition: the global resume key is 'global' for one partition and per partition otherwise") {
  CHECK(global_key(0, 1) == "global");
  CHECK(global_key(2, 4) == "g.4.2");
}

TEST_CASE("kline partition: a partition resumes at its own global, else at a lower bound covering every symbol") {
  // Its own key.
  CHECK(partition_resume({{"g.4.1", 900}, {"global", 10}}, 1, 4) == 900);
  // None yet: the single stage's global (a bound for every symbol) ...
  CHECK(partition_resume({{"global", 500}}, 3, 4) == 500);
  // ... or the lowest of a complete set of an earlier count (2 -> 4), the higher of the two bounds.
  CHECK(partition_resume({{"global", 500}, {"g.2.0", 700}, {"g.2.1", 650}}, 3, 4) == 650);
  // An incomplete set bounds only some symbols: ignored.
  CHECK(partition_resume({{"global", 500}, {"g.3.0", 700}, {"g.3.2", 800}}, 0, 4) == 500);
  // Nothing at all: from the stream's first message.
  CHECK(partition_resume({}, 0, 4) == 0);
  CHECK(partition_resume({{"g.x.1", 5}, {"g.2.9", 7}}, 0, 4) == 0);
}
