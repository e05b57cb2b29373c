#include "actors/alpaca_daily.hpp"

#include <algorithm>
#include <thread>

#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/alpaca/codec.hpp"
#include "connectors/alpaca/daily_job.hpp"
#include "connectors/alpaca/rest.hpp"
#include "connectors/documents/source_schedule.hpp"
#include "connectors/venue/shared_throttle.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/equity_store.hpp"
#include "gateways/postgres/quality_store.hpp"
#include "market.pb.h"
#include "messages/util/civil_time.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

using mi::util::now_ns;

constexpr std::string_view venue = "alpaca";
constexpr std::string_view market = "XNYS";
constexpr const char* report_subject = "market.quality.alpaca";
constexpr std::int64_t default_retry_after_ns = 60'000'000'000;

std::string date_of(std::int64_t day) { return mi::util::date_text(mi::util::civil_from_days(day)); }

std::string excerpt(std::string_view body) {
  std::string out(body.substr(0, 200));
  std::replace(out.begin(), out.end(), '\n', ' ');
  return out;
}

} // namespace

struct alpaca_daily_runner::impl {
  alpaca_daily_args args;
  std::vector<std::string> tickers;  ///< as configured, for the requests
  std::vector<std::string> universe; ///< the platform's symbols
  std::unique_ptr<mi::gw::equity_writer> bars;
  std::unique_ptr<mi::gw::quality_store> quality;
  std::shared_ptr<mi::venue::shared_rest_throttle> throttle; ///< shared with the venue's trade backfill
  bool throttled = false;                                    ///< the last request was answered 429
  mi::gw::source_probe* probe = nullptr; ///< mi_source_requests_total{source="alpaca.daily",outcome}; null: none

  void count(mi::documents::request_outcome o) {
    if (probe != nullptr)
      probe->request(static_cast<std::size_t>(o));
  }

