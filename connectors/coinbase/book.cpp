#include "connectors/coinbase/book.hpp"

#include <string>

#include "connectors/book_json.hpp"

namespace mi::coinbase {

namespace bj = mi::connectors::book_json;
namespace od = simdjson::ondemand;
using mi::book::frame_result;
using mi::book::side;
using mi::book::status;

namespace {

/// What a frame holds.
struct parsed {
  std::optional<std::string_view> type;    ///< legacy: "snapshot", "l2update", ...
  std::optional<std::string_view> channel; ///< Advanced Trade: "l2_data", "heartbeats", ...
  std::optional<std::int64_t> seq;         ///< Advanced Trade sequence_num
  bool has_snapshot_event = false;         ///< Advanced Trade: an event of type snapshot
  bool has_update_event = false;
  std::size_t snapshot_from = 0; ///< the first change of the last snapshot event
};

/// Legacy l2update "changes": [["buy"|"sell", price, size], ...].
bool read_legacy_changes(od::value v, std::vector<bj::change>& out) {
  od::array items;
  if (v.get_array().get(items))
    return false;
  for (auto item : items) {
    od::array triple;
    if (item.get_array().get(triple))
      return false;
    bj::change c{side::bid, {}, {}};
    int i = 0;
    for (auto e : triple) {
      std::string_view s;
      if (e.get_string().get(s))
        return false;
      if (i == 0) {
        if (s != "buy" && s != "sell")
          return false;
        c.s = s == "buy" ? side::bid : side::ask;
      } else if (i == 1) {
        c.price = s;
      } else if (i == 2) {
        c.qty = s;
      }
      ++i;
    }
    if (i != 3)
      return false;
    out.push_back(c);
  }
  return true;
}

/// Advanced Trade "events": [{"type":"snapshot"|"update","product_id":...,"updates":[{"side":"bid"|"offer",
/// "price_level":..,"new_quantity":..}]}].
std::string read_events(od::value v, parsed& p, std::vector<bj::change>& out) {
  od::array events;
  if (v.get_array().get(events))
    return "field 'events' must be an array";
  for (auto ev : events) {
    od::object obj;
    if (ev.get_object().get(obj))
      return "an event must be an object";
    for (auto field : obj) {
      std::string_view key;
      od::value fv;
      if (field.unescaped_key().get(key) || field.value().get(fv))
        return "malformed event";
      if (key == "type") {
        std::string_view t;
        if (fv.get_string().get(t))
          return "field 'type' must be a string";
        if (t == "snapshot") {
          p.has_snapshot_event = true;
          p.snapshot_from = out.size();
        } else if (t == "update") {
          p.has_update_event = true;
        } else {
          return "unknown event type '" + std::string(t) + "'";
        }
      } else if (key == "updates") {
        od::array updates;
        if (fv.get_array().get(updates))
          return "field 'updates' must be an array";
        for (auto u : updates) {
          od::object uo;
          if (u.get_object().get(uo))
            return "an update must be an object";
          bj::change c{side::bid, {}, {}};
          bool has_side = false;
          for (auto uf : uo) {
            std::string_view uk;
            std::string_view s;
            if (uf.unescaped_key().get(uk))
              return "malformed update";
            if (uk != "side" && uk != "price_level" && uk != "new_quantity")
              continue;
            if (uf.value().get_string().get(s))
              return "field '" + std::string(uk) + "' must be a string";
            if (uk == "side") {
              if (s != "bid" && s != "offer")
                return "side must be bid or offer";
              c.s = s == "bid" ? side::bid : side::ask;
              has_side = true;
            } else if (uk == "price_level") {
              c.price = s;
            } else {
              c.qty = s;
            }
          }
          if (!has_side || c.price.empty() || c.qty.empty())
            return "an update needs side, price_level and new_quantity";
          out.push_back(c);
        }
      }
    }
  }
  return {};
}

} // namespace

book_sync::book_sync() : reader_(std::make_unique<bj::reader>()) {}
book_sync::~book_sync() = default;

frame_result book_sync::on_frame(std::string_view frame) {
  changes_.clear();
  if (!bj::wrapped_in(frame, '{', '}'))
    return resync("malformed frame: not a JSON object");
  od::document doc;
  od::object root;
  if (auto ec = reader_->iterate(frame).get(doc); ec)
    return resync("malformed frame: " + mi::connectors::json::not_json(ec));
  if (doc.get_object().get(root))
    return resync("malformed frame: not a JSON object");
  parsed p;
  std::string why;
  for (auto field : root) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) {
      why = "malformed object";
      break;
    }
    std::string_view s;
    if (key == "type" || key == "channel") {
      if (v.get_string().get(s)) {
        why = "field '" + std::string(key) + "' must be a string";
        break;
      }
      (key == "type" ? p.type : p.channel) = s;
    } else if (key == "sequence_num") {
      std::int64_t x = 0;
      if (!bj::read_int(v, x)) {
        why = "field 'sequence_num' must be an integer";
        break;
      }
      p.seq = x;
    } else if (key == "events" && p.channel && (*p.channel == "l2_data" || *p.channel == "level2")) {
      why = read_events(v, p, changes_);
    } else if (p.type && *p.type == "snapshot" && (key == "bids" || key == "asks")) {
      if (!bj::read_pairs(v, key == "bids" ? side::bid : side::ask, changes_))
        why = "field '" + std::string(key) + "' must be [[price, size], ...]";
    } else if (p.type && *p.type == "l2update" && key == "changes") {
      if (!read_legacy_changes(v, changes_))
        why = "field 'changes' must be [[side, price, size], ...]";
    }
    if (!why.empty())
      break;
  }
  if (!why.empty())
    return resync("malformed frame: " + why);

  if (p.seq) { // Advanced Trade
    if (*p.seq == 0 && last_seq_) {
      // A new connection numbers from 0 again: what the old one lost is unknown, so its book waits for the new
      // connection's snapshot.
      last_seq_ = 0;
      if (book_.valid())
        return resync("new connection (sequence_num 0): waiting for its snapshot");
      return {status::ignored, std::nullopt, {}};
    }
    const std::optional<std::int64_t> last = last_seq_;
    if (last && *p.seq <= *last)
      return {status::dropped_stale, std::nullopt, {}};
    last_seq_ = p.seq;
    if (p.has_snapshot_event) {
      book_.set_valid(true);
      changes_.erase(changes_.begin(), changes_.begin() + static_cast<std::ptrdiff_t>(p.snapshot_from));
      if (!bj::assign(book_, changes_))
        return resync("malformed level");
      return {status::snapshot, std::nullopt, {}};
    }
    if (last && *p.seq != *last + 1)
      return resync("sequence gap: sequence_num " + std::to_string(*p.seq) + " after " + std::to_string(*last));
    if (!p.has_update_event)
      return {status::ignored, std::nullopt, {}}; // heartbeats, subscriptions, other channels
    if (!book_.valid())
      return awaiting();
    if (!bj::apply(book_, changes_))
      return resync("malformed level");
    return {status::applied, std::nullopt, {}};
  }
  if (p.type && *p.type == "snapshot") { // legacy
    book_.set_valid(true);
    if (!bj::assign(book_, changes_))
      return resync("malformed level");
    return {status::snapshot, std::nullopt, {}};
  }
  if (p.type && *p.type == "l2update") {
    if (!book_.valid())
      return awaiting();
    if (!bj::apply(book_, changes_))
      return resync("malformed level");
    return {status::applied, std::nullopt, {}};
  }
  return {status::ignored, std::nullopt, {}};
}

} // namespace mi::coinbase
