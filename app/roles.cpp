// The roles of `run`: each started from the configuration, as run_platform wires them.
#include "app/roles.hpp"

#include <algorithm>
#include <atomic>
#include <limits>
#include <map>
#include <mutex>
#include <spdlog/fmt/ranges.h>
#include <spdlog/spdlog.h>

#include "actors/batch_saver.hpp"
#include "actors/book_sampler.hpp"
#include "actors/caf_types.hpp"
#include "actors/calendar_refresh.hpp"
#include "actors/cn.hpp"
#include "actors/coverage_saver.hpp"
#include "actors/derivatives_saver.hpp"
#include "actors/documents.hpp"
#include "actors/inspection.hpp"
#include "actors/kline_partitions.hpp"
#include "actors/kline_stage.hpp"
#include "actors/push_hub.hpp"
#include "actors/quote_saver.hpp"
#include "actors/storage_maintainer.hpp"
#include "app/commands.hpp"
#include "caf/send.hpp"
#include "config/listen_address.hpp"
#include "connectors/cn/symbols.hpp"
#include "connectors/transport/io_thread.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/http/from_config.hpp"
#include "gateways/jetstream/from_config.hpp"
#include "gateways/postgres/postgres.hpp"
#include "gateways/push/from_config.hpp"
#include "gateways/push/push_protocol.hpp"
#include "messages/book/book_message.hpp"
#include "messages/util/clock.hpp"
#include "messages/calendar/alpaca_refresh.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/calendar/calendar_feed.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "messages/document.hpp"
#include "messages/venue_registry.hpp"

namespace mi::app {

using namespace std::chrono_literals;

bool has_role(const std::vector<std::string>& roles, const char* r) {
  return std::find(roles.begin(), roles.end(), r) != roles.end();
}

std::unique_ptr<bridge> start_bridge(const mi::cfg::config& cfg, mi::gw::metrics& metrics) {
  auto out = std::make_unique<bridge>();
  auto feedback = std::make_shared<mi::actors::publish_feedback>();
  out->feedback = feedback;
  feedback->low_water = cfg.nats.max_in_flight * 3 / 4;
  feedback->streams.clear();
  for (const auto* sc : mi::cfg::all_streams(cfg.nats))
    for (auto prefix : mi::cfg::subject_filters(*sc)) { // "market.raw.>" -> "market.raw."
      if (prefix.size() >= 1 && prefix.back() == '>')
        prefix.pop_back();
      feedback->streams.emplace_back(prefix, sc->name);
    }
  feedback->streams.emplace_back("$KV." + std::string(mi::book::snapshots_bucket) + ".",
                                 "KV_" + std::string(mi::book::snapshots_bucket));
  std::vector<std::string> stream_names;
  for (const auto& [prefix, name] : feedback->streams)
    if (std::find(stream_names.begin(), stream_names.end(), name) == stream_names.end())
      stream_names.push_back(name);
  metrics.publish_streams(std::move(stream_names)); // the bounded `stream` label of mi_publish_failures_total
  auto jo = mi::gw::to_options(cfg.nats);
  jo.name = "market-ingestor " + cfg.runtime.node_id; // nats-server's /connz tells the nodes apart
  // Set once connected; read by nats.c's ack threads (atomic: no thread reads it mid-write).
  auto js_for_acks = std::make_shared<std::atomic<mi::gw::jetstream*>>(nullptr);
  out->raw_feed = std::make_shared<mi::actors::local_raw_feed>(cfg.nats.raw.name);
  jo.on_outcome = [feedback, &metrics, js_for_acks, feed = out->raw_feed](const mi::gw::publish_outcome& o) {
    if (o.ok && !o.duplicate) // a duplicate was stored (and offered) under its first ack
      feed->offer(o.stream, o.seq, o.subject, o.data);
    mi::actors::on_publish_outcome(feedback, &metrics, js_for_acks->load(std::memory_order_acquire), o);
  };
  jo.on_retry = [&publisher = metrics.publisher()](std::string_view) { publisher.publish_retried(); };
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) {
    spdlog::error("{}", js.err().message);
    return nullptr;
  }
  spdlog::info("nats: connected to {}", cfg.nats.url);
  out->js = std::move(*js);
  mi::gw::jetstream* js_raw = out->js.get();
  js_for_acks->store(js_raw, std::memory_order_release);
  metrics.publish_in_flight_source([js_raw] { return js_raw->in_flight(); });
  // The gauge's source dies with `js`: unhook it first, whichever way the caller returns.
  out->unhook_in_flight = std::make_unique<bridge::unhook>(&metrics);
  for (const auto* sc : mi::cfg::all_streams(cfg.nats)) {
    auto st = js_raw->ensure_stream(mi::gw::to_spec(*sc));
    if (!st) {
      spdlog::error("stream {}: {}", sc->name, st.err().message);
      return nullptr;
    }
    spdlog::info("stream {} ready: {} messages", sc->name, st->messages);
  }
  // The latest order-book snapshot per (exchange, symbol): a late consumer starts from it.
  if (auto kv = js_raw->kv_ensure(std::string(mi::book::snapshots_bucket)); !kv) {
    spdlog::error("key-value bucket {}: {}", mi::book::snapshots_bucket, kv.err().message);
    return nullptr;
  }
  return out;
}

