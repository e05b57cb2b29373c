// `market-ingestor alpaca-daily --date D [--to E]`: the Alpaca daily job for given trading days, now (an operator's
// rerun, or a day the job missed): the same code as the role `daily` (actors/alpaca_daily), without its progress.
#include <iostream>
#include <memory>

#include "actors/alpaca_daily.hpp"
#include "app/cli.hpp"
#include "app/roles.hpp"
#include "gateways/jetstream/from_config.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/util/civil_time.hpp"

namespace mi::app {
namespace {

int run_alpaca_daily(const std::string& config_path, const std::string& from, const std::string& to) {
  const auto loaded = load_config(config_path);
  if (!loaded)
    return 2;
  const auto& cfg = *loaded;
  const auto first = mi::calendar::parse_date_text(from);
  const auto last = mi::calendar::parse_date_text(to.empty() ? from : to);
  if (!first || !last || *first > *last) {
    std::cerr << "alpaca-daily: --date and --to are trading days YYYY-MM-DD, --date not after --to\n";
    return 2;
  }
  if (cfg.exchanges.find("alpaca") == cfg.exchanges.end() || cfg.exchanges.at("alpaca").symbols.empty()) {
    std::cerr << "alpaca-daily: exchanges.alpaca.symbols is empty: no universe to fetch\n";
    return 2;
  }
  auto args = alpaca_daily_settings(cfg);
  const auto calendars = args.calendars->current();
  const auto* xnys = calendars->find("XNYS");
  if (xnys == nullptr) {
    std::cerr << "alpaca-daily: no XNYS calendar (calendars.dir)\n";
    return 2;
  }
  auto jo = mi::gw::to_options(cfg.nats);
  jo.name = "market-ingestor alpaca-daily";
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) // the report is also the table's rows: go on without NATS
    std::cerr << "alpaca-daily: " << js.err().message << ": the report goes to the table and stdout only\n";
  else
    args.js = js->get();
  mi::actors::alpaca_daily_runner runner(std::move(args));
  bool differences = false;
  int ran = 0;
  for (auto day = *last; day >= *first; --day) { // newest first, as the job
    auto s = xnys->session_on_day(day);
    if (!s) {
      std::cerr << "alpaca-daily: " << s.err().message << "\n";
      return 2;
    }
    if (!*s)
      continue;
    auto r = runner.run_day(day, "rerun");
    if (!r) {
      std::cerr << "alpaca-daily: " << mi::util::date_text(mi::util::civil_from_days(day)) << ": " << r.err().message
                << "\n";
      return 2;
    }
    std::cout << r->report << "\n";
    differences = differences || r->mismatched > 0;
    ++ran;
  }
  if (ran == 0) {
    std::cerr << "alpaca-daily: no XNYS trading day from " << from << " to " << (to.empty() ? from : to) << "\n";
    return 2;
  }
  return differences ? 1 : 0;
}

} // namespace

command add_alpaca_daily(CLI::App& app) {
  auto* sub = app.add_subcommand("alpaca-daily", "the Alpaca daily job now for trading days --date..--to: Alpaca's "
                                                 "daily bars stored and compared with our 1d klines; exit 1 when "
                                                 "any field differs (docs/operations.md \"Alpaca daily job\")");
  struct opts {
    std::string config = default_config_path;
    std::string date;
    std::string to;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("--config,-c", o->config, "YAML config file")->check(CLI::ExistingFile);
  sub->add_option("--date", o->date, "the (first) trading day, YYYY-MM-DD in New York")->required();
  sub->add_option("--to", o->to, "the last trading day (default: --date)");
  return {sub, [o] { return run_alpaca_daily(o->config, o->date, o->to); }};
}

} // namespace mi::app
