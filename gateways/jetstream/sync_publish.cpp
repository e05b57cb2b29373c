#include "gateways/jetstream/sync_publish.hpp"

#include <algorithm>

namespace mi::gw {

std::chrono::milliseconds retry_policy::delay_after(int failed) const {
  auto d = initial;
  for (int i = 1; i < failed && d < max; ++i)
    d *= 2;
  return std::min(d, max);
}

mi::result<std::pair<std::uint64_t, bool>> publish_acked(jetstream& js, const outgoing& m, const retry_policy& p,
                                                         const retry_listener& on_retry,
                                                         const std::atomic<bool>* cancel) {
  return with_retries(
    p, [&] { return js.publish_sync(m); }, on_retry, cancel);
}

} // namespace mi::gw