std::unique_ptr<mi::gw::http_server> start_metrics(const mi::cfg::config& cfg, mi::net::io_thread& io,
                                                   mi::gw::metrics& metrics, const mi::gw::health& health) {
  // /metrics on our own HTTP server (Beast), like the REST API and the push gateway: the same
  // address forms for all three, IPv6 included (the civetweb of prometheus-cpp here has no IPv6).
  auto mo = mi::gw::to_server_options(cfg.metrics);
  // /healthz and /readyz read cached state (health_probe.hpp): answered on the I/O thread, never queued
  // behind a scrape and never waiting for NATS or PostgreSQL.
  mo.inline_handler = [&health](const mi::gw::http_request& r) -> std::optional<mi::gw::http_response> {
    auto a = mi::gw::answer_health(health, r.path);
    if (a.status == 0)
      return std::nullopt;
    return mi::gw::http_response{a.status, std::move(a.body), "application/json", {{"Cache-Control", "no-store"}}};
  };
  try {
    return std::make_unique<mi::gw::http_server>(io.context(), mo, [&metrics](const mi::gw::http_request& r) {
      if (r.path != "/metrics")
        return mi::gw::http_response{404, "not found: see /metrics, /healthz, /readyz\n", "text/plain", {}};
      return mi::gw::http_response{200, metrics.scrape(), "text/plain; version=0.0.4; charset=utf-8", {}};
    });
  } catch (const std::exception& e) {
    spdlog::error("cannot serve /metrics: {}", e.what());
    return nullptr;
  }
}

role_factory role_supervisors(const mi::actors::restart_limits& limits, mi::gw::metrics& metrics) {
  return [&metrics, limits](std::string name, std::vector<mi::actors::child_spec> children,
                            std::chrono::milliseconds stop_timeout) {
    return mi::actors::child_spec{
      name, [&metrics, limits, name, children, stop_timeout](caf::actor_system& s) {
        return mi::actors::spawn_supervisor(s, {name, children, limits, stop_timeout, &metrics});
      }};
  };
}

