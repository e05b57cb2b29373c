#include "connectors/transport/backoff.hpp"

#include <algorithm>

namespace mi::net {

backoff::backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max,
                 std::chrono::milliseconds healthy_after, std::uint64_t seed)
    : initial_(std::max(initial, std::chrono::milliseconds{1})), max_(std::max(max, initial_)),
      healthy_after_(healthy_after), state_(seed) {}

std::uint64_t backoff::next_random() {
  // splitmix64: tiny, seedable, good enough for jitter
  std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::chrono::milliseconds backoff::current_cap() const {
  std::int64_t cap = initial_.count();
  for (std::uint32_t i = 0; i < attempt_ && cap < max_.count(); ++i)
    cap *= 2;
  return std::chrono::milliseconds{std::min<std::int64_t>(cap, max_.count())};
}

std::chrono::milliseconds backoff::next_delay() {
  const auto cap = current_cap().count();
  if (attempt_ < 64)
    ++attempt_;
  return std::chrono::milliseconds{static_cast<std::int64_t>(next_random() % static_cast<std::uint64_t>(cap + 1))};
}

void backoff::on_connected(std::int64_t now_ns) { connected_ns_ = now_ns; }

void backoff::on_disconnected(std::int64_t now_ns) {
  if (connected_ns_ && now_ns - *connected_ns_ >= std::chrono::nanoseconds(healthy_after_).count())
    attempt_ = 0;
  connected_ns_.reset();
}

} // namespace mi::net
