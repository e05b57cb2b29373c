#include "messages/book/crc32.hpp"

#include <zlib.h>

namespace mi::book {

std::uint32_t crc32(std::string_view text) {
  uLong crc = ::crc32(0L, Z_NULL, 0);
  // zlib takes uInt lengths: feed a larger text in pieces (a book checksum text is a few hundred bytes).
  while (text.size() > 0x40000000u) {
    crc = ::crc32(crc, reinterpret_cast<const Bytef*>(text.data()), 0x40000000u);
    text.remove_prefix(0x40000000u);
  }
  crc = ::crc32(crc, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size()));
  return static_cast<std::uint32_t>(crc);
}

} // namespace mi::book
