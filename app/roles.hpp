#pragma once

// The roles of `run`, one start function each (docs/architecture.md, "Supervision"). The roles in the
// supervision tree (publish, push hub, store, kline, ingest) are child specs of the root supervisor,
// which starts them in order and stops them in the reverse order; the roles with servers of their own
// (metrics, api, push gateway) return a handle whose stop() closes them.

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "actors/actor_slot.hpp"
#include "actors/alpaca_daily.hpp"
#include "actors/publisher.hpp"
#include "actors/raw_feed.hpp"
#include "actors/restart_policy.hpp"
#include "actors/supervisor.hpp"
#include "config/config.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/calendar/calendar_feed.hpp"
#include "gateways/http/api.hpp"
#include "gateways/http/http_server.hpp"
#include "gateways/http/key_crypto.hpp"
#include "gateways/http/worker_pool.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/health.hpp"
#include "gateways/metrics/metrics.hpp"
#include "connectors/transport/io_shards.hpp"
#include "connectors/transport/io_thread.hpp"
#include "gateways/push/push_server.hpp"

namespace mi::net {
class io_thread;
}

namespace mi::app {

/// True when `roles` names `r`.
bool has_role(const std::vector<std::string>& roles, const char* r);

/// JetStream, the bridge between every stage: connected with the publish-ack hook (metrics,
/// back-pressure wake-ups), every configured stream ensured. The in-flight gauge is unhooked from
/// `metrics` before the connection goes.
struct bridge {
  std::shared_ptr<mi::actors::publish_feedback> feedback;
  std::unique_ptr<mi::gw::jetstream> js;
  /// MARKET_RAW messages this process published, as JetStream acks them (the kline stage's local feed).
  std::shared_ptr<mi::actors::local_raw_feed> raw_feed;
  struct unhook {
    mi::gw::metrics* m = nullptr;
    unhook(mi::gw::metrics* metrics) : m(metrics) {} // NOLINT
    unhook(const unhook&) = delete;
    unhook& operator=(const unhook&) = delete;
    ~unhook() {
      if (m != nullptr)
        m->publish_in_flight_source(nullptr);
    }
  };
  std::unique_ptr<unhook> unhook_in_flight; // destroyed before `js`
};
/// Null after logging why (the process exits 1).
std::unique_ptr<bridge> start_bridge(const mi::cfg::config& cfg, mi::gw::metrics& metrics);

/// The JetStream stream of a stream config.
mi::gw::stream_spec to_spec(const mi::cfg::stream_config& c);

/// /metrics, /healthz and /readyz (answered from `health`) on our own HTTP server. Null after logging why.
std::unique_ptr<mi::gw::http_server> start_metrics(const mi::cfg::config& cfg, mi::net::io_thread& io,
                                                   mi::gw::metrics& metrics, const mi::gw::health& health);

/// A role supervisor with these children (restart limits of supervision.*).
using role_factory =
  std::function<mi::actors::child_spec(std::string, std::vector<mi::actors::child_spec>, std::chrono::milliseconds)>;
role_factory role_supervisors(const mi::actors::restart_limits& limits, mi::gw::metrics& metrics);

/// The push hub (role push, in the tree); `pool` runs its blocking key re-checks and must outlive it.
mi::actors::child_spec push_hub_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                     mi::gw::metrics& metrics, mi::gw::worker_pool& pool,
                                     std::shared_ptr<mi::actors::actor_slot> hub_slot);
/// The publisher (used by ingest and kline); its slot lives in `feedback`, which the ack callback reads.
mi::actors::child_spec publish_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                    mi::gw::metrics& metrics,
                                    const std::shared_ptr<mi::actors::publish_feedback>& feedback);
