// `market-ingestor run`: wires the roles of the platform and shuts them down in order.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <iostream>
#include <spdlog/spdlog.h>
#include <thread>

#include "actors/actor_slot.hpp"
#include "actors/batch_saver.hpp"
#include "actors/caf_types.hpp"
#include "actors/kline_stage.hpp"
#include "actors/publisher.hpp"
#include "actors/push_hub.hpp"
#include "actors/storage_maintainer.hpp"
#include "actors/supervisor.hpp"
#include "app/commands.hpp"
#include "app/ingest.hpp"
#include "caf/actor_system.hpp"
#include "caf/actor_system_config.hpp"
#include "caf/scoped_actor.hpp"
#include "caf/send.hpp"
#include "config/config.hpp"
#include "config/listen_address.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/http/api.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/nonce_store_kv.hpp"
#include "gateways/http/worker_pool.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/postgres.hpp"
#include "gateways/push/push_protocol.hpp"
#include "gateways/push/push_server.hpp"

namespace mi::app {
namespace {

using namespace std::chrono_literals;

bool has(const std::vector<std::string>& roles, const char* r) {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

mi::gw::stream_spec to_spec(const mi::cfg::stream_config& c) {
  mi::gw::stream_spec s;
  s.name = c.name;
  s.subjects = {c.subjects};
  s.file_storage = c.storage == mi::cfg::stream_storage::file;
  s.max_age = c.max_age;
  s.max_bytes = c.max_bytes;
  s.replicas = c.replicas;
  s.duplicate_window = c.duplicate_window;
  return s;
}

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
  p.ahead_days = cfg.storage.partitions_ahead_days;
  p.retention_days_trades = cfg.storage.retention_days_trades;
  p.retention_months_klines = cfg.storage.retention_months_klines;
  return p;
}

int run_platform(const std::string& config_path, const std::vector<std::string>& roles) {
  auto loaded = mi::cfg::load_file(config_path);
  if (auto* errs = std::get_if<std::vector<mi::cfg::config_error>>(&loaded)) {
    std::cerr << mi::cfg::format_errors(*errs);
    return 2;
  }
  const auto cfg = std::get<mi::cfg::config>(loaded);
  spdlog::set_level(spdlog::level::from_str(std::string(mi::cfg::to_string(cfg.runtime.log_level))));
  for (const auto& r : roles)
    if (r != "ingest" && r != "kline" && r != "store" && r != "push" && r != "api") {
      std::cerr << "run: unknown role '" << r << "' (expected ingest, kline, store, push, api)\n";
      return 2;
    }

  // The API's master key: checked before anything starts (a config error, exit 2).
  const bool needs_api_keys = (has(roles, "api") || has(roles, "push")) && cfg.api.auth == mi::cfg::auth_mode::required;
  std::optional<mi::gw::auth::master_key> api_master_key;
  if (needs_api_keys) {
    // Signing keys are sealed in the database; without the master key no request can be verified.
    auto mk = command_master_key(cfg.api.master_key_file);
    if (!mk) {
      std::cerr << "config error: api.master_key_file: " << mk.err().message << "\n";
      return 2;
    }
    if (!mk->has_value()) {
      std::cerr << "config error: api.master_key_file: a master key is required when api.auth is required (roles "
                   "api, push): set api.master_key_file or MI_API_MASTER_KEY (docs/operations.md \"API master "
                   "key\")\n";
      return 2;
    }
    api_master_key = **mk;
  }

  // Signals are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

  // Validated by load(): every listen address parses.
  const auto metrics_addr = *mi::cfg::parse_listen_address(cfg.metrics.listen);
  const auto api_addr = *mi::cfg::parse_listen_address(cfg.api.listen);
  const auto push_addr = *mi::cfg::parse_listen_address(cfg.push.listen);

  mi::gw::metrics metrics;

  // JetStream: the bridge between every stage.
  auto feedback = std::make_shared<mi::actors::publish_feedback>();
  feedback->low_water = cfg.nats.max_in_flight * 3 / 4;
  feedback->streams.clear();
  for (const auto* sc : {&cfg.nats.raw, &cfg.nats.kline, &cfg.nats.gap, &cfg.nats.dlq, &cfg.nats.rejected}) {
    auto prefix = sc->subjects; // "market.raw.>" -> "market.raw."
    if (prefix.size() >= 1 && prefix.back() == '>')
      prefix.pop_back();
    feedback->streams.emplace_back(prefix, sc->name);
  }
  mi::gw::jetstream* js_raw = nullptr;
  mi::gw::jetstream::options jo;
  jo.url = cfg.nats.url;
  jo.connect_timeout = cfg.nats.connect_timeout;
  jo.ack_timeout = cfg.nats.ack_timeout;
  jo.max_pending = cfg.nats.max_in_flight * 2 + 1024; // nats.c must never stall before our own limit
  jo.max_retries = std::numeric_limits<int>::max();   // a trade is never given up
  // Set once connected; read by nats.c's ack threads (atomic: no thread reads it mid-write).
  auto js_for_acks = std::make_shared<std::atomic<mi::gw::jetstream*>>(nullptr);
  jo.on_outcome = [feedback, &metrics, js_for_acks](const mi::gw::publish_outcome& o) {
    mi::actors::on_publish_outcome(feedback, &metrics, js_for_acks->load(std::memory_order_acquire), o);
  };
  jo.on_retry = [&metrics](std::string_view) { metrics.publish_retried(); };
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) {
    spdlog::error("{}", js.err().message);
    return 1;
  }
  js_raw = js->get();
  js_for_acks->store(js_raw, std::memory_order_release);
  metrics.publish_in_flight_source([js_raw] { return js_raw->in_flight(); });
  // The gauge's source dies with `js`: unhook it first, whichever way this function returns.
  struct unhook {
    mi::gw::metrics& m;
    ~unhook() { m.publish_in_flight_source(nullptr); }
  } unhook_in_flight{metrics};
  for (const auto* sc : {&cfg.nats.raw, &cfg.nats.kline, &cfg.nats.gap, &cfg.nats.dlq, &cfg.nats.rejected}) {
    auto st = (*js)->ensure_stream(to_spec(*sc));
    if (!st) {
      spdlog::error("stream {}: {}", sc->name, st.err().message);
      return 1;
    }
    spdlog::info("stream {} ready: {} messages", sc->name, st->messages);
  }