mi::actors::child_spec push_hub_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                     mi::gw::metrics& metrics, mi::gw::worker_pool& pool,
                                     std::shared_ptr<mi::actors::actor_slot> hub_slot) {
  mi::actors::push_hub_args ha;
  ha.metrics = &metrics;
  ha.max_channels = static_cast<std::size_t>(cfg.push.max_channels);
  ha.js = &js;
  ha.raw_stream = cfg.nats.raw.name;
  ha.key_check_interval = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.push.key_check_interval);
  ha.kline_stream = cfg.nats.kline.name;
  ha.resume_max = static_cast<std::size_t>(cfg.push.resume_max);
  ha.queue_limit = static_cast<std::size_t>(cfg.push.queue_size);
  ha.policies = mi::gw::slow_policies(cfg.push);
  ha.check_keys = [&pool, dsn = cfg.postgres.dsn](std::vector<std::string> ids, caf::actor hub) {
    pool.submit([dsn, ids = std::move(ids), hub] {
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
  return role("push",
              {{"push_hub",
                [ha, hub_slot](caf::actor_system& s) {
                  auto a = mi::actors::spawn_push_hub(s, ha);
                  hub_slot->set(a);
                  return a;
                }}},
              30s);
}

mi::actors::child_spec publish_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                    mi::gw::metrics& metrics,
                                    const std::shared_ptr<mi::actors::publish_feedback>& feedback) {
  return role("publish",
              {{"publisher",
                [&metrics, js_raw = &js, feedback, max_in_flight = cfg.nats.max_in_flight](caf::actor_system& s) {
                  return mi::actors::spawn_publisher(s, {js_raw, &metrics, max_in_flight, feedback});
                }}},
              30s);
}

mi::actors::child_spec store_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                  mi::gw::metrics& metrics) {
  std::vector<std::string> warnings;
  auto migrated = mi::gw::migrate(cfg.postgres.dsn, &warnings);
  for (const auto& w : warnings)
    spdlog::warn("store: migrate: {}", w);
  if (!migrated)
    spdlog::warn("store: schema not verified ({}); the savers retry until PostgreSQL is reachable",
                 migrated.err().message);
  std::vector<mi::actors::child_spec> store;
  for (auto kind : {mi::actors::saver_kind::trades, mi::actors::saver_kind::klines}) {
    auto b = mi::actors::to_saver_args(cfg, kind);
    b.js = &js;
    b.metrics = &metrics;
    // Several trade savers may share one durable consumer: JetStream spreads the messages, each
    // saver has its own connection, and the unique keys keep redeliveries harmless.
    const int writers = kind == mi::actors::saver_kind::trades ? cfg.saver.trade_writers : 1;
    for (int i = 0; i < writers; ++i)
      store.push_back({writers == 1 ? b.durable : b.durable + "." + std::to_string(i + 1),
                       [b](caf::actor_system& s) { return mi::actors::spawn_batch_saver(s, b); }});
  }
  mi::actors::storage_maintainer_args sm;
  sm.dsn = cfg.postgres.dsn;
  sm.policy = storage_policy(cfg);
  sm.maintenance_interval = cfg.storage.maintenance_interval;
  sm.audit_interval = cfg.audit.interval;
  sm.js = &js;
  sm.raw_stream = cfg.nats.raw.name;
  sm.metrics = &metrics;
  store.push_back({"storage", [sm](caf::actor_system& s) { return mi::actors::spawn_storage_maintainer(s, sm); }});
  if (cfg.storage.books.enabled) {
    mi::actors::book_sampler_args bs;
    bs.js = &js;
    bs.metrics = &metrics;
    bs.dsn = cfg.postgres.dsn;
    bs.book_stream = cfg.nats.book.name;
    bs.depth = static_cast<std::size_t>(cfg.storage.books.depth);
    bs.bbo_interval = cfg.storage.books.bbo_interval;
    bs.snapshot_interval = cfg.storage.books.snapshot_interval;
    store.push_back({"book_sampler", [bs](caf::actor_system& s) { return mi::actors::spawn_book_sampler(s, bs); }});
  }
  // Gap reports (MARKET_GAP) into market_gaps, for coverage (GET /api/v1/coverage, the console's heat-map).
  mi::actors::coverage_saver_args cs{&js, cfg.nats.gap.name, "saver_gaps", cfg.postgres.dsn};
  store.push_back({"saver_gaps", [cs](caf::actor_system& s) { return mi::actors::spawn_coverage_saver(s, cs); }});
  // Perpetual-swap events (MARKET_DERIV) into market_derivatives.
  mi::actors::derivatives_saver_args dvs{&js, cfg.nats.deriv.name, "saver_derivatives", cfg.postgres.dsn};
  store.push_back(
    {"saver_derivatives", [dvs](caf::actor_system& s) { return mi::actors::spawn_derivatives_saver(s, dvs); }});
  mi::actors::document_saver_args ds;
  ds.js = &js;
  ds.stream = cfg.nats.doc.name;
  ds.dsn = cfg.postgres.dsn;
  ds.metrics = &metrics;
  store.push_back({"saver_documents", [ds](caf::actor_system& s) { return mi::actors::spawn_document_saver(s, ds); }});
  // Equity quote snapshots of every equities venue (MARKET_QUOTE) into market_quotes.
  mi::actors::quote_saver_args qs;
  qs.js = &js;
  qs.stream = cfg.nats.quote.name;
  qs.dsn = cfg.postgres.dsn;
  qs.batch_size = cfg.saver.batch_size;
  qs.metrics = &metrics;
  store.push_back({"saver_quotes", [qs](caf::actor_system& s) { return mi::actors::spawn_quote_saver(s, qs); }});
  return role("store", std::move(store), 30s);
}

mi::actors::child_spec documents_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                      mi::gw::metrics& metrics, mi::net::io_thread& io) {
  std::vector<mi::actors::child_spec> children;
  std::uint64_t seed = 1;
  for (const auto& info : mi::document_sources()) {
    const auto it = cfg.documents.sources.find(std::string(info.name));
    if (it == cfg.documents.sources.end() || !it->second.enabled)
      continue;
    const auto& sc = it->second;
    mi::actors::document_source_args a;
    a.settings.source = std::string(info.name);
    a.settings.url = sc.url;
    a.settings.items = sc.items;
    a.settings.user_agent = cfg.documents.user_agent;
    if (info.name == "alpaca") { // the same credentials as the alpaca market-data venue
      a.settings.key_id = mi::cfg::venue_secret_env("alpaca", "KEY_ID");
      a.settings.secret_key = mi::cfg::venue_secret_env("alpaca", "SECRET_KEY");
      a.stream_url = sc.stream_url;
      a.io = &io;
    }
    auto ns = [](auto d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); };
    a.settings.schedule.interval_ns = ns(sc.interval);
    a.settings.schedule.jitter = sc.jitter_percent / 100.0;
    a.settings.schedule.requests_per_second = sc.requests_per_second;
    a.settings.schedule.failure_threshold = sc.failure_threshold;
    a.settings.schedule.open_for_ns = ns(sc.open_for);
    a.settings.schedule.backfill_horizon_ns = ns(sc.backfill_horizon);
    a.timeout = sc.timeout;
    a.js = &js;
    a.metrics = &metrics;
    a.seed = seed++ ^ static_cast<std::uint64_t>(mi::util::now_ns());
    spdlog::info("documents: source {} every {} ms from {}", info.name, sc.interval.count(), sc.url);
    children.push_back({"documents." + a.settings.source,
                        [a](caf::actor_system& s) { return mi::actors::spawn_document_source(s, a); }});
  }
  if (children.empty())
    spdlog::warn("documents: role started with no source enabled (documents.sources.<name>.enabled)");
  return role("documents", std::move(children), 15s);
}

