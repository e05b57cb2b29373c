#include "actors/supervisor.hpp"

#include <deque>
#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

namespace mi::actors {
namespace {

struct supervisor_state {
  static inline const char* name = "mi.supervisor";
  supervisor_args args;
  caf::actor child;
  std::deque<std::chrono::steady_clock::time_point> restarts;
  std::chrono::milliseconds backoff{0};
  bool stopping = false;
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

void start_child(supervisor_actor* self) {
  auto& st = self->state;
  st.child = st.args.spawn(self->system());
  self->monitor(st.child);
}

caf::behavior supervisor(supervisor_actor* self, supervisor_args args) {
  self->state.args = std::move(args);
  self->state.backoff = self->state.args.initial_backoff;
  start_child(self);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& st = self->state;
    if (dm.source != st.child)
      return;
    st.child = nullptr;
    if (st.stopping || dm.reason == caf::exit_reason::normal) {
      self->quit();
      return;
    }
    auto now = std::chrono::steady_clock::now();
    st.restarts.push_back(now);
    while (!st.restarts.empty() && now - st.restarts.front() > st.args.window)
      st.restarts.pop_front();
    if (static_cast<int>(st.restarts.size()) > st.args.max_restarts) {
      spdlog::error("{}: {} restarts within {}s, escalating: {}", st.args.name, st.restarts.size(),
                    st.args.window.count(), self->system().render(dm.reason));
      self->quit(dm.reason);
      return;
    }
    spdlog::warn("{}: child died ({}), restarting in {} ms", st.args.name, self->system().render(dm.reason),
                 st.backoff.count());
    self->delayed_send(self, st.backoff, restart_atom::value);
    st.backoff = std::min(st.backoff * 2, st.args.max_backoff);
  });
  return {
    [self](restart_atom) {
      if (!self->state.stopping && !self->state.child)
        start_child(self);
    },
    [self](stop_atom) {
      auto& st = self->state;
      st.stopping = true;
      if (st.child)
        self->send(st.child, stop_atom::value);
      else
        self->quit();
    },
  };
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_args args) {
  return sys.spawn(supervisor, std::move(args));
}

} // namespace mi::actors
