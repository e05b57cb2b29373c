#include "actors/calendar_refresh.hpp"

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"

namespace mi::actors {
namespace {

struct refresh_state {
  static inline const char* name = "mi.calendar_refresh";
  calendar_refresh_args args;
};

using refresh_actor = caf::stateful_actor<refresh_state>;

caf::behavior calendar_refresh(refresh_actor* self, calendar_refresh_args args) {
  self->state.args = std::move(args);
  self->delayed_send(self, self->state.args.every, tick_atom::value);
  caf::behavior handlers{
    [self](tick_atom) {
      if (self->state.args.refresh)
        self->state.args.refresh();
      self->delayed_send(self, self->state.args.every, tick_atom::value);
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "calendar_refresh", "calendars", std::move(handlers));
}

} // namespace

caf::actor spawn_calendar_refresh(caf::actor_system& sys, calendar_refresh_args args) {
  return sys.spawn<caf::detached>(calendar_refresh, std::move(args));
}

} // namespace mi::actors
