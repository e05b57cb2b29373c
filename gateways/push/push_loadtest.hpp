#pragma once

// The push gateway's load generator (`market-ingestor loadtest`): N WebSocket clients from several loopback source
// addresses (127.0.0.1, 127.0.0.2, ...: each address has its own ~28k ephemeral ports), each subscribing to the
// same channels, measuring every data frame's delivery latency from its "ts" (the publish time the gateway puts in
// each message) to its receipt. Beast behind a pimpl, like the server.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mi::gw {

/// What to open and how.
struct load_options {
  std::string host = "127.0.0.1"; ///< the gateway's address (IPv4 literal)
  std::uint16_t port = 8080;
  std::string target = "/";          ///< the upgrade's request target
  std::size_t clients = 100;         ///< normal clients: read everything
  std::size_t slow_clients = 0;      ///< clients that subscribe and then never read (tiny receive buffer)
  std::vector<std::string> channels; ///< every client subscribes to all of them
  std::size_t source_addresses = 4;  ///< clients bind 127.0.0.1 .. 127.0.0.N before connecting
  unsigned threads = 1;              ///< io threads of the generator
  std::size_t connect_window = 256;  ///< connections being opened at once
  std::chrono::milliseconds connect_timeout{120000}; ///< everything connected and subscribed within this
  std::chrono::milliseconds reconnect_delay{200};    ///< a normal client that lost its connection reconnects
};

/// Latency percentiles of the data frames received, microseconds (10 us resolution).
struct latency_summary {
  std::uint64_t count = 0;
  std::uint64_t p50_us = 0;
  std::uint64_t p99_us = 0;
  std::uint64_t max_us = 0;
};

/// What the clients saw since the last reset_stats().
struct load_report {
  std::size_t subscribed = 0;       ///< clients (normal and slow) connected and subscribed now
  std::size_t connect_failures = 0; ///< connection attempts that failed (since the start)
  std::size_t reconnects = 0;       ///< normal clients that lost their connection and opened a new one
  std::uint64_t messages = 0;       ///< data frames received by normal clients
  std::uint64_t min_per_client = 0; ///< data frames of the normal client that got the fewest
  std::uint64_t max_per_client = 0; ///< and of the one that got the most
  std::uint64_t errors = 0;         ///< {"op":"error"} frames received
  latency_summary latency;
  /// Per stored message (by its "seq"): the latency of its LAST delivery to any client (a broadcast's time to the
  /// last subscriber); percentiles over the messages.
  latency_summary last_delivery;
  std::chrono::milliseconds connect_time{0}; ///< how long connect() took
};

/// The clients. Not copyable; the destructor closes everything.
class load_test {
public:
  explicit load_test(load_options o);
  ~load_test();
  load_test(const load_test&) = delete;
  load_test& operator=(const load_test&) = delete;

  /// Opens every client and subscribes it; returns when all are subscribed, or false at the connect timeout.
  bool connect();
  /// Forgets the latencies and counts so far (e.g. after the connection phase).
  void reset_stats();
  /// The numbers now.
  load_report report() const;
  /// Closes every client (normal close handshake) and stops the threads.
  void close();

private:
  struct state;
  std::shared_ptr<state> state_;
  std::chrono::milliseconds connect_time_{0};
};

/// The pid of the process listening on TCP `port` on this machine (from /proc/net/tcp{,6} and /proc/*/fd); nullopt
/// when none is found (or it belongs to another user).
std::optional<int> pid_listening_on(std::uint16_t port);
/// VmRSS of a process in KiB (/proc/<pid>/status); nullopt when unreadable.
std::optional<std::uint64_t> rss_kib(int pid);

} // namespace mi::gw
