// The Binance simulator's server side: one of the few Beast translation units of the project.
// Everything (acceptor, pacing timer, every session) runs on one strand, so the state below needs
// no locks; only the counters are atomics, for simulator::current() from other threads.
//
// Pacing: every ~2 ms the tick adds rate*dt to a credit and generates floor(credit) trades,
// spread over the symbols that have a subscriber (none are generated while nobody listens).
#include "simulator/simulator.hpp"

#include <atomic>
#include <cmath>
#include <csignal>
#include <deque>
#include <fstream>
#include <future>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "connectors/binance/codec.hpp"
#include "connectors/binance/instruments.hpp"
#include "messages/codec.hpp"
#include "simulator/generator.hpp"
#include "simulator/requests.hpp"

namespace mi::sim {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;
using strand_type = asio::strand<asio::io_context::executor_type>;

constexpr std::string_view server_name = "market-ingestor-simulator";
constexpr auto tick_interval = std::chrono::milliseconds(2);

int kind_index(binance::stream_kind k) { return k == binance::stream_kind::trade ? 0 : 1; }
constexpr binance::stream_kind kinds[2] = {binance::stream_kind::trade, binance::stream_kind::agg_trade};

class ws_session;

/// Per symbol: its generator (configured symbols only) and the sessions subscribed to each stream kind.
struct slot {
  std::optional<symbol_generator> gen;
  std::vector<std::shared_ptr<ws_session>> subs[2];
  bool active() const { return !subs[0].empty() || !subs[1].empty(); }
};

} // namespace

struct simulator::core : std::enable_shared_from_this<simulator::core> {
  core(asio::io_context& io, options opts);

  void start();
  void stop();
  void do_accept();
  void on_tick();
  bool generation_done() const;
  bool backlogged() const;
  /// The next replayed trade whose symbol has a subscriber, if any.
  const mi::trade* next_replay();
  void deliver(const mi::trade& t);
  void drop_all();
  void resend_to(ws_session& s);
  void update_finished();

  void on_open(const std::shared_ptr<ws_session>& s);
  void on_end(const std::shared_ptr<ws_session>& s);
  void subscribe(const std::shared_ptr<ws_session>& s, const std::vector<std::string>& names);
  void unsubscribe(const std::shared_ptr<ws_session>& s, const std::vector<std::string>& names);

  asio::io_context& ioc;
  strand_type strand;
  options o;
  tcp::acceptor acceptor;
  asio::steady_timer tick_timer;
  std::string exchange_info_body;
  std::map<std::string, slot, std::less<>> slots; ///< by upper-case symbol
  std::set<std::shared_ptr<ws_session>> sessions;
  std::uint64_t rng_state;
  steady::time_point last_tick{};
  double credit = 0;
  std::uint64_t generated = 0; ///< distinct trades sent (strand copy of trades_generated)

  std::ifstream input;
  std::optional<mi::trade> pending; ///< next replayed trade, read ahead
  bool input_done = false;
  std::uint64_t input_line = 0;

  std::ofstream record;

  std::deque<mi::trade> recent; ///< the last `resend` trades sent
  bool dropped = false;
  bool ever_subscribed = false; ///< some session subscribed before
  bool resend_pending = false;
  std::vector<mi::trade> resend_buffer;
  bool stopped = false;
  std::uint16_t bound_port = 0;

  std::atomic<std::uint64_t> trades_generated{0}, frames_sent{0}, connections{0}, subscribes{0};
  std::atomic<bool> finished{false};

  std::uint64_t random() {
    std::uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
};

namespace {

using core_ptr = std::shared_ptr<simulator::core>;

// ---------------------------------------------------------------------------------------------
/// One WebSocket client: its subscriptions, a write queue with one write in flight, pings.
class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(beast::tcp_stream&& s, core_ptr c, bool combined, std::vector<std::string> url_streams)
      : ws_(std::move(s)), core_(std::move(c)), ping_timer_(core_->strand), combined_(combined),
        url_streams_(std::move(url_streams)) {}

