// `market-ingestor decode`: raw exchange frames on stdin -> normalized trades on stdout.
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <condition_variable>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
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
#include "messages/kline/kline_engine.hpp"

namespace mi::app {

int run_decode(const std::string& exchange) {
  std::ios::sync_with_stdio(false);
  auto r = mi::connectors::decode_lines(exchange, std::cin, std::cout, std::cerr);
  std::cout.flush();
  if (!r) {
    std::cerr << "decode: " << r.err().message << "\n";
    return 2;
  }
  return r->errors > 0 ? 1 : 0;
}

command add_decode(CLI::App& app) {
  auto* sub = app.add_subcommand("decode", "raw exchange frames (stdin, one a line) -> normalized trades (stdout)");
  auto exchange = std::make_shared<std::string>("binance");
  sub->add_option("--exchange,-e", *exchange, decode_exchanges_help)->required();
  return {sub, [exchange] { return run_decode(*exchange); }};
}

} // namespace mi::app
