#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// The keys of a KV bucket that one owner at a time may write (the checkpoints of a kline partition), written with
/// revision checks so that an owner that lost the keys cannot overwrite what the next owner read.
///
/// The next owner calls take_over() on every key it reads at start-up: each key is read from the stream leader and
/// written again at that revision, so a write the previous owner had in flight either lands first (the take-over
/// reads it back and retries) or is refused (its revision is no longer the key's). Every later write() is checked
/// against the revision this object last read or wrote.
///
/// A refused write means someone else wrote the key since. While the owner has not lost the keys (`lost` unset: the
/// lease is still held), that writer was a previous owner finishing late, or this owner's own write whose answer
/// timed out: the key is read back and written again at its new revision (counted in overwritten()). Once `lost` is
/// set write() gives up (false): the keys belong to the next owner. Not thread-safe: one owner writes from one thread.
class fenced_kv {
public:
  fenced_kv(jetstream& js, std::string bucket) : js_(&js), bucket_(std::move(bucket)) {}

  /// Reads `key` from the leader and writes its value back at that revision (nothing when absent): the value now
  /// owned, nullopt when absent. An error when the server cannot be asked (the caller retries or fails).
  mi::result<std::optional<std::string>> take_over(const std::string& key);

  /// Reads `key` from the leader (no write): its value, remembering its revision for the next write().
  mi::result<std::optional<std::string>> read(const std::string& key);

  /// Stores `value` under `key` if no one else wrote it since this object last did (see the class comment).
  /// True when stored; false when `lost` was set before it could be; an error when the server could not be asked
  /// (the caller retries) or the key kept changing under it.
  mi::result<bool> write(const std::string& key, std::string_view value, const std::atomic<bool>* lost = nullptr);

  /// Drops what this object knows of `key`: for a key the owner may not write again for a long time (a passivated
  /// symbol's checkpoint), since remembering every key ever written grows with every symbol ever seen. The next
  /// write() of the key is refused at revision 0 if the key exists, reads it back and writes at its revision: one
  /// more round trip, and not counted in overwritten().
  void forget(const std::string& key) { revisions_.erase(key); }
  /// Keys whose revision this object knows.
  std::size_t known() const { return revisions_.size(); }

  /// Refused writes that were written again because the owner still held the keys: a write at a revision this
  /// object knew, refused because a late previous owner or a timed-out own write changed the key since. A refused
  /// first write of a key it knew nothing of (absent at take-over, or forgotten) is not counted.
  std::uint64_t overwritten() const { return overwritten_; }
  /// The revision last read or written for `key` (0: none known, the next write creates it).
  std::uint64_t revision(const std::string& key) const;

private:
  jetstream* js_;
  std::string bucket_;
  std::unordered_map<std::string, std::uint64_t> revisions_;
  std::uint64_t overwritten_ = 0;
};

} // namespace mi::gw
