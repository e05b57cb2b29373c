#pragma once

// The body of every book codec fuzzer (tests/fuzz/fuzz_<venue>_book.cpp): the input is split into frames at '\n'
// and fed in order to one codec, so the fuzzer explores the sync state machine, not only the parser. Any input must
// give a status, never a crash, a hang or undefined behaviour; and a book that is not valid is never reported as
// valid: after resync or awaiting_snapshot the book is invalid, after snapshot or applied it is valid, a failed
// checksum always resyncs, and a valid book's sides are strictly ordered with positive quantities.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "messages/book/book_codec.hpp"

namespace mi::fuzz {

inline void check_book(const mi::book::book_codec& codec, const mi::book::frame_result& r) {
  using mi::book::side;
  using mi::book::status;
  const auto& b = codec.book();
  if ((r.what == status::resync || r.what == status::awaiting_snapshot) && b.valid())
    __builtin_trap();
  if ((r.what == status::snapshot || r.what == status::applied) && !b.valid())
    __builtin_trap();
  if (r.checksum_ok == false && (r.what != status::resync && r.what != status::awaiting_snapshot))
    __builtin_trap();
  if (!b.valid()) {
    // What the CLI (and later the publisher) shows of an invalid book: no levels.
    if (mi::book::to_json_line(b, r, 5).find("\"bids\":[]") == std::string::npos)
      __builtin_trap();
    return;
  }
  for (side s : {side::bid, side::ask}) {
    const mi::decimal* previous = nullptr;
    for (const auto& [price, l] : b.levels(s)) {
      if (!(price == l.price) || l.qty.signum() <= 0 || l.price.signum() <= 0)
        __builtin_trap();
      if (previous != nullptr && (s == side::bid ? !(price < *previous) : !(price > *previous)))
        __builtin_trap();
      previous = &price;
    }
  }
}

inline void run_frames(mi::book::book_codec& codec, const std::uint8_t* data, std::size_t size) {
  std::string_view rest(reinterpret_cast<const char*>(data), size);
  while (!rest.empty()) {
    const auto nl = rest.find('\n');
    const std::string_view frame = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
    check_book(codec, codec.on_frame(frame));
  }
}

} // namespace mi::fuzz
