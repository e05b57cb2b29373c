#include "actors/backfill.hpp"
#include "actors/inspection.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>
#include <thread>
#include <spdlog/spdlog.h>

#include "actors/backfill_job.hpp"
#include "actors/caf_types.hpp"
#include "actors/publisher.hpp"
#include "actors/quarantine.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/json_text.hpp"
#include "connectors/venue/rest_throttle.hpp"
#include "connectors/venue/shared_throttle.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/clock.hpp"

namespace mi::actors {
namespace {

using mi::util::now_ns;

struct job {
  bool recent = false;
  bool book = false;               // a REST order-book snapshot (Binance /api/v3/depth) for reply_to
  std::string book_target;         // its path and query
  bool by_time = false;            // a time-range gap (venue::backfills_by_time): no ids to account for
  std::set<std::string> time_ids;  // by_time: trade ids handed out by this job (pages may overlap)
  std::int64_t time_published = 0; // by_time: trades published
  caf::actor reply_to;             // recent: the connection that asked (it filters and publishes)
  std::string symbol;
  backfill_job progress; // the part of the gap fetched from REST: ids received, failures, give-up rule
  std::optional<mi::venue::rest_request> next;
  bool started = false;
};

struct backfill_state {
  static inline const char* name = "mi.backfill";
  backfill_args args;
  std::unique_ptr<mi::venue::venue> venue;
  std::deque<job> jobs;
  std::set<std::string> recent_queued;
  bool busy = false;      // a page is being fetched or published
  bool scheduled = false; // a page_atom is pending
  // The venue's REST limits and the answers' Retry-After, shared with the process's other users of the venue's REST
  // API (the Alpaca daily job).
  std::shared_ptr<mi::venue::shared_rest_throttle> throttle;
  std::unique_ptr<quarantine> gate; // trades that may not reach MARKET_RAW go to market.rejected
  // The exchange's counters, taken once at start.
  mi::gw::connection_probe* probe = nullptr;
};

using backfill_actor = caf::stateful_actor<backfill_state>;

const mi::venue::subscription* find_sub(const backfill_state& st, const std::string& symbol) {
  for (const auto& s : st.args.subs)
    if (s.symbol == symbol)
      return &s;
  return nullptr;
}

void schedule(backfill_actor* self, std::int64_t delay_ns = -1) {
  auto& st = self->state;
  if (st.scheduled || st.busy || st.jobs.empty())
    return;
  if (delay_ns < 0)
    delay_ns = st.throttle->wait_ns(now_ns());
  st.scheduled = true;
  self->delayed_send(self, std::chrono::nanoseconds(delay_ns), page_atom::value);
}

void publish(backfill_actor* self, outgoing_batch batch, std::function<void()> then) {
  auto& st = self->state;
  st.busy = true;
  self->request(st.args.publisher->get(), caf::infinite, pub_atom::value, std::move(batch))
    .then(
      [self, then = std::move(then)](bool) {
        self->state.busy = false;
        then();
        schedule(self);
      },
      [self](caf::error& err) { self->quit(err); });
}

void report(backfill_actor* self, const std::string& symbol, const mi::venue::gap& g, std::int64_t missing,
            const std::string& reason, outgoing_batch& out) {
  auto& st = self->state;
  st.probe->gap_unfilled(static_cast<std::uint64_t>(missing));
  spdlog::error("{}: {} trade ids {}..{}: {} trades lost ({}); reported on {}.{}.{}", st.args.exchange, symbol,
                g.first_id, g.last_id, missing, reason, st.args.gap_subject_prefix, st.args.exchange, symbol);
  out.push_back(mi::gw::outgoing{
    st.args.gap_subject_prefix + "." + st.args.exchange + "." + symbol,
    "gap:" + st.args.exchange + ":" + symbol + ":" + std::to_string(g.first_id) + ":" + std::to_string(g.last_id) +
      (g.first_id == 0 ? ":" + std::to_string(g.after_ts_ns) : ""),
    "application/json", gap_report_json(st.args.exchange, symbol, g, missing, reason, gap_outcome::unfillable)});
}

// The coverage record of a gap found (detected) or of the trades a backfill recovered (filled):
// market.gap.{detected,filled}.{exchange}.{symbol}, stored per hour by the store role (market_gaps, 0006).
void record(backfill_actor* self, gap_outcome outcome, const std::string& symbol, const mi::venue::gap& g,
            std::int64_t trades, outgoing_batch& out) {
  auto& st = self->state;
  const std::string kind = to_string(outcome);
  out.push_back(mi::gw::outgoing{
    st.args.gap_subject_prefix + "." + kind + "." + st.args.exchange + "." + symbol,
    "gap" + kind.substr(0, 1) + ":" + st.args.exchange + ":" + symbol + ":" + std::to_string(g.first_id) + ":" +
      std::to_string(g.last_id) + ":" + std::to_string(g.after_ts_ns),
    "application/json", gap_report_json(st.args.exchange, symbol, g, trades, "", outcome)});
}

// Reports what the job did not get, in contiguous ranges (at most max_reported_ranges, the rest in one).
void finish(backfill_actor* self, const std::string& reason) {
  auto& st = self->state;
  job j = std::move(st.jobs.front());
  st.jobs.pop_front();
  if (j.recent) {
    st.recent_queued.erase(j.symbol);
    schedule(self);
    return;
  }
  if (j.by_time) {
    const auto& g = j.progress.gap();
    spdlog::info("{}: {} backfill of {} .. {} done: {} trades recovered{}{}", st.args.exchange, j.symbol,
                 mi::util::rfc3339(g.after_ts_ns), mi::util::rfc3339(g.before_ts_ns), j.time_published,
                 reason.empty() ? "" : "; ", reason);
    outgoing_batch out;
    if (j.time_published > 0)
      record(self, gap_outcome::filled, j.symbol, g, j.time_published, out);
    if (!reason.empty())
      report(self, j.symbol, g, 0, reason, out);
    if (out.empty()) {
      schedule(self);
      return;
    }
    publish(self, std::move(out), [] {});
    return;
  }
  outgoing_batch out;
  if (j.progress.received() > 0)
    record(self, gap_outcome::filled, j.symbol, j.progress.gap(), static_cast<std::int64_t>(j.progress.received()),
           out);
  for (const auto& r : j.progress.missing_ranges())
    report(self, j.symbol, r.part, r.missing, reason, out);
  spdlog::info("{}: {} backfill of ids {}..{} done: {} of {} trades recovered", st.args.exchange, j.symbol,
               j.progress.gap().first_id, j.progress.gap().last_id, j.progress.received(), j.progress.size());
  if (out.empty()) {
    schedule(self);
    return;
  }
  publish(self, std::move(out), [] {});
}

// One REST GET within the venue's limits. `throttled` is set when the exchange answered 429 (or its ban
// status): the throttle then holds every request until the answer's Retry-After has passed, and the
// caller retries the same request then (a rate limit is not a failure of the job).
mi::result<std::string> get(backfill_actor* self, const mi::venue::rest_request& r, bool& throttled) {
  auto& st = self->state;
  throttled = false;
  // Check and count in one step: the caller waited for the throttle, but another user of the venue's REST budget
  // (the Alpaca daily job) may have taken the slot since; then the rest of its interval is waited here.
  for (auto wait = st.throttle->acquire(now_ns()); wait > 0; wait = st.throttle->acquire(now_ns()))
    std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  auto u = mi::net::parse_url(st.args.cfg.rest_url + r.target);
  if (!u)
    return mi::error{"bad REST URL " + st.args.cfg.rest_url + r.target + ": " + u.err().message};
  auto res = mi::net::http_fetch(*u, st.args.cfg.connect_timeout, r.headers);
  if (!res)
    return res.err();
  const auto& weight_header = st.throttle->limits().used_weight_header;
  const auto verdict = st.throttle->on_answer(now_ns(), res->status, res->header("retry-after"),
                                              weight_header.empty() ? std::string_view{} : res->header(weight_header));
  if (verdict == mi::venue::rest_throttle::outcome::throttled) {
    throttled = true;
    st.probe->backfill_throttled();
    const auto wait_ms = st.throttle->wait_ns(now_ns()) / 1'000'000;
    spdlog::warn("{}: REST answered HTTP {} (Retry-After: '{}'): no request for {} ms", st.args.exchange, res->status,
                 res->header("retry-after"), wait_ms);
    return mi::error{"HTTP " + std::to_string(res->status) + " (rate limited)"};
  }
  if (res->status < 200 || res->status > 299)
    return mi::error{"HTTP " + std::to_string(res->status) + " from " + u->host_and_target()};
  return std::move(res->body);
}

outgoing_batch encode(const std::string& exchange, std::vector<mi::trade>& trades, quarantine& gate) {
  outgoing_batch batch;
  batch.reserve(trades.size());
  const auto now = now_ns();
  for (auto& t : trades) {
    t.recv_ns = now;
    if (!mi::is_subject_token(t.symbol) || t.exchange != exchange)
      continue;
    auto q = gate.check(t, now); // quarantined: market.rejected, never MARKET_RAW
    batch.push_back(q ? std::move(*q) : raw_trade_message(t));
  }
  return batch;
}

// A REST failure: retry later with backoff, or give the job up.
void failed(backfill_actor* self, const std::string& why) {
  auto& st = self->state;
  auto& j = st.jobs.front();
  spdlog::warn("{}: {} REST history request failed ({}): {}", st.args.exchange, j.symbol, j.progress.failures() + 1,
               why);
  if (j.progress.failed(why)) {
    finish(self, "REST history failed " + std::to_string(backfill_job::max_failures) + " times: " + why);
    return;
  }
  schedule(self, j.progress.retry_delay_ns());
}

// The recent trades go back to the connection that asked: it remembers the ids it has seen (live and
// polled) and publishes only new ones, so a poll every second does not store the same trades again
// once JetStream's duplicate window has passed.
void run_recent(backfill_actor* self, const mi::venue::subscription& sub) {
  auto& st = self->state;
  auto req = st.venue->recent_request(sub);
  if (!req) {
    finish(self, "");
    return;
  }
  bool throttled = false;
  auto body = get(self, *req, throttled);
  if (throttled) {
    schedule(self);
    return;
  }
  if (!body) {
    failed(self, body.err().message);
    return;
  }
  auto trades = st.venue->parse_recent(sub, *body);
  if (!trades) {
    failed(self, trades.err().message);
    return;
  }
  const auto now = now_ns();
  for (auto& t : *trades)
    t.recv_ns = now;
  auto& j = st.jobs.front();
  if (j.reply_to && !trades->empty())
    self->send(j.reply_to, recent_atom::value, j.symbol, std::move(*trades));
  finish(self, "");
}

// The front job's next REST history page, fetched and parsed. nullopt when there is none to handle now, the
// job's fate already settled: finished (`no_history`: the venue names no first page; `exhausted`: no further
// page), failed, or waiting for Retry-After (the same page again).
std::optional<mi::venue::history_page> fetch_page(backfill_actor* self, const mi::venue::subscription& sub,
                                                  const std::string& no_history, const std::string& exhausted) {
  auto& st = self->state;
  auto& j = st.jobs.front();
  if (!j.started) {
    j.started = true;
    j.next = st.venue->history_request(sub, j.progress.gap());
    if (!j.next) {
      finish(self, no_history);
      return std::nullopt;
    }
  }
  if (!j.next) {
    finish(self, exhausted);
    return std::nullopt;
  }
  bool throttled = false;
  auto body = get(self, *j.next, throttled);
  if (throttled) {
    schedule(self); // the same page again, once Retry-After has passed
    return std::nullopt;
  }
  if (!body) {
    failed(self, body.err().message);
    return std::nullopt;
  }
  auto page = st.venue->parse_history(sub, j.progress.gap(), *body);
  if (!page) {
    failed(self, page.err().message);
    return std::nullopt;
  }
  return std::move(*page);
}

void run_gap_page(backfill_actor* self, const mi::venue::subscription& sub) {
  auto& st = self->state;
  auto page = fetch_page(self, sub, std::string(st.venue->name()) + " offers no REST trade history",
                         "the exchange's REST history does not reach back to them");
  if (!page)
    return;
  auto& j = st.jobs.front();
  std::size_t fresh = 0;
  std::vector<mi::trade> keep;
  for (auto& t : page->trades) {
    const auto& id = t.id_number; // read by the REST parser
    bool is_new = false;
    if (!id || !j.progress.receive(*id, is_new))
      continue; // the venue keeps only the gap's trades
    fresh += is_new ? 1 : 0;
    keep.push_back(std::move(t));
  }
  j.progress.page_done(fresh);
  j.next = std::move(page->next);
  if (j.progress.complete())
    j.next.reset(); // complete
  st.probe->backfilled(fresh);
  auto done = [self] {
    auto& jj = self->state.jobs.front();
    if (auto why = jj.progress.give_up_reason(jj.next.has_value()); !why.empty())
      finish(self, why);
  };
  auto batch = encode(st.args.exchange, keep, *st.gate);
  if (batch.empty()) {
    done();
    schedule(self);
    return;
  }
  publish(self, std::move(batch), done);
}

// A book snapshot goes back to the connection that asked, whatever the answer (it asks again later on a failure).
void run_book(backfill_actor* self) {
  auto& st = self->state;
  auto j = std::move(st.jobs.front());
  bool throttled = false;
  auto body = get(self, mi::venue::rest_request{j.book_target}, throttled);
  if (throttled) {
    st.jobs.front() = std::move(j);
    schedule(self);
    return;
  }
  st.jobs.pop_front();
  if (body)
    self->send(j.reply_to, bookrest_atom::value, j.symbol, true, std::move(*body));
  else
    self->send(j.reply_to, bookrest_atom::value, j.symbol, false, body.err().message);
  schedule(self);
}

// A time-range gap (venue::backfills_by_time): every page's trades inside the range, each id once per job (the
// two trades at the range's ends were published live: their dedup ids make the copies harmless), until the venue
// names no next page or backfill_max_trades were published.
void run_time_page(backfill_actor* self, const mi::venue::subscription& sub) {
  auto& st = self->state;
  auto page = fetch_page(self, sub, "", "");
  if (!page)
    return;
  auto& j = st.jobs.front();
  j.progress.page_done(1); // a parsed page resets the failure count
  std::vector<mi::trade> keep;
  const auto max = st.args.cfg.backfill_max_trades;
  bool truncated = false;
  for (auto& t : page->trades) {
    if (!j.time_ids.insert(t.trade_id).second)
      continue;
    if (j.time_published >= max) {
      truncated = true;
      break;
    }
    ++j.time_published;
    keep.push_back(std::move(t));
  }
  j.next = truncated ? std::nullopt : std::move(page->next);
  st.probe->backfilled(keep.size());
  auto done = [self, truncated] {
    auto& jj = self->state.jobs.front();
    if (truncated)
      finish(self, "more than backfill_max_trades in the time range; the newer ones are missing");
    else if (!jj.next)
      finish(self, "");
  };
  auto batch = encode(st.args.exchange, keep, *st.gate);
  if (batch.empty()) {
    done();
    schedule(self);
    return;
  }
  publish(self, std::move(batch), done);
}

void on_page(backfill_actor* self) {
  auto& st = self->state;
  st.scheduled = false;
  if (st.busy || st.jobs.empty())
    return;
  if (st.throttle->wait_ns(now_ns()) > 0) {
    schedule(self);
    return;
  }
  auto& j = st.jobs.front();
  if (j.book) {
    run_book(self);
    return;
  }
  const auto* sub = find_sub(st, j.symbol);
  if (sub == nullptr) {
    finish(self, "not a subscribed symbol");
    return;
  }
  if (j.recent)
    run_recent(self, *sub);
  else if (j.by_time)
    run_time_page(self, *sub);
  else
    run_gap_page(self, *sub);
}

void on_gap(backfill_actor* self, mi::venue::gap g, const std::string& symbol) {
  auto& st = self->state;
  {
    outgoing_batch found;
    record(self, gap_outcome::detected, symbol, g, st.venue->backfills_by_time() ? 0 : g.size(), found);
    self->request(st.args.publisher->get(), caf::infinite, pub_atom::value, std::move(found))
      .then([](bool) {}, [self](caf::error& err) { self->quit(err); });
  }
  if (st.venue->backfills_by_time()) {
    job j;
    j.symbol = symbol;
    j.by_time = true;
    j.progress = backfill_job(mi::venue::gap{0, 0, g.after_ts_ns, g.before_ts_ns});
    if (st.args.cfg.backfill_max_trades == 0) {
      outgoing_batch out;
      report(self, symbol, j.progress.gap(), 0, "backfill is disabled (backfill_max_trades: 0)", out);
      self->request(st.args.publisher->get(), caf::infinite, pub_atom::value, std::move(out))
        .then([](bool) {}, [self](caf::error& err) { self->quit(err); });
      return;
    }
    spdlog::info("{}: {} backfilling the trades from {} to {} (REST, by time)", st.args.exchange, symbol,
                 mi::util::rfc3339(g.after_ts_ns), mi::util::rfc3339(g.before_ts_ns));
    st.jobs.push_back(std::move(j));
    schedule(self);
    return;
  }
  const auto max = st.args.cfg.backfill_max_trades;
  if (g.size() > max) {
    // Too old to fetch: report it now; backfill the newest `max` trades.
    mi::venue::gap old{g.first_id, g.last_id - max, g.after_ts_ns, g.before_ts_ns};
    outgoing_batch out;
    report(self, symbol, old, old.size(),
           max == 0 ? "backfill is disabled (backfill_max_trades: 0)" : "more than backfill_max_trades missing", out);
    // The report never waits behind a long backfill.
    self->request(st.args.publisher->get(), caf::infinite, pub_atom::value, std::move(out))
      .then([](bool) {}, [self](caf::error& err) { self->quit(err); });
    if (max == 0)
      return;
    g.first_id = g.last_id - max + 1;
  }
  job j;
  j.symbol = symbol;
  j.progress = backfill_job(g);
  st.jobs.push_back(std::move(j));
  schedule(self);
}

caf::behavior backfill(backfill_actor* self, backfill_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  auto v = mi::venue::make_venue(st.args.exchange, st.args.venue_opts, st.args.instruments);
  if (!v) {
    self->quit(caf::make_error(caf::sec::invalid_argument, v.err().message));
    return {};
  }
  st.venue = std::move(*v);
  auto limits = st.venue->limits();
  if (st.args.cfg.rest_requests_per_minute > 0) // the account's plan allows another rate (Alpaca)
    limits.min_interval_ns = 60'000'000'000 / st.args.cfg.rest_requests_per_minute;
  st.throttle = mi::venue::shared_rest_throttle::of(st.args.exchange, limits);
  st.probe = &st.args.metrics->connection(st.args.exchange);
  st.gate = std::make_unique<quarantine>(st.args.exchange, st.probe, st.args.admission);
  caf::behavior handlers{
    [self](gap_atom, const std::string& symbol, std::int64_t first, std::int64_t last, std::int64_t after_ts,
           std::int64_t before_ts) {
      if (last < first || (first == 0 && last == 0 && !self->state.venue->backfills_by_time()))
        return;
      on_gap(self, mi::venue::gap{first, last, after_ts, before_ts}, symbol);
    },
    [self](recent_atom, const std::string& symbol) {
      auto& s = self->state;
      auto asker = caf::actor_cast<caf::actor>(self->current_sender());
      if (!s.recent_queued.insert(symbol).second) {
        for (auto& queued : s.jobs) // a restarted connection asks again: answer the new one
          if (queued.recent && queued.symbol == symbol)
            queued.reply_to = asker;
        return;
      }
      job j;
      j.recent = true;
      j.reply_to = std::move(asker);
      j.symbol = symbol;
      s.jobs.push_back(std::move(j));
      schedule(self);
    },
    [self](bookrest_atom, const std::string& symbol, const std::string& target) {
      // Ahead of trade backfills (a book is unusable until it comes), behind a job already under way.
      auto& s = self->state;
      job j;
      j.book = true;
      j.reply_to = caf::actor_cast<caf::actor>(self->current_sender());
      j.symbol = symbol;
      j.book_target = target;
      auto at = s.jobs.begin();
      while (at != s.jobs.end() && (at->book || at->started))
        ++at;
      s.jobs.insert(at, std::move(j));
      schedule(self);
    },
    [self](page_atom) { on_page(self); },
    [self](stop_atom) { self->quit(); },
  };
  return inspected(self, "backfill", "backfill." + st.args.exchange, std::move(handlers));
}

} // namespace

const char* to_string(gap_outcome o) {
  switch (o) {
  case gap_outcome::detected:
    return "detected";
  case gap_outcome::filled:
    return "filled";
  case gap_outcome::unfillable:
    break;
  }
  return "unfillable";
}

std::string gap_report_json(const std::string& exchange, const std::string& symbol, const mi::venue::gap& g,
                            std::int64_t trades, const std::string& reason, gap_outcome outcome) {
  std::string out = "{\"exchange\":";
  mi::connectors::text::append_json_string(out, exchange);
  out += ",\"symbol\":";
  mi::connectors::text::append_json_string(out, symbol);
  out += ",\"outcome\":\"" + std::string(to_string(outcome)) + "\"";
  out += ",\"first_id\":" + std::to_string(g.first_id) + ",\"last_id\":" + std::to_string(g.last_id) +
         (outcome == gap_outcome::filled ? ",\"recovered\":" : ",\"missing\":") + std::to_string(trades) +
         ",\"after_ts_ns\":" + std::to_string(g.after_ts_ns) + ",\"before_ts_ns\":" + std::to_string(g.before_ts_ns) +
         ",\"reason\":";
  mi::connectors::text::append_json_string(out, reason);
  out += "}";
  return out;
}

caf::actor spawn_backfill(caf::actor_system& sys, backfill_args args) {
  return sys.spawn<caf::detached>(backfill, std::move(args));
}

} // namespace mi::actors
