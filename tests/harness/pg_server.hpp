#pragma once

#include <memory>
#include <string>

#include "tests/harness/process.hpp"

namespace mi::test {

/// Settings of a test cluster. The defaults are PostgreSQL's own (fsync on), so what a test
/// measures is what production would see.
struct pg_server_options {
  /// Turns off fsync, synchronous_commit and full_page_writes: faster, but a crash of the
  /// machine (not of postgres) loses data. Only for tests that do not measure durability.
  bool fast_unsafe = false;
};

/// A real PostgreSQL 15 cluster (initdb + postgres as user `postgres`) on a free loopback
/// port in its own temp dir. The postmaster is our child process (in its own process group),
/// so it dies with the test even if the test crashes.
class pg_server {
public:
  /// initdb (trust auth), start, wait until it accepts queries; throws std::runtime_error with
  /// the log tail on failure.
  explicit pg_server(pg_server_options options = {});
  /// Stops (immediate) and removes the cluster.
  ~pg_server();
  pg_server(const pg_server&) = delete;
  pg_server& operator=(const pg_server&) = delete;

  /// "host=127.0.0.1 port=P user=postgres dbname=db".
  std::string conninfo(const std::string& db = "postgres") const;
  /// The TCP port on 127.0.0.1.
  int port() const { return port_; }
  /// Like `pg_ctl stop -m immediate`: SIGQUIT to the postmaster, waits for it to exit.
  void stop_immediate();
  /// Starts again on the same port and data directory; waits until it accepts queries.
  void start();
  /// Runs SQL via psql and returns its stdout (-At, trailing newline removed); throws
  /// std::runtime_error with psql's error text on failure. For test assertions.
  std::string psql(const std::string& sql, const std::string& db = "postgres") const;
  /// The last lines of the server log (for failure messages).
  std::string log_tail(std::size_t max_bytes = 4000) const;
  /// Process id of the postmaster last started (-1 before); its backends are its children.
  int postmaster_pid() const;

private:
  /// Starts the postmaster; returns false if it exited before accepting queries.
  bool try_start();

  pg_server_options options_;
  temp_dir dir_;
  std::string data_dir_;
  std::string socket_dir_;
  std::string log_path_;
  int port_ = 0;
  std::unique_ptr<child_process> postmaster_;
};

} // namespace mi::test
