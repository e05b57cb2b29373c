#pragma once

// One venue's REST budget shared by every actor of a process that requests it (the trade backfill and the Alpaca
// daily job): a rest_throttle behind a mutex, one per venue name per process.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>

#include "connectors/venue/rest_throttle.hpp"

namespace mi::venue {

class shared_rest_throttle {
public:
  explicit shared_rest_throttle(rest_limits l) : t_(std::move(l)) {}

  /// The process's throttle of `venue`, made with `l` at the first call (later calls get the same one, whatever
  /// limits they pass: every user of a venue computes them from the same config).
  static std::shared_ptr<shared_rest_throttle> of(std::string_view venue, const rest_limits& l);

  /// As rest_throttle::wait_ns.
  std::int64_t wait_ns(std::int64_t now_ns) const;
  /// Check and count in one step: 0 when a request may go now (it is counted as sent), else the wait (nothing
  /// counted). Two users never both get 0 within one minimum interval.
  std::int64_t acquire(std::int64_t now_ns);
  /// As rest_throttle::on_request (a caller that checked wait_ns itself).
  void on_request(std::int64_t now_ns);
  /// As rest_throttle::on_answer: a 429 blocks every user until its Retry-After.
  rest_throttle::outcome on_answer(std::int64_t now_ns, unsigned status, std::string_view retry_after,
                                   std::string_view used_weight);
  const rest_limits& limits() const { return t_.limits(); }

private:
  mutable std::mutex mu_;
  rest_throttle t_;
};

} // namespace mi::venue
