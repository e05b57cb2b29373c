// Order books end to end (issue 15): the simulator speaks Binance's, OKX's, Bybit's, Coinbase's and Kraken's book
// protocols from a simulated true book, with a skipped book update (a sequence gap: Binance resyncs from a new REST
// snapshot, itself stale once; Bybit subscribes again), a corrupted checksum (OKX, Kraken: resynced by subscribing
// again) and a dropped connection (OKX, Bybit); `market-ingestor run
// --roles ingest,push` publishes the books; a push client builds each book from the snapshot and deltas of its
// book.{exchange}.{symbol} channel, and at the end it equals the simulator's true book. MARKET_BOOK is gap-free
// within a session, the KV bucket holds the latest snapshot, and each fault moved the resync counter exactly once.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <condition_variable>
#include <csignal>
#include <algorithm>
#include <deque>
#include <fstream>
#include <map>
#include <mutex>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/book/book_message.hpp"
#include "messages/decimal.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/harness/pg_server.hpp"
#include "tests/harness/process.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::book::book_replica;
using mi::book::book_update;
using mi::book::side;

namespace {

/// What a push client received on book channels, turned into books (the client's own replica of each channel).
class book_client {
public:
  book_client(mi::net::io_thread& io, int port, std::vector<std::string> channels) : st_(std::make_shared<state>()) {
    mi::net::ws_handlers h;
    h.on_open = [st = st_] {
      std::lock_guard<std::mutex> lock(st->mu);
      st->open = true;
      st->cv.notify_all();
    };
    h.on_text = [st = st_](std::string&& t, std::int64_t) { st->on_text(t); };
    h.on_close = [st = st_](std::string) {
      std::lock_guard<std::mutex> lock(st->mu);
      st->closed = true;
    };
    auto u = mi::net::parse_url("ws://127.0.0.1:" + std::to_string(port) + "/");
    client_ = mi::net::ws_client::create(io.context(), *u, {}, std::move(h));
    client_->start();
    std::unique_lock<std::mutex> lock(st_->mu);
    REQUIRE(st_->cv.wait_for(lock, 10s, [&] { return st_->open; }));
    std::string req = R"({"op":"subscribe","channels":[)";
    for (std::size_t i = 0; i < channels.size(); ++i)
      req += (i ? ",\"" : "\"") + channels[i] + "\"";
    client_->send(req + "]}");
  }
  ~book_client() { client_->close(); }

  struct channel_view {
    book_replica replica;
    std::uint64_t snapshots = 0, deltas = 0, invalid_snapshots = 0, gaps = 0;
  };
  channel_view view(const std::string& channel) {
    std::lock_guard<std::mutex> lock(st_->mu);
    return st_->channels[channel];
  }
  std::vector<std::string> errors() {
    std::lock_guard<std::mutex> lock(st_->mu);
    return st_->errors;
  }

private:
  struct state {
    std::mutex mu;
    std::condition_variable cv;
    bool open = false, closed = false;
    std::map<std::string, channel_view> channels;
    std::vector<std::string> errors;

