#include "messages/venue_registry.hpp"
#include "messages/polled_venues.hpp"

#include <array>

namespace mi {
namespace {

// The registry: one line per venue. A new venue is one line here plus its folder (docs/architecture.md).
constexpr std::array registry{
  venue_info{"binance", venue_kind::crypto_exchange, true, "wss://stream.binance.com:9443/stream",
             "https://api.binance.com", "BTC/USDT ETH/USDT"},
  venue_info{"okx", venue_kind::crypto_exchange, false, "wss://ws.okx.com:8443/ws/v5/public", "https://www.okx.com",
             "BTC/USDT ETH/USDT"},
  venue_info{"bybit", venue_kind::crypto_exchange, false, "wss://stream.bybit.com/v5/public/spot",
             "https://api.bybit.com", "BTC/USDT ETH/USDT"},
  venue_info{"coinbase", venue_kind::crypto_exchange, false, "wss://advanced-trade-ws.coinbase.com",
             "https://api.exchange.coinbase.com", "BTC/USD ETH/USD"},
  venue_info{"kraken", venue_kind::crypto_exchange, false, "wss://ws.kraken.com/v2", "https://api.kraken.com",
             "BTC/USD ETH/USD"},
  venue_info{"alpaca", venue_kind::equities_feed, false, "wss://stream.data.alpaca.markets/v2/iex",
             "https://data.alpaca.markets", "AAPL MSFT", "XNYS"},
};

// The polled venues: one line each (their roles poll; config under config_section).
constexpr std::array polled_registry{
  polled_venue_info{"cn", venue_kind::equities_feed, "equities.cn", "600000.SH 000001.SZ", "SH=XSHG SZ=XSHE"},
};

// The perpetual-swap venues: one line each.
constexpr std::array derivatives_registry{
  derivatives_venue_info{"binance-usdm", "binance", "wss://fstream.binance.com/stream", "https://fapi.binance.com",
                         "BTC/USDT ETH/USDT"},
  derivatives_venue_info{"okx-swap", "okx", "wss://ws.okx.com:8443/ws/v5/public", "https://www.okx.com",
                         "BTC/USDT ETH/USDT"},
  derivatives_venue_info{"bybit-linear", "bybit", "wss://stream.bybit.com/v5/public/linear", "https://api.bybit.com",
                         "BTC/USDT ETH/USDT"},
};

constexpr std::array<std::string_view, 3> kind_names{"crypto_exchange", "equities_feed", "document_source"};

} // namespace

std::string_view to_string(venue_kind k) { return kind_names.at(static_cast<std::size_t>(k)); }

std::optional<venue_kind> parse_venue_kind(std::string_view s) {
  for (std::size_t i = 0; i < kind_names.size(); ++i)
    if (kind_names[i] == s)
      return static_cast<venue_kind>(i);
  return std::nullopt;
}

std::span<const venue_info> venues() { return registry; }

const venue_info* find_venue(std::string_view name) {
  for (const venue_info& v : registry)
    if (v.name == name)
      return &v;
  return nullptr;
}

std::vector<std::string> venue_names() {
  std::vector<std::string> out;
  for (const venue_info& v : registry)
    out.emplace_back(v.name);
  return out;
}

std::string venue_names_joined(std::string_view separator) {
  std::string out;
  for (const venue_info& v : registry) {
    if (!out.empty())
      out += separator;
    out += v.name;
  }
  return out;
}

std::vector<std::string> default_symbols(const venue_info& v) {
  std::vector<std::string> out;
  std::string_view s = v.symbols;
  while (!s.empty()) {
    const auto space = s.find(' ');
    if (space != 0)
      out.emplace_back(s.substr(0, space));
    if (space == std::string_view::npos)
      break;
    s.remove_prefix(space + 1);
  }
  return out;
}

std::span<const polled_venue_info> polled_venues() { return polled_registry; }

const polled_venue_info* find_polled_venue(std::string_view name) {
  for (const polled_venue_info& v : polled_registry)
    if (v.name == name)
      return &v;
  return nullptr;
}

std::optional<std::string_view> market_of_symbol(const polled_venue_info& v, std::string_view symbol) {
  const auto dot = symbol.rfind('.');
  if (dot == std::string_view::npos || dot + 1 == symbol.size())
    return std::nullopt;
  const auto suffix = symbol.substr(dot + 1);
  std::string_view m = v.markets; // "SH=XSHG SZ=XSHE"
  while (!m.empty()) {
    const auto space = m.find(' ');
    const auto pair = m.substr(0, space);
    if (const auto eq = pair.find('='); eq != std::string_view::npos && pair.substr(0, eq) == suffix)
      return pair.substr(eq + 1);
    if (space == std::string_view::npos)
      break;
    m.remove_prefix(space + 1);
  }
  return std::nullopt;
}

std::string subject_token(std::string_view symbol) {
  std::string out(symbol);
  for (char& c : out)
    if (c == '.')
      c = '_';
  return out;
}

std::vector<std::string> data_venue_names() {
  auto out = venue_names();
  for (const polled_venue_info& v : polled_registry)
    out.emplace_back(v.name);
  return out;
}

std::string data_venue_names_joined(std::string_view separator) {
  std::string out;
  for (const auto& n : data_venue_names()) {
    if (!out.empty())
      out += separator;
    out += n;
  }
  return out;
}

bool is_data_venue(std::string_view name) { return find_venue(name) != nullptr || find_polled_venue(name) != nullptr; }

std::span<const derivatives_venue_info> derivatives_venues() { return derivatives_registry; }

const derivatives_venue_info* find_derivatives_venue(std::string_view name) {
  for (const derivatives_venue_info& v : derivatives_registry)
    if (v.name == name)
      return &v;
  return nullptr;
}

} // namespace mi
