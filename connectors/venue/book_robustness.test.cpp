// Every venue's book codec on damaged recorded frames (truncated, bytes flipped, frames dropped): never a crash,
// and a book that is not valid is never reported as valid (the same checks as the libFuzzer targets,
// tests/fuzz/book_fuzz.hpp, deterministic and inside the unit suite).
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "connectors/venue/venue.hpp"
#include "messages/venue_registry.hpp"
#include "tests/fuzz/book_fuzz.hpp"
#include "tests/unit/book_fixtures.hpp"

namespace {

/// The recorded set of each venue the damage starts from.
std::string set_of(std::string_view venue) {
  if (venue == "binance")
    return "binance_spot.LRCBTC";
  if (venue == "okx")
    return "okx.UNI-USD-SWAP";
  if (venue == "bybit")
    return "bybit_v5.BTCUSDT";
  if (venue == "coinbase")
    return "coinbase_legacy.NU-GBP";
  return "kraken_v2.BTC-USD";
}

/// The recorded frames the damage starts from: the book fixtures; Alpaca (no order book, a top of book from its
/// quotes) its recorded stream frames, quotes among them.
std::vector<std::string> frames_of(std::string_view venue) {
  if (venue != "alpaca")
    return mi::test::book_fixture_lines(set_of(venue) + ".frames.jsonl");
  const auto path = std::filesystem::path(MI_FIXTURES_DIR) / "equities" / "alpaca" / "ws" / "data_frames.jsonl";
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      lines.push_back(line);
  return lines;
}

void feed(mi::book::book_codec& codec, std::string_view frame) { mi::fuzz::check_book(codec, codec.on_frame(frame)); }

} // namespace

TEST_CASE("book codecs: damaged frames never crash and never leave an invalid book reported valid") {
  for (const mi::venue_info& info : mi::venues()) {
    CAPTURE(info.name);
    const std::string set = set_of(info.name);
    std::vector<std::string> frames = frames_of(info.name);
    REQUIRE(!frames.empty());
    if (info.name == "binance")
      frames.insert(frames.begin(), mi::test::book_fixture_text(set + ".rest_depth.json"));
    if (frames.size() > 40)
      frames.resize(40);
    std::uint64_t damaged = 0;
    for (std::size_t k = 0; k < frames.size(); ++k) {
      auto v = mi::venue::make_venue(info.name);
      REQUIRE(v);
      auto codec = (*v)->make_book_codec(0);
      // The frames before k intact, then frame k damaged in one of several ways, then the rest intact.
      for (std::size_t i = 0; i < frames.size(); ++i) {
        if (i != k) {
          feed(*codec, frames[i]);
          continue;
        }
        std::string f = frames[i];
        switch (k % 5) {
        case 0:
          f.resize(f.size() / 2); // truncated
          break;
        case 1:
          f[f.size() / 3] ^= 0x20; // a flipped byte
          break;
        case 2:
          if (auto at = f.find_last_of("123456789"); at != std::string::npos)
            f[at] = f[at] == '9' ? '1' : static_cast<char>(f[at] + 1); // a digit changed: a price, size, id or checksum
          break;
        case 3:
          continue; // dropped
        default:
          f.insert(f.size() / 2, "\"-1\","); // a stray element
        }
        ++damaged;
        feed(*codec, f);
      }
      CHECK(codec->resyncs() <= frames.size());
    }
    CHECK(damaged > 0);
  }
}
