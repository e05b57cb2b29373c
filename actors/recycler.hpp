#pragma once
// Emptied vectors kept with their capacity, for a producer that fills one per round and hands it to another actor
// (docs/performance.md §26). Gathering a take of trades into a fresh vector grows it through sizes of a kilobyte and
// more: for glibc's malloc each of those is a "large" request, which first consolidates every freed small chunk
// (malloc_consolidate), so each take paid for the frees of the one before. A vector taken from here already has the
// room. Thread-safe: the producer takes on its thread, the consumer gives back on another.
#include <cstddef>
#include <mutex>
#include <utility>
#include <vector>

namespace mi::actors {

template <class Vector>
class recycler {
public:
  /// Keeps at most `max_kept` vectors, each of a capacity of at most `max_capacity` elements (a burst's bigger one is
  /// freed, not kept).
  explicit recycler(std::size_t max_kept = 16, std::size_t max_capacity = 4096)
      : max_kept_(max_kept), max_capacity_(max_capacity) {}
  recycler(const recycler&) = delete;
  recycler& operator=(const recycler&) = delete;

  /// An empty vector: one given back (with its capacity) when there is one, else a new one.
  Vector take() {
    std::lock_guard lock(mu_);
    if (kept_.empty())
      return Vector{};
    Vector v = std::move(kept_.back());
    kept_.pop_back();
    return v;
  }
  /// Its elements are destroyed; the vector is kept for take() unless enough are kept or it is too big.
  void give(Vector&& v) {
    v.clear();
    if (v.capacity() == 0 || v.capacity() > max_capacity_)
      return;
    std::lock_guard lock(mu_);
    if (kept_.size() < max_kept_)
      kept_.push_back(std::move(v));
  }
  std::size_t kept() const {
    std::lock_guard lock(mu_);
    return kept_.size();
  }

private:
  std::size_t max_kept_;
  std::size_t max_capacity_;
  mutable std::mutex mu_;
  std::vector<Vector> kept_;
};

} // namespace mi::actors
