#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "messages/book/book_codec.hpp"

namespace mi::connectors::book_json {
class reader;
using change = mi::book::level_change;
} // namespace mi::connectors::book_json

namespace mi::binance {

/// Binance spot diff depth (`<symbol>@depth` / `@depth@100ms`) synced with the REST `/api/v3/depth` snapshot, exactly
/// as Binance documents it ("How to manage a local order book correctly"):
///
/// ```
///            depth event                         REST snapshot (lastUpdateId L)
///  no_snapshot ──► buffered (awaiting_snapshot)  ──► book := snapshot, replay the buffer ──► first_event
///  first_event ──► u <= L: dropped_stale
///              ──► U <= L+1 <= u: apply ──────────────────────────────────────────────────► live (prev u)
///              ──► U > L+1: resync (the snapshot is older than the stream) ───────────────► no_snapshot
///  live        ──► U == prev u + 1: apply;  u <= prev u: dropped_stale;  otherwise resync ► no_snapshot
/// ```
///
/// on_frame() takes both the WebSocket events (combined-stream `{"stream":..,"data":{..}}` or raw) and a REST depth
/// body (an object with `lastUpdateId`), so a recorded stream can carry the snapshots it was synced with.
class book_sync final : public mi::book::book_codec {
public:
  /// Depth events kept while no snapshot is at hand (the oldest go first beyond it).
  static constexpr std::size_t max_buffered = 10'000;

  book_sync();
  ~book_sync() override;

  mi::book::frame_result on_frame(std::string_view frame) override;
  /// A REST `/api/v3/depth` body: the new book, then the buffered events replayed against it.
  mi::book::frame_result on_rest_snapshot(std::string_view body);

  /// Depth events waiting for a snapshot.
  std::size_t buffered() const { return buffer_.size(); }

private:
  enum class phase : std::uint8_t { no_snapshot, first_event, live };

  mi::book::frame_result handle(std::string_view frame);
  mi::book::frame_result on_event(std::string_view frame, std::int64_t first, std::int64_t last);

  std::unique_ptr<mi::connectors::book_json::reader> reader_;
  std::vector<mi::connectors::book_json::change> changes_;
  std::deque<std::string> buffer_;
  phase phase_ = phase::no_snapshot;
  std::int64_t last_update_id_ = 0; ///< the snapshot's lastUpdateId
  std::int64_t prev_u_ = 0;         ///< u of the last applied event
};

} // namespace mi::binance