  // API keys: seal any still stored in clear; nonces shared by every API process (JetStream KV).
  std::shared_ptr<mi::gw::auth::nonce_store> api_nonces;
  if (needs_api_keys) {
    spdlog::info("api: master key {} loaded", api_master_key->fingerprint);
    if (auto sealed = mi::gw::seal_clear_api_keys(cfg.postgres.dsn, *api_master_key); !sealed)
      spdlog::warn("api: could not seal signing keys stored in clear: {}", sealed.err().message);
    else if (*sealed > 0)
      spdlog::info("api: sealed {} signing key(s) that were stored in clear", *sealed);
    auto nonces = mi::gw::kv_nonce_store::open(**js, cfg.api.timestamp_window);
    if (!nonces) {
      spdlog::error("api: {}", nonces.err().message);
      return 1;
    }
    api_nonces = std::move(*nonces);
  }

  caf::actor_system_config caf_cfg;
  caf_cfg.set("scheduler.max-threads", cfg.runtime.scheduler_threads);
  caf_cfg.set("logger.verbosity", caf::atom("quiet"));
  caf::actor_system sys{caf_cfg};
  mi::net::io_thread io;

  // /metrics on our own HTTP server (Beast), like the REST API and the push gateway: the same
  // address forms for all three, IPv6 included (the civetweb of prometheus-cpp here has no IPv6).
  std::unique_ptr<mi::gw::http_server> metrics_server;
  {
    mi::gw::http_server_options mo;
    mo.host = metrics_addr.host;
    mo.port = metrics_addr.port;
    mo.workers = 1;
    mo.server_name = "market-ingestor-metrics";
    try {
      metrics_server =
        std::make_unique<mi::gw::http_server>(io.context(), mo, [&metrics](const mi::gw::http_request& r) {
          if (r.path != "/metrics")
            return mi::gw::http_response{404, "not found: see /metrics\n", "text/plain", {}};
          return mi::gw::http_response{200, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8", {}};
        });
    } catch (const std::exception& e) {
      spdlog::error("cannot serve /metrics: {}", e.what());
      return 1;
    }
  }

  // -- the supervision tree -----------------------------------------------------------------
  // root (restarts nothing) -> one supervisor per role -> its children, one for one with backoff
  // (docs/architecture.md, "Supervision"). Children started in this order, stopped in reverse:
  // ingest first (no new trades), then kline and store, the publisher, and the push hub last.
  const auto limits = mi::actors::restart_policy::from_config(cfg.supervision);
  auto role = [&](std::string name, std::vector<mi::actors::child_spec> children,
                  std::chrono::milliseconds stop_timeout = 30s) {
    return mi::actors::child_spec{
      name, [&metrics, limits, name, children, stop_timeout](caf::actor_system& s) {
        return mi::actors::spawn_supervisor(s, {name, children, limits, stop_timeout, &metrics});
      }};
  };
  std::vector<mi::actors::child_spec> roles_tree;

  auto hub_slot = std::make_shared<mi::actors::actor_slot>();
  // Blocking key lookups (push token checks, revocation re-checks) run here, off the I/O thread.
  // Declared before the servers and actors that call into it, so it outlives them.
  std::unique_ptr<mi::gw::worker_pool> push_auth_pool;
  if (has(roles, "push")) {
    push_auth_pool = std::make_unique<mi::gw::worker_pool>(1, 256);
    mi::actors::push_hub_args ha;
    ha.metrics = &metrics;
    ha.max_channels = static_cast<std::size_t>(cfg.push.max_channels);
    ha.js = js_raw;
    ha.raw_stream = cfg.nats.raw.name;
    ha.key_check_interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.push.key_check_interval);
    ha.check_keys = [&push_auth_pool, dsn = cfg.postgres.dsn](std::vector<std::string> ids, caf::actor hub) {
      push_auth_pool->submit([dsn, ids = std::move(ids), hub] {
        auto keys = mi::gw::list_api_keys(dsn);
        if (!keys) {
          spdlog::warn("push: cannot re-check API keys: {}", keys.err().message);
          return;
        }
        std::vector<std::string> gone; // revoked, or deleted altogether
        for (const auto& id : ids) {
          auto it = std::find_if(keys->begin(), keys->end(), [&](const auto& k) { return k.key_id == id; });
          if (it == keys->end() || it->revoked_at)
            gone.push_back(id);
        }
        if (!gone.empty())
          caf::anon_send(hub, mi::actors::revoked_atom::value, std::move(gone));
      });
    };
    roles_tree.push_back(role("push", {{"push_hub", [ha, hub_slot](caf::actor_system& s) {
                                          auto a = mi::actors::spawn_push_hub(s, ha);
                                          hub_slot->set(a);
                                          return a;
                                        }}}));
  }

