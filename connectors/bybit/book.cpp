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
  if (!bj::wrapped_in(frame, '{', '}'))
    return resync("malformed frame: not a JSON object");
  od::document doc;
  od::object root;
  if (auto ec = reader_->iterate(frame).get(doc); ec)
    return resync("malformed frame: " + mi::connectors::json::not_json(ec));
  if (doc.get_object().get(root))
    return resync("malformed frame: not a JSON object");
  bool is_book = false;
  bool has_data = false;
  std::optional<std::string_view> type;
  std::int64_t u = -1;
  std::string why;
  for (auto field : root) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) {
      why = "malformed object";
      break;
    }
    if (key == "topic") {
      std::string_view topic;
      if (v.get_string().get(topic)) {
        why = "field 'topic' must be a string";
        break;
      }
      is_book = topic.substr(0, 10) == "orderbook.";
    } else if (key == "type") {
      std::string_view t;
      if (v.get_string().get(t)) {
        why = "field 'type' must be a string";
        break;
      }
      type = t;
    } else if (key == "data" && is_book) { // "topic" comes first in Bybit's pushes
      has_data = true;
      od::object data;
      if (v.get_object().get(data)) {
        why = "field 'data' must be an object";
        break;
      }
      for (auto df : data) {
        std::string_view dk;
        od::value dv;
        if (df.unescaped_key().get(dk) || df.value().get(dv)) {
          why = "malformed object";
          break;
        }
        if ((dk == "b" || dk == "a") && !bj::read_pairs(dv, dk == "b" ? side::bid : side::ask, changes_)) {
          why = "field '" + std::string(dk) + "' must be [[price, size], ...]";
          break;
        }
        if (dk == "u" && !bj::read_int(dv, u)) {
          why = "field 'u' must be an integer";
          break;
        }
      }
      if (!why.empty())
        break;
    }
  }
  if (!why.empty())
    return resync("malformed frame: " + why);
  if (!is_book || !has_data)
    return {status::ignored, std::nullopt, {}}; // op acks (subscribe, pong), other topics
  if (!type || (*type != "snapshot" && *type != "delta"))
    return resync("malformed frame: 'type' must be snapshot or delta");
  if (u < 0)
    return resync("malformed frame: missing 'u'");
  const bool snapshot = *type == "snapshot";
  if (snapshot) {
    book_.set_valid(true);
    if (!bj::assign(book_, changes_))
      return resync("malformed level");
  } else {
    if (!book_.valid())
      return awaiting();
    if (u <= last_u_)
      return {status::dropped_stale, std::nullopt, {}};
    if (u != last_u_ + 1)
      return resync("sequence gap: u " + std::to_string(u) + " after " + std::to_string(last_u_));
  }
  if (!snapshot && !bj::apply(book_, changes_))
    return resync("malformed level");
  last_u_ = u;
  return {snapshot ? status::snapshot : status::applied, std::nullopt, {}};
}

} // namespace mi::bybit
