#include "gateways/http/api.hpp"
#include "messages/polled_venues.hpp"
#include "messages/document.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <variant>
#include <vector>

#include "gateways/postgres/history_reader.hpp"
#include "gateways/http/indicators.hpp"
#include "messages/codec.hpp"
#include "messages/kline/interval.hpp"
#include "messages/venue_registry.hpp"
#include "messages/util/json_writer.hpp"
#include "messages/util/clock.hpp"

namespace mi::gw {
namespace {

using params = std::map<std::string, std::string>;

constexpr int max_limit = 1000;
constexpr int max_period = 500;
constexpr std::int64_t max_time_ms = 253'402'300'799'999; // 9999-12-31T23:59:59.999Z

// Binance-like error codes (docs/api.md).
constexpr int code_bad_param = -1100;
constexpr int code_unknown = -1000;
constexpr int code_internal = -1001;
constexpr int code_unauthorized = -2015;
constexpr int code_timestamp = -1021;
constexpr int code_signature = -1022;
constexpr int code_replay = -1025;
constexpr int code_too_many = -1003;
constexpr int code_timeout = -1007;

constexpr std::string_view pool_exhausted = "database connection pool exhausted";

std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

using mi::util::json_string;

http_response error_response(int status, int code, std::string_view msg) {
  return http_response{
    status, "{\"code\":" + std::to_string(code) + ",\"msg\":" + json_string(msg) + "}", "application/json", {}};
}

http_response bad_param(std::string_view msg) { return error_response(400, code_bad_param, msg); }

/// A parameter error: the response to send.
struct param_error {
  http_response response;
};

template <class T>
using checked = std::variant<T, param_error>;

template <class T>
bool failed(const checked<T>& c) {
  return c.index() == 1;
}

param_error missing(std::string_view name) {
  return {bad_param("mandatory parameter '" + std::string(name) + "' was not sent or is empty")};
}

checked<std::string> required(const params& p, std::string_view name) {
  auto it = p.find(std::string(name));
  if (it == p.end() || it->second.empty())
    return missing(name);
  return it->second;
}

checked<std::string> exchange_param(const params& p) {
  auto v = required(p, "exchange");
  if (failed(v))
    return v;
  const auto& e = std::get<0>(v);
  if (!mi::is_data_venue(e)) // streamed and polled venues (cn: minute bars derived from its snapshots)
    return param_error{bad_param("parameter 'exchange': unknown exchange '" + e.substr(0, 40) +
                                 "' (known: " + mi::data_venue_names_joined() + ")")};
  return v;
}

checked<std::string> symbol_param(const params& p) {
  auto v = required(p, "symbol");
  if (failed(v))
    return v;
  const auto& s = std::get<0>(v);
  // '_': an equities symbol as its subject token (600000_SH, BRK_B), as trades and klines carry it.
  bool ok = s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
              return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
            });
  if (!ok)
    return param_error{bad_param("parameter 'symbol': '" + s.substr(0, 40) +
                                 "' is not a normalized symbol (upper-case letters, digits and '_', e.g. BTCUSDT, "
                                 "600000_SH)")};
  return v;
}

checked<std::string> interval_param(const params& p) {
  auto v = required(p, "interval");
  if (failed(v))
    return v;
  const auto& s = std::get<0>(v);
  if (!kline_engine::parse_interval(s))
    return param_error{bad_param("parameter 'interval': unknown interval '" + s.substr(0, 40) +
                                 "' (known: " + kline_engine::interval_names() + ")")};
  return v;
}

/// An optional integer parameter within [lo, hi].
checked<std::optional<std::int64_t>> int_param(const params& p, std::string_view name, std::int64_t lo,
                                               std::int64_t hi) {
  auto it = p.find(std::string(name));
  if (it == p.end())
    return std::optional<std::int64_t>{};
  const auto& s = it->second;
  if (s.empty())
    return missing(name);
  std::int64_t v = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc::result_out_of_range || (ec == std::errc{} && end == s.data() + s.size() && (v < lo || v > hi)))
    return param_error{bad_param("parameter '" + std::string(name) + "': " + s.substr(0, 40) + " is out of range [" +
                                 std::to_string(lo) + ", " + std::to_string(hi) + "]")};
  if (ec != std::errc{} || end != s.data() + s.size())
    return param_error{bad_param("parameter '" + std::string(name) + "': '" + s.substr(0, 40) + "' is not an integer")};
  return std::optional<std::int64_t>{v};
}

/// start/end in ms, start <= end.
checked<std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>> time_range(const params& p) {
  auto start = int_param(p, "start", 0, max_time_ms);
  if (failed(start))
    return std::get<1>(start);
  auto end = int_param(p, "end", 0, max_time_ms);
  if (failed(end))
    return std::get<1>(end);
  auto s = std::get<0>(start);
  auto e = std::get<0>(end);
  if (s && e && *s > *e)
    return param_error{
      bad_param("parameter 'start' (" + std::to_string(*s) + ") is after 'end' (" + std::to_string(*e) + ")")};
  return std::pair{s, e};
}

checked<int> limit_param(const params& p) {
  auto l = int_param(p, "limit", 1, max_limit);
  if (failed(l))
    return std::get<1>(l);
  return static_cast<int>(std::get<0>(l).value_or(500));
}

/// The parameters of every series route (klines, trades, bbo, indicators): one exchange and symbol, and a time
/// window with a page size.
struct series_params {
  std::string exchange;
  std::string symbol;
  std::optional<std::int64_t> start_ms, end_ms;
  int limit = 500;
};

/// exchange, symbol, start/end and limit, checked in that order (the first bad one is reported).
checked<series_params> series_param(const params& p) {
  auto ex = exchange_param(p);
  if (failed(ex))
    return std::get<1>(ex);
  auto sym = symbol_param(p);
  if (failed(sym))
    return std::get<1>(sym);
  auto range = time_range(p);
  if (failed(range))
    return std::get<1>(range);
  auto limit = limit_param(p);
  if (failed(limit))
    return std::get<1>(limit);
  return series_params{std::move(std::get<0>(ex)), std::move(std::get<0>(sym)), std::get<0>(range).first,
                       std::get<0>(range).second, std::get<0>(limit)};
}

/// Rejects parameters the route does not know (typos would otherwise be silently ignored).
std::optional<param_error> only(const params& p, std::initializer_list<std::string_view> known) {
  for (const auto& [k, v] : p)
    if (std::find(known.begin(), known.end(), k) == known.end())
      return param_error{bad_param("unknown parameter '" + k.substr(0, 40) + "'")};
  return std::nullopt;
}

