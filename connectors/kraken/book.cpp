#include "connectors/kraken/book.hpp"

#include <algorithm>
#include <string>

#include "connectors/book_json.hpp"
#include "messages/book/crc32.hpp"

namespace mi::kraken {

namespace bj = mi::connectors::book_json;
namespace od = simdjson::ondemand;
using mi::book::frame_result;
using mi::book::side;
using mi::book::status;

namespace {

/// Kraken's subscription depths.
constexpr std::size_t depths[] = {10, 25, 100, 500, 1000};

/// `text` with the "." removed and the leading zeros stripped.
void append_digits(std::string& out, std::string_view text) {
  bool leading = true;
  for (char c : text) {
    if (c == '.')
      continue;
    if (leading && c == '0')
      continue;
    leading = false;
    out += c;
  }
}

/// A checksum as text (v1 sends a string, v2 a number) -> value.
bool parse_checksum(std::string_view s, std::uint32_t& out) {
  if (s.empty() || s.size() > 10)
    return false;
  std::uint64_t x = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return false;
    x = x * 10 + static_cast<std::uint64_t>(c - '0');
  }
  if (x > 0xffffffffULL)
    return false;
  out = static_cast<std::uint32_t>(x);
  return true;
}

/// v2 levels: [{"price":78500.6,"qty":0.03755097}, ...] with the numbers' raw text.
bool read_objects(od::value v, side s, std::vector<bj::change>& out) {
  od::array items;
  if (v.get_array().get(items))
    return false;
  for (auto item : items) {
    od::object obj;
    if (item.get_object().get(obj))
      return false;
    bj::change c{s, {}, {}};
    for (auto field : obj) {
      std::string_view key;
      od::value fv;
      if (field.unescaped_key().get(key) || field.value().get(fv))
        return false;
      if (key != "price" && key != "qty")
        continue;
      std::optional<std::string_view> text = mi::connectors::json::read_text(fv);
      if (!text)
        return false;
      (key == "price" ? c.price : c.qty) = *text;
    }
    if (c.price.empty() || c.qty.empty())
      return false;
    out.push_back(c);
  }
  return true;
}

} // namespace

std::uint32_t book_checksum(const mi::book::order_book& book, std::string& scratch) {
  scratch.clear();
  for (side s : {side::ask, side::bid}) {
    const std::size_t n = std::min<std::size_t>(10, book.size(s));
    auto it = book.levels(s).begin();
    for (std::size_t i = 0; i < n; ++i, ++it) {
      append_digits(scratch, it->second.price_text);
      append_digits(scratch, it->second.qty_text);
    }
  }
  return mi::book::crc32(scratch);
}

std::size_t book_depth_at_least(std::size_t depth) {
  for (std::size_t d : depths)
    if (d >= depth)
      return d;
  return depths[std::size(depths) - 1];
}

book_sync::book_sync(std::size_t depth) : reader_(std::make_unique<bj::reader>()), configured_depth_(depth) {}
book_sync::~book_sync() = default;

frame_result book_sync::on_frame(std::string_view frame) {
  changes_.clear();
  if (bj::wrapped_in(frame, '[', ']'))
    return on_v1(frame);
  if (bj::wrapped_in(frame, '{', '}'))
    return on_v2(frame);
  return malformed({"not a JSON object or array", mi::errc::malformed_json});
}

frame_result book_sync::finish(bool snapshot, std::size_t depth, std::string_view checksum_text, bool has_checksum) {
  if (snapshot) {
    book_.set_valid(true);
    depth_ = depth;
    if (!bj::assign(book_, changes_))
      return malformed_level();
  } else if (!book_.valid()) {
    return awaiting();
  } else if (!bj::apply(book_, changes_)) {
    return malformed_level();
  }
  if (depth_ != 0) {
    book_.truncate(side::bid, depth_);
    book_.truncate(side::ask, depth_);
  }
  std::optional<bool> checksum_ok;
  if (has_checksum) {
    std::uint32_t theirs = 0;
    if (!parse_checksum(checksum_text, theirs))
      return malformed({"checksum '" + std::string(checksum_text) + "'", mi::errc::bad_number});
    const std::uint32_t ours = book_checksum(book_, scratch_);
    checksum_ok = ours == theirs;
    if (!*checksum_ok)
      return resync("checksum mismatch: Kraken " + std::to_string(theirs) + ", ours " + std::to_string(ours), false);
  }
  return {snapshot ? status::snapshot : status::applied, checksum_ok, {}};
}

