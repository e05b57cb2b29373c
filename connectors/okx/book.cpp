#include "connectors/okx/book.hpp"

#include <utility>

#include "connectors/book_json.hpp"
#include "messages/book/crc32.hpp"

namespace mi::okx {

namespace bj = mi::connectors::book_json;
namespace od = simdjson::ondemand;
using mi::book::frame_result;
using mi::book::side;
using mi::book::status;

namespace {

/// One element of "data".
struct book_data {
  std::optional<std::int64_t> checksum;
  std::optional<std::int64_t> seq_id;
  std::optional<std::int64_t> prev_seq_id;
};

bj::problem read_data(od::value v, book_data& d, std::vector<bj::change>& changes) {
  od::array data;
  if (v.get_array().get(data))
    return bj::bad(mi::errc::bad_field, "field 'data' must be an array");
  std::size_t n = 0;
  for (auto item : data) {
    if (++n > 1)
      return bj::bad(mi::errc::unsupported_message, "more than one book in 'data'");
    od::object obj;
    if (item.get_object().get(obj))
      return bj::bad(mi::errc::bad_field, "an element of 'data' must be an object");
    auto why = bj::each_field(obj, [&](std::string_view key, od::value& fv) -> bj::problem {
      if (key == "asks" || key == "bids")
        return bj::pairs_field(key, fv, key == "asks" ? side::ask : side::bid, changes, "[[price, size, ...], ...]");
      std::optional<std::int64_t>* target = key == "checksum"    ? &d.checksum
                                            : key == "seqId"     ? &d.seq_id
                                            : key == "prevSeqId" ? &d.prev_seq_id
                                                                 : nullptr;
      if (target == nullptr)
        return std::nullopt;
      std::int64_t x = 0;
      if (auto why = bj::int_field(key, fv, x))
        return why;
      *target = x;
      return std::nullopt;
    });
    if (why)
      return why;
  }
  if (n == 0)
    return bj::bad(mi::errc::missing_field, "empty 'data'");
  return std::nullopt;
}

void append_level(std::string& out, const mi::book::level& l) {
  if (!out.empty())
    out += ':';
  out += l.price_text;
  out += ':';
  out += l.qty_text;
}

} // namespace

std::int32_t book_checksum(const mi::book::order_book& book, std::string& scratch) {
  scratch.clear();
  auto bid = book.levels(side::bid).begin();
  auto ask = book.levels(side::ask).begin();
  for (std::size_t i = 0; i < 25; ++i) {
    if (bid != book.levels(side::bid).end())
      append_level(scratch, (bid++)->second);
    if (ask != book.levels(side::ask).end())
      append_level(scratch, (ask++)->second);
  }
  return static_cast<std::int32_t>(mi::book::crc32(scratch));
}

book_sync::book_sync() : reader_(std::make_unique<bj::reader>()) {}
book_sync::~book_sync() = default;

frame_result book_sync::on_frame(std::string_view frame) {
  if (frame == "pong")
    return {status::ignored, std::nullopt, {}};
  changes_.clear();
  od::document doc;
  od::object root;
  if (auto why = bj::open_object(*reader_, frame, doc, root))
    return malformed(*why);
  std::optional<std::string_view> action;
  bool is_book = false;
  bool has_data = false;
  bool event = false;
  book_data d;
  auto why = bj::each_field(root, [&](std::string_view key, od::value& v) -> bj::problem {
    if (event)
      return std::nullopt; // an acknowledgement: the rest does not matter
    if (key == "arg") {
      od::object arg;
      if (v.get_object().get(arg))
        return bj::bad(mi::errc::bad_field, "field 'arg' must be an object");
      for (auto af : arg) {
        std::string_view ak;
        std::string_view channel;
        if (af.unescaped_key().get(ak))
          break;
        if (ak == "channel" && !af.value().get_string().get(channel))
          is_book = channel.substr(0, 5) == "books";
      }
    } else if (key == "action") {
      std::string_view a;
      if (auto why = bj::string_field(key, v, a))
        return why;
      action = a;
    } else if (key == "data" && is_book) { // "arg" comes first in OKX's pushes; data of another channel is skipped
      has_data = true;
      return read_data(v, d, changes_);
    } else if (key == "event") {
      event = true;
    }
    return std::nullopt;
  });
  if (event)
    return {status::ignored, std::nullopt, {}}; // subscribe / unsubscribe / error acknowledgements
  if (why)
    return malformed(*why);
  if (!is_book || !has_data)
    return {status::ignored, std::nullopt, {}};

  const bool snapshot = !action || *action == "snapshot"; // books5 pushes whole books without an action
  if (!snapshot && *action != "update")
    return malformed({"unknown action '" + std::string(*action) + "'", mi::errc::unsupported_message});
  if (snapshot) {
    book_.set_valid(true); // resync() below counts a broken snapshot once
    if (!bj::assign(book_, changes_))
      return malformed_level();
  } else {
    if (!book_.valid())
      return awaiting();
    if (d.prev_seq_id && seq_id_ && *d.prev_seq_id != *seq_id_)
      return resync("sequence gap: prevSeqId " + std::to_string(*d.prev_seq_id) + " after seqId " +
                    std::to_string(*seq_id_));
  }
  if (!snapshot && !bj::apply(book_, changes_))
    return malformed_level();
  seq_id_ = d.seq_id;
  std::optional<bool> checksum_ok;
  if (d.checksum && *d.checksum != 0) {
    const std::int32_t ours = book_checksum(book_, scratch_);
    checksum_ok = ours == *d.checksum;
    if (!*checksum_ok)
      return resync("checksum mismatch: OKX " + std::to_string(*d.checksum) + ", ours " + std::to_string(ours), false);
  }
  return {snapshot ? status::snapshot : status::applied, checksum_ok, {}};
}

} // namespace mi::okx
