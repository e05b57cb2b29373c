// `market-ingestor audit`: reconcile MARKET_RAW, market_trades and market_klines over a range.
#include <iostream>
#include <memory>

#include "actors/audit.hpp"
#include "app/cli.hpp"
#include "app/commands.hpp"
#include "config/config.hpp"
#include "gateways/jetstream/from_config.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::app {

int run_audit(const std::string& config_path, const std::string& from, const std::string& to) {
  const auto loaded = load_config(config_path);
  if (!loaded)
    return 2;
  const auto& cfg = *loaded;
  auto from_ms = parse_time_ms(from);
  auto to_ms = parse_time_ms(to);
  if (!from_ms || !to_ms || *from_ms >= *to_ms) {
    std::cerr << "audit: "
              << (!from_ms ? from_ms.err().message
                  : !to_ms ? to_ms.err().message
                           : "--from must be before --to")
              << "\n";
    return 2;
  }
  auto jo = mi::gw::to_options(cfg.nats); // every nats setting (timeouts, publish window), as the platform
  jo.name = "market-ingestor audit";
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) {
    std::cerr << "audit: " << js.err().message << "\n";
    return 2;
  }
  auto report = mi::actors::run_audit(**js, cfg.nats.raw.name, cfg.postgres.dsn, *from_ms, *to_ms);
  if (!report) {
    std::cerr << report.err().message << "\n";
    return 2;
  }
  for (const auto& line : report->lines)
    std::cout << "MISMATCH " << line << "\n";
  std::cout << "audit " << mi::util::iso8601_ms(*from_ms) << " .. " << mi::util::iso8601_ms(*to_ms) << ": "
            << report->stream_trades << " trades in " << cfg.nats.raw.name << ", " << report->hours_checked
            << " (exchange, symbol, hour) cells and " << report->klines_checked << " klines checked, "
            << report->trade_mismatches << " trade count mismatches, " << report->kline_mismatches
            << " kline mismatches: " << (report->clean() ? "CLEAN" : "MISMATCH") << "\n";
  return report->clean() ? 0 : 1;
}

command add_audit(CLI::App& app) {
  auto* sub = app.add_subcommand("audit", "compare MARKET_RAW with market_trades per (exchange, symbol, hour) "
                                          "and kline trade counts with stored trades; exit 1 on any mismatch");
  struct opts {
    std::string config = default_config_path;
    std::string from;
    std::string to;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("--config,-c", o->config, "YAML config file")->check(CLI::ExistingFile);
  sub->add_option("--from", o->from, "start of the trade times (ms since the epoch or YYYY-MM-DDTHH:MM:SSZ)")
    ->required();
  sub->add_option("--to", o->to, "end, exclusive")->required();
  return {sub, [o] { return run_audit(o->config, o->from, o->to); }};
}

} // namespace mi::app
