#include "connectors/cn/eastmoney.hpp"

#include <simdjson.h>

#include "messages/util/text.hpp"

namespace mi::cn {
namespace {

mi::error bad(std::string what, errc code = errc::malformed_json) { return mi::error{"eastmoney: " + what, code}; }

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  while (true) {
    const auto p = s.find(sep);
    out.push_back(s.substr(0, p));
    if (p == std::string_view::npos)
      return out;
    s.remove_prefix(p + 1);
  }
}

/// The JSON inside `cb({...});`, or the body itself.
std::string_view strip_jsonp(std::string_view body) {
  body = mi::util::trim(body);
  if (body.empty() || body.front() == '{')
    return body;
  const auto open = body.find('(');
  const auto close = body.rfind(')');
  if (open == std::string_view::npos || close == std::string_view::npos || close < open)
    return body;
  return body.substr(open + 1, close - open - 1);
}

bool real_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-')
    return false;
  const auto y = mi::util::parse_digits(d.substr(0, 4)), m = mi::util::parse_digits(d.substr(5, 2)),
             dd = mi::util::parse_digits(d.substr(8, 2));
  return y && m && dd && *m >= 1 && *m <= 12 && *dd >= 1 && *dd <= 31;
}

} // namespace

std::string_view to_string(fq a) {
  switch (a) {
  case fq::none:
    return "none";
  case fq::forward:
    return "forward";
  case fq::backward:
    return "backward";
  }
  return "none";
}

mi::result<std::vector<daily_bar>> parse_eastmoney_klines(std::string_view body, fq adjustment) {
  const std::string_view json = strip_jsonp(body);
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto ec = parser.parse(padded).get(root))
    return bad(std::string("not JSON: ") + simdjson::error_message(ec));
  if (!root.is_object())
    return bad("not an object");
  std::int64_t rc = 0;
  if (root["rc"].get(rc) == simdjson::SUCCESS && rc != 0)
    return bad("rc " + std::to_string(rc), errc::bad_field);
  simdjson::dom::element data;
  if (root["data"].get(data) || data.is_null())
    return std::vector<daily_bar>{}; // no data: an empty or rate-limited answer
  if (!data.is_object())
    return bad("'data' is not an object");
  std::string_view code;
  std::int64_t market = -1;
  if (data["code"].get(code) || data["market"].get(market))
    return bad("'data' lacks code or market", errc::missing_field);
  std::string sym;
  std::string cal;
  const bool cn = market == 0 || market == 1;
  if (cn) {
    if (code.size() != 6 || code.find_first_not_of("0123456789") != std::string_view::npos)
      return bad("code '" + std::string(code) + "' is not six digits", errc::bad_field);
    symbol s{std::string(code), market == 1 ? exchange::sh : exchange::sz};
    sym = to_string(s);
    cal = market_of(s);
  } else {
    if (code.empty() || code.find_first_of(". *>\t\r\n") != std::string_view::npos)
      return bad("code '" + std::string(code) + "' is not a symbol", errc::bad_field);
    sym = code;
  }
  simdjson::dom::array klines;
  simdjson::dom::element kl;
  if (data["klines"].get(kl) || kl.is_null())
    return std::vector<daily_bar>{};
  if (kl.get(klines))
    return bad("'klines' is not an array");
  const mi::decimal lot = *mi::decimal::from_parts(cn ? 100 : 1, 0);
  std::vector<daily_bar> out;
  std::size_t i = 0;
  for (simdjson::dom::element e : klines) {
    std::string_view line;
    if (e.get(line))
      return bad("kline " + std::to_string(i) + " is not a string", errc::bad_field);
    const auto f = split(line, ',');
    if (f.size() < 7)
      return bad("kline " + std::to_string(i) + " has " + std::to_string(f.size()) + " fields, 7 needed",
                 errc::missing_field);
    daily_bar b;
    b.symbol = sym;
    b.market = cal;
    b.adjustment = adjustment;
    if (!real_date(f[0]))
      return bad("kline " + std::to_string(i) + " date '" + std::string(f[0]) + "'", errc::bad_timestamp);
    b.trading_day = std::string(f[0]);
    mi::decimal* targets[] = {&b.open, &b.close, &b.high, &b.low, &b.volume, &b.turnover};
    for (std::size_t k = 0; k < 6; ++k) {
      auto d = mi::decimal::parse(f[k + 1]);
      // Backward- and forward-adjusted prices may be negative on old bars (Eastmoney's qfq of a stock with large
      // dividends): accepted for prices, not for volume and amount.
      if (!d || (k >= 4 && d->signum() < 0))
        return bad("kline " + std::to_string(i) + " field " + std::to_string(k + 1) + " '" + std::string(f[k + 1]) +
                     "'",
                   errc::bad_number);
      *targets[k] = *d;
    }
    auto shares = b.volume.checked_mul(lot);
    if (!shares)
      return bad("kline " + std::to_string(i) + " volume overflows", errc::bad_number);
    b.volume = *shares;
    out.push_back(std::move(b));
    ++i;
  }
  return out;
}

std::string eastmoney_target(const symbol& s, fq adjustment, std::string_view beg, std::string_view end) {
  return "/api/qt/stock/kline/get?fields1=f1,f2,f3,f4,f5,f6&fields2=f51,f52,f53,f54,f55,f56,f57,f58,f59,f60,f61"
         "&ut=7eea3edcaed734bea9cbfc24409ed989&klt=101&fqt=" +
         std::to_string(static_cast<int>(adjustment)) + "&secid=" + eastmoney_secid(s) + "&beg=" + std::string(beg) +
         "&end=" + std::string(end);
}

} // namespace mi::cn
