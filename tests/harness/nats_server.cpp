#include "tests/harness/nats_server.hpp"

#include "tests/harness/process.hpp"

#include <csignal>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace mi::test {

namespace {

std::string tail(const std::string& text, std::size_t max_chars = 2000) {
  return text.size() <= max_chars ? text : text.substr(text.size() - max_chars);
}

} // namespace

nats_server::nats_server() : dir_(std::make_unique<temp_dir>("mi-nats")) {
  port_ = free_port();
  monitor_port_ = free_port();
  while (monitor_port_ == port_)
    monitor_port_ = free_port();
  start();
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
  proc_ = std::make_unique<child_process>(std::vector<std::string>{"nats-server", "-js", "-sd", store_dir(), "-a",
                                                                   "127.0.0.1", "-p", std::to_string(port_), "-m",
                                                                   std::to_string(monitor_port_), "-l", log_path()});
  using namespace std::chrono_literals;
  bool ready = wait_for_port(port_, 15s) &&
               eventually([&] { return ready_count() > before || !proc_->running(); }, 15s) && proc_->running();
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

} // namespace mi::test
