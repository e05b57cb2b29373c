// The ingest role's wiring: instruments, symbols, connections and backfill per exchange.
#include "app/ingest.hpp"

#include <optional>
#include <spdlog/spdlog.h>

#include "actors/backfill.hpp"
#include "actors/connection.hpp"
#include "actors/derivatives_connection.hpp"
#include "caf/actor_system.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "connectors/venue/venue.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/range_reader.hpp"
#include "gateways/metrics/metrics.hpp"
#include "messages/codec.hpp"

namespace mi::app {
namespace {

// The exchange's instruments, fetched and parsed once and shared by its connection and backfill actors
// (`v` uses them too), or null when they cannot be had (symbols then resolve by their quote suffix and
// nothing is refused as unlisted).
mi::venue::instruments_ptr fetch_instruments(const std::string& name, const mi::cfg::exchange_config& ex,
                                             mi::venue::venue& v) {
  const auto target = v.instruments_request().target;
  auto u = mi::net::parse_url(ex.rest_url + target);
  if (!u) {
    spdlog::warn("{}: bad instruments URL {}{}: {}", name, ex.rest_url, target, u.err().message);
    return nullptr;
  }
  auto body = mi::net::http_get(*u, ex.connect_timeout, v.instruments_request().headers);
  if (!body) {
    spdlog::warn("{}: instruments unavailable ({}); symbols are not checked against the listing", name,
                 body.err().message);
    return nullptr;
  }
  auto table = v.parse_instruments(*body);
  if (!table) {
    spdlog::warn("{}: unreadable instruments ({}); symbols are not checked against the listing", name,
                 table.err().message);
    return nullptr;
  }
  v.use_instruments(*table);
  spdlog::info("{}: {} instruments from {}", name, (*table)->size(), ex.rest_url);
  return *table;
}

constexpr auto seed_scan_timeout = std::chrono::seconds(10);

// The highest trade id stored on `subject` at or after `from_ns` (server store time), read up to the
// message at `last_seq` (the subject's last one), with the trade's time. Bounded by seed_scan_timeout;
// what was read by then counts.
std::optional<mi::actors::last_trade> scan_highest(mi::gw::jetstream& js, const std::string& stream,
                                                   const std::string& subject, std::int64_t from_ns,
                                                   std::uint64_t last_seq) {
  std::optional<mi::actors::last_trade> best;
  mi::gw::stream_range range;
  range.stream = stream;
  range.filter_subject = subject;
  range.from_time_ns = from_ns;
  range.to_seq = last_seq;
  range.deadline = seed_scan_timeout;
  range.stall_timeout = seed_scan_timeout;
  auto r = mi::gw::read_range(js, range, [&best](mi::gw::js_message&& m) {
    if (auto t = mi::decode_trade_pb(m.data()))
      if (const auto& id = t->id_number; id && (!best || *id > best->id))
        best = mi::actors::last_trade{t->symbol, *id, t->ts_ns};
  });
  if (!r) {
    spdlog::warn("seed: cannot read {} of {}: {}", subject, stream, r.err().message);
    return std::nullopt;
  }
  const auto read = r->delivered;
  if (!r->complete)
    spdlog::warn("seed: reading {} timed out after {} messages; seeding from what was read", subject, read);
  spdlog::info("seed: {}: the last stored message is a backfilled trade; {} messages read, highest id {}", subject,
               read, best ? std::to_string(best->id) : std::string("none"));
  return best;
}

// The highest trade id stored for each symbol (gap detection across restarts). Usually the last
// message of the subject; when that one is a backfilled trade (stored long after it happened), the
// subject's tail is read for the highest id (venue::seed_scan_from explains the bound).
std::vector<mi::actors::last_trade> load_seeds(mi::gw::jetstream& js, const std::string& stream,
                                               const std::string& exchange,
                                               const std::vector<mi::venue::subscription>& subs, bool by_time) {
  std::vector<mi::actors::last_trade> out;
  for (const auto& s : subs) {
    const auto subject = mi::raw_subject(exchange, s.symbol);
    auto m = js.last_message(stream, subject);
    if (!m || !*m)
      continue;
    auto t = mi::decode_trade_pb((*m)->data());
    if (!t)
      continue;
    if (by_time) { // venues that backfill by time need the last trade's time only (its id is not a sequence)
      out.push_back(mi::actors::last_trade{s.symbol, 0, t->ts_ns});
      continue;
    }
    const auto& id = t->id_number; // read by the protobuf decoder
    if (!id)
      continue;
    mi::actors::last_trade seed{s.symbol, *id, t->ts_ns};
    if (auto from = mi::venue::seed_scan_from(t->ts_ns, (*m)->timestamp_ns()))
      if (auto best = scan_highest(js, stream, subject, *from, (*m)->stream_seq()); best && best->id > seed.id)
        seed = mi::actors::last_trade{s.symbol, best->id, best->ts_ns};
    out.push_back(seed);
  }
  return out;
}

// The edge check of every trade before MARKET_RAW (actors/quarantine.hpp).
mi::admission_limits admission_limits(const mi::cfg::config& cfg) {
  mi::admission_limits l;
  l.max_clock_skew_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg.ingest.max_clock_skew).count();
  l.max_age_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(cfg.nats.raw.max_age).count();
  return l;
}

} // namespace

