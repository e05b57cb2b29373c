#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace mi::sim {

/// Simulator settings (the `simulate` command's flags).
struct options {
  /// The protocol spoken: a venue of the registry, binance, okx, bybit, coinbase or kraken (supported_exchanges() in
  /// protocols/protocol.hpp).
  std::string exchange = "binance";
  std::string host = "127.0.0.1";
  std::uint16_t port = 0; ///< 0 = pick a free port
  /// Normalized BASEQUOTE symbols (base/quote split by binance::instruments::resolve), whatever the exchange.
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"};
  /// Not listed by the instruments endpoint; subscribing to them gets the exchange's error.
  std::vector<std::string> reject;
  std::uint64_t first_id = 1;            ///< per symbol, generated trade ids are first_id, first_id + 1, ...
  std::size_t history_limit = 1'000'000; ///< generated trades kept per symbol for the REST history endpoints
  /// Generated trades per second over all symbols (pacing, not money: double is fine). <= 0: none are
  /// generated; when replaying a file, <= 0 means as fast as the clients read.
  double rate = 1000;
  std::uint64_t count = 0; ///< trades to generate (or replay) in total, 0 = unlimited (replay: the whole file)
  std::string input_file;  ///< JSONL trades in the `decode` format, replayed instead of generating
  std::string record_file; ///< every distinct trade generated (sent or not) is appended here in the `decode` format
  std::uint64_t seed = 1;
  std::chrono::milliseconds ping_interval{20000}; ///< WebSocket ping control frames, as Binance
  /// Coinbase heartbeats / Kraken heartbeat frames while subscribed (also how often idle connections are checked).
  std::chrono::milliseconds heartbeat_interval{1000};
  /// Close a connection after this long without a frame pushed to it (no subscription with trades, no ping
  /// answered); nullopt: the exchange's rule (OKX 30 s, others never); 0: never.
  std::optional<std::chrono::milliseconds> idle_close;
  std::uint64_t drop_after = 0; ///< fault: after sending this many trades, drop every connection abruptly (once)
  std::uint64_t resend = 0; ///< fault: on the first subscribe after the drop, resend the last N trades sent before it
  /// Stands in for the REST backfill of a client that reconnects (e.g. after it crashed): every
  /// session that subscribes after an earlier one did gets the last N trades sent first.
  std::uint64_t resend_on_reconnect = 0;
  /// Fault: after every N-th trade, also send its subscribers one malformed trade frame.
  std::uint64_t malformed_every = 0;
  /// Fault: after this many trades (once), send nothing at all (frames, heartbeats, pings, pongs) for
  /// `stall_ms` while keeping TCP open; trades generated meanwhile reach the REST history only.
  std::uint64_t stall_after = 0;
  std::chrono::milliseconds stall_ms{0};
  /// Fault: after this many trades (once), the next `skip_count` ids of every symbol are generated but never sent.
  std::uint64_t skip_after = 0;
  std::uint64_t skip_count = 0;
  /// Fault: after this many trades (once), send the forced-disconnect notice (Binance serverShutdown, OKX 64008)
  /// and close those connections `notice_grace` later. Refused at construction for the other exchanges.
  std::uint64_t notice_after = 0;
  std::chrono::milliseconds notice_grace{2000};
  /// Fault: the next `throttle` REST trade requests (history, recent trades: every path containing
  /// "trade", any case) are answered HTTP `throttle_status` with `Retry-After: retry_after_s`, as an
  /// exchange over its rate limit does. 429 everywhere; 418 (an IP ban) only for Binance.
  std::uint64_t throttle = 0;
  unsigned throttle_status = 429;
  std::uint64_t retry_after_s = 1;
  /// Order books (protocols that speak them: binance, okx): every generated trade of a symbol whose book channel was
  /// subscribed moves its true book by one update (GET /sim/book?symbol=X shows it).
  /// Fault: the N-th book update (counted over all symbols, once) is applied but never sent: a sequence gap.
  std::uint64_t book_skip_after = 0;
  /// Fault: the N-th book update (once) carries a wrong checksum (OKX).
  std::uint64_t book_checksum_after = 0;
  /// Fault: the N-th REST book snapshot (Binance /api/v3/depth, once) is stale: the book 20 to 40 updates ago.
  std::uint64_t book_stale_rest = 0;
  std::chrono::milliseconds linger{1000}; ///< run_simulator: keep serving this long after finished()
  /// Back-pressure: while a subscribed client has this many frames unsent, generation waits
  /// (the real exchange would disconnect it; the simulator must not lose the truth).
  std::size_t max_queued_frames = 65536;
};

/// Counters (a snapshot).
struct stats {
  std::uint64_t trades_generated = 0;     ///< distinct trades generated or replayed and sent
  std::uint64_t frames_sent = 0;          ///< trade frames written to sockets (all clients, resends included)
  std::uint64_t connections = 0;          ///< WebSocket connections accepted
  std::uint64_t subscribes = 0;           ///< subscribe requests (Binance: plus connections with streams in the URL)
  std::uint64_t trades_skipped = 0;       ///< generated but never sent (skip fault)
  std::uint64_t faults = 0;               ///< faults injected (flags and /sim/fault commands)
  std::uint64_t throttled = 0;            ///< REST requests answered 429/418 (throttle fault)
  std::uint64_t book_updates = 0;         ///< order-book updates generated (all symbols)
  std::uint64_t book_updates_skipped = 0; ///< generated, never sent (book skip fault)
};

/// A loopback exchange speaking one exchange's real protocol (options::exchange): its WebSocket trade
/// stream (subscribe acks and errors, pings, heartbeats, notices; see protocols/*.cpp and docs/simulator.md)
/// and its REST endpoints (instruments, trade history) on the same port, plus GET /sim/fault?action=... to
/// inject faults at run time. Generation of a symbol starts with its first subscribe and then goes on
/// whether or not a client is connected (trades nobody receives are in the REST history only), except
/// with resend / resend_on_reconnect, which stand in for a client's backfill and so pause generation while
/// nobody is subscribed. A connected client that reads too slowly holds generation back (max_queued_frames).
/// Everything runs on one strand of `ioc`; the caller runs `ioc` (e.g. mi::net::io_thread).
class simulator {
public:
  /// Binds and listens at once (port() is valid on return); throws std::runtime_error on an unknown
  /// exchange, a bad symbol, a fault the exchange does not support, an unreadable input file or a port in use.
  simulator(boost::asio::io_context& ioc, options o);
  /// Stops accepting, closes every connection and flushes the record file.
  ~simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;

  /// The bound port.
  std::uint16_t port() const;
  /// Counters; thread-safe.
  stats current() const;
  /// All `count` trades (or the whole input file) generated and written to the clients, and every
  /// fault done (resend sent, stall over, noticed connections closed); thread-safe.
  bool finished() const;

  /// Implementation state (in simulator.cpp).
  struct core;

private:
  std::shared_ptr<core> core_;
};

/// CLI entry: runs a simulator until SIGINT/SIGTERM, or until finished() plus `linger`; prints
/// "simulator listening on ws://127.0.0.1:PORT" on stdout first (flushed). Returns the exit code.
int run_simulator(const options& o);

} // namespace mi::sim
