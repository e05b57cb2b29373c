// `market-ingestor audit`: reconcile MARKET_RAW, market_trades and market_klines over a range.
#include <iostream>

#include "actors/audit.hpp"
#include "app/commands.hpp"
#include "config/config.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::app {

int run_audit(const std::string& config_path, const std::string& from, const std::string& to) {
  auto loaded = mi::cfg::load_file(config_path);
  if (auto* errs = std::get_if<std::vector<mi::cfg::config_error>>(&loaded)) {
    std::cerr << mi::cfg::format_errors(*errs);
    return 2;
  }
  const auto cfg = std::get<mi::cfg::config>(loaded);
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
  mi::gw::jetstream::options jo;
  jo.url = cfg.nats.url;
  jo.connect_timeout = cfg.nats.connect_timeout;
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

} // namespace mi::app
