#pragma once

// The periodic probe behind /readyz: a thread that refreshes the cached readiness checks (NATS
// connected, the streams the roles need present, the database reachable where a role needs it),
// so the HTTP handler never waits for a server. The roles' own checks ("role ingest", ...) are set
// by run_platform as the supervision tree starts and stops.

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "config/config.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/health.hpp"

namespace mi::app {

/// What the probe checks.
struct health_probe_args {
  mi::gw::jetstream* js = nullptr;          ///< its connection state and the streams' info
  std::vector<std::string> streams;         ///< stream names the roles need ("stream NAME" checks)
  std::string dsn;                          ///< "" = no database check (no store or api role)
  std::chrono::milliseconds interval{1000}; ///< between rounds
  std::chrono::seconds database_timeout{2}; ///< connect + SELECT 1
  mi::gw::health* health = nullptr;         ///< where the results go
};

/// Declares its checks at once (failing until the first round), then probes every `interval` on its own
/// thread until stopped.
class health_probe {
public:
  explicit health_probe(health_probe_args a);
  ~health_probe();
  health_probe(const health_probe&) = delete;
  health_probe& operator=(const health_probe&) = delete;

  /// Ends the thread (waits for a round in progress: at most the database timeout or a NATS request's).
  void stop();

private:
  void round();
  health_probe_args a_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

/// The streams a set of roles reads or writes (configured names): ingest MARKET_RAW, MARKET_GAP,
/// MARKET_REJECTED; kline MARKET_RAW, MARKET_KLINE; store MARKET_RAW, MARKET_KLINE, MARKET_DLQ; push
/// MARKET_RAW, MARKET_KLINE. In configuration order, each once.
std::vector<std::string> streams_needed(const mi::cfg::config& cfg, const std::vector<std::string>& roles);

} // namespace mi::app
