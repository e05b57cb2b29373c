// Push server against real sockets: the server runs on its own io_context thread; the test talks to it
// with small synchronous Beast clients (all Beast test code lives in this one TU: it is expensive to compile).
#include "gateways/push/push_server.hpp"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <doctest/doctest.h>

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using mi::gw::client_id;
using mi::gw::push_server;
using mi::gw::push_server_options;
using mi::gw::push_session;

constexpr auto wait_limit = 20s; // generous: a failing test reports instead of hanging

/// A server on its own io_context thread, recording every handler call.
class server_fixture {
public:
  /// `confirm`: handle every text at once (text_done); false: leave them pending until confirm_all().
  explicit server_fixture(push_server_options o = {}, bool confirm = true) : confirm_(confirm) {
    mi::gw::push_handlers h;
    h.on_open = [this](std::shared_ptr<push_session> s) { record([&] { opened_.push_back(std::move(s)); }); };
    h.on_text = [this](client_id id, std::string&& text) {
      record([&] {
        texts_.emplace_back(id, std::move(text));
        if (confirm_) {
          for (auto& s : opened_)
            if (s->id() == id)
              s->text_done();
        } else {
          ++unconfirmed_[id];
        }
      });
    };
    h.on_close = [this](client_id id) { record([&] { closed_.push_back(id); }); };
    h.on_limit = [this](std::string_view reason) { record([&] { limits_.emplace_back(reason); }); };
    server_.emplace(ioc_, std::move(o), std::move(h));
    thread_ = std::thread([this] { ioc_.run(); });
  }

  ~server_fixture() {
    server_->stop();
    work_.reset();
    ioc_.stop();
    thread_.join();
    server_.reset();
  }

  push_server& server() { return *server_; }
  std::uint16_t port() const { return server_->port(); }

  /// Waits until `pred()` holds (evaluated under the lock); false on timeout.
  template <class Pred>
  bool wait(Pred pred) {
    std::unique_lock lock{mu_};
    return cv_.wait_for(lock, wait_limit, pred);
  }

  /// Waits up to `limit` until `pred()` holds; false on timeout.
  template <class Pred>
  bool wait_for(std::chrono::milliseconds limit, Pred pred) {
    std::unique_lock lock{mu_};
    return cv_.wait_for(lock, limit, pred);
  }

  /// The n-th opened session (waits for it).
  std::shared_ptr<push_session> session(std::size_t n) {
    REQUIRE(wait([&] { return opened_.size() > n; }));
    std::lock_guard lock{mu_};
    return opened_[n];
  }

  std::vector<std::pair<client_id, std::string>> texts() {
    std::lock_guard lock{mu_};
    return texts_;
  }

  std::vector<client_id> closed() {
    std::lock_guard lock{mu_};
    return closed_;
  }

  std::size_t closed_count() {
    std::lock_guard lock{mu_};
    return closed_.size();
  }

  /// How often on_limit reported `reason`.
  std::size_t limits(std::string_view reason) {
    std::lock_guard lock{mu_};
    return static_cast<std::size_t>(std::count(limits_.begin(), limits_.end(), reason));
  }

  /// Handles every pending text from now on, and confirms those left pending so far.
  void confirm_all() {
    std::lock_guard lock{mu_};
    confirm_ = true;
    for (auto& s : opened_)
      for (std::size_t i = 0; i < unconfirmed_[s->id()]; ++i)
        s->text_done();
    unconfirmed_.clear();
  }

  /// Access to recorded state under the lock, for `wait` predicates.
  const std::vector<std::pair<client_id, std::string>>& texts_locked() const { return texts_; }
  const std::vector<client_id>& closed_locked() const { return closed_; }

private:
  template <class F>
  void record(F f) {
    {
      std::lock_guard lock{mu_};
      f();
    }
    cv_.notify_all();
  }

