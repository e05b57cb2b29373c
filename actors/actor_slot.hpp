#pragma once

#include <memory>
#include <mutex>

#include "caf/actor.hpp"

namespace mi::actors {

/// The current address of a supervised actor: its supervisor sets it on every (re)start, and
/// the actors that talk to it read it when they send, so a restart is invisible to them.
class actor_slot {
public:
  void set(caf::actor a) {
    std::lock_guard<std::mutex> lock(mu_);
    a_ = std::move(a);
  }
  caf::actor get() const {
    std::lock_guard<std::mutex> lock(mu_);
    return a_;
  }

private:
  mutable std::mutex mu_;
  caf::actor a_;
};

using actor_slot_ptr = std::shared_ptr<actor_slot>;

} // namespace mi::actors
