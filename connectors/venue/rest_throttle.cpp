#include "connectors/venue/rest_throttle.hpp"
#include "messages/util/text.hpp"

#include <algorithm>
#include <charconv>

namespace mi::venue {
namespace {

constexpr std::int64_t minute_ns = 60'000'000'000;
constexpr std::int64_t max_retry_after_s = 7 * 24 * 3600; // a 418 ban lasts up to 3 days

} // namespace

std::optional<std::int64_t> retry_after_seconds(std::string_view value) {
  value = mi::util::trim(value, " \t"); // HTTP optional white space
  if (value.empty() || value.size() > 12 || value.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
  if (ec != std::errc{} || end != value.data() + value.size())
    return std::nullopt;
  return std::min(v, max_retry_after_s);
}

std::int64_t rest_throttle::wait_ns(std::int64_t now_ns) const {
  std::int64_t at = std::max(next_ns_, blocked_until_ns_);
  if (l_.weight_per_minute > 0 && now_ns / minute_ns == minute_) {
    const std::int64_t budget = l_.weight_per_minute * budget_percent / 100;
    if (used_ + l_.request_weight > budget)
      at = std::max(at, (minute_ + 1) * minute_ns); // the next minute
  }
  return std::max<std::int64_t>(0, at - now_ns);
}

void rest_throttle::on_request(std::int64_t now_ns) {
  next_ns_ = now_ns + l_.min_interval_ns;
  if (l_.weight_per_minute <= 0)
    return;
  const std::int64_t minute = now_ns / minute_ns;
  if (minute != minute_) {
    minute_ = minute;
    used_ = 0;
  }
  used_ += l_.request_weight;
}

rest_throttle::outcome rest_throttle::on_answer(std::int64_t now_ns, unsigned status, std::string_view retry_after,
                                                std::string_view used_weight) {
  if (l_.weight_per_minute > 0 && !used_weight.empty()) {
    // The exchange's count covers every client behind our IP: trust it over our own.
    if (auto w = retry_after_seconds(used_weight)) { // the same "digits only" rule
      const std::int64_t minute = now_ns / minute_ns;
      if (minute != minute_)
        minute_ = minute;
      used_ = *w;
    }
  }
  const bool limited = status == 429 || (l_.ban_status != 0 && status == l_.ban_status);
  if (!limited)
    return outcome::ok;
  const auto secs = retry_after_seconds(retry_after);
  const std::int64_t wait =
    secs ? std::max<std::int64_t>(*secs * 1'000'000'000, l_.min_interval_ns) : l_.default_retry_after_ns;
  blocked_until_ns_ = std::max(blocked_until_ns_, now_ns + wait);
  return outcome::throttled;
}

} // namespace mi::venue
