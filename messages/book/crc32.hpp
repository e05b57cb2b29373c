#pragma once

// CRC-32 (IEEE 802.3, the zlib / PNG polynomial) as OKX and Kraken compute their book checksums: Boost.CRC.

#include <boost/crc.hpp>
#include <cstdint>
#include <string_view>

namespace mi::book {

/// CRC-32 of `text` (unsigned; OKX compares it as a signed 32-bit integer).
inline std::uint32_t crc32(std::string_view text) {
  boost::crc_32_type crc;
  crc.process_bytes(text.data(), text.size());
  return crc.checksum();
}

} // namespace mi::book
