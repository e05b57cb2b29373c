// `market-ingestor aggregate`: normalized trades on stdin -> final klines on stdout (the live engine).
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <condition_variable>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "messages/kline/interval.hpp"
#include "app/commands.hpp"
#include "gateways/http/api_keys.hpp"
#include "config/config.hpp"
#include "connectors/decode_driver.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/codec.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/kline/kline_engine.hpp"

namespace mi::app {

int run_aggregate(const std::vector<std::string>& intervals, const std::string& grace, const std::string& market,
                  const std::string& calendars_dir) {
  std::ios::sync_with_stdio(false);
  mi::kline_engine::options o;
  for (const auto& name : intervals) {
    auto iv = mi::kline_engine::parse_interval(name);
    if (!iv) {
      std::cerr << "aggregate: " << iv.err().message << "\n";
      return 2;
    }
    o.intervals.push_back(*iv);
  }
  auto g = mi::cfg::parse_duration(grace);
  if (!g) {
    std::cerr << "aggregate: --grace: " << g.err().message << "\n";
    return 2;
  }
  o.grace_ms = g->count();
  // --calendar: every trade aggregates on that market's sessions (the platform's code: the venue's market).
  std::optional<mi::calendar::calendar_set> calendars;
  const mi::calendar::calendar* sessions = nullptr;
  if (!market.empty()) {
    auto dir = mi::calendar::resolve_calendar_dir(calendars_dir);
    if (!dir) {
      std::cerr << "aggregate: " << dir.err().message << "\n";
      return 2;
    }
    auto set = mi::calendar::load_calendars(*dir);
    if (!set) {
      std::cerr << "aggregate: " << set.err().message << "\n";
      return 2;
    }
    calendars = std::move(*set);
    sessions = calendars->find(market);
    if (sessions == nullptr) {
      std::string names;
      for (const auto& m : calendars->markets())
        names += (names.empty() ? "" : ", ") + m;
      std::cerr << "aggregate: --calendar: unknown market \"" << market << "\" (calendars in " << *dir << ": " << names
                << ")\n";
      return 2;
    }
  }
  mi::kline_engine::batch_aggregator agg(o, sessions);
  std::uint64_t outside = 0;
  std::vector<mi::kline> finals;
  std::string line;
  std::uint64_t n = 0;
  std::uint64_t errors = 0;
  std::uint64_t late = 0;
  auto flush = [&] {
    for (auto& k : finals)
      std::cout << mi::kline_to_json(k) << '\n';
    finals.clear();
  };
  while (std::getline(std::cin, line)) {
    ++n;
    if (line.empty())
      continue;
    auto t = mi::trade_from_json(line);
    if (!t) {
      ++errors;
      std::cerr << "line " << n << ": " << t.err().message << "\n";
      continue;
    }
    auto r = agg.add(*t, finals);
    if (r.rejected != mi::reject_reason::none) {
      // Skipped whole; the rest of the input goes on (exit status 1 at the end).
      ++errors;
      std::cerr << "line " << n << ": trade " << t->trade_id << " skipped (" << mi::to_string(r.rejected) << "): "
                << (r.rejected == mi::reject_reason::unrepresentable
                      ? "its amounts cannot be summed exactly in 128 bits"
                      : "its time is beyond the clock skew of its receive time")
                << "\n";
    }
    late += static_cast<std::uint64_t>(r.late > 0);
    outside += static_cast<std::uint64_t>(r.outside_session != mi::kline_engine::outside::none);
    flush();
  }
  agg.finish(finals);
  flush();
  if (late > 0)
    std::cerr << "aggregate: " << late << " late trades dropped (their window was already final)\n";
  if (outside > 0)
    std::cerr << "aggregate: " << outside << " trades outside the " << market
              << " sessions (pre/post market, breaks, holidays) not aggregated\n";
  return errors > 0 ? 1 : 0;
}

command add_aggregate(CLI::App& app) {
  auto* sub = app.add_subcommand("aggregate", "normalized trades (stdin) -> final klines (stdout)");
  struct opts {
    std::string intervals = "1m";
    std::string grace = "2s";
    std::string calendar;
    std::string calendars_dir;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("--intervals,-i", o->intervals, "comma-separated: " + mi::kline_engine::interval_names(","));
  sub->add_option("--grace", o->grace, "out-of-order tolerance, as in the platform");
  sub->add_option("--calendar", o->calendar,
                  "aggregate on this market's sessions (XNYS, XSHG, XSHE; default: none, UTC windows as crypto)");
  sub->add_option(
    "--calendars-dir", o->calendars_dir,
    "directory of the *.cal files (default: the installed ones, else the source tree's deploy/calendars)");
  return {sub, [o] { return run_aggregate(split_csv(o->intervals), o->grace, o->calendar, o->calendars_dir); }};
}

} // namespace mi::app
