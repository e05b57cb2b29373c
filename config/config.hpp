#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "messages/result.hpp"

/// The platform's configuration: one YAML file plus `MI_*` environment overrides.
///
/// The YAML layout mirrors these structs with snake_case keys (see
/// config/market-ingestor.example.yaml, which documents every key and its default). An
/// environment variable overrides one leaf key: its name is "MI_" + the dotted key upper-cased
/// with '.' -> '_' (MI_NATS_URL, MI_EXCHANGES_BINANCE_WS_URL, MI_KLINES_GRACE); list values are
/// comma-separated. Unknown keys, unknown MI_ variables and bad values are all rejected, and every
/// problem is reported at once with the dotted key it concerns.
namespace mi::cfg {

/// Every duration in the configuration ("500ms", "2s", "1m", "1h", "7d" in text).
using duration = std::chrono::milliseconds;

// Closed sets: read from their names once, at load (an unknown name is an error naming the key),
// and compared as enums everywhere else. to_string gives the name back (to_yaml, logs).

/// nats.streams.*.storage.
enum class stream_storage { file, memory };
/// klines.late_policy: a trade for a final window revises it (publish revision+1) or is dropped.
enum class late_mode { revise, drop };
/// klines.empty_windows: windows without trades are skipped or filled (previous close, volume 0).
enum class empty_window_mode { skip, fill };
/// saver.synchronous_commit of the saver sessions.
enum class commit_mode { on, off };
/// api.auth: signed requests required, or every endpoint anonymous.
enum class auth_mode { required, off };
/// runtime.log_level (spdlog's level names).
enum class log_severity { trace, debug, info, warn, error };
/// log.format: plain text lines or one JSON object per line.
enum class log_format { text, json };
/// push.slow.*: what a slow push client's full queue does with one more message of that channel kind.
enum class slow_mode { drop, conflate, disconnect };
/// runtime.scheduler_policy: CAF's scheduler. sharing: idle workers wait on a condition variable and an enqueue
/// wakes one; stealing: idle workers poll the others' queues, sleeping between polls.
enum class scheduler_policy { sharing, stealing };
/// klines.feed: where a kline stage on an ingest node gets this node's trades. local: as JetStream acks their
/// publishes (MARKET_RAW is read to catch up and for what other publishers stored); stream: MARKET_RAW only.
enum class kline_feed { local, stream };
/// saver.acks: how the savers of MARKET_RAW and MARKET_KLINE ack their durable consumers. batch: the consumer's ack
/// policy is AckAll and one ack covers a stored run of messages (actors/ack_frontier.hpp); each: explicit acks, one per
/// message, for several savers sharing one durable (store nodes, saver.trade_writers).
enum class ack_mode { batch, each };

/// The configuration name of each value ("file", "revise", ...).
std::string_view to_string(stream_storage v);
std::string_view to_string(late_mode v);
std::string_view to_string(empty_window_mode v);
std::string_view to_string(commit_mode v);
std::string_view to_string(auth_mode v);
std::string_view to_string(log_severity v);
std::string_view to_string(log_format v);
std::string_view to_string(slow_mode v);
std::string_view to_string(scheduler_policy v);
std::string_view to_string(kline_feed v);
std::string_view to_string(ack_mode v);

/// One JetStream stream the platform creates or updates at start.
struct stream_config {
  std::string name; ///< stream name, A-Z 0-9 _ -
  /// Subject filter, e.g. "market.raw.>": fixed by the public contract (the platform publishes to
  /// these subjects), so not a configuration key.
  std::string subjects;
  stream_storage storage = stream_storage::file;       ///< file|memory
  duration max_age{};                                  ///< retention; 0 = keep forever
  std::int64_t max_bytes = -1;                         ///< size limit; -1 = unlimited
  int replicas = 1;                                    ///< 1..5 (cluster replicas)
  duration duplicate_window = std::chrono::minutes(2); ///< Nats-Msg-Id dedup window
  /// Field-wise equality.
  bool operator==(const stream_config&) const = default;
};

/// NATS connection, streams and publishing.
struct nats_config {
  std::string url = "nats://127.0.0.1:4222"; ///< one URL or a comma-separated list (cluster seeds)
  /// Raw trades stream.
  stream_config raw{"MARKET_RAW",           "market.raw.>", stream_storage::file, std::chrono::days(7), -1, 1,
                    std::chrono::minutes(2)};

