#include "actors/cn.hpp"

#include <spdlog/spdlog.h>

#include <map>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/cn/eastmoney.hpp"
#include "connectors/cn/minute_bars.hpp"
#include "connectors/cn/quote_tracker.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/sync_publish.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/equity_store.hpp"
#include "market.pb.h"
#include "messages/codec.hpp"
#include "messages/kline.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

namespace docs = mi::documents;
using mi::util::now_ns;

// A quote publish: three quick attempts; a quote lost to a longer outage is replaced by the next poll's.
constexpr mi::gw::retry_policy quote_publish{std::chrono::milliseconds(50), std::chrono::milliseconds(1000), 3};

std::vector<std::string> outcome_names() {
  std::vector<std::string> out;
  for (auto o : docs::all_request_outcomes)
    out.emplace_back(docs::to_string(o));
  return out;
}

/// The sleep before the next tick: at most a second at a time, so stop is never kept waiting longer.
template <class Self>
void schedule(Self* self, std::int64_t wait_ns) {
  const auto capped = std::min<std::chrono::nanoseconds>(std::chrono::nanoseconds(wait_ns), std::chrono::seconds(1));
  if (capped.count() <= 0)
    self->send(self, tick_atom::value);
  else
    self->delayed_send(self, std::chrono::ceil<std::chrono::milliseconds>(capped), tick_atom::value);
}

/// GET `url` with `headers`; the status, body and Retry-After, or a network error.
struct fetched {
  std::optional<int> status;
  std::string body;
  std::string retry_after;
  std::string error;
};
fetched get(const std::string& url, std::chrono::milliseconds timeout,
            const std::vector<std::pair<std::string, std::string>>& headers) {
  fetched f;
  auto u = mi::net::parse_url(url);
  if (!u) {
    f.error = u.err().message;
    return f;
  }
  auto r = mi::net::http_fetch(*u, timeout, headers);
  if (!r) {
    f.error = r.err().message;
    return f;
  }
  f.status = static_cast<int>(r->status);
  f.body = std::move(r->body);
  f.retry_after = std::string(r->header("retry-after"));
  return f;
}

struct quotes_state {
  static inline const char* name = "mi.cn_quotes";
  cn_quotes_args args;
  std::unique_ptr<mi::cn::quote_poller> poller;
  mi::cn::quote_tracker tracker;
  std::map<std::string, mi::cn::minute_bars, std::less<>> minutes; ///< by market (XSHG, XSHE)
  mi::gw::source_probe* probe[2] = {nullptr, nullptr};             ///< by quote_source
  std::string last_idle;
};
using quotes_actor = caf::stateful_actor<quotes_state>;

// Minute bars derived from the snapshots (connectors/cn/minute_bars): published as final 1m klines on
// market.kline.cn.{600000_SH}.1m (MARKET_KLINE, dedup id as every kline's); a gap (a minute whose previous one had no
// poll) is logged, never filled.
void publish_minutes(quotes_actor* self, const mi::cn::minute_output& o) {
  for (const auto& g : o.gaps)
    spdlog::warn("cn: {} minute bars {} .. {} missing (a minute without a poll before them): a gap, no bars",
                 mi::cn::to_string(g.sym), mi::util::iso8601_ms(g.from_ns / 1'000'000),
                 mi::util::iso8601_ms(g.to_ns / 1'000'000));
  for (const auto& b : o.bars) {
    const auto k = mi::cn::to_kline(b);
    mi::gw::outgoing m{mi::kline_subject(k), mi::dedup_id(k), std::string(mi::kline_content_type),
                       mi::encode_kline_pb(k)};
    m.event_ts_ns = b.open_time_ns;
    if (auto r = mi::gw::publish_acked(*self->state.args.js, m, quote_publish); !r)
      spdlog::warn("cn: publish {}: {}", m.msg_id, r.err().message);
  }
}

