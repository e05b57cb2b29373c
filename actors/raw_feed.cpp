#include "actors/raw_feed.hpp"

namespace mi::actors {

local_raw_feed::local_raw_feed(std::string stream) : stream_(std::move(stream)) {}

local_raw_feed::subscription::~subscription() {
  std::lock_guard lock(feed_->mu_);
  feed_->readers_.erase(id_);
}

std::unique_ptr<local_raw_feed::subscription> local_raw_feed::attach(const std::shared_ptr<local_raw_feed>& feed,
                                                                     reader r) {
  std::lock_guard lock(feed->mu_);
  const auto id = feed->next_id_++;
  feed->readers_.emplace(id, std::move(r));
  return std::unique_ptr<subscription>(new subscription(feed, id));
}

void local_raw_feed::offer(std::string_view stream, std::uint64_t seq, std::string_view subject,
                           std::string_view data) {
  if (stream != stream_)
    return;
  std::lock_guard lock(mu_);
  for (auto& [id, r] : readers_) {
    const bool wanted = r.wanted(subject);
    auto put =
      r.in->put_at_most(raw_entry{seq, wanted ? std::string(data) : std::string(), 0, !wanted, true}, r.at_most);
    if (!put)
      dropped_.fetch_add(1, std::memory_order_relaxed);
    else if (*put)
      r.ring();
  }
}

raw_sequencer::verdict raw_sequencer::accept_local(raw_entry& e) {
  if (e.seq <= last_)
    return verdict::skip;
  if (e.seq == last_ + 1) { // the common case on an ingest node: nothing held, nothing allocated
    last_ = e.seq;
    return verdict::handle;
  }
  if (held_.size() >= max_held_) {
    ++dropped_;
    return verdict::held; // as good as held: the stream reader brings it
  }
  held_.emplace(e.seq, std::move(e));
  return verdict::held;
}

bool raw_sequencer::next_held(raw_entry& out) {
  while (!held_.empty()) {
    auto first = held_.begin();
    if (first->first > last_ + 1)
      return false;
    if (first->first == last_ + 1) {
      out = std::move(first->second);
      last_ = first->first;
      held_.erase(first);
      return true;
    }
    held_.erase(first); // handled already (the stream reader brought it)
  }
  return false;
}

} // namespace mi::actors
