// Alpaca REST bodies from the SDKs' recorded responses (../shared/fixtures/equities/alpaca/rest, SOURCES.md): trades
// and bars of both shapes with their page tokens, null and empty pages, canceled trades, the assets list.
#include <doctest/doctest.h>

#include <string>

#include "connectors/alpaca/rest.hpp"
#include "connectors/alpaca/test_files.hpp"

namespace {

using mi::alpaca::test::fixture_text;

std::string rest(const std::string& name) { return fixture_text("rest/" + name); }

} // namespace

TEST_CASE("alpaca trades page, single symbol: trades, symbol and the next page token") {
  auto page = mi::alpaca::parse_trades_page(rest("trades_single_AAPL_page1.json"), 9);
  REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
  REQUIRE(page->trades.size() == 2);
  const auto& a = page->trades[0];
  CHECK(a.exchange == "alpaca");
  CHECK(a.symbol == "AAPL");
  CHECK(a.trade_id == "151-D");
  CHECK(a.price.to_string() == "159.07");
  CHECK(a.quantity.to_string() == "1");
  CHECK(a.ts_ns == 1646802002183000000); // 2022-03-09T05:00:02.183Z
  CHECK(a.conditions == std::vector<std::string>{"@", "T", "I"});
  CHECK(a.tape == "C");
  CHECK(a.recv_ns == 9);
  CHECK(page->trades[1].trade_id == "168-D");
  CHECK(page->trades[1].quantity.to_string() == "2");
  CHECK(page->trades[1].ts_ns == 1646802016910000000); // 2022-03-09T05:00:16.91Z
  CHECK(page->next_page_token ==
        std::optional<std::string>("QUFQTHwyMDIyLTAzLTA5VDA1OjAwOjE2LjkxMDAwMDAwMFp8RHwwOTIyMzM3MjAzNjg1NDc3NTk3Ng=="));
}

TEST_CASE("alpaca trades page: null trades and a null token are the last, empty page") {
  for (const char* name : {"trades_single_empty_null.json", "trades_multi_empty_currency_MXN.json"}) {
    CAPTURE(name);
    auto page = mi::alpaca::parse_trades_page(rest(name), 0);
    REQUIRE(page);
    CHECK(page->trades.empty());
    CHECK(!page->next_page_token);
  }
}

TEST_CASE("alpaca trades page, multi symbol: each symbol's trades from its key, sorted by symbol then time") {
  auto page = mi::alpaca::parse_trades_page(rest("trades_multi_F_GE.json"), 0);
  REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
  REQUIRE(page->trades.size() == 4);
  CHECK(page->trades[0].symbol == "F");
  CHECK(page->trades[0].trade_id == "442254-D");
  CHECK(page->trades[0].price.to_string() == "11.715");
  CHECK(page->trades[0].ts_ns == 1528139897439200000);
  CHECK(page->trades[1].symbol == "F");
  CHECK(page->trades[1].quantity.to_string() == "200");
  CHECK(page->trades[2].symbol == "GE");
  CHECK(page->trades[2].trade_id == "933063-D");
  CHECK(page->trades[3].price.to_string() == "13.7317");
  CHECK(page->trades[3].conditions == std::vector<std::string>{" ", "4", "B"});
  CHECK(page->trades[3].tape == "A");
  CHECK(!page->next_page_token);
}

TEST_CASE("alpaca trades page: canceled trades are not history") {
  for (const char* name : {"trades_single_A_update_canceled.json", "trades_multi_A_update_canceled.json"}) {
    CAPTURE(name);
    auto page = mi::alpaca::parse_trades_page(rest(name), 0);
    REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
    CHECK(page->trades.empty());
    CHECK(page->voided == 2);
  }
}

TEST_CASE("alpaca trades pages of the other SDK fixtures parse") {
  for (const char* name :
       {"trades_multi_AAPL_TSLA.json", "trades_multi_AAPL_page1_asof.json", "trades_single_AAPL_1trade_token.json",
        "trades_single_AAPL_currency_JPY.json", "docs_trades_single_AAPL.json", "docs_trades_multi_AAPL.json",
        "openapi_trades_multi_AAPL.json", "trades_multi_AAPL_5trades.json"}) {
    CAPTURE(name);
    auto page = mi::alpaca::parse_trades_page(rest(name), 0);
    REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
    CHECK(!page->trades.empty());
  }
}

