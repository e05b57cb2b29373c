// The simulator's server side: one of the few Beast translation units of the project. What is said on
// the wire is the protocol's business (protocols/<exchange>.cpp); this file owns sockets, subscriptions,
// generation, history and faults. Everything (acceptor, timers, every session) runs on one strand, so
// the state below needs no locks; only the counters are atomics, for simulator::current() from other threads.
//
// Pacing: every ~2 ms the tick adds rate*dt to a credit and generates floor(credit) trades, spread over
// the symbols that were ever subscribed (none before their first subscribe).
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

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "connectors/json_text.hpp"
#include "messages/codec.hpp"
#include "simulator/generator.hpp"
#include "simulator/market.hpp"
#include "simulator/protocols/protocol.hpp"

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
constexpr int trade_kinds = 2; // sub_key kinds 0, 1: trade streams
constexpr int max_kinds = 3;   // and book_kind (protocol.hpp)
static_assert(book_kind == trade_kinds);

class ws_session;

/// Per symbol: its generator (configured symbols only), whether it was ever subscribed, the sessions
/// subscribed to each stream kind and the ids still to skip.
struct slot {
  std::optional<symbol_generator> gen;
  bool started = false;
  std::uint64_t skip = 0;
  std::int64_t last_ts_ns = 0; ///< of the last generated trade
  std::vector<std::shared_ptr<ws_session>> subs[max_kinds];
  bool book_started = false; ///< its book was subscribed once: it changes with every trade from then on
  bool active() const { return !subs[0].empty() || !subs[1].empty(); }
};

} // namespace

struct simulator::core : std::enable_shared_from_this<simulator::core> {
  core(asio::io_context& io, options opts);

  void start();
  void stop();
  void do_accept();
  void on_tick();
  void on_heartbeat();
  bool generation_done() const;
  bool backlogged() const;
  bool eligible(const slot& s) const { return pause_without_subscribers ? s.active() : s.started; }
  /// The next replayed trade whose symbol may trade now, if any.
  const mi::trade* next_replay();
  void deliver(mi::trade t);
  void step_book(const std::string& symbol, slot& sl);
  /// GET /sim/book?symbol=X: the true book (sim_book_json).
  http_reply true_book(const query_params& q);
  void update_finished();

  // faults
  void drop_all();
  void stall(std::chrono::milliseconds ms);
  void notice_all();
  void malformed_now(std::uint64_t count);
  void skip(std::uint64_t count, const std::string& symbol);
  void mute(const std::string& symbol);
  /// A REST GET: the protocol's answer, or the throttle fault's 429/418; logged for /sim/requests.
  std::optional<http_reply> rest(std::string_view path, const query_params& q);
  http_reply requests_log() const;
  http_reply fault_command(const query_params& q);
  bool stalled() const { return stalled_; }

  void resend_to(ws_session& s, const std::vector<mi::trade>& trades);
  void on_open(const std::shared_ptr<ws_session>& s);
  void on_end(const std::shared_ptr<ws_session>& s);
  /// Applies what the protocol asked for after a client frame (or the handshake).
  void apply(const std::shared_ptr<ws_session>& s, actions& a);
  void subscribe(const std::shared_ptr<ws_session>& s, const std::vector<sub_key>& keys);
  void unsubscribe(const std::shared_ptr<ws_session>& s, const std::vector<sub_key>& keys);

  asio::io_context& ioc;
  strand_type strand;
  options o;
  market mkt;
  std::unique_ptr<protocol> proto;
  bool pause_without_subscribers;
  tcp::acceptor acceptor;
  asio::steady_timer tick_timer;
  asio::steady_timer heartbeat_timer;
  asio::steady_timer stall_timer;
  std::map<std::string, slot, std::less<>> slots; ///< by upper-case symbol
  std::set<std::shared_ptr<ws_session>> sessions;
  std::uint64_t rng_state;
  steady::time_point last_tick{};
  double credit = 0;
  std::uint64_t generated = 0; ///< distinct trades generated (strand copy of trades_generated)

  std::ifstream input;
  std::optional<mi::trade> pending; ///< next replayed trade, read ahead
  bool input_done = false;
  std::uint64_t input_line = 0;

  std::ofstream record;

  std::deque<mi::trade> recent; ///< the last max(resend, resend_on_reconnect) trades sent
  bool dropped = false;
  bool ever_subscribed = false; ///< some session subscribed before
  bool resend_pending = false;
  std::vector<mi::trade> resend_buffer;
  bool stalled_ = false;
  std::size_t notices_pending = 0; ///< noticed connection sets not yet closed
  bool stopped = false;
  std::uint16_t bound_port = 0;

