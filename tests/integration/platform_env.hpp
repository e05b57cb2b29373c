#pragma once

// A whole platform on loopback for integration tests: real nats-server -js, real PostgreSQL,
// the `market-ingestor simulate` exchange and `market-ingestor run`, all child processes.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "messages/kline.hpp"
#include "messages/trade.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/pg_server.hpp"
#include "tests/harness/process.hpp"

namespace mi::test {

/// Path of the market-ingestor binary under test.
std::string binary();

/// Whether `run` printed its "ready" line into `log_text` at or after byte `from`. The line is
/// recognised by its start: a log line written to the same file (stderr) can land between
/// "ready" and its newline.
bool has_ready_line(const std::string& log_text, std::size_t from);

/// The API master key every integration test uses (64 hex digits). platform_env puts it in the
/// test process's environment as MI_API_MASTER_KEY, so `run` and `apikey` children inherit it.
const std::string& test_master_key_hex();

/// An HTTP reply as a client saw it.
struct http_reply {
  int status = 0; ///< 0: no answer (connection refused, timeout)
  std::string body;
};
/// GET http://127.0.0.1:`port``path` with curl (5 s timeout); `headers` like "Authorization: Bearer x".
http_reply http_get(int port, const std::string& path, const std::vector<std::string>& headers = {});

class platform_env {
public:
  /// `binance_extra`: more YAML lines under exchanges.binance (4-space indented).
  /// `klines_extra`: more YAML lines under klines (2-space indented).
  /// `saver_extra`: more YAML lines under saver (2-space indented).
  /// `top_extra`: more top-level sections (e.g. "storage:\n  retention_days_trades: 7\n").
  explicit platform_env(std::vector<std::string> intervals = {"1s", "1m"}, std::string binance_extra = {},
                        std::string klines_extra = {}, std::string saver_extra = {}, std::string top_extra = {});
  ~platform_env();

  /// Points the platform at other NATS servers (e.g. a cluster's comma-separated URLs) with more
  /// YAML lines under `nats:` (2-space indented, e.g. "  kv_replicas: 3\n"); the helpers below
  /// (stream_messages, ...) use them too. Call before start_platform.
  void use_nats(const std::string& urls, const std::string& nats_extra = {});
  /// The NATS URL(s) the platform is configured with.
  const std::string& nats_urls() const { return nats_urls_; }

  /// Starts `market-ingestor run` (with `extra_args`, e.g. {"--roles", "store"}) and waits for its
  /// "ready" line.
  void start_platform(const std::vector<std::string>& extra_args = {});
  /// Starts `market-ingestor run` without waiting for anything (it may exit at once).
  void launch_platform(const std::vector<std::string>& extra_args = {});
  /// Waits up to `timeout` for the platform to exit on its own: its exit code, or -1 if it still
  /// runs (or died of a signal: -2).
  int wait_platform_exit(std::chrono::seconds timeout);
  /// kill -9.
  void kill_platform();
  /// SIGTERM and wait for a clean exit; returns the exit status.
  int stop_platform();
  /// Starts the simulator with extra arguments (after --port/--record; `--symbols` BTCUSDT,ETHUSDT unless they name
  /// theirs) and waits until it listens.
  void start_simulator(const std::vector<std::string>& extra);
  /// True once the simulator exited (it does after `--count` trades plus a short linger).
  bool simulator_done();

  /// Trades the simulator generated so far (its --record file), in send order; a line still being written is left out.
  std::vector<mi::trade> recorded_trades() const;
  /// `market-ingestor aggregate` over the recorded trades.
  std::vector<mi::kline> expected_klines() const;
  /// The candles of one fixed-width interval ("1s", "1m", "1h") computed by SQL from the stored
  /// trades: a reference that shares no code with the kline engine (open/close by (time, id),
  /// sums by numeric arithmetic, vwap truncated to 18 digits by integer division).
  std::vector<mi::kline> sql_klines(const std::string& interval) const;
  /// What PostgreSQL holds.
  std::vector<mi::trade> stored_trades() const;
  std::vector<mi::kline> stored_klines() const;
  /// Messages in a JetStream stream.
  std::uint64_t stream_messages(const std::string& stream) const;
  /// GET /metrics of the platform.
  std::string scrape_metrics() const;
  /// The value of one sample of /metrics, e.g. `mi_consumer_lag{consumer="saver_trades"}`; -1 when
  /// absent.
  double metric(const std::string& sample) const;

  const std::vector<std::string>& intervals() const { return intervals_; }
  int push_port() const { return push_port_; }
  /// The simulator's port (its fault commands: GET /sim/fault?action=..., docs/simulator.md).
  int sim_port() const { return sim_port_; }
  /// The REST API's port (api.listen).
  int api_port() const { return api_port_; }
  /// The port of /metrics, /healthz and /readyz (metrics.listen).
  int metrics_port() const { return metrics_port_; }
  const std::string& dir() const { return dir_.path(); }
  std::string platform_log() const;
  std::string config_path() const { return dir_.path() + "/config.yaml"; }

  temp_dir dir_;
  nats_server nats;
  pg_server pg;

private:
  int push_port_;
  int metrics_port_;
  int sim_port_;
  int api_port_;
  std::vector<std::string> intervals_;
  std::string nats_urls_;
  std::unique_ptr<child_process> platform_;
  std::unique_ptr<child_process> simulator_;
};

/// Canonical text of trades / klines for value-by-value comparison (sorted).
std::vector<std::string> canonical(const std::vector<mi::trade>& xs);
std::vector<std::string> canonical(const std::vector<mi::kline>& xs);

} // namespace mi::test