/// The venue of an equities route: a venue of the registry, streamed or polled (alpaca, cn, ...).
checked<std::string> venue_param(const params& p) {
  auto v = required(p, "venue");
  if (failed(v))
    return v;
  if (auto e = unknown_venue(std::get<0>(v)))
    return param_error{bad_param(*e)};
  return v;
}

/// An equities symbol's characters: upper-case letters, digits and '.' (AAPL, BRK.B, 600000.SH), and '_' where
/// `underscore` (the quality report's symbols), at most 32.
bool equity_symbol_text(const std::string& s, bool underscore) {
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [underscore](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || (underscore && c == '_');
  });
}

/// An equities symbol: upper-case letters, digits and '.' (AAPL, BRK.B, 600000.SH).
checked<std::string> equity_symbol_param(const params& p) {
  auto v = required(p, "symbol");
  if (failed(v))
    return v;
  const auto& s = std::get<0>(v);
  if (!equity_symbol_text(s, false))
    return param_error{bad_param("parameter 'symbol': '" + s.substr(0, 40) +
                                 "' is not an equities symbol (upper-case letters, digits, '.', e.g. 600000.SH)")};
  return v;
}

/// An optional YYYY-MM-DD parameter.
checked<std::optional<std::string>> date_param(const params& p, std::string_view name) {
  auto it = p.find(std::string(name));
  if (it == p.end())
    return std::optional<std::string>{};
  if (!mi::calendar::parse_date_text(it->second))
    return param_error{
      bad_param("parameter '" + std::string(name) + "': '" + it->second.substr(0, 40) + "' is not a date YYYY-MM-DD")};
  return std::optional<std::string>{it->second};
}

// `start` and `end` (trading days, YYYY-MM-DD, both optional and inclusive), start not after end.
checked<std::pair<std::optional<std::string>, std::optional<std::string>>> day_range(const params& p) {
  auto from = date_param(p, "start");
  if (failed(from))
    return std::get<1>(from);
  auto to = date_param(p, "end");
  if (failed(to))
    return std::get<1>(to);
  auto start = std::get<0>(from), end = std::get<0>(to);
  if (start && end && *start > *end)
    return param_error{bad_param("parameter 'start' (" + *start + ") is after 'end' (" + *end + ")")};
  return std::pair{start, end};
}

struct route {
  std::string_view path;
  bool authenticated;
};
constexpr std::array<route, 14> routes{{{"/api/v1/klines", true},
                                        {"/api/v1/derivatives", true},
                                        {"/api/v1/quotes", true},
                                        {"/api/v1/daily_bars", true},
                                        {"/api/v1/quality", true},
                                        {"/api/v1/book", true},
                                        {"/api/v1/bbo", true},
                                        {"/api/v1/documents", true},
                                        {"/api/v1/calendar", true},
                                        {"/api/v1/trades", true},
                                        {"/api/v1/symbols", true},
                                        {"/api/v1/indicators", true},
                                        {"/api/v1/coverage", true},
                                        {"/api/v1/health", false}}};

constexpr std::int64_t hour_ms = 3'600'000;
constexpr std::int64_t max_coverage_hours = 24 * 31;

constexpr std::int64_t max_calendar_days = 400;

std::string optional_ns(bool present, std::int64_t ns) { return present ? std::to_string(ns) : "null"; }

std::string optional_text(bool present, const std::string& s) { return present ? json_string(s) : "null"; }

} // namespace

/// GET /api/v1/calendar?market=&from=&to=: the sessions of a market between two local dates (docs/api.md).
std::optional<std::string> unknown_venue(std::string_view venue) {
  if (mi::is_data_venue(venue))
    return std::nullopt;
  return "parameter 'venue': unknown venue '" + std::string(venue.substr(0, 40)) +
         "' (known: " + mi::data_venue_names_joined() + ")";
}

http_response calendar_response(const mi::calendar::calendar_set& set, const std::map<std::string, std::string>& p) {
  if (auto e = only(p, {"market", "from", "to"}))
    return e->response;
  auto market = required(p, "market");
  if (failed(market))
    return std::get<1>(market).response;
  const auto* cal = set.find(std::get<0>(market));
  if (cal == nullptr) {
    std::string known;
    for (const auto& m : set.markets())
      known += (known.empty() ? "" : ", ") + m;
    return bad_param("parameter 'market': unknown market '" + std::get<0>(market).substr(0, 40) + "' (known: " + known +
                     ")");
  }
  std::int64_t days[2] = {0, 0};
  const char* names[2] = {"from", "to"};
  for (int i = 0; i < 2; ++i) {
    auto v = required(p, names[i]);
    if (failed(v))
      return std::get<1>(v).response;
    auto d = mi::calendar::parse_date_text(std::get<0>(v));
    if (!d)
      return bad_param("parameter '" + std::string(names[i]) + "': '" + std::get<0>(v).substr(0, 40) +
                       "' is not a date YYYY-MM-DD");
    days[i] = *d;
  }
  if (days[0] > days[1])
    return bad_param("parameter 'from' (" + p.at("from") + ") is after 'to' (" + p.at("to") + ")");
  if (days[1] - days[0] + 1 > max_calendar_days)
    return bad_param("at most " + std::to_string(max_calendar_days) + " days per request");
  std::string out = "{\"market\":" + json_string(cal->market()) + ",\"time_zone\":" + json_string(cal->time_zone()) +
                    ",\"from\":" + json_string(p.at("from")) + ",\"to\":" + json_string(p.at("to")) +
                    ",\"always_open\":" + (cal->always_open() ? "true" : "false") + ",\"sessions\":[";
  if (!cal->always_open()) {
    auto sessions = cal->sessions(mi::util::civil_from_days(days[0]), mi::util::civil_from_days(days[1]));
    if (!sessions)
      return bad_param(sessions.err().message);
    bool first = true;
    for (const auto& s : *sessions) {
      if (!first)
        out += ',';
      first = false;
      const bool br = s.local_break.has_value();
      const bool oa = s.opening_auction_ns != s.open_ns;
      const bool ca = s.closing_auction_ns != s.close_ns;
      out += "{\"date\":" + json_string(mi::util::date_text(s.date)) +
             ",\"open\":" + json_string(mi::calendar::minutes_text(s.local.begin)) +
             ",\"close\":" + json_string(mi::calendar::minutes_text(s.local.end)) +
             ",\"break_start\":" + optional_text(br, br ? mi::calendar::minutes_text(s.local_break->begin) : "") +
             ",\"break_end\":" + optional_text(br, br ? mi::calendar::minutes_text(s.local_break->end) : "") +
             ",\"open_ns\":" + std::to_string(s.open_ns) + ",\"close_ns\":" + std::to_string(s.close_ns) +
             ",\"break_start_ns\":" + optional_ns(br, s.break_start_ns) +
             ",\"break_end_ns\":" + optional_ns(br, s.break_end_ns) +
             ",\"early_close\":" + (s.early_close ? "true" : "false") +
             ",\"opening_auction_ns\":" + optional_ns(oa, s.opening_auction_ns) +
             ",\"closing_auction_ns\":" + optional_ns(ca, s.closing_auction_ns) + "}";
    }
  }
  return http_response{200, out + "]}", "application/json", {}};
}

