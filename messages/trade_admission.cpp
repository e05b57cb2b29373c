#include "messages/trade_admission.hpp"

#include "messages/util/text.hpp"

namespace mi {
namespace {

using i128 = decimal::mantissa_type;

// |x| < 10^digits, for x = m * 10^-scale: |m| < 10^(digits + scale).
bool below_pow10(const decimal& x, int digits) {
  const int k = digits + x.scale();
  if (k >= 39)
    return true; // every 128-bit mantissa is below 10^39
  i128 p = 1;
  for (int i = 0; i < k; ++i)
    p *= 10;
  const i128 m = x.mantissa();
  return (m < 0 ? -m : m) < p;
}

admission reject(reject_reason r, std::string detail) { return admission{r, std::move(detail)}; }

std::string seconds_text(i128 ns) { return std::to_string(static_cast<long long>(ns / 1'000'000'000)) + "s"; }

} // namespace

std::string_view to_string(reject_reason r) {
  switch (r) {
  case reject_reason::none:
    return "none";
  case reject_reason::unrepresentable:
    return "unrepresentable";
  case reject_reason::clock_skew:
    return "clock_skew";
  case reject_reason::too_old:
    return "too_old";
  case reject_reason::bad_trade_id:
    return "bad_trade_id";
  }
  return "none";
}

admission check_amounts(const trade& t) {
  using b = amount_bounds;
  const auto u = reject_reason::unrepresentable;
  if (t.price.signum() <= 0)
    return reject(u, "price " + t.price.to_string() + " is not > 0");
  if (t.quantity.signum() <= 0)
    return reject(u, "quantity " + t.quantity.to_string() + " is not > 0");
  if (t.quantity.scale() > b::max_quantity_fraction_digits)
    return reject(u, "quantity " + t.quantity.to_string() + " has " + std::to_string(t.quantity.scale()) +
                       " fraction digits (at most " + std::to_string(b::max_quantity_fraction_digits) + ")");
  if (t.price.scale() + t.quantity.scale() > b::max_fraction_digits)
    return reject(u, "price " + t.price.to_string() + " and quantity " + t.quantity.to_string() + " have " +
                       std::to_string(t.price.scale() + t.quantity.scale()) + " fraction digits together (at most " +
                       std::to_string(b::max_fraction_digits) + ")");
  if (!below_pow10(t.quantity, b::max_quantity_integer_digits))
    return reject(u, "quantity " + t.quantity.to_string() + " is not below 10^" +
                       std::to_string(b::max_quantity_integer_digits));
  auto notional = t.price.checked_mul(t.quantity);
  if (!notional || !below_pow10(*notional, b::max_notional_integer_digits))
    return reject(u, "price " + t.price.to_string() + " x quantity " + t.quantity.to_string() + " is not below 10^" +
                       std::to_string(b::max_notional_integer_digits));
  return {};
}

admission check_trade_id(const trade& t) {
  const auto bad = reject_reason::bad_trade_id;
  if (t.trade_id.empty())
    return reject(bad, "trade id is empty");
  if (t.trade_id.size() > max_trade_id_bytes)
    return reject(bad, "trade id has " + std::to_string(t.trade_id.size()) + " bytes (at most " +
                         std::to_string(max_trade_id_bytes) + ")");
  for (std::size_t i = 0; i < t.trade_id.size(); ++i)
    if (const char ch = t.trade_id[i]; util::is_ascii_control(ch)) {
      const auto c = static_cast<unsigned char>(ch);
      return reject(bad, std::string("trade id has the control character 0x") + util::hex_digit(c >> 4) +
                           util::hex_digit(c) + " at byte " + std::to_string(i));
    }
  return {};
}

admission admit_trade(const trade& t, const admission_limits& limits) {
  if (auto id = check_trade_id(t); !id.admitted())
    return id;
  auto a = check_amounts(t);
  if (!a.admitted() || t.recv_ns == 0)
    return a;
  // Differences in 128 bits: both times are untrusted 64-bit values.
  const i128 ahead = static_cast<i128>(t.ts_ns) - t.recv_ns;
  if (limits.max_clock_skew_ns > 0 && ahead > limits.max_clock_skew_ns)
    return reject(reject_reason::clock_skew, "trade time " + std::to_string(t.ts_ns) + " ns is " + seconds_text(ahead) +
                                               " after its receive time " + std::to_string(t.recv_ns) +
                                               " ns (max clock skew " + seconds_text(limits.max_clock_skew_ns) + ")");
  if (limits.max_age_ns > 0 && -ahead > limits.max_age_ns)
    return reject(reject_reason::too_old, "trade time " + std::to_string(t.ts_ns) + " ns is older than the raw " +
                                            "stream's retention (" + seconds_text(limits.max_age_ns) +
                                            ") at its receive time " + std::to_string(t.recv_ns) + " ns");
  return {};
}

} // namespace mi