  std::uint64_t throttle_left = 0; ///< REST trade requests still to answer with throttle_status
  unsigned throttle_status = 429;
  std::uint64_t retry_after_s = 1;
  struct rest_entry {
    std::string path;
    unsigned status;
    std::int64_t at_ms; ///< wall clock
  };
  std::deque<rest_entry> rest_log; ///< the last 1000 REST trade requests

  std::atomic<std::uint64_t> trades_generated{0}, frames_sent{0}, connections{0}, subscribes{0}, trades_skipped{0},
    faults{0}, throttled{0}, book_updates{0}, book_updates_skipped{0};
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

std::string json_error(std::string_view msg) {
  std::string out = R"({"ok":false,"error":")";
  for (char c : msg)
    out += (c == '"' || c == '\\') ? '\'' : c;
  return out + "\"}";
}

// ---------------------------------------------------------------------------------------------
/// One WebSocket client: its protocol state and subscriptions, a write queue with one write in flight, pings.
/// While the simulator is stalled, nothing is written or read (so not even a pong goes out) and new frames
/// are dropped.
class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(beast::tcp_stream&& s, core_ptr c, std::unique_ptr<connection_state> state, actions initial)
      : ws_(std::move(s)), core_(std::move(c)), ping_timer_(core_->strand), state_(std::move(state)),
        initial_(std::move(initial)) {}

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

  /// Queues one frame; trade frames are counted in frames_sent once written. Dropped while stalled.
  void send_frame(std::string frame, bool is_trade) {
    if (ended_ || core_->stalled())
      return;
    last_tx_ = steady::now();
    queue_.push_back({std::move(frame), is_trade});
    do_write();
  }

  /// Closes the TCP connection at once (fault injection and shutdown): no close frame.
  void end() {
    if (ended_)
      return;
    ended_ = true;
    auto self = shared_from_this();
    core_->on_end(self);
    ping_timer_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  /// After a stall: resumes reading and writing.
  void kick() {
    if (ended_)
      return;
    last_tx_ = steady::now(); // a stall is not the connection's silence
    if (!reading_)
      do_read();
    do_write();
  }

  bool ended() const { return ended_; }
  /// When the last frame was queued for this client (or the connection opened).
  steady::time_point last_sent() const { return last_tx_; }
  std::size_t queued() const { return queue_.size(); }
  connection_state& state() { return *state_; }
  std::set<sub_key>& subs() { return subs_; }
  /// Subscriptions stuck by the mute fault: kept, but nothing is pushed on them until the client
  /// unsubscribes (a second SUBSCRIBE changes nothing, as on the real exchanges).
  std::set<sub_key>& muted() { return muted_; }

private:
  struct out_frame {
    std::string data;
    bool is_trade;
  };

  void on_accept(error_code ec) {
    if (ec || core_->stopped)
      return end();
    ws_.text(true);
    last_tx_ = steady::now();
    auto self = shared_from_this();
    core_->on_open(self);
    core_->apply(self, initial_);
    do_read();
    arm_ping();
  }

  void do_read() {
    if (ended_ || core_->stalled())
      return;
    reading_ = true;
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
  }

  void on_read(error_code ec) {
    reading_ = false;
    if (ended_)
      return;
    if (ec)
      return end(); // remote close, reset, eof
    std::string text = beast::buffers_to_string(buffer_.data());
    buffer_.consume(buffer_.size());
    if (!core_->stalled()) { // a stalled exchange answers nothing
      actions a;
      core_->proto->on_text(*state_, text, a);
      core_->apply(shared_from_this(), a);
    }
    do_read();
  }

  void do_write() {
    if (writing_ || queue_.empty() || ended_ || core_->stalled())
      return;
    writing_ = true;
    if (queue_.size() > 1)
      cork(true);
    ws_.async_write(asio::buffer(queue_.front().data),
                    [self = shared_from_this()](error_code ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(error_code ec) {
    writing_ = false;
    if (ended_)
      return;
    if (ec)
      return end();
    if (queue_.front().is_trade)
      core_->frames_sent.fetch_add(1, std::memory_order_relaxed);
    queue_.pop_front();
    if (queue_.empty()) {
      cork(false);
      core_->update_finished();
    }
    do_write();
  }

  // A burst of frames (a tick's trades) leaves in the kernel's full segments: corked while more than one frame is
  // queued, uncorked (pushed at once) when the queue is empty. Frames and their bytes are the same; only their
  // packing into TCP segments changes, as an exchange's stream arrives over a network at this rate. Without it
  // every frame was a segment of its own, sent and received through loopback's whole stack in the simulator's
  // write (docs/performance.md §30).
  void cork(bool on) {
    if (corked_ == on)
      return;
    corked_ = on;
    const int v = on ? 1 : 0;
    // A failure only leaves the segments as they were.
    (void)::setsockopt(beast::get_lowest_layer(ws_).socket().native_handle(), IPPROTO_TCP, TCP_CORK, &v, sizeof v);
  }

  void arm_ping() {
    if (ended_ || core_->o.ping_interval.count() <= 0)
      return;
    ping_timer_.expires_after(core_->o.ping_interval);
    ping_timer_.async_wait([self = shared_from_this()](error_code ec) {
      if (ec || self->ended_)
        return;
      if (!self->pinging_ && !self->core_->stalled()) {
        self->pinging_ = true;
        self->ws_.async_ping({}, [self](error_code e) {
          self->pinging_ = false;
          if (e)
            self->end();
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
  std::unique_ptr<connection_state> state_;
  actions initial_;
  std::set<sub_key> subs_;
  std::set<sub_key> muted_;
  steady::time_point last_tx_{};
  bool reading_ = false;
  bool writing_ = false;
  bool pinging_ = false;
  bool ended_ = false;
  bool corked_ = false;
};

/// Sends a protocol's trade frame: one WebSocket message, or several, one a line (a derivatives venue turns one trade
/// into a message per channel); an empty one sends nothing.
void send_trade_frames(ws_session& s, const std::string& frames) {
  std::size_t at = 0;
  while (at < frames.size()) {
    auto end = frames.find('\n', at);
    if (end == std::string::npos)
      end = frames.size();
    if (end > at)
      s.send_frame(frames.substr(at, end - at), true);
    at = end + 1;
  }
}

// ---------------------------------------------------------------------------------------------
/// Plain HTTP on the WebSocket port: REST endpoints, /sim/fault, or the upgrade to a ws_session.
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
    if (ec || core_->stopped)
      return close();
    auto& req = parser_->get();
    const std::string target(req.target());
    const auto q = target.find('?');
    path_ = target.substr(0, q);
    query_ = parse_query(q == std::string::npos ? std::string_view() : std::string_view(target).substr(q + 1));
    if (websocket::is_upgrade(req))
      return upgrade(parser_->release());
    respond(req);
  }

  void upgrade(http::request<http::string_body> req) {
    actions initial;
    http_reply refusal;
    auto state = core_->proto->open(path_, query_, initial, refusal);
    if (!state)
      return reply(req, refusal);
    std::make_shared<ws_session>(std::move(stream_), core_, std::move(state), std::move(initial))->run(std::move(req));
  }

  void respond(const http::request<http::string_body>& req) {
    if (req.method() != http::verb::get)
      return reply(req, {405, R"({"error":"only GET"})", {}});
    if (path_ == "/sim/fault")
      return reply(req, core_->fault_command(query_));
    if (path_ == "/sim/requests")
      return reply(req, core_->requests_log());
    if (path_ == "/sim/book")
      return reply(req, core_->true_book(query_));
    if (auto r = core_->rest(path_, query_))
      return reply(req, *r);
    return reply(req, {404, R"({"error":"not found"})", {}});
  }

  void reply(const http::request<http::string_body>& req, const http_reply& r) {
    res_.emplace(static_cast<http::status>(r.status), req.version());
    res_->set(http::field::server, server_name);
    res_->set(http::field::content_type, "application/json");
    for (const auto& [k, v] : r.headers)
      res_->set(k, v);
    res_->keep_alive(req.keep_alive());
    res_->body() = r.body;
    res_->prepare_payload();
    http::async_write(stream_, *res_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec || !self->res_->keep_alive())
        return self->close();
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
  std::string path_;
  query_params query_;
};

} // namespace

// ---------------------------------------------------------------------------------------------
// core

simulator::core::core(asio::io_context& io, options opts)
    : ioc(io), strand(asio::make_strand(io)), o(std::move(opts)), mkt(o.exchange, o.symbols, o.reject, o.history_limit),
      proto(make_protocol(o.exchange, mkt)), pause_without_subscribers(o.resend > 0 || o.resend_on_reconnect > 0),
      acceptor(strand), tick_timer(strand), heartbeat_timer(strand), stall_timer(strand),
      rng_state(o.seed * 0x2545f4914f6cdd1dULL + 1) {
  if (!proto) {
    std::string names;
    for (auto n : supported_exchanges())
      names += (names.empty() ? "" : ", ") + std::string(n);
    throw std::runtime_error("unknown exchange '" + o.exchange + "' (expected one of " + names + ")");
  }
  if ((o.book_skip_after > 0 || o.book_checksum_after > 0 || o.book_stale_rest > 0) && !proto->supports_books())
    throw std::runtime_error("--book-*: " + o.exchange +
                             " does not speak order books in the simulator (binance, okx, bybit, coinbase, kraken)");
  mkt.book_seed(o.seed);
  mkt.stale_book_snapshot(o.book_stale_rest);
  if (o.notice_after > 0) {
    if (!proto->supports_notice())
      throw std::runtime_error("--notice-after: a forced-disconnect notice is not supported by " + o.exchange);
  }
  if (o.stall_after > 0 && o.stall_ms.count() <= 0)
    throw std::runtime_error("--stall-after needs --stall-ms > 0");
  if (o.throttle_status != 429 && !(o.throttle_status == 418 && o.exchange == "binance"))
    throw std::runtime_error("--throttle-status: 429, or 418 for binance (got " + std::to_string(o.throttle_status) +
                             ")");
  throttle_left = o.throttle;
  throttle_status = o.throttle_status;
  retry_after_s = o.retry_after_s;
  std::uint64_t index = 0;
  for (const auto& meta : mkt.configured())
    slots[meta.symbol].gen.emplace(meta, o.seed + 7919 * index++, o.exchange, o.first_id);

  if (!o.input_file.empty()) {
    input.open(o.input_file);
    if (!input)
      throw std::runtime_error("cannot read input file '" + o.input_file + "'");
  }
  if (!o.record_file.empty()) {
    record.open(o.record_file, std::ios::app);
    if (!record)
      throw std::runtime_error("cannot write record file '" + o.record_file + "'");
  }

  error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec)
    throw std::runtime_error("bad listen address '" + o.host + "': " + ec.message());
  const tcp::endpoint ep(address, o.port);
  acceptor.open(ep.protocol(), ec);
  if (!ec)
    acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec)
    acceptor.bind(ep, ec);
  if (!ec)
    acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    throw std::runtime_error("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  bound_port = acceptor.local_endpoint().port();
}

void simulator::core::start() {
  last_tick = steady::now();
  do_accept();
  on_tick();
  if (o.heartbeat_interval.count() > 0)
    on_heartbeat();
}

void simulator::core::stop() {
  if (stopped)
    return;
  stopped = true;
  error_code ignored;
  acceptor.close(ignored);
  tick_timer.cancel();
  heartbeat_timer.cancel();
  stall_timer.cancel();
  auto all = sessions;
  for (const auto& s : all)
    s->end();
  sessions.clear();
  for (auto& [name, sl] : slots)
    for (auto& v : sl.subs)
      v.clear();
  if (record.is_open())
    record.flush();
}

void simulator::core::do_accept() {
  acceptor.async_accept(strand, [self = shared_from_this()](error_code ec, tcp::socket socket) {
    if (self->stopped)
      return;
    if (!ec) {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<http_session>(std::move(socket), self)->run();
    }
    self->do_accept();
  });
}

bool simulator::core::generation_done() const {
  if (o.count > 0 && generated >= o.count)
    return true;
  return input.is_open() && input_done && !pending;
}

bool simulator::core::backlogged() const {
  for (const auto& s : sessions)
    if (s->queued() >= o.max_queued_frames)
      return true;
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
    if (line.empty())
      continue;
    auto t = mi::trade_from_json(line);
    if (!t) {
      std::cerr << "simulator: " << o.input_file << ":" << input_line << ": " << t.err().message << "\n";
      continue;
    }
    pending = std::move(*t);
  }
  if (!pending)
    return nullptr;
  const auto it = slots.find(pending->symbol);
  if (it == slots.end() || !eligible(it->second))
    return nullptr; // waits for a subscriber
  return &*pending;
}

void simulator::core::on_tick() {
  if (stopped)
    return;
  const auto now = steady::now();
  const double dt = std::chrono::duration<double>(now - last_tick).count();
  last_tick = now;
  const bool replay = input.is_open();

  if (!generation_done() && !backlogged()) {
    std::vector<slot*> active;
    if (!replay)
      for (auto& [name, sl] : slots)
        if (sl.gen && eligible(sl))
          active.push_back(&sl);
    const bool can = replay ? next_replay() != nullptr : (o.rate > 0 && !active.empty());
    if (!can) {
      credit = 0; // nothing may trade: no catch-up burst later
    } else {
      double budget;
      if (o.rate > 0) {
        credit = std::min(credit + o.rate * dt, std::max(1.0, o.rate * 0.1));
        budget = std::floor(credit);
      } else {
        budget = 1000; // replay unpaced
      }
      const std::int64_t resolution = proto->time_resolution_ns();
      const std::int64_t ts_ns = resolution >= 1'000'000 ? wall_ms_as_ns() : wall_ns() / resolution * resolution;
      for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(budget); ++i) {
        if (generation_done() || stopped)
          break;
        if ((i & 255) == 255 && backlogged())
          break;
        if (replay) {
          const mi::trade* t = next_replay();
          if (!t)
            break;
          mi::trade copy = std::move(*pending);
          pending.reset();
          deliver(std::move(copy));
        } else {
          // a drop may have removed every subscriber in the middle of a burst
          std::erase_if(active, [this](slot* s) { return !eligible(*s); });
          if (active.empty())
            break;
          slot* s = active[random() % active.size()];
          // ms exchanges: the trades of one tick share their ms; finer ones get distinct, increasing times
          auto ts = resolution >= 1'000'000 ? ts_ns : std::max(ts_ns, s->last_ts_ns + resolution);
          s->last_ts_ns = ts;
          deliver(s->gen->next(ts));
        }
        if (o.rate > 0)
          credit -= 1;
      }
    }
  } else {
    credit = 0;
  }
  update_finished();
  if (stopped)
    return;
  tick_timer.expires_at(now + tick_interval);
  tick_timer.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec)
      self->on_tick();
  });
}

void simulator::core::on_heartbeat() {
  if (stopped)
    return;
  const auto idle = o.idle_close.value_or(proto->idle_close_after());
  const auto now = steady::now();
  for (const auto& s : std::vector(sessions.begin(), sessions.end())) {
    if (!stalled_ && idle.count() > 0 && now - s->last_sent() >= idle) {
      s->end(); // OKX drops a connection with nothing pushed for 30 s (no subscription, no ping answered)
      continue;
    }
    if (stalled_)
      continue;
    if (auto f = proto->heartbeat(s->state()))
      s->send_frame(std::move(*f), false);
  }
  heartbeat_timer.expires_after(o.heartbeat_interval);
  heartbeat_timer.async_wait([self = shared_from_this()](error_code ec) {
    if (!ec)
      self->on_heartbeat();
  });
}

void simulator::core::deliver(mi::trade t) {
  t.exchange = mkt.exchange(); // replayed files may name another exchange
  mkt.record(t);
  if (record.is_open())
    record << mi::trade_to_json(t) << '\n';
  ++generated;
  auto& sl = slots[t.symbol];
  if (sl.skip > 0) {
    --sl.skip; // generated, in the history and the record, never sent: a gap to backfill
    trades_skipped.fetch_add(1, std::memory_order_relaxed);
  } else {
    for (int k = 0; k < trade_kinds; ++k)
      for (const auto& s : std::vector(sl.subs[k])) // a failing write may end a session and edit the list
        if (s->muted().empty() || !s->muted().count({t.symbol, k}))
          send_trade_frames(*s, proto->trade_frame(s->state(), t, k));
    if (const auto keep = std::max(o.resend, o.resend_on_reconnect); keep > 0) {
      recent.push_back(t);
      if (recent.size() > keep)
        recent.pop_front();
    }
  }
  if (o.malformed_every > 0 && generated % o.malformed_every == 0)
    for (int k = 0; k < trade_kinds; ++k)
      for (const auto& s : std::vector(sl.subs[k]))
        s->send_frame(proto->malformed_trade_frame(s->state(), t.symbol, k), false);
  trades_generated.store(generated, std::memory_order_relaxed);
  if (sl.book_started)
    step_book(t.symbol, sl);

  if (o.drop_after > 0 && !dropped && generated == o.drop_after) {
    faults.fetch_add(1, std::memory_order_relaxed);
    drop_all();
  }
  if (o.stall_after > 0 && generated == o.stall_after) {
    faults.fetch_add(1, std::memory_order_relaxed);
    stall(o.stall_ms);
  }
  if (o.skip_after > 0 && o.skip_count > 0 && generated == o.skip_after) {
    faults.fetch_add(1, std::memory_order_relaxed);
    skip(o.skip_count, "");
  }
  if (o.notice_after > 0 && generated == o.notice_after) {
    faults.fetch_add(1, std::memory_order_relaxed);
    notice_all();
  }
}

// Every trade moves its symbol's book by one update (the true book, GET /sim/book); its subscribers get the update
// unless the skip fault hides it (a sequence gap), with a wrong checksum under the checksum fault.
void simulator::core::step_book(const std::string& symbol, slot& sl) {
  sim_book* b = mkt.book(symbol);
  if (b == nullptr)
    return;
  const auto u = b->step();
  const auto n = book_updates.fetch_add(1, std::memory_order_relaxed) + 1;
  if (o.book_skip_after > 0 && n == o.book_skip_after) {
    faults.fetch_add(1, std::memory_order_relaxed);
    book_updates_skipped.fetch_add(1, std::memory_order_relaxed);
    for (const auto& s : std::vector(sl.subs[book_kind]))
      proto->book_update_lost(s->state(), symbol);
    return;
  }
  const bool corrupt = o.book_checksum_after > 0 && n == o.book_checksum_after;
  if (corrupt)
    faults.fetch_add(1, std::memory_order_relaxed);
  for (const auto& s : std::vector(sl.subs[book_kind]))
    if (s->muted().empty() || !s->muted().count({symbol, book_kind}))
      s->send_frame(proto->book_update_frame(s->state(), symbol, *b, u, corrupt), false);
}

http_reply simulator::core::true_book(const query_params& q) {
  auto sym = q.find("symbol");
  if (sym == q.end())
    return {400, R"({"error":"symbol is required"})", {}};
  std::string upper = sym->second;
  for (char& c : upper)
    c = (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
  const sim_book* b = mkt.find_book(upper);
  if (b == nullptr)
    return {404, R"({"error":"no book: its channel was never subscribed"})", {}};
  return {200, sim_book_json(*b), {}};
}

void simulator::core::drop_all() {
  dropped = true;
  if (o.resend > 0) {
    auto n = std::min<std::size_t>(o.resend, recent.size());
    resend_buffer.assign(recent.end() - static_cast<std::ptrdiff_t>(n), recent.end());
    resend_pending = !resend_buffer.empty();
  }
  auto all = sessions;
  for (const auto& s : all)
    s->end();
}

void simulator::core::stall(std::chrono::milliseconds ms) {
  stalled_ = true;
  stall_timer.expires_after(ms);
  stall_timer.async_wait([self = shared_from_this()](error_code ec) {
    if (ec || self->stopped)
      return;
    self->stalled_ = false;
    for (const auto& s : std::vector(self->sessions.begin(), self->sessions.end()))
      s->kick();
    self->update_finished();
  });
}

void simulator::core::notice_all() {
  std::vector<std::weak_ptr<ws_session>> noticed;
  for (const auto& s : sessions)
    if (auto f = proto->supports_notice() ? proto->notice(s->state()) : std::nullopt) {
      s->send_frame(std::move(*f), false);
      noticed.push_back(s);
    }
  ++notices_pending;
  auto timer = std::make_shared<asio::steady_timer>(strand, o.notice_grace);
  timer->async_wait([self = shared_from_this(), timer, noticed = std::move(noticed)](error_code) {
    for (const auto& w : noticed)
      if (auto s = w.lock())
        s->end();
    --self->notices_pending;
    self->update_finished();
  });
}

void simulator::core::malformed_now(std::uint64_t count) {
  for (const auto& s : std::vector(sessions.begin(), sessions.end())) {
    if (s->subs().empty())
      continue;
    const auto key = *s->subs().begin();
    for (std::uint64_t i = 0; i < count; ++i)
      s->send_frame(proto->malformed_trade_frame(s->state(), key.symbol, key.kind), false);
  }
}

void simulator::core::skip(std::uint64_t count, const std::string& symbol) {
  for (auto& [name, sl] : slots)
    if (sl.gen && (symbol.empty() || name == symbol))
      sl.skip += count;
}

http_reply simulator::core::fault_command(const query_params& q) {
  auto action = q.find("action");
  if (action == q.end())
    return {400, json_error("missing action (drop, stall, malformed, skip, notice, mute, throttle)"), {}};
  auto number = [&q](const char* key) -> std::optional<std::uint64_t> {
    auto it = q.find(key);
    return it == q.end() ? std::nullopt : parse_uint(it->second);
  };
  const std::string& a = action->second;
  if (a == "drop") {
    drop_all();
  } else if (a == "stall") {
    auto ms = number("ms");
    if (!ms || *ms == 0)
      return {400, json_error("stall needs ms=<milliseconds > 0>"), {}};
    stall(std::chrono::milliseconds(*ms));
  } else if (a == "malformed") {
    auto n = q.count("count") ? number("count") : std::optional<std::uint64_t>(1);
    if (!n)
      return {400, json_error("malformed: count must be an unsigned integer"), {}};
    malformed_now(*n);
  } else if (a == "skip") {
    auto n = number("count");
    if (!n || *n == 0)
      return {400, json_error("skip needs count=<ids > 0>"), {}};
    std::string symbol;
    if (auto s = q.find("symbol"); s != q.end()) {
      for (char c : s->second)
        symbol += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
      auto it = slots.find(symbol);
      if (it == slots.end() || !it->second.gen)
        return {400, json_error("skip: unknown symbol " + s->second), {}};
    }
    skip(*n, symbol);
  } else if (a == "notice") {
    if (!proto->supports_notice())
      return {400, json_error("notice not supported by " + o.exchange), {}};
    notice_all();
  } else if (a == "mute") {
    auto s = q.find("symbol");
    std::string symbol;
    if (s != q.end())
      for (char c : s->second)
        symbol += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c;
    auto it = slots.find(symbol);
    if (it == slots.end() || !it->second.gen)
      return {400, json_error("mute needs symbol=<a configured symbol>"), {}};
    mute(symbol);
  } else if (a == "throttle") {
    auto n = number("count");
    if (!n || *n == 0)
      return {400, json_error("throttle needs count=<requests > 0>"), {}};
    auto status = q.count("status") ? number("status") : std::optional<std::uint64_t>(429);
    if (!status || (*status != 429 && !(*status == 418 && o.exchange == "binance")))
      return {400, json_error("throttle: status must be 429, or 418 for binance"), {}};
    auto retry = q.count("retry_after") ? number("retry_after") : std::optional<std::uint64_t>(1);
    if (!retry)
      return {400, json_error("throttle: retry_after must be whole seconds"), {}};
    throttle_left = *n;
    throttle_status = static_cast<unsigned>(*status);
    retry_after_s = *retry;
  } else {
    return {400, json_error("unknown action '" + a + "' (drop, stall, malformed, skip, notice, mute, throttle)"), {}};
  }
  faults.fetch_add(1, std::memory_order_relaxed);
  finished.store(false); // a fault in progress
  update_finished();
  return {200, R"({"ok":true})", {}};
}

void simulator::core::mute(const std::string& symbol) {
  for (const auto& s : sessions)
    for (int k = 0; k < max_kinds; ++k)
      if (s->subs().count({symbol, k}))
        s->muted().insert({symbol, k});
}

std::optional<http_reply> simulator::core::rest(std::string_view path, const query_params& q) {
  std::string lower(path);
  for (char& c : lower)
    c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  // Trade history and (Alpaca) bars: throttled by the fault, logged for /sim/requests (bars with their day and
  // whether a page token was sent: the daily job's requests).
  const bool bars = lower.find("/bars") != std::string::npos;
  const bool trades = lower.find("trade") != std::string::npos || bars;
  std::optional<http_reply> r;
  if (trades && throttle_left > 0) {
    --throttle_left;
    throttled.fetch_add(1, std::memory_order_relaxed);
    const std::string body = throttle_status == 418
                               ? R"({"code":-1003,"msg":"Way too much request weight used; IP banned until later."})"
                               : R"({"code":-1003,"msg":"Too many requests; current limit is exceeded."})";
    r = http_reply{throttle_status, body, {{"Retry-After", std::to_string(retry_after_s)}}};
  } else {
    r = proto->rest(path, q);
  }
  if (trades && r) {
    std::string logged(path);
    if (bars) {
      const auto start = q.find("start");
      logged += "?start=" + (start == q.end() ? std::string() : start->second);
      if (q.count("page_token") != 0)
        logged += "&page_token=" + q.find("page_token")->second;
    }
    rest_log.push_back({std::move(logged), r->status, wall_ns() / 1'000'000});
    if (rest_log.size() > 1000)
      rest_log.pop_front();
  }
  return r;
}

http_reply simulator::core::requests_log() const {
  std::string body = R"({"requests":[)";
  for (std::size_t i = 0; i < rest_log.size(); ++i) {
    const auto& e = rest_log[i];
    if (i)
      body += ',';
    body += R"({"path":)";
    connectors::text::append_json_string(body, e.path);
    body += R"(,"status":)" + std::to_string(e.status) + R"(,"at_ms":)" + std::to_string(e.at_ms) + "}";
  }
  body += "]}";
  return {200, std::move(body), {}};
}

void simulator::core::resend_to(ws_session& s, const std::vector<mi::trade>& trades) {
  for (const auto& t : trades)
    for (int k = 0; k < trade_kinds; ++k)
      if (s.subs().count({t.symbol, k}))
        s.send_frame(proto->trade_frame(s.state(), t, k), true);
}

void simulator::core::update_finished() {
  if (finished.load(std::memory_order_relaxed))
    return;
  if (!generation_done() || resend_pending || stalled_ || notices_pending > 0)
    return;
  for (const auto& s : sessions)
    if (s->queued() > 0)
      return;
  if (record.is_open())
    record.flush();
  finished.store(true);
}

void simulator::core::on_open(const std::shared_ptr<ws_session>& s) {
  sessions.insert(s);
  connections.fetch_add(1, std::memory_order_relaxed);
}

void simulator::core::on_end(const std::shared_ptr<ws_session>& s) {
  for (auto& [name, sl] : slots)
    for (auto& v : sl.subs)
      std::erase(v, s);
  sessions.erase(s);
}

void simulator::core::apply(const std::shared_ptr<ws_session>& s, actions& a) {
  subscribes.fetch_add(a.subscribe_requests, std::memory_order_relaxed);
  for (auto& f : a.frames)
    s->send_frame(std::move(f), false); // acks go out before any trade they announce
  if (!a.unsubscribe.empty())
    unsubscribe(s, a.unsubscribe);
  if (!a.subscribe.empty())
    subscribe(s, a.subscribe);
}

void simulator::core::subscribe(const std::shared_ptr<ws_session>& s, const std::vector<sub_key>& keys) {
  const bool first_of_session = s->subs().empty();
  for (const auto& key : keys) {
    if (key.kind < 0 || key.kind >= max_kinds || !s->subs().insert(key).second)
      continue;
    auto& sl = slots[key.symbol];
    sl.subs[key.kind].push_back(s);
    sl.started = true;
    if (key.kind == book_kind) {
      sl.book_started = true;
      if (sim_book* b = mkt.book(key.symbol))
        if (auto f = proto->book_snapshot_frame(s->state(), key.symbol, *b))
          s->send_frame(std::move(*f), false);
    }
  }
  if (dropped && resend_pending) {
    resend_to(*s, resend_buffer);
    resend_buffer.clear();
    resend_pending = false;
  }
  if (o.resend_on_reconnect > 0 && first_of_session && ever_subscribed) {
    auto n = std::min<std::size_t>(o.resend_on_reconnect, recent.size());
    resend_to(*s, {recent.end() - static_cast<std::ptrdiff_t>(n), recent.end()});
  }
  ever_subscribed = true;
}

void simulator::core::unsubscribe(const std::shared_ptr<ws_session>& s, const std::vector<sub_key>& keys) {
  for (const auto& key : keys) {
    s->muted().erase(key); // a fresh subscribe after this one is served again
    if (!s->subs().erase(key))
      continue;
    auto it = slots.find(key.symbol);
    if (it != slots.end())
      std::erase(it->second.subs[key.kind], s);
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
  s.trades_skipped = core_->trades_skipped.load();
  s.faults = core_->faults.load();
  s.book_updates = core_->book_updates.load();
  s.book_updates_skipped = core_->book_updates_skipped.load();
  s.throttled = core_->throttled.load();
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
    if (!ec)
      ioc.stop();
  });
  asio::steady_timer poll(ioc);
  std::function<void()> arm = [&] {
    poll.expires_after(std::chrono::milliseconds(50));
    poll.async_wait([&](error_code ec) {
      if (ec)
        return;
      if (!sim->finished())
        return arm();
      poll.expires_after(o.linger);
      poll.async_wait([&ioc](error_code e) {
        if (!e)
          ioc.stop();
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
