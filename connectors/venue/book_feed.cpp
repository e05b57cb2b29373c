#include "connectors/venue/book_feed.hpp"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace mi::venue {

using mi::book::status;
using mi::book::update_kind;
using mi::book::wire_level;

std::string_view to_string(resync_reason r) {
  switch (r) {
  case resync_reason::sequence_gap:
    return "sequence_gap";
  case resync_reason::checksum:
    return "checksum";
  case resync_reason::stale_snapshot:
    return "stale_snapshot";
  case resync_reason::malformed:
    return "malformed";
  case resync_reason::reconnect:
    return "reconnect";
  }
  return "malformed";
}

resync_reason classify_resync(std::string_view text) {
  if (text.find("checksum mismatch") != std::string_view::npos)
    return resync_reason::checksum;
  if (text.find("sequence gap") != std::string_view::npos)
    return resync_reason::sequence_gap;
  if (text.find("lastUpdateId") != std::string_view::npos)
    return resync_reason::stale_snapshot; // Binance: the snapshot is older than the first buffered event
  if (text.find("new connection") != std::string_view::npos)
    return resync_reason::reconnect;
  return resync_reason::malformed;
}

std::vector<wire_level> level_changes(const std::vector<wire_level>& before, const std::vector<wire_level>& after) {
  std::vector<wire_level> out;
  std::unordered_map<std::string_view, std::string_view> old;
  old.reserve(before.size());
  for (const auto& l : before)
    old.emplace(l.price, l.qty);
  for (const auto& l : after) {
    auto it = old.find(l.price);
    if (it == old.end() || it->second != l.qty)
      out.push_back(l);
    if (it != old.end())
      old.erase(it);
  }
  for (const auto& l : before) // keep the wire order: the removed levels in the order they were held
    if (old.count(l.price) != 0)
      out.push_back({l.price, "0"});
  return out;
}

book_feed::book_feed(std::string exchange, const venue& v, const std::vector<subscription>& subs, book_feed_options o,
                     std::uint64_t session)
    : exchange_(std::move(exchange)), venue_(&v), o_(o), session_(session) {
  for (const auto& sub : subs) {
    state s;
    s.symbol = sub.symbol;
    s.codec = v.make_live_book_codec(o_.depth);
    by_key_[v.book_key(sub)] = sub.symbol;
    books_.emplace(sub.symbol, std::move(s));
  }
}

const std::string* book_feed::symbol_of_key(std::string_view key) const {
  auto it = by_key_.find(std::string(key));
  return it == by_key_.end() ? nullptr : &it->second;
}

mi::book::book_update book_feed::header(state& s, update_kind k) const {
  mi::book::book_update b;
  b.exchange = exchange_;
  b.symbol = s.symbol;
  b.session = session_;
  b.sequence = ++s.seq;
  b.kind = k;
  b.ts_ns = s.ts_ns;
  b.recv_ns = s.recv_ns;
  return b;
}

void book_feed::emit_bbo(state& s, book_events& out, bool force) {
  mi::book::bbo b;
  b.exchange = exchange_;
  b.symbol = s.symbol;
  b.session = session_;
  b.sequence = s.seq;
  b.valid = s.published_valid;
  if (s.published_valid) {
    if (!s.bids.empty())
      b.bid = s.bids.front();
    if (!s.asks.empty())
      b.ask = s.asks.front();
  }
  b.ts_ns = s.ts_ns;
  b.recv_ns = s.recv_ns;
  if (!force && b.valid == s.last_bbo.valid && b.bid == s.last_bbo.bid && b.ask == s.last_bbo.ask)
    return;
  s.last_bbo = b;
  out.bbos.push_back(std::move(b));
}

void book_feed::publish_state(state& s, std::int64_t now_ns, book_events& out, bool force_snapshot) {
  const auto& book = s.codec->book();
  scratch_bids_ = mi::book::top_levels(book, mi::book::side::bid, o_.depth);
  scratch_asks_ = mi::book::top_levels(book, mi::book::side::ask, o_.depth);
  const bool due = now_ns - s.last_snapshot_ns >= o_.snapshot_interval_ns;
  if (!s.published_valid || force_snapshot || due) {
    auto b = header(s, update_kind::snapshot);
    b.valid = true;
    b.bids = scratch_bids_;
    b.asks = scratch_asks_;
    s.bids.swap(scratch_bids_);
    s.asks.swap(scratch_asks_);
    s.published_valid = true;
    s.last_snapshot_ns = now_ns;
    out.books.push_back(std::move(b));
    emit_bbo(s, out, true);
    return;
  }
  auto bid_changes = level_changes(s.bids, scratch_bids_);
  auto ask_changes = level_changes(s.asks, scratch_asks_);
  if (bid_changes.empty() && ask_changes.empty())
    return; // the change was beyond the published depth
  auto b = header(s, update_kind::delta);
  b.valid = true;
  b.bids = std::move(bid_changes);
  b.asks = std::move(ask_changes);
  s.bids.swap(scratch_bids_);
  s.asks.swap(scratch_asks_);
  out.books.push_back(std::move(b));
  emit_bbo(s, out, false);
}

