#pragma once

// Readiness of the process for /readyz (and liveness for /healthz), served on the metrics address.
//
// The checks are cached state: the components and a periodic probe (app/health_probe.*) set them,
// and the HTTP handler only reads them, so a probe never waits for NATS or PostgreSQL. Thread-safe.

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace mi::gw {

/// One named check and its last known state.
struct health_check {
  std::string name;      ///< "nats", "stream MARKET_RAW", "database", "role ingest"
  bool ok = false;       ///< passing now
  std::string detail;    ///< why (the error text when failing)
  std::int64_t since_ms; ///< wall-clock time of the last change of `ok`, ms since the Unix epoch
};

/// The process's readiness checks. Ready when every declared check passes (and at least one is declared).
class health {
public:
  /// Called (outside the lock, on the caller's thread) when a check changes between passing and failing.
  using change_listener = std::function<void(const health_check&)>;

  explicit health(change_listener on_change = {});

  /// Adds a check that fails until first set ("not checked yet"); a second declare of a name is a no-op.
  void declare(std::string_view name);
  /// Sets a check's state (declares it when new). The listener hears of changes of `ok` only.
  void set(std::string_view name, bool ok, std::string_view detail);
  /// Every declared check passes.
  bool ready() const;
  /// The checks in declaration order.
  std::vector<health_check> checks() const;

  /// The body of /readyz: {"status":"ready"|"not ready","checks":[{"name","ok","detail","since_ms"},...]}.
  std::string readiness_json() const;

private:
  change_listener on_change_;
  mutable std::mutex mu_;
  std::vector<health_check> checks_;
};

/// What /healthz and /readyz answer (status and JSON body); nullopt-like status 0 for any other path.
struct health_reply {
  int status = 0; ///< 0: not a health path
  std::string body;
};
/// GET /healthz: 200 {"status":"alive"} while the process serves; GET /readyz: 200 when `h` is ready,
/// else 503, with readiness_json(). Other paths: status 0.
health_reply answer_health(const health& h, std::string_view path);

} // namespace mi::gw
