#include "connectors/binance/book.hpp"

#include <utility>

#include "connectors/book_json.hpp"

namespace mi::binance {

namespace bj = mi::connectors::book_json;
namespace od = simdjson::ondemand;
using mi::book::frame_result;
using mi::book::side;
using mi::book::status;

namespace {

/// What a frame is, with its update ids.
struct parsed {
  enum class kind : std::uint8_t { other, depth_event, rest_snapshot } what = kind::other;
  std::int64_t first = -1; ///< U
  std::int64_t last = -1;  ///< u, or the snapshot's lastUpdateId
};

/// The fields of a depthUpdate event object (or of a REST depth body) into `p` and `changes`; or what is wrong.
bj::problem read_depth_object(od::object obj, parsed& p, std::vector<bj::change>& changes) {
  bool depth_event = false;
  bool has_last_update_id = false;
  if (auto why = bj::each_field(obj, [&](std::string_view key, od::value& v) -> bj::problem {
        if (key == "e") {
          std::string_view e;
          auto why = bj::string_field(key, v, e);
          depth_event = e == "depthUpdate";
          return why;
        }
        if (key == "U")
          return bj::int_field(key, v, p.first);
        if (key == "u")
          return bj::int_field(key, v, p.last);
        if (key == "lastUpdateId") {
          has_last_update_id = true;
          return bj::int_field(key, v, p.last);
        }
        if (key == "b" || key == "bids")
          return bj::pairs_field(key, v, side::bid, changes, "[[price, qty], ...]");
        if (key == "a" || key == "asks")
          return bj::pairs_field(key, v, side::ask, changes, "[[price, qty], ...]");
        return std::nullopt;
      }))
    return why;
  if (has_last_update_id) {
    p.what = parsed::kind::rest_snapshot;
    if (p.last < 0)
      return bj::bad(mi::errc::bad_number, "lastUpdateId is negative");
  } else if (depth_event) {
    p.what = parsed::kind::depth_event;
    if (p.first < 0 || p.last < 0)
      return bj::bad(mi::errc::missing_field, "a depthUpdate needs 'U' and 'u'");
    if (p.first > p.last)
      return bj::bad(mi::errc::bad_number, "U " + std::to_string(p.first) + " is above u " + std::to_string(p.last));
  }
  return std::nullopt;
}

} // namespace

book_sync::book_sync() : reader_(std::make_unique<bj::reader>()) {}
book_sync::~book_sync() = default;

frame_result book_sync::on_frame(std::string_view frame) { return handle(frame); }

frame_result book_sync::on_rest_snapshot(std::string_view body) {
  frame_result r = handle(body);
  if (r.what == status::ignored) {
    r = resync("not a /api/v3/depth body (no lastUpdateId)");
    r.code = mi::errc::missing_field;
  }
  return r;
}

frame_result book_sync::handle(std::string_view frame) {
  changes_.clear();
  parsed p;
  od::document doc;
  od::object root;
  bj::problem why = bj::open_object(*reader_, frame, doc, root);
  if (!why) {
    // A combined stream wraps the event: {"stream":"btcusdt@depth@100ms","data":{...}}.
    bool wrapped = false;
    why = bj::each_field(root, [&](std::string_view key, od::value& v) -> bj::problem {
      if (key != "data" || wrapped)
        return std::nullopt;
      wrapped = true;
      od::object data;
      if (v.get_object().get(data))
        return bj::bad(mi::errc::bad_field, "field 'data' must be an object");
      return read_depth_object(data, p, changes_);
    });
    if (!wrapped && !why) {
      if (doc.rewind(); doc.get_object().get(root))
        why = bj::bad(mi::errc::malformed_json, "not a JSON object");
      else
        why = read_depth_object(root, p, changes_);
    }
  }
  if (why) {
    phase_ = phase::no_snapshot;
    return malformed(*why);
  }
  if (p.what == parsed::kind::other)
    return {status::ignored, std::nullopt, {}};

  if (p.what == parsed::kind::rest_snapshot) {
    if (!bj::assign(book_, changes_)) {
      phase_ = phase::no_snapshot;
      frame_result r = resync("malformed level in the snapshot");
      r.code = mi::errc::bad_number;
      return r;
    }
    book_.set_valid(true);
    last_update_id_ = p.last;
    phase_ = phase::first_event;
    // Replay what was buffered while waiting; events buffered again (after a resync in the replay) stay for the
    // next snapshot.
    std::deque<std::string> pending;
    pending.swap(buffer_);
    frame_result out{status::snapshot, std::nullopt, {}};
    for (const std::string& f : pending) {
      frame_result r = handle(f);
      if (r.what == status::resync)
        out = std::move(r);
    }
    return out;
  }
  return on_event(frame, p.first, p.last);
}

frame_result book_sync::on_event(std::string_view frame, std::int64_t first, std::int64_t last) {
  if (!book_.valid())
    phase_ = phase::no_snapshot;
  switch (phase_) {
  case phase::no_snapshot:
    if (buffer_.size() >= max_buffered)
      buffer_.pop_front();
    buffer_.emplace_back(frame);
    return awaiting();
  case phase::first_event:
    if (last <= last_update_id_)
      return {status::dropped_stale, std::nullopt, {}};
    if (first > last_update_id_ + 1) {
      phase_ = phase::no_snapshot;
      buffer_.emplace_back(frame); // it may straddle the next snapshot
      return resync("first event U " + std::to_string(first) + " is after lastUpdateId " +
                    std::to_string(last_update_id_) + " + 1: the snapshot is older than the stream");
    }
    break;
  case phase::live:
    if (last <= prev_u_)
      return {status::dropped_stale, std::nullopt, {}};
    if (first != prev_u_ + 1) {
      phase_ = phase::no_snapshot;
      buffer_.emplace_back(frame);
      return resync("sequence gap: U " + std::to_string(first) + " after u " + std::to_string(prev_u_));
    }
    break;
  }
  if (!bj::apply(book_, changes_)) {
    phase_ = phase::no_snapshot;
    frame_result r = resync("malformed level in an update");
    r.code = mi::errc::bad_number;
    return r;
  }
  phase_ = phase::live;
  prev_u_ = last;
  return {status::applied, std::nullopt, {}};
}

} // namespace mi::binance