  /// Klines stream.
  stream_config kline{"MARKET_KLINE",         "market.kline.>", stream_storage::file, std::chrono::days(30), -1, 1,
                      std::chrono::minutes(2)};
  /// Gap reports (market.gap.{exchange}.{symbol}): trades the exchange could not give back.
  stream_config gap{"MARKET_GAP",           "market.gap.>", stream_storage::file, std::chrono::days(30), -1, 1,
                    std::chrono::minutes(2)};
  /// Dead letters of the savers (market.dlq.trades, market.dlq.klines); kept until handled.
  stream_config dlq{"MARKET_DLQ", "market.dlq.>", stream_storage::file, duration{0}, -1, 1, std::chrono::minutes(2)};
  /// Quarantined trades (market.rejected.{exchange}.{symbol}): what the edge refused to put in MARKET_RAW.
  stream_config rejected{
    "MARKET_REJECTED",      "market.rejected.>", stream_storage::file, std::chrono::days(30), -1, 1,
    std::chrono::minutes(2)};
  /// Order books (market.book.{exchange}.{symbol}): snapshots and deltas, short retention.
  stream_config book{"MARKET_BOOK",          "market.book.>", stream_storage::file, std::chrono::hours(1), -1, 1,
                     std::chrono::minutes(2)};
  /// Documents (market.doc.{source}.{kind}): filings, news, announcements, social posts (issue 14).
  stream_config doc{"MARKET_DOC", "market.doc.>", stream_storage::file, duration{0}, -1, 1, std::chrono::hours(1)};
  /// Equity quote snapshots (market.quote.{venue}.{symbol}): Alpaca quotes, A-share polled quotes (issue 13).
  stream_config quote{"MARKET_QUOTE",         "market.quote.>", stream_storage::file, std::chrono::days(7), -1, 1,
                      std::chrono::minutes(2)};
  /// Trading status events (market.status.{venue}.{symbol}): halts, pauses, resumptions (issue 13).
  stream_config status{"MARKET_STATUS",        "market.status.>", stream_storage::file, std::chrono::days(30), -1, 1,
                       std::chrono::minutes(2)};
  /// Perpetual-swap data (market.{funding,mark,oi,liquidation}.{exchange}.{symbol}, issue 15): one stream, four
  /// subject filters (space-separated: subject_filters()).
  stream_config deriv{"MARKET_DERIV",
                      "market.funding.> market.mark.> market.oi.> market.liquidation.>",
                      stream_storage::file,
                      std::chrono::days(30),
                      -1,
                      1,
                      std::chrono::minutes(2)};
  int max_in_flight = 4096;                           ///< async publish acks in flight before back-pressure
  duration ack_timeout = std::chrono::seconds(5);     ///< a publish not acked in this time is retried with the same id
  duration connect_timeout = std::chrono::seconds(5); ///< connecting to the server
  /// Replicas of the key-value buckets the platform creates (kline checkpoints, API nonces, ...):
  /// 1..5, 3 on a 3-node cluster so that losing a node loses no state. An existing bucket keeps its own.
  int kv_replicas = 1;
  /// Field-wise equality.
  bool operator==(const nats_config&) const = default;
};

/// Every stream the platform owns, named once: its key under `nats.streams` and its member of nats_config.
/// Config leaves, validation, stream creation, publish-failure labels and the console iterate this table;
/// a new stream is one member above and one row here.
struct stream_entry {
  std::string_view key;               ///< "raw": the config path is nats.streams.raw
  stream_config nats_config::*member; ///< &nats_config::raw
};
inline constexpr stream_entry stream_table[] = {
  {"raw", &nats_config::raw},     {"kline", &nats_config::kline},       {"gap", &nats_config::gap},
  {"dlq", &nats_config::dlq},     {"rejected", &nats_config::rejected}, {"book", &nats_config::book},
  {"doc", &nats_config::doc},     {"quote", &nats_config::quote},       {"status", &nats_config::status},
  {"deriv", &nats_config::deriv},
};

/// A stream's subject filters: its `subjects`, split on spaces ("market.raw.>"; MARKET_DERIV has four).
inline std::vector<std::string> subject_filters(const stream_config& s) {
  std::vector<std::string> out;
  std::size_t at = 0;
  while (at < s.subjects.size()) {
    auto end = s.subjects.find(' ', at);
    if (end == std::string::npos)
      end = s.subjects.size();
    if (end > at)
      out.push_back(s.subjects.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

/// The streams of `n` in stream_table order.
inline std::vector<const stream_config*> all_streams(const nats_config& n) {
  std::vector<const stream_config*> out;
  for (const auto& e : stream_table)
    out.push_back(&(n.*e.member));
  return out;
}

/// Exponential backoff (with jitter) between reconnect attempts.
struct reconnect_config {
  duration initial = std::chrono::seconds(1);        ///< first delay
  duration max = std::chrono::seconds(60);           ///< delay cap
  duration healthy_after = std::chrono::seconds(30); ///< a connection up this long resets the backoff
  /// Field-wise equality.
  bool operator==(const reconnect_config&) const = default;
};

/// The order-book channel of one exchange (exchanges.<x>.books; docs: README "Order books").
struct book_config {
  bool enabled = false;                                  ///< subscribe the book channel of every symbol
  int depth = 20;                                        ///< levels per side published, 1..1000
  duration snapshot_interval = std::chrono::seconds(10); ///< a full snapshot this often per symbol, 1s..1h
  /// Field-wise equality.
  bool operator==(const book_config&) const = default;
};

/// One perpetual-swap venue's feed (derivatives.<name>; the names: mi::derivatives_venues(), messages/venue_registry):
/// funding, mark/index price, open interest and liquidations of its symbols on one WebSocket connection.
struct derivatives_config {
  bool enabled = false;
  std::string ws_url;                                 ///< ws:// or wss:// (the real endpoint by default)
  std::string rest_url;                               ///< http:// or https:// (binance-usdm open interest)
  std::vector<std::string> symbols;                   ///< "BTC/USDT"
  duration connect_timeout = std::chrono::seconds(5); ///< TCP+TLS+WS handshake
  duration read_timeout = std::chrono::seconds(60);   ///< no frame for this long -> reconnect
  reconnect_config reconnect;                         ///< backoff between attempts
  /// binance-usdm: open interest is REST only (/fapi/v1/openInterest): polled this often per symbol, 1s..1h.
  duration open_interest_interval = std::chrono::seconds(10);
  /// Field-wise equality.
  bool operator==(const derivatives_config&) const = default;
};

/// The daily job of an equities feed (exchanges.alpaca.daily_job; docs/operations.md "Alpaca daily job"): after
/// the close it fetches the day's daily bars of the symbols from REST, stores them beside our 1d klines, reports
/// the differences, then backfills older trading days newest first. Runs in the role `daily`.
struct daily_job_config {
  bool enabled = false;
  std::string at = "20:05"; ///< local time of the market (New York) on its trading days, HH:MM
  int backfill_days = 30;   ///< trading days before the newest run's day compared too, 0..3650
  /// Field-wise equality.
  bool operator==(const daily_job_config&) const = default;
};

/// One exchange's connection settings.
struct exchange_config {
  bool enabled = false;
  std::string ws_url;                                 ///< ws:// or wss://
  std::string rest_url;                               ///< http:// or https:// (backfill)
  std::string stream = "trade";                       ///< trade|aggTrade (aggTrade: binance only)
  std::vector<std::string> symbols;                   ///< unified form "BTC/USDT"
  duration connect_timeout = std::chrono::seconds(5); ///< TCP+TLS+WS handshake
  duration read_timeout = std::chrono::seconds(60);   ///< no frame for this long -> reconnect
  reconnect_config reconnect;                         ///< backoff between attempts
  duration rotate_after = std::chrono::hours(23);     ///< planned reconnect before the exchange drops us
  /// Watchdog: a connection that carried trades and then has none for this long (heartbeats do not
  /// count) is reconnected.
  duration silence_timeout = std::chrono::minutes(2);
  /// Watchdog: a symbol that had trades and then has none for this long is resubscribed (0 = off).
  duration symbol_silence = std::chrono::minutes(10);
  /// Most trades one gap is backfilled with from REST; older missing trades are reported on
  /// market.gap.{exchange}.{symbol} instead (0 = no backfill: every gap is reported).
  std::int64_t backfill_max_trades = 100000;
  /// Live order books on the same connection (off by default).
  book_config books;
  /// REST backfill requests per minute; 0 = the exchange's documented public limit (venue::limits()). For venues whose
  /// limit depends on the account's plan (Alpaca: 200 on the free plan). 0..60000.
  std::int64_t rest_requests_per_minute = 0;
  /// Equities feeds (Alpaca): publish the quotes on market.quote.{venue}.{symbol} (stream MARKET_QUOTE; off by
  /// default: quotes outnumber trades) and the trading statuses (halts) on market.status.{venue}.{symbol}.
  bool quotes = false;
  bool statuses = true;
  /// Equities feeds: the daily job (off by default).
  daily_job_config daily_job;
  /// Field-wise equality.
  bool operator==(const exchange_config&) const = default;
};

/// One document source (documents.sources.<name>; the names: messages/document.hpp document_sources()).
struct document_source_config {
  bool enabled = false;
  std::string url;                                    ///< the source's base URL (the real endpoint by default)
  duration interval = std::chrono::minutes(5);        ///< poll period, 1s..1d
  int jitter_percent = 10;                            ///< each period drawn from interval +- this %, 0..50
  int requests_per_second = 1;                        ///< token bucket, 1..100 (sec: at most 10, SEC's rule)
  int failure_threshold = 5;                          ///< failures in a row that open the circuit, 1..100
  duration open_for = std::chrono::minutes(1);        ///< open circuit: wait before the half-open probe
  duration backfill_horizon = std::chrono::hours(24); ///< unreachable longer than this: a gap record
  duration timeout = std::chrono::seconds(10);        ///< one request
  /// What to read: sec: tickers whose submissions are fetched besides the current feed; alpaca: symbols ("*" all);
  /// rss: feed URLs; cninfo: "<code>,<orgId>" stocks; reddit: subreddits.
  std::vector<std::string> items;
  /// alpaca: the news WebSocket (Alpaca's wss://stream.data.alpaca.markets/v1beta1/news by default; "" = polls only).
  /// While it is live the polls pause; after a drop a poll catches up from the last article seen.
  std::string stream_url;
  /// Field-wise equality.
  bool operator==(const document_source_config&) const = default;
};

/// Documents (docs/operations.md "Documents"): every source off by default.
struct documents_config {
  /// The User-Agent of every request; SEC requires one naming the company and a contact e-mail
  /// ("Sample Company Name AdminContact@example.com"): a sec source will not start without it.
  std::string user_agent;
  /// Key: a document source name; defaults() holds each with its real endpoint, disabled.
  std::map<std::string, document_source_config> sources;
  /// Field-wise equality.
  bool operator==(const documents_config&) const = default;
};

/// One A-share quote or bar source (equities.cn.sources.<name>): its endpoint and request discipline.
struct cn_source_config {
  std::string url;                              ///< the real endpoint by default (http://qt.gtimg.cn, ...)
  int requests_per_second = 1;                  ///< token bucket rate, 1..50
  int burst = 1;                                ///< token bucket size, 1..50
  int batch_size = 60;                          ///< symbols per request, 1..800 (Tencent answers at most 60 codes)
  int failure_threshold = 3;                    ///< failures in a row that open the circuit, 1..100
  duration open_for = std::chrono::seconds(30); ///< open circuit: wait before the half-open probe
  duration timeout = std::chrono::seconds(5);   ///< one request
  /// Field-wise equality.
  bool operator==(const cn_source_config&) const = default;
};

/// The China A-share venue `cn` (issue 13; docs/operations.md "A-shares"): Tencent quotes, Sina on failover,
/// Eastmoney adjusted daily bars. Off by default; runs in the ingest role.
struct cn_config {
  bool enabled = false;
  std::vector<std::string> symbols{"600000.SH", "000001.SZ"}; ///< six digits + .SH (XSHG) or .SZ (XSHE)
  duration interval = std::chrono::seconds(3);                ///< one poll cycle over every symbol, 1s..1h
  int jitter_percent = 10;                                    ///< 0..50
  duration grace = std::chrono::minutes(1); ///< polls go on this long after 11:30 and the closing print
  /// Poll only inside the sessions (calendar); false is for the simulator (tests, demo), never for production.
  bool sessions_only = true;
  cn_source_config tencent{"http://qt.gtimg.cn", 2, 2, 60, 3, std::chrono::seconds(30), std::chrono::seconds(5)};
  cn_source_config sina{"http://hq.sinajs.cn", 1, 1, 60, 3, std::chrono::seconds(30), std::chrono::seconds(5)};
  cn_source_config eastmoney{"https://push2his.eastmoney.com", 1, 1, 1, 3, std::chrono::minutes(1),
                             std::chrono::seconds(10)};
  /// Forward- and backward-adjusted daily bars are fetched this long after each trading day's close (0 = off).
  duration daily_bars_after = std::chrono::minutes(30);
  int daily_bars_days = 10; ///< trading days back each fetch covers, 1..3650
  /// Field-wise equality.
  bool operator==(const cn_config&) const = default;
};

/// Equities venues that are not in the WebSocket venue registry (config key `equities`).
struct equities_config {
  cn_config cn;
  /// Field-wise equality.
  bool operator==(const equities_config&) const = default;
};

/// Admission of trades at the edge (connection and backfill actors) before MARKET_RAW.
struct ingest_config {
  /// A trade stamped more than this after its receive time is quarantined (reason clock_skew) and the
  /// kline stage skips one already in MARKET_RAW; 1s..1d.
  duration max_clock_skew = std::chrono::minutes(5);
  /// Field-wise equality.
  bool operator==(const ingest_config&) const = default;
};

/// K-line aggregation.
struct kline_config {
  std::vector<std::string> intervals{"1m"};                    ///< from kline_engine::all_intervals()
  duration grace = std::chrono::seconds(2);                    ///< late trades accepted after a window's end
  duration partial_interval = std::chrono::milliseconds(1000); ///< live partial candle period
  late_mode late_policy = late_mode::revise; ///< a trade for a final window: revise (publish revision+1) | drop
  empty_window_mode empty_windows = empty_window_mode::skip; ///< windows without trades: skip | fill
  duration idle_after =
    std::chrono::minutes(10); ///< a symbol_window with no open window and no trade this long is passivated
  /// Partitions of the symbol space (stable hash of "{exchange}.{symbol}" mod N), 1..1024. 1: one kline stage per
  /// kline process, no leases (two kline processes both publish every final, JetStream keeps one). More: each
  /// partition is aggregated by one kline node at a time, owned by a lease in KV bucket MI_KLINE_LEASES.
  int partitions = 1;
  /// A partition's lease expires this long after its owner's last renewal (renewed every third of it); a dead
  /// node's partitions are taken over about this long after it died. 3s..60s.
  duration lease_ttl = std::chrono::seconds(6);
  /// On a node that also runs ingest: local (the stage takes the node's trades as JetStream acks them, and reads
  /// MARKET_RAW to catch up and for messages other publishers stored) or stream (it reads every message back from
  /// MARKET_RAW). A node without ingest always reads the stream. docs/architecture.md "The kline stage's feed".
  kline_feed feed = kline_feed::local;
  /// The kline stage's router, rung by the first trade of a burst, waits this long before it takes what came (the
  /// ring's later trades do not ring again): one wake-up and one message per symbol window per linger instead of per
  /// trade. Adds at most this to a trade's way into its window (partials go out every partial_interval anyway).
  /// 0..50ms; 0: take at once.
  duration feed_linger = std::chrono::milliseconds(5);
  /// Field-wise equality.
  bool operator==(const kline_config&) const = default;
};

/// Exchange calendars (messages/calendar, deploy/calendars/README.md).
struct calendars_config {
  /// Directory of the *.cal files; "" = the installed <prefix>/share/market-ingestor/calendars, else the source
  /// tree's deploy/calendars (the first that exists).
  std::string dir;
  /// Refresh XNYS at start from Alpaca's trading API GET {alpaca_url}/v2/calendar (credentials MI_ALPACA_KEY_ID /
  /// MI_ALPACA_SECRET_KEY): the answer's days replace the file's over the answer's span; an empty or failed answer
  /// keeps the file (messages/calendar/alpaca_refresh.hpp).
  bool alpaca_refresh = false;
  std::string alpaca_url = "https://api.alpaca.markets";
  /// With alpaca_refresh: refresh XNYS again this often while running (0 = at start only; else at least 1s). A
  /// changed answer replaces the process's calendar set (messages/calendar/calendar_feed.hpp); a failed or empty one
  /// keeps the calendar in use (mi_calendar_refreshes_total{outcome="failed"}).
  duration alpaca_refresh_every = std::chrono::hours(24);
  /// Field-wise equality.
  bool operator==(const calendars_config&) const = default;
};

/// Batching of database writes.
struct saver_config {
  int batch_size = 1000;                            ///< 1..100000 rows per transaction
  duration batch_timeout = std::chrono::seconds(1); ///< flush a partial batch after this
  /// Deliveries of a message that fails for a data reason (undecodable, rejected by PostgreSQL)
  /// before it goes to market.dlq.{kind}; 1..1000. A database outage never counts.
  int max_attempts = 5;
  /// PostgreSQL synchronous_commit of the saver sessions: on (default) | off. `off` acks a batch
  /// before its WAL reaches disk: a PostgreSQL crash may lose the last few hundred ms of acked rows
  /// (JetStream does not redeliver them); see docs/operations.md.
  commit_mode synchronous_commit = commit_mode::on;
  /// Trade savers (one PostgreSQL connection each) sharing the durable consumer saver_trades,
  /// 1..16; JetStream spreads the messages over them (more than 1 needs acks: each).
  int trade_writers = 1;
  /// batch (default): one ack per stored run of messages (AckAll consumers), for one saver per durable; each: one ack
  /// per message, for several savers sharing a durable (several store nodes, trade_writers > 1). A durable keeps the
  /// policy it was created with until a saver with the other setting recreates it at its ack floor
  /// (docs/operations.md "Saver acks").
  ack_mode acks = ack_mode::batch;
  /// Field-wise equality.
  bool operator==(const saver_config&) const = default;
};

/// PostgreSQL connection.
struct postgres_config {
  std::string dsn = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"; ///< libpq conninfo or URI
  /// Field-wise equality.
  bool operator==(const postgres_config&) const = default;
};

/// Partitions and retention of the stored data (migration 0002).
/// Order-book samples in PostgreSQL for research queries (storage.books; tables of migration 0008).
struct book_storage_config {
  bool enabled = false; ///< the store role samples MARKET_BOOK into market_bbo and market_book_snapshots
  int depth = 20;       ///< levels per side of each stored snapshot, 1..1000
  duration bbo_interval = std::chrono::seconds(1);      ///< a best bid/ask sample this often per book, 1s..1h
  duration snapshot_interval = std::chrono::minutes(1); ///< a top-`depth` snapshot this often per book, 1s..1d
  /// Field-wise equality.
  bool operator==(const book_storage_config&) const = default;
};

struct storage_config {
  int partitions_ahead_days = 7;   ///< daily trade partitions created ahead (today .. +N), 0..366
  int retention_days_trades = 0;   ///< drop trade partitions wholly older than this; 0 = keep forever
  int retention_months_klines = 0; ///< drop kline partitions wholly older than this; 0 = keep forever
  int retention_months_books = 0;  ///< drop market_bbo / market_book_snapshots partitions older than this; 0 = forever
  int retention_months_quotes = 0; ///< drop market_quotes partitions older than this; 0 = forever
  int retention_months_derivatives = 0; ///< drop market_derivatives partitions older than this; 0 = forever
  book_storage_config books;
  duration maintenance_interval = std::chrono::hours(1); ///< how often the store role maintains partitions
  /// Field-wise equality.
  bool operator==(const storage_config&) const = default;
};

/// Scheduled stream-versus-database audit in `run` (store role).
struct audit_config {
  duration interval = std::chrono::hours(1); ///< run every interval over the previous complete hour; 0 = off
  /// Field-wise equality.
  bool operator==(const audit_config&) const = default;
};

/// WebSocket push server.
struct push_config {
  std::string listen = "127.0.0.1:8080"; ///< host:port, [ipv6]:port or :port (config/listen_address.hpp)
  int queue_size = 256;                  ///< per-client send queue (messages)
  int max_connections = 10000;           ///< open connections (any phase); more are refused with HTTP 503
  int client_rate = 20;                  ///< client messages per second (token bucket refill), 1..100000
  int client_burst = 40;                 ///< token bucket size: messages a client may send at once
  int max_message_bytes = 65536;         ///< bigger client frames close the client with 1009, 256..16MiB
  int max_channels = 100;                ///< subscriptions per client, 1..10000
  duration key_check_interval = std::chrono::seconds(30); ///< re-check the API keys of open sessions
  std::int64_t queue_bytes = 1 << 20; ///< per-client send queue in bytes (besides queue_size messages)
  /// What a full queue does with one more message, per channel kind (push.slow.{kline,trade,bbo}); book
  /// channels always conflate (a fresh snapshot instead of the deltas a slow client missed).
  slow_mode slow_kline = slow_mode::conflate;
  slow_mode slow_trade = slow_mode::drop;
  slow_mode slow_bbo = slow_mode::conflate;
  int disconnect_after = 100;                       ///< drops before a `disconnect` client is closed (1008), 1..1000000
  int io_threads = 2;                               ///< threads running the push sessions, 1..64
  duration idle_timeout = std::chrono::seconds(30); ///< ping silent clients at half, close them after; 0 = never
  bool compression = false;                         ///< offer permessage-deflate to clients
  std::int64_t send_buffer = 0; ///< SO_SNDBUF of client sockets in bytes; 0 = the kernel's (auto-tuned)
  int resume_max = 10000;       ///< stored messages replayed per channel on a resume, 0..1000000
  /// Field-wise equality.
  bool operator==(const push_config&) const = default;
};

/// REST history API (gateways/http, role `api`; docs/api.md).
struct api_config {
  std::string listen = "127.0.0.1:8081";               ///< host:port
  auth_mode auth = auth_mode::required;                ///< required | off (every endpoint anonymous)
  duration timestamp_window = std::chrono::seconds(5); ///< signed requests accepted within +- this
  std::int64_t default_quota_per_minute = 1200;        ///< per key, unless the key has its own quota
  bool anonymous_push = true;                          ///< push gateway accepts clients without a signed token
  int workers = 2;                                     ///< request threads (and PostgreSQL connections), 1..64
  /// File holding the 64-hex-digit master key that seals API signing keys (mode 600); or set the
  /// environment variable MI_API_MASTER_KEY (never in this file). Required with auth: required.
  std::string master_key_file;
  int max_connections = 512;                            ///< open REST connections at most; more get 503
  duration statement_timeout = std::chrono::seconds(3); ///< every API query; beyond: 504
  duration pool_wait = std::chrono::seconds(2);         ///< longest wait for a worker / database connection; then 503
  /// Field-wise equality.
  bool operator==(const api_config&) const = default;
};

/// Prometheus endpoint.
struct metrics_config {
  std::string listen = "127.0.0.1:9464"; ///< host:port
  /// Field-wise equality.
  bool operator==(const metrics_config&) const = default;
};

/// Logs (docs/operations.md, "Logs").
struct log_config {
  log_format format = log_format::text; ///< text | json (one object per line: ts, level, msg[, repeated])
  /// Field-wise equality.
  bool operator==(const log_config&) const = default;
};

/// Admin API (role `admin`, docs/operations.md "Admin API"): the actor inspection tree as JSON.
struct admin_config {
  std::string listen = "127.0.0.1:9465"; ///< host:port; its own address, never the public ones
  /// Bearer token every request must carry (`Authorization: Bearer <token>`); required with role admin,
  /// at least 16 characters. Set it with MI_ADMIN_TOKEN rather than in the file. Never logged.
  std::string token;
  /// Field-wise equality.
  bool operator==(const admin_config&) const = default;
};

/// Process runtime.
struct runtime_config {
  /// CAF scheduler workers, 1..64. One by default: the cooperative actors (connections, publisher, symbol windows, push
  /// sessions) use a fraction of a core at 50,000 trades/s, and a second worker cost ~1.3 µs of CPU per trade in
  /// wake-ups between the two (docs/performance.md §28). Raise it when `mi_ingest_latency_seconds` rises with load
  /// while the box has cores to spare (one worker busy all the time).
  int scheduler_threads = 1;
  /// sharing | stealing (docs/performance.md §21: sharing costs ~6 µs less CPU per trade at 20,000 trades/s)
  scheduler_policy policy = scheduler_policy::sharing;
  log_severity log_level = log_severity::info; ///< trace|debug|info|warn|error
  /// This process's node identity on a cluster (A-Z a-z 0-9 . _ -, at most 64): its NATS
  /// connection name ("market-ingestor <node_id>", seen in nats-server's /connz) and its start
  /// line. Empty: the host name.
  std::string node_id;
  /// Field-wise equality.
  bool operator==(const runtime_config&) const = default;
};

/// Restarts of supervised actors (docs/operations.md, "Supervision"), per child.
struct supervision_config {
  duration initial_backoff = std::chrono::milliseconds(200); ///< delay before the first restart
  duration max_backoff = std::chrono::seconds(10);           ///< the delay doubles up to this
  duration reset_after = std::chrono::seconds(30);     ///< a child up this long restarts from initial_backoff again
  int max_restarts = 10;                               ///< restarts within restart_window; one more: the role gives up
  duration restart_window = std::chrono::seconds(120); ///< >= min_restart_window(...), checked
  /// Field-wise equality.
  bool operator==(const supervision_config&) const = default;
};

/// Test-only fault injection (tests/integration/supervision.test.cpp); empty in production.
struct testing_config {
  /// "" (off) | kline_stage_throws (the kline stage throws at every start: the role gives up and
  /// the process exits 3) | symbol_window_throws_once (the first symbol window to get its
  /// `fault_after_trades`-th trade throws, once per process) | kline_reader_stalls_once (the kline
  /// stage's MARKET_RAW reader goes silent after `fault_after_trades` messages, once per process).
  std::string fault;
  int fault_after_trades = 100; ///< 1..1000000
  /// Field-wise equality.
  bool operator==(const testing_config&) const = default;
};

/// The shortest time in which `restarts` restarts can happen with backoff doubling from
/// `initial` up to `max`: sum of min(initial * 2^k, max), k < restarts. A restart window
/// shorter than this can never see the limit reached.
duration min_restart_window(duration initial, duration max, int restarts);

/// The whole configuration.
struct config {
  nats_config nats;
  postgres_config postgres;
  /// Key: a venue name of the registry (messages/venue_registry.cpp: binance, okx, bybit, coinbase, kraken).
  /// defaults() holds every venue with its real public endpoints; only binance is enabled.
  std::map<std::string, exchange_config> exchanges;
  /// Key: a derivatives venue (messages/venue_registry.cpp derivatives_venues(): binance-usdm, okx-swap,
  /// bybit-linear); defaults() holds each with its real endpoints, disabled.
  std::map<std::string, derivatives_config> derivatives;
  ingest_config ingest;
  equities_config equities;
  documents_config documents;
  kline_config klines;
  calendars_config calendars;
  saver_config saver;
  storage_config storage;
  audit_config audit;
  push_config push;
  api_config api;
  metrics_config metrics;
  admin_config admin;
  log_config log;
  runtime_config runtime;
  supervision_config supervision;
  testing_config testing;
  /// Field-wise equality.
  bool operator==(const config&) const = default;
};

/// One problem, with the dotted key it concerns ("klines.grace") and why.
struct config_error {
  std::string key;
  std::string message;
  /// Field-wise equality.
  bool operator==(const config_error&) const = default;
};

/// Defaults (the real exchange endpoints are the defaults).
config defaults();

/// Loads YAML text over the defaults, then applies `env` (name->value, only names starting MI_),
/// then validates. Returns every error found (unknown key, wrong type, bad duration, bad value,
/// unknown MI_ variable). Never throws.
std::variant<config, std::vector<config_error>> load(std::string_view yaml_text,
                                                     const std::map<std::string, std::string>& env);

/// load() from a file path and the process environment (environ); a missing/unreadable file is an
/// error with key "".
std::variant<config, std::vector<config_error>> load_file(const std::string& path);

/// MI_* variables that are not config keys: secrets read where they are used, never part of the
/// config (never printed by to_yaml): MI_API_MASTER_KEY, and each venue's credentials MI_<VENUE>_KEY_ID and
/// MI_<VENUE>_SECRET_KEY (MI_ALPACA_KEY_ID, MI_ALPACA_SECRET_KEY).
bool is_secret_env(std::string_view name);

/// The credential `what` ("KEY_ID", "SECRET_KEY") of `venue` from the process environment (MI_ALPACA_KEY_ID); ""
/// when unset. Never logged, never part of the config.
std::string venue_secret_env(std::string_view venue, std::string_view what);

/// The MI_* variables of the process environment (what load_file passes to load()).
std::map<std::string, std::string> process_env();

/// Pure validation of a config (also used by load).
std::vector<config_error> validate(const config& c);

/// "500ms", "2s", "1m", "1h", "7d" -> duration; error otherwise (no unit, unknown unit, negative,
/// overflow).
mi::result<duration> parse_duration(std::string_view text);

/// The shortest exact text for a duration ("90s", "2m", "7d", "1500ms"); parse_duration's inverse.
std::string format_duration(duration d);

/// Every config error as "config error: <key>: <message>" lines (each ends with '\n'; an error
/// with an empty key prints as "config error: <message>").
std::string format_errors(const std::vector<config_error>& errors);

/// Every leaf key of the schema, dotted ("nats.streams.raw.max_age",
/// "exchanges.okx.reconnect.initial", ...), in document order.
std::vector<std::string> known_keys();

/// The environment variable that overrides a dotted key: "klines.grace" -> "MI_KLINES_GRACE".
std::string env_name(std::string_view key);

/// The effective configuration as YAML (every key, the layout load() reads; load(to_yaml(c), {})
/// gives back c). Contains secrets such as a password in postgres.dsn.
std::string to_yaml(const config& c);

} // namespace mi::cfg