frame_result book_sync::on_v1(std::string_view frame) {
  // [channelID, {"as":[...],"bs":[...]}, "book-1000", "XBT/USD"] or [channelID, {"a":[...]}, {"b":[...],"c":"..."},
  // "book-10", "XBT/USD"]; entries [price, volume, timestamp(, "r")].
  od::document doc;
  od::array root;
  if (auto ec = reader_->iterate(frame).get(doc); ec)
    return malformed({mi::connectors::json::not_json(ec), mi::errc::malformed_json});
  if (doc.get_array().get(root))
    return malformed({"not a JSON array", mi::errc::malformed_json});
  bool snapshot = false;
  bool update = false;
  bool is_book = false;
  std::size_t depth = configured_depth_;
  std::string checksum;
  bool has_checksum = false;
  bj::problem why;
  for (auto item : root) {
    od::value v;
    od::json_type type;
    if (item.get(v) || v.type().get(type)) {
      why = bj::bad(mi::errc::malformed_json, "malformed array");
      break;
    }
    if (type == od::json_type::object) {
      od::object obj;
      if (v.get_object().get(obj)) {
        why = bj::bad(mi::errc::malformed_json, "malformed object");
        break;
      }
      why = bj::each_field(obj, [&](std::string_view key, od::value& fv) -> bj::problem {
        if (key == "as" || key == "bs" || key == "a" || key == "b") {
          (key.size() == 2 ? snapshot : update) = true;
          return bj::pairs_field(key, fv, key[0] == 'a' ? side::ask : side::bid, changes_,
                                 "[[price, volume, time], ...]");
        }
        if (key == "c") {
          std::string_view c;
          if (auto why = bj::string_field(key, fv, c))
            return why;
          checksum.assign(c);
          has_checksum = true;
        }
        return std::nullopt;
      });
      if (why)
        break;
    } else if (type == od::json_type::string) {
      std::string_view s;
      if (v.get_string().get(s)) {
        why = bj::bad(mi::errc::malformed_json, "malformed string");
        break;
      }
      if (s.substr(0, 5) == "book-") {
        is_book = true;
        std::size_t d = 0;
        for (char c : s.substr(5))
          d = (c >= '0' && c <= '9' && d < 100000) ? d * 10 + static_cast<std::size_t>(c - '0') : 100000;
        if (configured_depth_ == 0)
          depth = d;
      }
    }
  }
  if (why)
    return malformed(*why);
  if (!is_book || (!snapshot && !update))
    return {status::ignored, std::nullopt, {}};
  if (snapshot && update)
    return malformed({"a snapshot and an update in one message", mi::errc::unsupported_message});
  if (depth == 0 || depth >= 100000)
    return malformed({"book depth", mi::errc::bad_number});
  return finish(snapshot, depth, checksum, has_checksum);
}

frame_result book_sync::on_v2(std::string_view frame) {
  od::document doc;
  od::object root;
  if (auto why = bj::open_object(*reader_, frame, doc, root)) // wrapped_in was checked: iterate or type
    return malformed(*why);
  bool is_book = false;
  std::optional<std::string_view> type;
  bool has_data = false;
  std::string checksum;
  bool has_checksum = false;
  std::size_t bids = 0;
  std::size_t asks = 0;
  // One element of "data": its levels and checksum.
  auto read_book = [&](std::string_view dk, od::value& dv) -> bj::problem {
    if (dk == "bids" || dk == "asks") {
      const std::size_t before = changes_.size();
      if (!read_objects(dv, dk == "bids" ? side::bid : side::ask, changes_))
        return bj::bad(mi::errc::bad_field, "field '" + std::string(dk) + "' must be [{price, qty}, ...]");
      (dk == "bids" ? bids : asks) = changes_.size() - before;
    } else if (dk == "checksum") {
      std::optional<std::string_view> text = mi::connectors::json::read_text(dv);
      if (!text)
        return bj::bad(mi::errc::bad_field, "field 'checksum' must be a number");
      checksum.assign(*text);
      has_checksum = true;
    }
    return std::nullopt;
  };
  auto why = bj::each_field(root, [&](std::string_view key, od::value& v) -> bj::problem {
    if (key == "channel") {
      std::string_view c;
      if (auto why = bj::string_field(key, v, c))
        return why;
      is_book = c == "book";
    } else if (key == "type") {
      std::string_view t;
      if (auto why = bj::string_field(key, v, t))
        return why;
      type = t;
    } else if (key == "data" && is_book) {
      od::array data;
      if (v.get_array().get(data))
        return bj::bad(mi::errc::bad_field, "field 'data' must be an array");
      for (auto item : data) {
        if (has_data)
          return bj::bad(mi::errc::unsupported_message, "more than one book in 'data'");
        has_data = true;
        od::object obj;
        if (item.get_object().get(obj))
          return bj::bad(mi::errc::bad_field, "an element of 'data' must be an object");
        if (auto why = bj::each_field(obj, read_book))
          return why;
      }
    }
    return std::nullopt;
  });
  if (why)
    return malformed(*why);
  if (!is_book || !has_data)
    return {status::ignored, std::nullopt, {}}; // heartbeat, status, subscribe acknowledgements
  if (!type || (*type != "snapshot" && *type != "update"))
    return malformed({"'type' must be snapshot or update", mi::errc::unsupported_message});
  const bool snapshot = *type == "snapshot";
  std::size_t depth = configured_depth_;
  if (snapshot && depth == 0)
    depth = book_depth_at_least(std::max(bids, asks));
  return finish(snapshot, depth, checksum, has_checksum);
}

} // namespace mi::kraken