  void run(http::request<http::string_body> req) {
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
        [](websocket::response_type& res) { res.set(http::field::server, server_name); }));
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) { self->on_accept(ec); });
  }

  /// Queues one frame; trade frames are counted in frames_sent once written.
  void send_frame(std::string frame, bool is_trade) {
    if (ended_) return;
    queue_.push_back({std::move(frame), is_trade});
    do_write();
  }

  /// Closes the TCP connection at once (fault injection and shutdown): no close frame.
  void end() {
    if (ended_) return;
    ended_ = true;
    auto self = shared_from_this();
    core_->on_end(self);
    ping_timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  std::size_t queued() const { return queue_.size(); }
  bool combined() const { return combined_; }
  std::set<std::string>& streams() { return streams_; }

private:
  struct out_frame {
    std::string data;
    bool is_trade;
  };

  void on_accept(error_code ec) {
    if (ec || core_->stopped) return end();
    ws_.text(true);
    auto self = shared_from_this();
    core_->on_open(self);
    if (!url_streams_.empty()) {
      core_->subscribes.fetch_add(1, std::memory_order_relaxed);
      core_->subscribe(self, url_streams_);
    }
    do_read();
    arm_ping();
  }

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ended_) return;
    if (ec) return end(); // remote close, reset, eof
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    handle(text);
    do_read();
  }

  void handle(std::string_view text) {
    auto parsed = parse_control_request(text);
    if (auto* err = std::get_if<control_error>(&parsed)) return send_frame(error_frame(*err), false);
    auto& req = std::get<control_request>(parsed);
    auto self = shared_from_this();
    switch (req.what) {
    case control_request::method::subscribe:
      core_->subscribes.fetch_add(1, std::memory_order_relaxed);
      send_frame(ack_frame(req.id), false); // the ack goes out before any trade of these streams
      core_->subscribe(self, req.params);
      break;
    case control_request::method::unsubscribe:
      core_->unsubscribe(self, req.params);
      send_frame(ack_frame(req.id), false);
      break;
    case control_request::method::list_subscriptions:
      send_frame(list_frame({streams_.begin(), streams_.end()}, req.id), false);
      break;
    }
  }

  void do_write() {
    if (writing_ || queue_.empty() || ended_) return;
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front().data), [self = shared_from_this()](error_code ec, std::size_t) {
      self->on_write(ec);
    });
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (ended_) return;
    if (ec) return end();
    if (queue_.front().is_trade) core_->frames_sent.fetch_add(1, std::memory_order_relaxed);
    queue_.pop_front();
    if (queue_.empty()) core_->update_finished();
    do_write();
  }

  void arm_ping() {
    if (ended_ || core_->o.ping_interval.count() <= 0) return;
    ping_timer_.expires_after(core_->o.ping_interval);
    ping_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->ended_) return;
      if (!self->pinging_) {
        self->pinging_ = true;
        self->ws_.async_ping({}, [self](error_code e) {
          self->pinging_ = false;
          if (e) self->end();
        });
      }
      self->arm_ping();
    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  core_ptr core_;
  asio::steady_timer ping_timer_;
  beast::flat_buffer buffer_;
  std::deque<out_frame> queue_;
  std::set<std::string> streams_;
  bool combined_;
  std::vector<std::string> url_streams_;
  bool writing_ = false;
  bool pinging_ = false;
  bool ended_ = false;
};

// ---------------------------------------------------------------------------------------------
/// Plain HTTP on the WebSocket port: REST endpoints, or the upgrade to a ws_session.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  http_session(tcp::socket&& s, core_ptr c) : stream_(std::move(s)), core_(std::move(c)) {}

  void run() { do_read(); }

