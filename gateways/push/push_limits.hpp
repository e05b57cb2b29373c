#pragma once

// The push gateway's limits as plain classes (no I/O, no clock: time is passed in).

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>
#include <utility>

namespace mi::gw {

/// Identifies one client connection for the life of a server (never reused).
using client_id = std::uint64_t;

/// A token bucket in integer arithmetic: holds at most `burst` tokens, refills `rate_per_second`
/// tokens per second; each message takes one. Used per client for its inbound message rate.
class token_bucket {
public:
  using time_point = std::chrono::steady_clock::time_point;
  /// Starts full. `rate_per_second` and `burst` are at least 1 (smaller values count as 1).
  token_bucket(std::uint32_t rate_per_second, std::uint32_t burst, time_point now);
  /// Takes one token; false (nothing taken) when the bucket is empty at `now`.
  bool try_take(time_point now);
  /// Whole tokens available at the last call.
  std::uint64_t available() const { return units_ / unit; }

private:
  static constexpr std::int64_t unit = 1'000'000'000; // one token, in rate-units per nanosecond
  std::int64_t rate_;
  std::int64_t capacity_; // burst * unit
  std::int64_t units_;
  time_point last_;
};

/// Which clients hold which channels; reports a channel's first subscriber and its last one
/// leaving (to start and stop a feed only while someone listens). Duplicates are ignored.
class subscription_index {
public:
  /// Adds the channels; returns those that had no subscriber before (in the order given).
  std::vector<std::string> add(client_id c, const std::vector<std::string>& channels);
  /// Removes the channels; returns those that now have no subscriber.
  std::vector<std::string> remove(client_id c, const std::vector<std::string>& channels);
  /// Removes every channel of a client (it left); returns those that now have no subscriber.
  std::vector<std::string> remove_client(client_id c);
  /// Subscribers of a channel; nullptr when none.
  const std::set<client_id>* subscribers(const std::string& channel) const;
  /// Channels with at least one subscriber.
  std::size_t channels() const { return by_channel_.size(); }
  /// Channels a client holds.
  std::size_t channels_of(client_id c) const;

private:
  std::unordered_map<std::string, std::set<client_id>> by_channel_;
  std::unordered_map<client_id, std::set<std::string>> by_client_;
};

/// A client's outgoing frames in order: a ring that grows by doubling and never shrinks (no allocation per frame
/// once it has its size), counting messages and bytes, with conflation by key. Not thread-safe: the session's
/// strand owns it. The front may be "in flight" (being written): `replace` and `drop_after` leave it alone when
/// told so.
class send_queue {
public:
  using frame = std::shared_ptr<const std::string>;
  /// Appends a frame (`key` 0: never conflated).
  void push_back(frame f, std::uint64_t key);
  /// Replaces the frame waiting with `key` (key != 0), skipping the front when `front_in_flight`; false when none.
  /// Bytes change by the size difference.
  bool replace(std::uint64_t key, frame f, bool front_in_flight);
  /// The oldest frame; the queue must not be empty.
  const frame& front() const { return ring_[head_].f; }
  /// Removes the oldest frame; returns its size in bytes.
  std::size_t pop_front();
  /// Drops every frame after the first `keep`; returns {frames, bytes} dropped.
  std::pair<std::size_t, std::size_t> drop_after(std::size_t keep);
  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  /// Bytes of the frames in the queue.
  std::size_t bytes() const { return bytes_; }

private:
  struct slot {
    frame f;
    std::uint64_t key = 0;
  };
  std::size_t at(std::size_t i) const { return (head_ + i) & (ring_.size() - 1); }
  std::vector<slot> ring_; // size a power of two (or 0)
  std::size_t head_ = 0, size_ = 0, bytes_ = 0;
};

} // namespace mi::gw
