#include "actors/backfill_job.hpp"

#include <algorithm>

namespace mi::actors {

backfill_job::backfill_job(const mi::venue::gap& g) : g_(g), got_(static_cast<std::size_t>(g.size()), false) {}

bool backfill_job::receive(std::int64_t id, bool& fresh) {
  fresh = false;
  if (id < g_.first_id || id > g_.last_id)
    return false; // the venue keeps only the gap's trades; this guards the index below
  auto idx = static_cast<std::size_t>(id - g_.first_id);
  if (!got_[idx]) {
    got_[idx] = true;
    ++received_;
    fresh = true;
  }
  return true;
}

void backfill_job::page_done(std::size_t fresh) {
  failures_ = 0;
  fruitless_ = fresh == 0 ? fruitless_ + 1 : 0;
}

bool backfill_job::failed(std::string why) {
  last_error_ = std::move(why);
  return ++failures_ >= max_failures;
}

std::int64_t backfill_job::retry_delay_ns() const { return std::int64_t{1'000'000'000} << std::min(failures_ - 1, 3); }

std::string backfill_job::give_up_reason(bool has_next) const {
  if (!has_next)
    return "the exchange's REST history does not reach back to them";
  if (fruitless_ >= max_fruitless_pages)
    return "the exchange's REST history returned no more of them";
  return {};
}

std::vector<backfill_job::missing_range> backfill_job::missing_ranges() const {
  std::vector<missing_range> out;
  std::int64_t i = 0;
  const auto n = static_cast<std::int64_t>(got_.size());
  while (i < n) {
    if (got_[static_cast<std::size_t>(i)]) {
      ++i;
      continue;
    }
    std::int64_t k = i;
    std::int64_t missing = 0;
    const bool last_range = out.size() + 1 == max_reported_ranges;
    while (k < n && (last_range || !got_[static_cast<std::size_t>(k)])) {
      missing += got_[static_cast<std::size_t>(k)] ? 0 : 1;
      ++k;
    }
    out.push_back({mi::venue::gap{g_.first_id + i, g_.first_id + k - 1, g_.after_ts_ns, g_.before_ts_ns}, missing});
    i = k;
  }
  return out;
}

} // namespace mi::actors
