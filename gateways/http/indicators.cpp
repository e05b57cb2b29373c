#include "gateways/http/indicators.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace mi::gw::ind {
namespace {

mi::error overflow(const char* what) { return mi::error{std::string(what) + ": arithmetic overflow"}; }

mi::decimal integer(std::int64_t n) { return *mi::decimal::from_parts(n, 0); }

std::string double_text(double v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  return ec == std::errc{} ? std::string(buf, end) : std::string("NaN");
}

} // namespace

mi::result<std::vector<point>> sma(const std::vector<std::int64_t>& open_times, const std::vector<mi::decimal>& closes,
                                   int period) {
  if (period < 1)
    return mi::error{"period must be >= 1"};
  std::vector<point> out;
  const auto n = static_cast<std::size_t>(period);
  const mi::decimal divisor = integer(period);
  mi::decimal sum;
  for (std::size_t i = 0; i < closes.size(); ++i) {
    auto s = sum.checked_add(closes[i]);
    if (!s)
      return overflow("sma");
    sum = *s;
    if (i >= n) {
      auto negated = closes[i - n].checked_mul(integer(-1));
      auto t = negated ? sum.checked_add(*negated) : std::nullopt;
      if (!t)
        return overflow("sma");
      sum = *t;
    }
    if (i + 1 >= n) {
      auto avg = sum.checked_div(divisor, fraction_digits);
      if (!avg)
        return overflow("sma");
      out.push_back({open_times[i], avg->to_string()});
    }
  }
  return out;
}

mi::result<std::vector<point>> ema(const std::vector<std::int64_t>& open_times, const std::vector<mi::decimal>& closes,
                                   int period) {
  if (period < 1)
    return mi::error{"period must be >= 1"};
  std::vector<point> out;
  const auto n = static_cast<std::size_t>(period);
  if (closes.size() < n)
    return out;
  mi::decimal sum;
  for (std::size_t i = 0; i < n; ++i) {
    auto s = sum.checked_add(closes[i]);
    if (!s)
      return overflow("ema");
    sum = *s;
  }
  auto seed = sum.checked_div(integer(period), fraction_digits);
  if (!seed)
    return overflow("ema");
  mi::decimal value = *seed;
  out.push_back({open_times[n - 1], value.to_string()});
  const mi::decimal two = integer(2);
  const mi::decimal keep = integer(period - 1);
  const mi::decimal divisor = integer(period + 1);
  for (std::size_t i = n; i < closes.size(); ++i) {
    auto a = closes[i].checked_mul(two);
    auto b = value.checked_mul(keep);
    auto num = a && b ? a->checked_add(*b) : std::nullopt;
    auto next = num ? num->checked_div(divisor, fraction_digits) : std::nullopt;
    if (!next)
      return overflow("ema");
    value = *next;
    out.push_back({open_times[i], value.to_string()});
  }
  return out;
}

mi::result<std::vector<point>> realized_volatility(const std::vector<std::int64_t>& open_times,
                                                   const std::vector<mi::decimal>& closes, int period) {
  if (period < 1)
    return mi::error{"period must be >= 1"};
  std::vector<double> logs;
  logs.reserve(closes.size());
  for (const auto& c : closes) {
    if (c.signum() <= 0)
      return mi::error{"realized volatility needs positive closes, got " + c.to_string()};
    logs.push_back(std::log(std::strtod(c.to_string().c_str(), nullptr)));
  }
  std::vector<point> out;
  const auto n = static_cast<std::size_t>(period);
  // Summed afresh for each point (period <= 1000): no drift from a running subtraction.
  for (std::size_t i = n; i < logs.size(); ++i) {
    double sum = 0;
    for (std::size_t j = i + 1 - n; j <= i; ++j) {
      const double r = logs[j] - logs[j - 1];
      sum += r * r;
    }
    out.push_back({open_times[i], double_text(std::sqrt(sum))});
  }
  return out;
}

} // namespace mi::gw::ind
