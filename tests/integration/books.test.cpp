// Order books end to end (issue 15): the simulator speaks Binance's and OKX's book protocols from a simulated true
// book, with a skipped book update (Binance: a sequence gap, resynced from a new REST snapshot, itself stale once),
// a corrupted checksum (OKX: resynced by subscribing again) and a dropped connection (OKX); `market-ingestor run
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
#include "tests/harness/nats_server.hpp"
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

true_book get_true_book(int sim_port, const std::string& symbol) {
  auto u = mi::net::parse_url("http://127.0.0.1:" + std::to_string(sim_port) + "/sim/book?symbol=" + symbol);
  REQUIRE(u);
  auto body = mi::net::http_get(*u, 5s);
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

TEST_CASE("e2e books: Binance (sequence gap, stale REST snapshot) and OKX (bad checksum, reconnect) through the "
          "simulator, a push client's books equal the true books, MARKET_BOOK gap-free, KV snapshot present, one "
          "resync per fault") {
  mi::test::temp_dir dir("mi-books");
  mi::test::nats_server nats;
  const int sim_binance = mi::test::free_port(), sim_okx = mi::test::free_port(), push_port = mi::test::free_port(),
            metrics_port = mi::test::free_port();
  {
    std::ofstream cfg(dir.path() + "/config.yaml");
    const std::string books = "    books:\n      enabled: true\n      depth: 50\n      snapshot_interval: 2s\n"
                              "    reconnect:\n      initial: 100ms\n      max: 1s\n";
    cfg << "nats:\n  url: " << nats.url() << "\n"
        << "exchanges:\n"
        << "  binance:\n    enabled: true\n    ws_url: ws://127.0.0.1:" << sim_binance << "/stream\n"
        << "    rest_url: http://127.0.0.1:" << sim_binance << "\n    symbols: [BTC/USDT]\n"
        << books << "  okx:\n    enabled: true\n    ws_url: ws://127.0.0.1:" << sim_okx << "/ws/v5/public\n"
        << "    rest_url: http://127.0.0.1:" << sim_okx << "\n    symbols: [BTC/USDT]\n"
        << books << "push:\n  listen: 127.0.0.1:" << push_port << "\n"
        << "api:\n  auth: \"off\"\n"
        << "metrics:\n  listen: 127.0.0.1:" << metrics_port << "\n";
  }
  // 2000 trades each at 200/s (10 s): every trade moves the symbol's book once; the 400th update is never sent
  // (Binance) or carries a wrong checksum (OKX).
  // Binance: the second REST depth snapshot (the one after the gap) is stale as well (a fault of its own: counted
  // once as stale_snapshot, asked again). OKX: every connection is dropped after 1200 trades (a reconnect
  // mid-stream: the book starts again from the new subscription's snapshot, counted once as reconnect).
  auto simulator = [&](const char* exchange, int port, std::vector<std::string> faults) {
    std::vector<std::string> argv{
      mi::test::binary(), "simulate", "--exchange", exchange,  "--port", std::to_string(port), "--symbols",
      "BTCUSDT",          "--rate",   "200",        "--count", "2000",   "--linger-ms",        "600000"};
    argv.insert(argv.end(), faults.begin(), faults.end());
    return std::make_unique<mi::test::child_process>(argv, dir.path() + "/sim-" + exchange + ".log");
  };
  auto sim_b = simulator("binance", sim_binance, {"--book-skip-after", "400", "--book-stale-rest", "2"});
  auto sim_o = simulator("okx", sim_okx, {"--book-checksum-after", "400", "--drop-after", "1200"});
  REQUIRE(mi::test::wait_for_port(sim_binance, 10s));
  REQUIRE(mi::test::wait_for_port(sim_okx, 10s));

  const std::string log = dir.path() + "/platform.log";
  mi::test::child_process platform(
    {mi::test::binary(), "run", "--config", dir.path() + "/config.yaml", "--roles", "ingest,push"}, log);
  REQUIRE_MESSAGE(mi::test::eventually(
                    [&] { return mi::test::has_ready_line(mi::test::read_file(log), 0) || !platform.running(); }, 30s),
                  mi::test::read_file(log));
  REQUIRE_MESSAGE(platform.running(), mi::test::read_file(log));

  mi::net::io_thread io;
  book_client client(io, push_port, {"book.binance.BTCUSDT", "book.okx.BTCUSDT"});

  // The end of the run: each simulator's book stopped moving (its 2000 trades are out) and the client's book, built
  // from what the push channel gave it, equals it.
  for (auto [channel, port] :
       {std::pair{"book.binance.BTCUSDT", sim_binance}, std::pair{"book.okx.BTCUSDT", sim_okx}}) {
    true_book last;
    const bool settled = mi::test::eventually(
      [&] {
        auto now = get_true_book(port, "BTCUSDT");
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
  }
  CHECK(client.errors().empty());

  // One resync per fault, each counted under its reason; nothing else resynced.
  CHECK(metric(metrics_port, R"(mi_book_resyncs_total{exchange="binance",reason="sequence_gap",symbol="BTCUSDT"})") ==
        1);
  CHECK(metric(metrics_port, R"(mi_book_resyncs_total{exchange="binance",reason="stale_snapshot",symbol="BTCUSDT"})") ==
        1);
  CHECK(metric(metrics_port, R"(mi_book_resyncs_total{exchange="okx",reason="checksum",symbol="BTCUSDT"})") == 1);
  CHECK(metric(metrics_port, R"(mi_book_resyncs_total{exchange="okx",reason="reconnect",symbol="BTCUSDT"})") == 1);
  for (const char* ex : {"binance", "okx"})
    for (const char* reason : {"sequence_gap", "checksum", "stale_snapshot", "malformed", "reconnect"}) {
      const std::string e(ex), r(reason);
      const bool faulted = (e == "binance" && (r == "sequence_gap" || r == "stale_snapshot")) ||
                           (e == "okx" && (r == "checksum" || r == "reconnect"));
      if (!faulted) // a series appears at its first event: absent (-1) means never counted
        CHECK_MESSAGE(std::max(0.0, metric(metrics_port, std::string("mi_book_resyncs_total{exchange=\"") + ex +
                                                           "\",reason=\"" + reason + "\",symbol=\"BTCUSDT\"}")) == 0,
                      (std::string(ex) + " " + reason));
    }
  CHECK(metric(metrics_port, R"(mi_book_valid{exchange="binance",symbol="BTCUSDT"})") == 1);
  CHECK(metric(metrics_port, R"(mi_book_valid{exchange="okx",symbol="BTCUSDT"})") == 1);

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
  CHECK(messages["market.book.binance.BTCUSDT"] > 1000);
  CHECK(messages["market.book.okx.BTCUSDT"] > 1000);
  for (const char* key : {"binance.BTCUSDT", "okx.BTCUSDT"}) {
    auto kv = (*js)->kv_get(std::string(mi::book::snapshots_bucket), key);
    REQUIRE(kv);
    REQUIRE_MESSAGE(kv->has_value(), key);
    auto b = mi::book::decode_book_pb(**kv);
    REQUIRE(b);
    CHECK(b->kind == mi::book::update_kind::snapshot);
    CHECK(b->valid);
    CHECK(b->session == last["market.book." + std::string(key)].session);
    CHECK(b->sequence <= last["market.book." + std::string(key)].sequence);
  }
  platform.signal(SIGTERM);
  CHECK(platform.wait_for(60s) == 0);
  sim_b->kill_hard();
  sim_o->kill_hard();
}
