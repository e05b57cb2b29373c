#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mi::test {

class child_process;
class temp_dir;

/// What makes a nats-server a member of a cluster: its name, the cluster's name, its own route
/// port and the other members' route ports (loopback).
struct nats_cluster_member {
  std::string server_name;
  std::string cluster_name;
  int cluster_port = 0;
  std::vector<int> route_ports;
  /// A configuration file to start from (`-c`, e.g. deploy/nats/nats-server.conf): its ports,
  /// routes, names and store directory are overridden on the command line, the rest applies.
  std::string config_file;
};

/// A real `nats-server -js` on a free loopback port, file storage in its own temp dir; stopped
/// on destruction.
class nats_server {
public:
  /// Starts and waits until ready (port accepting, "Server is ready" logged); throws
  /// std::runtime_error with the log tail on failure.
  nats_server();
  /// The same, as a member of a cluster (routes to the other members; JetStream clustered).
  explicit nats_server(nats_cluster_member member);
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
  void start_on_free_ports();

  std::unique_ptr<temp_dir> dir_;
  std::unique_ptr<child_process> proc_;
  int port_ = 0;
  int monitor_port_ = 0;
  std::optional<nats_cluster_member> member_;
};

/// `size` clustered nats-servers with JetStream on loopback (each routed to all others), as a
/// 3-node production cluster is laid out in deploy/nats/. Members can be killed and restarted.
class nats_cluster {
public:
  /// Starts every member and waits until JetStream is healthy on all of them (a meta leader is
  /// elected); throws std::runtime_error with the members' log tails otherwise.
  /// `config_file`: see nats_cluster_member::config_file (none: command-line flags only).
  explicit nats_cluster(int size = 3, const std::string& config_file = {});
  ~nats_cluster();
  nats_cluster(const nats_cluster&) = delete;
  nats_cluster& operator=(const nats_cluster&) = delete;

  /// Every member's client URL, comma-separated (what `nats.url` takes for a cluster).
  std::string urls() const;
  nats_server& node(int i) { return *nodes_.at(static_cast<std::size_t>(i)); }
  int size() const { return static_cast<int>(nodes_.size()); }
  /// Whether every running member answers its monitoring /healthz with status ok (JetStream
  /// enabled, meta leader known, its streams current) within `timeout`.
  bool wait_healthy(std::chrono::seconds timeout) const;
  /// The members' log tails, for failure messages.
  std::string log_tails() const;

private:
  std::vector<std::unique_ptr<nats_server>> nodes_;
};

} // namespace mi::test
