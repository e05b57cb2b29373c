#pragma once
// The async publishes waiting for JetStream's ack, by id. Each publish gets the next id (its reply subject ends in
// it), so the ring is a deque indexed from the oldest id: adding, and taking on an ack, cost no allocation per
// publish, and the oldest waiting publish — the first whose deadline passes — is at the front. Not thread-safe: the
// gateway holds its lock around every call.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <utility>

namespace mi::gw {

template <class T>
class ack_ring {
public:
  using clock = std::chrono::steady_clock;

  /// The id the next add() gives.
  std::uint64_t next_id() const { return base_ + slots_.size(); }

  /// Adds a publish waiting until `deadline`; returns its id. Deadlines never go back (one ack timeout per gateway):
  /// an earlier one is taken as the latest so far.
  std::uint64_t add(T item, clock::time_point deadline) {
    if (!slots_.empty() && deadline < slots_.back().deadline)
      deadline = slots_.back().deadline;
    slots_.push_back(slot{std::move(item), deadline});
    ++live_;
    return next_id() - 1;
  }

  /// The publish an ack names, taken out; nullopt when the id is unknown or already taken (a late or repeated ack).
  std::optional<T> take(std::uint64_t id) {
    if (id < base_ || id - base_ >= slots_.size())
      return std::nullopt;
    auto& s = slots_[static_cast<std::size_t>(id - base_)];
    if (!s.item)
      return std::nullopt;
    std::optional<T> out = std::move(s.item);
    s.item.reset();
    --live_;
    trim();
    return out;
  }

  /// Takes out every publish whose deadline is at or before `now`, oldest first, calling f(T&&) for each.
  template <class F>
  void expire(clock::time_point now, F&& f) {
    while (!slots_.empty() && slots_.front().deadline <= now) {
      T item = std::move(*slots_.front().item); // trim() keeps a live slot at the front
      slots_.pop_front();
      ++base_;
      --live_;
      trim();
      f(std::move(item));
    }
  }

  /// The earliest deadline of a waiting publish.
  std::optional<clock::time_point> next_deadline() const {
    if (slots_.empty())
      return std::nullopt;
    return slots_.front().deadline;
  }

  /// Publishes waiting.
  std::size_t live() const { return live_; }
  /// Slots held (waiting publishes and the answered ones behind the oldest waiting one).
  std::size_t slots() const { return slots_.size(); }

  /// Takes out every waiting publish, oldest first.
  template <class F>
  void take_all(F&& f) {
    for (auto& s : slots_)
      if (s.item)
        f(std::move(*s.item));
    base_ += slots_.size();
    slots_.clear();
    live_ = 0;
  }

private:
  struct slot {
    std::optional<T> item;
    clock::time_point deadline;
  };
  // Drops answered slots at the front, so the front is always a waiting publish.
  void trim() {
    while (!slots_.empty() && !slots_.front().item) {
      slots_.pop_front();
      ++base_;
    }
  }

  std::deque<slot> slots_;
  std::uint64_t base_ = 1; ///< the id of slots_.front()
  std::size_t live_ = 0;
};

} // namespace mi::gw
