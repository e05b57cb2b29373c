#include "app/health_probe.hpp"

#include <algorithm>
#include <utility>

#include "app/roles.hpp"
#include "gateways/postgres/postgres.hpp"

namespace mi::app {

std::vector<std::string> streams_needed(const mi::cfg::config& cfg, const std::vector<std::string>& roles) {
  const bool ingest = has_role(roles, "ingest"), kline = has_role(roles, "kline"), store = has_role(roles, "store"),
             push = has_role(roles, "push");
  const auto& n = cfg.nats;
  std::vector<std::string> out;
  for (const auto& [stream, needed] :
       {std::pair{&n.raw, ingest || kline || store || push}, std::pair{&n.kline, kline || store || push},
        std::pair{&n.gap, ingest || has_role(roles, "documents")}, std::pair{&n.dlq, store},
        std::pair{&n.rejected, ingest}, std::pair{&n.doc, store || has_role(roles, "documents")}})
    if (needed && std::find(out.begin(), out.end(), stream->name) == out.end())
      out.push_back(stream->name);
  return out;
}

health_probe::health_probe(health_probe_args a) : a_(std::move(a)) {
  a_.health->declare("nats");
  for (const auto& s : a_.streams)
    a_.health->declare("stream " + s);
  if (!a_.dsn.empty())
    a_.health->declare("database");
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stopping_) {
      lock.unlock();
      round();
      lock.lock();
      cv_.wait_for(lock, a_.interval, [this] { return stopping_; });
    }
  });
}

health_probe::~health_probe() { stop(); }

void health_probe::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable())
    thread_.join();
}

void health_probe::round() {
  auto& h = *a_.health;
  const bool up = a_.js->connected();
  h.set("nats", up, up ? "connected" : "disconnected (reconnecting)");
  for (const auto& s : a_.streams) {
    if (!up) {
      h.set("stream " + s, false, "NATS not connected");
      continue;
    }
    auto st = a_.js->state(s);
    h.set("stream " + s, st.has_value(), st ? std::to_string(st->messages) + " messages" : st.err().message);
  }
  if (!a_.dsn.empty()) {
    auto r = mi::gw::ping(a_.dsn, a_.database_timeout);
    h.set("database", r.has_value(), r ? "reachable" : r.err().message);
  }
}

} // namespace mi::app
