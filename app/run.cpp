// `market-ingestor run`: wires the roles of the platform and shuts them down in order.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <malloc.h>
#include <iostream>
#include <memory>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

#include "actors/actor_slot.hpp"
#include "actors/caf_types.hpp"
#include "actors/publisher.hpp"
#include "actors/supervisor.hpp"
#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/health_probe.hpp"
#include "app/logging.hpp"
#include "app/admin_role.hpp"
#include "app/ingest.hpp"
#include "app/roles.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "config/config.hpp"
#include "config/listen_address.hpp"
#include "connectors/transport/io_thread.hpp"
#include "gateways/http/api.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/nonce_store_kv.hpp"
#include "gateways/http/worker_pool.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/health.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/postgres.hpp"
#include "gateways/push/push_server.hpp"

namespace mi::app {
namespace {

// The host name (the default node identity); "unknown" if the system has none.
std::string host_name() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0')
    return "unknown";
  return buf;
}

using namespace std::chrono_literals;

// Sends stop and waits for the actor to be gone (bounded).
void stop_and_wait(caf::scoped_actor& self, const caf::actor& a, std::chrono::seconds timeout, const char* what) {
  if (!a)
    return;
  self->monitor(a);
  self->send(a, mi::actors::stop_atom::value);
  bool down = false;
  self->receive_while([&] { return !down; })(
    [&](const caf::down_msg& dm) {
      if (dm.source == a)
        down = true;
    },
    caf::after(timeout) >>
      [&] {
        spdlog::warn("shutdown: {} did not stop within {}s", what, timeout.count());
        down = true;
      });
}

} // namespace

mi::gw::partition_policy storage_policy(const mi::cfg::config& cfg) {
  mi::gw::partition_policy p;
  p.retention_months_books = cfg.storage.retention_months_books;
  p.retention_months_quotes = cfg.storage.retention_months_quotes;
  p.retention_months_derivatives = cfg.storage.retention_months_derivatives;
  p.ahead_days = cfg.storage.partitions_ahead_days;
  p.retention_days_trades = cfg.storage.retention_days_trades;
  p.retention_months_klines = cfg.storage.retention_months_klines;
  return p;
}

namespace {

/// The API's master key: checked before anything starts (a config error, exit 2). False after printing why.
bool load_api_master_key(const mi::cfg::config& cfg, std::optional<mi::gw::auth::master_key>& out) {
  // Signing keys are sealed in the database; without the master key no request can be verified.
  auto mk = command_master_key(cfg.api.master_key_file);
  if (!mk) {
    std::cerr << "config error: api.master_key_file: " << mk.err().message << "\n";
    return false;
  }
  if (!mk->has_value()) {
    std::cerr << "config error: api.master_key_file: a master key is required when api.auth is required (roles "
                 "api, push): set api.master_key_file or MI_API_MASTER_KEY (docs/operations.md \"API master "
                 "key\")\n";
    return false;
  }
  out = **mk;
  return true;
}

/// API keys: seal any still stored in clear; nonces shared by every API process (JetStream KV). Null after logging.
std::shared_ptr<mi::gw::auth::nonce_store> open_api_keys(const mi::cfg::config& cfg, mi::gw::jetstream& js,
                                                         const mi::gw::auth::master_key& master_key) {
  spdlog::info("api: master key {} loaded", master_key.fingerprint);
  if (auto sealed = mi::gw::seal_clear_api_keys(cfg.postgres.dsn, master_key); !sealed)
    spdlog::warn("api: could not seal signing keys stored in clear: {}", sealed.err().message);
  else if (*sealed > 0)
    spdlog::info("api: sealed {} signing key(s) that were stored in clear", *sealed);
  auto nonces = mi::gw::kv_nonce_store::open(js, cfg.api.timestamp_window);
  if (!nonces) {
    spdlog::error("api: {}", nonces.err().message);
    return nullptr;
  }
  return std::move(*nonces);
}

/// Waits for a signal (forwarded by a thread) or for the root to end (a role that gave up); stops the
/// tree. Returns the exit status: 0, or 3 when a role gave up.
int wait_for_the_end(caf::actor_system& sys, caf::scoped_actor& main_self, const caf::actor& root, sigset_t sigs) {
  std::thread([sigs, me = caf::actor_cast<caf::actor>(main_self)]() mutable {
    int sig = 0;
    sigwait(&sigs, &sig);
    spdlog::info("signal {}: shutting down (a second signal forces exit)", sig);
    caf::anon_send(me, mi::actors::stop_atom::value);
    sigwait(&sigs, &sig);
    std::cerr << "second signal: forced exit\n";
    std::_Exit(130);
  }).detach();
  int status = 0;
  main_self->receive(
    [&](mi::actors::stop_atom) {
      // Shutdown order (the root stops its roles last to first): connections, then the kline stage
      // (pending finals + checkpoints) and the savers (batch in hand), the publisher, the push hub.
      stop_and_wait(main_self, root, 300s, "supervision tree");
    },
    [&](caf::down_msg& dm) {
      status = 3;
      spdlog::critical("supervision: a role gave up, the process stops with exit status 3 so that its service "
                       "manager restarts it: {}",
                       dm.reason ? mi::actors::describe_escalation(sys, dm.reason) : "the root ended");
      // Everything below is bounded, but a blocked detached actor could still hold up the exit.
      std::thread([] {
        std::this_thread::sleep_for(60s);
        std::cerr << "supervision: shutdown after the failure did not finish within 60 s: forced exit\n";
        std::_Exit(3);
      }).detach();
    });
  return status;
}

} // namespace

