// Derivatives channels end to end (issue 15, item 6): the simulator speaks binance-usdm (markPrice@1s, forceOrder,
// REST openInterest), okx-swap (funding-rate, mark-price, open-interest, liquidation-orders) and bybit-linear
// (tickers snapshot + deltas, allLiquidation), turning each generated trade into that venue's true events
// (GET /sim/derivatives); `market-ingestor run --roles ingest,store` publishes and stores them; MARKET_DERIV holds
// exactly the true events of every venue (exact decimals, times, sides, subjects, one message per event),
// binance-usdm's polled open interest is one of the values the simulator served, and market_derivatives holds one row
// per published event with the same values.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <algorithm>
#include <csignal>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/deriv/derivative.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/pg_server.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

/// GET /sim/derivatives?symbol=BTCUSDT of one simulator: the true events, as to_json objects (recv_ns 0).
std::vector<std::string> true_events(int port) {
  auto u = mi::net::parse_url("http://127.0.0.1:" + std::to_string(port) + "/sim/derivatives?symbol=BTCUSDT");
  REQUIRE(u);
  auto body = mi::net::http_get(*u, 5s);
  REQUIRE_MESSAGE(body, (body ? std::string() : body.err().message));
  std::vector<std::string> out;
  const auto doc = boost::json::parse(*body);
  for (const auto& v : doc.as_array())
    out.push_back(boost::json::serialize(v));
  std::sort(out.begin(), out.end()); // a set: an event repeated in one millisecond is one message (its dedup id)
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

} // namespace