void feed_minutes(quotes_actor* self, const mi::cn::snapshot& q) {
  auto& st = self->state;
  const auto market = mi::cn::market_of(q.sym);
  auto it = st.minutes.find(market);
  if (it == st.minutes.end()) {
    const auto* cal = st.args.calendars ? st.args.calendars->find(market) : nullptr;
    if (cal == nullptr)
      return; // no calendar: no sessions to put minutes in (logged at start)
    it = st.minutes.emplace(std::string(market), mi::cn::minute_bars(cal)).first;
  }
  publish_minutes(self, it->second.on_snapshot(q));
}

void flush_minutes(quotes_actor* self) {
  for (auto& [market, mb] : self->state.minutes)
    publish_minutes(self, mb.flush());
}

std::int64_t poll_step(quotes_actor* self) {
  auto& st = self->state;
  auto next = st.poller->next(now_ns());
  if (auto* wait = std::get_if<std::int64_t>(&next)) {
    if (st.poller->idle_reason() != st.last_idle) {
      st.last_idle = st.poller->idle_reason();
      if (!st.last_idle.empty())
        flush_minutes(self); // the session is over: its last minute is final
      if (!st.last_idle.empty())
        spdlog::info("cn: not polling: {}", st.last_idle);
      inspect_state(self, st.last_idle.empty() ? "polling" : st.last_idle);
    }
    return std::max<std::int64_t>(*wait, 1'000'000);
  }
  const auto& req = std::get<mi::cn::poll_request>(next);
  const auto source = std::string(mi::cn::to_string(req.source));
  const auto timeout = req.source == mi::cn::quote_source::tencent ? st.args.tencent_timeout : st.args.sina_timeout;
  auto f = get(req.url, timeout, req.headers);
  auto step =
    st.poller->on_response(req, f.status, f.body, f.retry_after, f.error, mi::cn::text_encoding::gbk, now_ns());
  auto* probe = st.probe[static_cast<int>(req.source)];
  probe->request(static_cast<std::size_t>(step.outcome));
  for (auto s : mi::cn::all_quote_sources)
    st.probe[static_cast<int>(s)]->circuit(static_cast<int>(st.poller->state(s)));
  if (!step.error.empty()) {
    spdlog::warn("cn: {} {} symbols{}: {} (circuit {}){}", source, req.batch.size(), req.failover ? " (failover)" : "",
                 step.error, docs::to_string(st.poller->state(req.source)),
                 step.retry_elsewhere ? ", asking the other source" : "");
    inspect_error(self, source + ": " + step.error);
  }
  for (const auto& e : step.rejected)
    spdlog::warn("cn: {}: rejected: {}", source, e.message);
  if (step.batch_lost) {
    probe->gap();
    spdlog::warn("cn: both sources failed a batch of {} symbols: this cycle has no quotes for them", req.batch.size());
  }
  std::uint64_t published = 0;
  for (const auto& q : step.quotes) {
    feed_minutes(self, q); // every polled snapshot: a quiet minute's poll proves it had no trades
    if (!st.tracker.admit(q))
      continue;
    mi::gw::outgoing m;
    m.subject = mi::cn::quote_subject(q.sym);
    m.msg_id = mi::cn::quote_dedup_id(q);
    m.content_type = std::string(mi::cn::quote_content_type);
    m.data = mi::cn::quote_payload(q);
    m.event_ts_ns = q.ts_ns;
    if (auto r = mi::gw::publish_acked(*st.args.js, m, quote_publish); r)
      ++published;
    else
      spdlog::warn("cn: publish {}: {}", m.msg_id, r.err().message);
  }
  probe->published(published);
  return 0;
}

