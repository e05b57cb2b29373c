// The only translation unit of the push server that includes Asio/Beast (compile cost: see STYLE.md).
#include "gateways/push/push_server.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <utility>
#include <vector>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include "gateways/push/push_batch.hpp"
#include "gateways/push/push_limits.hpp"
#include "gateways/push/push_protocol.hpp"

namespace mi::gw {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

constexpr std::size_t http_header_limit = 8192;
constexpr std::size_t http_body_limit = 4096;
constexpr std::size_t max_close_reason = 123; // RFC 6455: control frame payload <= 125, 2 for the code
constexpr std::chrono::milliseconds accept_retry_delay{100};
constexpr std::string_view server_name = "market-ingestor-push";
constexpr int retry_after_s = 5; // Retry-After of a 503 at the connection limit

std::string endpoint_text(const tcp::endpoint& ep) {
  if (ep.address().is_v6())
    return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

class connection;

/// The memory of an io thread's one pending delivery run (see shard): posting from the hub's thread would otherwise
/// allocate once per run. At most one run is pending per shard, and Asio frees a handler's memory before it runs
/// it, so one slot is enough; anything bigger falls back to new.
struct handler_slot {
  alignas(std::max_align_t) unsigned char buf[192];
  bool used = false;
};

template <class T>
struct slot_allocator {
  using value_type = T;
  handler_slot* slot;
  explicit slot_allocator(handler_slot* s) noexcept : slot(s) {}
  template <class U>
  slot_allocator(const slot_allocator<U>& o) noexcept : slot(o.slot) {} // NOLINT: rebinding is implicit
  T* allocate(std::size_t n) {
    if (!slot->used && sizeof(T) * n <= sizeof(slot->buf)) {
      slot->used = true;
      return reinterpret_cast<T*>(slot->buf);
    }
    return static_cast<T*>(::operator new(sizeof(T) * n));
  }
  void deallocate(T* p, std::size_t) noexcept {
    if (reinterpret_cast<unsigned char*>(p) == slot->buf)
      slot->used = false;
    else
      ::operator delete(p);
  }
  template <class U>
  bool operator==(const slot_allocator<U>& o) const noexcept {
    return slot == o.slot;
  }
};

/// One frame on its way to one client's queue (see shard).
struct delivery {
  std::shared_ptr<connection> conn;
  std::shared_ptr<const std::string> text;
  std::uint64_t key; // conflation key (0: none)
  bool reserved;     // counted by try_reserve() already (drop, disconnect); else conflate decides on the io thread
};

/// One io thread's share of the sessions: an io_context run by exactly one thread, so its sessions need no strand,
/// and the frames writers hand to them (push_batch): one post wakes the thread for everything added meanwhile,
/// which it delivers to each session's queue directly, in order.
struct shard {
  explicit shard(asio::io_context& c) : ioc(c) {}
  /// From any thread: queues `d` and posts a run when none is pending.
  void add(delivery&& d);
  /// On the io thread.
  void run();

  asio::io_context& ioc;
  push_batch<delivery> batch;
  std::vector<delivery> running; // the run's items (io thread only; its capacity is reused)
  handler_slot slot;             // the one pending run's handler memory
};

/// What the server and its connections share; outlives push_server while handlers are pending.
struct server_core : std::enable_shared_from_this<server_core> {
  server_core(asio::io_context& ioc, const std::vector<asio::io_context*>& shards, push_server_options o,
              push_handlers h)
      : ioc_(ioc), opts_(std::move(o)), handlers_(std::move(h)), acceptor_(asio::make_strand(ioc)),
        retry_timer_(acceptor_.get_executor()) {
    for (auto* c : shards)
      shards_.push_back(std::make_unique<shard>(*c));
    if (shards_.empty())
      shards_.push_back(std::make_unique<shard>(ioc));
    beast::error_code ec;
    tcp::resolver resolver{ioc};
    auto results = resolver.resolve(opts_.host, std::to_string(opts_.port), tcp::resolver::passive, ec);
    if (ec || results.empty())
      throw std::runtime_error("push server: cannot resolve listen address \"" + opts_.host +
                               "\": " + (ec ? ec.message() : std::string{"no address"}));
    const tcp::endpoint ep = results.begin()->endpoint();
    const std::string where = endpoint_text(ep);
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("push server: cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
  }

  void start_accepting() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  }

  void stop();
  void unregister(client_id id) {
    std::lock_guard lock{mu_};
    conns_.erase(id);
  }

  /// Handlers run only while the push_server object exists.
  bool alive() const { return alive_.load(std::memory_order_acquire); }

  asio::io_context& ioc_;
  const push_server_options opts_;
  const push_handlers handlers_;
  tcp::acceptor acceptor_; // on its own strand, like retry_timer_
  asio::steady_timer retry_timer_;
  std::uint16_t port_ = 0;
  std::atomic<bool> alive_{true};
  std::atomic<std::size_t> open_clients_{0};
  std::atomic<std::size_t> admitted_{0}; // connections counted against max_connections (any phase)

  void limit(std::string_view reason) const {
    if (alive() && handlers_.on_limit)
      handlers_.on_limit(reason);
  }

private:
  void do_accept();
  void on_accept(shard* sh, beast::error_code ec, tcp::socket socket);

  std::vector<std::unique_ptr<shard>> shards_; // sessions are spread over them, round robin
  std::size_t next_shard_ = 0;                 // on the acceptor's strand

  mutable std::mutex mu_;
  bool stopped_ = false;                                           // guarded by mu_
  client_id next_id_ = 1;                                          // guarded by mu_
  std::unordered_map<client_id, std::weak_ptr<connection>> conns_; // every live connection, any phase
};

/// One client connection: first an HTTP request (upgrade or plain GET), then a WebSocket session.
/// Everything except send/close/dropped/id/remote runs on its shard's io thread.
class connection final : public push_session, public std::enable_shared_from_this<connection> {
public:
  /// `admitted`: counted against max_connections (else the connection only gets its 503).
  connection(std::shared_ptr<server_core> core, shard& sh, tcp::socket&& socket, client_id id, std::string remote,
             bool admitted)
      : core_(std::move(core)), shard_(sh), ex_(socket.get_executor()), ws_(std::move(socket)), close_timer_(ex_),
        id_(id), remote_(std::move(remote)), admitted_(admitted) {}

  ~connection() override {
    release_slot();
    core_->unregister(id_);
  }

  void start() {
    asio::dispatch(ex_, [self = shared_from_this()] { self->read_request(); });
  }

  void send(std::shared_ptr<const std::string> text) override { send_data(std::move(text), slow_policy::drop, 0); }

  void send_data(std::shared_ptr<const std::string> text, slow_policy policy, std::uint64_t key) override {
    if (!text)
      return;
    // Drop and disconnect decide here, at once (a caller may look at dropped() right after); conflation needs
    // the queue, so it decides on the io thread.
    const bool conflate = policy == slow_policy::conflate && key != 0;
    if (!conflate && !try_reserve(text->size())) {
      if (policy == slow_policy::disconnect &&
          slow_drops_.fetch_add(1, std::memory_order_relaxed) + 1 == core_->opts_.disconnect_after) {
        core_->limit("slow_consumer");
        close(static_cast<std::uint16_t>(websocket::close_code::policy_error),
              "slow consumer: " + std::to_string(core_->opts_.disconnect_after) + " messages dropped");
      }
      return;
    }
    shard_.add(delivery{shared_from_this(), std::move(text), conflate ? key : 0, !conflate});
  }

  std::uint64_t conflated() const override { return conflated_.load(std::memory_order_relaxed); }
  std::size_t queued() const override { return waiting_.load(std::memory_order_relaxed); }

  void close(std::uint16_t code, std::string reason) override {
    asio::post(ex_, [self = shared_from_this(), code, r = std::move(reason)]() mutable {
      self->request_close(code, std::move(r));
    });
  }

  std::uint64_t dropped() const override { return dropped_.load(std::memory_order_relaxed); }
  client_id id() const override { return id_; }
  std::string remote() const override { return remote_; }
  std::string target() const override { return target_; } // written before on_open, constant after

  void text_done() override {
    asio::post(ex_, [self = shared_from_this()] {
      if (self->pending_ > 0)
        --self->pending_;
      self->maybe_resume();
    });
  }

  /// Server stop: open sessions close with 1001; connections not yet open are dropped.
  void shutdown() {
    asio::post(ex_, [self = shared_from_this()] {
      if (self->phase_ == phase::open)
        self->request_close(static_cast<std::uint16_t>(websocket::close_code::going_away), "going away");
      else if (self->phase_ == phase::http || self->phase_ == phase::handshake)
        self->finish();
    });
  }

private:
  enum class phase { http, handshake, open, closing, closed };

  // Gives the connection's max_connections slot back (once; at finish, or at destruction at the latest).
  void release_slot() {
    if (admitted_ && !released_.exchange(true))
      core_->admitted_.fetch_sub(1, std::memory_order_acq_rel);
  }

  // Counts one more waiting frame of `bytes` unless the queue is full in messages or bytes (then counts a drop).
  // A frame always fits into an empty queue, whatever its size.
  bool try_reserve(std::size_t bytes) {
    const auto before = waiting_.fetch_add(1, std::memory_order_acq_rel);
    const auto bytes_before = waiting_bytes_.fetch_add(bytes, std::memory_order_acq_rel);
    if (before >= core_->opts_.queue_limit || (before > 0 && bytes_before + bytes > core_->opts_.queue_bytes)) {
      release(1, bytes);
      dropped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    return true;
  }

  void release(std::size_t n, std::size_t bytes) {
    waiting_.fetch_sub(n, std::memory_order_acq_rel);
    waiting_bytes_.fetch_sub(bytes, std::memory_order_acq_rel);
  }

public:
  // On the io thread (shard::run): one frame send_data() accepted goes into the queue.
  void deliver(std::shared_ptr<const std::string>&& text, std::uint64_t key, bool reserved) {
    if (reserved)
      return enqueue(std::move(text));
    // Conflate: the newest state of this key replaces the one still waiting.
    const auto bytes_before = queue_.bytes();
    if (phase_ == phase::open && queue_.replace(key, text, writing_)) {
      waiting_bytes_.fetch_add(queue_.bytes() - bytes_before, std::memory_order_acq_rel); // modular: may shrink
      conflated_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    if (try_reserve(text->size()))
      enqueue(std::move(text), key);
  }

private:
  // ---- HTTP phase ----------------------------------------------------------------------------

  void read_request() {
    parser_.emplace();
    parser_->header_limit(http_header_limit);
    parser_->body_limit(http_body_limit);
    beast::get_lowest_layer(ws_).expires_after(core_->opts_.handshake_timeout);
    http::async_read(ws_.next_layer(), buffer_, *parser_,
                     beast::bind_front_handler(&connection::on_request, shared_from_this()));
  }

  void on_request(beast::error_code ec, std::size_t) {
    if (phase_ != phase::http)
      return;
    if (ec)
      return finish(); // garbage, timeout or disconnect: nothing to answer
    auto& req = parser_->get();
    if (websocket::is_upgrade(req)) {
      if (!admitted_) {
        core_->limit("max_connections");
        return write_http(http::status::service_unavailable,
                          std::string{reply_error("too_many_connections",
                                                  "the server has reached its connection limit (" +
                                                    std::to_string(core_->opts_.max_connections) + "), retry later")},
                          "application/json", retry_after_s);
      }
      target_ = std::string(req.target());
      if (!core_->handlers_.authorize)
        return accept_websocket();
      phase_ = phase::handshake; // a server stop while authorizing just drops the connection
      auto self = shared_from_this();
      core_->handlers_.authorize(std::string(req.target()), [self](int status, std::string body) {
        asio::post(self->ex_, [self, status, body = std::move(body)]() mutable {
          if (self->phase_ != phase::handshake)
            return;
          if (status == 0)
            return self->accept_websocket();
          self->write_http(static_cast<http::status>(status), std::move(body), "application/json");
        });
      });
      return;
    }
    if (req.method() == http::verb::get && req.target() == "/healthz")
      return write_http(http::status::ok, "ok\n");
    write_http(http::status::not_found, "not found\n");
  }

  void write_http(http::status status, std::string body, const char* content_type = "text/plain", int retry_after = 0) {
    res_.emplace(status, parser_->get().version());
    res_->set(http::field::server, server_name);
    res_->set(http::field::content_type, content_type);
    if (retry_after > 0)
      res_->set(http::field::retry_after, std::to_string(retry_after));
    res_->keep_alive(false);
    res_->body() = std::move(body);
    res_->prepare_payload();
    http::async_write(ws_.next_layer(), *res_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      beast::get_lowest_layer(self->ws_).socket().shutdown(tcp::socket::shutdown_send, ignored);
      self->finish();
    });
  }

  void accept_websocket() {
    phase_ = phase::handshake;
    beast::get_lowest_layer(ws_).expires_never(); // the websocket stream has its own timeouts
    auto timeouts = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeouts.handshake_timeout = core_->opts_.handshake_timeout;
    if (core_->opts_.idle_timeout.count() > 0) {
      // Beast pings a silent peer at half the idle timeout and closes it when nothing came back by its end.
      timeouts.idle_timeout = core_->opts_.idle_timeout;
      timeouts.keep_alive_pings = true;
    } else {
      timeouts.idle_timeout = websocket::stream_base::none();
    }
    ws_.set_option(timeouts);
    if (core_->opts_.compression) {
      websocket::permessage_deflate pmd;
      pmd.server_enable = true;
      pmd.server_max_window_bits = 10; // small windows: the deflate state is per client
      pmd.compLevel = 3;
      pmd.memLevel = 4;
      ws_.set_option(pmd);
    }
    ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(http::field::server, server_name); }));
    ws_.read_message_max(core_->opts_.max_message_bytes);
    ws_.async_accept(parser_->get(), beast::bind_front_handler(&connection::on_accepted, shared_from_this()));
  }

