#include "actors/audit.hpp"

#include <map>
#include <unordered_set>

#include "gateways/jetstream/range_reader.hpp"
#include "gateways/postgres/audit_queries.hpp"
#include "messages/codec.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/floor_div.hpp"

namespace mi::actors {
namespace {

using mi::util::floor_div;

constexpr std::int64_t ms_per_hour = 3'600'000;

} // namespace

void compare_hours(const hour_counts& stream, const hour_counts& db, audit_report& report) {
  hour_counts all = stream;
  for (const auto& [k, n] : db)
    all.emplace(k, 0);
  for (const auto& [key, ignored] : all) {
    (void)ignored;
    auto s = stream.count(key) ? stream.at(key) : 0;
    auto d = db.count(key) ? db.at(key) : 0;
    ++report.hours_checked;
    const auto& [exchange, symbol, hour] = key;
    report.cells.push_back({exchange, symbol, hour, s, d});
    if (s == d)
      continue;
    ++report.trade_mismatches;
    report.lines.push_back(
      "trades " + exchange + " " + symbol + " hour " + mi::util::iso8601_ms(hour) + ": MARKET_RAW " +
      std::to_string(s) + ", market_trades " + std::to_string(d) + " (" +
      (s > d ? "missing " + std::to_string(s - d) + " in the database" : std::to_string(d - s) + " not in the stream") +
      ")");
  }
}

mi::result<audit_report> run_audit(mi::gw::jetstream& js, const std::string& raw_stream, const std::string& dsn,
                                   std::int64_t from_ms, std::int64_t to_ms) {
  audit_report report;
  // -- the stream --------------------------------------------------------------------------
  std::map<hour_key, std::unordered_set<std::string>> ids;
  mi::gw::stream_range range;
  range.stream = raw_stream;
  range.from_time_ns = (from_ms - 5 * 60 * 1000) * 1'000'000;
  // Bounded (stall_timeout): a stream that stops delivering (server gone) must not hang the audit forever.
  auto read = mi::gw::read_range(js, range, [&](mi::gw::js_message&& m) {
    auto t = mi::decode_trade_pb(m.data());
    if (!t || t->is_amendment()) // an amendment changes a stored row, it adds none (0011)
      return;
    const std::int64_t ms = floor_div(t->ts_ns, 1'000'000);
    if (ms >= from_ms && ms < to_ms)
      ids[{t->exchange, t->symbol, floor_div(ms, ms_per_hour) * ms_per_hour}].insert(t->trade_id);
  });
  if (!read)
    return mi::error{"audit: " + read.err().message};
  if (!read->complete)
    return mi::error{"audit: reading " + raw_stream + " stalled at sequence " + std::to_string(read->reached_seq) +
                     " of " + std::to_string(read->last_seq)};
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
                           mi::util::iso8601_ms(k.open_time_ms) + ": trade_count " + std::to_string(k.trade_count) +
                           ", market_trades " + std::to_string(k.stored_trades));
  }
  return report;
}

} // namespace mi::actors
