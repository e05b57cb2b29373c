// saver_batch against a stand-in for the database's verdict: a writer that accepts every row except the
// ones a test names (rejected as PostgreSQL rejects a row that breaks a constraint), or fails as a whole
// (PostgreSQL down). The real PostgreSQL paths are covered by the integration tests (store, dlq).
#include "actors/saver_batch.hpp"

#include <algorithm>
#include <doctest/doctest.h>
#include <set>
#include <string>
#include <vector>

#include "messages/codec.hpp"

using mi::actors::batch_writer;
using mi::actors::disposition;
using mi::actors::saver_batch;
using mi::actors::saver_kind;

namespace {

mi::trade trade(int id) {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = std::to_string(id);
  t.price = *mi::decimal::parse("100.5");
  t.quantity = *mi::decimal::parse("0.25");
  t.taker_side = mi::side::buy;
  t.ts_ns = 1'700'000'000'000'000'000 + id;
  t.recv_ns = t.ts_ns + 1000;
  return t;
}

/// A table with a constraint: the trade ids in `refused` break it, as a whole transaction.
struct fake_table {
  std::set<std::string> refused;
  bool down = false;
  std::vector<std::string> rows; // committed trade ids
  int transactions = 0;

  batch_writer writer() {
    return {[this](const std::vector<mi::trade>& batch) -> mi::result<std::size_t> {
              ++transactions;
              if (down)
                return mi::error{"connection refused", mi::errc::unavailable};
              for (const auto& t : batch)
                if (refused.count(t.trade_id) != 0)
                  return mi::error{"23514: check constraint violated by " + t.trade_id, mi::errc::rejected};
              for (const auto& t : batch)
                rows.push_back(t.trade_id);
              return batch.size();
            },
            [](const std::vector<mi::kline>&) -> mi::result<std::size_t> { return mi::error{"not klines"}; }};
  }
};

std::vector<std::string> payloads_of(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i)
    out.push_back(mi::encode_trade_pb(trade(1000 + i)));
  return out;
}

std::vector<std::string_view> views(const std::vector<std::string>& v) { return {v.begin(), v.end()}; }

} // namespace

TEST_CASE("saver_batch: a clean batch is one transaction, every message stored and none poison") {
  auto p = payloads_of(50);
  saver_batch b(saver_kind::trades, views(p));
  fake_table db;
  auto w = b.store(db.writer());
  REQUIRE(w);
  CHECK(*w == 50);
  CHECK(db.transactions == 1);
  CHECK(db.rows.size() == 50);
  CHECK(b.bad().empty());
  const auto clean = b.bad_mask(); // one copy: begin() and end() of two temporaries would be two vectors
  CHECK(std::none_of(clean.begin(), clean.end(), [](bool x) { return x; }));
}

TEST_CASE("saver_batch: rejected rows are isolated by bisection, every other row is stored") {
  auto p = payloads_of(64);
  saver_batch b(saver_kind::trades, views(p));
  fake_table db;
  db.refused = {"1005", "1040"};
  auto w = b.store(db.writer());
  REQUIRE(w);
  CHECK(*w == 62);
  CHECK(db.rows.size() == 62);
  CHECK(std::find(db.rows.begin(), db.rows.end(), "1005") == db.rows.end());
  REQUIRE(b.bad().size() == 2);
  CHECK(b.bad()[0].index == 5);
  CHECK(b.bad()[1].index == 40);
  CHECK(b.bad()[0].reason == "23514: check constraint violated by 1005");
  auto mask = b.bad_mask();
  CHECK(mask[5]);
  CHECK(mask[40]);
  CHECK(std::count(mask.begin(), mask.end(), true) == 2);
  // Two bad rows among 64: a path of log2(64) halvings each, not one transaction per row.
  CHECK(db.transactions < 30);
}

TEST_CASE("saver_batch: an undecodable message is poison without a write, the rest is stored") {
  auto p = payloads_of(4);
  p[2] = "\xff\xff not protobuf";
  saver_batch b(saver_kind::trades, views(p));
  CHECK(b.decoded() == std::vector<std::size_t>{0, 1, 3});
  fake_table db;
  auto w = b.store(db.writer());
  REQUIRE(w);
  CHECK(*w == 3);
  REQUIRE(b.bad().size() == 1);
  CHECK(b.bad()[0].index == 2);
  CHECK(b.bad()[0].reason.rfind("undecodable trade: ", 0) == 0);
}

