#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "connectors/venue/venue.hpp"

namespace mi::actors {

/// The bookkeeping of one backfill: which trade ids of the gap have come back from REST, the REST
/// failures and the pages that brought nothing new in a row, and when to give up. Plain class: the
/// backfill actor fetches, publishes and reports; this decides.
class backfill_job {
public:
  static constexpr int max_failures = 5;        ///< REST errors in a row before a job is given up
  static constexpr int max_fruitless_pages = 3; ///< pages in a row that bring nothing new before a gap is given up
  static constexpr std::size_t max_reported_ranges = 16;

  backfill_job() = default; // a recent-trades poll: no gap, only failures
  explicit backfill_job(const mi::venue::gap& g);

  const mi::venue::gap& gap() const { return g_; }
  /// Ids of the gap received so far, and how many ids the gap has.
  std::size_t received() const { return received_; }
  std::size_t size() const { return got_.size(); }
  bool complete() const { return received_ == got_.size(); }

  /// A trade id of a page: false when it lies outside the gap (the trade is not kept); otherwise
  /// marks it received (`fresh` tells whether it is new).
  bool receive(std::int64_t id, bool& fresh);
  /// A page was parsed with `fresh` new ids: resets the failure count, counts fruitless pages.
  void page_done(std::size_t fresh);

  /// A REST failure (`why` kept as last_error()): true when the job must be given up now.
  bool failed(std::string why);
  int failures() const { return failures_; }
  const std::string& last_error() const { return last_error_; }
  /// The wait before the request is tried again after failures(): 1 s, 2 s, 4 s, then 8 s.
  std::int64_t retry_delay_ns() const;

  /// Why a gap job that got a page ends now (empty: it goes on): no next page, or too many pages
  /// that brought nothing new. `has_next`: the venue named a next page (and the gap is not complete).
  std::string give_up_reason(bool has_next) const;

  /// What was not received, in contiguous ranges of ids with the count missing in each; at most
  /// max_reported_ranges, the last one spanning the rest (with what it holds counted as missing only
  /// where missing).
  struct missing_range {
    mi::venue::gap part;
    std::int64_t missing = 0;
  };
  std::vector<missing_range> missing_ranges() const;

private:
  mi::venue::gap g_;
  std::vector<bool> got_;    // id - g_.first_id -> received
  std::size_t received_ = 0; // how many of got_ are true
  int failures_ = 0;
  int fruitless_ = 0;
  std::string last_error_;
};

} // namespace mi::actors
