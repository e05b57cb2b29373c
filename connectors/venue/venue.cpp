#include "connectors/venue/venue.hpp"

#include <algorithm>

#include "connectors/venue/detail.hpp"

namespace mi::venue {

namespace detail {

page_filter filter_to_gap(std::vector<mi::trade> page, const gap& g) {
  page_filter out;
  out.returned = page.size();
  for (mi::trade& t : page) {
    const std::optional<std::int64_t> id = t.id_number;
    if (!id)
      continue; // not from a sequential venue: cannot be placed in the gap
    if (!out.min_id || *id < *out.min_id)
      out.min_id = id;
    if (!out.max_id || *id > *out.max_id)
      out.max_id = id;
    if (*id >= g.first_id && *id <= g.last_id)
      out.kept.push_back(std::move(t));
  }
  return out;
}

std::string page_memory::key(const std::string& symbol, const gap& g) {
  return symbol + ":" + std::to_string(g.first_id) + ":" + std::to_string(g.last_id);
}

void page_memory::start(const std::string& symbol, const gap& g, std::int64_t first_cursor) {
  if (by_gap_.size() >= 1000)
    by_gap_.clear(); // abandoned backfills; at worst a few trades handed out twice
  by_gap_[key(symbol, g)] = state{std::nullopt, first_cursor};
}

std::pair<std::vector<mi::trade>, bool> page_memory::on_page(const std::string& symbol, const gap& g,
                                                             std::vector<mi::trade> kept,
                                                             std::optional<std::int64_t> next_cursor) {
  const std::string k = key(symbol, g);
  state& st = by_gap_[k];
  const bool forward = direction_ == direction::forward;
  std::vector<mi::trade> fresh;
  fresh.reserve(kept.size());
  for (mi::trade& t : kept) {
    const std::int64_t id = *t.id_number; // kept trades all have numeric ids (filter_to_gap)
    if (st.edge && (forward ? id <= *st.edge : id >= *st.edge))
      continue;
    fresh.push_back(std::move(t));
  }
  for (const mi::trade& t : fresh) {
    const std::int64_t id = *t.id_number;
    if (!st.edge || (forward ? id > *st.edge : id < *st.edge))
      st.edge = id;
  }
  const bool moves = next_cursor && (!st.cursor || (forward ? *next_cursor > *st.cursor : *next_cursor < *st.cursor));
  if (moves)
    st.cursor = next_cursor;
  else
    by_gap_.erase(k);
  return {std::move(fresh), moves};
}

mi::error rest_error(std::string_view exchange, std::string_view what, const mi::error& e) {
  return mi::error{std::string(exchange) + " " + std::string(what) + ": " + e.message, e.code};
}

mi::error not_listed(std::string_view unified, std::string_view exchange, bool listed_but_halted) {
  return mi::error{std::string(unified) + (listed_but_halted ? ": listed by " : ": not listed by ") +
                   std::string(exchange) + (listed_but_halted ? " but not trading" : "")};
}

} // namespace detail

std::optional<std::int64_t> seed_scan_from(std::int64_t trade_ts_ns, std::int64_t stored_ns) {
  if (stored_ns - trade_ts_ns <= seed_live_lag_ns)
    return std::nullopt;
  return trade_ts_ns - seed_scan_margin_ns;
}

void gap_tracker::seed(const std::string& symbol, std::int64_t last_id, std::int64_t last_ts_ns) {
  auto it = last_.find(symbol);
  if (it != last_.end() && it->second.id >= last_id)
    return;
  last_[symbol] = last{last_id, last_ts_ns};
}

std::optional<gap> gap_tracker::on_trade(const std::string& symbol, std::int64_t id, std::int64_t ts_ns) {
  return on_trade(symbol, id, ts_ns, id);
}

std::optional<gap> gap_tracker::on_trade(const std::string& symbol, std::int64_t id, std::int64_t ts_ns,
                                         std::int64_t first_id) {
  if (first_id > id)
    first_id = id;
  auto it = last_.find(symbol);
  if (it == last_.end()) {
    last_.emplace(symbol, last{id, ts_ns});
    return std::nullopt;
  }
  if (id <= it->second.id)
    return std::nullopt; // a duplicate, or a backfilled trade
  std::optional<gap> out;
  if (first_id > it->second.id + 1)
    out = gap{it->second.id + 1, first_id - 1, it->second.ts_ns, ts_ns};
  it->second = last{id, ts_ns};
  return out;
}

bool deferred_gaps::hold(const std::string& symbol, const gap& g) {
  if (g.size() <= 0 || g.size() > max_held_ids)
    return false;
  held_.push_back(held{symbol, g, std::vector<bool>(static_cast<std::size_t>(g.size()), false)});
  return true;
}

void deferred_gaps::on_trade(const std::string& symbol, std::int64_t first_id, std::int64_t id) {
  for (held& h : held_) {
    if (h.symbol != symbol)
      continue;
    const std::int64_t from = std::max(first_id, h.g.first_id);
    const std::int64_t to = std::min(id, h.g.last_id);
    for (std::int64_t i = from; i <= to; ++i)
      h.got[static_cast<std::size_t>(i - h.g.first_id)] = true;
  }
}

std::vector<std::pair<std::string, gap>> deferred_gaps::release() {
  std::vector<std::pair<std::string, gap>> out;
  for (const held& h : held_) {
    const auto n = static_cast<std::int64_t>(h.got.size());
    for (std::int64_t i = 0; i < n;) {
      if (h.got[static_cast<std::size_t>(i)]) {
        ++i;
        continue;
      }
      std::int64_t k = i;
      while (k < n && !h.got[static_cast<std::size_t>(k)])
        ++k;
      out.emplace_back(h.symbol, gap{h.g.first_id + i, h.g.first_id + k - 1, h.g.after_ts_ns, h.g.before_ts_ns});
      i = k;
    }
  }
  held_.clear();
  return out;
}

std::optional<std::int64_t> gap_tracker::last_id(const std::string& symbol) const {
  auto it = last_.find(symbol);
  if (it == last_.end())
    return std::nullopt;
  return it->second.id;
}

} // namespace mi::venue