namespace {

std::string kline_array(const std::vector<mi::kline>& ks) {
  std::string out = "[";
  for (const auto& k : ks) {
    if (out.size() > 1)
      out += ',';
    out += mi::kline_to_json(k);
  }
  return out + "]";
}

} // namespace

struct api_service::impl {
  api_options opts;
  history_options db_opts;
  auth::authenticator authn;
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::unique_ptr<history_db>> idle; // guarded by mu
  std::size_t created = 0;                       // guarded by mu

  // Health prober: its own connection, never the pool; /health only reads these.
  std::atomic<bool> db_up{false};
  std::atomic<std::int64_t> last_probe_ms{0}; // steady clock
  std::mutex probe_mu;
  std::condition_variable probe_cv;
  bool stopping = false; // guarded by probe_mu
  std::thread prober;

  explicit impl(api_options o)
      : opts(std::move(o)), db_opts{opts.statement_timeout, opts.connect_timeout},
        authn(auth::auth_options{opts.timestamp_window, opts.default_quota_per_minute}, opts.nonces) {
    if (!opts.now_ms)
      opts.now_ms = mi::util::now_ms;
    if (opts.health_interval.count() > 0) {
      std::unique_ptr<history_db> db;
      probe(db); // the first answer is known before the server accepts anyone
      prober = std::thread([this, db = std::move(db)]() mutable { probe_loop(std::move(db)); });
    }
  }

  ~impl() {
    {
      std::lock_guard lock{probe_mu};
      stopping = true;
    }
    probe_cv.notify_all();
    if (prober.joinable())
      prober.join();
  }

  void probe(std::unique_ptr<history_db>& db) {
    if (!db) {
      auto c = history_db::connect(opts.conninfo, db_opts);
      if (c)
        db = std::move(*c);
    }
    const bool up = db && db->ping();
    db_up.store(up);
    last_probe_ms.store(steady_ms());
    if (opts.on_database_state)
      opts.on_database_state(up);
  }

  void probe_loop(std::unique_ptr<history_db> db) {
    std::unique_lock lock{probe_mu};
    while (!probe_cv.wait_for(lock, opts.health_interval, [&] { return stopping; })) {
      lock.unlock();
      probe(db);
      lock.lock();
    }
  }

  bool database_up() const {
    if (opts.health_interval.count() <= 0)
      return false;
    // A probe stuck longer than its own bounds (connect + statement timeout) counts as down.
    const auto stale_after =
      3 * opts.health_interval.count() + 1000 * opts.connect_timeout.count() + opts.statement_timeout.count();
    return db_up.load() && steady_ms() - last_probe_ms.load() <= stale_after;
  }

  /// A connection of the pool, returned by the guard's destructor.
  struct lease {
    impl* owner = nullptr;
    std::unique_ptr<history_db> db;
    ~lease() {
      if (owner && db) {
        std::lock_guard lock{owner->mu};
        owner->idle.push_back(std::move(db));
        owner->cv.notify_one();
      }
    }
  };

  /// `query` (a history_db method call) on a pooled connection: its result, or the pool's error (both answered with
  /// db_failure by the routes).
  template <class F>
  auto read(F&& query) -> decltype(query(std::declval<history_db&>())) {
    auto l = borrow();
    if (!l)
      return l.err();
    return query(*(*l)->db);
  }

  mi::result<std::unique_ptr<lease>> borrow() {
    auto l = std::make_unique<lease>();
    l->owner = this;
    {
      std::unique_lock lock{mu};
      if (!cv.wait_for(lock, opts.pool_wait,
                       [&] { return !idle.empty() || created < std::max<std::size_t>(1, opts.connections); }))
        return mi::error{std::string(pool_exhausted) + " (waited " + std::to_string(opts.pool_wait.count()) + " ms)"};
      if (!idle.empty()) {
        l->db = std::move(idle.back());
        idle.pop_back();
        return l;
      }
      ++created; // connect outside the lock
    }
    auto db = history_db::connect(opts.conninfo, db_opts);
    if (!db) {
      std::lock_guard lock{mu};
      --created;
      cv.notify_one();
      return db.err();
    }
    l->db = std::move(*db);
    return l;
  }