/// The savers and the storage maintainer (migrates the schema first, warning when it cannot).
mi::actors::child_spec store_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                  mi::gw::metrics& metrics);
/// One document source actor per enabled documents.sources.<name> (role documents); the sec source refuses to start
/// without documents.user_agent (config validation). Alpaca's news stream runs its socket on `io`.
mi::actors::child_spec documents_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                      mi::gw::metrics& metrics, mi::net::io_thread& io);
/// The kline stage (finals through the synchronous publish path, partials on core NATS).
/// The calendars of the markets (config calendars.dir); errors are logged (CRYPTO only then).
/// The China A-share venue (equities.cn, with the ingest role): the quote poller and the daily-bar fetcher.
mi::actors::child_spec cn_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                               mi::gw::metrics& metrics);
/// The snapshot of market_calendar_feed(cfg) in use now (one-shot users: replay, cn, alpaca-daily).
std::shared_ptr<const mi::calendar::calendar_set> load_market_calendars(const mi::cfg::config& cfg);
/// The process's calendar feed (loaded once per process: files, then Alpaca's XNYS when calendars.alpaca_refresh);
/// the kline, API and daily roles read it, calendars_role's refresh replaces its snapshot.
std::shared_ptr<mi::calendar::calendar_feed> market_calendar_feed(const mi::cfg::config& cfg);
/// The role `calendars` (added by `run`, never named in --roles): XNYS refreshed from Alpaca every
/// calendars.alpaca_refresh_every when alpaca_refresh is on and the kline, api or daily role runs; nullopt otherwise.
std::optional<mi::actors::child_spec> calendars_role(const mi::cfg::config& cfg, const std::vector<std::string>& roles,
                                                     const role_factory& role, mi::gw::metrics& metrics);
/// True when exchanges.alpaca.daily_job.enabled (the role `daily` then joins the default roles).
bool alpaca_daily_enabled(const mi::cfg::config& cfg);
/// The Alpaca daily job's settings from the configuration (the role and `alpaca-daily` share them).
mi::actors::alpaca_daily_args alpaca_daily_settings(const mi::cfg::config& cfg);
/// The role `daily`: the Alpaca daily job (one actor; run it on one node: docs/operations.md "Alpaca daily job").
mi::actors::child_spec daily_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                  mi::gw::metrics& metrics);
/// The role `kline`. `local_feed`: this process's acked MARKET_RAW publishes (an ingest node's), used when
/// klines.feed is local; null: the stage reads MARKET_RAW only.
mi::actors::child_spec kline_role(const mi::cfg::config& cfg, const role_factory& role, mi::gw::jetstream& js,
                                  mi::gw::metrics& metrics, std::shared_ptr<mi::actors::local_raw_feed> local_feed);

/// The REST API service (roles api and push: the push gateway checks its tokens with it) and the
/// REST API's HTTP server (role api only).
struct api_role {
  std::unique_ptr<mi::gw::api_service> api;
  std::unique_ptr<mi::gw::http_server> server;
  void stop() {
    if (server)
      server->stop();
  }
};
/// False after logging why (the start is aborted).
bool start_api(api_role& out, const mi::cfg::config& cfg, const std::vector<std::string>& roles, mi::net::io_thread& io,
               mi::gw::metrics& metrics, const std::optional<mi::gw::auth::master_key>& master_key,
               const std::shared_ptr<mi::gw::auth::nonce_store>& nonces);

/// The push gateway: the WebSocket server (on its own io threads, push.io_threads, owned by the caller so they
/// outlive the actor system), the hub's kline feeds (MARKET_KLINE finals, core NATS market.partial.> live partials)
/// and the revocation announcements.
struct push_role {
  std::unique_ptr<mi::gw::push_server> server;
  std::unique_ptr<mi::gw::ordered_consumer> feed;
  std::unique_ptr<mi::gw::core_subscription> partials;
  std::unique_ptr<mi::gw::core_subscription> revocations;
  std::unique_ptr<mi::gw::ordered_consumer> books;    ///< MARKET_BOOK (new messages only)
  std::unique_ptr<mi::gw::core_subscription> bbos;    ///< core NATS market.bbo.>
  std::unique_ptr<mi::gw::ordered_consumer> docs;     ///< MARKET_DOC (new messages only): doc.* channels
  std::unique_ptr<mi::gw::ordered_consumer> quotes;   ///< MARKET_QUOTE (new messages only): quote.* channels
  std::unique_ptr<mi::gw::ordered_consumer> statuses; ///< MARKET_STATUS (new messages only): status.* channels
  void stop() {
    statuses.reset();
    quotes.reset();
    docs.reset();
    books.reset();
    bbos.reset();
    feed.reset();
    partials.reset();
    revocations.reset();
    if (server) {
      server->stop(); // close frames (1001 "going away") to every client
      // Let the close handshakes finish (bounded): a client sees the reason instead of a reset connection.
      const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
      while (server->clients() > 0 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
};
/// False after logging why (the start is aborted). `api` and `pool` must outlive the gateway.
bool start_push(push_role& out, const mi::cfg::config& cfg, mi::net::io_shards& io, mi::gw::jetstream& js,
                mi::gw::metrics& metrics, std::unique_ptr<mi::gw::api_service>& api, mi::gw::worker_pool& pool,
                std::shared_ptr<mi::actors::actor_slot> hub_slot);

} // namespace mi::app