// calendars.alpaca_refresh: XNYS from Alpaca's /v2/calendar over the calendar's years and the next one, merged into
// `ny`. An error (and `ny` unchanged) when the request or the answer fails (messages/calendar/alpaca_refresh.hpp).
static mi::result<mi::calendar::refresh_summary> refresh_xnys(const mi::cfg::config& cfg, mi::calendar::calendar& ny) {
  const auto from = mi::util::days_from_civil(ny.first_date().year, ny.first_date().month, ny.first_date().day);
  const auto to = mi::util::days_from_civil(ny.last_date().year + 1, 12, 31);
  const auto target = mi::calendar::alpaca_calendar_target(from, to);
  auto u = mi::net::parse_url(cfg.calendars.alpaca_url + target);
  if (!u)
    return mi::error{"bad calendars.alpaca_url " + cfg.calendars.alpaca_url + ": " + u.err().message};
  // The credentials are headers, never logged.
  const mi::net::request_headers headers{{"APCA-API-KEY-ID", mi::cfg::venue_secret_env("alpaca", "KEY_ID")},
                                         {"APCA-API-SECRET-KEY", mi::cfg::venue_secret_env("alpaca", "SECRET_KEY")}};
  auto body = mi::net::http_get(*u, std::chrono::seconds(10), headers);
  if (!body)
    return mi::error{"Alpaca " + cfg.calendars.alpaca_url + target + " failed (" + body.err().message + ")"};
  return mi::calendar::refresh_from_alpaca(ny, *body);
}

// One periodic refresh (calendars.alpaca_refresh_every): a copy of the snapshot in use, XNYS merged with Alpaca's
// answer, published when it changed a day. A failed or empty answer keeps the calendar in use (log + counter).
static void refresh_market_calendars(const mi::cfg::config& cfg, mi::calendar::calendar_feed& feed,
                                     mi::gw::calendar_refresh_probe& probe) {
  const auto in_use = feed.current();
  const auto* old_ny = in_use->find("XNYS");
  if (old_ny == nullptr)
    return;
  auto next = *in_use;
  auto* ny = next.find_mutable("XNYS");
  auto r = refresh_xnys(cfg, *ny);
  if (!r) {
    probe.failed();
    spdlog::error("calendars: XNYS refresh: {}; the calendar in use is kept", r.err().message);
    return;
  }
  if (mi::calendar::same_days(*old_ny, *ny)) {
    probe.unchanged();
    spdlog::info("calendars: XNYS refreshed from Alpaca {}: {}, unchanged", cfg.calendars.alpaca_url, r->text());
    return;
  }
  feed.replace(std::make_shared<const mi::calendar::calendar_set>(std::move(next)));
  probe.changed();
  spdlog::info("calendars: XNYS refreshed from Alpaca {}: {}, changed: version {} in use (klines take it between "
               "sessions)",
               cfg.calendars.alpaca_url, r->text(), feed.version());
}

mi::actors::child_spec cn_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                               mi::gw::metrics& metrics) {
  const auto& cn = cfg.equities.cn;
  auto ns = [](auto d) { return std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(); };
  auto limits = [&](const mi::cfg::cn_source_config& c) {
    mi::cn::source_limits l;
    l.url = c.url;
    l.requests_per_second = c.requests_per_second;
    l.burst = c.burst;
    l.batch_size = c.batch_size;
    l.failure_threshold = c.failure_threshold;
    l.open_for_ns = ns(c.open_for);
    return l;
  };
  auto calendars = load_market_calendars(cfg);
  mi::actors::cn_quotes_args q;
  for (const auto& s : cn.symbols)
    if (auto sym = mi::cn::parse_symbol(s))
      q.settings.symbols.push_back(*sym);
  q.settings.tencent = limits(cn.tencent);
  q.settings.sina = limits(cn.sina);
  q.settings.interval_ns = ns(cn.interval);
  q.settings.jitter = cn.jitter_percent / 100.0;
  q.settings.grace_ns = ns(cn.grace);
  q.settings.sessions_only = cn.sessions_only;
  q.calendars = calendars;
  q.tencent_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cn.tencent.timeout);
  q.sina_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cn.sina.timeout);
  q.js = &js;
  q.metrics = &metrics;
  q.seed = static_cast<std::uint64_t>(mi::util::now_ns());
  std::vector<mi::actors::child_spec> children{
    {"cn.quotes", [q](caf::actor_system& s) { return mi::actors::spawn_cn_quotes(s, q); }}};
  if (cn.daily_bars_after.count() > 0) {
    mi::actors::cn_daily_bars_args b;
    b.symbols = q.settings.symbols;
    b.calendars = calendars;
    b.eastmoney = limits(cn.eastmoney);
    b.timeout = std::chrono::duration_cast<std::chrono::milliseconds>(cn.eastmoney.timeout);
    b.after_close_ns = ns(cn.daily_bars_after);
    b.days = cn.daily_bars_days;
    b.dsn = cfg.postgres.dsn;
    b.metrics = &metrics;
    children.push_back({"cn.daily_bars", [b](caf::actor_system& s) { return mi::actors::spawn_cn_daily_bars(s, b); }});
  }
  spdlog::info("cn: {} symbols from {} (failover {}) every {} ms{}", q.settings.symbols.size(), cn.tencent.url,
               cn.sina.url, std::chrono::duration_cast<std::chrono::milliseconds>(cn.interval).count(),
               cn.sessions_only ? ", inside the sessions" : ", at any time (sessions_only false)");
  return role("cn", std::move(children), 15s);
}

