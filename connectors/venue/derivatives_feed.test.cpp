#include "connectors/venue/derivatives_feed.hpp"

#include <doctest/doctest.h>

#include "messages/venue_registry.hpp"

using namespace mi::venue;

TEST_CASE("derivatives feed: every derivatives venue of the registry has a feed with its subscribe requests") {
  std::vector<std::string> names;
  for (const auto& v : mi::derivatives_venues()) {
    auto f = make_derivatives_feed(v.name, {"BTC/USDT", "eth/usdt"});
    REQUIRE(f);
    CHECK((*f)->name() == v.name);
    CHECK((*f)->symbols() == std::vector<std::string>{"BTCUSDT", "ETHUSDT"});
    CHECK((*f)->subscribe_requests().size() == 1);
    names.emplace_back(v.name);
  }
  CHECK(names == std::vector<std::string>{"binance-usdm", "okx-swap", "bybit-linear"});
  CHECK_FALSE(make_derivatives_feed("binance", {"BTC/USDT"}));
  CHECK_FALSE(make_derivatives_feed("okx-swap", {"BTCUSDT"}));
  auto okx = make_derivatives_feed("okx-swap", {"BTC/USDT"});
  REQUIRE(okx);
  CHECK((*okx)->subscribe_requests()[0].find(R"("instId":"BTC-USDT-SWAP")") != std::string::npos);
}

TEST_CASE("derivatives feed: heartbeats (OKX after 25 s of silence, Bybit every 20 s, Binance never) and Binance's "
          "open-interest polling") {
  constexpr std::int64_t s = 1'000'000'000;
  auto okx = std::move(*make_derivatives_feed("okx-swap", {"BTC/USDT"}));
  okx->on_open(0);
  CHECK_FALSE(okx->ping_due(24 * s));
  okx->on_frame(20 * s);
  CHECK_FALSE(okx->ping_due(44 * s));
  CHECK(okx->ping_due(45 * s) == std::optional<std::string>("ping"));
  auto bybit = std::move(*make_derivatives_feed("bybit-linear", {"BTC/USDT"}));
  bybit->on_open(0);
  bybit->on_frame(10 * s); // frames do not delay Bybit's ping
  CHECK_FALSE(bybit->ping_due(19 * s));
  CHECK(bybit->ping_due(20 * s) == std::optional<std::string>(R"({"op":"ping"})"));
  CHECK(bybit->open_interest_requests().empty());
  auto binance = std::move(*make_derivatives_feed("binance-usdm", {"BTC/USDT", "ETH/USDT"}));
  binance->on_open(0);
  CHECK_FALSE(binance->ping_due(3600 * s));
  auto reqs = binance->open_interest_requests();
  REQUIRE(reqs.size() == 2);
  CHECK(reqs[1].target == "/fapi/v1/openInterest?symbol=ETHUSDT");
  auto oi = binance->parse_open_interest(R"({"openInterest":"10659.509","symbol":"BTCUSDT","time":1589437530011})", 3);
  REQUIRE(oi);
  CHECK(oi->open_interest == "10659.509");
  CHECK_FALSE(okx->parse_open_interest("{}", 0));
}

TEST_CASE("derivatives feed: the frames fuzzing once crashed the codecs on (malformed JSON read by key) are refused") {
  // tests/fuzz/fuzz_{binance,okx}_derivatives found these while the codecs used simdjson On-Demand lookups.
  const std::string crashes[] = {
    "{\"openIntere\":{\"e\":\"forc90.00\",\"X\":\"FIL\"time\":1589437530erest\":\"10659.501665523974\",\"time\":1589"
    "\x1d"
    "437530011}",
    R"({"arg":{"channel":"funding-rate","instId":"BTC-USD-SWQP"!},"Rate":"0.00375","minFundingRate":"-0.00375",)"
    R"("nextFundingTime":"0850377600000","ts":"1700724675302"}]})",
  };
  for (const auto& v : mi::derivatives_venues()) {
    auto f = make_derivatives_feed(v.name, {"BTC/USDT"});
    REQUIRE(f);
    for (const auto& frame : crashes)
      CHECK_FALSE((*f)->decode(frame, 1));
  }
}