void book_feed::publish_invalid(state& s, book_events& out) {
  if (!s.published_valid)
    return;
  s.published_valid = false;
  s.bids.clear();
  s.asks.clear();
  auto b = header(s, update_kind::snapshot);
  b.valid = false;
  out.books.push_back(std::move(b));
  emit_bbo(s, out, true);
}

void book_feed::want_snapshot(state& s, std::int64_t now_ns, book_events& out) {
  if (s.snapshot_asked_ns && now_ns - *s.snapshot_asked_ns < o_.snapshot_retry_ns)
    return;
  s.snapshot_asked_ns = now_ns;
  out.snapshots_wanted.push_back(s.symbol);
}

void book_feed::on_frame(const std::string& symbol, std::string_view frame, std::int64_t ts_ns, std::int64_t recv_ns,
                         std::int64_t now_ns, book_events& out) {
  auto it = books_.find(symbol);
  if (it == books_.end())
    return;
  state& s = it->second;
  const auto r = s.codec->on_frame(frame);
  switch (r.what) {
  case status::snapshot:
  case status::applied:
    if (!s.codec->book().valid())
      break;
    if (r.what == status::snapshot)
      s.snapshot_asked_ns.reset();
    s.ts_ns = ts_ns;
    s.recv_ns = recv_ns;
    publish_state(s, now_ns, out, false);
    break;
  case status::resync:
    out.resyncs.push_back({symbol, classify_resync(r.reason), r.reason});
    publish_invalid(s, out);
    s.snapshot_asked_ns.reset(); // a new break: ask at once
    want_snapshot(s, now_ns, out);
    break;
  case status::awaiting_snapshot:
    publish_invalid(s, out);
    want_snapshot(s, now_ns, out);
    break;
  case status::dropped_stale:
  case status::ignored:
    break;
  }
}

void book_feed::on_rest_snapshot(const std::string& symbol, std::string_view body, std::int64_t now_ns,
                                 book_events& out) {
  on_frame(symbol, body, 0, now_ns, now_ns, out);
  auto it = books_.find(symbol);
  if (it == books_.end() || it->second.codec->book().valid())
    return;
  it->second.snapshot_asked_ns.reset(); // stale: ask again now (the REST client paces the requests)
  if (std::find(out.snapshots_wanted.begin(), out.snapshots_wanted.end(), symbol) == out.snapshots_wanted.end())
    want_snapshot(it->second, now_ns, out);
}

void book_feed::snapshot_failed(const std::string& symbol) {
  if (auto it = books_.find(symbol); it != books_.end())
    it->second.snapshot_asked_ns.reset();
}

void book_feed::tick(std::int64_t now_ns, book_events& out) {
  for (auto& [symbol, s] : books_) {
    if (s.codec->book().valid()) {
      if (s.published_valid && now_ns - s.last_snapshot_ns >= o_.snapshot_interval_ns)
        publish_state(s, now_ns, out, true);
    } else if (s.snapshot_asked_ns && now_ns - *s.snapshot_asked_ns >= o_.snapshot_retry_ns) {
      want_snapshot(s, now_ns, out);
    }
  }
}

void book_feed::resync_all(std::string_view detail, std::int64_t now_ns, book_events& out) {
  for (auto& [symbol, s] : books_) {
    if (!s.codec->book().valid())
      continue;
    out.resyncs.push_back({symbol, resync_reason::sequence_gap, std::string(detail)});
    publish_invalid(s, out);
    s.codec = venue_->make_live_book_codec(o_.depth);
    s.snapshot_asked_ns.reset(); // a new break: ask at once
    want_snapshot(s, now_ns, out);
  }
}

void book_feed::reset(std::int64_t now_ns, book_events& out) {
  (void)now_ns;
  for (auto& [symbol, s] : books_) {
    if (s.published_valid)
      out.resyncs.push_back({symbol, resync_reason::reconnect, "connection lost"});
    publish_invalid(s, out);
    s.codec = venue_->make_live_book_codec(o_.depth);
    s.snapshot_asked_ns.reset();
  }
}

const mi::book::book_codec* book_feed::codec(const std::string& symbol) const {
  auto it = books_.find(symbol);
  return it == books_.end() ? nullptr : it->second.codec.get();
}

std::uint64_t book_feed::sequence(const std::string& symbol) const {
  auto it = books_.find(symbol);
  return it == books_.end() ? 0 : it->second.seq;
}

} // namespace mi::venue