TEST_CASE("saver_batch: a transient failure in the middle of a bisection stores nothing more and isolates nothing") {
  auto p = payloads_of(8);
  saver_batch b(saver_kind::trades, views(p));
  fake_table db;
  db.refused = {"1001"};
  auto w0 = db.writer();
  batch_writer w = w0;
  // The database goes down after the first (rejected) transaction.
  w.write_trades = [&db, inner = w0.write_trades](const std::vector<mi::trade>& rows) {
    if (db.transactions == 1)
      db.down = true;
    return inner(rows);
  };
  auto r = b.store(w);
  REQUIRE_FALSE(r);
  CHECK(r.err().message == "connection refused");
  CHECK(b.bad().empty()); // nothing dead-lettered or nak'ed on a transient failure
  CHECK(db.rows.empty());
}

TEST_CASE("saver_batch: a poison message is nak'ed until its delivery count reaches max_attempts, then dead-lettered") {
  CHECK(mi::actors::disposition_of(false, 9, 5) == disposition::ack);
  CHECK(mi::actors::disposition_of(true, 1, 5) == disposition::nak);
  CHECK(mi::actors::disposition_of(true, 4, 5) == disposition::nak);
  CHECK(mi::actors::disposition_of(true, 5, 5) == disposition::dead_letter);
  CHECK(mi::actors::disposition_of(true, 7, 5) == disposition::dead_letter);
  CHECK(mi::actors::disposition_of(true, 1, 1) == disposition::dead_letter);
}

TEST_CASE("saver_batch: a kline batch stores the highest revision of each final and drops partials") {
  auto k = [](std::int64_t open, std::uint32_t rev, bool final) {
    mi::kline x;
    x.exchange = "okx";
    x.symbol = "ETHUSDT";
    x.interval = "1m";
    x.open_time_ms = open;
    x.close_time_ms = open + 59'999;
    x.trade_count = rev + 1;
    x.is_final = final;
    x.revision = rev;
    return mi::encode_kline_pb(x);
  };
  std::vector<std::string> p{k(0, 0, true), k(0, 1, true), k(60'000, 0, false), k(60'000, 0, true), k(0, 0, true)};
  saver_batch b(saver_kind::klines, views(p));
  std::vector<mi::kline> stored;
  batch_writer w{[](const std::vector<mi::trade>&) -> mi::result<std::size_t> { return mi::error{"not trades"}; },
                 [&](const std::vector<mi::kline>& rows) -> mi::result<std::size_t> {
                   stored = rows;
                   return rows.size();
                 }};
  auto r = b.store(w);
  REQUIRE(r);
  CHECK(*r == 2);
  REQUIRE(stored.size() == 2);
  CHECK(stored[0].open_time_ms == 0);
  CHECK(stored[0].revision == 1);
  CHECK(stored[1].open_time_ms == 60'000);
  CHECK(stored[1].is_final);
}

TEST_CASE("saver_batch: each stored row is passed with the index of its message, through a bisection") {
  auto p = payloads_of(6); // trade ids 1000 .. 1005
  p[1] = "\xff\xff not protobuf";
  saver_batch b(saver_kind::trades, views(p));
  fake_table db;
  db.refused = {"1004"};
  auto inner = db.writer();
  std::vector<std::pair<std::string, std::size_t>> committed; // (trade id, message index) of committed rows
  batch_writer w = inner;
  w.write_trades = nullptr; // must not be used when write_trades_of is set
  w.write_trades_of = [&](const std::vector<mi::trade>& rows,
                          const std::vector<std::size_t>& messages) -> mi::result<std::size_t> {
    REQUIRE(rows.size() == messages.size());
    auto r = inner.write_trades(rows);
    if (r)
      for (std::size_t k = 0; k < rows.size(); ++k)
        committed.emplace_back(rows[k].trade_id, messages[k]);
    return r;
  };
  auto r = b.store(w);
  REQUIRE(r);
  CHECK(*r == 4);
  std::sort(committed.begin(), committed.end());
  const std::vector<std::pair<std::string, std::size_t>> want{{"1000", 0}, {"1002", 2}, {"1003", 3}, {"1005", 5}};
  CHECK(committed == want);
}
