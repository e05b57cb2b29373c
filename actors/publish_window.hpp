#pragma once

#include <cstddef>
#include <utility>

#include "actors/caf_types.hpp"
#include "caf/actor.hpp"
#include "caf/error.hpp"

namespace mi::actors {

/// A producer's bound on publish batches awaiting the publisher's reply (the publisher withholds it
/// while JetStream's in-flight acks are at their limit). At `bound` outstanding batches the producer
/// pauses its input (a connection stops reading its socket); it resumes once fewer than bound / 2 remain.
class publish_window {
public:
  explicit publish_window(std::size_t bound) : bound_(bound) {}
  /// A batch was sent: true when the producer must pause now.
  bool sent() { return ++outstanding_ >= bound_; }
  /// The publisher replied to one: true when the producer may resume.
  bool replied() {
    --outstanding_;
    return outstanding_ < bound_ / 2;
  }
  std::size_t outstanding() const { return outstanding_; }
  std::size_t bound() const { return bound_; }

private:
  std::size_t bound_;
  std::size_t outstanding_ = 0;
};

/// Sends `batch` to `publisher` as (pub_atom, batch) within `window` (which must live as long as `self`,
/// e.g. in its state); calls `set_paused(true)` when the bound is reached and `set_paused(false)` when
/// enough replies came back (both may repeat: make them idempotent). If the request fails (the publisher
/// is gone), `self` quits with its error (its supervisor restarts it).
template <class Actor, class SetPaused>
void publish_within(Actor* self, publish_window& window, const caf::actor& publisher, outgoing_batch batch,
                    SetPaused set_paused) {
  if (window.sent())
    set_paused(true);
  self->request(publisher, caf::infinite, pub_atom::value, std::move(batch))
    .then(
      [&window, set_paused](bool) mutable {
        if (window.replied())
          set_paused(false);
      },
      [self](caf::error& err) { self->quit(err); });
}

} // namespace mi::actors