bool alpaca_daily_enabled(const mi::cfg::config& cfg) {
  const auto it = cfg.exchanges.find("alpaca");
  return it != cfg.exchanges.end() && it->second.daily_job.enabled;
}

mi::actors::alpaca_daily_args alpaca_daily_settings(const mi::cfg::config& cfg) {
  mi::actors::alpaca_daily_args a;
  const auto it = cfg.exchanges.find("alpaca");
  if (it == cfg.exchanges.end())
    return a;
  const auto& ex = it->second;
  a.symbols = ex.symbols;
  a.rest_url = ex.rest_url;
  // The feed of our trades is the stream's path (/v2/iex, /v2/sip): Alpaca's bars of another feed differ everywhere.
  const auto slash = ex.ws_url.find_last_of('/');
  a.feed = slash == std::string::npos ? std::string("iex") : ex.ws_url.substr(slash + 1);
  if (a.feed != "iex" && a.feed != "sip")
    a.feed = "iex";
  a.key_id = mi::cfg::venue_secret_env("alpaca", "KEY_ID");
  a.secret_key = mi::cfg::venue_secret_env("alpaca", "SECRET_KEY");
  // The venue's REST pace (Alpaca's free plan: 200 requests a minute), or the account's (rest_requests_per_minute).
  const std::int64_t per_minute = ex.rest_requests_per_minute > 0 ? ex.rest_requests_per_minute : 200;
  a.min_interval_ns = 60'000'000'000 / per_minute;
  const auto& at = ex.daily_job.at; // HH:MM, validated by load()
  a.at_minutes = ((at[0] - '0') * 10 + (at[1] - '0')) * 60 + (at[3] - '0') * 10 + (at[4] - '0');
  a.backfill_days = ex.daily_job.backfill_days;
  a.calendars = market_calendar_feed(cfg);
  a.dsn = cfg.postgres.dsn;
  return a;
}

mi::actors::child_spec daily_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                  mi::gw::metrics& metrics) {
  auto a = alpaca_daily_settings(cfg);
  a.js = &js;
  a.metrics = &metrics;
  std::vector<mi::actors::child_spec> children;
  if (alpaca_daily_enabled(cfg)) {
    spdlog::info("alpaca daily: {} symbols at {} New York on XNYS trading days, {} trading days back, from {} ({})",
                 a.symbols.size(), cfg.exchanges.at("alpaca").daily_job.at, a.backfill_days, a.rest_url, a.feed);
    children.push_back({"alpaca_daily", [a](caf::actor_system& s) { return mi::actors::spawn_alpaca_daily(s, a); }});
  } else {
    spdlog::warn("daily: role started with no job enabled (exchanges.alpaca.daily_job.enabled)");
  }
  return role("daily", std::move(children), 15s);
}

static std::shared_ptr<const mi::calendar::calendar_set> read_market_calendars(const mi::cfg::config& cfg) {
  // Every enabled venue whose market is not CRYPTO needs its calendar; crypto alone needs none.
  std::vector<std::string> needed;
  for (const auto& [name, ex] : cfg.exchanges)
    if (const auto* v = mi::find_venue(name); ex.enabled && v != nullptr && v->market != mi::calendar::crypto_market)
      needed.emplace_back(v->market);
  auto dir = mi::calendar::resolve_calendar_dir(cfg.calendars.dir);
  auto set = dir ? mi::calendar::load_calendars(*dir) : mi::result<mi::calendar::calendar_set>(dir.err());
  if (!set) {
    if (!needed.empty())
      spdlog::error("calendars: {} (markets {} need one: their symbols get no session-aware klines)", set.err().message,
                    fmt::join(needed, ", "));
    else
      spdlog::info("calendars: {} (only crypto venues are enabled: none needed)", set.err().message);
    return std::make_shared<const mi::calendar::calendar_set>();
  }
  for (const auto& m : needed)
    if (set->find(m) == nullptr)
      spdlog::error("calendars: no calendar for market {} in {}", m, *dir);
  if (auto* ny = set->find_mutable("XNYS"); cfg.calendars.alpaca_refresh && ny != nullptr) {
    if (auto r = refresh_xnys(cfg, *ny))
      spdlog::info("calendars: XNYS refreshed from Alpaca {}: {}", cfg.calendars.alpaca_url, r->text());
    else
      spdlog::error("calendars: {}; XNYS from the file", r.err().message);
  }
  spdlog::info("calendars: {} loaded from {}", fmt::join(set->markets(), ", "), *dir);
  return std::make_shared<const mi::calendar::calendar_set>(std::move(*set));
}

