#include "gateways/push/push_resume.hpp"

#include <algorithm>

namespace mi::gw {

replay_window::replay_window(std::uint64_t since, std::uint64_t stream_first_seq, std::size_t max)
    : since_(since), first_kept_floor_(stream_first_seq), max_(max) {}

void replay_window::add(std::uint64_t seq, frame f) {
  if (seq <= since_)
    return;
  kept_.emplace_back(seq, std::move(f));
  if (kept_.size() > max_) {
    dropped_to_ = kept_.front().first;
    kept_.pop_front();
  }
}

std::optional<seq_gap> replay_window::gap() const {
  // Sequences below the stream's first are gone (retention); those pushed out by max were not replayed.
  std::uint64_t to = 0;
  if (first_kept_floor_ > since_ + 1)
    to = first_kept_floor_ - 1;
  to = std::max(to, dropped_to_);
  if (to <= since_)
    return std::nullopt;
  return seq_gap{since_ + 1, to};
}

void resume_splice::live(std::uint64_t seq, frame f) {
  live_.emplace_back(seq, std::move(f));
  if (live_.size() <= max_live_)
    return;
  const auto given_up = live_.front().first;
  live_.pop_front();
  if (given_up == 0)
    return; // an unstored partial: the next one supersedes it
  if (!lost_)
    lost_ = seq_gap{given_up, given_up};
  lost_->to = std::max(lost_->to, given_up);
}

void resume_splice::replayed(frame gap_frame, std::vector<std::pair<std::uint64_t, frame>> replayed) {
  ready_ = true;
  if (gap_frame)
    out_.push_back(std::move(gap_frame));
  for (auto& [seq, f] : replayed) {
    out_.push_back(std::move(f));
    last_sent_ = std::max(last_sent_, seq);
  }
}

std::size_t resume_splice::take(std::size_t n, std::vector<frame>& out, std::optional<seq_gap>& lost) {
  if (!ready_)
    return 0;
  std::size_t taken = 0;
  while (taken < n && !out_.empty()) {
    out.push_back(std::move(out_.front()));
    out_.pop_front();
    ++taken;
  }
  if (!out_.empty())
    return taken;
  // The live messages given up are only a hole where they were not replayed either.
  if (lost_ && lost_->to > last_sent_) {
    lost = seq_gap{std::max(lost_->from, last_sent_ + 1), lost_->to};
    last_sent_ = lost_->to;
    lost_.reset();
    return taken; // the caller sends the gap, then takes the rest
  }
  lost_.reset();
  while (taken < n && !live_.empty()) {
    auto& [seq, f] = live_.front();
    if (seq == 0 || seq > last_sent_) {
      out.push_back(std::move(f));
      last_sent_ = std::max(last_sent_, seq);
      ++taken;
    }
    live_.pop_front();
  }
  return taken;
}

} // namespace mi::gw
