#include "gateways/push/push_limits.hpp"

#include <algorithm>

namespace mi::gw {

token_bucket::token_bucket(std::uint32_t rate_per_second, std::uint32_t burst, time_point now)
    : rate_(std::max<std::int64_t>(1, rate_per_second)), capacity_(std::max<std::int64_t>(1, burst) * unit),
      units_(capacity_), last_(now) {}

bool token_bucket::try_take(time_point now) {
  if (now > last_) {
    // Refill, capping the elapsed time first so the product cannot overflow.
    const std::int64_t full_after_ns = capacity_ / rate_ + 1;
    const std::int64_t ns =
      std::min<std::int64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(now - last_).count(), full_after_ns);
    units_ = std::min(capacity_, units_ + ns * rate_);
    last_ = now;
  }
  if (units_ < unit)
    return false;
  units_ -= unit;
  return true;
}

std::vector<std::string> subscription_index::add(client_id c, const std::vector<std::string>& channels) {
  std::vector<std::string> first;
  auto& mine = by_client_[c];
  for (const auto& ch : channels) {
    if (!mine.insert(ch).second)
      continue;
    auto& subs = by_channel_[ch];
    if (subs.empty())
      first.push_back(ch);
    subs.insert(c);
  }
  if (mine.empty())
    by_client_.erase(c);
  return first;
}

std::vector<std::string> subscription_index::remove(client_id c, const std::vector<std::string>& channels) {
  std::vector<std::string> last;
  auto mine = by_client_.find(c);
  if (mine == by_client_.end())
    return last;
  for (const auto& ch : channels) {
    if (mine->second.erase(ch) == 0)
      continue;
    auto it = by_channel_.find(ch);
    if (it == by_channel_.end())
      continue;
    it->second.erase(c);
    if (it->second.empty()) {
      by_channel_.erase(it);
      last.push_back(ch);
    }
  }
  if (mine->second.empty())
    by_client_.erase(mine);
  return last;
}

std::vector<std::string> subscription_index::remove_client(client_id c) {
  auto mine = by_client_.find(c);
  if (mine == by_client_.end())
    return {};
  std::vector<std::string> all(mine->second.begin(), mine->second.end());
  return remove(c, all);
}

const std::set<client_id>* subscription_index::subscribers(const std::string& channel) const {
  auto it = by_channel_.find(channel);
  return it == by_channel_.end() ? nullptr : &it->second;
}

std::size_t subscription_index::channels_of(client_id c) const {
  auto it = by_client_.find(c);
  return it == by_client_.end() ? 0 : it->second.size();
}

void send_queue::push_back(frame f, std::uint64_t key) {
  if (size_ == ring_.size()) {
    std::vector<slot> bigger(ring_.empty() ? 4 : ring_.size() * 2);
    for (std::size_t i = 0; i < size_; ++i)
      bigger[i] = std::move(ring_[at(i)]);
    ring_ = std::move(bigger);
    head_ = 0;
  }
  bytes_ += f ? f->size() : 0;
  ring_[at(size_)] = slot{std::move(f), key};
  ++size_;
}

bool send_queue::replace(std::uint64_t key, frame f, bool front_in_flight) {
  if (key == 0)
    return false;
  for (std::size_t i = size_; i-- > (front_in_flight ? 1U : 0U);) { // newest first: the likely match
    auto& s = ring_[at(i)];
    if (s.key != key)
      continue;
    bytes_ = bytes_ - (s.f ? s.f->size() : 0) + (f ? f->size() : 0);
    s.f = std::move(f);
    return true;
  }
  return false;
}

std::size_t send_queue::pop_front() {
  auto& s = ring_[head_];
  const std::size_t n = s.f ? s.f->size() : 0;
  s = slot{};
  head_ = at(1);
  --size_;
  bytes_ -= n;
  return n;
}

std::pair<std::size_t, std::size_t> send_queue::drop_after(std::size_t keep) {
  std::size_t frames = 0, bytes = 0;
  while (size_ > keep) {
    auto& s = ring_[at(size_ - 1)];
    bytes += s.f ? s.f->size() : 0;
    s = slot{};
    --size_;
    ++frames;
  }
  bytes_ -= bytes;
  return {frames, bytes};
}

} // namespace mi::gw
