#include "simulator/market.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "connectors/json_text.hpp"
#include "messages/venue_registry.hpp"

namespace mi::sim {

market::market(std::string exchange, const std::vector<std::string>& symbols, const std::vector<std::string>& rejected,
               std::size_t history_limit)
    : exchange_(std::move(exchange)), limit_(std::max<std::size_t>(history_limit, 1)) {
  for (const auto& r : rejected) {
    std::string up;
    for (char c : r)
      up += connectors::text::to_upper(c);
    rejected_.insert(up);
  }
  binance::instruments known;
  const venue_info* venue = find_venue(exchange_);
  const bool equities = venue != nullptr && venue->kind == venue_kind::equities_feed;
  for (const auto& sym : symbols) {
    // Equities feeds: the ticker alone is the symbol (AAPL, BRK_B), quoted in USD.
    auto meta = equities ? std::optional<instrument>() : known.resolve(sym);
    if (equities && !sym.empty() &&
        std::all_of(sym.begin(), sym.end(), [](char c) { return connectors::text::is_upper_alnum(c) || c == '_'; }))
      meta = instrument{sym, sym, "USD", true};
    if (!meta) { // fiat quotes of Coinbase and Kraken that Binance spot does not list
      for (std::string_view q : {"USD", "EUR", "GBP", "CAD", "CHF", "JPY", "AUD"})
        if (sym.size() > q.size() && sym.ends_with(q) &&
            std::all_of(sym.begin(), sym.end(), connectors::text::is_upper_alnum)) {
          meta = instrument{sym, sym.substr(0, sym.size() - q.size()), std::string(q), true};
          break;
        }
    }
    if (!meta)
      throw std::runtime_error("unknown symbol '" + sym + "' (expected e.g. BTCUSDT)");
    configured_.push_back(*meta);
    if (!rejected_.count(meta->symbol))
      listed_.push_back(*meta);
    histories_[meta->symbol];
  }
}

const instrument* market::find(std::string_view symbol) const {
  for (const auto& i : listed_)
    if (i.symbol == symbol)
      return &i;
  return nullptr;
}

void market::record(const mi::trade& t) {
  auto it = histories_.find(t.symbol);
  if (it == histories_.end())
    return;
  std::uint64_t id = 0;
  const auto* b = t.trade_id.data();
  const auto [p, ec] = std::from_chars(b, b + t.trade_id.size(), id);
  const bool numeric = ec == std::errc() && p == b + t.trade_id.size() && !t.trade_id.empty();
  if (!numeric)
    id = 0;
  std::string kept = numeric && std::to_string(id) == t.trade_id ? std::string() : t.trade_id;
  it->second.push_back({id, std::move(kept), t.price, t.quantity, t.taker_side, t.ts_ns});
  if (it->second.size() > limit_)
    it->second.pop_front();
}

const market::history* market::history_of(std::string_view symbol) const {
  auto it = histories_.find(symbol);
  return it == histories_.end() ? nullptr : &it->second;
}

mi::trade market::to_trade(const instrument& meta, const entry& e) const {
  mi::trade t;
  t.exchange = exchange_;
  t.symbol = meta.symbol;
  t.base = meta.base;
  t.quote = meta.quote;
  t.trade_id = e.trade_id.empty() ? std::to_string(e.id) : e.trade_id;
  t.price = e.price;
  t.quantity = e.quantity;
  t.taker_side = e.taker_side;
  t.ts_ns = e.ts_ns;
  return t;
}

std::vector<mi::trade> market::range(std::string_view symbol, history::const_iterator first,
                                     history::const_iterator last) const {
  std::vector<mi::trade> out;
  const instrument* meta = nullptr;
  for (const auto& i : configured_)
    if (i.symbol == symbol)
      meta = &i;
  if (!meta)
    return out;
  out.reserve(static_cast<std::size_t>(last - first));
  for (auto it = first; it != last; ++it)
    out.push_back(to_trade(*meta, *it));
  return out;
}

std::vector<mi::trade> market::from_id(std::string_view symbol, std::uint64_t from_id, std::size_t limit) const {
  const auto* h = history_of(symbol);
  if (!h)
    return {};
  auto first =
    std::lower_bound(h->begin(), h->end(), from_id, [](const entry& e, std::uint64_t v) { return e.id < v; });
  auto last =
    first + static_cast<std::ptrdiff_t>(std::min<std::size_t>(limit, static_cast<std::size_t>(h->end() - first)));
  return range(symbol, first, last);
}

std::vector<mi::trade> market::before_id(std::string_view symbol, std::uint64_t before_id, std::size_t limit) const {
  const auto* h = history_of(symbol);
  if (!h)
    return {};
  auto last =
    std::lower_bound(h->begin(), h->end(), before_id, [](const entry& e, std::uint64_t v) { return e.id < v; });
  auto first =
    last - static_cast<std::ptrdiff_t>(std::min<std::size_t>(limit, static_cast<std::size_t>(last - h->begin())));
  return range(symbol, first, last);
}

std::vector<mi::trade> market::newest(std::string_view symbol, std::size_t limit) const {
  const auto* h = history_of(symbol);
  if (!h)
    return {};
  return range(symbol, h->end() - static_cast<std::ptrdiff_t>(std::min(limit, h->size())), h->end());
}

std::vector<mi::trade> market::since_ns(std::string_view symbol, std::int64_t since, std::size_t limit) const {
  const auto* h = history_of(symbol);
  if (!h)
    return {};
  auto first =
    std::lower_bound(h->begin(), h->end(), since, [](const entry& e, std::int64_t v) { return e.ts_ns < v; });
  auto last =
    first + static_cast<std::ptrdiff_t>(std::min<std::size_t>(limit, static_cast<std::size_t>(h->end() - first)));
  return range(symbol, first, last);
}

std::size_t market::history_size(std::string_view symbol) const {
  const auto* h = history_of(symbol);
  return h ? h->size() : 0;
}

sim_book* market::book(std::string_view symbol) {
  if (auto it = books_.find(symbol); it != books_.end())
    return &it->second;
  for (std::size_t i = 0; i < listed_.size(); ++i)
    if (listed_[i].symbol == symbol)
      return &books_
                .emplace(std::string(symbol), sim_book(book_seed_ + i, 10'000 + 1'000 * static_cast<std::int64_t>(i)))
                .first->second;
  return nullptr;
}

const sim_book* market::find_book(std::string_view symbol) const {
  auto it = books_.find(symbol);
  return it == books_.end() ? nullptr : &it->second;
}

bool market::take_stale_book_snapshot() const { return ++book_snapshots_ == stale_nth_ && stale_nth_ > 0; }

} // namespace mi::sim