// The kline, API, daily and A-share roles of one process share one load (files, and Alpaca's calendar when
// calendars.alpaca_refresh is on: one request per process, not one per role) and one feed its refreshes replace.
std::shared_ptr<mi::calendar::calendar_feed> market_calendar_feed(const mi::cfg::config& cfg) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<mi::calendar::calendar_feed>> loaded;
  const std::string key =
    cfg.calendars.dir + '\n' + (cfg.calendars.alpaca_refresh ? cfg.calendars.alpaca_url : std::string());
  std::lock_guard lock(mu);
  auto& feed = loaded[key];
  if (!feed)
    feed = std::make_shared<mi::calendar::calendar_feed>(read_market_calendars(cfg));
  return feed;
}

std::shared_ptr<const mi::calendar::calendar_set> load_market_calendars(const mi::cfg::config& cfg) {
  return market_calendar_feed(cfg)->current();
}

std::optional<mi::actors::child_spec> calendars_role(const mi::cfg::config& cfg, const std::vector<std::string>& roles,
                                                     const role_factory& role, mi::gw::metrics& metrics) {
  const bool used = has_role(roles, "kline") || has_role(roles, "api") || has_role(roles, "daily");
  if (!used || !cfg.calendars.alpaca_refresh || cfg.calendars.alpaca_refresh_every.count() == 0)
    return std::nullopt;
  auto feed = market_calendar_feed(cfg);
  if (feed->current()->find("XNYS") == nullptr)
    return std::nullopt; // nothing to refresh (the load said why)
  mi::actors::calendar_refresh_args a;
  a.every = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.calendars.alpaca_refresh_every);
  auto& probe = metrics.calendar_refresh("XNYS");
  a.refresh = [cfg, feed, &probe] { refresh_market_calendars(cfg, *feed, probe); };
  spdlog::info("calendars: XNYS refreshed from Alpaca {} every {} s", cfg.calendars.alpaca_url,
               std::chrono::duration_cast<std::chrono::seconds>(cfg.calendars.alpaca_refresh_every).count());
  return role("calendars",
              {{"calendar_refresh", [a](caf::actor_system& s) { return mi::actors::spawn_calendar_refresh(s, a); }}},
              15s);
}

mi::actors::child_spec kline_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                  mi::gw::metrics& metrics, std::shared_ptr<mi::actors::local_raw_feed> local_feed) {
  mi::actors::kline_stage_args ka;
  ka.js = &js;
  ka.local_feed = cfg.klines.feed == mi::cfg::kline_feed::local ? std::move(local_feed) : nullptr;
  ka.metrics = &metrics;
  ka.cfg = cfg.klines;
  ka.raw_stream = cfg.nats.raw.name;
  ka.kline_stream = cfg.nats.kline.name;
  ka.max_clock_skew_ms = cfg.ingest.max_clock_skew.count();
  ka.fault = mi::actors::parse_kline_fault(cfg.testing.fault);
  ka.fault_after_trades = cfg.testing.fault_after_trades;
  ka.calendars = market_calendar_feed(cfg);
  if (ka.fault != mi::actors::kline_fault::none)
    spdlog::warn("testing.fault = {}: a test-only fault is injected into the kline stage", cfg.testing.fault);
  if (cfg.klines.partitions <= 1)
    return role("kline", {{"kline_stage", [ka](caf::actor_system& s) { return mi::actors::spawn_kline_stage(s, ka); }}},
                30s);
  // Partitioned: the lease keeper runs one stage per partition this node holds (docs/operations.md).
  mi::actors::kline_partitions_args pa;
  pa.stage = ka;
  pa.node_id = cfg.runtime.node_id;
  pa.partitions = static_cast<std::uint32_t>(cfg.klines.partitions);
  pa.ttl = std::chrono::duration_cast<std::chrono::milliseconds>(cfg.klines.lease_ttl);
  return role("kline",
              {{"kline_partitions", [pa](caf::actor_system& s) { return mi::actors::spawn_kline_partitions(s, pa); }}},
              30s);
}

