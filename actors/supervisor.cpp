#include "actors/supervisor.hpp"
#include "actors/inspection.hpp"

#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/metrics/metrics.hpp"

namespace mi::actors {
namespace {

// Children are monitored, not linked: a down_msg says which child died and why, and the
// supervisor decides. The only exit messages a supervisor gets come from its parent giving up
// (send_exit): it passes them on to its children and dies with the same reason.
//
//   child down --error--> policy.failed --restart--> delayed restart_atom --> spawn, monitor
//                                       --give up--> send_exit(children), quit(escalation error)
//   child down --normal-> done (not restarted)
//   stop_atom: stop children from the last to the first, one at a time, then quit(normal)

struct child_slot {
  child_spec spec;
  restart_policy policy;
  caf::actor actor;
  std::uint64_t generation = 0; // which restart_atom is current
  bool done = false;            // exited normally or stopped: never restarted
};

struct supervisor_state {
  static inline const char* name = "mi.supervisor";
  supervisor_args args;
  std::vector<child_slot> children;
  bool stopping = false;
  std::size_t stop_next = 0; // while stopping: children [0, stop_next) remain to be stopped
  // mi_actor_restarts_total{supervisor=<name>}; null without metrics.
  mi::gw::supervisor_probe* probe = nullptr;
};

using supervisor_actor = caf::stateful_actor<supervisor_state>;

std::string seconds_text(std::chrono::milliseconds d) {
  return fmt::format("{:.1f} s", static_cast<double>(d.count()) / 1000.0);
}

void start_child(supervisor_actor* self, child_slot& c) {
  c.actor = c.spec.spawn(self->system());
  c.policy.started(self->clock().now());
  self->monitor(c.actor);
  inspection::process().adopt(c.actor.id(), self->id(), c.spec.name);
}

void kill_children(supervisor_actor* self, const caf::error& reason) {
  for (auto& c : self->state.children)
    if (c.actor)
      self->send_exit(c.actor, reason);
}

// Stops the next running child from the end; quits once none is left.
void stop_next(supervisor_actor* self) {
  auto& st = self->state;
  while (st.stop_next > 0) {
    auto& c = st.children[st.stop_next - 1];
    if (c.actor) {
      self->send(c.actor, stop_atom::value);
      self->delayed_send(self, st.args.stop_timeout, stop_atom::value, st.stop_next - 1, c.generation);
      return;
    }
    --st.stop_next;
  }
  self->quit();
}

void on_child_down(supervisor_actor* self, child_slot& c, std::size_t index, const caf::error& reason) {
  auto& st = self->state;
  if (c.actor)
    inspection::process().leave(c.actor.id()); // a child that never registered itself leaves too
  c.actor = nullptr;
  ++c.generation;
  if (st.stopping) {
    c.done = true;
    if (index + 1 == st.stop_next) {
      --st.stop_next;
      stop_next(self);
    }
    return;
  }
  if (!reason || reason == caf::exit_reason::normal) {
    spdlog::info("{}: {} finished", st.args.name, c.spec.name);
    c.done = true;
    return;
  }
  auto what = self->system().render(reason);
  auto d = c.policy.failed(self->clock().now());
  if (d.give_up) {
    caf::error err;
    if (st.args.limits.max_restarts == 0) {
      // Restarts nothing (the root): the child's own reason goes up unchanged.
      spdlog::critical("{}: {} gave up: {}", st.args.name, c.spec.name, describe_escalation(self->system(), reason));
      err = reason;
    } else {
      auto text =
        fmt::format("{}: {} failed {} times within {} (limit {} restarts), last: {}", st.args.name, c.spec.name,
                    d.restarts + 1, seconds_text(st.args.limits.window), st.args.limits.max_restarts, what);
      spdlog::critical("supervision: giving up: {}", text);
      err = caf::make_error(caf::sec::runtime_error, std::move(text));
    }
    kill_children(self, err);
    self->quit(err);
    return;
  }
  if (st.probe != nullptr)
    st.probe->restarted();
  inspection::process().restarted(self->id(), c.spec.name, what);
  spdlog::warn("{}: {} died ({}), restart {} of {} within {} in {} ms", st.args.name, c.spec.name, what, d.restarts,
               st.args.limits.max_restarts, seconds_text(st.args.limits.window), d.delay.count());
  self->delayed_send(self, d.delay, restart_atom::value, index, c.generation);
}

caf::behavior supervisor(supervisor_actor* self, supervisor_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  if (st.args.metrics != nullptr)
    st.probe = &st.args.metrics->supervisor(st.args.name);
  for (auto& spec : st.args.children)
    st.children.push_back(child_slot{spec, restart_policy(st.args.limits), nullptr, 0, false});
  st.args.children.clear();
  for (auto& c : st.children)
    start_child(self, c);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& s = self->state;
    for (std::size_t i = 0; i < s.children.size(); ++i)
      if (s.children[i].actor && s.children[i].actor.address() == dm.source) {
        on_child_down(self, s.children[i], i, dm.reason);
        return;
      }
  });
  // Only a parent that gives up sends us an exit: take the children down with us.
  self->set_exit_handler([self](caf::exit_msg& em) {
    if (!em.reason || em.reason == caf::exit_reason::normal)
      return;
    kill_children(self, em.reason);
    self->quit(em.reason);
  });
  caf::behavior handlers{
    [self](restart_atom, std::size_t index, std::uint64_t generation) {
      auto& s = self->state;
      if (s.stopping || index >= s.children.size())
        return;
      auto& c = s.children[index];
      if (c.done || c.actor || c.generation != generation)
        return;
      spdlog::info("{}: restarting {}", s.args.name, c.spec.name);
      start_child(self, c);
    },
    [self](stop_atom) {
      auto& s = self->state;
      if (s.stopping)
        return;
      s.stopping = true;
      s.stop_next = s.children.size();
      stop_next(self);
    },
    // The stop deadline of one child.
    [self](stop_atom, std::size_t index, std::uint64_t generation) {
      auto& s = self->state;
      if (index >= s.children.size())
        return;
      auto& c = s.children[index];
      if (c.actor && c.generation == generation) {
        spdlog::warn("{}: {} did not stop within {}, killing it", s.args.name, c.spec.name,
                     seconds_text(s.args.stop_timeout));
        self->send_exit(c.actor, caf::exit_reason::kill);
      }
    },
    [self](status_atom) {
      std::vector<std::string> alive;
      for (auto& c : self->state.children)
        if (c.actor)
          alive.push_back(c.spec.name);
      return alive;
    },
  };
  return inspected(self, "supervisor", st.args.name, std::move(handlers));
}

} // namespace

caf::actor spawn_supervisor(caf::actor_system& sys, supervisor_args args) {
  return sys.spawn(supervisor, std::move(args));
}

caf::error exception_error(std::exception_ptr& x) {
  try {
    std::rethrow_exception(x);
  } catch (const std::exception& e) {
    return caf::make_error(caf::sec::runtime_error, std::string("exception: ") + e.what());
  } catch (...) {
    return caf::make_error(caf::sec::runtime_error, std::string("unknown exception"));
  }
}

std::string describe_escalation(caf::actor_system& sys, const caf::error& reason) {
  const auto& ctx = reason.context();
  if (ctx.match_elements<std::string>())
    return ctx.get_as<std::string>(0);
  return sys.render(reason);
}

} // namespace mi::actors
