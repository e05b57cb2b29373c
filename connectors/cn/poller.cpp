#include "connectors/cn/poller.hpp"

#include <algorithm>
#include <set>

namespace mi::cn {
namespace docs = mi::documents;

mi::result<std::int64_t> poll_window_wait(const mi::calendar::calendar& cal, std::int64_t now_ns,
                                          std::int64_t grace_ns) {
  const std::int64_t today = cal.local_day_of(now_ns);
  for (std::int64_t d = today; d < today + 15; ++d) {
    auto s = cal.session_on_day(d);
    if (!s)
      return s.err();
    if (!*s)
      continue; // weekend or holiday
    const auto& x = **s;
    const std::int64_t close = std::max(x.close_ns, x.closing_print_until_ns) + grace_ns;
    const bool lunch = x.break_end_ns > x.break_start_ns;
    const std::int64_t windows[2][2] = {{x.opening_auction_ns, (lunch ? x.break_start_ns + grace_ns : close)},
                                        {x.break_end_ns, close}};
    for (int w = 0; w < (lunch ? 2 : 1); ++w) {
      if (now_ns < windows[w][0])
        return windows[w][0] - now_ns;
      if (now_ns < windows[w][1])
        return std::int64_t{0};
    }
  }
  return mi::error{cal.market() + ": no session in the next 15 days", errc::not_found};
}

quote_poller::quote_poller(poller_settings settings, const mi::calendar::calendar_set* cals, std::uint64_t seed,
                           std::int64_t now_ns)
    : settings_(std::move(settings)), cals_(cals),
      rng_(seed), tencent_{settings_.tencent,
                           docs::token_bucket(settings_.tencent.requests_per_second, settings_.tencent.burst),
                           docs::circuit_breaker(settings_.tencent.failure_threshold, settings_.tencent.open_for_ns)},
      sina_{settings_.sina, docs::token_bucket(settings_.sina.requests_per_second, settings_.sina.burst),
            docs::circuit_breaker(settings_.sina.failure_threshold, settings_.sina.open_for_ns)},
      next_cycle_ns_(now_ns) {}

quote_source quote_poller::serving() const {
  return tencent_.breaker.state() == docs::circuit_state::closed ? quote_source::tencent : quote_source::sina;
}

std::int64_t quote_poller::window_wait(std::int64_t now_ns) {
  idle_reason_.clear();
  if (!settings_.sessions_only)
    return 0;
  std::set<std::string_view> markets;
  for (const auto& s : settings_.symbols)
    markets.insert(market_of(s));
  std::int64_t wait = -1;
  for (auto m : markets) {
    const auto* cal = cals_ ? cals_->find(m) : nullptr;
    if (!cal) {
      idle_reason_ = "no calendar of " + std::string(m);
      continue;
    }
    auto w = poll_window_wait(*cal, now_ns, settings_.grace_ns);
    if (!w) {
      idle_reason_ = w.err().message;
      continue;
    }
    wait = wait < 0 ? *w : std::min(wait, *w);
  }
  if (wait < 0)
    return 60'000'000'000; // no market can say: look again in a minute (idle_reason_ says why)
  if (wait > 0 && idle_reason_.empty())
    idle_reason_ = "outside the sessions";
  return wait;
}

void quote_poller::start_cycle(std::int64_t now_ns) {
  const std::size_t size =
    static_cast<std::size_t>(std::max(1, std::min(settings_.tencent.batch_size, settings_.sina.batch_size)));
  for (std::size_t i = 0; i < settings_.symbols.size(); i += size)
    queue_.push_back({i, std::min(size, settings_.symbols.size() - i), false});
  const double j = std::clamp(settings_.jitter, 0.0, 0.9);
  std::uniform_real_distribution<double> f(1.0 - j, 1.0 + j);
  next_cycle_ns_ = now_ns + static_cast<std::int64_t>(static_cast<double>(settings_.interval_ns) * f(rng_));
}

poll_request quote_poller::make(quote_source s, const pending& p, bool failover) const {
  poll_request r;
  r.source = s;
  r.batch.assign(settings_.symbols.begin() + static_cast<std::ptrdiff_t>(p.first),
                 settings_.symbols.begin() + static_cast<std::ptrdiff_t>(p.first + p.count));
  r.url = src(s).limits.url + request_target(s, r.batch);
  r.headers = request_headers(s);
  r.failover = failover;
  return r;
}

std::variant<poll_request, std::int64_t> quote_poller::next(std::int64_t now_ns) {
  if (queue_.empty()) {
    if (now_ns < next_cycle_ns_)
      return next_cycle_ns_ - now_ns;
    if (auto w = window_wait(now_ns); w > 0)
      return w;
    start_cycle(now_ns);
    if (queue_.empty())
      return next_cycle_ns_ - now_ns;
  }
  const pending& p = queue_.front();
  std::int64_t wait = -1;
  for (auto s : all_quote_sources) {
    if (s == quote_source::tencent && p.primary_failed)
      continue;
    auto& st = src(s);
    std::int64_t blocked = 0;
    if (now_ns < st.not_before_ns)
      blocked = st.not_before_ns - now_ns;
    else if (st.breaker.state() == docs::circuit_state::open && now_ns < st.breaker.reopens_at_ns())
      blocked = st.breaker.reopens_at_ns() - now_ns;
    if (blocked > 0) { // this source cannot serve now: the next one may
      wait = wait < 0 ? blocked : std::min(wait, blocked);
      continue;
    }
    if (auto w = st.bucket.acquire(now_ns); w > 0)
      return w; // the source that should serve has no token yet: wait for it (a rate limit is no failure)
    (void)st.breaker.allow(now_ns); // an open circuit whose wait is over lets this request through as its probe
    return make(s, p, p.primary_failed);
  }
  if (p.primary_failed) { // the secondary cannot take the batch the primary failed: it is lost for this cycle
    queue_.pop_front();
    return std::int64_t{1'000'000};
  }
  return std::max<std::int64_t>(wait, 1'000'000);
}

poll_step quote_poller::on_response(const poll_request& req, std::optional<int> status, std::string_view body,
                                    std::string_view retry_after, std::string_view network_error, text_encoding enc,
                                    std::int64_t now_ns) {
  poll_step out;
  auto& st = src(req.source);
  if (!status) {
    out.outcome = docs::request_outcome::network_error;
    out.error = network_error.empty() ? std::string("no answer") : std::string(network_error);
  } else {
    out.outcome = docs::outcome_of_status(*status);
    if (out.outcome == docs::request_outcome::ok) {
      auto a = parse_quotes(req.source, body, enc, now_ns);
      if (a.quotes.empty() && a.empty.empty()) { // garbage, or an empty body (the sources' rate-limited answer)
        out.outcome = docs::request_outcome::bad_body;
        out.error = a.rejected.empty() ? std::string("empty answer") : a.rejected.front().message;
      }
      out.quotes = std::move(a.quotes);
      out.empty = std::move(a.empty);
      out.rejected = std::move(a.rejected);
    } else {
      out.error = "HTTP " + std::to_string(*status);
    }
  }
  if (out.outcome == docs::request_outcome::ok) {
    st.breaker.on_success();
  } else {
    if (docs::is_failure(out.outcome))
      st.breaker.on_failure(now_ns);
    if (auto ra = docs::parse_retry_after_ns(retry_after, now_ns))
      st.not_before_ns = now_ns + std::min<std::int64_t>(*ra, 3'600'000'000'000);
  }
  if (!queue_.empty()) {
    pending p = queue_.front();
    queue_.pop_front();
    if (out.outcome != docs::request_outcome::ok) {
      if (req.source == quote_source::tencent) {
        p.primary_failed = true;
        queue_.push_front(p);
        out.retry_elsewhere = true;
      } else {
        out.batch_lost = true;
      }
    }
  }
  return out;
}

} // namespace mi::cn
