// market-ingestor: one binary, several commands (DESIGN.md "CLI"). Wiring only.
#include <CLI/CLI.hpp>
#include <iostream>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "messages/kline/interval.hpp"
#include "messages/venue_registry.hpp"
#include "simulator/simulator.hpp"

namespace {

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(',', start);
    auto part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty())
      out.push_back(part);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"market-ingestor: exchange trades -> JetStream -> klines -> PostgreSQL -> WebSocket push"};
  app.require_subcommand(1);

  auto* run = app.add_subcommand("run", "run the platform");
  std::string config_path = "config/market-ingestor.example.yaml";
  std::string roles = "ingest,kline,store,push,api";
  run->add_option("--config,-c", config_path, "YAML config file (MI_* environment variables override it)")
    ->check(CLI::ExistingFile);
  run->add_option("--roles", roles, "comma-separated roles: ingest,kline,store,push,api");

  auto* sim = app.add_subcommand("simulate",
                                 "a loopback exchange (WebSocket + REST, fault injection) for offline runs and tests");
  mi::sim::options so;
  std::string sim_symbols = "BTCUSDT,ETHUSDT";
  std::uint64_t stall_ms = 0;
  sim->add_option("--exchange", so.exchange, "protocol spoken: " + mi::venue_names_joined())
    ->check(CLI::IsMember(mi::venue_names()));
  sim->add_option("--host", so.host, "listen address");
  sim->add_option("--port", so.port, "listen port (0 = any free port)");
  sim->add_option("--symbols", sim_symbols, "comma-separated normalized BASEQUOTE symbols");
  sim->add_option("--reject", so.reject, "a symbol not listed and refused on subscribe (repeatable)");
  sim->add_option("--first-id", so.first_id, "first trade id of every symbol");
  sim->add_option("--history-limit", so.history_limit, "trades kept per symbol for the REST history endpoints");
  sim->add_option("--rate", so.rate, "generated trades per second, all symbols together");
  sim->add_option("--count", so.count, "trades to generate in total (0 = unlimited)");
  sim->add_option("--input", so.input_file, "replay trades from this JSONL file (decode format)")
    ->check(CLI::ExistingFile);
  sim->add_option("--record", so.record_file, "append every distinct trade sent to this JSONL file");
  sim->add_option("--seed", so.seed, "random seed of the generator");
  sim->add_option("--drop-after", so.drop_after, "fault: drop the connection after this many trades (once)");
  sim->add_option("--resend", so.resend, "fault: with --drop-after, resend the last N trades after the reconnect");
  sim->add_option("--resend-on-reconnect", so.resend_on_reconnect,
                  "resend the last N trades to every client that subscribes after another did "
                  "(stands in for REST backfill)");
  sim->add_option("--malformed-every", so.malformed_every,
                  "fault: send a malformed trade frame after every N-th trade");
  sim->add_option("--stall-after", so.stall_after, "fault: after N trades, send nothing for --stall-ms (once)");
  sim->add_option("--stall-ms", stall_ms, "fault: length of the stall in milliseconds");
  sim->add_option("--skip-after", so.skip_after,
                  "fault: after N trades, never send the next --skip-count ids of every symbol");
  sim->add_option("--skip-count", so.skip_count, "fault: ids skipped per symbol");
  std::uint64_t linger_ms = 1000;
  sim->add_option("--linger-ms", linger_ms, "keep serving (WebSocket and REST) this long after the last trade");
  sim->add_option("--notice-after", so.notice_after,
                  "fault: after N trades, send the forced-disconnect notice and close 2 s later (binance, okx)");
  sim->add_option("--throttle", so.throttle,
                  "fault: answer the next N REST trade requests with --throttle-status and Retry-After");
  sim->add_option("--throttle-status", so.throttle_status, "fault: 429 (default), or 418 for binance");
  sim->add_option("--retry-after", so.retry_after_s, "fault: Retry-After seconds of a throttled answer (default 1)");

  auto* decode = app.add_subcommand("decode", "raw exchange frames (stdin, one a line) -> normalized trades (stdout)");
  std::string exchange = "binance";
  decode->add_option("--exchange,-e", exchange, "binance")->required();

  auto* aggregate = app.add_subcommand("aggregate", "normalized trades (stdin) -> final klines (stdout)");
  std::string intervals = "1m";
  std::string grace = "2s";
  aggregate->add_option("--intervals,-i", intervals, "comma-separated: " + mi::kline_engine::interval_names(","));
  aggregate->add_option("--grace", grace, "out-of-order tolerance, as in the platform");

  auto* migrate = app.add_subcommand("migrate", "apply the database migrations");
  std::string dsn;
  std::string migrate_config;
  migrate->add_option("--dsn", dsn, "PostgreSQL conninfo (default: postgres.dsn of --config)");
  migrate->add_option("--config,-c", migrate_config, "YAML config file")->check(CLI::ExistingFile);
  std::string migrate_master_key;
  migrate->add_option("--master-key-file", migrate_master_key,
                      "API master key file (default: api.master_key_file of --config, or MI_API_MASTER_KEY); with "
                      "it, API signing keys still in clear are sealed");

  auto* replay = app.add_subcommand("replay", "rebuild klines of a past range from MARKET_RAW, publish and store them");
  std::string replay_config = "config/market-ingestor.example.yaml";
  std::string replay_from;
  std::string replay_to;
  std::string replay_symbols;
  replay->add_option("--config,-c", replay_config, "YAML config file")->check(CLI::ExistingFile);
  replay->add_option("--from", replay_from, "start (ms since the epoch or YYYY-MM-DDTHH:MM:SSZ)")->required();
  replay->add_option("--to", replay_to, "end, exclusive")->required();
  replay->add_option("--symbols", replay_symbols, "comma-separated exchange.SYMBOL (default: all)");

  auto* audit = app.add_subcommand("audit", "compare MARKET_RAW with market_trades per (exchange, symbol, hour) "
                                            "and kline trade counts with stored trades; exit 1 on any mismatch");
  std::string audit_config = "config/market-ingestor.example.yaml";
  std::string audit_from;
  std::string audit_to;
  audit->add_option("--config,-c", audit_config, "YAML config file")->check(CLI::ExistingFile);
  audit->add_option("--from", audit_from, "start of the trade times (ms since the epoch or YYYY-MM-DDTHH:MM:SSZ)")
    ->required();
  audit->add_option("--to", audit_to, "end, exclusive")->required();

  auto* dlq = app.add_subcommand("dlq", "dead letters of the savers (MARKET_DLQ): list, redrive or drop them");
  std::string dlq_config = "config/market-ingestor.example.yaml";
  std::string dlq_action;
  std::vector<std::uint64_t> dlq_seqs;
  bool dlq_all = false;
  dlq->add_option("action", dlq_action, "list | redrive | drop")
    ->required()
    ->check(CLI::IsMember({"list", "redrive", "drop"}));
  dlq->add_option("--config,-c", dlq_config, "YAML config file")->check(CLI::ExistingFile);
  dlq->add_option("--seq", dlq_seqs, "MARKET_DLQ sequence (repeatable), for redrive and drop");
  dlq->add_flag("--all", dlq_all, "every dead letter, for redrive and drop");

  auto* tail = app.add_subcommand("tail", "print what the push gateway sends for CHANNEL...");
  std::vector<std::string> channels;
  std::string tail_url = "ws://127.0.0.1:8080/";
  std::uint64_t tail_count = 0;
  tail->add_option("channels", channels, "e.g. kline.binance.BTCUSDT.1m")->required();
  tail->add_option("--url", tail_url, "push gateway URL");
  tail->add_option("--count", tail_count, "exit after this many data messages (0 = run until Ctrl-C)");

  auto* apikey = app.add_subcommand("apikey", "manage API keys of the REST API and the push gateway");
  apikey->require_subcommand(1);
  std::string apikey_dsn;
  std::string apikey_config;
  apikey->add_option("--dsn", apikey_dsn, "PostgreSQL conninfo (default: postgres.dsn of --config)");
  apikey->add_option("--config,-c", apikey_config, "YAML config file")->check(CLI::ExistingFile);
  std::string apikey_master_key;
  apikey->add_option("--master-key-file", apikey_master_key,
                     "API master key file (default: api.master_key_file of --config, or MI_API_MASTER_KEY)");
  auto* key_create = apikey->add_subcommand("create", "create a key; prints its id and secret (the secret only once)");
  std::string key_name;
  std::int64_t key_quota = 0;
  key_create->add_option("--name", key_name, "who or what the key is for")->required();
  key_create->add_option("--quota-per-minute", key_quota,
                         "requests per minute (default: api.default_quota_per_minute)");
  auto* key_list = apikey->add_subcommand("list", "list keys (never their secrets)");
  auto* key_revoke = apikey->add_subcommand("revoke", "revoke a key (immediately refused)");
  std::string key_id;
  key_revoke->add_option("id", key_id, "key id, e.g. mik_...")->required();
  std::string revoke_nats;
  key_revoke->add_option("--nats", revoke_nats,
                         "NATS URL to announce the revocation to push gateways (default: nats.url of --config or "
                         "MI_NATS_URL; none: the gateways notice at their next key check)");
  auto* key_reseal =
    apikey->add_subcommand("reseal", "master key rotation: re-seal every signing key with the current master key");
  std::string old_master_key;
  key_reseal->add_option("--old-master-key-file", old_master_key, "the master key the keys are sealed with now")
    ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // --help and --version exit 0; every usage error exits 2 (CLI11's own codes are 100+).
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }

  if (*run)
    return mi::app::run_platform(config_path, split_csv(roles));
  if (*sim) {
    so.symbols = split_csv(sim_symbols);
    so.stall_ms = std::chrono::milliseconds(stall_ms);
    so.linger = std::chrono::milliseconds(linger_ms);
    return mi::sim::run_simulator(so);
  }
  if (*decode)
    return mi::app::run_decode(exchange);
  if (*aggregate)
    return mi::app::run_aggregate(split_csv(intervals), grace);
  if (*migrate) {
    auto loaded =
      migrate_config.empty() ? mi::cfg::load("", mi::cfg::process_env()) : mi::cfg::load_file(migrate_config);
    if (auto* errs = std::get_if<std::vector<mi::cfg::config_error>>(&loaded)) {
      std::cerr << mi::cfg::format_errors(*errs);
      return 2;
    }
    const auto& cfg = std::get<mi::cfg::config>(loaded);
    if (dsn.empty())
      dsn = cfg.postgres.dsn;
    if (migrate_master_key.empty())
      migrate_master_key = cfg.api.master_key_file;
    return mi::app::run_migrate(dsn, mi::app::storage_policy(cfg), migrate_master_key);
  }
  if (*apikey) {
    // A NATS URL is "configured" when given explicitly: --nats, a --config file or MI_NATS_URL.
    const bool nats_configured =
      !revoke_nats.empty() || !apikey_config.empty() || mi::cfg::process_env().count("MI_NATS_URL") != 0;
    if (apikey_dsn.empty() || !apikey_config.empty() || (revoke_nats.empty() && nats_configured)) {
      auto loaded =
        apikey_config.empty() ? mi::cfg::load("", mi::cfg::process_env()) : mi::cfg::load_file(apikey_config);
      if (auto* errs = std::get_if<std::vector<mi::cfg::config_error>>(&loaded)) {
        std::cerr << mi::cfg::format_errors(*errs);
        return 2;
      }
      const auto& cfg = std::get<mi::cfg::config>(loaded);
      if (apikey_dsn.empty())
        apikey_dsn = cfg.postgres.dsn;
      if (apikey_master_key.empty())
        apikey_master_key = cfg.api.master_key_file;
      if (revoke_nats.empty() && nats_configured)
        revoke_nats = cfg.nats.url;
    }
    if (*key_create)
      return mi::app::run_apikey_create(
        apikey_dsn, key_name, key_create->count("--quota-per-minute") ? std::optional{key_quota} : std::nullopt,
        apikey_master_key);
    if (*key_list)
      return mi::app::run_apikey_list(apikey_dsn, apikey_master_key);
    if (*key_reseal)
      return mi::app::run_apikey_reseal(apikey_dsn, apikey_master_key, old_master_key);
    return mi::app::run_apikey_revoke(apikey_dsn, key_id, apikey_master_key, revoke_nats);
  }
  if (*audit)
    return mi::app::run_audit(audit_config, audit_from, audit_to);
  if (*replay)
    return mi::app::run_replay(replay_config, replay_from, replay_to, split_csv(replay_symbols));
  if (*dlq)
    return mi::app::run_dlq(dlq_config, dlq_action, dlq_seqs, dlq_all);
  if (*tail)
    return mi::app::run_tail(tail_url, channels, tail_count);
  return 0;
}
