// The A-share venue end to end (issue 13): the A-share simulator (in this process, real HTTP on loopback) stands in
// for Tencent, Sina and Eastmoney; `market-ingestor run --roles ingest,store,api` polls it, publishes to MARKET_QUOTE
// (real nats-server), stores in PostgreSQL (real) and serves the REST API, where the assertions look.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <chrono>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

#include "connectors/transport/io_thread.hpp"
#include "messages/decimal.hpp"
#include "messages/polled_venues.hpp"
#include "messages/util/civil_time.hpp"
#include "simulator/cn/cn_sim_server.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

struct cn_env {
  mi::sim::cn::cn_sim sim;
  mi::net::io_thread io;
  mi::sim::cn::cn_sim_server server{io.context(), sim};
  std::unique_ptr<mi::test::platform_env> env;

  /// `start_ns`: the simulated market's first snapshot (its clock moves a second per poll).
  explicit cn_env(std::int64_t start_ns = wall_ns()) : sim({"600000.SH", "000001.SZ"}, start_ns) {
    const std::string url = server.base_url();
    std::string y = "equities:\n  cn:\n    enabled: true\n    symbols: [600000.SH, 000001.SZ]\n    interval: 1s\n"
                    "    jitter_percent: 0\n    sessions_only: false\n    daily_bars_after: 1m\n    sources:\n";
    for (const char* s : {"tencent", "sina", "eastmoney"})
      y += std::string("      ") + s + ": {url: \"" + url +
           "\", requests_per_second: 5, burst: 2, failure_threshold: 2, open_for: 3s, timeout: 1s}\n";
    env = std::make_unique<mi::test::platform_env>(std::vector<std::string>{"1m"}, "", "", "", y);
    ::setenv("MI_API_AUTH", "off", 1); // the child inherits it: the API is read without signing here
  }
  ~cn_env() { ::unsetenv("MI_API_AUTH"); }
  cn_env(const cn_env&) = delete;
  cn_env& operator=(const cn_env&) = delete;

  std::string sql(const std::string& q) const { return env->pg.psql(q); }
  int count(const std::string& table, const std::string& where) const {
    return std::stoi(sql("SELECT count(*) FROM " + table + " WHERE " + where));
  }

  template <class P>
  bool eventually(P pred, std::chrono::seconds timeout = 30s) const {
    const auto end = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < end) {
      try {
        if (pred())
          return true;
      } catch (const std::exception&) {
        // the tables do not exist before the store role migrated
      }
      std::this_thread::sleep_for(200ms);
    }
    return false;
  }
};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);)
    if (!l.empty())
      out.push_back(l);
  return out;
}

} // namespace

