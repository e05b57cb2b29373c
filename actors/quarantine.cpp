#include "actors/quarantine.hpp"

#include <spdlog/spdlog.h>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"
#include "messages/util/text.hpp"

namespace mi::actors {

namespace {
constexpr std::int64_t log_every_ns = 10'000'000'000;
} // namespace

std::optional<mi::gw::outgoing> quarantine::check(const mi::trade& t, std::int64_t now_ns) {
  auto verdict = mi::admit_trade(t, limits_);
  if (verdict.admitted())
    return std::nullopt;
  const auto reason = mi::to_string(verdict.reason);
  if (probe_ != nullptr)
    probe_->trade_rejected(verdict.reason);
  auto& p = pace_[static_cast<std::size_t>(verdict.reason)];
  if (p.last_log_ns == 0 || now_ns - p.last_log_ns >= log_every_ns) {
    spdlog::warn("{}: trade {} of {} quarantined on market.rejected ({}): {}{}", exchange_,
                 mi::util::escape_controls(t.trade_id), t.symbol, reason, verdict.detail,
                 p.unlogged > 0 ? " (" + std::to_string(p.unlogged) + " more since the last line)" : std::string());
    p.last_log_ns = now_ns;
    p.unlogged = 0;
  } else {
    ++p.unlogged;
  }
  return rejected_trade_message(t, verdict);
}

mi::gw::outgoing rejected_trade_message(const mi::trade& t, const mi::admission& verdict) {
  // Header values are one line of text: the dedup id holds the trade id with its control characters as %XX.
  mi::trade id_only;
  id_only.exchange = t.exchange;
  id_only.symbol = t.symbol;
  id_only.trade_id = mi::util::escape_controls(t.trade_id);
  return mi::gw::outgoing{"market.rejected." + t.exchange + "." + t.symbol,
                          mi::dedup_id(id_only),
                          std::string(mi::trade_content_type),
                          mi::encode_trade_pb(t),
                          {{"Mi-Reject-Reason", std::string(mi::to_string(verdict.reason))},
                           {"Mi-Reject-Detail", mi::util::escape_controls(verdict.detail)}}};
}

} // namespace mi::actors
