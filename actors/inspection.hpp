#pragma once

// Actor inspection (issue 11, item 1): CAF 0.17 cannot list its actors, so every actor of ours registers
// here — kind, name, parent, state, messages handled, time spent handling them, last error — and leaves
// when it exits; supervisors add each restart of a child (time, reason). The admin API serves it as a
// tree (GET /admin/api/actors, docs/operations.md "Admin API").
//
// The registry is a plain thread-safe class (unit-tested without CAF); the glue below registers an
// actor with one call on the behavior it returns:
//
//   caf::behavior handlers{ ...the actor's handlers... };
//   return mi::actors::inspected(self, "connection", name, std::move(handlers));
//
// which counts every message the behavior handles and the time spent in it, and leaves the registry
// when the actor terminates. Supervisors call adopt() for each child they spawn (parent and name).

#include <atomic>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "caf/fwd.hpp"

namespace mi::actors {

/// A child restarted by a supervisor.
struct restart_record {
  std::string child;      ///< the child's name ("connection.binance.1")
  std::int64_t at_ms = 0; ///< wall-clock time, ms since the Unix epoch
  std::string reason;     ///< the error it died with
};

/// What the registry shows of one actor at one moment.
struct actor_info {
  std::uint64_t id = 0;                 ///< CAF actor id (unique in the process)
  std::string kind;                     ///< "supervisor", "connection", "batch_saver", "kline_router", ...
  std::string name;                     ///< "ingest", "connection.binance.1", "saver_trades", ...
  std::uint64_t parent = 0;             ///< the parent's id; 0: none (a root)
  std::string state;                    ///< "running" unless the actor says more ("connected", "backing off", ...)
  std::uint64_t handled = 0;            ///< messages its behavior handled
  std::int64_t busy_ns = 0;             ///< time spent handling them
  std::string last_error;               ///< "" when none
  std::int64_t last_error_ms = 0;       ///< when; 0 when none
  std::int64_t started_ms = 0;          ///< when it registered
  std::int64_t last_ms = 0;             ///< when it last handled a message (wall clock, ms); 0: never
  std::vector<restart_record> restarts; ///< supervisors: their children's restarts, oldest first (the last 32)
};

/// The registry. Thread-safe; every call is short (one mutex, no I/O).
class inspection {
public:
  /// One registered actor's counters, updated by the actor without the registry's lock.
  class entry {
  public:
    /// Counts one handled message that took `ns`, handled at `at_ms` (wall clock).
    void handled(std::int64_t ns, std::int64_t at_ms) {
      handled_.fetch_add(1, std::memory_order_relaxed);
      busy_ns_.fetch_add(ns, std::memory_order_relaxed);
      last_ms_.store(at_ms, std::memory_order_relaxed);
    }

  private:
    friend class inspection;
    std::atomic<std::uint64_t> handled_{0};
    std::atomic<std::int64_t> busy_ns_{0};
    std::atomic<std::int64_t> last_ms_{0};
  };

  /// Registers (or completes: adopt() may come first) the actor `id`; returns its counters.
  std::shared_ptr<entry> enter(std::uint64_t id, std::string_view kind, std::string_view name);
  /// Sets the parent and the name of `id` (a supervisor naming its child); creates the entry when the
  /// child has not registered (yet, or at all: such a child shows with kind "actor").
  void adopt(std::uint64_t id, std::uint64_t parent, std::string_view name);
  /// Removes `id` (no-op when absent).
  void leave(std::uint64_t id);
  /// The actor's state text (no-op when absent).
  void set_state(std::uint64_t id, std::string_view state);
  /// The actor's last error, now (no-op when absent).
  void set_error(std::uint64_t id, std::string_view error);
  /// A supervisor `id` restarts its child `child` because of `reason`.
  void restarted(std::uint64_t id, std::string_view child, std::string_view reason);
  /// How to make `id` exit (with an error, so its supervisor restarts it); set by inspected().
  void set_stopper(std::uint64_t id, std::function<void()> stop);
  /// Makes the registered actor `id` exit through its stopper (the admin console's restart action): false
  /// when `id` is not registered or has no stopper.
  bool stop(std::uint64_t id) const;

  /// Every registered actor, by id.
  std::vector<actor_info> snapshot() const;
  /// The tree as JSON: {"actors":[{id, kind, name, state, handled, busy_ms, started_ms, last_ms, last_error,
  /// last_error_ms, restarts:[{child, at_ms, reason}], children:[...]}]}; the roots are the actors whose
  /// parent is 0 or not registered.
  std::string tree_json() const;

  /// The process-wide registry every actor registers in.
  static inspection& process();

  /// Restarts kept per supervisor.
  static constexpr std::size_t max_restarts_kept = 32;

private:
  struct record {
    std::shared_ptr<entry> counters = std::make_shared<entry>();
    actor_info info; // id, kind, name, parent, state, last error, started, restarts
    std::function<void()> stop;
  };
  record& upsert(std::uint64_t id);

  mutable std::mutex mu_;
  std::map<std::uint64_t, record> actors_;
};

/// Registers `self` in inspection::process() as `kind`/`name` and returns `b` wrapped so that each
/// message it handles is counted and timed; the actor leaves the registry when it terminates.
caf::behavior inspected(caf::local_actor* self, std::string_view kind, std::string_view name, caf::behavior b);
/// The state text of `self` in inspection::process().
void inspect_state(const caf::local_actor* self, std::string_view state);
/// The last error of `self` in inspection::process().
void inspect_error(const caf::local_actor* self, std::string_view error);

} // namespace mi::actors