TEST_CASE("e2e derivatives: binance-usdm, okx-swap and bybit-linear through the simulator, MARKET_DERIV holds exactly "
          "the true funding, mark, open-interest and liquidation events, and market_derivatives one row per event") {
  mi::test::temp_dir dir("mi-deriv");
  mi::test::nats_server nats;
  mi::test::pg_server pg;
  const std::vector<std::string> venues{"binance-usdm", "okx-swap", "bybit-linear"};
  std::vector<int> ports;
  const int api_port = mi::test::free_port();
  {
    std::ofstream cfg(dir.path() + "/config.yaml");
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "postgres:\n  dsn: " << pg.conninfo() << "\n"
        << "api:\n  auth: \"off\"\n  listen: 127.0.0.1:" << api_port << "\n"
        << "exchanges:\n  binance:\n    enabled: false\n"
        << "derivatives:\n";
    for (const auto& v : venues) {
      ports.push_back(mi::test::free_port());
      cfg << "  " << v << ":\n    enabled: true\n    ws_url: ws://127.0.0.1:" << ports.back()
          << "/stream\n    rest_url: http://127.0.0.1:" << ports.back()
          << "\n    symbols: [BTC/USDT]\n    open_interest_interval: 1s\n"
          << "    reconnect:\n      initial: 100ms\n      max: 1s\n";
    }
  }
  std::vector<std::unique_ptr<mi::test::child_process>> sims;
  for (std::size_t i = 0; i < venues.size(); ++i)
    sims.push_back(std::make_unique<mi::test::child_process>(
      std::vector<std::string>{mi::test::binary(), "simulate", "--exchange", venues[i], "--port",
                               std::to_string(ports[i]), "--symbols", "BTCUSDT", "--rate", "100", "--count", "300",
                               "--linger-ms", "600000"},
      dir.path() + "/sim-" + venues[i] + ".log"));
  for (int port : ports)
    REQUIRE(mi::test::wait_for_port(port, 10s));

  const std::string log = dir.path() + "/platform.log";
  mi::test::child_process platform(
    {mi::test::binary(), "run", "--config", dir.path() + "/config.yaml", "--roles", "ingest,store,api"}, log);
  REQUIRE_MESSAGE(mi::test::eventually(
                    [&] { return mi::test::has_ready_line(mi::test::read_file(log), 0) || !platform.running(); }, 30s),
                  mi::test::read_file(log));
  REQUIRE_MESSAGE(platform.running(), mi::test::read_file(log));

  // Every simulator generated its 300 trades: its true events stop changing.
  std::map<std::string, std::vector<std::string>> truth;
  for (std::size_t i = 0; i < venues.size(); ++i) {
    std::vector<std::string> last;
    const bool settled = mi::test::eventually(
      [&] {
        std::this_thread::sleep_for(500ms); // 100 trades a second: still for half a second means done
        auto now = true_events(ports[i]);
        const bool still = !now.empty() && now == last;
        last = now;
        return still;
      },
      60s);
    CHECK(settled);
    truth[venues[i]] = last;
  }

  mi::gw::jetstream::options jo;
  jo.url = nats.url();
  auto js = mi::gw::jetstream::connect(jo);
  REQUIRE(js);
  std::map<std::string, std::vector<std::string>> got;           // venue -> to_json with recv_ns 0, sorted
  std::map<std::string, std::vector<mi::deriv::derivative>> ois; // binance-usdm's polled open interest
  auto read_stream = [&] {
    got.clear();
    ois.clear();
    auto st = (*js)->state("MARKET_DERIV");
    REQUIRE(st);
    for (std::uint64_t seq = st->first_seq; seq <= st->last_seq && st->messages > 0; ++seq) {
      auto m = (*js)->get_message("MARKET_DERIV", seq);
      REQUIRE(m);
      REQUIRE(*m);
      auto d = mi::deriv::decode_pb((**m).data());
      REQUIRE(d);
      CHECK(std::string((**m).subject()) == mi::deriv::subject(*d));
      CHECK(d->recv_ns > 0);
      if (d->exchange == "binance-usdm" && d->what == mi::deriv::channel::open_interest) {
        ois[d->exchange].push_back(*d);
        continue;
      }
      d->recv_ns = 0;
      got[d->exchange].push_back(mi::deriv::to_json(*d));
    }
    for (auto& [v, list] : got)
      std::sort(list.begin(), list.end()); // no std::unique here: a message published twice would be a failure
  };
  const bool all = mi::test::eventually(
    [&] {
      std::this_thread::sleep_for(200ms);
      read_stream();
      return got == truth && !ois["binance-usdm"].empty();
    },
    30s);
  for (const auto& v : venues) {
    INFO(v << ": " << got[v].size() << " events published, " << truth[v].size() << " true");
    CHECK(got[v] == truth[v]);
    CHECK(truth[v].size() > 300); // marks from every trade, and the other channels on top
    std::set<std::string> channels;
    for (const auto& e : got[v])
      channels.insert(std::string(boost::json::parse(e).at("channel").as_string()));
    const std::set<std::string> want = v == "binance-usdm"
                                         ? std::set<std::string>{"funding", "liquidation", "mark"}
                                         : std::set<std::string>{"funding", "liquidation", "mark", "oi"};
    CHECK(channels == want);
  }
  CHECK(all);
  // binance-usdm's open interest comes from REST: each polled value is the simulator's after some trade n
  // (100000 + n + 0.5) at that trade's time, the time of one of the true mark events.
  std::set<std::int64_t> mark_times;
  for (const auto& e : truth["binance-usdm"]) {
    auto v = boost::json::parse(e).as_object();
    if (v.at("channel").as_string() == "mark")
      mark_times.insert(v.at("ts_ns").to_number<std::int64_t>());
  }
  REQUIRE_FALSE(ois["binance-usdm"].empty());
  for (const auto& d : ois["binance-usdm"]) {
    CHECK(mark_times.count(d.ts_ns) == 1);
    CHECK(d.open_interest.size() == 8); // "1000NN.5" .. "100300.5"
    CHECK(d.open_interest.substr(d.open_interest.size() - 2) == ".5");
  }
  // market_derivatives: one row per published event, with the same values (NULL where the event has none).
  auto row_of = [](const mi::deriv::derivative& d) {
    return std::string(mi::deriv::to_string(d.what)) + "|" + std::to_string(d.ts_ns) + "|" + d.rate + "|" +
           (d.next_funding_ns != 0 ? std::to_string(d.next_funding_ns / 1000) : "") + "|" + d.mark_price + "|" +
           d.index_price + "|" + d.open_interest + "|" + d.open_interest_value + "|" +
           (d.what == mi::deriv::channel::liquidation ? std::string(mi::to_string(d.side)) : "") + "|" + d.price + "|" +
           d.quantity;
  };
  std::map<std::string, std::vector<std::string>> want_rows;
  {
    auto st = (*js)->state("MARKET_DERIV");
    REQUIRE(st);
    for (std::uint64_t seq = st->first_seq; seq <= st->last_seq && st->messages > 0; ++seq) {
      auto m = (*js)->get_message("MARKET_DERIV", seq);
      REQUIRE(m);
      REQUIRE(*m);
      auto d = mi::deriv::decode_pb((**m).data());
      REQUIRE(d);
      want_rows[d->exchange].push_back(row_of(*d));
    }
  }
  const std::string select =
    "SELECT channel || '|' || ts_ns || '|' || coalesce(rate::text, '') || '|' || coalesce((extract(epoch FROM "
    "next_funding) * 1000000)::bigint::text, '') || '|' || coalesce(mark_price::text, '') || '|' || "
    "coalesce(index_price::text, '') || '|' || coalesce(open_interest::text, '') || '|' || "
    "coalesce(open_interest_value::text, '') || '|' || coalesce(side, '') || '|' || coalesce(price::text, '') || '|' "
    "|| coalesce(quantity::text, '') FROM market_derivatives WHERE exchange = ";
  for (const auto& v : venues) {
    auto& want = want_rows[v];
    std::sort(want.begin(), want.end());
    std::vector<std::string> rows;
    const bool stored = mi::test::eventually(
      [&] {
        std::this_thread::sleep_for(200ms);
        rows.clear();
        std::istringstream in(pg.psql(select + "'" + v + "' ORDER BY 1"));
        for (std::string line; std::getline(in, line);)
          rows.push_back(line);
        std::sort(rows.begin(), rows.end());
        return rows == want;
      },
      30s);
    INFO(v << ": " << rows.size() << " rows, " << want.size() << " published; first row "
           << (rows.empty() ? std::string("-") : rows.front()) << " vs "
           << (want.empty() ? std::string("-") : want.front()));
    CHECK(stored);
    CHECK(rows.size() > 300);
  }
  // GET /api/v1/derivatives serves the stored events: the same as MARKET_DERIV (binance-usdm's polled open interest
  // aside, as above), one channel when asked, and refuses what is not a derivatives venue or a channel.
  for (const auto& v : venues) {
    auto r = mi::test::http_get(api_port, "/api/v1/derivatives?exchange=" + v + "&symbol=BTCUSDT&start=0&limit=1000");
    REQUIRE(r.status == 200);
    std::vector<std::string> served;
    std::size_t liquidations = 0;
    auto body = boost::json::parse(r.body);
    for (auto e : body.as_array()) {
      auto& o = e.as_object();
      CHECK(o.at("recv_ns").to_number<std::int64_t>() > 0);
      if (v == "binance-usdm" && o.at("channel").as_string() == "oi")
        continue;
      o["recv_ns"] = 0;
      liquidations += o.at("channel").as_string() == "liquidation" ? 1 : 0;
      served.push_back(boost::json::serialize(e));
    }
    std::vector<std::string> want;
    for (const auto& t : truth[v])
      want.push_back(boost::json::serialize(boost::json::parse(t))); // the same key order and number text
    std::sort(served.begin(), served.end());
    std::sort(want.begin(), want.end());
    want.erase(std::unique(want.begin(), want.end()), want.end());
    CHECK_MESSAGE(served == want, v);
    auto liq = mi::test::http_get(api_port, "/api/v1/derivatives?exchange=" + v +
                                              "&symbol=BTCUSDT&channel=liquidation&start=0&limit=1000");
    REQUIRE(liq.status == 200);
    CHECK(boost::json::parse(liq.body).as_array().size() == liquidations);
    CHECK(liquidations > 0);
  }
  CHECK(mi::test::http_get(api_port, "/api/v1/derivatives?exchange=binance&symbol=BTCUSDT").status == 400);
  CHECK(mi::test::http_get(api_port, "/api/v1/derivatives?exchange=okx-swap&symbol=BTCUSDT&channel=basis").status ==
        400);
  platform.signal(SIGTERM);
  CHECK(platform.wait_for(60s) == 0);
  for (auto& sim : sims)
    sim->kill_hard();
}