  void on_accepted(beast::error_code ec) {
    if (phase_ != phase::handshake)
      return;
    if (ec)
      return finish();
    phase_ = phase::open;
    opened_ = true;
    parser_.reset();
    buffer_.consume(buffer_.size());
    core_->open_clients_.fetch_add(1, std::memory_order_relaxed);
    if (const auto rate = core_->opts_.client_rate; rate > 0)
      bucket_.emplace(rate, core_->opts_.client_burst > 0 ? core_->opts_.client_burst : rate,
                      std::chrono::steady_clock::now());
    if (core_->alive() && core_->handlers_.on_open)
      core_->handlers_.on_open(shared_from_this());
    read_frame();
  }

  // ---- WebSocket phase -----------------------------------------------------------------------

  void read_frame() { ws_.async_read(buffer_, beast::bind_front_handler(&connection::on_read, shared_from_this())); }

  void on_read(beast::error_code ec, std::size_t) {
    // Errors include the peer's close, a frame over read_message_max (Beast already sent 1009),
    // protocol violations and the idle timeout.
    if (ec) {
      if (ec == websocket::error::message_too_big)
        core_->limit("message_too_large");
      return finish();
    }
    if (phase_ != phase::open) { // closing: only waiting for the peer's close reply
      buffer_.consume(buffer_.size());
      if (phase_ == phase::closing)
        read_frame();
      return;
    }
    if (bucket_ && !bucket_->try_take(std::chrono::steady_clock::now())) {
      buffer_.consume(buffer_.size());
      core_->limit("rate_limit");
      request_close(static_cast<std::uint16_t>(websocket::close_code::policy_error),
                    "rate limit exceeded: at most " + std::to_string(core_->opts_.client_rate) +
                      " messages per second");
      return read_frame();
    }
    if (ws_.got_text()) {
      std::string text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(buffer_.size());
      if (core_->alive() && core_->handlers_.on_text) {
        ++pending_;
        core_->handlers_.on_text(id_, std::move(text));
      }
    } else {
      buffer_.consume(buffer_.size());
      auto reply = std::make_shared<const std::string>(
        reply_error(push_error::bad_json, "binary frames are not supported: send JSON text frames"));
      if (try_reserve(reply->size()))
        enqueue(std::move(reply));
    }
    const auto limit = core_->opts_.max_pending_frames;
    if (limit > 0 && pending_ >= limit) {
      paused_ = true; // the consumer is behind: stop reading until text_done() (TCP back-pressure)
      return;
    }
    read_frame();
  }

