#include <doctest/doctest.h>

#include <algorithm>
#include <set>

#include "messages/venue_registry.hpp"
#include "messages/polled_venues.hpp"

TEST_CASE("venue registry: each venue is named once, in lower case, as a legal NATS subject token") {
  std::set<std::string_view> seen;
  for (const mi::venue_info& v : mi::venues()) {
    CAPTURE(v.name);
    CHECK(seen.insert(v.name).second);
    REQUIRE_FALSE(v.name.empty());
    CHECK(std::all_of(v.name.begin(), v.name.end(),
                      [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }));
  }
  CHECK(seen.size() == mi::venues().size());
}

TEST_CASE("venue registry: the five exchanges of the public contract are crypto exchanges, binance the only default") {
  // The public contract (DESIGN.md, docs/api.md) names these five; a registry may hold more.
  for (std::string_view name : {"binance", "okx", "bybit", "coinbase", "kraken"}) {
    CAPTURE(name);
    const mi::venue_info* v = mi::find_venue(name);
    REQUIRE(v != nullptr);
    CHECK(v->kind == mi::venue_kind::crypto_exchange);
    CHECK(v->enabled_by_default == (name == "binance"));
  }
  CHECK(mi::venue_names_joined().rfind("binance, okx, bybit, coinbase, kraken", 0) == 0);
  CHECK(mi::find_venue("ftx") == nullptr);
  CHECK(mi::find_venue("Binance") == nullptr); // names are exact, lower case
  CHECK(mi::find_venue("") == nullptr);
}

TEST_CASE("venue registry: names round-trip through find_venue and venue_names") {
  const std::vector<std::string> names = mi::venue_names();
  REQUIRE(names.size() == mi::venues().size());
  for (std::size_t i = 0; i < names.size(); ++i) {
    const mi::venue_info* v = mi::find_venue(names[i]);
    REQUIRE(v != nullptr);
    CHECK(v == &mi::venues()[i]);
    CHECK(v->name == names[i]);
  }
}

TEST_CASE(
  "venue registry: every venue has real endpoints and at least one default symbol (BASE/QUOTE, equities a ticker)") {
  for (const mi::venue_info& v : mi::venues()) {
    CAPTURE(v.name);
    CHECK((v.ws_url.rfind("wss://", 0) == 0 || v.ws_url.rfind("ws://", 0) == 0));
    CHECK((v.rest_url.rfind("https://", 0) == 0 || v.rest_url.rfind("http://", 0) == 0));
    const std::vector<std::string> symbols = mi::default_symbols(v);
    REQUIRE_FALSE(symbols.empty());
    for (const std::string& s : symbols) {
      CAPTURE(s);
      if (v.kind == mi::venue_kind::equities_feed) { // a ticker alone: AAPL
        CHECK(s.find('/') == std::string::npos);
        CHECK(!s.empty());
        continue;
      }
      const auto slash = s.find('/');
      CHECK(slash != std::string::npos);
      CHECK(slash > 0);
      CHECK(slash + 1 < s.size());
    }
  }
  CHECK(mi::default_symbols(*mi::find_venue("coinbase")) == std::vector<std::string>{"BTC/USD", "ETH/USD"});
  CHECK(mi::find_venue("alpaca")->kind == mi::venue_kind::equities_feed);
  CHECK(mi::default_symbols(*mi::find_venue("alpaca")) == std::vector<std::string>{"AAPL", "MSFT"});
}

TEST_CASE("venue kinds: the three kinds round-trip through their names, anything else is refused") {
  for (auto k : {mi::venue_kind::crypto_exchange, mi::venue_kind::equities_feed, mi::venue_kind::document_source})
    CHECK(mi::parse_venue_kind(mi::to_string(k)) == k);
  CHECK(mi::to_string(mi::venue_kind::equities_feed) == "equities_feed");
  CHECK_FALSE(mi::parse_venue_kind("crypto").has_value());
  CHECK_FALSE(mi::parse_venue_kind("").has_value());
}

TEST_CASE("venue registry: cn is a polled equities venue, its suffixes name XSHG and XSHE, its tokens use '_'") {
  const auto* cn = mi::find_polled_venue("cn");
  REQUIRE(cn != nullptr);
  CHECK(cn->kind == mi::venue_kind::equities_feed);
  CHECK(cn->config_section == "equities.cn");
  CHECK(mi::find_venue("cn") == nullptr); // no exchanges.cn, no WebSocket adapter
  CHECK(mi::market_of_symbol(*cn, "600000.SH") == std::optional<std::string_view>("XSHG"));
  CHECK(mi::market_of_symbol(*cn, "000001.SZ") == std::optional<std::string_view>("XSHE"));
  CHECK_FALSE(mi::market_of_symbol(*cn, "430047.BJ").has_value()); // Beijing: not yet
  CHECK_FALSE(mi::market_of_symbol(*cn, "600000").has_value());
  CHECK_FALSE(mi::market_of_symbol(*cn, "600000.").has_value());
  CHECK(mi::subject_token("600000.SH") == "600000_SH");
  CHECK(mi::subject_token("BRK.B") == "BRK_B");
  CHECK(mi::data_venue_names_joined() == "binance, okx, bybit, coinbase, kraken, alpaca, cn");
  CHECK(mi::is_data_venue("cn"));
  CHECK(mi::is_data_venue("alpaca"));
  CHECK_FALSE(mi::is_data_venue("CN"));
  CHECK_FALSE(mi::is_data_venue("nyse"));
  CHECK(mi::find_polled_venue("alpaca") == nullptr);
}