private:
  void do_read() {
    parser_.emplace();
    parser_->header_limit(16 * 1024);
    parser_->body_limit(64 * 1024);
    stream_.expires_after(std::chrono::seconds(30));
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    if (ec || core_->stopped) return close();
    auto& req = parser_->get();
    if (websocket::is_upgrade(req)) return upgrade(parser_->release());
    respond(req);
  }

  void upgrade(http::request<http::string_body> req) {
    const std::string target(req.target());
    const auto q = target.find('?');
    const std::string path = target.substr(0, q);
    const std::string query = q == std::string::npos ? "" : target.substr(q + 1);
    bool combined = false;
    std::vector<std::string> streams;
    auto split = [&streams](std::string_view list) {
      while (!list.empty()) {
        const auto slash = list.find('/');
        const auto name = list.substr(0, slash);
        if (!name.empty()) streams.emplace_back(name);
        if (slash == std::string_view::npos) break;
        list.remove_prefix(slash + 1);
      }
    };
    if (path == "/ws") {
    } else if (path.rfind("/ws/", 0) == 0) {
      split(std::string_view(path).substr(4));
    } else if (path == "/stream") {
      combined = true;
      std::string_view qs(query);
      while (!qs.empty()) {
        const auto amp = qs.find('&');
        const auto kv = qs.substr(0, amp);
        if (kv.rfind("streams=", 0) == 0) split(kv.substr(8));
        if (amp == std::string_view::npos) break;
        qs.remove_prefix(amp + 1);
      }
    } else {
      return reply(req, http::status::not_found, R"({"code":-1,"msg":"no WebSocket endpoint at this path"})");
    }
    for (const auto& s : streams)
      if (!parse_stream_name(s))
        return reply(req, http::status::bad_request, R"({"code":2,"msg":"Invalid request: invalid stream name"})");
    std::make_shared<ws_session>(std::move(stream_), core_, combined, std::move(streams))->run(std::move(req));
  }

  void respond(const http::request<http::string_body>& req) {
    const std::string target(req.target());
    const std::string path = target.substr(0, target.find('?'));
    if (req.method() != http::verb::get)
      return reply(req, http::status::method_not_allowed, R"({"code":-1,"msg":"only GET"})");
    if (path == "/api/v3/exchangeInfo") return reply(req, http::status::ok, core_->exchange_info_body);
    if (path == "/api/v3/ping") return reply(req, http::status::ok, "{}");
    if (path == "/api/v3/time")
      return reply(req, http::status::ok, "{\"serverTime\":" + std::to_string(wall_ms_as_ns() / 1'000'000) + "}");
    return reply(req, http::status::not_found, R"({"code":-1,"msg":"not found"})");
  }

  void reply(const http::request<http::string_body>& req, http::status status, std::string body) {
    res_.emplace(status, req.version());
    res_->set(http::field::server, server_name);
    res_->set(http::field::content_type, "application/json");
    res_->keep_alive(req.keep_alive());
    res_->body() = std::move(body);
    res_->prepare_payload();
    http::async_write(stream_, *res_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec || !self->res_->keep_alive()) return self->close();
      self->do_read();
    });
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream_.close();
  }

  beast::tcp_stream stream_;
  core_ptr core_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
};

} // namespace

// ---------------------------------------------------------------------------------------------
// core

simulator::core::core(asio::io_context& io, options opts)
    : ioc(io), strand(asio::make_strand(io)), o(std::move(opts)), acceptor(strand), tick_timer(strand),
      rng_state(o.seed * 0x2545f4914f6cdd1dULL + 1) {
  binance::instruments known;
  std::vector<binance::instrument> listed;
  std::uint64_t index = 0;
  for (const auto& sym : o.symbols) {
    auto meta = known.resolve(sym);
    if (!meta) throw std::runtime_error("unknown symbol '" + sym + "' (expected e.g. BTCUSDT)");
    listed.push_back(*meta);
    slots[meta->symbol].gen.emplace(*meta, o.seed + 7919 * index++);
  }
  exchange_info_body = binance::encode_exchange_info(listed);

  if (!o.input_file.empty()) {
    input.open(o.input_file);
    if (!input) throw std::runtime_error("cannot read input file '" + o.input_file + "'");
  }
  if (!o.record_file.empty()) {
    record.open(o.record_file, std::ios::app);
    if (!record) throw std::runtime_error("cannot write record file '" + o.record_file + "'");
  }

  error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec) throw std::runtime_error("bad listen address '" + o.host + "': " + ec.message());
  const tcp::endpoint ep(address, o.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(ep, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  bound_port = acceptor.local_endpoint().port();
}

void simulator::core::start() {
  last_tick = steady::now();
  do_accept();
  on_tick();
}

void simulator::core::stop() {
  if (stopped) return;
  stopped = true;
  error_code ignored;
  acceptor.close(ignored);
  tick_timer.cancel();
  auto all = sessions;
  for (const auto& s : all) s->end();
  sessions.clear();
  for (auto& [name, sl] : slots) sl.subs[0].clear(), sl.subs[1].clear();
  if (record.is_open()) record.flush();
}

void simulator::core::do_accept() {
  acceptor.async_accept(strand, [self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (self->stopped) return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<http_session>(std::move(socket), self)->run();
    }
    self->do_accept();
  });
}

bool simulator::core::generation_done() const {
  if (o.count > 0 && generated >= o.count) return true;
  return input.is_open() && input_done && !pending;
}

bool simulator::core::backlogged() const {
  for (const auto& s : sessions)
    if (s->queued() >= o.max_queued_frames) return true;
  return false;
}