  void maybe_resume() {
    if (!paused_)
      return;
    const auto limit = core_->opts_.max_pending_frames;
    if (phase_ == phase::closing || (phase_ == phase::open && (limit == 0 || pending_ < limit))) {
      paused_ = false;
      read_frame();
    }
  }

  // A frame whose slot try_reserve() already counted.
  void enqueue(std::shared_ptr<const std::string> text, std::uint64_t key = 0) {
    if (phase_ != phase::open)
      return release(1, text->size()); // closing or gone: nothing more goes out
    queue_.push_back(std::move(text), key);
    if (!writing_)
      write_next();
  }

  void write_next() {
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front()),
                    beast::bind_front_handler(&connection::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    writing_ = false;
    release(1, queue_.pop_front());
    if (ec)
      return finish();
    if (phase_ == phase::closing)
      return start_close();
    if (phase_ == phase::open && !queue_.empty())
      write_next();
  }

  void request_close(std::uint16_t code, std::string reason) {
    if (phase_ == phase::http || phase_ == phase::handshake)
      return finish();
    if (phase_ != phase::open)
      return;
    phase_ = phase::closing;
    drop_queued(writing_ ? 1 : 0);
    if (reason.size() > max_close_reason)
      reason.resize(max_close_reason);
    close_reason_.code = code;
    close_reason_.reason = reason;
    // A peer that reads nothing never lets the write in flight (or the close frame) out: give the close handshake
    // the handshake deadline, then drop the connection.
    close_timer_.expires_after(core_->opts_.handshake_timeout);
    close_timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (!ec)
        self->finish();
    });
    if (!writing_)
      start_close();
    maybe_resume(); // the peer's close reply must be read
  }

  void start_close() {
    // The pending read sees the peer's close reply and ends the session (finish()).
    ws_.async_close(close_reason_, [self = shared_from_this()](beast::error_code ec) {
      if (ec)
        self->finish();
    });
  }

  // Drops queued frames, keeping the first `keep` (a write in flight still owns its buffer).
  void drop_queued(std::size_t keep) {
    auto [frames, bytes] = queue_.drop_after(keep);
    if (frames > 0)
      release(frames, bytes);
  }

  // The one way out: exactly once, reports on_close for sessions that were opened.
  void finish() {
    if (phase_ == phase::closed)
      return;
    phase_ = phase::closed;
    close_timer_.cancel();
    release_slot();
    drop_queued(writing_ ? 1 : 0);
    beast::get_lowest_layer(ws_).close(); // cancels whatever is pending
    if (opened_) {
      core_->open_clients_.fetch_sub(1, std::memory_order_relaxed);
      if (core_->alive() && core_->handlers_.on_close)
        core_->handlers_.on_close(id_);
    }
  }

  std::shared_ptr<server_core> core_;
  shard& shard_;             // its io thread
  asio::any_io_executor ex_; // the shard's io_context (one thread: no strand needed)
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  send_queue queue_; // front is in flight while writing_
  websocket::close_reason close_reason_;
  asio::steady_timer close_timer_; // a close handshake that cannot complete ends here
  phase phase_ = phase::http;
  bool writing_ = false;
  bool opened_ = false;
  bool paused_ = false;                // no read outstanding: waiting for text_done()
  std::size_t pending_ = 0;            // messages given to on_text, not yet text_done()
  std::optional<token_bucket> bucket_; // the client's message rate, when limited
  std::string target_;
  std::atomic<std::size_t> waiting_{0};       // frames accepted by send() and not yet written or dropped
  std::atomic<std::size_t> waiting_bytes_{0}; // their bytes
  std::atomic<std::uint64_t> dropped_{0};
  std::atomic<std::uint64_t> conflated_{0};
  std::atomic<std::uint32_t> slow_drops_{0}; // drops of `disconnect` frames
  const client_id id_;
  const std::string remote_;
  const bool admitted_;
  std::atomic<bool> released_{false};
};

