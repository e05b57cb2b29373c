#pragma once

// One series of a Prometheus family, bound to its labels once and created at its first event.

#include <atomic>
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace prometheus {
class Counter;
class Gauge;
class Histogram;
template <class T>
class Family;
} // namespace prometheus

namespace mi::gw {

/// Label names to values (prometheus::Labels).
using label_map = std::map<std::string, std::string>;

/// One series of a family with its label values fixed when it is bound (by `metrics`, once per probe). The
/// prometheus series itself is created at the first event, so a scrape lists only series that moved (as it
/// always did); every later event is one atomic load and the increment: no label lookup, no lock, no allocation.
/// A series never bound ignores its events. Thread-safe.
template <class M>
class series {
public:
  series() = default;
  series(const series&) = delete;
  series& operator=(const series&) = delete;

  /// Binds the series to `family` with `labels` (histograms: `buckets` too). Called once, before any event.
  void bind(prometheus::Family<M>& family, label_map labels, const std::vector<double>* buckets = nullptr) {
    family_ = &family;
    labels_ = std::move(labels);
    buckets_ = buckets;
  }
  /// The label values this series was bound with (tests, messages).
  const label_map& labels() const { return labels_; }

protected:
  /// The prometheus series; created under a lock at the first call. Null when never bound.
  M* get() {
    M* m = metric_.load(std::memory_order_acquire);
    return m != nullptr ? m : create();
  }

private:
  M* create();

  prometheus::Family<M>* family_ = nullptr;
  label_map labels_;
  const std::vector<double>* buckets_ = nullptr;
  std::atomic<M*> metric_{nullptr};
};

/// A counter series.
class counter_series : public series<prometheus::Counter> {
public:
  /// Adds `v` (>= 0).
  void inc(double v = 1);
};

/// A gauge series.
class gauge_series : public series<prometheus::Gauge> {
public:
  void set(double v);
  void inc();
  void dec();
};

/// A histogram series.
class histogram_series : public series<prometheus::Histogram> {
public:
  void observe(double v);
};

/// A closed set of label values fixed at creation, plus "other" for anything else: a value outside the set
/// never creates a series of its own. index_of() is a linear match over the few values (no allocation, no lock).
class label_set {
public:
  /// The values, in order; "other" is appended unless present.
  explicit label_set(std::vector<std::string> values);
  /// The index of `v`, or of "other".
  std::size_t index_of(std::string_view v) const;
  /// Number of values, "other" included.
  std::size_t size() const { return values_.size(); }
  const std::string& operator[](std::size_t i) const { return values_[i]; }
  /// The index of "other".
  std::size_t other() const { return other_; }

private:
  std::vector<std::string> values_;
  std::size_t other_ = 0;
};

} // namespace mi::gw