  http_response db_failure(const mi::error& e) {
    // The details go to the operator's log, not to the client.
    if (opts.on_error)
      opts.on_error(e.message);
    if (is_statement_timeout(e))
      return error_response(504, code_timeout,
                            "query exceeded the server's time limit of " +
                              std::to_string(opts.statement_timeout.count()) +
                              " ms (api.statement_timeout): narrow the time range or retry later");
    if (e.message.rfind(pool_exhausted, 0) == 0) {
      auto r = error_response(503, code_too_many, "all database connections are busy, retry later");
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    return error_response(503, code_internal, "database unavailable, retry later");
  }

  http_response refused(const auth::decision& d) {
    if (opts.on_auth_rejected)
      opts.on_auth_rejected(auth::reason_label(d.reason));
    switch (d.reason) {
    case auth::reject::quota_exceeded: {
      auto r = error_response(429, code_too_many, d.message);
      r.headers.emplace_back("Retry-After", std::to_string(d.retry_after_s));
      return r;
    }
    case auth::reject::expired_timestamp:
      return error_response(401, code_timestamp, d.message);
    case auth::reject::bad_signature:
      return error_response(401, code_signature, d.message);
    case auth::reject::replayed_nonce:
      return error_response(401, code_replay, d.message);
    case auth::reject::nonce_store_unavailable: {
      if (opts.on_error)
        opts.on_error("nonce store did not answer; signed requests are refused until it does");
      auto r = error_response(503, code_internal, d.message);
      r.headers.emplace_back("Retry-After", "1");
      return r;
    }
    default:
      return error_response(401, code_unauthorized, d.message);
    }
  }

  /// The stored key with its signing key opened, or why it cannot be used (logged, not told).
  std::optional<std::string> open_key(auth::key_record& k) {
    if (!k.sealed_signing_key.empty()) {
      if (!opts.master_key)
        return "the API has no master key (api.master_key_file / MI_API_MASTER_KEY)";
      auto opened = auth::open_signing_key(*opts.master_key, k.key_id, k.sealed_signing_key);
      if (!opened)
        return opened.err().message;
      k.signing_key = std::move(*opened);
      return std::nullopt;
    }
    return "its signing key is stored in clear (from before migration 0004): run `market-ingestor migrate` or "
           "`apikey list` with the master key to seal it";
  }

  /// Authentication of a REST request; nullopt when it may proceed.
  std::optional<http_response> authenticate(const http_request& req, const std::vector<auth::query_param>& qp) {
    auth::credentials c{req.header("x-mi-apikey"), req.header("x-mi-timestamp"), req.header("x-mi-nonce"),
                        req.header("x-mi-signature")};
    return verify(c, req.method, req.path, auth::canonical_query(qp));
  }

  std::optional<http_response> verify(const auth::credentials& c, std::string_view method, std::string_view path,
                                      const std::string& canonical) {
    // Cheap checks first: whatever fails here never costs a database round trip.
    const auto now = opts.now_ms();
    if (auto pre = authn.precheck(c, now); !pre.ok())
      return refused(pre);
    std::optional<auth::key_record> key;
    {
      auto l = borrow();
      if (!l)
        return db_failure(l.err());
      if (opts.on_key_lookup)
        opts.on_key_lookup();
      auto k = (*l)->db->find_key(c.key_id);
      if (!k)
        return db_failure(k.err());
      if (auto& row = *k)
        key = auth::key_record{std::move(row->key_id), std::move(row->signing_key), row->revoked, row->quota_per_minute,
                               std::move(row->sealed_signing_key)};
    }
    if (key && !key->revoked) {
      if (auto why = open_key(*key)) {
        if (opts.on_error)
          opts.on_error("API key " + c.key_id + " cannot be used: " + *why);
        if (opts.on_auth_rejected)
          opts.on_auth_rejected("unusable_key");
        return error_response(401, code_unauthorized, "API key cannot be used (the server log says why)");
      }
    }
    auto d = authn.check(c, key, method, path, canonical, now);
    if (d.ok())
      return std::nullopt;
    return refused(d);
  }

  // ---- endpoints ---------------------------------------------------------------------------

  http_response klines(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "interval", "start", "end", "limit"}))
      return e->response;
    auto sp = series_param(p);
    if (failed(sp))
      return std::get<1>(sp).response;
    auto iv = interval_param(p);
    if (failed(iv))
      return std::get<1>(iv).response;
    auto& s = std::get<0>(sp);
    kline_query q{s.exchange, s.symbol, std::get<0>(iv), s.start_ms, s.end_ms, s.limit};
    auto ks = read([&](history_db& db) { return db.klines(q); });
    if (!ks)
      return db_failure(ks.err());
    return http_response{200, kline_array(*ks), "application/json", {}};
  }

  /// GET /api/v1/book?exchange=&symbol=[&at=]: the stored snapshot (storage.books) at or before `at` (ms), else the
  /// latest; 404 when none is stored.
  http_response book(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "at"}))
      return e->response;
    auto ex = exchange_param(p);
    if (failed(ex))
      return std::get<1>(ex).response;
    auto sym = symbol_param(p);
    if (failed(sym))
      return std::get<1>(sym).response;
    auto at = int_param(p, "at", 0, max_time_ms);
    if (failed(at))
      return std::get<1>(at).response;
    auto b = read([&](history_db& db) { return db.book(std::get<0>(ex), std::get<0>(sym), std::get<0>(at)); });
    if (!b)
      return db_failure(b.err());
    if (!*b)
      return error_response(404, code_unknown,
                            "no stored book for " + std::get<0>(ex) + " " + std::get<0>(sym) +
                              (std::get<0>(at) ? " at or before " + std::to_string(*std::get<0>(at)) : std::string()) +
                              " (book samples are stored when storage.books.enabled is true)");
    const auto& s = **b;
    return http_response{200,
                         "{\"exchange\":" + json_string(s.exchange) + ",\"symbol\":" + json_string(s.symbol) +
                           ",\"time\":" + std::to_string(s.ts_ms) + ",\"sequence\":" + std::to_string(s.sequence) +
                           ",\"depth\":" + std::to_string(s.depth) + ",\"bids\":" + levels_json(s.bids) +
                           ",\"asks\":" + levels_json(s.asks) + "}",
                         "application/json",
                         {}};
  }

  /// GET /api/v1/derivatives?exchange=&symbol=[&channel=&start=&end=&limit=]: stored perpetual-swap events
  /// (market_derivatives) of a derivatives venue (binance-usdm, okx-swap, bybit-linear), oldest first; `channel` one of
  /// funding, mark, oi, liquidation. Each event as mi::deriv::to_json.
  http_response derivatives(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "channel", "start", "end", "limit"}))
      return e->response;
    auto ex = required(p, "exchange");
    if (failed(ex))
      return std::get<1>(ex).response;
    const auto& exchange = std::get<0>(ex);
    if (mi::find_derivatives_venue(exchange) == nullptr)
      return bad_param("parameter 'exchange': unknown derivatives venue '" + exchange.substr(0, 40) +
                       "' (known: binance-usdm, okx-swap, bybit-linear)");
    auto sym = symbol_param(p);
    if (failed(sym))
      return std::get<1>(sym).response;
    derivatives_query q;
    q.exchange = exchange;
    q.symbol = std::get<0>(sym);
    if (auto c = p.find("channel"); c != p.end()) {
      q.channel = mi::deriv::parse_channel(c->second);
      if (!q.channel)
        return bad_param("parameter 'channel': '" + c->second.substr(0, 40) +
                         "' is not one of funding, mark, oi, liquidation");
    }
    auto range = time_range(p);
    if (failed(range))
      return std::get<1>(range).response;
    auto limit = limit_param(p);
    if (failed(limit))
      return std::get<1>(limit).response;
    q.start_ms = std::get<0>(range).first;
    q.end_ms = std::get<0>(range).second;
    q.limit = std::get<0>(limit);
    auto rows = read([&](history_db& db) { return db.derivatives(q); });
    if (!rows)
      return db_failure(rows.err());
    std::string out = "[";
    for (const auto& d : *rows) {
      if (out.size() > 1)
        out += ',';
      out += mi::deriv::to_json(d);
    }
    return http_response{200, out + "]", "application/json", {}};
  }

  /// GET /api/v1/bbo?exchange=&symbol=[&start=&end=&limit=]: stored best bid/ask samples, oldest first.
  http_response bbo(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "start", "end", "limit"}))
      return e->response;
    auto sp = series_param(p);
    if (failed(sp))
      return std::get<1>(sp).response;
    auto& s = std::get<0>(sp);
    bbo_query q{s.exchange, s.symbol, s.start_ms, s.end_ms, s.limit};
    auto rows = read([&](history_db& db) { return db.bbo(q); });
    if (!rows)
      return db_failure(rows.err());
    auto side = [](const std::optional<mi::book::wire_level>& w) {
      return w ? "[" + json_string(w->price) + "," + json_string(w->qty) + "]" : std::string("null");
    };
    std::string out = "[";
    for (const auto& r : *rows) {
      if (out.size() > 1)
        out += ',';
      out += "{\"time\":" + std::to_string(r.ts_ms) + ",\"bid\":" + side(r.bid) + ",\"ask\":" + side(r.ask) +
             ",\"sequence\":" + std::to_string(r.sequence) + "}";
    }
    return http_response{200, out + "]", "application/json", {}};
  }

  /// GET /api/v1/quotes?venue=&symbol=[&start=&end=&limit=]: stored equity quote snapshots, oldest first (docs/api.md).
  http_response quotes(const params& p) {
    if (auto e = only(p, {"venue", "symbol", "start", "end", "limit"}))
      return e->response;
    auto v = venue_param(p);
    if (failed(v))
      return std::get<1>(v).response;
    auto sym = equity_symbol_param(p);
    if (failed(sym))
      return std::get<1>(sym).response;
    auto range = time_range(p);
    if (failed(range))
      return std::get<1>(range).response;
    auto limit = limit_param(p);
    if (failed(limit))
      return std::get<1>(limit).response;
    quote_query q{std::get<0>(v), std::get<0>(sym), std::get<0>(range).first, std::get<0>(range).second,
                  std::get<0>(limit)};
    auto rows = read([&](history_db& db) { return db.quotes(q); });
    if (!rows)
      return db_failure(rows.err());
    std::string out = "[";
    for (const auto& r : *rows) {
      if (out.size() > 1)
        out += ',';
      auto text = [](const std::string& x) { return x.empty() ? std::string("null") : json_string(x); };
      out += "{\"venue\":" + json_string(r.venue) + ",\"symbol\":" + json_string(r.symbol) +
             ",\"source\":" + json_string(r.source) + ",\"time\":" + std::to_string(r.ts_us / 1000) +
             ",\"ts_us\":" + std::to_string(r.ts_us) + ",\"trading_day\":" + text(r.trading_day) +
             ",\"last\":" + text(r.last) + ",\"bids\":" + r.bids_json + ",\"asks\":" + r.asks_json +
             ",\"volume\":" + text(r.volume) + ",\"turnover\":" + text(r.turnover) + ",\"open\":" + text(r.open) +
             ",\"high\":" + text(r.high) + ",\"low\":" + text(r.low) + ",\"prev_close\":" + text(r.prev_close) +
             ",\"currency\":" + text(r.currency) + "}";
    }
    return http_response{200, out + "]", "application/json", {}};
  }

  /// GET /api/v1/daily_bars?venue=&symbol=[&source=&adjustment=&start=&end=&limit=]: the sources' daily bars
  /// (start/end: trading days YYYY-MM-DD), by day, then source and adjustment (docs/api.md).
  http_response daily_bars(const params& p) {
    if (auto e = only(p, {"venue", "symbol", "source", "adjustment", "start", "end", "limit"}))
      return e->response;
    auto v = venue_param(p);
    if (failed(v))
      return std::get<1>(v).response;
    auto sym = equity_symbol_param(p);
    if (failed(sym))
      return std::get<1>(sym).response;
    daily_bar_query q;
    q.venue = std::get<0>(v);
    q.symbol = std::get<0>(sym);
    if (auto it = p.find("source"); it != p.end()) {
      if (it->second.empty() || it->second.size() > 32 ||
          !std::all_of(it->second.begin(), it->second.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
        return bad_param("parameter 'source': '" + it->second.substr(0, 40) +
                         "' is not a source name (e.g. eastmoney)");
      q.source = it->second;
    }
    if (auto it = p.find("adjustment"); it != p.end()) {
      const auto& a = it->second;
      if (a != "none" && a != "forward" && a != "backward" && a != "all")
        return bad_param("parameter 'adjustment': '" + a.substr(0, 40) + "' (known: none, forward, backward, all)");
      q.adjustment = a;
    }
    auto days = day_range(p);
    if (failed(days))
      return std::get<1>(days).response;
    std::tie(q.start_day, q.end_day) = std::get<0>(days);
    auto limit = limit_param(p);
    if (failed(limit))
      return std::get<1>(limit).response;
    q.limit = std::get<0>(limit);
    auto rows = read([&](history_db& db) { return db.daily_bars(q); });
    if (!rows)
      return db_failure(rows.err());
    std::string out = "[";
    for (const auto& r : *rows) {
      if (out.size() > 1)
        out += ',';
      auto text = [](const std::string& x) { return x.empty() ? std::string("null") : json_string(x); };
      out += "{\"venue\":" + json_string(r.venue) + ",\"symbol\":" + json_string(r.symbol) +
             ",\"market\":" + json_string(r.market) + ",\"trading_day\":" + json_string(r.trading_day) +
             ",\"source\":" + json_string(r.source) + ",\"adjustment\":" + json_string(r.adjustment) +
             ",\"open\":" + json_string(r.open) + ",\"high\":" + json_string(r.high) +
             ",\"low\":" + json_string(r.low) + ",\"close\":" + json_string(r.close) +
             ",\"volume\":" + json_string(r.volume) + ",\"turnover\":" + text(r.turnover) +
             ",\"vwap\":" + text(r.vwap) +
             ",\"trade_count\":" + (r.trade_count < 0 ? std::string("null") : std::to_string(r.trade_count)) +
             ",\"fetched_at\":" + std::to_string(r.fetched_at_us / 1000) + "}";
    }
    return http_response{200, out + "]", "application/json", {}};
  }

  /// GET /api/v1/quality?venue=[&symbol=&start=&end=&mismatched=&limit=]: the daily job's comparisons of a
  /// source's daily bars with our 1d klines, by trading day, then symbol (docs/api.md).
  http_response quality(const params& p) {
    if (auto e = only(p, {"venue", "symbol", "start", "end", "mismatched", "limit"}))
      return e->response;
    auto v = venue_param(p);
    if (failed(v))
      return std::get<1>(v).response;
    quality_query q;
    q.venue = std::get<0>(v);
    if (auto it = p.find("symbol"); it != p.end()) {
      const auto& s = it->second;
      if (!equity_symbol_text(s, true))
        return bad_param("parameter 'symbol': '" + s.substr(0, 40) +
                         "' is not an equities symbol (upper-case letters, digits, '.', '_', e.g. AAPL)");
      q.symbol = s;
    }
    if (auto it = p.find("mismatched"); it != p.end()) {
      if (it->second != "true" && it->second != "false")
        return bad_param("parameter 'mismatched': '" + it->second.substr(0, 40) + "' (expected true or false)");
      q.mismatched_only = it->second == "true";
    }
    auto days = day_range(p);
    if (failed(days))
      return std::get<1>(days).response;
    std::tie(q.start_day, q.end_day) = std::get<0>(days);
    auto limit = limit_param(p);
    if (failed(limit))
      return std::get<1>(limit).response;
    q.limit = std::get<0>(limit);
    auto rows = read([&](history_db& db) { return db.quality(q); });
    if (!rows)
      return db_failure(rows.err());
    std::string out = "[";
    for (const auto& r : *rows) {
      if (out.size() > 1)
        out += ',';
      out += "{\"venue\":" + json_string(r.venue) + ",\"symbol\":" + json_string(r.symbol) +
             ",\"market\":" + json_string(r.market) + ",\"trading_day\":" + json_string(r.trading_day) +
             ",\"source\":" + json_string(r.source) + ",\"mismatches\":" + std::to_string(r.mismatches) +
             ",\"differences\":" + r.differences_json + ",\"checked_at\":" + std::to_string(r.checked_at_us / 1000) +
             "}";
    }
    return http_response{200, out + "]", "application/json", {}};
  }

  http_response trades(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "start", "end", "fromId", "cursor", "limit"}))
      return e->response;
    auto sp = series_param(p);
    if (failed(sp))
      return std::get<1>(sp).response;
    auto& s = std::get<0>(sp);
    trade_query q;
    q.exchange = s.exchange;
    q.symbol = s.symbol;
    q.start_ms = s.start_ms;
    q.end_ms = s.end_ms;
    q.limit = s.limit;
    const bool has_from = p.count("fromId") > 0;
    const bool has_cursor = p.count("cursor") > 0;
    if (has_from + has_cursor + q.start_ms.has_value() > 1)
      return bad_param("parameters 'start', 'fromId' and 'cursor' are mutually exclusive: send one");
    if (!has_from && !has_cursor && !q.start_ms)
      return bad_param("mandatory parameter 'start' (or 'fromId' or 'cursor') was not sent");
    if (has_from) {
      auto id = required(p, "fromId");
      if (failed(id))
        return std::get<1>(id).response;
      if (std::get<0>(id).size() > 128)
        return bad_param("parameter 'fromId': longer than 128 characters");
      q.from_id = std::get<0>(id);
    }
    if (has_cursor) {
      auto c = required(p, "cursor");
      if (failed(c))
        return std::get<1>(c).response;
      auto cur = decode_cursor(std::get<0>(c));
      if (!cur)
        return bad_param("parameter " + cur.err().message);
      q.after = *cur;
    }
    auto page = read([&](history_db& db) { return db.trades(q); });
    if (!page)
      return db_failure(page.err());
    if (page->from_id_unknown)
      return bad_param("parameter 'fromId': no stored trade '" + q.from_id->substr(0, 40) + "' for " + q.exchange +
                       " " + q.symbol);
    std::string out = "{\"trades\":[";
    bool first = true;
    for (const auto& t : page->trades) {
      if (!first)
        out += ',';
      first = false;
      out += mi::trade_to_json(t);
    }
    out += "],\"next\":";
    out += page->next ? json_string(encode_cursor(*page->next)) : "null";
    out += '}';
    return http_response{200, std::move(out), "application/json", {}};
  }

  http_response symbols(const params& p) {
    if (auto e = only(p, {}))
      return e->response;
    auto rows = read([&](history_db& db) { return db.symbols(); });
    if (!rows)
      return db_failure(rows.err());
    std::string out = "[";
    for (const auto& s : *rows) {
      if (out.size() > 1)
        out += ',';
      out += "{\"exchange\":" + json_string(s.exchange) + ",\"symbol\":" + json_string(s.symbol) +
             ",\"first_ts_ns\":" + std::to_string(s.first_ts_ns) + ",\"last_ts_ns\":" + std::to_string(s.last_ts_ns) +
             ",\"trade_count\":" + std::to_string(s.trade_count) + "}";
    }
    return http_response{200, out + "]", "application/json", {}};
  }

  // GET /api/v1/coverage?exchange=&symbol=&from=&to= (docs/api.md): hours [from, to) rounded out to whole hours;
  // default the last 24 hours; at most 31 days.
  http_response coverage(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "from", "to"}))
      return e->response;
    coverage_query q;
    if (p.count("exchange")) {
      auto ex = exchange_param(p);
      if (failed(ex))
        return std::get<1>(ex).response;
      q.exchange = std::get<0>(ex);
    }
    if (p.count("symbol")) {
      auto sym = symbol_param(p);
      if (failed(sym))
        return std::get<1>(sym).response;
      q.symbol = std::get<0>(sym);
    }
    auto from = int_param(p, "from", 0, max_time_ms);
    if (failed(from))
      return std::get<1>(from).response;
    auto to = int_param(p, "to", 0, max_time_ms);
    if (failed(to))
      return std::get<1>(to).response;
    const auto now = opts.now_ms ? opts.now_ms() : mi::util::now_ms();
    q.to_ms = std::get<0>(to).value_or(now);
    q.to_ms = (q.to_ms / hour_ms + 1) * hour_ms; // the hour holding `to` is included
    q.from_ms = std::get<0>(from).value_or(q.to_ms - 24 * hour_ms) / hour_ms * hour_ms;
    if (q.from_ms >= q.to_ms)
      return bad_param("parameter 'from' (" + std::to_string(q.from_ms) + ") must be before 'to' (" +
                       std::to_string(q.to_ms) + ")");
    if (q.to_ms - q.from_ms > max_coverage_hours * hour_ms)
      return bad_param("the range from 'from' to 'to' spans more than " + std::to_string(max_coverage_hours) +
                       " hours");
    auto rows = read([&](history_db& db) { return db.coverage(q); });
    if (!rows)
      return db_failure(rows.err());
    std::string out = "{\"from\":" + std::to_string(q.from_ms) + ",\"to\":" + std::to_string(q.to_ms) + ",\"hours\":[";
    for (const auto& c : *rows) {
      if (out.back() != '[')
        out += ',';
      std::string audit = "null";
      if (c.audit_stream_trades && c.audit_stored_trades)
        audit = *c.audit_stream_trades == *c.audit_stored_trades ? "\"ok\"" : "\"mismatch\"";
      out +=
        "{\"exchange\":" + json_string(c.exchange) + ",\"symbol\":" + json_string(c.symbol) +
        ",\"hour_ms\":" + std::to_string(c.hour_ms) + ",\"trades\":" + std::to_string(c.trades) +
        ",\"gaps_detected\":" + std::to_string(c.gaps_detected) + ",\"gaps_filled\":" + std::to_string(c.gaps_filled) +
        ",\"gaps_unfillable\":" + std::to_string(c.gaps_unfillable) +
        ",\"recovered_trades\":" + std::to_string(c.recovered_trades) +
        ",\"missing_trades\":" + std::to_string(c.missing_trades) + ",\"audit\":" + audit +
        ",\"audit_stream_trades\":" + (c.audit_stream_trades ? std::to_string(*c.audit_stream_trades) : "null") +
        ",\"audit_stored_trades\":" + (c.audit_stored_trades ? std::to_string(*c.audit_stored_trades) : "null") + "}";
    }
    return http_response{200, out + "]}", "application/json", {}};
  }

  http_response indicators(const params& p) {
    if (auto e = only(p, {"exchange", "symbol", "interval", "indicator", "period", "start", "end", "limit"}))
      return e->response;
    auto ex = exchange_param(p);
    if (failed(ex))
      return std::get<1>(ex).response;
    auto sym = symbol_param(p);
    if (failed(sym))
      return std::get<1>(sym).response;
    auto iv = interval_param(p);
    if (failed(iv))
      return std::get<1>(iv).response;
    auto ind = required(p, "indicator");
    if (failed(ind))
      return std::get<1>(ind).response;
    const auto& name = std::get<0>(ind);
    if (name != "sma" && name != "ema" && name != "rv")
      return bad_param("parameter 'indicator': unknown indicator '" + name.substr(0, 40) + "' (known: sma, ema, rv)");
    if (!p.count("period"))
      return missing("period").response;
    auto period = int_param(p, "period", 1, max_period);
    if (failed(period))
      return std::get<1>(period).response;
    auto range = time_range(p);
    if (failed(range))
      return std::get<1>(range).response;
    auto limit = limit_param(p);
    if (failed(limit))
      return std::get<1>(limit).response;
    const int n = static_cast<int>(*std::get<0>(period));
    // The first candles of the range warm the indicator up: fetch limit + period of them.
    kline_query q{std::get<0>(ex),          std::get<0>(sym),          std::get<0>(iv),
                  std::get<0>(range).first, std::get<0>(range).second, std::get<0>(limit) + n};
    auto ks = read([&](history_db& db) { return db.klines(q); });
    if (!ks)
      return db_failure(ks.err());
    std::vector<std::int64_t> times;
    std::vector<mi::decimal> closes;
    for (const auto& k : *ks) {
      times.push_back(k.open_time_ms);
      closes.push_back(k.close);
    }
    auto points = name == "sma"   ? ind::sma(times, closes, n)
                  : name == "ema" ? ind::ema(times, closes, n)
                                  : ind::realized_volatility(times, closes, n);
    if (!points)
      return error_response(422, code_internal, points.err().message);
    auto& pts = *points;
    if (pts.size() > static_cast<std::size_t>(std::get<0>(limit)))
      pts.resize(static_cast<std::size_t>(std::get<0>(limit)));
    std::string out = "{\"exchange\":" + json_string(q.exchange) + ",\"symbol\":" + json_string(q.symbol) +
                      ",\"interval\":" + json_string(q.interval) + ",\"indicator\":" + json_string(name) +
                      ",\"period\":" + std::to_string(n) + ",\"values\":[";
    bool first = true;
    for (const auto& pt : pts) {
      if (!first)
        out += ',';
      first = false;
      out += "{\"open_time_ms\":" + std::to_string(pt.open_time_ms) + ",\"value\":" + json_string(pt.value) + "}";
    }
    return http_response{200, out + "]}", "application/json", {}};
  }

  /// GET /api/v1/documents?q=&symbol=&source=&kind=&start=&end=&cursor=&limit= (docs/api.md "Documents").
  http_response documents(const params& p) {
    if (auto e = only(p, {"q", "symbol", "source", "kind", "start", "end", "cursor", "limit"}))
      return e->response;
    document_query q;
    if (auto it = p.find("q"); it != p.end()) {
      if (it->second.empty() || it->second.size() > 200)
        return bad_param("parameter 'q': 1 to 200 characters of search text");
      q.q = it->second;
    }
    if (auto it = p.find("symbol"); it != p.end()) {
      const auto& s = it->second;
      const bool ok = !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_';
      });
      if (!ok)
        return bad_param("parameter 'symbol': '" + s.substr(0, 40) + "' is not a symbol (AAPL, BRK.B, 600000.SH)");
      q.symbol = s;
    }
    if (auto it = p.find("source"); it != p.end()) {
      if (!mi::find_document_source(it->second))
        return bad_param("parameter 'source': unknown source '" + it->second.substr(0, 40) +
                         "' (known: " + mi::document_source_names_joined() + ")");
      q.source = it->second;
    }
    if (auto it = p.find("kind"); it != p.end()) {
      q.kind = mi::parse_document_kind(it->second);
      if (!q.kind)
        return bad_param("parameter 'kind': unknown kind '" + it->second.substr(0, 40) +
                         "' (known: filing, news, announcement, social)");
    }
    auto range = time_range(p);
    if (failed(range))
      return std::get<1>(range).response;
    q.start_ms = std::get<0>(range).first;
    q.end_ms = std::get<0>(range).second;
    auto limit = int_param(p, "limit", 1, 500);
    if (failed(limit))
      return std::get<1>(limit).response;
    q.limit = static_cast<int>(std::get<0>(limit).value_or(50));
    if (auto it = p.find("cursor"); it != p.end()) {
      auto cur = decode_document_cursor(it->second);
      if (!cur)
        return bad_param("parameter " + cur.err().message);
      q.after = *cur;
    }
    auto page = read([&](history_db& db) { return db.documents(q); });
    if (!page)
      return db_failure(page.err());
    std::string out = "{\"documents\":[";
    bool first = true;
    for (const auto& d : page->documents) {
      if (!first)
        out += ',';
      first = false;
      out += mi::document_to_json(d);
    }
    out += "],\"next\":" + (page->next ? json_string(encode_document_cursor(*page->next)) : std::string("null")) + "}";
    return http_response{200, out, "application/json", {}};
  }

  http_response health() {
    const bool up = database_up();
    return http_response{up ? 200 : 503,
                         std::string("{\"status\":\"") + (up ? "ok" : "degraded") + "\",\"database\":\"" +
                           (up ? "up" : "down") + "\"}",
                         "application/json",
                         {}};
  }

  http_response dispatch(const http_request& req) {
    auto r = std::find_if(routes.begin(), routes.end(), [&](const route& x) { return x.path == req.path; });
    if (r == routes.end())
      return error_response(404, code_unknown, "no such endpoint: " + req.path.substr(0, 100));
    if (req.method != "GET") {
      auto resp = error_response(405, code_unknown,
                                 "method " + req.method.substr(0, 20) + " not allowed on " + req.path + " (use GET)");
      resp.headers.emplace_back("Allow", "GET");
      return resp;
    }
    auto qp = auth::parse_query(req.query);
    if (!qp)
      return bad_param(qp.err().message);
    params p;
    for (const auto& x : *qp)
      if (!p.emplace(x.name, x.value).second)
        return bad_param("parameter '" + x.name.substr(0, 40) + "' sent twice");
    if (r->authenticated && opts.auth_required)
      if (auto refused = authenticate(req, *qp))
        return *refused;
    if (r->path == "/api/v1/klines")
      return klines(p);
    if (r->path == "/api/v1/trades")
      return trades(p);
    if (r->path == "/api/v1/book")
      return book(p);
    if (r->path == "/api/v1/quotes")
      return quotes(p);
    if (r->path == "/api/v1/daily_bars")
      return daily_bars(p);
    if (r->path == "/api/v1/quality")
      return quality(p);
    if (r->path == "/api/v1/bbo")
      return bbo(p);
    if (r->path == "/api/v1/derivatives")
      return derivatives(p);
    if (r->path == "/api/v1/documents")
      return documents(p);
    if (r->path == "/api/v1/symbols")
      return symbols(p);
    if (r->path == "/api/v1/indicators")
      return indicators(p);
    if (r->path == "/api/v1/coverage")
      return coverage(p);
    if (r->path == "/api/v1/calendar") {
      static const mi::calendar::calendar_set crypto_only;
      const auto snapshot = opts.calendars ? opts.calendars->current() : nullptr; // held while answering
      return calendar_response(snapshot ? *snapshot : crypto_only, p);
    }
    return health();
  }
};