const mi::trade* simulator::core::next_replay() {
  while (!pending && !input_done) {
    std::string line;
    if (!std::getline(input, line)) {
      input_done = true;
      break;
    }
    ++input_line;
    if (line.empty()) continue;
    auto t = mi::trade_from_json(line);
    if (!t) {
      std::cerr << "simulator: " << o.input_file << ":" << input_line << ": " << t.err().message << "\n";
      continue;
    }
    pending = std::move(*t);
  }
  if (!pending) return nullptr;
  const auto it = slots.find(pending->symbol);
  if (it == slots.end() || !it->second.active()) return nullptr; // waits for a subscriber
  return &*pending;
}

void simulator::core::on_tick() {
  if (stopped) return;
  const auto now = steady::now();
  const double dt = std::chrono::duration<double>(now - last_tick).count();
  last_tick = now;
  const bool replay = input.is_open();

  if (!generation_done() && !backlogged()) {
    std::vector<slot*> active;
    if (!replay)
      for (auto& [name, sl] : slots)
        if (sl.gen && sl.active()) active.push_back(&sl);
    const bool can = replay ? next_replay() != nullptr : (o.rate > 0 && !active.empty());
    if (!can) {
      credit = 0; // nobody listens: no catch-up burst later
    } else {
      double budget;
      if (o.rate > 0) {
        credit = std::min(credit + o.rate * dt, std::max(1.0, o.rate * 0.1));
        budget = std::floor(credit);
      } else {
        budget = 1000; // replay unpaced
      }
      const std::int64_t ts_ns = wall_ms_as_ns();
      for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(budget); ++i) {
        if (generation_done() || stopped) break;
        if ((i & 255) == 255 && backlogged()) break;
        if (replay) {
          const mi::trade* t = next_replay();
          if (!t) break;
          mi::trade copy = std::move(*pending);
          pending.reset();
          deliver(copy);
        } else {
          // a drop may have removed every subscriber in the middle of a burst
          std::erase_if(active, [](slot* s) { return !s->active(); });
          if (active.empty()) break;
          slot* s = active[random() % active.size()];
          deliver(s->gen->next(ts_ns));
        }
        if (o.rate > 0) credit -= 1;
      }
    }
  } else {
    credit = 0;
  }
  update_finished();
  if (stopped) return;
  tick_timer.expires_at(now + tick_interval);
  tick_timer.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec) self->on_tick();
  });
}

void simulator::core::deliver(const mi::trade& t) {
  auto& sl = slots[t.symbol];
  for (int k = 0; k < 2; ++k) {
    if (sl.subs[k].empty()) continue;
    std::optional<std::string> frames[2]; // raw, combined: encoded once per trade
    const auto subs = sl.subs[k];         // a failing write may end a session and edit the list
    for (const auto& s : subs) {
      auto& f = frames[s->combined() ? 1 : 0];
      if (!f) f = binance::encode_trade_frame(t, kinds[k], s->combined());
      s->send_frame(*f, true);
    }
  }
  if (record.is_open()) record << mi::trade_to_json(t) << '\n';
  ++generated;
  if (o.malformed_every > 0 && generated % o.malformed_every == 0) {
    // A trade frame whose price is not a number: a client must reject it and go on.
    const std::string bad_data = R"({"e":"trade","E":1,"s":")" + t.symbol + R"(","t":1,"p":"not-a-price","q":"1","T":1,"m":true,"M":true})";
    for (int k = 0; k < 2; ++k)
      for (const auto& s : std::vector(sl.subs[k]))
        s->send_frame(s->combined() ? R"({"stream":")" + binance::stream_name(t.symbol, kinds[k]) + R"(","data":)" + bad_data + "}"
                                    : bad_data,
                      false);
  }
  trades_generated.store(generated, std::memory_order_relaxed);
  if (const auto keep = std::max(o.resend, o.resend_on_reconnect); keep > 0) {
    recent.push_back(t);
    if (recent.size() > keep) recent.pop_front();
  }
  if (o.drop_after > 0 && !dropped && generated == o.drop_after) drop_all();
}

void simulator::core::drop_all() {
  dropped = true;
  if (o.resend > 0) {
    auto n = std::min<std::size_t>(o.resend, recent.size());
    resend_buffer.assign(recent.end() - static_cast<std::ptrdiff_t>(n), recent.end());
    resend_pending = !resend_buffer.empty();
  }
  auto all = sessions;
  for (const auto& s : all) s->end();
}

void simulator::core::resend_to(ws_session& s) {
  for (const auto& t : resend_buffer)
    for (int k = 0; k < 2; ++k)
      if (s.streams().count(binance::stream_name(t.symbol, kinds[k])))
        s.send_frame(binance::encode_trade_frame(t, kinds[k], s.combined()), true);
  resend_buffer.clear();
  resend_pending = false;
}