void shard::add(delivery&& d) {
  if (batch.add(std::move(d)))
    asio::post(ioc, asio::bind_allocator(slot_allocator<char>(&slot), [this] { run(); }));
}

void shard::run() {
  // Every item holds its connection, and the connection the core that owns this shard: `this` outlives the loop.
  batch.take(running);
  for (auto& d : running)
    d.conn->deliver(std::move(d.text), d.key, d.reserved);
  running.clear(); // keeps its capacity: no allocation on the next run
}

} // namespace

void server_core::do_accept() {
  shard* sh = shards_[next_shard_++ % shards_.size()].get();
  acceptor_.async_accept(asio::any_io_executor(sh->ioc.get_executor()),
                         beast::bind_front_handler(&server_core::on_accept, shared_from_this(), sh));
}

void server_core::on_accept(shard* sh, beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    // Typically out of file descriptors: wait a little instead of spinning.
    retry_timer_.expires_after(accept_retry_delay);
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open())
        self->do_accept();
    });
    return;
  }
  beast::error_code ep_ec;
  const auto peer = socket.remote_endpoint(ep_ec);
  if (opts_.send_buffer > 0) {
    beast::error_code ignored; // the kernel's default stays
    socket.set_option(asio::socket_base::send_buffer_size(static_cast<int>(opts_.send_buffer)), ignored);
  }
  std::shared_ptr<connection> conn;
  {
    std::lock_guard lock{mu_};
    if (stopped_)
      return; // the socket closes here
    const std::size_t max = opts_.max_connections;
    bool admitted = true;
    if (max > 0 && admitted_.load(std::memory_order_acquire) >= max) {
      admitted = false;
      // Refusals answer with a 503, but a flood of them gets no answer at all (bounded memory and fds).
      if (conns_.size() >= max + std::max<std::size_t>(64, max / 4)) {
        limit("max_connections");
        do_accept();
        return; // the socket closes here
      }
    }
    if (admitted)
      admitted_.fetch_add(1, std::memory_order_acq_rel);
    const client_id id = next_id_++;
    conn = std::make_shared<connection>(shared_from_this(), *sh, std::move(socket), id,
                                        ep_ec ? std::string{"?"} : endpoint_text(peer), admitted);
    conns_.emplace(id, conn);
  }
  conn->start();
  do_accept();
}

