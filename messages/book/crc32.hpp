#pragma once

// CRC-32 (IEEE 802.3, the zlib / PNG polynomial) as OKX and Kraken compute their book checksums.

#include <cstdint>
#include <string_view>

namespace mi::book {

/// CRC-32 of `text` (unsigned; OKX compares it as a signed 32-bit integer). zlib's crc32 (Debian zlib1g-dev): about
/// ten times Boost.CRC's byte table on this machine (docs/performance.md "Order books").
std::uint32_t crc32(std::string_view text);

} // namespace mi::book
