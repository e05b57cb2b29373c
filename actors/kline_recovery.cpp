#include "actors/kline_recovery.hpp"

#include <algorithm>
#include <limits>

namespace mi::actors {

std::uint64_t kline_recovery::begin(std::uint64_t global, std::uint64_t stream_first) {
  start_seq_ = std::max<std::uint64_t>({global, stream_first, 1});
  return start_seq_;
}

void kline_recovery::restore(const std::string& key, checkpoint_ptr cp) { restored_[key] = std::move(cp); }

kline_recovery::checkpoint_ptr kline_recovery::take_restored(const std::string& key) {
  auto r = restored_.find(key);
  if (r == restored_.end())
    return nullptr;
  auto cp = std::move(r->second);
  restored_.erase(r);
  return cp;
}

void kline_recovery::started(const std::string& key, const checkpoint_ptr& cp, std::uint64_t seq) {
  first_seq_.emplace(key, cp ? std::min(cp->min_resume_seq(), seq) : seq);
}

void kline_recovery::stored(const std::string& key, std::uint64_t min_resume) {
  if (live(key))
    durable_[key] = min_resume;
}

bool kline_recovery::may_passivate(const std::string& key, std::uint64_t last_seq) {
  // A trade forwarded after the window reported idle wins: it stays.
  return live(key) && last_sent_[key] == last_seq;
}

void kline_recovery::passivated(const std::string& key, checkpoint_ptr cp) {
  restored_[key] = std::move(cp);
  ever_passivated_ = true;
  ++storing_[key];
  first_seq_.erase(key);
  last_sent_.erase(key);
}

void kline_recovery::passivation_stored(const std::string& key) {
  auto pending = storing_.find(key);
  if (pending != storing_.end() && --pending->second > 0)
    return; // passivated again meanwhile: that newer checkpoint is not stored yet
  if (pending != storing_.end())
    storing_.erase(pending);
  if (live(key))
    return; // traded again meanwhile: the live window has the state
  restored_.erase(key);
  durable_.erase(key);
}

std::uint64_t kline_recovery::global_resume() const {
  std::uint64_t g = std::numeric_limits<std::uint64_t>::max();
  for (const auto& [key, seq] : first_seq_) {
    auto d = durable_.find(key);
    g = std::min(g, d != durable_.end() ? d->second : seq);
  }
  for (const auto& [key, cp] : restored_)
    if (first_seq_.count(key) == 0)
      g = std::min(g, cp->min_resume_seq());
  return g == std::numeric_limits<std::uint64_t>::max() ? start_seq_ : std::max(g, start_seq_);
}

} // namespace mi::actors
