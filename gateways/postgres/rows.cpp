#include "gateways/postgres/rows.hpp"

#include <array>
#include <string>
#include <string_view>
#include <utility>

namespace mi::gw::detail {
namespace {

mi::result<mi::side> parse_side(std::string_view s) {
  if (s == "buy")
    return mi::side::buy;
  if (s == "sell")
    return mi::side::sell;
  if (s == "unknown")
    return mi::side::unknown;
  return mi::error{"column side: unexpected value '" + std::string(s) + "'"};
}

} // namespace

mi::result<mi::decimal> numeric(const pqxx::field& f) {
  auto d = mi::decimal::parse(f.c_str());
  if (!d)
    return mi::error{std::string("column ") + f.name() + ": cannot read numeric '" + f.c_str() +
                     "' exactly (more than 38 significant digits?)"};
  return *d;
}

mi::result<mi::trade> trade_row(const pqxx::row& r) {
  mi::trade t;
  t.exchange = r[0].as<std::string>();
  t.symbol = r[1].as<std::string>();
  t.base = r[2].as<std::string>();
  t.quote = r[3].as<std::string>();
  t.set_id(r[4].as<std::string>());
  auto price = numeric(r[5]);
  if (!price)
    return price.err();
  auto quantity = numeric(r[6]);
  if (!quantity)
    return quantity.err();
  auto side = parse_side(r[7].c_str()); // the table's CHECK allows these three only
  if (!side)
    return side.err();
  t.price = *price;
  t.quantity = *quantity;
  t.taker_side = *side;
  t.ts_ns = r[8].as<std::int64_t>();
  t.recv_ns = r[9].as<std::int64_t>();
  return t;
}

mi::result<mi::kline> kline_row(const pqxx::row& r) {
  mi::kline k;
  k.exchange = r[0].as<std::string>();
  k.symbol = r[1].as<std::string>();
  k.interval = r[2].as<std::string>();
  k.open_time_ms = r[3].as<std::int64_t>();
  k.close_time_ms = r[4].as<std::int64_t>();
  std::array<std::pair<int, mi::decimal*>, 9> decimals{{{5, &k.open},
                                                        {6, &k.high},
                                                        {7, &k.low},
                                                        {8, &k.close},
                                                        {9, &k.volume},
                                                        {10, &k.quote_volume},
                                                        {12, &k.taker_buy_volume},
                                                        {13, &k.taker_buy_quote_volume},
                                                        {14, &k.vwap}}};
  for (auto [col, dst] : decimals) {
    auto d = numeric(r[col]);
    if (!d)
      return d.err();
    *dst = *d;
  }
  k.trade_count = r[11].as<std::uint64_t>();
  k.first_trade_id = r[15].as<std::string>();
  k.last_trade_id = r[16].as<std::string>();
  k.revision = r[17].as<std::uint32_t>();
  k.is_final = true; // only final candles are stored
  return k;
}

} // namespace mi::gw::detail
