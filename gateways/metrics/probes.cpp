#include "gateways/metrics/probes.hpp"

#include <prometheus/family.h>
#include <prometheus/gauge.h>

#include "messages/trade_admission.hpp"

namespace mi::gw {

std::string_view to_string(frame_reject r) { return r == frame_reject::malformed ? "malformed" : "bad_symbol"; }

std::string_view to_string(watchdog_action a) { return a == watchdog_action::reconnect ? "reconnect" : "resubscribe"; }

namespace {
constexpr std::array<std::string_view, 7> push_rejection_labels{
  "max_connections", "rate_limit", "message_too_large", "api_key_revoked", "trade_feeds", "slow_consumer", "other"};
}

std::string_view to_string(push_rejection r) { return push_rejection_labels[static_cast<std::size_t>(r)]; }

push_rejection parse_push_rejection(std::string_view s) {
  for (std::size_t i = 0; i < push_rejection_labels.size(); ++i)
    if (push_rejection_labels[i] == s)
      return static_cast<push_rejection>(i);
  return push_rejection::other;
}

std::string_view to_string(store_table t) { return t == store_table::trades ? "market_trades" : "market_klines"; }

void connection_probe::trade_rejected(mi::reject_reason r) {
  auto i = static_cast<std::size_t>(r);
  if (i < trades_rejected_.size())
    trades_rejected_[i].inc();
}

void connection_probe::symbol_status(std::string_view symbol, bool up) {
  if (symbol_up_ != nullptr)
    symbol_up_->Add({{"exchange", exchange_}, {"symbol", std::string(symbol)}}).Set(up ? 1 : 0);
}

void publisher_probe::publish_failed(std::string_view stream) {
  auto* s = streams_.load(std::memory_order_acquire);
  if (s != nullptr)
    s->failed[s->names.index_of(stream)].inc();
}

void kline_trades_probe::trade_skipped(mi::reject_reason r) {
  auto i = static_cast<std::size_t>(r);
  if (i < skipped_.size())
    skipped_[i].inc();
}

void storage_probe::audit_result(std::uint64_t trade_mismatches, std::uint64_t kline_mismatches,
                                 std::uint64_t trade_cells, std::uint64_t klines, double unix_seconds) {
  checked_[0].set(static_cast<double>(trade_cells));
  checked_[1].set(static_cast<double>(klines));
  mismatches_[0].set(static_cast<double>(trade_mismatches));
  mismatches_[1].set(static_cast<double>(kline_mismatches));
  last_run_.set(unix_seconds);
}

void api_probe::request(std::string_view route, int status, double seconds) {
  const auto r = routes_->index_of(route);
  std::size_t s = 0;
  while (s < statuses.size() && statuses[s] != status)
    ++s; // statuses.size(): "other"
  requests_[r * (statuses.size() + 1) + s].inc();
  latency_[r].observe(seconds);
}

} // namespace mi::gw
