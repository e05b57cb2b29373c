// `market-ingestor replay`: rebuild klines for a past range from MARKET_RAW with the live engine.
#include <charconv>
#include <iostream>
#include <set>

#include "actors/kline_stage.hpp"
#include "app/cli.hpp"
#include "app/commands.hpp"
#include "app/roles.hpp"
#include "config/config.hpp"
#include "connectors/time_text.hpp"
#include "gateways/jetstream/from_config.hpp"
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
  const auto loaded = load_config(config_path);
  if (!loaded)
    return 2;
  const auto& cfg = *loaded;
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

  // The live stage's mapping (partial_interval too, which the batch aggregator does not use).
  const auto opts = mi::actors::to_options(cfg.klines, cfg.ingest.max_clock_skew.count());

  auto jo = mi::gw::to_options(cfg.nats); // every nats setting (timeouts, publish window), as the platform
  jo.name = "market-ingestor replay";
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
  // Each venue's market calendar, exactly as the kline stage picks it (crypto: none).
  const auto calendars = load_market_calendars(cfg);
  mi::kline_engine::batch_aggregator agg(opts, [&calendars](const std::string& exchange) {
    return mi::actors::calendar_of_venue(calendars.get(), exchange);
  });
  std::vector<mi::kline> finals;
  std::uint64_t read = 0;
  std::uint64_t used = 0;
  std::uint64_t skipped = 0; // unrepresentable or beyond the clock skew, as the kline stage skips them
  std::uint64_t outside = 0; // outside their market's sessions, as the kline stage leaves them out
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
    const auto res = agg.add(*t, finals);
    skipped += res.rejected != mi::reject_reason::none ? 1 : 0;
    outside += res.outside_session != mi::kline_engine::outside::none ? 1 : 0;
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
  if (outside > 0)
    std::cout << "; " << outside << " trades outside their market's sessions (as live)";
  std::cout << "\n";
  return 0;
}

command add_replay(CLI::App& app) {
  auto* sub = app.add_subcommand("replay", "rebuild klines of a past range from MARKET_RAW, publish and store them");
  struct opts {
    std::string config = default_config_path;
    std::string from;
    std::string to;
    std::string symbols;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("--config,-c", o->config, "YAML config file")->check(CLI::ExistingFile);
  sub->add_option("--from", o->from, "start (ms since the epoch or YYYY-MM-DDTHH:MM:SSZ)")->required();
  sub->add_option("--to", o->to, "end, exclusive")->required();
  sub->add_option("--symbols", o->symbols, "comma-separated exchange.SYMBOL (default: all)");
  return {sub, [o] { return run_replay(o->config, o->from, o->to, split_csv(o->symbols)); }};
}

} // namespace mi::app
