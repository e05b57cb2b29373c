#include "connectors/documents/source_schedule.hpp"

#include <algorithm>
#include <cmath>

#include "connectors/documents/text.hpp"
#include "messages/util/text.hpp"

namespace mi::documents {

std::string_view to_string(request_outcome o) {
  constexpr std::string_view names[] = {"ok",           "not_modified",  "rate_limited", "server_error",
                                        "client_error", "network_error", "bad_body"};
  return names[static_cast<std::size_t>(o)];
}

request_outcome outcome_of_status(int status) {
  if (status >= 200 && status < 300)
    return request_outcome::ok;
  if (status == 304)
    return request_outcome::not_modified;
  if (status == 429)
    return request_outcome::rate_limited;
  if (status >= 400 && status < 500)
    return request_outcome::client_error;
  return request_outcome::server_error;
}

bool is_failure(request_outcome o) {
  return o == request_outcome::rate_limited || o == request_outcome::server_error ||
         o == request_outcome::network_error || o == request_outcome::bad_body;
}

std::string_view to_string(circuit_state s) {
  constexpr std::string_view names[] = {"closed", "open", "half_open"};
  return names[static_cast<std::size_t>(s)];
}

token_bucket::token_bucket(double rate_per_second, int burst)
    : interval_ns_(static_cast<std::int64_t>(std::llround(1e9 / std::max(rate_per_second, 1e-6)))),
      tolerance_ns_(interval_ns_ * std::max(burst - 1, 0)) {}

std::int64_t token_bucket::acquire(std::int64_t now_ns) {
  const std::int64_t tat = std::max(tat_ns_, now_ns);
  if (tat - now_ns > tolerance_ns_)
    return tat - tolerance_ns_ - now_ns;
  tat_ns_ = tat + interval_ns_;
  return 0;
}

circuit_breaker::circuit_breaker(int failure_threshold, std::int64_t open_for_ns)
    : threshold_(std::max(failure_threshold, 1)), open_for_ns_(open_for_ns) {}

bool circuit_breaker::allow(std::int64_t now_ns) {
  switch (state_) {
  case circuit_state::closed:
    return true;
  case circuit_state::open:
    if (now_ns < reopens_at_ns())
      return false;
    state_ = circuit_state::half_open; // this request is the probe
    return true;
  case circuit_state::half_open:
    return false; // the probe is in flight
  }
  return false;
}

void circuit_breaker::on_success() {
  state_ = circuit_state::closed;
  failures_ = 0;
}

void circuit_breaker::on_failure(std::int64_t now_ns) {
  ++failures_;
  if (state_ == circuit_state::half_open || failures_ >= threshold_) {
    state_ = circuit_state::open;
    opened_at_ns_ = now_ns;
  }
}

std::vector<std::pair<std::string, std::string>> validators::request_headers() const {
  std::vector<std::pair<std::string, std::string>> out;
  if (!etag.empty())
    out.emplace_back("If-None-Match", etag);
  if (!last_modified.empty())
    out.emplace_back("If-Modified-Since", last_modified);
  return out;
}

void validators::update(std::string_view etag_header, std::string_view last_modified_header) {
  etag = std::string(util::trim(etag_header));
  last_modified = std::string(util::trim(last_modified_header));
}

std::optional<std::int64_t> parse_retry_after_ns(std::string_view value, std::int64_t now_ns) {
  value = util::trim(value);
  if (auto seconds = util::parse_digits(value)) {
    if (*seconds > 10'000'000'000) // beyond any sane wait; also keeps the product in int64
      return std::nullopt;
    return *seconds * 1'000'000'000;
  }
  if (auto at = parse_rfc822_ns(value))
    return std::max<std::int64_t>(0, *at - now_ns);
  return std::nullopt;
}

source_schedule::source_schedule(const schedule_config& config, std::uint64_t seed, std::int64_t now_ns)
    : config_(config), rng_(seed), bucket_(config.requests_per_second, config.burst),
      breaker_(config.failure_threshold, config.open_for_ns), next_poll_ns_(now_ns), last_success_ns_(now_ns) {}

std::int64_t source_schedule::jittered_interval() {
  const double j = std::clamp(config_.jitter, 0.0, 0.9);
  std::uniform_real_distribution<double> factor(1.0 - j, 1.0 + j);
  return static_cast<std::int64_t>(static_cast<double>(config_.interval_ns) * factor(rng_));
}

std::int64_t source_schedule::acquire(std::int64_t now_ns) {
  if (now_ns < not_before_ns_)
    return not_before_ns_ - now_ns;
  if (breaker_.state() == circuit_state::open && now_ns < breaker_.reopens_at_ns())
    return breaker_.reopens_at_ns() - now_ns;
  if (breaker_.state() == circuit_state::half_open)
    return config_.open_for_ns; // wait for the probe's outcome
  if (const auto wait = bucket_.acquire(now_ns); wait != 0)
    return wait;
  (void)breaker_.allow(now_ns); // open -> half_open: this request is the probe
  return 0;
}

std::optional<source_gap> source_schedule::record(request_outcome outcome, std::int64_t now_ns,
                                                  std::optional<std::int64_t> retry_after_ns) {
  std::optional<source_gap> gap;
  if (is_failure(outcome)) {
    breaker_.on_failure(now_ns);
  } else {
    if (outcome != request_outcome::client_error) {
      if (now_ns - last_success_ns_ > config_.backfill_horizon_ns)
        gap = source_gap{last_success_ns_, now_ns};
      last_success_ns_ = now_ns;
    }
    breaker_.on_success();
  }
  if (retry_after_ns)
    not_before_ns_ = now_ns + std::clamp<std::int64_t>(*retry_after_ns, 0, config_.max_retry_after_ns);
  next_poll_ns_ = now_ns + jittered_interval();
  if (breaker_.state() == circuit_state::open)
    next_poll_ns_ = std::max(next_poll_ns_, breaker_.reopens_at_ns());
  next_poll_ns_ = std::max(next_poll_ns_, not_before_ns_);
  return gap;
}

} // namespace mi::documents