void simulator::core::update_finished() {
  if (finished.load(std::memory_order_relaxed)) return;
  if (!generation_done() || resend_pending) return;
  for (const auto& s : sessions)
    if (s->queued() > 0) return;
  if (record.is_open()) record.flush();
  finished.store(true);
}

void simulator::core::on_open(const std::shared_ptr<ws_session>& s) {
  sessions.insert(s);
  connections.fetch_add(1, std::memory_order_relaxed);
}

void simulator::core::on_end(const std::shared_ptr<ws_session>& s) {
  for (auto& [name, sl] : slots)
    for (auto& v : sl.subs) std::erase(v, s);
  sessions.erase(s);
}

void simulator::core::subscribe(const std::shared_ptr<ws_session>& s, const std::vector<std::string>& names) {
  const bool first_of_session = s->streams().empty();
  for (const auto& name : names) {
    auto ref = parse_stream_name(name);
    if (!ref || !s->streams().insert(name).second) continue;
    if (ref->kind) slots[ref->symbol].subs[kind_index(*ref->kind)].push_back(s);
  }
  if (dropped && resend_pending) resend_to(*s);
  if (o.resend_on_reconnect > 0 && first_of_session && ever_subscribed) {
    auto n = std::min<std::size_t>(o.resend_on_reconnect, recent.size());
    for (auto it = recent.end() - static_cast<std::ptrdiff_t>(n); it != recent.end(); ++it)
      for (int k = 0; k < 2; ++k)
        if (s->streams().count(binance::stream_name(it->symbol, kinds[k])))
          s->send_frame(binance::encode_trade_frame(*it, kinds[k], s->combined()), true);
  }
  ever_subscribed = true;
}

void simulator::core::unsubscribe(const std::shared_ptr<ws_session>& s, const std::vector<std::string>& names) {
  for (const auto& name : names) {
    auto ref = parse_stream_name(name);
    if (!ref || !s->streams().erase(name)) continue;
    if (ref->kind) {
      auto it = slots.find(ref->symbol);
      if (it != slots.end()) std::erase(it->second.subs[kind_index(*ref->kind)], s);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// simulator

simulator::simulator(boost::asio::io_context& ioc, options o) : core_(std::make_shared<core>(ioc, std::move(o))) {
  asio::post(core_->strand, [c = core_] { c->start(); });
}

simulator::~simulator() {
  auto c = core_;
  if (c->strand.running_in_this_thread() || c->ioc.stopped()) {
    c->stop();
    return;
  }
  auto done = std::make_shared<std::promise<void>>();
  auto f = done->get_future();
  asio::post(c->strand, [c, done] {
    c->stop();
    done->set_value();
  });
  // Bounded: if nobody runs the io_context, the posted stop is dropped with it.
  (void)f.wait_for(std::chrono::seconds(5));
}

std::uint16_t simulator::port() const { return core_->bound_port; }

stats simulator::current() const {
  stats s;
  s.trades_generated = core_->trades_generated.load();
  s.frames_sent = core_->frames_sent.load();
  s.connections = core_->connections.load();
  s.subscribes = core_->subscribes.load();
  return s;
}

bool simulator::finished() const { return core_->finished.load(); }

int run_simulator(const options& o) {
  asio::io_context ioc;
  std::unique_ptr<simulator> sim;
  try {
    sim = std::make_unique<simulator>(ioc, o);
  } catch (const std::exception& e) {
    std::cerr << "simulator: " << e.what() << std::endl;
    return 1;
  }
  std::cout << "simulator listening on ws://" << o.host << ":" << sim->port() << std::endl;

  asio::signal_set signals(ioc, SIGINT, SIGTERM);
  signals.async_wait([&ioc](error_code ec, int) {
    if (!ec) ioc.stop();
  });
  asio::steady_timer poll(ioc);
  std::function<void()> arm = [&] {
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&](error_code ec) {
      if (ec) return;
      if (!sim->finished()) return arm();
      poll.expires_after(o.linger);
      poll.async_wait([&ioc](error_code e) {
        if (!e) ioc.stop();
      });
    });
  };
  arm();
  ioc.run();
  const auto st = sim->current();
  sim.reset(); // the io_context is stopped: stops and flushes right here
  std::cerr << "simulator: " << st.trades_generated << " trades, " << st.frames_sent << " trade frames, "
            << st.connections << " connections, " << st.subscribes << " subscribes" << std::endl;
  return 0;
}

} // namespace mi::sim