  // The publisher (used by ingest and kline); its slot lives in `feedback`, which the ack callback reads.
  mi::actors::actor_slot_ptr publisher_slot(feedback, &feedback->publisher);
  roles_tree.push_back(
    role("publish", {{"publisher", [&metrics, js_raw, feedback, &cfg](caf::actor_system& s) {
                        return mi::actors::spawn_publisher(s, {js_raw, &metrics, cfg.nats.max_in_flight, feedback});
                      }}}));

  if (has(roles, "store")) {
    std::vector<std::string> warnings;
    auto migrated = mi::gw::migrate(cfg.postgres.dsn, &warnings);
    for (const auto& w : warnings)
      spdlog::warn("store: migrate: {}", w);
    if (!migrated)
      spdlog::warn("store: schema not verified ({}); the savers retry until PostgreSQL is reachable",
                   migrated.err().message);
    std::vector<mi::actors::child_spec> store;
    for (auto kind : {mi::actors::saver_kind::trades, mi::actors::saver_kind::klines}) {
      mi::actors::batch_saver_args b;
      b.kind = kind;
      b.js = js_raw;
      b.metrics = &metrics;
      const bool trades = kind == mi::actors::saver_kind::trades;
      b.stream = trades ? cfg.nats.raw.name : cfg.nats.kline.name;
      b.durable = trades ? "saver_trades" : "saver_klines";
      b.filter = trades ? "market.raw.>" : "market.kline.>";
      b.dsn = cfg.postgres.dsn;
      b.batch_size = cfg.saver.batch_size;
      b.batch_timeout = cfg.saver.batch_timeout;
      b.max_attempts = cfg.saver.max_attempts;
      b.synchronous_commit = cfg.saver.synchronous_commit == mi::cfg::commit_mode::on;
      // Several trade savers may share one durable consumer: JetStream spreads the messages, each
      // saver has its own connection, and the unique keys keep redeliveries harmless.
      const int writers = trades ? cfg.saver.trade_writers : 1;
      for (int i = 0; i < writers; ++i)
        store.push_back({writers == 1 ? b.durable : b.durable + "." + std::to_string(i + 1),
                         [b](caf::actor_system& s) { return mi::actors::spawn_batch_saver(s, b); }});
    }
    mi::actors::storage_maintainer_args sm;
    sm.dsn = cfg.postgres.dsn;
    sm.policy = storage_policy(cfg);
    sm.maintenance_interval = cfg.storage.maintenance_interval;
    sm.audit_interval = cfg.audit.interval;
    sm.js = js_raw;
    sm.raw_stream = cfg.nats.raw.name;
    sm.metrics = &metrics;
    store.push_back({"storage", [sm](caf::actor_system& s) { return mi::actors::spawn_storage_maintainer(s, sm); }});
    roles_tree.push_back(role("store", std::move(store)));
  }