api_service::api_service(api_options o) : impl_(std::make_unique<impl>(std::move(o))) {}
api_service::~api_service() = default;

http_response api_service::handle(const http_request& req) {
  const auto t0 = std::chrono::steady_clock::now();
  http_response resp;
  try {
    resp = impl_->dispatch(req);
  } catch (const std::exception& e) { // a bug, or out of memory: answer, and tell the operator
    if (impl_->opts.on_error)
      impl_->opts.on_error(std::string("internal error on ") + req.path + ": " + e.what());
    resp = error_response(500, code_internal, "internal error");
  }
  if (impl_->opts.on_request) {
    const bool known = std::any_of(routes.begin(), routes.end(), [&](const route& r) { return r.path == req.path; });
    impl_->opts.on_request(known ? std::string_view(req.path) : std::string_view("other"), resp.status,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return resp;
}

std::optional<http_response> api_service::handle_inline(const http_request& req) {
  if (req.path != "/api/v1/health" || req.method != "GET")
    return std::nullopt;
  const auto t0 = std::chrono::steady_clock::now();
  // Same rules as the worker path (parameters are checked), without any blocking call.
  auto resp = impl_->dispatch(req);
  if (impl_->opts.on_request)
    impl_->opts.on_request(req.path, resp.status,
                           std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  return resp;
}

bool api_service::database_up() const { return impl_->database_up(); }

http_response api_service::check_push_token(std::string_view target) {
  const http_response accepted{200, "", "application/json", {}};
  if (!impl_->opts.auth_required)
    return accepted;
  auto q = target.find('?');
  std::string_view path = target.substr(0, q);
  std::string_view query = q == std::string_view::npos ? std::string_view{} : target.substr(q + 1);
  auto qp = auth::parse_query(query);
  if (!qp)
    return bad_param(qp.err().message);
  auth::credentials c;
  for (const auto& x : *qp) {
    if (x.name == "key")
      c.key_id = x.value;
    else if (x.name == "ts")
      c.timestamp = x.value;
    else if (x.name == "nonce")
      c.nonce = x.value;
    else if (x.name == "sig")
      c.signature = x.value;
  }
  auto refused = impl_->verify(c, "GET", path, auth::canonical_query(*qp, {"key", "ts", "nonce", "sig"}));
  return refused ? *refused : accepted;
}

std::vector<std::string> api_routes() {
  std::vector<std::string> out;
  for (const auto& r : routes)
    out.emplace_back(r.path);
  return out;
}

std::vector<std::string> api_auth_reasons() {
  std::vector<std::string> out;
  for (auto r = static_cast<int>(auth::reject::missing_credentials);
       r <= static_cast<int>(auth::reject::nonce_store_unavailable); ++r)
    out.emplace_back(auth::reason_label(static_cast<auth::reject>(r)));
  out.emplace_back("unusable_key");
  return out;
}

} // namespace mi::gw