void server_core::stop() {
  std::vector<std::shared_ptr<connection>> all;
  {
    std::lock_guard lock{mu_};
    if (stopped_)
      return;
    stopped_ = true;
    all.reserve(conns_.size());
    for (auto& [id, weak] : conns_)
      if (auto c = weak.lock())
        all.push_back(std::move(c));
  }
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
  for (auto& c : all)
    c->shutdown();
}

struct push_server::state : server_core {
  using server_core::server_core;
};

push_server::push_server(boost::asio::io_context& ioc, push_server_options o, push_handlers h)
    : push_server(ioc, {&ioc}, std::move(o), std::move(h)) {}

push_server::push_server(boost::asio::io_context& ioc, const std::vector<boost::asio::io_context*>& shards,
                         push_server_options o, push_handlers h)
    : state_(std::make_shared<state>(ioc, shards, std::move(o), std::move(h))) {
  state_->start_accepting();
}

push_server::~push_server() {
  state_->stop();
  state_->alive_.store(false, std::memory_order_release);
}

std::uint16_t push_server::port() const { return state_->port_; }

std::size_t push_server::clients() const { return state_->open_clients_.load(std::memory_order_relaxed); }

std::size_t push_server::connections() const { return state_->admitted_.load(std::memory_order_relaxed); }

void push_server::stop() { state_->stop(); }

} // namespace mi::gw