    void on_text(const std::string& t) {
      boost::system::error_code ec;
      auto v = boost::json::parse(t, ec);
      std::lock_guard<std::mutex> lock(mu);
      if (ec || !v.is_object()) {
        errors.push_back("not JSON: " + t);
        return;
      }
      const auto& o = v.as_object();
      if (o.contains("op")) {
        if (o.at("op").as_string() == "error")
          errors.push_back(t);
        return;
      }
      const std::string channel(o.at("channel").as_string());
      const auto& d = o.at("data").as_object();
      book_update u;
      u.exchange = std::string(d.at("exchange").as_string());
      u.symbol = std::string(d.at("symbol").as_string());
      u.session = d.at("session").to_number<std::uint64_t>();
      u.sequence = d.at("seq").to_number<std::uint64_t>();
      u.kind = d.at("type").as_string() == "snapshot" ? mi::book::update_kind::snapshot : mi::book::update_kind::delta;
      u.valid = d.at("valid").as_bool();
      for (auto [key, out] : {std::pair{"bids", &u.bids}, std::pair{"asks", &u.asks}})
        for (const auto& l : d.at(key).as_array())
          out->push_back({std::string(l.as_array()[0].as_string()), std::string(l.as_array()[1].as_string())});
      auto& c = channels[channel];
      const auto r = c.replica.apply(u);
      if (u.kind == mi::book::update_kind::snapshot) {
        ++c.snapshots;
        c.invalid_snapshots += u.valid ? 0 : 1;
      } else {
        ++c.deltas;
      }
      if (r == book_replica::outcome::gap || r == book_replica::outcome::bad)
        ++c.gaps;
    }
  };
  std::shared_ptr<state> st_;
  std::shared_ptr<mi::net::ws_client> client_;
};

/// The simulator's true book (GET /sim/book), as price -> qty text per side.
struct true_book {
  std::uint64_t update_id = 0;
  std::vector<std::pair<std::string, std::string>> bids, asks;
};

/// update_id 0 (no level) while the simulator has no book yet: it answers 404 until the platform's connection
/// subscribed the book channel, which may come after the platform's ready line.
true_book get_true_book(int sim_port, const std::string& symbol) {
  auto u = mi::net::parse_url("http://127.0.0.1:" + std::to_string(sim_port) + "/sim/book?symbol=" + symbol);
  REQUIRE(u);
  auto body = mi::net::http_get(*u, 5s);
  if (!body && body.err().message.find("HTTP 404") != std::string::npos)
    return {};
  REQUIRE_MESSAGE(body, (body ? std::string() : body.err().message));
  auto v = boost::json::parse(*body).as_object();
  true_book b;
  b.update_id = v.at("update_id").to_number<std::uint64_t>();
  for (auto [key, out] : {std::pair{"bids", &b.bids}, std::pair{"asks", &b.asks}})
    for (const auto& l : v.at(key).as_array())
      out->emplace_back(std::string(l.as_array()[0].as_string()), std::string(l.as_array()[1].as_string()));
  return b;
}

/// The replica's levels as canonical text pairs, best first.
std::vector<std::pair<std::string, std::string>> levels_of(const book_replica& r, side s) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& [price, l] : r.book().levels(s))
    out.emplace_back(price.to_string(), l.qty.to_string());
  return out;
}

bool same(const book_replica& r, const true_book& t) {
  return r.usable() && levels_of(r, side::bid) == t.bids && levels_of(r, side::ask) == t.asks;
}

double metric(int port, const std::string& sample) {
  auto u = mi::net::parse_url("http://127.0.0.1:" + std::to_string(port) + "/metrics");
  auto text = mi::net::http_get(*u, 5s);
  if (!text)
    return -1;
  auto at = text->find("\n" + sample + " ");
  if (at == std::string::npos)
    return -1;
  return std::stod(text->substr(at + sample.size() + 2));
}

} // namespace

