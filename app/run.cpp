// `market-ingestor run`: wires the roles of the platform and shuts them down in order.
#include <algorithm>
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
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/http/api.hpp"
#include "gateways/http/history.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/nonce_store_kv.hpp"
#include "gateways/http/worker_pool.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/postgres.hpp"
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
  s.file_storage = c.storage == "file";
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
    caf::after(timeout) >> [&] {
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
  spdlog::set_level(spdlog::level::from_str(cfg.runtime.log_level));
  for (const auto& r : roles)
    if (r != "ingest" && r != "kline" && r != "store" && r != "push" && r != "api") {
      std::cerr << "run: unknown role '" << r << "' (expected ingest, kline, store, push, api)\n";
      return 2;
    }

  // The API's master key: checked before anything starts (a config error, exit 2).
  const bool needs_api_keys = (has(roles, "api") || has(roles, "push")) && cfg.api.auth == "required";
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

  mi::gw::metrics metrics;
  auto metrics_port = metrics.serve(cfg.metrics.listen);
  if (!metrics_port) {
    spdlog::error("{}", metrics_port.err().message);
    return 1;
  }

  // JetStream: the bridge between every stage.
  auto feedback = std::make_shared<mi::actors::publish_feedback>();
  feedback->low_water = cfg.nats.max_in_flight * 3 / 4;
  mi::gw::jetstream* js_raw = nullptr;
  mi::gw::jetstream::options jo;
  jo.url = cfg.nats.url;
  jo.connect_timeout = cfg.nats.connect_timeout;
  jo.ack_timeout = cfg.nats.ack_timeout;
  jo.max_pending = cfg.nats.max_in_flight * 2 + 1024; // nats.c must never stall before our own limit
  jo.max_retries = std::numeric_limits<int>::max();  // a trade is never given up
  jo.on_outcome = [feedback, &metrics, &js_raw](const mi::gw::publish_outcome& o) {
    mi::actors::on_publish_outcome(feedback, &metrics, js_raw, o);
  };
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) {
    spdlog::error("{}", js.err().message);
    return 1;
  }
  js_raw = js->get();
  for (const auto* sc : {&cfg.nats.raw, &cfg.nats.kline, &cfg.nats.gap, &cfg.nats.dlq}) {
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

  // -- publisher (used by ingest and kline) ------------------------------------------------
  auto publisher_slot = std::make_shared<mi::actors::actor_slot>();
  caf::actor publisher_sup = mi::actors::spawn_supervisor(
    sys, {"publisher",
          [&, publisher_slot, feedback](caf::actor_system& s) {
            auto a = mi::actors::spawn_publisher(s, {js_raw, &metrics, cfg.nats.max_in_flight, feedback});
            publisher_slot->set(a);
            return a;
          }});

  // -- ingest -----------------------------------------------------------------------------
  ingest_actors ingest;
  if (has(roles, "ingest"))
    ingest = start_ingest(sys, cfg, **js, publisher_slot, io, metrics);

  // -- kline --------------------------------------------------------------------------------
  caf::actor kline_sup;
  if (has(roles, "kline")) {
    mi::actors::kline_stage_args ka;
    ka.js = js_raw;
    ka.publisher = publisher_slot;
    ka.metrics = &metrics;
    ka.cfg = cfg.klines;
    ka.raw_stream = cfg.nats.raw.name;
    kline_sup = mi::actors::spawn_supervisor(
      sys, {"kline", [ka](caf::actor_system& s) { return mi::actors::spawn_kline_stage(s, ka); }});
  }

  // -- store --------------------------------------------------------------------------------
  std::vector<caf::actor> savers;
  caf::actor maintainer;
  if (has(roles, "store")) {
    auto migrated = mi::gw::migrate(cfg.postgres.dsn);
    if (!migrated)
      spdlog::warn("store: schema not verified ({}); the savers retry until PostgreSQL is reachable",
                   migrated.err().message);
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
      b.synchronous_commit = cfg.saver.synchronous_commit == "on";
      // Several trade savers may share one durable consumer: JetStream spreads the messages, each
      // saver has its own connection, and the unique keys keep redeliveries harmless.
      const int writers = trades ? cfg.saver.trade_writers : 1;
      for (int i = 0; i < writers; ++i)
        savers.push_back(mi::actors::spawn_supervisor(
          sys, {writers == 1 ? b.durable : b.durable + "." + std::to_string(i + 1),
                [b](caf::actor_system& s) { return mi::actors::spawn_batch_saver(s, b); }}));
    }
    mi::actors::storage_maintainer_args sm;
    sm.dsn = cfg.postgres.dsn;
    sm.policy = storage_policy(cfg);
    sm.maintenance_interval = cfg.storage.maintenance_interval;
    sm.audit_interval = cfg.audit.interval;
    sm.js = js_raw;
    sm.raw_stream = cfg.nats.raw.name;
    sm.metrics = &metrics;
    maintainer = mi::actors::spawn_supervisor(
      sys, {"storage", [sm](caf::actor_system& s) { return mi::actors::spawn_storage_maintainer(s, sm); }});
  }

  // -- api (REST history) and the push gateway's token check -------------------------------
  // Declared before the servers that call into them, so they are destroyed after them.
  std::unique_ptr<mi::gw::api_service> api;
  std::unique_ptr<mi::gw::worker_pool> push_auth_pool; // blocking key lookups off the I/O thread
  std::unique_ptr<mi::gw::http_server> api_server;
  if (has(roles, "api") || has(roles, "push")) {
    mi::gw::api_options ao;
    ao.conninfo = cfg.postgres.dsn;
    ao.auth_required = cfg.api.auth == "required";
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
    auto colon = cfg.api.listen.rfind(':');
    mi::gw::http_server_options ho;
    ho.host = cfg.api.listen.substr(0, colon);
    ho.port = static_cast<std::uint16_t>(std::stoi(cfg.api.listen.substr(colon + 1)));
    ho.workers = static_cast<std::size_t>(cfg.api.workers);
    ho.max_connections = static_cast<std::size_t>(cfg.api.max_connections);
    ho.queue_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.api.pool_wait);
    ho.inline_handler = [&api](const mi::gw::http_request& r) { return api->handle_inline(r); };
    ho.on_connections = [&metrics](std::size_t n) { metrics.api_connections(n); };
    ho.on_refused = [&metrics] { metrics.api_connection_refused(); };
    ho.on_busy = [&metrics] { metrics.api_busy(); };
    try {
      api_server = std::make_unique<mi::gw::http_server>(io.context(), ho,
                                                         [&api](const mi::gw::http_request& r) { return api->handle(r); });
    } catch (const std::exception& e) {
      spdlog::error("api: {}", e.what());
      return 1;
    }
    spdlog::info("REST API on http://{}:{}/api/v1/ (auth {})", ho.host, api_server->port(), cfg.api.auth);
  }

  // -- push ---------------------------------------------------------------------------------
  caf::actor hub;
  std::unique_ptr<mi::gw::push_server> push_server;
  std::unique_ptr<mi::gw::ordered_consumer> push_feed;
  if (has(roles, "push")) {
    hub = mi::actors::spawn_push_hub(sys, {&metrics, 100});
    auto colon = cfg.push.listen.rfind(':');
    mi::gw::push_server_options po;
    po.host = cfg.push.listen.substr(0, colon);
    po.port = static_cast<std::uint16_t>(std::stoi(cfg.push.listen.substr(colon + 1)));
    po.queue_limit = static_cast<std::size_t>(cfg.push.queue_size);
    mi::gw::push_handlers ph;
    ph.on_open = [hub](std::shared_ptr<mi::gw::push_session> s) {
      caf::anon_send(hub, mi::actors::c_open_atom::value, mi::actors::session_ptr(std::move(s)));
    };
    ph.on_text = [hub](mi::gw::client_id id, std::string&& text) {
      caf::anon_send(hub, mi::actors::c_text_atom::value, id, std::move(text));
    };
    ph.on_close = [hub](mi::gw::client_id id) { caf::anon_send(hub, mi::actors::c_close_atom::value, id); };
    // Signed token (api section): checked when present; required unless api.anonymous_push.
    push_auth_pool = std::make_unique<mi::gw::worker_pool>(1, 256);
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
      return 1;
    }
    // New messages only: a subscriber never gets the stream's history.
    auto feed = mi::gw::ordered_consumer::start(**js, cfg.nats.kline.name, "market.kline.>", 0,
                                                [hub](mi::gw::js_message&& m) {
                                                  caf::anon_send(hub, mi::actors::kmsg_atom::value,
                                                                 std::string(m.subject()), std::string(m.data()));
                                                });
    if (!feed) {
      spdlog::error("push: cannot consume {}: {}", cfg.nats.kline.name, feed.err().message);
      return 1;
    }
    push_feed = std::move(*feed);
    spdlog::info("push gateway on ws://{}:{}/", po.host, push_server->port());
  }

  spdlog::info("market-ingestor running (roles: {}); metrics on http://{}/metrics", fmt::join(roles, ","),
               cfg.metrics.listen);
  std::cout << "ready" << std::endl; // a line scripts and tests can wait for

  int sig = 0;
  sigwait(&sigs, &sig);
  spdlog::info("signal {}: shutting down (a second signal forces exit)", sig);
  std::thread([sigs]() mutable {
    int again = 0;
    sigwait(&sigs, &again);
    std::cerr << "second signal: forced exit\n";
    std::_Exit(130);
  }).detach();

  // Shutdown order: connections, then the kline stage (pending finals + checkpoints) and the
  // savers (batch in hand), then outstanding JetStream acks, then the database and the rest.
  {
    caf::scoped_actor self{sys};
    for (auto& c : ingest.connections)
      stop_and_wait(self, c, 5s, "connection");
    for (auto& b : ingest.backfills)
      stop_and_wait(self, b, 5s, "backfill");
    stop_and_wait(self, kline_sup, 30s, "kline stage");
    for (auto& s : savers)
      stop_and_wait(self, s, 30s, "saver");
    stop_and_wait(self, maintainer, 30s, "storage maintainer");
    stop_and_wait(self, publisher_sup, 30s, "publisher");
    if (auto r = (*js)->flush(30s); !r)
      spdlog::error("shutdown: JetStream acks still outstanding: {}", r.err().message);
    push_feed.reset();
    if (push_server)
      push_server->stop();
    if (api_server)
      api_server->stop();
    if (push_auth_pool)
      push_auth_pool->stop();
    stop_and_wait(self, hub, 5s, "push hub");
  }
  io.stop();
  spdlog::info("stopped cleanly");
  return 0;
}

} // namespace mi::app
