#include "messages/calendar/calendar_feed.hpp"

#include <utility>

namespace mi::calendar {

calendar_feed::calendar_feed(std::shared_ptr<const calendar_set> first)
    : set_(first ? std::move(first) : std::make_shared<const calendar_set>()) {}

std::shared_ptr<const calendar_set> calendar_feed::current() const {
  std::lock_guard lock(mu_);
  return set_;
}

void calendar_feed::replace(std::shared_ptr<const calendar_set> next) {
  if (!next)
    return;
  {
    std::lock_guard lock(mu_);
    set_ = std::move(next);
  }
  version_.fetch_add(1, std::memory_order_acq_rel);
}

bool same_days(const calendar& a, const calendar& b) {
  return a.market() == b.market() && a.time_zone() == b.time_zone() && a.always_open() == b.always_open() &&
         a.segments() == b.segments() && a.opening_auction() == b.opening_auction() &&
         a.closing_auction() == b.closing_auction() && a.first_date() == b.first_date() &&
         a.last_date() == b.last_date() && a.day_rules() == b.day_rules();
}

} // namespace mi::calendar