namespace {

/// One exchange of an end-to-end book run: its simulator's faults and the resyncs they must cause (once each).
struct book_case {
  const char* exchange;
  const char* ws_path; ///< the simulator's WebSocket path
  const char* symbol;  ///< as configured (exchanges.<x>.symbols)
  std::vector<std::string> faults;
  std::vector<std::string> resyncs; ///< reasons, each counted exactly once; every other reason never
};

/// The stored samples (storage.books, GET /api/v1/book and /api/v1/bbo) of a settled book equal its true book: the
/// latest snapshot holds its top `depth` levels, the latest best bid/ask its best levels; every best bid/ask sample
/// is on a whole second, in time order, never crossed.
void check_stored_book(int api_port, const std::string& exchange, const std::string& symbol, const true_book& truth,
                       std::size_t depth) {
  auto top = [&](const std::vector<std::pair<std::string, std::string>>& side) {
    boost::json::array out;
    for (std::size_t i = 0; i < side.size() && i < depth; ++i)
      out.push_back(boost::json::array{boost::json::string(side[i].first), boost::json::string(side[i].second)});
    return out;
  };
  const std::string query = "?exchange=" + exchange + "&symbol=" + symbol;
  boost::json::value book;
  const bool stored = mi::test::eventually(
    [&] {
      auto r = mi::test::http_get(api_port, "/api/v1/book" + query);
      if (r.status != 200)
        return false;
      book = boost::json::parse(r.body);
      return book.at("bids").as_array() == top(truth.bids) && book.at("asks").as_array() == top(truth.asks);
    },
    20s);
  INFO(exchange << " stored book: " << boost::json::serialize(book));
  CHECK(stored);
  CHECK(book.at("depth").to_number<std::size_t>() == depth);

  auto r = mi::test::http_get(api_port, "/api/v1/bbo" + query + "&limit=1000");
  REQUIRE(r.status == 200);
  const auto rows = boost::json::parse(r.body).as_array();
  REQUIRE(rows.size() >= 3);
  std::int64_t previous = 0;
  for (const auto& row : rows) {
    const auto t = row.at("time").to_number<std::int64_t>();
    CHECK(t % 1000 == 0);
    CHECK(t > previous);
    previous = t;
    if (!row.at("bid").is_null() && !row.at("ask").is_null()) {
      auto bid = mi::decimal::parse(std::string(row.at("bid").as_array()[0].as_string()));
      auto ask = mi::decimal::parse(std::string(row.at("ask").as_array()[0].as_string()));
      REQUIRE(bid);
      REQUIRE(ask);
      CHECK(*bid < *ask);
    }
  }
  const auto& last = rows.back();
  CHECK(last.at("bid").as_array() == top(truth.bids)[0].as_array());
  CHECK(last.at("ask").as_array() == top(truth.asks)[0].as_array());

  CHECK(mi::test::http_get(api_port, "/api/v1/book?exchange=" + exchange + "&symbol=NOSUCH").status == 404);
  CHECK(mi::test::http_get(api_port, "/api/v1/bbo" + query + "&colour=red").status == 400);
}

/// 2000 trades per exchange at 200/s (10 s): every trade moves the symbol's book once. `market-ingestor run --roles
/// ingest,push` with books at depth 50; a push client builds each book from its book.{exchange}.BTC... channel.
/// `store_books`: with PostgreSQL, the store and api roles and storage.books at depth 5, every 1 s: the stored
/// samples are checked too (check_stored_book).
void run_books_e2e(const std::vector<book_case>& cases, const char* symbol_id, bool store_books = false) {
  mi::test::temp_dir dir("mi-books");
  mi::test::nats_server nats;
  std::unique_ptr<mi::test::pg_server> pg;
  if (store_books)
    pg = std::make_unique<mi::test::pg_server>();
  const int push_port = mi::test::free_port(), metrics_port = mi::test::free_port(), api_port = mi::test::free_port();
  constexpr std::size_t stored_depth = 5;
  std::vector<int> sim_ports;
  {
    std::ofstream cfg(dir.path() + "/config.yaml");
    const std::string books = "    books:\n      enabled: true\n      depth: 50\n      snapshot_interval: 2s\n"
                              "    reconnect:\n      initial: 100ms\n      max: 1s\n";
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "exchanges:\n";
    for (const auto& c : cases) {
      sim_ports.push_back(mi::test::free_port());
      cfg << "  " << c.exchange << ":\n    enabled: true\n    ws_url: ws://127.0.0.1:" << sim_ports.back() << c.ws_path
          << "\n    rest_url: http://127.0.0.1:" << sim_ports.back() << "\n    symbols: [" << c.symbol << "]\n"
          << books;
    }
    cfg << "push:\n  listen: 127.0.0.1:" << push_port << "\n"
        << "api:\n  auth: \"off\"\n  listen: 127.0.0.1:" << api_port << "\n"
        << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n";
    if (store_books)
      cfg << "postgres:\n  dsn: " << pg->conninfo() << "\n"
          << "storage:\n  books:\n    enabled: true\n    depth: " << stored_depth
          << "\n    bbo_interval: 1s\n    snapshot_interval: 1s\n";
  }
  std::vector<std::unique_ptr<mi::test::child_process>> sims;
  for (std::size_t i = 0; i < cases.size(); ++i) {
    std::vector<std::string> argv{mi::test::binary(), "simulate",
                                  "--exchange",       cases[i].exchange,
                                  "--port",           std::to_string(sim_ports[i]),
                                  "--symbols",        symbol_id,
                                  "--rate",           "200",
                                  "--count",          "2000",
                                  "--linger-ms",      "600000"};
    argv.insert(argv.end(), cases[i].faults.begin(), cases[i].faults.end());
    sims.push_back(
      std::make_unique<mi::test::child_process>(argv, dir.path() + "/sim-" + std::string(cases[i].exchange) + ".log"));
  }
  for (int port : sim_ports)
    REQUIRE(mi::test::wait_for_port(port, 10s));

  const std::string log = dir.path() + "/platform.log";
  mi::test::child_process platform({mi::test::binary(), "run", "--config", dir.path() + "/config.yaml", "--roles",
                                    store_books ? "ingest,push,store,api" : "ingest,push"},
                                   log);
  REQUIRE_MESSAGE(mi::test::eventually(
                    [&] { return mi::test::has_ready_line(mi::test::read_file(log), 0) || !platform.running(); }, 30s),
                  mi::test::read_file(log));
  REQUIRE_MESSAGE(platform.running(), mi::test::read_file(log));

  mi::net::io_thread io;
  std::vector<std::string> channels;
  for (const auto& c : cases)
    channels.push_back("book." + std::string(c.exchange) + "." + symbol_id);
  book_client client(io, push_port, channels);

  // The end of the run: each simulator's book stopped moving (its 2000 trades are out) and the client's book, built
  // from what the push channel gave it, equals it.
  for (std::size_t i = 0; i < cases.size(); ++i) {
    const std::string& channel = channels[i];
    true_book last;
    const bool settled = mi::test::eventually(
      [&] {
        auto now = get_true_book(sim_ports[i], symbol_id);
        const bool still = now.update_id == last.update_id && now.update_id > 0;
        last = now;
        return still && same(client.view(channel).replica, now);
      },
      90s);
    auto v = client.view(channel);
    INFO(channel << ": client seq " << v.replica.sequence() << ", usable " << v.replica.usable() << ", snapshots "
                 << v.snapshots << ", deltas " << v.deltas << ", true book update " << last.update_id << "\n"
                 << mi::test::read_file(log).substr(0, 20000));
    CHECK(settled);
    CHECK(last.update_id >= 1900);   // the book moved with (nearly) every trade
    CHECK(v.gaps == 0);              // the push channel never skipped a sequence
    CHECK(v.deltas > 1000);          // built from deltas, not only from snapshots
    CHECK(v.invalid_snapshots >= 1); // the resync was published as an invalid book, never as a valid one
    if (store_books)
      check_stored_book(api_port, cases[i].exchange, symbol_id, last, stored_depth);
  }
  CHECK(client.errors().empty());

  // One resync per fault, each counted under its reason; nothing else resynced.
  for (const auto& c : cases) {
    for (const char* reason : {"sequence_gap", "checksum", "stale_snapshot", "malformed", "reconnect"}) {
      const bool faulted = std::find(c.resyncs.begin(), c.resyncs.end(), reason) != c.resyncs.end();
      // A series appears at its first event: absent (-1) means never counted.
      const double n =
        std::max(0.0, metric(metrics_port, std::string("mi_book_resyncs_total{exchange=\"") + c.exchange +
                                             "\",reason=\"" + reason + "\",symbol=\"" + symbol_id + "\"}"));
      CHECK_MESSAGE(n == (faulted ? 1 : 0), c.exchange << " " << reason);
    }
    CHECK(metric(metrics_port,
                 std::string("mi_book_valid{exchange=\"") + c.exchange + "\",symbol=\"" + symbol_id + "\"}") == 1);
  }

  // The platform stops first: it publishes a snapshot of each book every 2 s, so while it runs the KV bucket may
  // already hold a snapshot the stream scan below has not reached.
  platform.signal(SIGTERM);
  CHECK(platform.wait_for(60s) == 0);

  // MARKET_BOOK: per (exchange, symbol) one session, sequences 1, 2, 3, ... without a gap, a snapshot first; the KV
  // bucket holds the latest snapshot of each book.
  mi::gw::jetstream::options jo;
  jo.url = nats.url();
  auto js = mi::gw::jetstream::connect(jo);
  REQUIRE(js);
  auto st = (*js)->state("MARKET_BOOK");
  REQUIRE(st);
  std::map<std::string, book_update> last;
  std::map<std::string, std::uint64_t> messages;
  for (std::uint64_t seq = st->first_seq; seq <= st->last_seq && st->messages > 0; ++seq) {
    auto m = (*js)->get_message("MARKET_BOOK", seq);
    REQUIRE(m);
    REQUIRE(*m);
    auto b = mi::book::decode_book_pb((**m).data());
    REQUIRE(b);
    const std::string subject((**m).subject());
    CHECK(subject == "market.book." + b->exchange + "." + b->symbol);
    auto it = last.find(subject);
    if (it == last.end()) {
      CHECK(b->sequence == 1);
      CHECK(b->kind == mi::book::update_kind::snapshot);
    } else {
      CHECK(b->session == it->second.session);
      CHECK_MESSAGE(b->sequence == it->second.sequence + 1,
                    subject << " " << b->sequence << " after " << it->second.sequence);
    }
    ++messages[subject];
    last[subject] = std::move(*b);
  }
  for (const auto& c : cases) {
    const std::string key = std::string(c.exchange) + "." + symbol_id;
    CHECK_MESSAGE(messages["market.book." + key] > 1000, key);
    auto kv = (*js)->kv_get(std::string(mi::book::snapshots_bucket), key);
    REQUIRE(kv);
    REQUIRE_MESSAGE(kv->has_value(), key);
    auto b = mi::book::decode_book_pb(**kv);
    REQUIRE(b);
    CHECK(b->kind == mi::book::update_kind::snapshot);
    CHECK(b->valid);
    CHECK(b->session == last["market.book." + key].session);
    CHECK(b->sequence <= last["market.book." + key].sequence);
  }
  for (auto& sim : sims)
    sim->kill_hard();
}

} // namespace

