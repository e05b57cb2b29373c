#include "gateways/postgres/postgres.hpp"
#include "gateways/postgres/partitions.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <future>
#include <sstream>

#include "messages/codec.hpp"
#include "tests/harness/pg_server.hpp"

namespace {

mi::decimal dec(const char* text) {
  auto d = mi::decimal::parse(text);
  REQUIRE_MESSAGE(d.has_value(), text);
  return *d;
}

// Prices and quantities that a round trip through numeric must keep exactly.
const char* const price_texts[] = {"16500.12",
                                   "0.000000000000000001",
                                   "12345678901234567890.123456789",
                                   "1",
                                   "0.1",
                                   "99999999999999999999.999999999999999999",
                                   "40000",
                                   "0.00001234"};
const char* const quantity_texts[] = {"0.001", "100", "123456789.123456789012345678", "0.000000000000000001", "7"};

/// `n` distinct trades over 2 exchanges x 2 symbols, starting at trade id `first_id`; times
/// with nanosecond digits (not multiples of 1000) so precision loss would show.
std::vector<mi::trade> make_trades(std::size_t n, std::size_t first_id = 0) {
  std::vector<mi::trade> out;
  out.reserve(n);
  const char* exchanges[] = {"binance", "okx"};
  const char* symbols[][3] = {{"BTCUSDT", "BTC", "USDT"}, {"ETHUSDT", "ETH", "USDT"}};
  const mi::side sides[] = {mi::side::buy, mi::side::sell, mi::side::unknown};
  for (std::size_t k = 0; k < n; ++k) {
    std::size_t i = first_id + k;
    mi::trade t;
    t.exchange = exchanges[i % 2];
    const auto& s = symbols[(i / 2) % 2];
    t.symbol = s[0];
    t.base = s[1];
    t.quote = s[2];
    t.trade_id = (i % 7 == 0 ? "x-" : "") + std::to_string(1'000'000 + i);
    t.price = dec(price_texts[i % std::size(price_texts)]);
    t.quantity = dec(quantity_texts[i % std::size(quantity_texts)]);
    t.taker_side = sides[i % 3];
    t.ts_ns =
      1'672'515'782'136'000'000LL + static_cast<std::int64_t>(i) * 1'234'567 + static_cast<std::int64_t>(i % 999);
    t.recv_ns = t.ts_ns + 5'000'123;
    out.push_back(std::move(t));
  }
  return out;
}

/// The order read_trades promises: exchange, symbol, time, trade id (byte order).
std::vector<mi::trade> sorted(std::vector<mi::trade> v) {
  std::sort(v.begin(), v.end(), [](const mi::trade& a, const mi::trade& b) {
    return std::tie(a.exchange, a.symbol, a.ts_ns, a.trade_id) < std::tie(b.exchange, b.symbol, b.ts_ns, b.trade_id);
  });
  return v;
}

/// Empty when equal, else where and how they first differ (readable on failure).
std::string first_difference(const std::vector<mi::trade>& got, const std::vector<mi::trade>& want) {
  if (got.size() != want.size())
    return "size " + std::to_string(got.size()) + " != " + std::to_string(want.size());
  for (std::size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i]))
      return "row " + std::to_string(i) + ": got " + mi::trade_to_json(got[i]) +
             " recv_ns=" + std::to_string(got[i].recv_ns) + "\n want " + mi::trade_to_json(want[i]) +
             " recv_ns=" + std::to_string(want[i].recv_ns);
  return {};
}

mi::kline make_kline(std::uint32_t revision, const char* close) {
  mi::kline k;
  k.exchange = "binance";
  k.symbol = "BTCUSDT";
  k.interval = "1m";
  k.open_time_ms = 1'672'515'780'000;
  k.close_time_ms = k.open_time_ms + 59'999;
  k.open = dec("16500.12");
  k.high = dec("16510.5");
  k.low = dec("16490.000000000000000001");
  k.close = dec(close);
  k.volume = dec("12345678901234567890.123456789");
  k.quote_volume = dec("1.5");
  k.trade_count = 4'000'000'000ULL;
  k.taker_buy_volume = dec("0.001");
  k.taker_buy_quote_volume = dec("16.50012");
  k.vwap = dec("16500.123456789012345678");
  k.first_trade_id = "100";
  k.last_trade_id = "199";
  k.is_final = true;
  k.revision = revision;
  return k;
}

