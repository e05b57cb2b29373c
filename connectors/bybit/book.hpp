#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "messages/book/book_codec.hpp"

namespace mi::connectors::book_json {
class reader;
using change = mi::book::level_change;
} // namespace mi::connectors::book_json

namespace mi::bybit {

/// Bybit v5 `orderbook.{depth}.{symbol}`:
///
/// ```
///  type snapshot ──► book := levels, u remembered (a snapshot also arrives after a service restart: u = 1) ► valid
///  type delta    ──► book invalid: awaiting_snapshot
///                ──► u <= last u: dropped_stale (a duplicate)
///                ──► u != last u + 1: resync (sequence gap)
///                ──► apply (size "0" removes), last u := u
/// ```
class book_sync final : public mi::book::book_codec {
public:
  book_sync();
  ~book_sync() override;

  mi::book::frame_result on_frame(std::string_view frame) override;

private:
  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::vector<mi::connectors::book_json::change> changes_;
  std::int64_t last_u_ = 0;
};

} // namespace mi::bybit