TEST_CASE("alpaca bars: page 2 answers page 1's token, daily bars at midnight New York") {
  auto p1 = mi::alpaca::parse_bars_page(rest("bars_single_1Day_META_page1.json"), true);
  auto p2 = mi::alpaca::parse_bars_page(rest("bars_single_1Day_META_page2.json"), true);
  REQUIRE(p1);
  REQUIRE(p2);
  REQUIRE(p1->bars.size() == 2);
  REQUIRE(p2->bars.size() == 2);
  const auto& b = p1->bars[0];
  CHECK(b.symbol == "META");
  CHECK(b.what == mi::alpaca::bar::kind::daily);
  CHECK(b.ts_ns == 1654660800000000000); // 2022-06-08T04:00:00Z
  CHECK(b.open.to_string() == "194.67");
  CHECK(b.high.to_string() == "202.03");
  CHECK(b.low.to_string() == "194.41");
  CHECK(b.close.to_string() == "196.64");
  CHECK(b.volume.to_string() == "22211813");
  CHECK(b.trade_count == 246906);
  CHECK(b.vwap->to_string() == "198.364578");
  CHECK(p1->bars[1].close.to_string() == "184");
  CHECK(p1->next_page_token == std::optional<std::string>("TUVUQXxEfDIwMjItMDYtMDlUMDQ6MDA6MDAuMDAwMDAwMDAwWg=="));
  CHECK(p2->bars[0].ts_ns == 1654833600000000000); // 2022-06-10T04:00:00Z
  CHECK(p2->bars[1].ts_ns == 1655092800000000000); // 2022-06-13T04:00:00Z
  CHECK(p2->bars[1].high.to_string() == "172.575");
  CHECK(p2->next_page_token == std::optional<std::string>("TUVUQXxEfDIwMjItMDYtMTNUMDQ6MDA6MDAuMDAwMDAwMDAwWg=="));
  auto multi = mi::alpaca::parse_bars_page(rest("bars_multi_1Day_META_page1.json"), true);
  REQUIRE(multi);
  REQUIRE(multi->bars.size() == 2);
  CHECK(multi->bars[0] == p1->bars[0]);
  CHECK(multi->next_page_token == p1->next_page_token);
}

TEST_CASE("alpaca bars: empty pages, and the other recorded bodies parse") {
  for (const char* name : {"bars_single_empty_null.json", "bars_multi_empty.json"}) {
    auto page = mi::alpaca::parse_bars_page(rest(name), false);
    REQUIRE(page);
    CHECK(page->bars.empty());
    CHECK(!page->next_page_token);
  }
  for (const char* name :
       {"bars_multi_15Min_AMZN.json", "bars_multi_1Day_AAPL_NIO.json", "bars_multi_1Day_AAPL_TSLA.json",
        "bars_multi_1Day_AAPL_page1.json", "bars_multi_1Day_GE_adjustment_pretty.json", "bars_single_15Min_AMZN.json",
        "bars_single_1Day_AAPL_page1.json", "bars_single_1Day_TSLA_desc.json", "docs_bars_multi.json",
        "docs_bars_single_AAPL_minute.json", "openapi_bars_single_1Min_AAPL.json"}) {
    CAPTURE(name);
    auto page = mi::alpaca::parse_bars_page(rest(name), false);
    REQUIRE_MESSAGE(page, (page ? "" : page.err().message));
    CHECK(!page->bars.empty());
  }
}

TEST_CASE("alpaca assets: the list and a single asset") {
  auto one = mi::alpaca::parse_assets(rest("openapi_asset_item.json"));
  REQUIRE(one);
  REQUIRE(one->size() == 1);
  CHECK((*one)[0] == mi::alpaca::asset{"AAPL", "NASDAQ", "us_equity", "active", true});
  auto list = mi::alpaca::parse_assets(rest("assets_v2_active_sdk_mock.json"));
  REQUIRE(list);
  REQUIRE(!list->empty());
  CHECK((*list)[0].symbol == "AAPL");
  auto apca = mi::alpaca::parse_assets(rest("asset_v2_APCA_sdk_mock.json"));
  REQUIRE(apca);
  CHECK((*apca)[0].symbol == "APCA");
  // The documentation's own example is not JSON (a trailing comma): refused with a reason.
  auto bad = mi::alpaca::parse_assets(rest("docs_asset_v2_item_INVALID_trailing_comma.txt"));
  REQUIRE_FALSE(bad);
  CHECK(bad.err().message.find("not JSON") != std::string::npos);
}

TEST_CASE("alpaca malformed REST bodies are refused with a reason") {
  CHECK_FALSE(mi::alpaca::parse_trades_page("nope", 0));
  CHECK_FALSE(mi::alpaca::parse_trades_page(R"({"next_page_token":null})", 0));
  CHECK_FALSE(mi::alpaca::parse_trades_page(R"({"trades":[{"t":"x"}],"symbol":"AAPL"})", 0));
  CHECK_FALSE(mi::alpaca::parse_trades_page(R"({"trades":[],"next_page_token":7})", 0));
  CHECK_FALSE(mi::alpaca::parse_bars_page(R"({"bars":[{"o":1}],"symbol":"AAPL"})", false));
  CHECK_FALSE(mi::alpaca::parse_assets(R"([{"exchange":"NYSE"}])"));
}

TEST_CASE("alpaca trades request: time range, limit and an escaped page token") {
  CHECK(mi::alpaca::trades_target("AAPL", 1646802002183000000, 1646802016910000000, 10000) ==
        "/v2/stocks/AAPL/trades?start=2022-03-09T05:00:02.183Z&end=2022-03-09T05:00:16.91Z&limit=10000");
  CHECK(mi::alpaca::trades_target("BRK.B", 0, 1000000000, 50000, "QUF+/w==") ==
        "/v2/stocks/BRK.B/"
        "trades?start=1970-01-01T00:00:00Z&end=1970-01-01T00:00:01Z&limit=10000&page_token=QUF%2B%2Fw%3D%3D");
}