caf::behavior cn_quotes(quotes_actor* self, cn_quotes_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.poller = std::make_unique<mi::cn::quote_poller>(st.args.settings, st.args.calendars.get(), st.args.seed, now_ns());
  for (auto s : mi::cn::all_quote_sources) {
    st.probe[static_cast<int>(s)] =
      &st.args.metrics->source("cn." + std::string(mi::cn::to_string(s)), outcome_names());
    st.probe[static_cast<int>(s)]->circuit(0);
  }
  self->send(self, tick_atom::value);
  caf::behavior handlers{
    [self](tick_atom) { schedule(self, poll_step(self)); },
    // No flush at a stop: the open minute is incomplete (after a restart its minutes are a gap, never a guess).
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "cn_quotes", "cn", std::move(handlers));
}

struct bars_state {
  static inline const char* name = "mi.cn_daily_bars";
  cn_daily_bars_args args;
  std::unique_ptr<mi::gw::equity_writer> writer;
  std::unique_ptr<mi::documents::token_bucket> bucket;
  std::unique_ptr<mi::documents::circuit_breaker> breaker;
  mi::gw::source_probe* probe = nullptr;
  std::int64_t next_fetch_ns = 0; ///< 0: now
  std::size_t cursor = 0;         ///< the next (symbol, adjustment) of the running fetch; npos-like when idle
  bool running = false;
};
using bars_actor = caf::stateful_actor<bars_state>;

constexpr mi::cn::fq adjustments[] = {mi::cn::fq::forward, mi::cn::fq::backward};

market::v1::Adjustment to_pb(mi::cn::fq a) {
  switch (a) {
  case mi::cn::fq::none:
    return market::v1::ADJUSTMENT_NONE;
  case mi::cn::fq::forward:
    return market::v1::ADJUSTMENT_FORWARD;
  case mi::cn::fq::backward:
    return market::v1::ADJUSTMENT_BACKWARD;
  }
  return market::v1::ADJUSTMENT_UNSPECIFIED;
}

/// The next XSHG close + `after` strictly after `now` (one day ahead if the calendar cannot say).
std::int64_t next_fetch(const bars_state& st, std::int64_t now) {
  const auto* cal = st.args.calendars ? st.args.calendars->find("XSHG") : nullptr;
  if (cal) {
    const auto today = cal->local_day_of(now);
    for (auto d = today; d < today + 15; ++d) {
      auto s = cal->session_on_day(d);
      if (!s)
        break;
      if (*s && (*s)->close_ns + st.args.after_close_ns > now)
        return (*s)->close_ns + st.args.after_close_ns;
    }
  }
  return now + mi::util::ns_per_day;
}

