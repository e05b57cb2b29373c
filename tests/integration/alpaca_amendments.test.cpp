// Alpaca corrections and cancels applied (issue 13, item 3): amendments on MARKET_RAW, as the Alpaca venue publishes
// them, revise the bars of every interval holding the amended trade (revision + 1, once each, also across a kill -9)
// and change the stored trade. Real nats-server, PostgreSQL and `market-ingestor run --roles kline,store`; the
// expected bars were computed by hand (tests/data/alpaca/amendments/).
#include <doctest/doctest.h>

#include "tests/harness/iso_time.hpp"

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>
#include <string>
#include <vector>

#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "messages/kline.hpp"
#include "messages/trade.hpp"
#include "messages/util/civil_time.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;

namespace {

const std::string data_dir = std::string(MI_SOURCE_DIR) + "/tests/data/alpaca/amendments/";

using mi::test::iso_ms;

std::vector<mi::trade> read_messages() {
  std::ifstream in(data_dir + "messages.jsonl");
  REQUIRE(in.good());
  std::vector<mi::trade> out;
  for (std::string line; std::getline(in, line);) {
    auto t = mi::trade_from_json(line);
    REQUIRE_MESSAGE(t.has_value(), line);
    out.push_back(std::move(*t));
  }
  return out;
}

// "interval open_ms close_ms o h l c v qv n first last rN", in the file's order.
std::vector<std::string> read_expected() {
  std::ifstream in(data_dir + "expected_finals.txt");
  REQUIRE(in.good());
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (auto h = line.find('#'); h != std::string::npos)
      line = line.substr(0, h);
    std::istringstream ls(line);
    std::string k, iv, open, close, o, h, l, c, v, qv, n, first, last, rev;
    if (!(ls >> k))
      continue;
    REQUIRE((ls >> iv >> open >> close >> o >> h >> l >> c >> v >> qv >> n >> first >> last >> rev));
    out.push_back(iv + " " + std::to_string(iso_ms(open)) + " " + std::to_string(iso_ms(close)) + " " + o + " " + h +
                  " " + l + " " + c + " " + v + " " + qv + " " + n + " " + first + " " + last + " r" + rev);
  }
  return out;
}

std::string show(const mi::kline& k) {
  return k.interval + " " + std::to_string(k.open_time_ms) + " " + std::to_string(k.close_time_ms) + " " +
         k.open.to_string() + " " + k.high.to_string() + " " + k.low.to_string() + " " + k.close.to_string() + " " +
         k.volume.to_string() + " " + k.quote_volume.to_string() + " " + std::to_string(k.trade_count) + " " +
         k.first_trade_id + " " + k.last_trade_id + " r" + std::to_string(k.revision);
}

// Every final of MARKET_KLINE in stream order (each message once: JetStream kept one per dedup id).
struct finals_reader {
  std::mutex mu;
  std::vector<mi::kline> finals;
  std::unique_ptr<mi::gw::ordered_consumer> consumer;
  explicit finals_reader(mi::gw::jetstream& js) {
    auto c = mi::gw::ordered_consumer::start(js, "MARKET_KLINE", "market.kline.>", 1, [this](mi::gw::js_message&& m) {
      auto k = mi::decode_kline_pb(std::string(m.data()));
      if (!k || !k->is_final)
        return;
      std::lock_guard lock(mu);
      finals.push_back(std::move(*k));
    });
    REQUIRE_MESSAGE(c.has_value(), "consume MARKET_KLINE");
    consumer = std::move(*c);
  }
  std::vector<std::string> shown() {
    std::lock_guard lock(mu);
    std::vector<std::string> out;
    for (const auto& k : finals)
      out.push_back(show(k));
    return out;
  }
};

void publish(mi::gw::jetstream& js, const mi::trade& t) {
  mi::gw::outgoing o{mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t), std::string(mi::trade_content_type),
                     mi::encode_trade_pb(t)};
  auto r = js.publish_sync(o);
  REQUIRE_MESSAGE(r.has_value(), "publish " << t.trade_id);
}

} // namespace

