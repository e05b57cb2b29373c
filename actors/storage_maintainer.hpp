#pragma once

#include <chrono>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "gateways/postgres/partitions.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::actors {

/// Settings of the store role's housekeeping.
struct storage_maintainer_args {
  std::string dsn;                                           ///< PostgreSQL conninfo
  mi::gw::partition_policy policy;                           ///< partitions ahead, retention
  std::chrono::milliseconds maintenance_interval{3'600'000}; ///< partition maintenance period
  std::chrono::milliseconds audit_interval{3'600'000};       ///< scheduled audit period; 0 = off
  mi::gw::jetstream* js = nullptr;                           ///< for the audit's stream scan
  std::string raw_stream = "MARKET_RAW";                     ///< the trades stream
  mi::gw::metrics* metrics = nullptr;                        ///< mi_partition_default_rows, mi_audit_*
};

/// Detached actor (libpqxx blocks): maintains the partitions at once and then every
/// maintenance_interval (create ahead, move DEFAULT rows, drop past retention; the rows left in
/// DEFAULT go to mi_partition_default_rows{table} and a warning), and every audit_interval audits
/// the previous complete UTC hour (mi_audit_mismatches{kind}, mi_audit_last_run_timestamp_seconds;
/// each mismatch logged). A failed run is logged and retried at the next period.
/// Accepts: (stop_atom) -> quits.
caf::actor spawn_storage_maintainer(caf::actor_system& sys, storage_maintainer_args args);

} // namespace mi::actors