// Binance: the 400th update is never sent (a sequence gap), and the second REST depth snapshot (the one after the
// gap) is stale as well (a fault of its own: counted once as stale_snapshot, asked again). OKX: the 400th update
// carries a wrong checksum, and every connection is dropped after 1200 trades (a reconnect mid-stream: the book
// starts again from the new subscription's snapshot, counted once as reconnect).
TEST_CASE("e2e books: Binance (sequence gap, stale REST snapshot) and OKX (bad checksum, reconnect) through the "
          "simulator, a push client's books equal the true books, MARKET_BOOK gap-free, KV snapshot present, one "
          "resync per fault") {
  run_books_e2e({{"binance",
                  "/stream",
                  "BTC/USDT",
                  {"--book-skip-after", "400", "--book-stale-rest", "2"},
                  {"sequence_gap", "stale_snapshot"}},
                 {"okx",
                  "/ws/v5/public",
                  "BTC/USDT",
                  {"--book-checksum-after", "400", "--drop-after", "1200"},
                  {"checksum", "reconnect"}}},
                "BTCUSDT");
}

// Bybit: the 400th update is never sent (a `u` gap: resubscribed for a new snapshot) and every connection is dropped
// after 1200 trades. Kraken (v2 `book` at depth 100, whose first snapshot holds only 10 levels a side: the book is
// kept at the subscribed depth, not at the snapshot's size): the 400th update carries a wrong checksum.
TEST_CASE("e2e books: Bybit (sequence gap, reconnect) and Kraken (bad checksum, thin first snapshot) through the "
          "simulator, a push client's books equal the true books, one resync per fault, and the stored book samples "
          "(GET /api/v1/book, /api/v1/bbo) equal them too") {
  run_books_e2e({{"bybit",
                  "/v5/public/spot",
                  "BTC/USDT",
                  {"--book-skip-after", "400", "--drop-after", "1200"},
                  {"sequence_gap", "reconnect"}},
                 {"kraken", "/v2", "BTC/USDT", {"--book-checksum-after", "400"}, {"checksum"}}},
                "BTCUSDT", true);
}

// Coinbase (Advanced Trade level2, whose continuity is the connection's sequence_num over trades, heartbeats,
// subscriptions and level2 alike): the 400th update is never sent, so its number is missing from the connection (one
// sequence_gap resync: level2 unsubscribed and subscribed again for a new snapshot), and every connection is dropped
// after 1200 trades (one reconnect resync; the new connection numbers from 0).
TEST_CASE("e2e books: Coinbase level2 (a skipped sequence_num, reconnect) through the simulator, a push client's book "
          "equals the true book, one resync per fault") {
  run_books_e2e(
    {{"coinbase", "/", "BTC/USD", {"--book-skip-after", "400", "--drop-after", "1200"}, {"sequence_gap", "reconnect"}}},
    "BTCUSD");
}
