#include <doctest/doctest.h>

#include <boost/crc.hpp>

#include "messages/book/crc32.hpp"

TEST_CASE("crc32: the IEEE CRC-32 of the exchanges' checksums") {
  CHECK(mi::book::crc32("") == 0u);
  CHECK(mi::book::crc32("123456789") == 0xCBF43926u); // the CRC-32 check value
  // Against an independent implementation (Boost.CRC) on a checksum text.
  const std::string_view text = "3366.1:7:3366.8:9:3366:6:3368:8:3372:8";
  boost::crc_32_type ref;
  ref.process_bytes(text.data(), text.size());
  CHECK(mi::book::crc32(text) == ref.checksum());
  CHECK(mi::book::crc32(text) == 1362239393u); // python3: zlib.crc32(b"3366.1:7:...")
}
