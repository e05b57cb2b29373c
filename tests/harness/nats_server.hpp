#pragma once

#include <memory>
#include <string>

namespace mi::test {

class child_process;
class temp_dir;

/// A real `nats-server -js` on a free loopback port, file storage in its own temp dir; stopped
/// on destruction.
class nats_server {
public:
  /// Starts and waits until ready (port accepting, "Server is ready" logged); throws
  /// std::runtime_error with the log tail on failure.
  nats_server();
  ~nats_server();
  nats_server(const nats_server&) = delete;
  nats_server& operator=(const nats_server&) = delete;

  /// Client URL, `nats://127.0.0.1:PORT`.
  std::string url() const;
  /// Client port.
  int port() const { return port_; }
  /// HTTP monitoring port (`/healthz`, `/jsz`).
  int monitor_port() const { return monitor_port_; }
  /// SIGTERM and wait for exit (SIGKILL after 10 s); no-op when not running.
  void stop();
  /// SIGKILL (no clean shutdown; the store may need recovery on the next start).
  void kill_hard();
  /// (Re)starts on the same ports and store dir (data survives); waits until ready.
  void start();
  /// JetStream store directory (`-sd`).
  std::string store_dir() const;
  /// Path of the server log file.
  std::string log_path() const;
  /// Process id of the server process last started (-1 before), e.g. for CPU accounting from /proc.
  int pid() const;

private:
  std::unique_ptr<temp_dir> dir_;
  std::unique_ptr<child_process> proc_;
  int port_ = 0;
  int monitor_port_ = 0;
};

} // namespace mi::test
