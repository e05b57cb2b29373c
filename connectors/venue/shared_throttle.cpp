#include "connectors/venue/shared_throttle.hpp"

#include <map>
#include <string>

namespace mi::venue {

std::shared_ptr<shared_rest_throttle> shared_rest_throttle::of(std::string_view venue, const rest_limits& l) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<shared_rest_throttle>, std::less<>> all;
  std::lock_guard lock(mu);
  auto it = all.find(venue);
  if (it == all.end())
    it = all.emplace(std::string(venue), std::make_shared<shared_rest_throttle>(l)).first;
  return it->second;
}

std::int64_t shared_rest_throttle::wait_ns(std::int64_t now_ns) const {
  std::lock_guard lock(mu_);
  return t_.wait_ns(now_ns);
}

std::int64_t shared_rest_throttle::acquire(std::int64_t now_ns) {
  std::lock_guard lock(mu_);
  const auto w = t_.wait_ns(now_ns);
  if (w == 0)
    t_.on_request(now_ns);
  return w;
}

void shared_rest_throttle::on_request(std::int64_t now_ns) {
  std::lock_guard lock(mu_);
  t_.on_request(now_ns);
}

rest_throttle::outcome shared_rest_throttle::on_answer(std::int64_t now_ns, unsigned status,
                                                       std::string_view retry_after, std::string_view used_weight) {
  std::lock_guard lock(mu_);
  return t_.on_answer(now_ns, status, retry_after, used_weight);
}

} // namespace mi::venue