TEST_CASE("cn: quotes of two symbols reach MARKET_QUOTE, market_quotes and the API, every simulator snapshot once "
          "while Tencent fails, times out and comes back") {
  cn_env e;
  e.env->start_platform({"--roles", "ingest,store,api,push"});
  // A push client of quote.cn.600000_SH gets the live snapshots (the symbol as its subject token).
  const auto pushed = mi::test::run({"timeout", "20", MI_BINARY, "tail", "quote.cn.600000_SH", "--url",
                                     "ws://127.0.0.1:" + std::to_string(e.env->push_port()) + "/", "--count", "3"});
  int frames = 0;
  for (const auto& l : lines(pushed.output))
    if (l.rfind("{\"channel\":\"quote.cn.600000_SH\"", 0) == 0 &&
        l.find("\"symbol\":\"600000.SH\"") != std::string::npos && l.find("\"currency\":\"CNY\"") != std::string::npos)
      ++frames;
  CHECK_MESSAGE(frames == 3, pushed.output);
  const auto rows = [&](const char* source) {
    return e.count("market_quotes", std::string("venue = 'cn' AND source = '") + source + "'");
  };
  REQUIRE_MESSAGE(e.eventually([&] { return rows("tencent") >= 6; }), e.env->platform_log());
  // Tencent times out once (the sim answers after 2 s, the client gives up after 1 s), then is down.
  e.sim.set_faults("tencent", {0, 503, 1, 2000, 0, false});
  REQUIRE(e.eventually([&] { return rows("sina") >= 2; }));
  e.sim.set_faults("tencent", {0, 503, 0, 0, 0, true});
  REQUIRE_MESSAGE(e.eventually([&] { return e.env->metric(R"(mi_source_circuit_state{source="cn.tencent"})") == 1; }),
                  e.env->platform_log());
  const int sina_before = rows("sina");
  REQUIRE(e.eventually([&] { return rows("sina") >= sina_before + 6; })); // Sina serves everything
  const auto tencent_rows = rows("tencent");
  e.sim.set_faults("tencent", {});
  // After open_for (3 s) the half-open probe succeeds: Tencent serves again.
  REQUIRE_MESSAGE(e.eventually([&] { return rows("tencent") >= tencent_rows + 6; }), e.env->platform_log());
  CHECK(e.env->metric(R"(mi_source_circuit_state{source="cn.tencent"})") == 0);
  REQUIRE(e.env->stop_platform() == 0);
  e.env->start_platform({"--roles", "api"}); // no more polls: the API reads what was stored

  for (const char* symbol : {"600000.SH", "000001.SZ"}) {
    CAPTURE(symbol);
    // Every snapshot the simulator answered with (all but its last, which no answer showed yet), in order.
    auto h = e.sim.history(symbol);
    REQUIRE(h.size() > 10);
    h.pop_back();
    std::vector<std::string> want;
    for (const auto& s : h)
      want.push_back(std::to_string(s.ts_ns / 1000) + "|" + (s.seq == 0 ? std::string() : s.last.to_string()) + "|" +
                     s.volume.to_string() + "|" + s.turnover.to_string());
    const auto got = lines(e.sql("SELECT (extract(epoch FROM ts) * 1000000)::bigint || '|' || coalesce(last::text, '') "
                                 "|| '|' || volume || '|' || turnover FROM market_quotes WHERE venue = 'cn' AND "
                                 "symbol = '" +
                                 std::string(symbol) + "' ORDER BY ts"));
    // numeric::text keeps the scale it was given: compare through the canonical decimal texts.
    std::vector<std::string> canon;
    for (const auto& g : got) {
      std::vector<std::string> f;
      std::string part;
      std::istringstream in(g);
      while (std::getline(in, part, '|'))
        f.push_back(part);
      f.resize(4);
      auto c = [](const std::string& s) { return s.empty() ? s : mi::decimal::parse(s)->to_string(); };
      canon.push_back(f[0] + "|" + c(f[1]) + "|" + c(f[2]) + "|" + c(f[3]));
    }
    CHECK(canon == want); // consecutive snapshots all present, none twice, across both sources
    CHECK(e.count("market_quotes", "symbol = '" + std::string(symbol) + "' AND source = 'sina'") >= 4);
    CHECK(e.count("market_quotes", "symbol = '" + std::string(symbol) + "' AND source = 'tencent'") >= 6);
    // The API serves the same rows.
    auto r = mi::test::http_get(e.env->api_port(),
                                "/api/v1/quotes?venue=cn&symbol=" + std::string(symbol) + "&start=0&limit=1000");
    REQUIRE(r.status == 200);
    const auto arr = boost::json::parse(r.body).as_array();
    REQUIRE(arr.size() == want.size());
    CHECK(arr[0].at("last").is_null()); // the pre-open line
    CHECK(arr[0].at("volume").as_string() == "0");
    CHECK(arr[0].at("currency").as_string() == "CNY");
    CHECK(arr[1].at("volume").as_string() == h[1].volume.to_string());
    CHECK(arr[1].at("bids").as_array().size() == 5);
  }
  CHECK(e.env->stream_messages("MARKET_QUOTE") == static_cast<std::uint64_t>(e.count("market_quotes", "venue = 'cn'")));
}

TEST_CASE("cn: Eastmoney forward- and backward-adjusted daily bars are stored with their adjustment and served") {
  cn_env e;
  e.env->start_platform({"--roles", "ingest,store,api"});
  REQUIRE_MESSAGE(e.eventually([&] { return e.count("market_daily_bars", "venue = 'cn'") == 12; }),
                  e.env->platform_log());
  // The simulator's bars (cn_sim.hpp): 2026-09-11..13, close 10.1d, volume 1000 + d lots; backward prices x 2.
  CHECK(e.sql("SELECT close || ' ' || volume || ' ' || turnover || ' ' || market FROM market_daily_bars WHERE symbol = "
              "'600000.SH' AND trading_day = '2026-09-11' AND adjustment = 'forward' AND source = 'eastmoney'") ==
        "10.11 100100 20000 XSHG");
  CHECK(e.sql("SELECT market FROM market_daily_bars WHERE symbol = '000001.SZ' LIMIT 1") == "XSHE");
  auto r = mi::test::http_get(e.env->api_port(),
                              "/api/v1/daily_bars?venue=cn&symbol=600000.SH&source=eastmoney&adjustment=backward");
  REQUIRE(r.status == 200);
  const auto arr = boost::json::parse(r.body).as_array();
  REQUIRE(arr.size() == 3);
  CHECK(arr[0].at("trading_day").as_string() == "2026-09-11");
  CHECK(arr[0].at("close").as_string() == "20.22");
  CHECK(arr[2].at("close").as_string() == "20.26");
  CHECK(arr[2].at("volume").as_string() == "100300");
  CHECK(
    mi::test::http_get(e.env->api_port(), "/api/v1/daily_bars?venue=cn&symbol=600000.SH&adjustment=sideways").status ==
    400);
  CHECK(mi::test::http_get(e.env->api_port(), "/api/v1/quotes?venue=CN&symbol=600000.SH").status == 400);
}