struct migrated_db {
  mi::test::pg_server pg;
  migrated_db() {
    auto applied = mi::gw::migrate(pg.conninfo());
    REQUIRE_MESSAGE(applied.has_value(), (applied ? "" : applied.err().message));
  }
  std::unique_ptr<mi::gw::pg_writer> writer() {
    auto w = mi::gw::pg_writer::connect(pg.conninfo());
    REQUIRE_MESSAGE(w.has_value(), (w ? "" : w.err().message));
    return std::move(*w);
  }
};

std::size_t must(const mi::result<std::size_t>& r) {
  REQUIRE_MESSAGE(r.has_value(), (r ? "" : r.err().message));
  return *r;
}

} // namespace

TEST_CASE("timestamptz_text is exact to the microsecond and floors before 1970") {
  CHECK(mi::gw::timestamptz_text(0) == "1970-01-01 00:00:00.000000+00");
  CHECK(mi::gw::timestamptz_text(1'672'515'782'136'000'999LL) == "2022-12-31 19:43:02.136000+00");
  CHECK(mi::gw::timestamptz_text(951'782'400'000'001'000LL) == "2000-02-29 00:00:00.000001+00");
  CHECK(mi::gw::timestamptz_text(-1) == "1969-12-31 23:59:59.999999+00");
}

TEST_CASE("embedded migrations are numbered and in order") {
  const auto& all = mi::gw::embedded_migrations();
  REQUIRE(!all.empty());
  CHECK(all.front().version == "0001");
  CHECK(all.front().name == "0001_init.sql");
  CHECK(all.front().sql.find("CREATE TABLE market_trades") != std::string_view::npos);
  for (std::size_t i = 1; i < all.size(); ++i)
    CHECK(all[i - 1].version < all[i].version);
}

TEST_CASE("migrate applies 0001 once and is then up to date") {
  mi::test::pg_server pg;
  auto first = mi::gw::migrate(pg.conninfo());
  REQUIRE_MESSAGE(first.has_value(), (first ? "" : first.err().message));
  CHECK(first->size() == mi::gw::embedded_migrations().size());
  CHECK(first->front() == "0001");

  auto second = mi::gw::migrate(pg.conninfo());
  REQUIRE(second.has_value());
  CHECK(second->empty());
  CHECK(pg.psql("SELECT count(*) FROM schema_migrations WHERE version = '0001'") == "1");
  CHECK(pg.psql("SELECT count(*) FROM schema_migrations") == std::to_string(mi::gw::embedded_migrations().size()));
  CHECK(pg.psql("SELECT to_regclass('market_trades') IS NOT NULL AND to_regclass('market_klines') IS NOT NULL") == "t");
}

TEST_CASE("two processes migrating at once apply each migration exactly once") {
  mi::test::pg_server pg;
  auto run = [&] { return mi::gw::migrate(pg.conninfo()); };
  auto a = std::async(std::launch::async, run);
  auto b = std::async(std::launch::async, run);
  auto ra = a.get();
  auto rb = b.get();
  REQUIRE_MESSAGE(ra.has_value(), (ra ? "" : ra.err().message));
  REQUIRE_MESSAGE(rb.has_value(), (rb ? "" : rb.err().message));
  CHECK(ra->size() + rb->size() == mi::gw::embedded_migrations().size());
  CHECK(pg.psql("SELECT count(*) FROM schema_migrations") == std::to_string(mi::gw::embedded_migrations().size()));
}

TEST_CASE("migrate reports an unreachable server clearly") {
  auto r = mi::gw::migrate("host=127.0.0.1 port=" + std::to_string(mi::test::free_port()) +
                           " user=postgres dbname=postgres connect_timeout=5");
  REQUIRE(!r.has_value());
  CHECK(r.err().message.find("migrate") != std::string::npos);
  CHECK(r.err().message.find("onnect") != std::string::npos); // "could not connect" / "Connection refused"
}

TEST_CASE("pg_writer::connect fails with a clear error when nothing listens") {
  auto w = mi::gw::pg_writer::connect("host=127.0.0.1 port=" + std::to_string(mi::test::free_port()) +
                                      " user=postgres dbname=postgres connect_timeout=5");
  REQUIRE(!w.has_value());
  CHECK(w.err().message.find("postgres connect") != std::string::npos);
  MESSAGE("error text: " << w.err().message);
}

TEST_CASE("ten thousand trades written are read back value for value") {
  migrated_db db;
  auto writer = db.writer();
  auto batch = make_trades(10'000);
  CHECK(must(writer->write_trades(batch)) == 10'000);

  auto back = mi::gw::read_trades(db.pg.conninfo());
  REQUIRE_MESSAGE(back.has_value(), (back ? "" : back.err().message));
  auto diff = first_difference(*back, sorted(batch));
  CHECK_MESSAGE(diff.empty(), diff);
  // ts is ts_ns floored to the microsecond, exactly (no float on the way).
  CHECK(db.pg.psql("SELECT count(*) FROM market_trades WHERE (extract(epoch FROM ts) * 1000000)::bigint <> ts_ns / "
                   "1000") == "0");
  CHECK(db.pg.psql("SELECT price::text FROM market_trades WHERE trade_id = '1000002'") ==
        "12345678901234567890.123456789");
}

TEST_CASE("writing the same batch again inserts nothing") {
  migrated_db db;
  auto writer = db.writer();
  auto batch = make_trades(2'000);
  CHECK(must(writer->write_trades(batch)) == 2'000);
  CHECK(must(writer->write_trades(batch)) == 0);
  CHECK(db.pg.psql("SELECT count(*) FROM market_trades") == "2000");
}

TEST_CASE("a batch mixing new and already stored trades inserts only the new ones") {
  migrated_db db;
  auto writer = db.writer();
  CHECK(must(writer->write_trades(make_trades(1'000, 0))) == 1'000);
  auto mixed = make_trades(1'000, 500); // 500 old, 500 new
  mixed.push_back(mixed.back());        // and a duplicate inside the batch
  CHECK(must(writer->write_trades(mixed)) == 500);
  auto back = mi::gw::read_trades(db.pg.conninfo());
  REQUIRE(back.has_value());
  auto diff = first_difference(*back, sorted(make_trades(1'500, 0)));
  CHECK_MESSAGE(diff.empty(), diff);
}

TEST_CASE("market_symbols counts exactly the trades stored, across batches, redeliveries and symbols") {
  migrated_db db;
  auto writer = db.writer();
  auto a = make_trades(1'000, 0);
  auto b = make_trades(300, 0);
  for (auto& t : b)
    t.symbol = "ETHUSDT";
  must(writer->write_trades(a));
  auto mixed = make_trades(1'000, 500); // 500 already stored
  mixed.insert(mixed.end(), b.begin(), b.end());
  must(writer->write_trades(mixed));
  must(writer->write_trades(b)); // a redelivery adds nothing
  // The reference: an aggregate over market_trades itself.
  const std::string summary = "SELECT string_agg(exchange || ' ' || symbol || ' ' || first_ts_ns || ' ' || last_ts_ns "
                              "|| ' ' || trade_count, ';' ORDER BY exchange, symbol) FROM market_symbols";
  const std::string reference = "SELECT string_agg(x, ';' ORDER BY x) FROM (SELECT exchange || ' ' || symbol || ' ' || "
                                "min(ts_ns) || ' ' || max(ts_ns) || ' ' || count(*) AS x FROM market_trades GROUP BY "
                                "exchange, symbol) q";
  CHECK(db.pg.psql(summary) == db.pg.psql(reference));
  CHECK(db.pg.psql("SELECT sum(trade_count) FROM market_symbols") == db.pg.psql("SELECT count(*) FROM market_trades"));
}

TEST_CASE("upsert_klines inserts, a newer revision updates, an older one does not overwrite") {
  migrated_db db;
  auto writer = db.writer();
  CHECK(must(writer->upsert_klines({make_kline(0, "16501")})) == 1);
  auto back = mi::gw::read_klines(db.pg.conninfo());
  REQUIRE(back.has_value());
  REQUIRE(back->size() == 1);
  CHECK(back->front() == make_kline(0, "16501"));

  CHECK(must(writer->upsert_klines({make_kline(1, "16502.5")})) == 1);
  back = mi::gw::read_klines(db.pg.conninfo());
  REQUIRE(back.has_value());
  REQUIRE(back->size() == 1);
  CHECK(back->front() == make_kline(1, "16502.5"));

  CHECK(must(writer->upsert_klines({make_kline(0, "16501")})) == 0);
  back = mi::gw::read_klines(db.pg.conninfo());
  REQUIRE(back.has_value());
  REQUIRE(back->size() == 1);
  CHECK(back->front() == make_kline(1, "16502.5"));

  // Two revisions of one window in one batch: the highest wins, whatever the order.
  CHECK(must(writer->upsert_klines({make_kline(3, "3"), make_kline(2, "2")})) == 1);
  back = mi::gw::read_klines(db.pg.conninfo());
  REQUIRE(back.has_value());
  CHECK(back->front() == make_kline(3, "3"));
  CHECK(db.pg.psql("SELECT close_time FROM market_klines") == "2022-12-31 19:43:59.999+00");
}

TEST_CASE("a write that fails on the server leaves the writer usable") {
  mi::test::pg_server pg;
  auto w = mi::gw::pg_writer::connect(pg.conninfo());
  REQUIRE(w.has_value());
  auto& writer = *w;
  auto batch = make_trades(10);
  auto before = writer->write_trades(batch); // no tables yet
  REQUIRE(!before.has_value());
  CHECK(before.err().message.find("market_trades") != std::string::npos);
  REQUIRE(mi::gw::migrate(pg.conninfo()).has_value());
  CHECK(must(writer->write_trades(batch)) == 10);
}

TEST_CASE("a write while the server is down fails and after a restart the same writer succeeds without duplicates") {
  migrated_db db;
  auto writer = db.writer();
  CHECK(must(writer->write_trades(make_trades(100, 0))) == 100);
  CHECK(must(writer->upsert_klines({make_kline(0, "1")})) == 1);

  db.pg.stop_immediate();
  auto during = writer->write_trades(make_trades(100, 50));
  REQUIRE(!during.has_value());
  MESSAGE("error while down: " << during.err().message);
  CHECK(!writer->healthy());

  db.pg.start();
  CHECK(must(writer->write_trades(make_trades(100, 50))) == 50);
  CHECK(writer->healthy());
  CHECK(must(writer->upsert_klines({make_kline(1, "2")})) == 1);
  CHECK(db.pg.psql("SELECT count(*) FROM market_trades") == "150");
  auto back = mi::gw::read_trades(db.pg.conninfo());
  REQUIRE(back.has_value());
  auto diff = first_difference(*back, sorted(make_trades(150, 0)));
  CHECK_MESSAGE(diff.empty(), diff);
}

// Not part of the test run (doctest skip): `mi_postgres_tests --no-skip -tc='*throughput*'`.
TEST_CASE("write_trades throughput (report only)" * doctest::skip()) {
  for (std::size_t batch_size : {1'000, 10'000}) {
    migrated_db db;
    auto writer = db.writer();
    auto all = make_trades(100'000);
    auto start = std::chrono::steady_clock::now();
    std::clock_t cpu_start = std::clock();
    for (std::size_t i = 0; i < all.size(); i += batch_size) {
      std::vector<mi::trade> batch(all.begin() + static_cast<std::ptrdiff_t>(i),
                                   all.begin() + static_cast<std::ptrdiff_t>(i + batch_size));
      CHECK(must(writer->write_trades(batch)) == batch_size);
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    double cpu = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    MESSAGE("100k trades in batches of " << batch_size << ": " << secs << " s, " << static_cast<long>(100'000 / secs)
                                         << " rows/s (fsync on; client CPU " << cpu << " s)");
  }
}

TEST_CASE("a row PostgreSQL rejects is a rejected error, a stopped server an unavailable one") {
  migrated_db db;
  auto writer = db.writer();
  auto batch = make_trades(10);
  batch[3].trade_id = std::string("bad\0id", 6); // text cannot hold NUL: the server rejects the row
  auto r = writer->write_trades(batch);
  REQUIRE(!r.has_value());
  MESSAGE("data error: " << r.err().message);
  CHECK(r.err().code == mi::errc::rejected);
  CHECK(r.err().message.find("SQLSTATE 22") != std::string::npos);
  batch.erase(batch.begin() + 3);
  CHECK(must(writer->write_trades(batch)) == 9);
  db.pg.stop_immediate();
  auto down = writer->write_trades(make_trades(5, 100));
  REQUIRE(!down.has_value());
  CHECK(down.err().code == mi::errc::unavailable);
}

// ---------------------------------------------------------------------------------------------
// Exactly once by stream sequence (0014 market_raw_stored) and the key fallback.

namespace {

/// The origin of `batch` as if its messages had the stream sequences first_seq, first_seq + 1, ... and JetStream
/// timestamps a millisecond apart from `ts0`.
mi::gw::pg_writer::raw_origin origin_of(std::size_t n, std::uint64_t first_seq,
                                        std::int64_t ts0 = 1'700'000'000'000'000'000) {
  mi::gw::pg_writer::raw_origin o;
  o.stream = "MARKET_RAW";
  for (std::size_t i = 0; i < n; ++i) {
    o.seqs.push_back(first_seq + i);
    o.ts_ns.push_back(ts0 + static_cast<std::int64_t>(first_seq + i) * 1'000'000);
  }
  return o;
}

std::string count_trades(const migrated_db& db) { return db.pg.psql("SELECT count(*) FROM market_trades"); }

} // namespace

TEST_CASE("a redelivered batch is recognised by its stream sequences, whole or split differently, with no unique key") {
  migrated_db db;
  // The reference for "stored once" must not be the primary key itself: without it, only the sequences can keep a
  // redelivery out (ON CONFLICT DO NOTHING then has no arbiter and the fallback would insert every row again).
  db.pg.psql("ALTER TABLE market_trades DROP CONSTRAINT market_trades_pkey");
  auto writer = db.writer();
  const auto all = make_trades(300, 0);
  const auto all_origin = origin_of(300, 1);
  std::vector<mi::trade> first(all.begin(), all.begin() + 200); // seqs 1..200
  const auto first_origin = origin_of(200, 1);
  CHECK(must(writer->write_trades(first, &first_origin)) == 200);

  // The same batch again (a lost ack): nothing stored.
  CHECK(must(writer->write_trades(first, &first_origin)) == 0);
  CHECK(writer->stats().redelivered_skipped == 200);
  // Split differently, mixed with new messages: seqs 101..250 (101..200 stored, 201..250 new), then 1..100 and
  // 251..300 interleaved in the other order.
  std::vector<mi::trade> second(all.begin() + 100, all.begin() + 250);
  const auto second_origin = origin_of(150, 101);
  CHECK(must(writer->write_trades(second, &second_origin)) == 50);
  std::vector<mi::trade> third;
  mi::gw::pg_writer::raw_origin third_origin;
  third_origin.stream = "MARKET_RAW";
  for (std::size_t i : {299, 0, 250, 99, 50, 275}) {
    third.push_back(all[i]);
    third_origin.seqs.push_back(all_origin.seqs[i]);
    third_origin.ts_ns.push_back(all_origin.ts_ns[i]);
  }
  CHECK(must(writer->write_trades(third, &third_origin)) == 3); // 299, 250, 275 are new
  CHECK(writer->stats().redelivered_skipped == 200 + 100 + 3);
  CHECK(writer->stats().key_fallbacks == 0);
  CHECK(count_trades(db) == "253");
  CHECK(db.pg.psql("SELECT count(*) FROM (SELECT DISTINCT exchange, symbol, trade_id FROM market_trades) d") == "253");
  CHECK(db.pg.psql("SELECT sum(trade_count) FROM market_symbols") == "253");
}

TEST_CASE("a trade published again under new sequences is stored once, through the key fallback") {
  migrated_db db;
  auto writer = db.writer();
  const auto batch = make_trades(100, 0);
  const auto o1 = origin_of(100, 1);
  CHECK(must(writer->write_trades(batch, &o1)) == 100);
  // A backfill long after JetStream's dedup window: the same trades, new messages (seqs 1001..), half of them new.
  auto again = make_trades(100, 50);
  const auto o2 = origin_of(100, 1001);
  CHECK(must(writer->write_trades(again, &o2)) == 50);
  CHECK(writer->stats().key_fallbacks == 1);
  CHECK(writer->stats().redelivered_skipped == 0);
  // The fallback recorded its sequences: their redelivery is now skipped without a fallback.
  CHECK(must(writer->write_trades(again, &o2)) == 0);
  CHECK(writer->stats().key_fallbacks == 1);
  CHECK(writer->stats().redelivered_skipped == 100);
  auto back = mi::gw::read_trades(db.pg.conninfo());
  REQUIRE(back.has_value());
  auto diff = first_difference(*back, sorted(make_trades(150, 0)));
  CHECK_MESSAGE(diff.empty(), diff);
  CHECK(db.pg.psql("SELECT sum(trade_count) FROM market_symbols") == "150");
}

TEST_CASE("a stream created again reuses sequences with later timestamps: its messages are not taken for stored") {
  migrated_db db;
  auto writer = db.writer();
  const auto old_batch = make_trades(50, 0);
  const auto old_origin = origin_of(50, 1);
  CHECK(must(writer->write_trades(old_batch, &old_origin)) == 50);
  const auto new_batch = make_trades(50, 1000);
  const auto new_origin = origin_of(50, 1, 1'700'000'000'000'000'000 + 3'600'000'000'000); // an hour later
  CHECK(must(writer->write_trades(new_batch, &new_origin)) == 50);
  CHECK(writer->stats().redelivered_skipped == 0);
  CHECK(count_trades(db) == "100");
}

TEST_CASE("pruned sequences fall back on the key: a late redelivery still stores nothing twice") {
  migrated_db db;
  auto writer = db.writer();
  const auto batch = make_trades(100, 0);
  const auto o = origin_of(100, 1);
  CHECK(must(writer->write_trades(batch, &o)) == 100);
  const auto next = make_trades(10, 100);
  const auto o2 = origin_of(10, 101);
  CHECK(must(writer->write_trades(next, &o2)) == 10);
  CHECK(must(writer->prune_stored("MARKET_RAW", 101)) == 1); // the set 1..100; 101..110 stays
  CHECK(db.pg.psql("SELECT count(*) FROM market_raw_stored") == "1");
  CHECK(must(writer->write_trades(batch, &o)) == 0);
  CHECK(writer->stats().key_fallbacks == 1);
  CHECK(count_trades(db) == "110");
  CHECK(db.pg.psql("SELECT sum(trade_count) FROM market_symbols") == "110");
}

TEST_CASE("two writers storing the same messages at once store each trade once") {
  migrated_db db;
  auto a = db.writer();
  auto b = db.writer();
  const auto batch = make_trades(5'000, 0);
  const auto o = origin_of(5'000, 1);
  for (int round = 0; round < 3; ++round) {
    auto fa = std::async(std::launch::async, [&] { return a->write_trades(batch, &o); });
    auto fb = std::async(std::launch::async, [&] { return b->write_trades(batch, &o); });
    const auto ra = fa.get(), rb = fb.get();
    REQUIRE_MESSAGE(ra.has_value(), (ra ? "" : ra.err().message));
    REQUIRE_MESSAGE(rb.has_value(), (rb ? "" : rb.err().message));
    CHECK(*ra + *rb == (round == 0 ? 5'000u : 0u));
  }
  CHECK(count_trades(db) == "5000");
  CHECK(db.pg.psql("SELECT sum(trade_count) FROM market_symbols") == "5000");
}

TEST_CASE("trades go straight into their day's partition, and into the parent when that day has none") {
  migrated_db db;
  auto writer = db.writer();
  auto batch = make_trades(100, 0);
  const auto day = mi::gw::day_of(batch.front().ts_ns);
  mi::gw::partition_policy policy;
  policy.ahead_days = 0;
  REQUIRE(mi::gw::maintain_partitions(db.pg.conninfo(), policy, batch.front().ts_ns).has_value());
  for (std::size_t i = 0; i < 10; ++i)
    batch[i].ts_ns += 24LL * 3600 * 1'000'000'000; // the next day: no partition
  const auto o = origin_of(100, 1);
  CHECK(must(writer->write_trades(batch, &o)) == 100);
  CHECK(db.pg.psql("SELECT string_agg(p || ' ' || n, ',' ORDER BY p COLLATE \"C\") FROM (SELECT "
                   "tableoid::regclass::text AS p, count(*) AS n FROM market_trades GROUP BY 1) q") ==
        "market_trades_default 10," + mi::gw::trade_partition(day).name + " 90");
  auto back = mi::gw::read_trades(db.pg.conninfo());
  REQUIRE(back.has_value());
  auto diff = first_difference(*back, sorted(batch));
  CHECK_MESSAGE(diff.empty(), diff);
}

namespace {

// An Alpaca-like trade or amendment of `symbol` (ids shared by both symbols, as Alpaca's are per symbol).
mi::trade us_trade(const char* symbol, std::string id, const char* price, const char* quantity, std::int64_t ts_ns) {
  mi::trade t;
  t.exchange = "alpaca";
  t.symbol = symbol;
  t.base = symbol;
  t.quote = "USD";
  t.trade_id = std::move(id);
  t.price = dec(price);
  t.quantity = dec(quantity);
  t.ts_ns = ts_ns;
  t.recv_ns = ts_ns + 1'000'000;
  return t;
}

// The largest "Rows Removed by Filter: N" of an EXPLAIN ANALYZE text (0 when none).
long most_rows_removed(const std::string& plan) {
  static const std::string key = "Rows Removed by Filter: ";
  long most = 0;
  for (auto at = plan.find(key); at != std::string::npos; at = plan.find(key, at + 1))
    most = std::max(most, std::stol(plan.substr(at + key.size())));
  return most;
}

} // namespace

TEST_CASE("an amendment finds its trade by the primary key of a never analysed day partition and changes only it") {
  migrated_db db;
  // Two days of 10,000 trades per symbol: the first day's partition analysed, the second's never (autovacuum off on
  // it, so the planner has no statistics, as on a fresh day before autovacuum gets to it).
  constexpr std::int64_t day_ns = 86'400'000'000'000LL;
  const std::int64_t d2 = mi::gw::day_of(1'796'256'000'000'000'000LL); // 2026-12-03
  const auto p1 = mi::gw::trade_partition(d2 - 1), p2 = mi::gw::trade_partition(d2);
  const auto old = mi::gw::trade_partition(d2 - 10); // before the amendments' week: pruned
  db.pg.psql("CREATE TABLE " + old.name + " PARTITION OF market_trades FOR VALUES FROM ('" + old.from + "') TO ('" +
             old.to + "')");
  db.pg.psql("CREATE TABLE " + p1.name + " PARTITION OF market_trades FOR VALUES FROM ('" + p1.from + "') TO ('" +
             p1.to + "')");
  db.pg.psql("CREATE TABLE " + p2.name + " PARTITION OF market_trades FOR VALUES FROM ('" + p2.from + "') TO ('" +
             p2.to + "') WITH (autovacuum_enabled = false)");
  constexpr int per_day = 10'000;
  std::vector<mi::trade> trades;
  for (std::int64_t day : {d2 - 1, d2})
    for (int i = 0; i < per_day; ++i)
      for (const char* symbol : {"AAPL", "MSFT"}) { // 14:30 UTC on, 2 ms apart; ids 1..10000 then 10001..20000
        const auto id = std::to_string((day - d2 + 1) * per_day + i + 1) + "-V";
        trades.push_back(us_trade(symbol, id, "100", "10", day * day_ns + 52'200'000'000'000LL + i * 2'000'000LL));
      }
  auto writer = db.writer();
  CHECK(must(writer->write_trades(trades, nullptr)) == trades.size());
  db.pg.psql("ANALYZE " + p1.name);
  REQUIRE(db.pg.psql("SELECT reltuples FROM pg_class WHERE relname = '" + p2.name + "'") == "-1");

  // The amendments, in stream order, an hour after the last trade; the writer's statements EXPLAIN ANALYZEd by
  // auto_explain into the server log.
  const std::int64_t at = d2 * day_ns + 16LL * 3600 * 1'000'000'000;
  const auto amendment = [&](const char* symbol, const char* amends, std::string id, const char* price,
                             const char* quantity, bool canceled) {
    auto a = us_trade(symbol, std::move(id), price, quantity, at);
    a.amends = amends;
    a.canceled = canceled;
    return a;
  };
  const std::vector<mi::trade> amendments{
    amendment("AAPL", "15000-V", "c1-V", "101.25", "7", false), // the second day (never analysed)
    amendment("MSFT", "15000-V", "x1-V", "0", "0", true),       // the same id, the other symbol
    amendment("AAPL", "5000-V", "c2-V", "99.5", "3", false),    // the first day (analysed)
    amendment("AAPL", "c1-V", "c3-V", "101.5", "8", false),     // a correction of the correction
    amendment("AAPL", "c2-V", "x2-V", "0", "0", true),          // a cancel of the corrected trade
    amendment("MSFT", "99999-V", "x3-V", "0", "0", true),       // a trade not stored: nothing
    amendment("AAPL", "12000-V", "x4-V", "0", "0", true),
    amendment("AAPL", "12000-V", "c4-V", "1", "1", false), // a correction of a canceled trade: nothing
  };
  const auto mark = db.pg.log_tail(1'000'000'000).size();
  auto explained =
    mi::gw::pg_writer::connect(db.pg.conninfo() + " options='-c session_preload_libraries=auto_explain -c "
                                                  "auto_explain.log_min_duration=0 -c auto_explain.log_analyze=on'");
  REQUIRE_MESSAGE(explained.has_value(), (explained ? "" : explained.err().message));
  CHECK(must((*explained)->write_trades(amendments, nullptr)) == 0);

  // Exactly the amended rows changed, as worked out by hand from the list above.
  CHECK(db.pg.psql("SELECT string_agg(symbol || ' ' || trade_id || ' ' || price || ' ' || quantity || ' ' || canceled "
                   "|| ' ' || coalesce(corrected_by, '-'), ',' ORDER BY symbol, trade_id) FROM market_trades WHERE "
                   "canceled OR corrected_by IS NOT NULL") ==
        "AAPL 12000-V 100 10 true -,AAPL 15000-V 101.5 8 false c3-V,AAPL 5000-V 99.5 3 true c2-V,"
        "MSFT 15000-V 100 10 true -");
  CHECK(db.pg.psql("SELECT count(*) FROM market_trades WHERE price = 100 AND quantity = 10") ==
        std::to_string(trades.size() - 2));

  // Each lookup by trade id (one per amendment) is planned for the week's partitions only (pruned on `ts`), probes
  // the primary key of both days' partitions and filters out at
  // most the one row it finds (the canceled trade the last correction names); the old form read the symbol's 10,000
  // rows of the never analysed day through the (exchange, symbol, ts) index ("Rows Removed by Filter: 9999").
  const auto log = db.pg.log_tail(1'000'000'000).substr(mark);
  std::vector<std::string> by_id;
  for (auto at_plan = log.find("Query Text: UPDATE market_trades"); at_plan != std::string::npos;) {
    const auto next = log.find("Query Text:", at_plan + 1);
    auto plan = log.substr(at_plan, next == std::string::npos ? std::string::npos : next - at_plan);
    if (plan.find("corrected_by = $3") == std::string::npos)
      by_id.push_back(std::move(plan));
    at_plan = log.find("Query Text: UPDATE market_trades", at_plan + 1);
  }
  CHECK(by_id.size() == amendments.size());
  for (const auto& plan : by_id) {
    CHECK_MESSAGE(plan.find("Index Scan using " + p2.name + "_pkey on " + p2.name) != std::string::npos, plan);
    CHECK_MESSAGE(plan.find("Index Scan using " + p1.name + "_pkey on " + p1.name) != std::string::npos, plan);
    CHECK_MESSAGE(most_rows_removed(plan) <= 1, plan);
    CHECK_MESSAGE(plan.find(old.name) == std::string::npos, plan);
  }
}