  asio::io_context ioc_{1};
  asio::executor_work_guard<asio::io_context::executor_type> work_{ioc_.get_executor()};
  std::optional<push_server> server_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::shared_ptr<push_session>> opened_;
  std::vector<std::pair<client_id, std::string>> texts_;
  std::vector<client_id> closed_;
  std::vector<std::string> limits_;
  bool confirm_ = true;
  std::map<client_id, std::size_t> unconfirmed_;
};

/// Shuts a socket down if a test overruns its deadline, so a blocking read fails instead of hanging.
class watchdog {
public:
  explicit watchdog(int fd)
      : thread_([this, fd] {
          std::unique_lock lock{mu_};
          if (!cv_.wait_for(lock, wait_limit, [this] { return done_; }))
            ::shutdown(fd, SHUT_RDWR);
        }) {}
  ~watchdog() {
    {
      std::lock_guard lock{mu_};
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

/// A TCP connection to the server; `rcvbuf` > 0 shrinks the receive buffer (a slow client).
tcp::socket connect_socket(asio::io_context& ioc, std::uint16_t port, int rcvbuf = 0) {
  tcp::socket s{ioc};
  s.open(tcp::v4());
  if (rcvbuf > 0)
    s.set_option(asio::socket_base::receive_buffer_size(rcvbuf));
  s.connect({asio::ip::make_address("127.0.0.1"), port});
  return s;
}

/// A minimal synchronous WebSocket client.
class ws_client {
public:
  explicit ws_client(std::uint16_t port, int rcvbuf = 0)
      : ws_(connect_socket(ioc_, port, rcvbuf)), guard_(ws_.next_layer().native_handle()) {
    ws_.handshake("127.0.0.1:" + std::to_string(port), "/");
  }

  void send_text(const std::string& s) {
    ws_.text(true);
    ws_.write(asio::buffer(s));
  }

  void send_binary(const std::string& s) {
    ws_.binary(true);
    ws_.write(asio::buffer(s));
  }

  /// The next text frame, or nullopt when the connection ended (see `close_code()`).
  std::optional<std::string> read() {
    beast::flat_buffer buf;
    beast::error_code ec;
    ws_.read(buf, ec);
    if (ec) {
      last_error_ = ec.message();
      return std::nullopt;
    }
    return beast::buffers_to_string(buf.data());
  }

  /// The close code the server sent.
  std::uint16_t close_code() const { return ws_.reason().code; }
  /// The close reason the server sent.
  std::string close_reason() const { return std::string(ws_.reason().reason.c_str()); }
  /// Why the last read failed.
  const std::string& last_error() const { return last_error_; }

  void close() { ws_.close(websocket::close_code::normal); }

private:
  asio::io_context ioc_;
  websocket::stream<tcp::socket> ws_;
  watchdog guard_;
  std::string last_error_;
};

/// One plain HTTP GET on a fresh connection.
http::response<http::string_body> http_get(std::uint16_t port, const std::string& target) {
  asio::io_context ioc;
  tcp::socket s = connect_socket(ioc, port);
  watchdog guard{s.native_handle()};
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, "127.0.0.1");
  http::write(s, req);
  beast::flat_buffer buf;
  http::response<http::string_body> res;
  http::read(s, buf, res);
  return res;
}

/// A WebSocket upgrade that the server may refuse: the HTTP status (101 when accepted, 0 when the
/// connection failed or was closed without an answer) and the response body.
std::pair<int, std::string> try_upgrade(std::uint16_t port) {
  asio::io_context ioc;
  beast::error_code ec;
  tcp::socket s{ioc};
  s.connect({asio::ip::make_address("127.0.0.1"), port}, ec);
  if (ec)
    return {0, ec.message()};
  websocket::stream<tcp::socket> ws{std::move(s)};
  watchdog guard{ws.next_layer().native_handle()};
  websocket::response_type res;
  ws.handshake(res, "127.0.0.1:" + std::to_string(port), "/", ec);
  if (ec && res.result_int() == 0)
    return {0, ec.message()};
  return {res.result_int(), res.body()};
}

std::string numbered(std::size_t i, std::size_t size) {
  std::string s = std::to_string(i);
  s.resize(size, '.');
  return s;
}

} // namespace

TEST_CASE("open, text and close reach the handlers") {
  server_fixture f;
  std::optional<ws_client> c{std::in_place, f.port()};
  auto s = f.session(0);
  CHECK(s->remote().starts_with("127.0.0.1:"));
  CHECK(f.server().clients() == 1);

  c->send_text(R"({"op":"ping"})");
  c->send_text("second");
  REQUIRE(f.wait([&] { return f.texts_locked().size() == 2; }));
  auto texts = f.texts();
  CHECK(texts[0] == std::pair<client_id, std::string>{s->id(), R"({"op":"ping"})"});
  CHECK(texts[1].second == "second");

  c->close();
  REQUIRE(f.wait([&] { return !f.closed_locked().empty(); }));
  CHECK(f.closed() == std::vector<client_id>{s->id()});
  CHECK(f.server().clients() == 0);
}

TEST_CASE("send delivers frames in order") {
  constexpr std::size_t n = 1000;
  push_server_options o;
  o.queue_limit = n; // a burst within the limit: nothing may be dropped
  server_fixture f{o};
  ws_client c{f.port()};
  auto s = f.session(0);
  for (std::size_t i = 0; i < n; ++i)
    s->send(std::make_shared<const std::string>(std::to_string(i)));
  for (std::size_t i = 0; i < n; ++i) {
    auto got = c.read();
    REQUIRE(got);
    REQUIRE(*got == std::to_string(i));
  }
  CHECK(s->dropped() == 0);
}

TEST_CASE("a client that never reads loses its own frames, a fast client gets every frame") {
  push_server_options o;
  o.queue_limit = 256;
  server_fixture f{o};
  ws_client slow{f.port(), 4096};
  auto slow_s = f.session(0);
  ws_client fast{f.port()};
  auto fast_s = f.session(1);

  constexpr std::size_t total = 10000;
  constexpr std::size_t batch = 100;
  constexpr std::size_t frame_size = 4096;
  std::atomic<std::size_t> received{0};
  std::atomic<bool> in_order{true};
  std::mutex mu;
  std::condition_variable cv;
  std::thread reader([&] {
    for (std::size_t i = 0; i < total; ++i) {
      auto got = fast.read();
      if (!got)
        break;
      if (*got != numbered(i, frame_size))
        in_order = false;
      {
        std::lock_guard lock{mu};
        received = i + 1;
      }
      cv.notify_all();
    }
  });

  bool kept_up = true;
  for (std::size_t i = 0; i < total && kept_up; ++i) {
    auto frame = std::make_shared<const std::string>(numbered(i, frame_size));
    slow_s->send(frame);
    fast_s->send(frame);
    // Pace the producer by the fast client only: it must never be the one that falls behind.
    if ((i + 1) % batch == 0) {
      std::unique_lock lock{mu};
      kept_up = cv.wait_for(lock, wait_limit, [&] { return received.load() == i + 1; });
    }
  }
  reader.join();
  CHECK(kept_up);
  CHECK(received.load() == total);
  CHECK(in_order.load());
  CHECK(fast_s->dropped() == 0);
  CHECK(slow_s->dropped() > 0);
  MESSAGE("slow client dropped " << slow_s->dropped() << " of " << total << " frames");
}

TEST_CASE("an oversized frame closes that client with 1009, others keep working") {
  push_server_options o;
  o.max_message_bytes = 65536;
  server_fixture f{o};
  ws_client big{f.port()};
  auto big_s = f.session(0);
  ws_client other{f.port()};
  auto other_s = f.session(1);

  big.send_text(std::string(70000, 'x'));
  CHECK_FALSE(big.read());
  CHECK(big.close_code() == 1009);
  // Beast sends the 1009 before the server's read handler counts it and then closes the session:
  // the count is certain once the session is closed, not when the client sees the close.
  REQUIRE(f.wait([&] { return f.closed_locked().size() == 1; }));
  CHECK(f.limits("message_too_large") == 1);
  CHECK(f.closed() == std::vector<client_id>{big_s->id()});

  other.send_text("still here");
  REQUIRE(f.wait([&] { return f.texts_locked().size() == 1; }));
  CHECK(f.texts()[0] == std::pair<client_id, std::string>{other_s->id(), "still here"});
  other_s->send(std::make_shared<const std::string>("pushed"));
  CHECK(other.read() == std::optional<std::string>{"pushed"});
  CHECK(f.server().clients() == 1);
}

TEST_CASE("a binary frame gets an error reply and is not delivered") {
  server_fixture f;
  ws_client c{f.port()};
  f.session(0);
  c.send_binary("\x01\x02");
  auto reply = c.read();
  REQUIRE(reply);
  CHECK(reply->find(R"("op":"error")") != std::string::npos);
  c.send_text("after");
  REQUIRE(f.wait([&] { return !f.texts_locked().empty(); }));
  CHECK(f.texts().size() == 1);
  CHECK(f.texts()[0].second == "after");
}

TEST_CASE("plain HTTP: /healthz is 200 ok, anything else 404") {
  server_fixture f;
  auto ok = http_get(f.port(), "/healthz");
  CHECK(ok.result() == http::status::ok);
  CHECK(ok.body() == "ok\n");
  CHECK(http_get(f.port(), "/").result() == http::status::not_found);
  CHECK(f.server().clients() == 0);
}

TEST_CASE("garbage bytes and silent connections are dropped, the server keeps serving") {
  push_server_options o;
  o.handshake_timeout = 300ms;
  server_fixture f{o};
  {
    asio::io_context ioc;
    tcp::socket s = connect_socket(ioc, f.port());
    watchdog guard{s.native_handle()};
    asio::write(s, asio::buffer(std::string("\x16\x03\x01 garbage \xff\xfe\r\n\r\n\r\n")));
    char b[64];
    beast::error_code ec;
    s.read_some(asio::buffer(b), ec); // the server hangs up without an answer
    CHECK(ec);
  }
  {
    asio::io_context ioc;
    tcp::socket s = connect_socket(ioc, f.port());
    watchdog guard{s.native_handle()};
    char b[64];
    beast::error_code ec;
    s.read_some(asio::buffer(b), ec); // never sends a request: closed after handshake_timeout
    CHECK(ec);
  }
  CHECK(http_get(f.port(), "/healthz").result() == http::status::ok);
  CHECK(f.closed_count() == 0); // none of them ever opened a session
}

TEST_CASE("stop closes every session with 1001 and reports each close") {
  server_fixture f;
  ws_client a{f.port()};
  ws_client b{f.port()};
  f.session(1);
  f.server().stop();
  CHECK_FALSE(a.read());
  CHECK(a.close_code() == 1001);
  CHECK_FALSE(b.read());
  CHECK(b.close_code() == 1001);
  REQUIRE(f.wait([&] { return f.closed_locked().size() == 2; }));
  CHECK(f.server().clients() == 0);
}

TEST_CASE("a taken port is a runtime_error naming the address") {
  server_fixture f;
  asio::io_context ioc;
  push_server_options o;
  o.port = f.port();
  try {
    push_server second{ioc, o, {}};
    FAIL("second server bound a taken port");
  } catch (const std::runtime_error& e) {
    CHECK(std::string{e.what()}.find(std::to_string(f.port())) != std::string::npos);
  }
}

TEST_CASE("over max_connections an upgrade gets 503 with a reason, and an open client keeps getting its frames") {
  push_server_options o;
  o.max_connections = 20;
  server_fixture f{o};
  ws_client honest{f.port()};
  auto hs = f.session(0);
  std::vector<std::unique_ptr<ws_client>> others;
  for (int i = 0; i < 19; ++i)
    others.push_back(std::make_unique<ws_client>(f.port()));
  f.session(19);
  CHECK(f.server().connections() == 20);

  // A second thread hammers the full server while the honest client is served.
  constexpr int attempts = 300;
  std::atomic<int> refused{0};
  std::atomic<int> unexpected{0};
  std::thread flood([&] {
    for (int i = 0; i < attempts; ++i) {
      auto [status, body] = try_upgrade(f.port());
      if (status == 503 && body.find("too_many_connections") != std::string::npos)
        ++refused;
      else
        ++unexpected;
    }
  });
  auto worst = std::chrono::steady_clock::duration::zero();
  for (int i = 0; i < 200; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    hs->send(std::make_shared<const std::string>("candle " + std::to_string(i)));
    auto got = honest.read();
    REQUIRE(got == std::optional<std::string>{"candle " + std::to_string(i)});
    worst = std::max(worst, std::chrono::steady_clock::now() - t0);
  }
  flood.join();
  CHECK(refused.load() == attempts);
  CHECK(unexpected.load() == 0);
  CHECK(f.limits("max_connections") == attempts);
  CHECK(worst < 1s);
  MESSAGE("honest client's worst frame latency during the flood: "
          << std::chrono::duration_cast<std::chrono::microseconds>(worst).count() << " us");
  CHECK(f.server().clients() == 20);

  // A slot given back can be taken again.
  others.back()->close();
  REQUIRE(f.wait([&] { return f.closed_locked().size() == 1; }));
  REQUIRE(f.wait([&] { return f.server().connections() == 19; }));
  ws_client again{f.port()};
  f.session(20);
  CHECK(f.server().clients() == 20);
}

TEST_CASE("a client over its message rate is closed with 1008 and a reason, an honest client is served meanwhile") {
  push_server_options o;
  o.client_rate = 50;
  o.client_burst = 50;
  server_fixture f{o};
  ws_client honest{f.port()};
  auto hs = f.session(0);
  ws_client flooder{f.port()};
  auto fs = f.session(1);

  std::thread flood([&] {
    for (int i = 0; i < 20000; ++i)
      flooder.send_text(R"({"op":"ping"})");
    while (flooder.read()) {
    }
  });
  for (int i = 0; i < 200; ++i) {
    if (i % 20 == 0)
      honest.send_text("honest " + std::to_string(i)); // 10 messages: within its rate
    hs->send(std::make_shared<const std::string>("candle " + std::to_string(i)));
    REQUIRE(honest.read() == std::optional<std::string>{"candle " + std::to_string(i)});
  }
  flood.join();
  CHECK(flooder.close_code() == 1008);
  CHECK(flooder.close_reason() == "rate limit exceeded: at most 50 messages per second");
  CHECK(f.limits("rate_limit") == 1);
  REQUIRE(f.wait([&] { return f.closed_locked().size() == 1; }));
  CHECK(f.closed() == std::vector<client_id>{fs->id()});

  std::size_t honest_texts = 0;
  std::size_t flood_texts = 0;
  for (const auto& [id, text] : f.texts())
    (id == hs->id() ? honest_texts : flood_texts) += 1;
  CHECK(honest_texts == 10);
  CHECK(flood_texts >= 50);  // the burst
  CHECK(flood_texts <= 100); // not the 20000 it sent
  CHECK(f.server().clients() == 1);
}

TEST_CASE("a consumer that falls behind pauses only that client's socket: never more than max_pending_frames") {
  push_server_options o;
  o.max_pending_frames = 8;
  server_fixture f{o, false};
  ws_client c{f.port()};
  f.session(0);
  constexpr std::size_t n = 2000;
  std::thread writer([&] {
    for (std::size_t i = 0; i < n; ++i)
      c.send_text(numbered(i, 1000)); // 2 MB: more than the socket buffers
  });
  REQUIRE(f.wait([&] { return f.texts_locked().size() == 8; }));
  // Nothing more arrives while the consumer has not confirmed (the window is a bound, not a wait for success).
  CHECK_FALSE(f.wait_for(300ms, [&] { return f.texts_locked().size() > 8; }));
  f.confirm_all();
  REQUIRE(f.wait([&] { return f.texts_locked().size() == n; }));
  writer.join();
  auto texts = f.texts();
  for (std::size_t i = 0; i < n; ++i)
    REQUIRE(texts[i].second == numbered(i, 1000));
}

TEST_CASE("conflate: a slow client gets only the newest state of a candle that waited, frames of other keys all") {
  push_server_options o;
  o.queue_limit = 10000;
  o.queue_bytes = std::size_t{64} << 20;
  server_fixture f{o};
  ws_client c{f.port(), 4096};
  auto s = f.session(0);
  // Fillers the client does not read yet: the socket buffers fill, the rest waits in the server's queue.
  constexpr std::size_t fillers = 3000;
  constexpr std::size_t frame_size = 4096;
  for (std::size_t i = 0; i < fillers; ++i)
    s->send_data(std::make_shared<const std::string>(numbered(i, frame_size)), mi::gw::slow_policy::conflate, 0);
  for (int v = 1; v <= 100; ++v)
    s->send_data(std::make_shared<const std::string>("candle 7 version " + std::to_string(v)),
                 mi::gw::slow_policy::conflate, 7);
  s->send_data(std::make_shared<const std::string>("candle 8"), mi::gw::slow_policy::conflate, 8);
  // (Conflation notifies nobody: poll.)
  for (auto until = std::chrono::steady_clock::now() + 5s;
       s->conflated() < 99 && std::chrono::steady_clock::now() < until;)
    std::this_thread::sleep_for(1ms);
  REQUIRE(s->conflated() == 99);
  std::vector<std::string> tail;
  for (std::size_t i = 0; i < fillers + 2; ++i) {
    auto got = c.read();
    REQUIRE_MESSAGE(got, "frame " << i << ": " << c.last_error() << " " << c.close_reason());
    if (i < fillers)
      REQUIRE(*got == numbered(i, frame_size)); // nothing of another key is lost or reordered
    else
      tail.push_back(*got);
  }
  CHECK(tail == std::vector<std::string>{"candle 7 version 100", "candle 8"});
  CHECK(s->dropped() == 0);
}

TEST_CASE("the queue is bounded in bytes too: a client that never reads costs at most queue_bytes") {
  push_server_options o;
  o.queue_limit = 100000;
  o.queue_bytes = 16384;
  server_fixture f{o};
  ws_client c{f.port(), 4096};
  auto s = f.session(0);
  constexpr std::size_t total = 5000;
  for (std::size_t i = 0; i < total; ++i) {
    s->send(std::make_shared<const std::string>(numbered(i, 4096)));
    CHECK(s->queued() <= 16384 / 4096 + 1); // one frame always fits: at most the bound plus that one
  }
  CHECK(s->dropped() > total / 2);
}

TEST_CASE("disconnect: a client under that policy is closed with 1008 and a reason after disconnect_after drops") {
  push_server_options o;
  o.queue_limit = 4;
  o.disconnect_after = 3;
  o.handshake_timeout = 500ms; // the slow peer cannot take the close frame: dropped after this
  server_fixture f{o};
  ws_client slow{f.port(), 4096};
  auto s = f.session(0);
  ws_client other{f.port()};
  auto s2 = f.session(1);
  for (std::size_t i = 0; i < 5000 && f.closed_count() == 0; ++i)
    s->send_data(std::make_shared<const std::string>(numbered(i, 4096)), mi::gw::slow_policy::disconnect, 0);
  REQUIRE(f.wait([&] { return f.closed_locked().size() == 1; }));
  CHECK(f.closed()[0] == s->id());
  CHECK(f.limits("slow_consumer") == 1);
  // Another client is untouched.
  s2->send(std::make_shared<const std::string>("still here"));
  CHECK(other.read() == std::optional<std::string>{"still here"});
}
