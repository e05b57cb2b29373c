// `market-ingestor migrate`: the database schema, partitions, and sealing of API keys stored in clear.
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <condition_variable>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "gateways/http/api_keys.hpp"
#include "messages/util/clock.hpp"
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

int run_migrate(const std::string& dsn, const mi::gw::partition_policy& policy, const std::string& master_key_file) {
  auto mk = command_master_key(master_key_file);
  if (!mk) {
    std::cerr << "migrate: " << mk.err().message << "\n";
    return 2;
  }
  std::vector<std::string> warnings;
  auto r = mi::gw::migrate(dsn, &warnings);
  for (const auto& w : warnings)
    std::cerr << "migrate: warning: " << w << "\n";
  if (!r) {
    std::cerr << "migrate: " << r.err().message << "\n";
    return 1;
  }
  if (r->empty())
    std::cout << "migrate: schema is up to date\n";
  for (const auto& v : *r)
    std::cout << "migrate: applied " << v << "\n";
  if (mk->has_value()) {
    auto sealed = mi::gw::seal_clear_api_keys(dsn, **mk);
    if (!sealed) {
      std::cerr << "migrate: " << sealed.err().message << "\n";
      return 1;
    }
    std::cout << "migrate: sealed " << *sealed << " API signing key(s) stored in clear (master key "
              << (*mk)->fingerprint << ")\n";
  }
  auto p = mi::gw::maintain_partitions(dsn, policy, mi::util::now_ns());
  if (!p) {
    std::cerr << "migrate: " << p.err().message << "\n";
    return 1;
  }
  if (p->timescale)
    std::cout << "migrate: TimescaleDB hypertables (chunks are created by TimescaleDB)\n";
  for (const auto& n : p->created)
    std::cout << "migrate: created partition " << n << "\n";
  for (const auto& n : p->dropped)
    std::cout << "migrate: dropped partition " << n << " (retention)\n";
  return 0;
}

command add_migrate(CLI::App& app) {
  auto* sub = app.add_subcommand("migrate", "apply the database migrations");
  struct opts {
    std::string dsn;
    std::string config;
    std::string master_key;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("--dsn", o->dsn, "PostgreSQL conninfo (default: postgres.dsn of --config)");
  sub->add_option("--config,-c", o->config, "YAML config file")->check(CLI::ExistingFile);
  sub->add_option("--master-key-file", o->master_key,
                  "API master key file (default: api.master_key_file of --config, or MI_API_MASTER_KEY); with "
                  "it, API signing keys still in clear are sealed");
  return {sub, [o] {
            const auto cfg = load_config(o->config);
            if (!cfg)
              return 2;
            return run_migrate(o->dsn.empty() ? cfg->postgres.dsn : o->dsn, storage_policy(*cfg),
                               o->master_key.empty() ? cfg->api.master_key_file : o->master_key);
          }};
}

} // namespace mi::app