  if (has(roles, "kline")) {
    mi::actors::kline_stage_args ka;
    ka.js = js_raw;
    ka.publisher = publisher_slot;
    ka.metrics = &metrics;
    ka.cfg = cfg.klines;
    ka.raw_stream = cfg.nats.raw.name;
    ka.max_clock_skew_ms = cfg.ingest.max_clock_skew.count();
    ka.fault = mi::actors::parse_kline_fault(cfg.testing.fault);
    ka.fault_after_trades = cfg.testing.fault_after_trades;
    if (ka.fault != mi::actors::kline_fault::none)
      spdlog::warn("testing.fault = {}: a test-only fault is injected into the kline stage", cfg.testing.fault);
    roles_tree.push_back(
      role("kline", {{"kline_stage", [ka](caf::actor_system& s) { return mi::actors::spawn_kline_stage(s, ka); }}}));
  }

  if (has(roles, "ingest"))
    roles_tree.push_back(role("ingest", ingest_children(cfg, **js, publisher_slot, io, metrics), 5s));

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
    .receive([](std::vector<std::string>&) {},
             [&](caf::error& e) { spdlog::error("supervision: root did not start: {}", sys.render(e)); });

  // -- api (REST history) and the push gateway's token check -------------------------------
  // Declared before the servers that call into them, so they are destroyed after them.
  std::unique_ptr<mi::gw::api_service> api;
  std::unique_ptr<mi::gw::http_server> api_server;
  if (has(roles, "api") || has(roles, "push")) {
    mi::gw::api_options ao;
    ao.conninfo = cfg.postgres.dsn;
    ao.auth_required = cfg.api.auth == mi::cfg::auth_mode::required;
    ao.timestamp_window = cfg.api.timestamp_window;
    ao.default_quota_per_minute = cfg.api.default_quota_per_minute;
    ao.connections = static_cast<std::size_t>(cfg.api.workers) + (has(roles, "push") ? 1 : 0);
    ao.statement_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.api.statement_timeout);
    ao.pool_wait = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.api.pool_wait);
    if (ao.auth_required) {
      ao.master_key = api_master_key;
      ao.nonces = api_nonces;
    }
    ao.on_key_lookup = [&metrics] { metrics.api_key_lookup(); };
    ao.on_database_state = [&metrics](bool up) { metrics.api_database_up(up); };
    ao.on_request = [&metrics](std::string_view route, int status, double seconds) {
      metrics.api_request(route, status, seconds);
    };
    ao.on_auth_rejected = [&metrics](std::string_view reason) { metrics.api_auth_rejected(reason); };
    ao.on_error = [](std::string_view message) { spdlog::warn("api: {}", message); };
    api = std::make_unique<mi::gw::api_service>(std::move(ao));
  }
  if (has(roles, "api")) {
    mi::gw::http_server_options ho;
    ho.host = api_addr.host;
    ho.port = api_addr.port;
    ho.workers = static_cast<std::size_t>(cfg.api.workers);
    ho.max_connections = static_cast<std::size_t>(cfg.api.max_connections);
    ho.queue_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.api.pool_wait);
    ho.inline_handler = [&api](const mi::gw::http_request& r) { return api->handle_inline(r); };
    ho.on_connections = [&metrics](std::size_t n) { metrics.api_connections(n); };
    ho.on_refused = [&metrics] { metrics.api_connection_refused(); };
    ho.on_busy = [&metrics] { metrics.api_busy(); };
    try {
      api_server = std::make_unique<mi::gw::http_server>(
        io.context(), ho, [&api](const mi::gw::http_request& r) { return api->handle(r); });
    } catch (const std::exception& e) {
      spdlog::error("api: {}", e.what());
      return abort_start();
    }
    spdlog::info("REST API on http://{}/api/v1/ (auth {})",
                 mi::cfg::listen_address{ho.host, api_server->port(), api_addr.ipv6}.text(),
                 mi::cfg::to_string(cfg.api.auth));
  }

  // -- push ---------------------------------------------------------------------------------
  std::unique_ptr<mi::gw::push_server> push_server;
  std::unique_ptr<mi::gw::ordered_consumer> push_feed;
  std::unique_ptr<mi::gw::core_subscription> revocations;
  if (has(roles, "push")) {
    // The hub's current address is read at every call: a restarted hub is found.
    mi::gw::push_server_options po;
    po.host = push_addr.host;
    po.port = push_addr.port;
    po.queue_limit = static_cast<std::size_t>(cfg.push.queue_size);
    po.max_connections = static_cast<std::size_t>(cfg.push.max_connections);
    po.client_rate = static_cast<std::uint32_t>(cfg.push.client_rate);
    po.client_burst = static_cast<std::uint32_t>(cfg.push.client_burst);
    po.max_message_bytes = static_cast<std::size_t>(cfg.push.max_message_bytes);
    mi::gw::push_handlers ph;
    ph.on_limit = [&metrics](std::string_view reason) { metrics.push_rejected(reason); };
    ph.on_open = [hub_slot](std::shared_ptr<mi::gw::push_session> s) {
      caf::anon_send(hub_slot->get(), mi::actors::c_open_atom::value, mi::actors::session_ptr(std::move(s)));
    };
    ph.on_text = [hub_slot](mi::gw::client_id id, std::string&& text) {
      caf::anon_send(hub_slot->get(), mi::actors::c_text_atom::value, id, std::move(text));
    };
    ph.on_close = [hub_slot](mi::gw::client_id id) {
      caf::anon_send(hub_slot->get(), mi::actors::c_close_atom::value, id);
    };
    // Signed token (api section): checked when present; required unless api.anonymous_push.
    ph.authorize = [&api, &push_auth_pool, anonymous = cfg.api.anonymous_push](
                     std::string target, std::function<void(int, std::string)> done) {
      if (anonymous && !mi::gw::auth::has_push_token(target))
        return done(0, {});
      auto shared_done = std::make_shared<std::function<void(int, std::string)>>(std::move(done));
      bool queued = push_auth_pool->submit([&api, target = std::move(target), shared_done] {
        auto r = api->check_push_token(target);
        (*shared_done)(r.status == 200 ? 0 : r.status, std::move(r.body));
      });
      if (!queued)
        (*shared_done)(503, R"({"code":-1003,"msg":"server busy, retry later"})");
    };
    try {
      push_server = std::make_unique<mi::gw::push_server>(io.context(), po, std::move(ph));
    } catch (const std::exception& e) {
      spdlog::error("push: {}", e.what());
      return abort_start();
    }
    // New messages only: a subscriber never gets the stream's history.
    auto feed = mi::gw::ordered_consumer::start(
      **js, cfg.nats.kline.name, "market.kline.>", 0, [hub_slot](mi::gw::js_message&& m) {
        caf::anon_send(hub_slot->get(), mi::actors::kmsg_atom::value, std::string(m.subject()), std::string(m.data()));
      });
    if (!feed) {
      spdlog::error("push: cannot consume {}: {}", cfg.nats.kline.name, feed.err().message);
      return abort_start();
    }
    push_feed = std::move(*feed);
    // `apikey revoke` announces revoked keys; the periodic re-check covers a missed announcement.
    auto revoked = mi::gw::core_subscription::start(**js, std::string(mi::gw::apikey_revoked_subject),
                                                    [hub_slot](mi::gw::js_message&& m) {
                                                      caf::anon_send(hub_slot->get(), mi::actors::revoked_atom::value,
                                                                     std::vector<std::string>{std::string(m.data())});
                                                    });
    if (!revoked) {
      spdlog::error("push: {}", revoked.err().message);
      return abort_start();
    }
    revocations = std::move(*revoked);
    spdlog::info("push gateway on ws://{}/ (at most {} connections, {} messages/s per client)",
                 mi::cfg::listen_address{po.host, push_server->port(), push_addr.ipv6}.text(), po.max_connections,
                 po.client_rate);
  }

  spdlog::info("market-ingestor running (roles: {}); metrics on http://{}/metrics", fmt::join(roles, ","),
               mi::cfg::listen_address{metrics_addr.host, metrics_server->port(), metrics_addr.ipv6}.text());
  std::cout << "ready" << std::endl; // a line scripts and tests can wait for

  // Wait for a signal (forwarded by a thread) or for the root to end: a role that gave up.
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
  {
    if (auto r = (*js)->flush(30s); !r)
      spdlog::error("shutdown: JetStream acks still outstanding: {}", r.err().message);
    push_feed.reset();
    revocations.reset();
    if (push_server)
      push_server->stop();
    if (api_server)
      api_server->stop();
    metrics_server->stop();
    if (push_auth_pool)
      push_auth_pool->stop();
  }
  if (status != 0) {
    io.stop();
    return status;
  }
  io.stop();
  spdlog::info("stopped cleanly");
  return 0;
}

} // namespace mi::app