int run_platform(const std::string& config_path, std::vector<std::string> roles, bool roles_given) {
  const auto loaded = load_config(config_path);
  if (!loaded)
    return 2;
  auto resolved = *loaded;
  if (resolved.runtime.node_id.empty())
    resolved.runtime.node_id = host_name();
  const auto& cfg = resolved;
  if (!roles_given && std::any_of(cfg.documents.sources.begin(), cfg.documents.sources.end(),
                                  [](const auto& s) { return s.second.enabled; }))
    roles.emplace_back("documents");
  if (!roles_given && alpaca_daily_enabled(cfg))
    roles.emplace_back("daily");
  for (const auto& r : roles)
    if (r != "ingest" && r != "kline" && r != "store" && r != "push" && r != "api" && r != "admin" &&
        r != "documents" && r != "daily") {
      std::cerr << "run: unknown role '" << r
                << "' (expected ingest, kline, store, push, api, admin, documents, daily)\n";
      return 2;
    }
  if (has_role(roles, "admin") && cfg.admin.token.empty()) {
    std::cerr << "config error: admin.token: required with role admin (set MI_ADMIN_TOKEN; docs/operations.md "
                 "\"Admin API\")\n";
    return 2;
  }
  const bool needs_api_keys =
    (has_role(roles, "api") || has_role(roles, "push")) && cfg.api.auth == mi::cfg::auth_mode::required;
  std::optional<mi::gw::auth::master_key> api_master_key;
  if (needs_api_keys && !load_api_master_key(cfg, api_master_key))
    return 2;

  // Signals are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  // After the mask: the log's flush thread must not take SIGTERM (its default action would end the process).
  setup_logging(cfg.log.format);
  spdlog::set_level(spdlog::level::from_str(std::string(mi::cfg::to_string(cfg.runtime.log_level))));

  mi::gw::metrics metrics;
#ifdef MI_GLIBC_MALLOC
  // In use, not cached: the arenas' allocated chunks plus the mmapped ones (one walk of the arenas per scrape).
  metrics.heap_bytes_source([] {
    const struct mallinfo2 m = mallinfo2();
    return static_cast<std::int64_t>(m.uordblks + m.hblkhd);
  });
#endif
  // Readiness (/readyz): one log line per check that starts or stops passing.
  mi::gw::health health([](const mi::gw::health_check& c) {
    if (c.ok)
      spdlog::info("readiness: {} ok: {}", c.name, c.detail);
    else
      spdlog::warn("readiness: {} failing: {}", c.name, c.detail);
  });
  // The roles' own checks, passing once each has started (below).
  std::vector<std::string> role_checks{"role publish"};
  for (const auto& r : roles)
    role_checks.push_back("role " + r);
  for (const auto& c : role_checks)
    health.declare(c);
  auto bridge = start_bridge(cfg, metrics);
  if (!bridge)
    return 1;
  auto& js = *bridge->js;
  const bool needs_database = has_role(roles, "store") || has_role(roles, "api") || has_role(roles, "daily");
  health_probe probe({&js, streams_needed(cfg, roles), needs_database ? cfg.postgres.dsn : std::string(),
                      std::chrono::milliseconds(1000), std::chrono::seconds(2), &health});
  std::shared_ptr<mi::gw::auth::nonce_store> api_nonces;
  if (needs_api_keys && !(api_nonces = open_api_keys(cfg, js, *api_master_key)))
    return 1;

  // The I/O context before the actor system, so it is destroyed after it: the last reference to a
  // push client's connection can be a session actor's, released when the actor system finalizes
  // its actors, and a Beast stream destroyed after its io_context is a use after free (found by
  // scripts/tsan: "use of an invalid mutex" in the reactor's cancel_timer). The push sessions' own
  // threads (push.io_threads: one io_context each, the sessions spread over them) likewise.
  mi::net::io_thread io;
  mi::net::io_shards push_io(has_role(roles, "push") ? static_cast<unsigned>(cfg.push.io_threads) : 1U);
  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.max-threads", cfg.runtime.scheduler_threads);
  caf_cfg.set("logger.verbosity", caf::atom("quiet"));
  caf_cfg.set("scheduler.policy", caf::atom_from_string(std::string(mi::cfg::to_string(cfg.runtime.policy))));
  caf::actor_system sys{caf_cfg};
  auto metrics_server = start_metrics(cfg, io, metrics, health);
  if (!metrics_server)
    return 1;

  // -- the supervision tree -----------------------------------------------------------------
  // root (restarts nothing) -> one supervisor per role -> its children, one for one with backoff
  // (docs/architecture.md, "Supervision"). Children started in this order, stopped in reverse:
  // ingest first (no new trades), then kline and store, the publisher, and the push hub last.
  const auto limits = mi::actors::restart_policy::from_config(cfg.supervision);
  const auto role = role_supervisors(limits, metrics);
  std::vector<mi::actors::child_spec> roles_tree;
  auto hub_slot = std::make_shared<mi::actors::actor_slot>();
  // Blocking key lookups (push token checks, revocation re-checks) run here, off the I/O thread.
  // Declared before the servers and actors that call into it, so it outlives them.
  std::unique_ptr<mi::gw::worker_pool> push_auth_pool;
  if (has_role(roles, "push")) {
    push_auth_pool = std::make_unique<mi::gw::worker_pool>(1, 256);
    roles_tree.push_back(push_hub_role(cfg, role, js, metrics, *push_auth_pool, hub_slot));
  }
  mi::actors::actor_slot_ptr publisher_slot(bridge->feedback, &bridge->feedback->publisher);
  roles_tree.push_back(publish_role(cfg, role, js, metrics, bridge->feedback));
  if (has_role(roles, "store"))
    roles_tree.push_back(store_role(cfg, role, js, metrics));
  if (has_role(roles, "kline"))
    // On an ingest node the kline stage takes this node's trades as they are acked (klines.feed).
    roles_tree.push_back(kline_role(cfg, role, js, metrics, has_role(roles, "ingest") ? bridge->raw_feed : nullptr));
  if (has_role(roles, "documents"))
    roles_tree.push_back(documents_role(cfg, role, js, metrics, io));
  if (has_role(roles, "ingest"))
    roles_tree.push_back(role("ingest", ingest_children(cfg, js, publisher_slot, io, metrics), 5s));
  if (has_role(roles, "ingest") && cfg.equities.cn.enabled)
    roles_tree.push_back(cn_role(cfg, role, js, metrics));
  if (has_role(roles, "daily"))
    roles_tree.push_back(daily_role(cfg, role, js, metrics));
  if (auto c =
        calendars_role(cfg, roles, role, metrics)) // XNYS refreshed while running (calendars.alpaca_refresh_every)
    roles_tree.push_back(std::move(*c));

  // The root restarts nothing: a role that gave up has used its children's restarts, and
  // restarting the process is the service manager's job (exit status 3, below).
  mi::actors::restart_limits root_limits = limits;
  root_limits.max_restarts = 0;
  caf::actor root = mi::actors::spawn_supervisor(sys, {"root", roles_tree, root_limits, 90s, &metrics});
  caf::scoped_actor main_self{sys};
  // A start-up failure below takes the tree down first (the actor system waits for every actor).
  auto abort_start = [&] {
    caf::anon_send_exit(root, caf::exit_reason::user_shutdown);
    stop_and_wait(main_self, root, 60s, "supervision tree");
    return 1;
  };
  main_self->monitor(root);
  // Every role and child has started (and published its address in its slot) once the root answers.
  main_self->request(root, caf::infinite, mi::actors::status_atom::value)
    .receive(
      [&](std::vector<std::string>& started) {
        for (const auto& r : started) {
          spdlog::info("role {} started", r);
          // push: the hub is started; the role is ready once its gateway listens too (below).
          if (r != "push")
            health.set("role " + r, true, "started");
        }
      },
      [&](caf::error& e) { spdlog::error("supervision: root did not start: {}", sys.render(e)); });

  // Declared before the servers that call into them, so they are destroyed after them.
  api_role api;
  if (!start_api(api, cfg, roles, io, metrics, api_master_key, api_nonces))
    return abort_start();
  if (has_role(roles, "api"))
    health.set("role api", true, "started");
  push_role push;
  if (has_role(roles, "push") && !start_push(push, cfg, push_io, js, metrics, api.api, *push_auth_pool, hub_slot))
    return abort_start();
  if (has_role(roles, "push"))
    health.set("role push", true, "started");
  admin_role admin;
  if (has_role(roles, "admin")) {
    if (!start_admin(admin, {&cfg, &io, &metrics, &js, has_role(roles, "push") ? hub_slot : nullptr, &sys}))
      return abort_start();
    health.set("role admin", true, "started");
  }

  const auto metrics_addr = *mi::cfg::parse_listen_address(cfg.metrics.listen); // validated by load()
  spdlog::info("market-ingestor running on node {} (roles: {}); metrics on http://{}/metrics", cfg.runtime.node_id,
               fmt::join(roles, ","),
               mi::cfg::listen_address{metrics_addr.host, metrics_server->port(), metrics_addr.ipv6}.text());
  std::cout << "ready" << std::endl; // a line scripts and tests can wait for

  const int status = wait_for_the_end(sys, main_self, root, sigs);
  for (const auto& c : role_checks)
    health.set(c, false, "stopping");
  probe.stop();
  if (auto r = js.flush(30s); !r)
    spdlog::error("shutdown: JetStream acks still outstanding: {}", r.err().message);
  push.stop();
  push_io.stop();
  api.stop();
  admin.stop();
  metrics_server->stop();
  if (push_auth_pool)
    push_auth_pool->stop();
  io.stop();
  if (status != 0)
    return status;
  spdlog::info("stopped cleanly");
  return 0;
}

command add_run(CLI::App& app) {
  auto* sub = app.add_subcommand("run", "run the platform");
  struct opts {
    std::string config = default_config_path;
    std::string roles = "ingest,kline,store,push,api";
  };
  auto o = std::make_shared<opts>();
  sub->add_option("--config,-c", o->config, "YAML config file (MI_* environment variables override it)")
    ->check(CLI::ExistingFile);
  auto* roles = sub->add_option("--roles", o->roles,
                                "comma-separated roles: ingest,kline,store,push,api,admin,documents,daily (default: "
                                "ingest,kline,store,push,api, plus documents when a document source is enabled and "
                                "daily when exchanges.alpaca.daily_job.enabled)");
  return {sub, [o, roles] { return run_platform(o->config, split_csv(o->roles), roles->count() > 0); }};
}

} // namespace mi::app