bool start_api(api_role& out, const mi::cfg::config& cfg, const std::vector<std::string>& roles, mi::net::io_thread& io,
               mi::gw::metrics& metrics, const std::optional<mi::gw::auth::master_key>& master_key,
               const std::shared_ptr<mi::gw::auth::nonce_store>& nonces) {
  if (has_role(roles, "api") || has_role(roles, "push")) {
    auto ao = mi::gw::to_options(cfg.api, cfg.postgres, has_role(roles, "push"));
    ao.calendars = market_calendar_feed(cfg);
    if (ao.auth_required) {
      ao.master_key = master_key;
      ao.nonces = nonces;
    }
    auto& probe = metrics.api(mi::gw::api_routes(), mi::gw::api_auth_reasons());
    ao.on_key_lookup = [&probe] { probe.key_lookup(); };
    ao.on_database_state = [&probe](bool up) { probe.database_up(up); };
    ao.on_request = [&probe](std::string_view route, int status, double seconds) {
      probe.request(route, status, seconds);
    };
    ao.on_auth_rejected = [&probe](std::string_view reason) { probe.auth_rejected(reason); };
    ao.on_error = [](std::string_view message) { spdlog::warn("api: {}", message); };
    out.api = std::make_unique<mi::gw::api_service>(std::move(ao));
  }
  if (!has_role(roles, "api"))
    return true;
  const auto api_addr = *mi::cfg::parse_listen_address(cfg.api.listen); // validated by load(); for the log line
  auto ho = mi::gw::to_server_options(cfg.api);
  auto& api = out.api;
  ho.inline_handler = [&api](const mi::gw::http_request& r) { return api->handle_inline(r); };
  auto& probe = metrics.api(mi::gw::api_routes(), mi::gw::api_auth_reasons());
  ho.on_connections = [&probe](std::size_t n) { probe.connections(n); };
  ho.on_refused = [&probe] { probe.connection_refused(); };
  ho.on_busy = [&probe] { probe.busy(); };
  try {
    out.server = std::make_unique<mi::gw::http_server>(
      io.context(), ho, [&api](const mi::gw::http_request& r) { return api->handle(r); });
  } catch (const std::exception& e) {
    spdlog::error("api: {}", e.what());
    return false;
  }
  spdlog::info("REST API on http://{}/api/v1/ (auth {})",
               mi::cfg::listen_address{ho.host, out.server->port(), api_addr.ipv6}.text(),
               mi::cfg::to_string(cfg.api.auth));
  return true;
}