std::vector<mi::actors::child_spec> ingest_children(const mi::cfg::config& cfg, mi::gw::jetstream& js,
                                                    const mi::actors::actor_slot_ptr& publisher, mi::net::io_thread& io,
                                                    mi::gw::metrics& metrics) {
  std::vector<mi::actors::child_spec> out;
  std::uint64_t seed = 1;
  for (const auto& [name, ex] : cfg.exchanges) {
    if (!ex.enabled)
      continue;
    mi::venue::venue_options vo;
    vo.binance_agg_trade = ex.stream == "aggTrade";
    // Credentials only from the environment (never a config file, never logged): MI_<VENUE>_KEY_ID, _SECRET_KEY.
    vo.key_id = mi::cfg::venue_secret_env(name, "KEY_ID");
    vo.secret_key = mi::cfg::venue_secret_env(name, "SECRET_KEY");
    vo.quotes = ex.quotes;
    vo.statuses = ex.statuses;
    auto v = mi::venue::make_venue(name, vo);
    if (!v) {
      spdlog::error("{}: {}; skipped", name, v.err().message);
      continue;
    }
    auto& venue = **v;
    auto instruments = fetch_instruments(name, ex, venue);
    std::vector<mi::venue::subscription> subs;
    for (const auto& unified : ex.symbols) {
      auto sub = venue.resolve(unified);
      if (!sub) {
        metrics.connection(name).symbol_rejected();
        metrics.connection(name).symbol_status(unified, false);
        spdlog::error("{}: symbol {}: {}; the other symbols run on", name, unified, sub.err().message);
        continue;
      }
      metrics.connection(name).symbol_status(sub->unified, true);
      subs.push_back(std::move(*sub));
    }
    if (subs.empty()) {
      spdlog::error("{}: no usable symbol; no connection opened", name);
      continue;
    }

    mi::actors::backfill_args b;
    b.exchange = name;
    b.cfg = ex;
    b.venue_opts = vo;
    b.subs = subs;
    b.instruments = instruments;
    b.publisher = publisher;
    b.metrics = &metrics;
    b.gap_subject_prefix = "market.gap";
    b.admission = admission_limits(cfg);
    auto backfill_slot = std::make_shared<mi::actors::actor_slot>();
    out.push_back({"backfill." + name, [b, backfill_slot](caf::actor_system& s) {
                     auto a = mi::actors::spawn_backfill(s, b);
                     backfill_slot->set(a);
                     return a;
                   }});

    const bool books = ex.books.enabled && venue.supports_books();
    if (ex.books.enabled && !books)
      spdlog::error("{}: exchanges.{}.books.enabled: live order books are not carried for {} yet; trades only", name,
                    name, name);
    // With books, every symbol takes two of the connection's subscriptions (trades and book).
    const auto per_conn = std::max<std::size_t>(1, venue.max_subscriptions_per_connection() / (books ? 2 : 1));
    const bool sequential = venue.sequential_ids();
    const bool by_time = venue.backfills_by_time();
    for (std::size_t i = 0; i < subs.size(); i += per_conn) {
      mi::actors::connection_args a;
      a.exchange = name;
      a.cfg = ex;
      a.venue_opts = vo;
      a.subs.assign(subs.begin() + static_cast<std::ptrdiff_t>(i),
                    subs.begin() + static_cast<std::ptrdiff_t>(std::min(subs.size(), i + per_conn)));
      a.instruments = instruments;
      a.publisher = publisher;
      a.backfill = backfill_slot;
      a.io = &io;
      a.metrics = &metrics;
      a.seed = seed++;
      a.admission = admission_limits(cfg);
      a.js = &js;
      const std::string stream = cfg.nats.raw.name;
      auto* jsp = &js;
      // Seeds are read on every (re)start: a restarted connection continues from what is stored.
      out.push_back({"connection." + name + "." + std::to_string(i / per_conn + 1),
                     [a, jsp, stream, sequential, by_time](caf::actor_system& s) {
                       auto args = a;
                       if (sequential || by_time)
                         args.seeds = load_seeds(*jsp, stream, args.exchange, args.subs, by_time);
                       return mi::actors::spawn_connection(s, std::move(args));
                     }});
    }
    spdlog::info("{}: {} symbols on {} connection(s)", name, subs.size(), (subs.size() + per_conn - 1) / per_conn);
  }
  // Perpetual swaps (issue 15): one connection per enabled derivatives venue, publishing to MARKET_DERIV.
  for (const auto& [name, d] : cfg.derivatives) {
    if (!d.enabled)
      continue;
    mi::actors::derivatives_connection_args a;
    a.venue = name;
    a.cfg = d;
    a.publisher = publisher;
    a.io = &io;
    a.seed = seed++;
    out.push_back({"derivatives." + name, [a](caf::actor_system& s) { return spawn_derivatives_connection(s, a); }});
    spdlog::info("{}: {} symbols (funding, mark, open interest, liquidations)", name, d.symbols.size());
  }
  return out;
}

} // namespace mi::app
