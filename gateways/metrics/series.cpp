#include "gateways/metrics/series.hpp"

#include <algorithm>
#include <mutex>
#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <type_traits>

namespace mi::gw {

namespace {
// Creating a series is rare (its first event); one lock for all keeps Family::Add of histograms, which builds
// bucket vectors, from racing.
std::mutex create_mu;
} // namespace

template <class M>
M* series<M>::create() {
  if (family_ == nullptr)
    return nullptr;
  std::lock_guard<std::mutex> lock(create_mu);
  M* m = metric_.load(std::memory_order_relaxed);
  if (m != nullptr)
    return m;
  if constexpr (std::is_same_v<M, prometheus::Histogram>)
    m = &family_->Add(labels_, *buckets_);
  else
    m = &family_->Add(labels_);
  metric_.store(m, std::memory_order_release);
  return m;
}

template class series<prometheus::Counter>;
template class series<prometheus::Gauge>;
template class series<prometheus::Histogram>;

void counter_series::inc(double v) {
  if (auto* c = get())
    c->Increment(v);
}
void gauge_series::set(double v) {
  if (auto* g = get())
    g->Set(v);
}
void gauge_series::inc() {
  if (auto* g = get())
    g->Increment();
}
void gauge_series::dec() {
  if (auto* g = get())
    g->Decrement();
}
void histogram_series::observe(double v) {
  if (auto* h = get())
    h->Observe(v);
}

label_set::label_set(std::vector<std::string> values) : values_(std::move(values)) {
  auto it = std::find(values_.begin(), values_.end(), "other");
  if (it == values_.end()) {
    values_.emplace_back("other");
    it = values_.end() - 1;
  }
  other_ = static_cast<std::size_t>(it - values_.begin());
}

std::size_t label_set::index_of(std::string_view v) const {
  for (std::size_t i = 0; i < values_.size(); ++i)
    if (values_[i] == v)
      return i;
  return other_;
}

} // namespace mi::gw
