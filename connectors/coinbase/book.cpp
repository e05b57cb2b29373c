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
bj::problem read_events(od::value v, parsed& p, std::vector<bj::change>& out) {
  od::array events;
  if (v.get_array().get(events))
    return bj::bad(mi::errc::bad_field, "field 'events' must be an array");
  for (auto ev : events) {
    od::object obj;
    if (ev.get_object().get(obj))
      return bj::bad(mi::errc::bad_field, "an event must be an object");
    auto why = bj::each_field(
      obj,
      [&](std::string_view key, od::value& fv) -> bj::problem {
        if (key == "type") {
          std::string_view t;
          if (auto why = bj::string_field(key, fv, t))
            return why;
          if (t == "snapshot") {
            p.has_snapshot_event = true;
            p.snapshot_from = out.size();
          } else if (t == "update") {
            p.has_update_event = true;
          } else {
            return bj::bad(mi::errc::unsupported_message, "unknown event type '" + std::string(t) + "'");
          }
        } else if (key == "updates") {
          od::array updates;
          if (fv.get_array().get(updates))
            return bj::bad(mi::errc::bad_field, "field 'updates' must be an array");
          for (auto u : updates) {
            od::object uo;
            if (u.get_object().get(uo))
              return bj::bad(mi::errc::bad_field, "an update must be an object");
            bj::change c{side::bid, {}, {}};
            bool has_side = false;
            auto why = bj::each_field(
              uo,
              [&](std::string_view uk, od::value& uv) -> bj::problem {
                if (uk != "side" && uk != "price_level" && uk != "new_quantity")
                  return std::nullopt;
                std::string_view s;
                if (auto why = bj::string_field(uk, uv, s))
                  return why;
                if (uk == "side") {
                  if (s != "bid" && s != "offer")
                    return bj::bad(mi::errc::bad_field, "side must be bid or offer");
                  c.s = s == "bid" ? side::bid : side::ask;
                  has_side = true;
                } else if (uk == "price_level") {
                  c.price = s;
                } else {
                  c.qty = s;
                }
                return std::nullopt;
              },
              "malformed update");
            if (why)
              return why;
            if (!has_side || c.price.empty() || c.qty.empty())
              return bj::bad(mi::errc::missing_field, "an update needs side, price_level and new_quantity");
            out.push_back(c);
          }
        }
        return std::nullopt;
      },
      "malformed event");
    if (why)
      return why;
  }
  return std::nullopt;
}

} // namespace

book_sync::book_sync(sequence_scope scope) : reader_(std::make_unique<bj::reader>()), scope_(scope) {}
book_sync::~book_sync() = default;

frame_result book_sync::on_frame(std::string_view frame) {
  changes_.clear();
  od::document doc;
  od::object root;
  if (auto why = bj::open_object(*reader_, frame, doc, root))
    return malformed(*why);
  parsed p;
  auto why = bj::each_field(root, [&](std::string_view key, od::value& v) -> bj::problem {
    if (key == "type" || key == "channel") {
      std::string_view s;
      if (auto why = bj::string_field(key, v, s))
        return why;
      (key == "type" ? p.type : p.channel) = s;
    } else if (key == "sequence_num") {
      std::int64_t x = 0;
      if (auto why = bj::int_field(key, v, x))
        return why;
      p.seq = x;
    } else if (key == "events" && p.channel && (*p.channel == "l2_data" || *p.channel == "level2")) {
      return read_events(v, p, changes_);
    } else if (p.type && *p.type == "snapshot" && (key == "bids" || key == "asks")) {
      return bj::pairs_field(key, v, key == "bids" ? side::bid : side::ask, changes_, "[[price, size], ...]");
    } else if (p.type && *p.type == "l2update" && key == "changes" && !read_legacy_changes(v, changes_)) {
      return bj::bad(mi::errc::bad_field, "field 'changes' must be [[side, price, size], ...]");
    }
    return std::nullopt;
  });
  if (why)
    return malformed(*why);

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
        return malformed_level();
      return {status::snapshot, std::nullopt, {}};
    }
    if (scope_ == sequence_scope::every_message && last && *p.seq != *last + 1)
      return resync("sequence gap: sequence_num " + std::to_string(*p.seq) + " after " + std::to_string(*last));
    if (!p.has_update_event)
      return {status::ignored, std::nullopt, {}}; // heartbeats, subscriptions, other channels
    if (!book_.valid())
      return awaiting();
    if (!bj::apply(book_, changes_))
      return malformed_level();
    return {status::applied, std::nullopt, {}};
  }
  if (p.type && *p.type == "snapshot") { // legacy
    book_.set_valid(true);
    if (!bj::assign(book_, changes_))
      return malformed_level();
    return {status::snapshot, std::nullopt, {}};
  }
  if (p.type && *p.type == "l2update") {
    if (!book_.valid())
      return awaiting();
    if (!bj::apply(book_, changes_))
      return malformed_level();
    return {status::applied, std::nullopt, {}};
  }
  return {status::ignored, std::nullopt, {}};
}

connection_sequence::connection_sequence() : reader_(std::make_unique<bj::reader>()) {}
connection_sequence::~connection_sequence() = default;
connection_sequence::connection_sequence(connection_sequence&&) noexcept = default;
connection_sequence& connection_sequence::operator=(connection_sequence&&) noexcept = default;

std::optional<std::string> connection_sequence::on_frame(std::string_view frame) {
  if (frame.find("\"sequence_num\"") == std::string_view::npos)
    return std::nullopt; // cheap: most venues' frames, errors, legacy frames
  od::document doc;
  od::object root;
  if (bj::open_object(*reader_, frame, doc, root))
    return std::nullopt;
  std::optional<std::int64_t> seq;
  for (auto field : root) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v))
      return std::nullopt;
    if (key == "sequence_num") {
      std::int64_t x = 0;
      if (!bj::read_int(v, x) || x < 0)
        return std::nullopt;
      seq = x;
      break;
    }
  }
  if (!seq)
    return std::nullopt;
  const auto last = last_;
  if (*seq == 0) { // a new connection numbers from 0 (reset() was missed): nothing to compare with
    last_ = 0;
    return std::nullopt;
  }
  if (last && *seq <= *last)
    return std::nullopt; // an older number again: the codecs drop a repeated level2 message
  last_ = seq;
  if (!last || *seq == *last + 1)
    return std::nullopt;
  ++breaks_;
  return "sequence gap: sequence_num " + std::to_string(*seq) + " after " + std::to_string(*last);
}

} // namespace mi::coinbase