TEST_CASE("cn: minute bars derived from the polled snapshots are final 1m klines on market.kline.cn.{token}.1m, in "
          "market_klines and the API, equal to the differences of the simulator's cumulative totals") {
  // The simulated market starts on Wednesday 2026-12-02 at 09:30:50 Shanghai (01:30:50Z), a snapshot a poll (one a
  // second): 09:30 is final at the first 09:31 snapshot, 09:31 at the first 09:32 one.
  const std::int64_t start_ns = (mi::util::days_from_civil(2026, 12, 2) * 86'400 + 3600 + 30 * 60 + 50) * 1'000'000'000;
  cn_env e(start_ns);
  e.env->start_platform({"--roles", "ingest,store,api"});
  const auto stored = [&](const char* symbol) {
    return e.count("market_klines", std::string("exchange = 'cn' AND symbol = '") + symbol + "' AND interval = '1m'");
  };
  REQUIRE_MESSAGE(e.eventually([&] { return stored("600000_SH") >= 2 && stored("000001_SZ") >= 2; }, 150s),
                  e.env->platform_log());
  REQUIRE(e.env->stop_platform() == 0);
  e.env->start_platform({"--roles", "api"}); // no more polls: the API reads what was stored

  for (const char* symbol : {"600000.SH", "000001.SZ"}) {
    CAPTURE(symbol);
    const std::string token = mi::subject_token(symbol);
    // The reference: the simulator's snapshots (every one was polled: one step per answer), grouped by their minute
    // (the first is the session's 09:30 minute), each finished minute's volume and turnover the difference of the
    // cumulative totals between its last snapshot and the last one of the minute before (0 before the first),
    // open/high/low/close the prices the snapshots showed. Only minutes before the last snapshot's are final.
    const auto h = e.sim.history(symbol);
    REQUIRE(!h.empty());
    struct ref {
      std::int64_t minute_ms = 0;
      std::optional<mi::decimal> o, hi, lo, c;
      mi::decimal vol, turn;
    };
    std::vector<ref> minutes;
    mi::decimal base_vol, base_turn, last_vol, last_turn;
    for (const auto& s : h) {
      const std::int64_t m = s.ts_ns / 1'000'000 / 60'000 * 60'000;
      if (minutes.empty() || minutes.back().minute_ms != m) {
        if (!minutes.empty()) {
          minutes.back().vol = *last_vol.checked_add(*mi::decimal::from_parts(-base_vol.mantissa(), base_vol.scale()));
          minutes.back().turn =
            *last_turn.checked_add(*mi::decimal::from_parts(-base_turn.mantissa(), base_turn.scale()));
          base_vol = last_vol;
          base_turn = last_turn;
        }
        minutes.push_back({m, {}, {}, {}, {}, {}, {}});
      }
      auto& r = minutes.back();
      if (s.seq > 0) {
        if (!r.o)
          r.o = r.hi = r.lo = s.last;
        r.hi = std::max(*r.hi, s.last);
        r.lo = std::min(*r.lo, s.last);
        r.c = s.last;
      }
      last_vol = s.volume;
      last_turn = s.turnover;
    }
    minutes.pop_back(); // the open minute
    REQUIRE(minutes.size() >= 2);
    std::vector<std::string> want;
    for (const auto& r : minutes)
      want.push_back(std::to_string(r.minute_ms) + " " + std::to_string(r.minute_ms + 59'999) + " " + r.o->to_string() +
                     " " + r.hi->to_string() + " " + r.lo->to_string() + " " + r.c->to_string() + " " +
                     r.vol.to_string() + " " + r.turn.to_string() + " 0");
    const auto got = lines(e.sql(
      "SELECT (extract(epoch FROM open_time) * 1000)::bigint || ' ' || (extract(epoch FROM close_time) * 1000)::bigint "
      "|| ' ' || open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || quote_volume || ' ' || "
      "trade_count FROM market_klines WHERE exchange = 'cn' AND symbol = '" +
      token + "' AND interval = '1m' ORDER BY open_time"));
    // numeric::text keeps the scale it was given: compare through the canonical decimal texts.
    std::vector<std::string> canon;
    for (const auto& g : got) {
      std::istringstream in(g);
      std::vector<std::string> f;
      for (std::string part; in >> part;)
        f.push_back(part);
      REQUIRE(f.size() == 9);
      std::string line = f[0] + " " + f[1];
      for (std::size_t i = 2; i < 8; ++i)
        line += " " + mi::decimal::parse(f[i])->to_string();
      canon.push_back(line + " " + f[8]);
    }
    CHECK(canon == want);
    // The API serves them as every kline (the symbol as its subject token).
    auto api = mi::test::http_get(e.env->api_port(),
                                  "/api/v1/klines?exchange=cn&symbol=" + token + "&interval=1m&start=0&limit=1000");
    CHECK_MESSAGE(api.status == 200, api.body);
    CHECK(api.body.find("\"open_time_ms\":" + std::to_string(minutes[0].minute_ms)) != std::string::npos);
  }
  CHECK(mi::test::http_get(e.env->api_port(), "/api/v1/klines?exchange=nyse&symbol=AAPL&interval=1m").status == 400);
}
