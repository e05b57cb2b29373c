#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace boost::asio {
class io_context;
}

namespace mi::sim {

/// Simulator settings (the `simulate` command's flags).
struct options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 0;                               ///< 0 = pick a free port
  std::vector<std::string> symbols{"BTCUSDT", "ETHUSDT"}; ///< exchange symbols (base/quote via binance::instruments::resolve)
  /// Generated trades per second over all symbols (pacing, not money: double is fine). <= 0: none are
  /// generated; when replaying a file, <= 0 means as fast as the clients read.
  double rate = 1000;
  std::uint64_t count = 0;  ///< trades to generate (or replay) in total, 0 = unlimited (replay: the whole file)
  std::string input_file;   ///< JSONL trades in the `decode` format, replayed instead of generating
  std::string record_file;  ///< every distinct trade sent is appended here in the `decode` format
  std::uint64_t seed = 1;
  std::chrono::milliseconds ping_interval{20000}; ///< WebSocket ping control frames, as Binance
  std::uint64_t drop_after = 0; ///< fault: after sending this many trades, drop every connection abruptly (once)
  std::uint64_t resend = 0;     ///< fault: on the first subscribe after the drop, resend the last N trades sent before it
  /// Stands in for the REST backfill of a client that reconnects (e.g. after it crashed): every
  /// session that subscribes after an earlier one did gets the last N trades sent first.
  std::uint64_t resend_on_reconnect = 0;
  /// Fault: after every N-th trade, also send its subscribers one malformed trade frame.
  std::uint64_t malformed_every = 0;
  std::chrono::milliseconds linger{1000}; ///< run_simulator: keep serving this long after finished()
  /// Back-pressure: while a subscribed client has this many frames unsent, generation waits
  /// (the real exchange would disconnect it; the simulator must not lose the truth).
  std::size_t max_queued_frames = 65536;
};

/// Counters (a snapshot).
struct stats {
  std::uint64_t trades_generated = 0; ///< distinct trades generated or replayed and sent
  std::uint64_t frames_sent = 0;      ///< trade frames written to sockets (all clients, resends included)
  std::uint64_t connections = 0;      ///< WebSocket connections accepted
  std::uint64_t subscribes = 0;       ///< SUBSCRIBE requests plus connections with streams in the URL
};

/// A loopback Binance: WebSocket at /ws, /ws/<stream>[/<stream>...], /stream?streams=a/b and /stream
/// (SUBSCRIBE / UNSUBSCRIBE / LIST_SUBSCRIPTIONS with {"result":null,"id":N} acks and
/// {"code":2,"msg":"Invalid request: ..."} errors), trade frames only for subscribed streams (wrapped
/// as {"stream":..,"data":..} on /stream), WebSocket pings; plain HTTP GET /api/v3/exchangeInfo,
/// /api/v3/ping and /api/v3/time on the same port. Trades are generated only while a client is
/// subscribed to their symbol, so none are lost before the first subscribe.
/// Everything runs on one strand of `ioc`; the caller runs `ioc` (e.g. mi::net::io_thread).
class simulator {
public:
  /// Binds and listens at once (port() is valid on return); throws std::runtime_error on a bad
  /// symbol, an unreadable input file or a port in use.
  simulator(boost::asio::io_context& ioc, options o);
  /// Stops accepting, closes every connection and flushes the record file.
  ~simulator();
  simulator(const simulator&) = delete;
  simulator& operator=(const simulator&) = delete;

  /// The bound port.
  std::uint16_t port() const;
  /// Counters; thread-safe.
  stats current() const;
  /// All `count` trades (or the whole input file) generated and written to the clients, and the
  /// fault's resend done; thread-safe.
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
