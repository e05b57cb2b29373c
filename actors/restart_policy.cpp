#include "actors/restart_policy.hpp"

#include <algorithm>

#include "config/config.hpp"

namespace mi::actors {

restart_policy::restart_policy(restart_limits l) : limits_(l), backoff_(l.initial_backoff) {}

void restart_policy::started(time_point now) { started_at_ = now; }

restart_policy::decision restart_policy::failed(time_point now) {
  // A healthy run earns a fresh backoff sequence; the restart count keeps its sliding window.
  if (started_at_ && now - *started_at_ >= limits_.reset_after)
    backoff_ = limits_.initial_backoff;
  started_at_.reset();
  while (!restarts_.empty() && now - restarts_.front() > limits_.window)
    restarts_.pop_front();
  decision d;
  if (static_cast<int>(restarts_.size()) >= limits_.max_restarts) {
    d.give_up = true;
    d.restarts = restarts_.size();
    return d;
  }
  restarts_.push_back(now);
  d.delay = backoff_;
  d.restarts = restarts_.size();
  backoff_ = std::min(backoff_ * 2, limits_.max_backoff);
  return d;
}

std::chrono::milliseconds restart_policy::min_window(const restart_limits& l) {
  return mi::cfg::min_restart_window(l.initial_backoff, l.max_backoff, l.max_restarts);
}

restart_limits restart_policy::from_config(const mi::cfg::supervision_config& c) {
  return {c.initial_backoff, c.max_backoff, c.reset_after, c.max_restarts, c.restart_window};
}

std::optional<std::string> restart_policy::check(const restart_limits& l) {
  if (l.initial_backoff.count() <= 0)
    return "initial_backoff must be positive";
  if (l.max_backoff < l.initial_backoff)
    return "max_backoff must be at least initial_backoff";
  if (l.max_restarts < 0 || l.max_restarts > 1000)
    return "max_restarts must be within 0..1000";
  if (l.reset_after.count() <= 0)
    return "reset_after must be positive";
  auto need = min_window(l);
  if (l.window < need)
    return "restart_window " + std::to_string(l.window.count()) + " ms cannot hold " + std::to_string(l.max_restarts) +
           " restarts with their backoff (" + std::to_string(need.count()) + " ms): the limit could never trigger";
  return std::nullopt;
}

} // namespace mi::actors
