#include "actors/storage_maintainer.hpp"
#include "actors/inspection.hpp"

#include <spdlog/spdlog.h>

#include "actors/audit.hpp"
#include "actors/caf_types.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/util/clock.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::actors {
namespace {

struct maintainer_state {
  static inline const char* name = "mi.storage_maintainer";
  storage_maintainer_args args;
};

using maintainer_actor = caf::stateful_actor<maintainer_state>;

using mi::util::now_ns;

void maintain(maintainer_actor* self) {
  auto& a = self->state.args;
  auto r = mi::gw::maintain_partitions(a.dsn, a.policy, now_ns());
  if (!r) {
    spdlog::warn("storage: {}; retrying in {} s", r.err().message,
                 std::chrono::duration_cast<std::chrono::seconds>(a.maintenance_interval).count());
    return;
  }
  for (const auto& n : r->created)
    spdlog::info("storage: partition {} created", n);
  for (const auto& n : r->dropped)
    spdlog::info("storage: partition {} dropped (retention)", n);
  if (r->moved_from_default > 0)
    spdlog::info("storage: {} rows moved out of a DEFAULT partition", r->moved_from_default);
  a.metrics->storage().partition_default_rows(mi::gw::store_table::trades, r->default_rows_trades);
  a.metrics->storage().partition_default_rows(mi::gw::store_table::klines, r->default_rows_klines);
  if (r->default_rows_trades + r->default_rows_klines > 0)
    spdlog::warn("storage: DEFAULT partitions hold {} trades and {} klines (times outside the partitions "
                 "created; they move when their partition is created)",
                 r->default_rows_trades, r->default_rows_klines);
}

void audit(maintainer_actor* self) {
  auto& a = self->state.args;
  constexpr std::int64_t hour_ms = 3'600'000;
  const std::int64_t to_ms = now_ns() / 1'000'000 / hour_ms * hour_ms; // the previous complete hour
  auto r = run_audit(*a.js, a.raw_stream, a.dsn, to_ms - hour_ms, to_ms);
  if (!r) {
    spdlog::warn("scheduled audit: {}", r.err().message);
    return;
  }
  for (const auto& line : r->lines)
    spdlog::error("audit mismatch: {}", line);
  if (auto rec = mi::gw::record_audit(a.dsn, r->cells); !rec) // the verdicts per hour, for coverage
    spdlog::warn("scheduled audit: {}", rec.err().message);
  spdlog::info("scheduled audit {} .. {}: {} cells, {} klines, {} mismatches", mi::util::iso8601_ms(to_ms - hour_ms),
               mi::util::iso8601_ms(to_ms), r->hours_checked, r->klines_checked,
               r->trade_mismatches + r->kline_mismatches);
  a.metrics->storage().audit_result(r->trade_mismatches, r->kline_mismatches, r->hours_checked, r->klines_checked,
                                    static_cast<double>(now_ns()) / 1e9);
}

caf::behavior storage_maintainer(maintainer_actor* self, storage_maintainer_args args) {
  self->state.args = std::move(args);
  self->send(self, tick_atom::value);
  if (self->state.args.audit_interval.count() > 0 && self->state.args.js != nullptr)
    self->delayed_send(self, self->state.args.audit_interval, audit_atom::value);
  caf::behavior handlers{
    [self](tick_atom) {
      maintain(self);
      self->delayed_send(self, self->state.args.maintenance_interval, tick_atom::value);
    },
    [self](audit_atom) {
      audit(self);
      self->delayed_send(self, self->state.args.audit_interval, audit_atom::value);
    },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "storage_maintainer", "storage", std::move(handlers));
}

} // namespace

caf::actor spawn_storage_maintainer(caf::actor_system& sys, storage_maintainer_args args) {
  return sys.spawn<caf::detached>(storage_maintainer, std::move(args));
}

} // namespace mi::actors
