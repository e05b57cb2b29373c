#include "gateways/jetstream/event_times.hpp"

#include <algorithm>
#include <bit>

namespace mi::gw {

event_times::event_times(std::size_t window) {
  const std::size_t n = std::bit_ceil(std::max<std::size_t>(window, 8) * 2);
  slots_.resize(n);
  mask_ = n - 1;
}

std::size_t event_times::home(const void* key) const {
  // Message handles are heap addresses: mix the bits (Fibonacci hashing) so neighbours spread over the slots.
  const auto x = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(key));
  return static_cast<std::size_t>((x * 0x9E3779B97F4A7C15ULL) >> 17) & mask_;
}

void event_times::put(const void* key, std::int64_t ts_ns) {
  if ((size_ + 1) * 2 > slots_.size())
    grow();
  for (std::size_t i = home(key);; i = (i + 1) & mask_) {
    slot& s = slots_[i];
    if (s.key == key) {
      s.ts_ns = ts_ns;
      return;
    }
    if (s.key == nullptr) {
      s = slot{key, ts_ns};
      ++size_;
      return;
    }
  }
}

std::int64_t event_times::take(const void* key) {
  std::size_t i = home(key);
  for (;; i = (i + 1) & mask_) {
    if (slots_[i].key == nullptr)
      return 0;
    if (slots_[i].key == key)
      break;
  }
  const std::int64_t ts = slots_[i].ts_ns;
  // Backward-shift deletion (no tombstones): move up each later entry of the run that may not sit beyond the hole.
  std::size_t hole = i;
  for (std::size_t j = (i + 1) & mask_; slots_[j].key != nullptr; j = (j + 1) & mask_) {
    const std::size_t h = home(slots_[j].key);
    // j's entry may fill the hole when its home is not in the cyclic range (hole, j].
    const bool in_range = hole <= j ? (h > hole && h <= j) : (h > hole || h <= j);
    if (!in_range) {
      slots_[hole] = slots_[j];
      hole = j;
    }
  }
  slots_[hole] = slot{};
  --size_;
  return ts;
}

void event_times::grow() {
  std::vector<slot> old(slots_.size() * 2);
  old.swap(slots_);
  mask_ = slots_.size() - 1;
  size_ = 0;
  for (const slot& s : old)
    if (s.key != nullptr)
      put(s.key, s.ts_ns);
}

} // namespace mi::gw