std::int64_t bars_step(bars_actor* self) {
  auto& st = self->state;
  const auto now = now_ns();
  if (!st.running) {
    if (now < st.next_fetch_ns)
      return st.next_fetch_ns - now;
    st.running = true;
    st.cursor = 0;
  }
  const std::size_t total = st.args.symbols.size() * std::size(adjustments);
  if (st.cursor >= total) {
    st.running = false;
    st.next_fetch_ns = next_fetch(st, now);
    spdlog::info("cn: daily bars fetched; next fetch in {} s", (st.next_fetch_ns - now) / 1'000'000'000);
    return 0;
  }
  if (st.breaker->state() == docs::circuit_state::open && now < st.breaker->reopens_at_ns())
    return st.breaker->reopens_at_ns() - now;
  if (auto w = st.bucket->acquire(now); w > 0)
    return w;
  (void)st.breaker->allow(now);
  const auto& sym = st.args.symbols[st.cursor / std::size(adjustments)];
  const auto adj = adjustments[st.cursor % std::size(adjustments)];
  // From `days` trading days back (twice as many calendar days covers weekends and holidays) to today.
  const auto from = mi::util::civil_time_of(now - 2LL * st.args.days * mi::util::ns_per_day).date;
  const auto to = mi::util::civil_time_of(now + mi::util::ns_per_day).date;
  auto ymd = [](const mi::util::civil_date& d) {
    auto t = mi::util::date_text(d);
    return t.substr(0, 4) + t.substr(5, 2) + t.substr(8, 2);
  };
  const std::string url = st.args.eastmoney.url + mi::cn::eastmoney_target(sym, adj, ymd(from), ymd(to));
  auto f = get(url, st.args.timeout, {});
  auto outcome = f.status ? docs::outcome_of_status(*f.status) : docs::request_outcome::network_error;
  std::string why = f.status ? "HTTP " + std::to_string(*f.status) : f.error;
  std::vector<market::v1::DailyBar> rows;
  if (outcome == docs::request_outcome::ok) {
    auto bars = mi::cn::parse_eastmoney_klines(f.body, adj);
    if (!bars) {
      outcome = docs::request_outcome::bad_body;
      why = bars.err().message;
    } else {
      for (const auto& b : *bars) {
        market::v1::DailyBar r;
        r.set_venue(std::string(mi::cn::venue_name));
        r.set_symbol(b.symbol);
        r.set_market(b.market);
        r.set_trading_day(b.trading_day);
        r.set_source("eastmoney");
        r.set_adjustment(to_pb(b.adjustment));
        r.set_open(b.open.to_string());
        r.set_high(b.high.to_string());
        r.set_low(b.low.to_string());
        r.set_close(b.close.to_string());
        r.set_volume(b.volume.to_string());
        r.set_turnover(b.turnover.to_string());
        r.set_trade_count(-1);
        r.set_fetched_at_ns(now);
        rows.push_back(std::move(r));
      }
    }
  }
  st.probe->request(static_cast<std::size_t>(outcome));
  if (outcome != docs::request_outcome::ok) {
    if (docs::is_failure(outcome))
      st.breaker->on_failure(now);
    st.probe->circuit(static_cast<int>(st.breaker->state()));
    spdlog::warn("cn: eastmoney {} {}: {} (circuit {})", mi::cn::to_string(sym), mi::cn::to_string(adj), why,
                 docs::to_string(st.breaker->state()));
    inspect_error(self, "eastmoney: " + why);
    if (st.breaker->state() == docs::circuit_state::open)
      return 0;  // the same request after the circuit's wait
    ++st.cursor; // a client error or a bad body: the next fetch asks again
    return 0;
  }
  st.breaker->on_success();
  st.probe->circuit(0);
  if (!st.writer)
    st.writer = std::make_unique<mi::gw::equity_writer>(st.args.dsn);
  auto w = st.writer->write({}, rows);
  if (!w) {
    spdlog::warn("cn: daily bars of {}: {}; retrying", mi::cn::to_string(sym), w.err().message);
    inspect_error(self, w.err().message);
    return 2'000'000'000; // the database is down: the same request again later
  }
  st.probe->published(*w);
  ++st.cursor;
  return 0;
}

caf::behavior cn_daily_bars(bars_actor* self, cn_daily_bars_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.bucket =
    std::make_unique<mi::documents::token_bucket>(st.args.eastmoney.requests_per_second, st.args.eastmoney.burst);
  st.breaker = std::make_unique<mi::documents::circuit_breaker>(st.args.eastmoney.failure_threshold,
                                                                st.args.eastmoney.open_for_ns);
  st.probe = &st.args.metrics->source("cn.eastmoney", outcome_names());
  st.probe->circuit(0);
  self->send(self, tick_atom::value);
  caf::behavior handlers{
    [self](tick_atom) { schedule(self, bars_step(self)); },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "cn_daily_bars", "cn", std::move(handlers));
}

} // namespace

caf::actor spawn_cn_quotes(caf::actor_system& sys, cn_quotes_args args) {
  return sys.spawn<caf::detached>(cn_quotes, std::move(args));
}

caf::actor spawn_cn_daily_bars(caf::actor_system& sys, cn_daily_bars_args args) {
  return sys.spawn<caf::detached>(cn_daily_bars, std::move(args));
}

} // namespace mi::actors
