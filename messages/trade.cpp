#include "messages/trade.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "messages/kline.hpp"
#include "messages/util/text.hpp"

namespace mi {

std::string_view to_string(side s) {
  switch (s) {
  case side::buy:
    return "buy";
  case side::sell:
    return "sell";
  case side::unknown:
    break;
  }
  return "unknown";
}

std::string dedup_id(const trade& t) {
  std::string id;
  id.reserve(t.exchange.size() + t.symbol.size() + t.trade_id.size() + 2);
  id.append(t.exchange).append(":").append(t.symbol).append(":").append(t.trade_id);
  return id;
}

std::string raw_subject(std::string_view exchange, std::string_view symbol) {
  std::string s = "market.raw.";
  s.append(exchange).append(".").append(symbol);
  return s;
}

bool is_subject_token(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!ok)
      return false;
  }
  return true;
}

std::optional<std::int64_t> trade_id_number(std::string_view id) { return mi::util::parse_digits(id); }

void trade::set_id(std::int64_t id) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, id);
  trade_id.assign(digits, static_cast<std::size_t>(end - digits)); // reuses the string's buffer
  id_number = id >= 0 ? std::optional<std::int64_t>(id) : std::nullopt;
}

void trade::set_id(std::uint64_t id) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, id);
  trade_id.assign(digits, static_cast<std::size_t>(end - digits));
  id_number = id <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())
                ? std::optional<std::int64_t>(static_cast<std::int64_t>(id))
                : std::nullopt;
}

void trade::set_id(std::string id) {
  id_number = trade_id_number(id);
  trade_id = std::move(id);
}

bool operator==(const trade& a, const trade& b) {
  return a.exchange == b.exchange && a.symbol == b.symbol && a.base == b.base && a.quote == b.quote &&
         a.trade_id == b.trade_id && a.price == b.price && a.quantity == b.quantity && a.taker_side == b.taker_side &&
         a.ts_ns == b.ts_ns && a.recv_ns == b.recv_ns && a.amends == b.amends && a.canceled == b.canceled;
}

int compare_trade_ids(std::string_view a, std::string_view b) {
  auto numeric = [](std::string_view s) {
    if (s.empty())
      return false;
    for (char c : s)
      if (c < '0' || c > '9')
        return false;
    return true;
  };
  if (numeric(a) && numeric(b)) {
    auto strip = [](std::string_view s) {
      while (s.size() > 1 && s.front() == '0')
        s.remove_prefix(1);
      return s;
    };
    a = strip(a);
    b = strip(b);
    if (a.size() != b.size())
      return a.size() < b.size() ? -1 : 1;
  }
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

void sort_oldest_first(std::vector<trade>& trades) {
  auto older = [](const trade& x, const trade& y) {
    if (x.ts_ns != y.ts_ns)
      return x.ts_ns < y.ts_ns;
    return compare_trade_ids(x.trade_id, y.trade_id) < 0;
  };
  // Frames come oldest first (most exchanges) or newest first (Coinbase): check before sorting.
  // Strictly newest first has no equal neighbours, so reversing is what a stable sort gives.
  bool ascending = true, strictly_descending = true;
  for (std::size_t i = 1; i < trades.size() && (ascending || strictly_descending); ++i) {
    if (older(trades[i], trades[i - 1]))
      ascending = false;
    if (!older(trades[i], trades[i - 1]))
      strictly_descending = false;
  }
  if (ascending)
    return;
  if (strictly_descending) {
    std::reverse(trades.begin(), trades.end());
    return;
  }
  std::stable_sort(trades.begin(), trades.end(), older);
}

std::string kline_subject(const kline& k) {
  std::string s = "market.kline.";
  s.append(k.exchange).append(".").append(k.symbol).append(".").append(k.interval);
  return s;
}

std::string partial_subject(const kline& k) {
  std::string s = "market.partial.";
  s.append(k.exchange).append(".").append(k.symbol).append(".").append(k.interval);
  return s;
}

std::string dedup_id(const kline& k) {
  std::string id = k.exchange;
  id.append(":").append(k.symbol).append(":").append(k.interval).append(":");
  id.append(std::to_string(k.open_time_ms)).append(":").append(std::to_string(k.revision));
  return id;
}

} // namespace mi