TEST_CASE("alpaca amendments: a correction and a cancel revise the bars of every interval once, in MARKET_KLINE and "
          "PostgreSQL") {
  mi::test::platform_env env({"1m", "5m", "1d"});
  const std::vector<std::string> roles{"--roles", "kline,store"};
  env.start_platform(roles); // creates the streams and the schema
  REQUIRE(env.stop_platform() == 0);
  mi::gw::jetstream::options o;
  o.url = env.nats_urls();
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE(js.has_value());
  const auto messages = read_messages();
  REQUIRE(messages.size() == 10);
  // The seven trades first: the stage reads them as a replay (windows close by their event time, then by the clock).
  for (std::size_t i = 0; i < 7; ++i)
    publish(**js, messages[i]);
  finals_reader finals(**js);
  env.start_platform(roles);
  const auto expected = read_expected();
  REQUIRE(expected.size() == 13);
  REQUIRE_MESSAGE(mi::test::eventually([&] { return finals.shown().size() >= 7; }, 30s), env.platform_log());
  // The trades are stored before the amendments come (the saver applies an amendment to a stored row).
  REQUIRE(mi::test::eventually([&] { return env.pg.psql("SELECT count(*) FROM market_trades") == "7"; }, 30s));
  for (std::size_t i = 7; i < messages.size(); ++i)
    publish(**js, messages[i]);
  REQUIRE_MESSAGE(
    mi::test::eventually([&] { return finals.shown().size() >= 13; }, 30s), "finals so far:\n"
                                                                              <<
                                                                              [&] {
                                                                                std::string s;
                                                                                for (const auto& f : finals.shown())
                                                                                  s += f + "\n";
                                                                                return s;
                                                                              }()
                                                                              << env.platform_log());
  std::this_thread::sleep_for(2s); // nothing more may come
  auto got = finals.shown();
  REQUIRE(got.size() == 13);
  std::vector<std::string> got0(got.begin(), got.begin() + 7), exp0(expected.begin(), expected.begin() + 7);
  std::sort(got0.begin(), got0.end());
  std::sort(exp0.begin(), exp0.end());
  CHECK(got0 == exp0);
  for (std::size_t i = 7; i < 13; ++i)
    CHECK(got[i] == expected[i]);
  CHECK(env.metric(R"(mi_trade_amendments_total{exchange="alpaca",result="applied"})") == 2);
  CHECK(env.metric(R"(mi_trade_amendments_total{exchange="alpaca",result="unmatched"})") == 1);

  // Stored: the newest revision of each window, and the trades as amended.
  std::map<std::string, std::string> latest; // "interval open" -> expected line of the highest revision
  for (const auto& e : expected) {
    std::istringstream ls(e);
    std::string iv, open;
    ls >> iv >> open;
    latest[iv + " " + open] = e;
  }
  const std::string klines_sql =
    "SELECT interval || ' ' || open_time_ms || ' ' || (extract(epoch FROM close_time) * 1000)::bigint || ' ' || "
    "open || ' ' || high || ' ' || low || ' ' || close || ' ' || volume || ' ' || quote_volume || ' ' || "
    "trade_count || ' ' || first_trade_id || ' ' || last_trade_id || ' r' || revision FROM market_klines "
    "ORDER BY interval, open_time_ms";
  std::vector<std::string> want;
  for (const auto& [key, line] : latest)
    want.push_back(line);
  std::sort(want.begin(), want.end());
  auto stored_rows = [&] {
    std::vector<std::string> rows;
    std::istringstream in(env.pg.psql(klines_sql));
    for (std::string l; std::getline(in, l);)
      rows.push_back(l);
    std::sort(rows.begin(), rows.end());
    return rows;
  };
  REQUIRE_MESSAGE(mi::test::eventually([&] { return stored_rows() == want; }, 30s), "market_klines:\n"
                                                                                      << env.pg.psql(klines_sql));
  CHECK(env.pg.psql("SELECT trade_id || ' ' || price || ' ' || quantity || ' ' || canceled || ' ' || "
                    "coalesce(corrected_by, '-') FROM market_trades ORDER BY ts_ns") ==
        "1-V 100 10 false -\n2-V 100.5 6 false 8-V\n3-D 100.8 20 false -\n4-V 99 7 true -\n5-V 99.5 3 false -\n"
        "6-K 100.2 8 false -\n7-V 100.4 1 false -");

  // kill -9 and start: the replay meets the amendments again and publishes nothing new.
  env.kill_platform();
  env.start_platform(roles);
  std::this_thread::sleep_for(4s);
  CHECK(finals.shown().size() == 13);
}
