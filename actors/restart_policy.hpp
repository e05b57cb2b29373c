#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <optional>
#include <string>

namespace mi::cfg {
struct supervision_config;
}

namespace mi::actors {

/// How a supervisor restarts one child (config section `supervision`).
struct restart_limits {
  std::chrono::milliseconds initial_backoff{200}; ///< delay before the first restart
  std::chrono::milliseconds max_backoff{10000};   ///< the delay doubles per restart up to this
  std::chrono::milliseconds reset_after{30000};   ///< a child up this long starts again from initial_backoff
  int max_restarts = 10;                          ///< restarts within `window`; one more failure gives up
  std::chrono::milliseconds window{120000};       ///< must hold the backoff sequence (see min_window)
};

/// The restart decisions of one supervised child, without an actor or a clock of its own: the
/// caller passes the time (the supervisor passes its actor clock, the tests a made-up one).
///
///   failure -> [restarts in window == max_restarts] -> give up (escalate)
///           -> otherwise restart after `backoff`, then backoff = min(2 * backoff, max_backoff)
///   a run that lasted >= reset_after resets backoff to initial_backoff before the decision.
///
/// Arithmetic: the k-th restart (k = 0, 1, ...) waits min(initial * 2^k, max). A child that fails
/// at once fails for the (max_restarts + 1)-th time min_window() after its first failure, so the
/// limit can only trigger when `window` >= min_window(); config validation enforces it. Defaults:
/// 0.2 + 0.4 + 0.8 + 1.6 + 3.2 + 6.4 + 4 x 10 = 52.6 s for 10 restarts, inside a 120 s window,
/// which leaves 67.4 s for the child's own run time before the oldest restart falls out.
class restart_policy {
public:
  using time_point = std::chrono::steady_clock::time_point;

  /// What to do about one failure.
  struct decision {
    bool give_up = false;              ///< too many restarts within the window: escalate
    std::chrono::milliseconds delay{}; ///< wait this long, then restart (when !give_up)
    std::size_t restarts = 0;          ///< restarts counted in the window, this one included
  };

  explicit restart_policy(restart_limits l = {});

  /// The child was (re)started at `now`.
  void started(time_point now);
  /// The child failed at `now`.
  decision failed(time_point now);
  /// The delay the next restart would wait.
  std::chrono::milliseconds next_backoff() const { return backoff_; }
  const restart_limits& limits() const { return limits_; }

  /// Total backoff of `max_restarts` restarts in a row: the shortest time in which the limit can trigger.
  static std::chrono::milliseconds min_window(const restart_limits& l);
  /// The limits of config section `supervision`.
  static restart_limits from_config(const mi::cfg::supervision_config& c);
  /// Why these limits cannot work (a window shorter than min_window, non-positive delays), or nullopt.
  static std::optional<std::string> check(const restart_limits& l);

private:
  restart_limits limits_;
  std::chrono::milliseconds backoff_;
  std::deque<time_point> restarts_;
  std::optional<time_point> started_at_;
};

} // namespace mi::actors