  /// GET one page, paced; the body or an error (429: the shared throttle holds until its Retry-After). Counted by
  /// outcome, except a 200 (counted ok or bad_body once parsed).
  mi::result<std::string> get(const std::string& target) {
    throttled = false;
    const auto shown = excerpt(target); // up to 200 tickers: the log line names the start of the target
    for (auto wait = throttle->acquire(now_ns()); wait > 0; wait = throttle->acquire(now_ns()))
      std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
    auto u = mi::net::parse_url(args.rest_url + target);
    if (!u)
      return mi::error{"bad rest_url: " + u.err().message};
    const mi::net::request_headers headers{{"APCA-API-KEY-ID", args.key_id}, {"APCA-API-SECRET-KEY", args.secret_key}};
    auto r = mi::net::http_fetch(*u, args.timeout, headers);
    if (!r) {
      count(mi::documents::request_outcome::network_error);
      return mi::error{"GET " + shown + ": " + r.err().message};
    }
    if (r->status != 200)
      count(mi::documents::outcome_of_status(static_cast<int>(r->status)));
    throttled = throttle->on_answer(now_ns(), r->status, r->header("retry-after"), {}) ==
                mi::venue::rest_throttle::outcome::throttled;
    if (throttled)
      return mi::error{"GET " + shown + ": HTTP " + std::to_string(r->status) + " (over the rate limit; waiting " +
                       std::to_string(throttle->wait_ns(now_ns()) / 1'000'000'000) + " s)"};
    if (r->status != 200)
      return mi::error{"GET " + shown + ": HTTP " + std::to_string(r->status) + ": " + excerpt(r->body)};
    return std::move(r->body);
  }
};

alpaca_daily_runner::alpaca_daily_runner(alpaca_daily_args args) : impl_(std::make_unique<impl>()) {
  impl_->args = std::move(args);
  for (const auto& t : impl_->args.symbols)
    if (auto sym = mi::alpaca::normalize_symbol(t)) {
      impl_->tickers.push_back(t);
      impl_->universe.push_back(*sym);
    }
  impl_->bars = std::make_unique<mi::gw::equity_writer>(impl_->args.dsn);
  impl_->quality = std::make_unique<mi::gw::quality_store>(impl_->args.dsn);
  mi::venue::rest_limits limits; // as the venue's (connectors/alpaca/venue.cpp) with rest_requests_per_minute
  limits.min_interval_ns = impl_->args.min_interval_ns;
  limits.default_retry_after_ns = default_retry_after_ns;
  impl_->throttle = mi::venue::shared_rest_throttle::of(venue, limits);
  if (impl_->args.metrics != nullptr) {
    std::vector<std::string> outcomes;
    for (auto o : mi::documents::all_request_outcomes)
      outcomes.emplace_back(mi::documents::to_string(o));
    impl_->probe = &impl_->args.metrics->source("alpaca.daily", outcomes);
  }
}

alpaca_daily_runner::~alpaca_daily_runner() = default;

std::int64_t alpaca_daily_runner::request_wait_ns() const { return impl_->throttle->wait_ns(now_ns()); }

bool alpaca_daily_runner::throttled() const { return impl_->throttled; }

const alpaca_daily_args& alpaca_daily_runner::args() const { return impl_->args; }

mi::result<alpaca_day_outcome> alpaca_daily_runner::run_day(std::int64_t day, std::string_view run) {
  auto& st = *impl_;
  const auto calendars = st.args.calendars ? st.args.calendars->current() : nullptr; // held while used
  const auto* xnys = calendars ? calendars->find(std::string(market)) : nullptr;
  if (xnys == nullptr)
    return mi::error{"no XNYS calendar (calendars.dir)"};
  auto session = xnys->session_on_day(day);
  if (!session)
    return session.err();
  if (!*session)
    return mi::error{date_of(day) + " is not an XNYS trading day"};
  alpaca_day_outcome out;
  // 1. Alpaca's bars of the day, every page of every group of tickers.
  std::vector<mi::alpaca::bar> bars;
  for (std::size_t i = 0; i < st.tickers.size(); i += mi::alpaca::daily_bars_tickers_per_request) {
    const auto end = std::min(st.tickers.size(), i + mi::alpaca::daily_bars_tickers_per_request);
    const std::vector<std::string> group(st.tickers.begin() + static_cast<std::ptrdiff_t>(i),
                                         st.tickers.begin() + static_cast<std::ptrdiff_t>(end));
    std::string token;
    do {
      auto body = st.get(mi::alpaca::daily_bars_target(group, day, st.args.feed, token));
      ++out.requests;
      if (!body)
        return body.err();
      auto page = mi::alpaca::parse_bars_page(*body, true);
      st.count(page ? mi::documents::request_outcome::ok : mi::documents::request_outcome::bad_body);
      if (!page)
        return mi::error{"bars of " + date_of(day) + ": " + page.err().message};
      for (auto& b : page->bars)
        bars.push_back(std::move(b));
      token = page->next_page_token.value_or("");
    } while (!token.empty());
  }
  // 2. Stored beside ours (a bar fetched again with other values revises the row).
  const auto fetched = now_ns();
  const auto day_text = date_of(day);
  std::vector<market::v1::DailyBar> rows;
  for (const auto& b : bars) {
    if (std::find(st.universe.begin(), st.universe.end(), b.symbol) == st.universe.end())
      continue; // not asked for
    market::v1::DailyBar r;
    r.set_venue(std::string(venue));
    r.set_symbol(b.symbol);
    r.set_market(std::string(market));
    r.set_trading_day(day_text);
    r.set_source(std::string(venue));
    r.set_adjustment(market::v1::ADJUSTMENT_NONE);
    r.set_open(b.open.to_string());
    r.set_high(b.high.to_string());
    r.set_low(b.low.to_string());
    r.set_close(b.close.to_string());
    r.set_volume(b.volume.to_string());
    if (b.vwap)
      r.set_vwap(b.vwap->to_string());
    r.set_trade_count(b.trade_count);
    r.set_fetched_at_ns(fetched);
    rows.push_back(std::move(r));
  }
  out.bars = rows.size();
  if (auto w = st.bars->write({}, rows); !w)
    return w.err();
  // 3. Our 1d klines of the trading day (the window opens at the session's open), compared field by field.
  auto ours = st.quality->daily_klines(std::string(venue), st.universe, (*session)->open_ns / 1'000'000);
  if (!ours)
    return ours.err();
  const auto cmp = mi::alpaca::compare_day(st.universe, bars, *ours);
  std::vector<mi::gw::quality_row> quality;
  for (const auto& s : cmp.symbols) {
    mi::gw::quality_row q;
    q.venue = std::string(venue);
    q.symbol = s.symbol;
    q.market = std::string(market);
    q.trading_day = day_text;
    q.source = std::string(venue);
    q.mismatches = static_cast<int>(s.differences.size());
    q.differences_json = mi::alpaca::differences_json(s.differences);
    q.checked_at_ns = fetched;
    quality.push_back(std::move(q));
  }
  if (auto w = st.quality->write(quality); !w)
    return w.err();
  // 4. The report (core NATS: the table is the record) and the counter.
  out.symbols = cmp.symbols.size();
  out.mismatched = cmp.mismatched();
  out.report = mi::alpaca::day_report_json(day, run, cmp);
  if (st.args.js != nullptr)
    if (auto p = st.args.js->publish_core(report_subject, out.report); !p)
      spdlog::warn("alpaca daily: {} report not published: {}", day_text, p.err().message);
  if (st.args.metrics != nullptr)
    for (const auto& s : cmp.symbols)
      for (const auto& d : s.differences)
        st.args.metrics->daily_mismatches(venue, d.field).counted();
  return out;
}

namespace {

struct daily_state {
  static inline const char* name = "mi.alpaca_daily";
  std::unique_ptr<alpaca_daily_runner> runner;
  std::optional<mi::alpaca::daily_progress> progress; ///< nullopt until read from KV
  std::string last_state;
};
using daily_actor = caf::stateful_actor<daily_state>;

constexpr std::int64_t retry_ns = 30'000'000'000;

template <class Self>
void schedule(Self* self, std::int64_t wait_ns) {
  const auto capped = std::min<std::chrono::nanoseconds>(std::chrono::nanoseconds(wait_ns), std::chrono::seconds(1));
  if (capped.count() <= 0)
    self->send(self, tick_atom::value);
  else
    self->delayed_send(self, std::chrono::ceil<std::chrono::milliseconds>(capped), tick_atom::value);
}

void set_state(daily_actor* self, std::string text) {
  auto& st = self->state;
  if (text == st.last_state)
    return;
  spdlog::info("alpaca daily: {}", text);
  inspect_state(self, text);
  st.last_state = std::move(text);
}

std::int64_t step(daily_actor* self) {
  auto& st = self->state;
  const auto& args = st.runner->args();
  const auto now = now_ns();
  if (!st.progress) {
    auto got = args.js->kv_ensure(alpaca_daily_bucket);
    auto value =
      got ? args.js->kv_get(alpaca_daily_bucket, alpaca_daily_key) : mi::result<std::optional<std::string>>(got.err());
    if (!value) {
      spdlog::warn("alpaca daily: progress not readable ({}); retrying", value.err().message);
      inspect_error(self, value.err().message);
      return 5'000'000'000;
    }
    if (!*value) {
      st.progress = mi::alpaca::daily_progress{};
    } else if (auto p = mi::alpaca::daily_progress::decode(**value)) {
      st.progress = *p;
    } else {
      spdlog::error("alpaca daily: {}: starting over", p.err().message);
      st.progress = mi::alpaca::daily_progress{};
    }
    spdlog::info("alpaca daily: progress {}", st.progress->encode());
  }
  if (const auto wait = st.runner->request_wait_ns(); wait > 0)
    return wait;
  const auto calendars = args.calendars ? args.calendars->current() : nullptr; // held while used
  const auto* xnys = calendars ? calendars->find("XNYS") : nullptr;
  if (xnys == nullptr) {
    set_state(self, "no XNYS calendar: idle");
    return mi::util::ns_per_day;
  }
  const auto s = mi::alpaca::next_step(*xnys, args.at_minutes, args.backfill_days, *st.progress, now);
  using kind = mi::alpaca::daily_step::kind;
  if (s.what == kind::wait) {
    if (s.until_ns == 0) {
      set_state(self, "the XNYS calendar has no trading day left: idle (refresh calendars)");
      return mi::util::ns_per_day;
    }
    set_state(self, "waiting for " + mi::util::rfc3339(s.until_ns));
    return s.until_ns - now;
  }
  const char* run = s.what == kind::live ? "live" : "backfill";
  set_state(self, std::string(run) + " " + date_of(s.day));
  auto r = st.runner->run_day(s.day, run);
  if (!r) {
    spdlog::warn("alpaca daily: {} {}: {}; again later", run, date_of(s.day), r.err().message);
    inspect_error(self, r.err().message);
    // Over the rate limit: again once the Retry-After has passed; any other failure: after 30 s.
    return st.runner->throttled() ? st.runner->request_wait_ns() : std::max(retry_ns, st.runner->request_wait_ns());
  }
  st.progress = mi::alpaca::progress_after(*xnys, *st.progress, s);
  if (auto p = args.js->kv_put(alpaca_daily_bucket, alpaca_daily_key, st.progress->encode()); !p)
    spdlog::warn("alpaca daily: progress not stored ({}): a restart fetches {} again", p.err().message, date_of(s.day));
  spdlog::info("alpaca daily: {} {}: {} bars in {} requests, {} symbols compared, {} with differences", run,
               date_of(s.day), r->bars, r->requests, r->symbols, r->mismatched);
  return 0;
}

caf::behavior alpaca_daily(daily_actor* self, alpaca_daily_args args) {
  auto& st = self->state;
  if (args.metrics != nullptr)
    for (auto f : mi::alpaca::difference_fields)
      args.metrics->daily_mismatches(venue, f);
  st.runner = std::make_unique<alpaca_daily_runner>(std::move(args));
  self->send(self, tick_atom::value);
  caf::behavior handlers{
    [self](tick_atom) { schedule(self, step(self)); },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "alpaca_daily", "alpaca", std::move(handlers));
}

} // namespace

caf::actor spawn_alpaca_daily(caf::actor_system& sys, alpaca_daily_args args) {
  return sys.spawn<caf::detached>(alpaca_daily, std::move(args));
}

} // namespace mi::actors
