// `market-ingestor replay`: rebuild klines for a past range from MARKET_RAW with the live engine.
#include <charconv>
#include <iostream>
#include <set>

#include "app/commands.hpp"
#include "config/config.hpp"
#include "connectors/time_text.hpp"
#include "gateways/jetstream/range_reader.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/codec.hpp"
#include "messages/kline/kline_engine.hpp"

namespace mi::app {

mi::result<std::int64_t> parse_time_ms(const std::string& s) {
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc{} && p == s.data() + s.size())
    return v;
  if (auto ns = mi::connectors::text::parse_rfc3339_ns(s))
    return *ns / 1'000'000;
  return mi::error{"bad time \"" + s + "\" (expected ms since the epoch or YYYY-MM-DDTHH:MM:SSZ)"};
}

int run_replay(const std::string& config_path, const std::string& from, const std::string& to,
               const std::vector<std::string>& symbols) {
  auto loaded = mi::cfg::load_file(config_path);
  if (auto* errs = std::get_if<std::vector<mi::cfg::config_error>>(&loaded)) {
    std::cerr << mi::cfg::format_errors(*errs);
    return 2;
  }
  const auto cfg = std::get<mi::cfg::config>(loaded);
  auto from_ms = parse_time_ms(from);
  auto to_ms = parse_time_ms(to);
  if (!from_ms || !to_ms || *from_ms >= *to_ms) {
    std::cerr << "replay: "
              << (!from_ms ? from_ms.err().message
                  : !to_ms ? to_ms.err().message
                           : "--from must be before --to")
              << "\n";
    return 2;
  }
  std::set<std::string> wanted(symbols.begin(), symbols.end()); // "binance.BTCUSDT"; empty = all

  mi::kline_engine::options opts;
  for (const auto& name : cfg.klines.intervals)
    opts.intervals.push_back(*mi::kline_engine::parse_interval(name));
  opts.grace_ms = cfg.klines.grace.count();
  opts.revise_late = cfg.klines.late_policy == mi::cfg::late_mode::revise;
  opts.fill_empty = cfg.klines.empty_windows == mi::cfg::empty_window_mode::fill;
  opts.max_clock_skew_ms = cfg.ingest.max_clock_skew.count();

  mi::gw::jetstream::options jo;
  jo.url = cfg.nats.url;
  auto js = mi::gw::jetstream::connect(jo);
  if (!js) {
    std::cerr << "replay: " << js.err().message << "\n";
    return 1;
  }
  auto writer = mi::gw::pg_writer::connect(cfg.postgres.dsn);
  if (!writer) {
    std::cerr << "replay: " << writer.err().message << "\n";
    return 1;
  }

  // Read MARKET_RAW from its first message up to the last one present now, in stream order
  // (the order the live engine saw).
  mi::kline_engine::batch_aggregator agg(opts);
  std::vector<mi::kline> finals;
  std::uint64_t read = 0;
  std::uint64_t used = 0;
  std::uint64_t skipped = 0; // unrepresentable or beyond the clock skew, as the kline stage skips them
  mi::gw::stream_range range;
  range.stream = cfg.nats.raw.name; // its one subject, market.raw.>
  auto r = mi::gw::read_range(**js, range, [&](mi::gw::js_message&& m) {
    ++read;
    auto t = mi::decode_trade_pb(m.data());
    if (!t)
      return;
    const std::int64_t ts_ms = t->ts_ns / 1'000'000;
    if (ts_ms < *from_ms || ts_ms >= *to_ms)
      return;
    if (!wanted.empty() && wanted.count(t->exchange + "." + t->symbol) == 0)
      return;
    ++used;
    skipped += agg.add(*t, finals).rejected != mi::reject_reason::none ? 1 : 0;
  });
  if (!r || !r->complete) {
    std::cerr << "replay: "
              << (!r ? r.err().message
                     : "reading " + cfg.nats.raw.name + " stalled at sequence " + std::to_string(r->reached_seq) +
                         " of " + std::to_string(r->last_seq))
              << "\n";
    return 1;
  }
  agg.finish(finals);

  // Only windows wholly inside the range: a cut window would differ from the live one.
  std::vector<mi::kline> out;
  for (auto& k : finals)
    if (k.open_time_ms >= *from_ms && k.close_time_ms < *to_ms)
      out.push_back(std::move(k));
  for (const auto& k : out) {
    mi::gw::outgoing o{mi::kline_subject(k), mi::dedup_id(k), std::string(mi::kline_content_type),
                       mi::encode_kline_pb(k)};
    if (auto r = (*js)->publish_sync(o); !r) {
      std::cerr << "replay: publish " << o.subject << ": " << r.err().message << "\n";
      return 1;
    }
  }
  if (auto r = (*writer)->upsert_klines(out); !r) {
    std::cerr << "replay: store: " << r.err().message << "\n";
    return 1;
  }
  std::cout << "replay: " << read << " trades read, " << used << " in range, " << out.size()
            << " klines published and stored";
  if (skipped > 0)
    std::cout << "; " << skipped << " trades skipped (unrepresentable or beyond the clock skew, as live)";
  std::cout << "\n";
  return 0;
}

} // namespace mi::app
