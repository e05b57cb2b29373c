#include "messages/book/book_codec.hpp"

#include <utility>

namespace mi::book {

std::string_view to_string(status s) {
  switch (s) {
  case status::snapshot:
    return "snapshot";
  case status::applied:
    return "applied";
  case status::dropped_stale:
    return "dropped_stale";
  case status::resync:
    return "resync";
  case status::awaiting_snapshot:
    return "awaiting_snapshot";
  case status::ignored:
    return "ignored";
  }
  return "ignored";
}

frame_result book_codec::resync(std::string reason, std::optional<bool> checksum_ok) {
  if (!book_.valid())
    return {status::awaiting_snapshot, checksum_ok, std::move(reason)};
  book_.set_valid(false);
  ++resyncs_;
  return {status::resync, checksum_ok, std::move(reason)};
}

frame_result book_codec::malformed(const mi::error& e) {
  frame_result r = resync("malformed frame: " + e.message);
  r.code = e.code;
  return r;
}

frame_result book_codec::malformed_level() {
  frame_result r = resync("malformed level");
  r.code = mi::errc::bad_number;
  return r;
}

namespace {

void append_side(std::string& out, const order_book& book, side s, std::size_t depth) {
  out += '[';
  const std::size_t n = book.valid() ? std::min(depth, book.size(s)) : 0;
  auto it = book.levels(s).begin();
  for (std::size_t i = 0; i < n; ++i, ++it) {
    const level& l = it->second;
    if (i != 0)
      out += ',';
    out += "[\"";
    out += l.price.to_string();
    out += "\",\"";
    out += l.qty.to_string();
    out += "\"]";
  }
  out += ']';
}

} // namespace

std::string to_json_line(const order_book& book, const frame_result& r, std::size_t depth) {
  std::string out;
  out.reserve(64 + depth * 48);
  out += "{\"bids\":";
  append_side(out, book, side::bid, depth);
  out += ",\"asks\":";
  append_side(out, book, side::ask, depth);
  out += ",\"checksum_ok\":";
  out += !r.checksum_ok ? "null" : (*r.checksum_ok ? "true" : "false");
  out += ",\"status\":\"";
  out += to_string(r.what);
  out += '"';
  if (book.valid() && book.crossed())
    out += ",\"crossed\":true";
  out += '}';
  return out;
}

} // namespace mi::book
