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

std::string read_data(od::value v, book_data& d, std::vector<bj::change>& changes) {
  od::array data;
  if (v.get_array().get(data))
    return "field 'data' must be an array";
  std::size_t n = 0;
  for (auto item : data) {
    if (++n > 1)
      return "more than one book in 'data'";
    od::object obj;
    if (item.get_object().get(obj))
      return "an element of 'data' must be an object";
    for (auto field : obj) {
      std::string_view key;
      od::value fv;
      if (field.unescaped_key().get(key) || field.value().get(fv))
        return "malformed object";
      std::int64_t x = 0;
      if (key == "asks" || key == "bids") {
        if (!bj::read_pairs(fv, key == "asks" ? side::ask : side::bid, changes))
          return "field '" + std::string(key) + "' must be [[price, size, ...], ...]";
      } else if (key == "checksum") {
        if (!bj::read_int(fv, x))
          return "field 'checksum' must be an integer";
        d.checksum = x;
      } else if (key == "seqId") {
        if (!bj::read_int(fv, x))
          return "field 'seqId' must be an integer";
        d.seq_id = x;
      } else if (key == "prevSeqId") {
        if (!bj::read_int(fv, x))
          return "field 'prevSeqId' must be an integer";
        d.prev_seq_id = x;
      }
    }
  }
  if (n == 0)
    return "empty 'data'";
  return {};
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
  if (!bj::wrapped_in(frame, '{', '}'))
    return resync("malformed frame: not a JSON object");
  od::document doc;
  od::object root;
  if (auto ec = reader_->iterate(frame).get(doc); ec)
    return resync("malformed frame: " + mi::connectors::json::not_json(ec));
  if (doc.get_object().get(root))
    return resync("malformed frame: not a JSON object");
  std::optional<std::string_view> action;
  bool is_book = false;
  bool has_data = false;
  book_data d;
  std::string why;
  for (auto field : root) {
    std::string_view key;
    od::value v;
    if (field.unescaped_key().get(key) || field.value().get(v)) {
      why = "malformed object";
      break;
    }
    if (key == "arg") {
      od::object arg;
      if (v.get_object().get(arg)) {
        why = "field 'arg' must be an object";
        break;
      }
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
      if (v.get_string().get(a)) {
        why = "field 'action' must be a string";
        break;
      }
      action = a;
    } else if (key == "data") {
      // "arg" comes first in OKX's pushes; data of another channel is skipped.
      if (!is_book)
        continue;
      has_data = true;
      why = read_data(v, d, changes_);
      if (!why.empty())
        break;
    } else if (key == "event") {
      return {status::ignored, std::nullopt, {}}; // subscribe / unsubscribe / error acknowledgements
    }
  }
  if (!why.empty())
    return resync("malformed frame: " + why);
  if (!is_book || !has_data)
    return {status::ignored, std::nullopt, {}};

  const bool snapshot = !action || *action == "snapshot"; // books5 pushes whole books without an action
  if (!snapshot && *action != "update")
    return resync("malformed frame: unknown action '" + std::string(*action) + "'");
  if (snapshot) {
    book_.set_valid(true); // resync() below counts a broken snapshot once
    if (!bj::assign(book_, changes_))
      return resync("malformed level");
  } else {
    if (!book_.valid())
      return awaiting();
    if (d.prev_seq_id && seq_id_ && *d.prev_seq_id != *seq_id_)
      return resync("sequence gap: prevSeqId " + std::to_string(*d.prev_seq_id) + " after seqId " +
                    std::to_string(*seq_id_));
  }
  if (!snapshot && !bj::apply(book_, changes_))
    return resync("malformed level");
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
