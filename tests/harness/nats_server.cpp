#include "tests/harness/nats_server.hpp"

#include "tests/harness/process.hpp"

#include <algorithm>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mi::test {

namespace {

std::string tail(const std::string& text, std::size_t max_chars = 2000) {
  return text.size() <= max_chars ? text : text.substr(text.size() - max_chars);
}

} // namespace

nats_server::nats_server() : dir_(std::make_unique<temp_dir>("mi-nats")) { start_on_free_ports(); }

nats_server::nats_server(nats_cluster_member member)
    : dir_(std::make_unique<temp_dir>("mi-nats")), member_(std::move(member)) {
  start_on_free_ports();
}

// A port free when picked can be taken before the server binds it: by another test's process, or by an outgoing
// connection's ephemeral port (the members already running keep dialling the routes of those not started yet, and
// free ports come from the same ephemeral range). The server then stops with "address already in use": the client
// and monitoring ports are picked again (the route port is fixed by the other members' routes).
void nats_server::start_on_free_ports() {
  constexpr int attempts = 5;
  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    monitor_port_ = free_port();
    while (monitor_port_ == port_ || (member_ && monitor_port_ == member_->cluster_port))
      monitor_port_ = free_port();
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == attempts || read_file(log_path()).find("address already in use") == std::string::npos)
        throw;
    }
  }
}

nats_server::~nats_server() {
  try {
    stop();
  } catch (...) { // a destructor must not throw; the child_process destructor SIGKILLs anyway
  }
}

std::string nats_server::url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

std::string nats_server::store_dir() const { return dir_->path() + "/store"; }

std::string nats_server::log_path() const { return dir_->path() + "/nats.log"; }

void nats_server::start() {
  if (proc_ && proc_->running())
    return;
  proc_.reset();
  // Count the "ready" lines already in the log so that a restart waits for its own.
  auto ready_count = [this] {
    auto log = read_file(log_path());
    std::size_t n = 0;
    for (auto pos = log.find("Server is ready"); pos != std::string::npos; pos = log.find("Server is ready", pos + 1))
      ++n;
    return n;
  };
  auto before = ready_count();
  std::vector<std::string> argv{"nats-server", "-js",
                                "-sd",         store_dir(),
                                "-a",          "127.0.0.1",
                                "-p",          std::to_string(port_),
                                "-m",          std::to_string(monitor_port_),
                                "-l",          log_path()};
  if (member_) {
    std::string routes;
    for (int p : member_->route_ports)
      routes += (routes.empty() ? "" : ",") + std::string("nats://127.0.0.1:") + std::to_string(p);
    if (!member_->config_file.empty()) {
      // The file takes the member's name and store from the environment (the file's jetstream
      // block would clash with -js/-sd on the command line).
      ::setenv("NATS_SERVER_NAME", member_->server_name.c_str(), 1);
      ::setenv("NATS_STORE_DIR", store_dir().c_str(), 1);
      argv = {"nats-server",         "-c", member_->config_file,          "-a", "127.0.0.1", "-p",
              std::to_string(port_), "-m", std::to_string(monitor_port_), "-l", log_path()};
    }
    argv.insert(argv.end(),
                {"--server_name", member_->server_name, "--cluster_name", member_->cluster_name, "--cluster",
                 "nats://127.0.0.1:" + std::to_string(member_->cluster_port), "--routes", routes});
  }
  proc_ = std::make_unique<child_process>(argv);
  using namespace std::chrono_literals;
  // A member restarted after kill -9 recovers its JetStream store first: on a loaded 2-core machine that took over
  // 15 s (seen in the cluster test).
  bool ready = eventually([&] { return !proc_->running() || wait_for_port(port_, 0ms); }, 60s) && proc_->running() &&
               eventually([&] { return ready_count() > before || !proc_->running(); }, 60s) && proc_->running();
  if (!ready) {
    proc_->kill_hard();
    proc_.reset();
    throw std::runtime_error("nats-server did not become ready on port " + std::to_string(port_) + "; log tail:\n" +
                             tail(read_file(log_path())));
  }
}

void nats_server::stop() {
  if (!proc_)
    return;
  if (proc_->running()) {
    proc_->signal(SIGTERM);
    if (proc_->wait_for(std::chrono::seconds(10)) == -1)
      proc_->kill_hard();
  }
  proc_.reset();
}

void nats_server::kill_hard() {
  if (!proc_)
    return;
  proc_->kill_hard();
  proc_.reset();
}

int nats_server::pid() const { return proc_ ? proc_->pid() : -1; }

nats_cluster::nats_cluster(int size, const std::string& config_file) {
  std::vector<int> cluster_ports;
  while (static_cast<int>(cluster_ports.size()) < size) {
    int p = free_port();
    if (std::find(cluster_ports.begin(), cluster_ports.end(), p) == cluster_ports.end())
      cluster_ports.push_back(p);
  }
  for (int i = 0; i < size; ++i) {
    nats_cluster_member m{
      "n" + std::to_string(i + 1), "mi-test", cluster_ports[static_cast<std::size_t>(i)], {}, config_file};
    for (int j = 0; j < size; ++j)
      if (j != i)
        m.route_ports.push_back(cluster_ports[static_cast<std::size_t>(j)]);
    nodes_.push_back(std::make_unique<nats_server>(std::move(m)));
  }
  if (!wait_healthy(std::chrono::seconds(30)))
    throw std::runtime_error("the nats cluster did not become healthy (JetStream meta leader); logs:\n" + log_tails());
}

nats_cluster::~nats_cluster() = default;

std::string nats_cluster::urls() const {
  std::string out;
  for (const auto& n : nodes_)
    out += (out.empty() ? "" : ",") + n->url();
  return out;
}

bool nats_cluster::wait_healthy(std::chrono::seconds timeout) const {
  return eventually(
    [&] {
      for (const auto& n : nodes_) {
        if (n->pid() < 0)
          continue; // stopped on purpose
        auto r =
          run({"curl", "-sS", "--max-time", "2", "http://127.0.0.1:" + std::to_string(n->monitor_port()) + "/healthz"});
        if (r.output.find("\"ok\"") == std::string::npos)
          return false;
      }
      return true;
    },
    timeout);
}

std::string nats_cluster::log_tails() const {
  std::string out;
  for (const auto& n : nodes_)
    out += "--- " + n->log_path() + "\n" + tail(read_file(n->log_path())) + "\n";
  return out;
}

} // namespace mi::test
