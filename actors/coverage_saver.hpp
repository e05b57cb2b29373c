#pragma once

// The coverage saver (role store): every report on MARKET_GAP (gaps detected, filled, unfillable; actors/backfill.hpp)
// into market_gaps (migration 0006), one row per report, through the durable consumer `saver_gaps`. GET
// /api/v1/coverage and the console's heat-map read them per hour beside the trades stored.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "caf/fwd.hpp"
#include "gateways/postgres/coverage.hpp"
#include "messages/result.hpp"

namespace mi::gw {
class jetstream;
} // namespace mi::gw

namespace mi::actors {

struct coverage_saver_args {
  mi::gw::jetstream* js = nullptr;
  std::string stream = "MARKET_GAP";
  std::string durable = "saver_gaps";
  std::string dsn;
};

/// A report as a row: `msg_id` is its Nats-Msg-Id (the row's key). An error names what is wrong (the message is then
/// terminated: it can never be stored).
mi::result<mi::gw::gap_record> parse_gap_report(std::string_view msg_id, std::string_view json);

/// Detached (fetches and writes block): fetch up to 100 reports (1 s wait), insert them in one transaction, ack;
/// on a database error nothing is acked and it retries with backoff (state "retrying", the error in inspection).
/// Accepts (stop_atom).
caf::actor spawn_coverage_saver(caf::actor_system& sys, coverage_saver_args args);

} // namespace mi::actors
