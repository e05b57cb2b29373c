#include "connectors/bybit/book.hpp"

#include <string>

#include "connectors/book_json.hpp"

namespace mi::bybit {

namespace bj = mi::connectors::book_json;
namespace od = simdjson::ondemand;
using mi::book::frame_result;
using mi::book::side;
using mi::book::status;

book_sync::book_sync() : reader_(std::make_unique<bj::reader>()) {}
book_sync::~book_sync() = default;

frame_result book_sync::on_frame(std::string_view frame) {
  changes_.clear();
  od::document doc;
  od::object root;
  if (auto why = bj::open_object(*reader_, frame, doc, root))
    return malformed(*why);
  bool is_book = false;
  bool has_data = false;
  std::optional<std::string_view> type;
  std::int64_t u = -1;
  auto why = bj::each_field(root, [&](std::string_view key, od::value& v) -> bj::problem {
    if (key == "topic") {
      std::string_view topic;
      auto why = bj::string_field(key, v, topic);
      is_book = !why && topic.substr(0, 10) == "orderbook.";
      return why;
    }
    if (key == "type") {
      std::string_view t;
      if (auto why = bj::string_field(key, v, t))
        return why;
      type = t;
      return std::nullopt;
    }
    if (key != "data" || !is_book) // "topic" comes first in Bybit's pushes
      return std::nullopt;
    has_data = true;
    od::object data;
    if (v.get_object().get(data))
      return bj::bad(mi::errc::bad_field, "field 'data' must be an object");
    return bj::each_field(data, [&](std::string_view dk, od::value& dv) -> bj::problem {
      if (dk == "b" || dk == "a")
        return bj::pairs_field(dk, dv, dk == "b" ? side::bid : side::ask, changes_, "[[price, size], ...]");
      if (dk == "u")
        return bj::int_field(dk, dv, u);
      return std::nullopt;
    });
  });
  if (why)
    return malformed(*why);
  if (!is_book || !has_data)
    return {status::ignored, std::nullopt, {}}; // op acks (subscribe, pong), other topics
  if (!type || (*type != "snapshot" && *type != "delta"))
    return malformed({"'type' must be snapshot or delta", mi::errc::unsupported_message});
  if (u < 0)
    return malformed({"missing 'u'", mi::errc::missing_field});
  const bool snapshot = *type == "snapshot";
  if (snapshot) {
    book_.set_valid(true);
    if (!bj::assign(book_, changes_))
      return malformed_level();
  } else {
    if (!book_.valid())
      return awaiting();
    if (u <= last_u_)
      return {status::dropped_stale, std::nullopt, {}};
    if (u != last_u_ + 1)
      return resync("sequence gap: u " + std::to_string(u) + " after " + std::to_string(last_u_));
  }
  if (!snapshot && !bj::apply(book_, changes_))
    return malformed_level();
  last_u_ = u;
  return {snapshot ? status::snapshot : status::applied, std::nullopt, {}};
}

} // namespace mi::bybit
