#include "actors/audit.hpp"

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <unordered_set>

#include "gateways/jetstream/jetstream.hpp"
#include "gateways/postgres/audit_queries.hpp"
#include "messages/codec.hpp"

namespace mi::actors {
namespace {

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

constexpr std::int64_t ms_per_hour = 3'600'000;

} // namespace

std::string utc_text(std::int64_t ms) {
  std::int64_t secs = floor_div(ms, 1000);
  std::int64_t days = floor_div(secs, 86'400);
  auto sod = static_cast<int>(secs - days * 86'400);
  // civil_from_days (H. Hinnant)
  std::int64_t z = days + 719'468;
  std::int64_t era = floor_div(z, 146'097);
  std::int64_t doe = z - era * 146'097;
  std::int64_t yoe = (doe - doe / 1460 + doe / 36'524 - doe / 146'096) / 365;
  std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  std::int64_t mp = (5 * doy + 2) / 153;
  auto d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  auto m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04lld-%02d-%02dT%02d:%02d:%02dZ", static_cast<long long>(y), m, d, sod / 3600,
                sod / 60 % 60, sod % 60);
  return buf;
}

void compare_hours(const hour_counts& stream, const hour_counts& db, audit_report& report) {
  hour_counts all = stream;
  for (const auto& [k, n] : db)
    all.emplace(k, 0);
  for (const auto& [key, ignored] : all) {
    (void)ignored;
    auto s = stream.count(key) ? stream.at(key) : 0;
    auto d = db.count(key) ? db.at(key) : 0;
    ++report.hours_checked;
    if (s == d)
      continue;
    ++report.trade_mismatches;
    const auto& [exchange, symbol, hour] = key;
    report.lines.push_back(
      "trades " + exchange + " " + symbol + " hour " + utc_text(hour) + ": MARKET_RAW " + std::to_string(s) +
      ", market_trades " + std::to_string(d) + " (" +
      (s > d ? "missing " + std::to_string(s - d) + " in the database" : std::to_string(d - s) + " not in the stream") +
      ")");
  }
}

mi::result<audit_report> run_audit(mi::gw::jetstream& js, const std::string& raw_stream, const std::string& dsn,
                                   std::int64_t from_ms, std::int64_t to_ms) {
  audit_report report;
  // -- the stream --------------------------------------------------------------------------
  auto st = js.state(raw_stream);
  if (!st)
    return mi::error{"audit: stream " + raw_stream + ": " + st.err().message};
  std::map<hour_key, std::unordered_set<std::string>> ids;
  const std::int64_t start_ns = (from_ms - 5 * 60 * 1000) * 1'000'000;
  bool scan = st->messages > 0;
  if (scan) {
    auto last = js.get_message(raw_stream, st->last_seq);
    if (!last)
      return mi::error{"audit: stream " + raw_stream + ": " + last.err().message};
    scan = !*last || (*last)->timestamp_ns() >= start_ns; // nothing stored since the range began: nothing to read
  }
  if (scan) {
    std::mutex mu;
    std::condition_variable cv;
    std::uint64_t last_seen = 0;
    std::uint64_t undecodable = 0;
    const std::uint64_t last_seq = st->last_seq;
    auto consumer = mi::gw::ordered_consumer::start_at_time(js, raw_stream, "", start_ns, [&](mi::gw::js_message&& m) {
      std::lock_guard<std::mutex> lock(mu);
      if (m.stream_seq() > last_seq)
        return;
      last_seen = m.stream_seq();
      auto t = mi::decode_trade_pb(m.data());
      if (!t) {
        ++undecodable;
      } else {
        const std::int64_t ms = floor_div(t->ts_ns, 1'000'000);
        if (ms >= from_ms && ms < to_ms)
          ids[{t->exchange, t->symbol, floor_div(ms, ms_per_hour) * ms_per_hour}].insert(t->trade_id);
      }
      if (last_seen >= last_seq)
        cv.notify_all();
    });
    if (!consumer)
      return mi::error{"audit: " + consumer.err().message};
    std::unique_lock<std::mutex> lock(mu);
    // Bounded: a stream that stops delivering (server gone) must not hang the audit forever.
    std::uint64_t seen_before = 0;
    while (last_seen < last_seq) {
      seen_before = last_seen;
      if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return last_seen >= last_seq; }) &&
          last_seen == seen_before) {
        lock.unlock();
        consumer->reset();
        return mi::error{"audit: reading " + raw_stream + " stalled at sequence " + std::to_string(last_seen) + " of " +
                         std::to_string(last_seq)};
      }
    }
    lock.unlock();
    consumer->reset();
  }
  hour_counts stream;
  for (const auto& [k, set] : ids) {
    stream[k] = set.size();
    report.stream_trades += set.size();
  }
  // -- the database ------------------------------------------------------------------------
  auto rows = mi::gw::trade_counts_by_hour(dsn, from_ms, to_ms);
  if (!rows)
    return rows.err();
  hour_counts db;
  for (const auto& r : *rows)
    db[{r.exchange, r.symbol, r.hour_ms}] = r.count;
  compare_hours(stream, db, report);
  auto klines = mi::gw::kline_trade_counts(dsn, from_ms, to_ms);
  if (!klines)
    return klines.err();
  report.klines_checked = klines->checked;
  for (const auto& k : klines->mismatches) {
    ++report.kline_mismatches;
    report.lines.push_back("kline " + k.exchange + " " + k.symbol + " " + k.interval + " open " +
                           utc_text(k.open_time_ms) + ": trade_count " + std::to_string(k.trade_count) +
                           ", market_trades " + std::to_string(k.stored_trades));
  }
  return report;
}

} // namespace mi::actors
