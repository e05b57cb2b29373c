// market-ingestor: one binary, several commands (DESIGN.md "CLI"). Wiring only: each command is
// defined in its own file (app/cli.hpp).
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/cli.hpp"

int main(int argc, char** argv) {
  CLI::App app{"market-ingestor: exchange trades -> JetStream -> klines -> PostgreSQL -> WebSocket push"};
  app.require_subcommand(1);
  const mi::app::command commands[] = {
    mi::app::add_run(app),          mi::app::add_simulate(app), mi::app::add_decode(app), mi::app::add_book(app),
    mi::app::add_aggregate(app),    mi::app::add_migrate(app),  mi::app::add_replay(app), mi::app::add_audit(app),
    mi::app::add_dlq(app),          mi::app::add_tail(app),     mi::app::add_apikey(app), mi::app::add_loadtest(app),
    mi::app::add_alpaca_daily(app),
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (CLI11's own codes are 100+).
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  for (const auto& c : commands)
    if (*c.sub)
      return c.run();
  return 0;
}