bool start_push(push_role& out, const mi::cfg::config& cfg, mi::net::io_shards& io, mi::gw::jetstream& js,
                mi::gw::metrics& metrics, std::unique_ptr<mi::gw::api_service>& api, mi::gw::worker_pool& pool,
                std::shared_ptr<mi::actors::actor_slot> hub_slot) {
  // The hub's current address is read at every call: a restarted hub is found.
  const auto push_addr = *mi::cfg::parse_listen_address(cfg.push.listen); // validated by load()
  auto po = mi::gw::to_options(cfg.push);
  mi::gw::push_handlers ph;
  ph.on_limit = [&probe = metrics.push()](std::string_view reason) {
    probe.rejected(mi::gw::parse_push_rejection(reason));
  };
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
  ph.authorize = [&api, &pool, anonymous = cfg.api.anonymous_push](std::string target,
                                                                   std::function<void(int, std::string)> done) {
    if (anonymous && !mi::gw::auth::has_push_token(target))
      return done(0, {});
    auto shared_done = std::make_shared<std::function<void(int, std::string)>>(std::move(done));
    bool queued = pool.submit([&api, target = std::move(target), shared_done] {
      auto r = api->check_push_token(target);
      (*shared_done)(r.status == 200 ? 0 : r.status, std::move(r.body));
    });
    if (!queued)
      (*shared_done)(503, R"({"code":-1003,"msg":"server busy, retry later"})");
  };
  try {
    out.server = std::make_unique<mi::gw::push_server>(io.context(), io.contexts(), po, std::move(ph));
  } catch (const std::exception& e) {
    spdlog::error("push: {}", e.what());
    return false;
  }
  // kline.* channels: finals (and revisions) from MARKET_KLINE, new messages only (a subscriber never
  // gets the stream's history), and live partials from core NATS market.partial.> (no stream).
  // Finals carry their stream sequence and store time; partials are not stored (sequence 0, time of receipt).
  auto to_hub = [hub_slot](mi::gw::js_message&& m) {
    caf::anon_send(hub_slot->get(), mi::actors::kmsg_atom::value, std::string(m.subject()), std::string(m.data()),
                   m.stream_seq(), m.timestamp_ns());
  };
  auto partial_to_hub = [hub_slot](mi::gw::js_message&& m) {
    caf::anon_send(hub_slot->get(), mi::actors::kmsg_atom::value, std::string(m.subject()), std::string(m.data()),
                   std::uint64_t{0}, mi::util::now_ns());
  };
  // Every feed below covers its whole stream: a sequence the client library skips is read back (stream_gaps::fill).
  constexpr auto whole = mi::gw::stream_gaps::fill;
  auto feed = mi::gw::ordered_consumer::start(js, cfg.nats.kline.name, "market.kline.>", 0, to_hub, whole);
  if (!feed) {
    spdlog::error("push: cannot consume {}: {}", cfg.nats.kline.name, feed.err().message);
    return false;
  }
  out.feed = std::move(*feed);
  auto partials = mi::gw::core_subscription::start(js, "market.partial.>", partial_to_hub);
  if (!partials) {
    spdlog::error("push: {}", partials.err().message);
    return false;
  }
  out.partials = std::move(*partials);
  // doc.{source} and doc.symbol.{symbol}: documents from MARKET_DOC, new messages only.
  auto docs = mi::gw::ordered_consumer::start(
    js, cfg.nats.doc.name, "market.doc.>", 0,
    [hub_slot](mi::gw::js_message&& m) {
      caf::anon_send(hub_slot->get(), mi::actors::dmsg_atom::value, std::string(m.subject()), std::string(m.data()));
    },
    whole);
  if (!docs) {
    spdlog::error("push: cannot consume {}: {}", cfg.nats.doc.name, docs.err().message);
    return false;
  }
  out.docs = std::move(*docs);
  // quote.{venue}.{symbol}: equity quote snapshots from MARKET_QUOTE, new messages only.
  auto quotes = mi::gw::ordered_consumer::start(
    js, cfg.nats.quote.name, "market.quote.>", 0,
    [hub_slot](mi::gw::js_message&& m) {
      caf::anon_send(hub_slot->get(), mi::actors::qmsg_atom::value, std::string(m.subject()), std::string(m.data()));
    },
    whole);
  if (!quotes) {
    spdlog::error("push: cannot consume {}: {}", cfg.nats.quote.name, quotes.err().message);
    return false;
  }
  out.quotes = std::move(*quotes);
  // status.{venue}.{symbol}: trading status events (halts, resumptions) from MARKET_STATUS, new messages only.
  auto statuses = mi::gw::ordered_consumer::start(
    js, cfg.nats.status.name, "market.status.>", 0,
    [hub_slot](mi::gw::js_message&& m) {
      caf::anon_send(hub_slot->get(), mi::actors::smsg_atom::value, std::string(m.subject()), std::string(m.data()));
    },
    whole);
  if (!statuses) {
    spdlog::error("push: cannot consume {}: {}", cfg.nats.status.name, statuses.err().message);
    return false;
  }
  out.statuses = std::move(*statuses);
  // book.* and bbo.* channels: every book message from MARKET_BOOK (the hub keeps each book's state from the
  // snapshots and deltas, so a subscriber starts from a snapshot at once), BBOs from core NATS. The feed starts one
  // snapshot interval (the longest configured) back: every valid book published a snapshot within it, so the hub
  // holds every book's current state right after the replay instead of waiting for the next snapshot.
  auto to_hub_book = [hub_slot](mi::gw::js_message&& m) {
    caf::anon_send(hub_slot->get(), mi::actors::bmsg_atom::value, std::string(m.subject()), std::string(m.data()));
  };
  auto longest = std::chrono::nanoseconds(0);
  for (const auto& [name, ex] : cfg.exchanges)
    longest = std::max<std::chrono::nanoseconds>(longest, ex.books.snapshot_interval);
  const auto book_from = mi::util::now_ns() - (longest + std::chrono::seconds(2)).count();
  auto books = mi::gw::ordered_consumer::start_at_time(js, cfg.nats.book.name, "market.book.>", book_from, to_hub_book);
  if (!books) {
    spdlog::error("push: cannot consume {}: {}", cfg.nats.book.name, books.err().message);
    return false;
  }
  out.books = std::move(*books);
  auto bbos = mi::gw::core_subscription::start(js, "market.bbo.>", to_hub_book);
  if (!bbos) {
    spdlog::error("push: {}", bbos.err().message);
    return false;
  }
  out.bbos = std::move(*bbos);
  // `apikey revoke` announces revoked keys; the periodic re-check covers a missed announcement.
  auto revoked = mi::gw::core_subscription::start(
    js, std::string(mi::gw::apikey_revoked_subject), [hub_slot](mi::gw::js_message&& m) {
      caf::anon_send(hub_slot->get(), mi::actors::revoked_atom::value, std::vector<std::string>{std::string(m.data())});
    });
  if (!revoked) {
    spdlog::error("push: {}", revoked.err().message);
    return false;
  }
  out.revocations = std::move(*revoked);
  spdlog::info("push gateway on ws://{}/ (at most {} connections, {} messages/s per client)",
               mi::cfg::listen_address{po.host, out.server->port(), push_addr.ipv6}.text(), po.max_connections,
               po.client_rate);
  return true;
}

} // namespace mi::app
