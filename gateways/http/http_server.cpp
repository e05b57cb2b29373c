// The only translation unit of the REST server that includes Asio/Beast (compile cost: STYLE.md).
#include "gateways/http/http_server.hpp"
#include "gateways/http/worker_pool.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <cctype>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mi::gw {

std::string http_request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name)
      return v;
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& ep) {
  if (ep.address().is_v6())
    return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string error_json(int code, std::string_view msg) {
  return "{\"code\":" + std::to_string(code) + ",\"msg\":\"" + std::string(msg) + "\"}";
}

class session;

struct server_core : std::enable_shared_from_this<server_core> {
  server_core(asio::io_context& ioc, http_server_options o, http_handler h)
      : ioc_(ioc), opts_(std::move(o)), handler_(std::move(h)), acceptor_(asio::make_strand(ioc)),
        retry_timer_(acceptor_.get_executor()), pool_(opts_.workers, opts_.max_queued) {
    beast::error_code ec;
    tcp::resolver resolver{ioc};
    auto results = resolver.resolve(opts_.host, std::to_string(opts_.port), tcp::resolver::passive, ec);
    if (ec || results.empty())
      throw std::runtime_error("api server: cannot resolve listen address \"" + opts_.host +
                               "\": " + (ec ? ec.message() : std::string{"no address"}));
    const tcp::endpoint ep = results.begin()->endpoint();
    acceptor_.open(ep.protocol(), ec);
    if (!ec)
      acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec)
      acceptor_.bind(ep, ec);
    if (!ec)
      acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec)
      throw std::runtime_error("api server: cannot listen on " + endpoint_text(ep) + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
  }

  void start_accepting() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  }
  void stop();
  void unregister(std::uint64_t id) {
    std::size_t open = 0;
    {
      std::lock_guard lock{mu_};
      sessions_.erase(id);
      open = sessions_.size();
    }
    if (opts_.on_connections)
      opts_.on_connections(open);
  }

  asio::io_context& ioc_;
  const http_server_options opts_;
  const http_handler handler_;
  tcp::acceptor acceptor_;
  asio::steady_timer retry_timer_;
  worker_pool pool_;
  std::uint16_t port_ = 0;
  std::atomic<bool> alive_{true};

private:
  void do_accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void refuse(tcp::socket socket);

  std::mutex mu_;
  std::atomic<std::size_t> refusing_{0}; // refusals still writing their 503
  bool stopped_ = false;
  std::uint64_t next_id_ = 1;
  std::unordered_map<std::uint64_t, std::weak_ptr<session>> sessions_;
};

/// One client connection; everything runs on its strand except the handler (a worker thread).
class session : public std::enable_shared_from_this<session> {
public:
  session(std::shared_ptr<server_core> core, tcp::socket&& socket, std::uint64_t id, std::string remote)
      : core_(std::move(core)), stream_(std::move(socket)), timer_(stream_.get_executor()), id_(id),
        remote_(std::move(remote)) {}
  ~session() { core_->unregister(id_); }

  void start() {
    asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
  }

  void shutdown() {
    asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close(); });
  }

private:
  void read_request() {
    if (closed_)
      return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_->opts_.header_limit));
    parser_->body_limit(core_->opts_.body_limit);
    timed_out_ = false;
    stream_.expires_never();
    timer_.expires_after(core_->opts_.read_timeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec)
        return; // cancelled: the read finished first
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    timer_.cancel();
    if (closed_)
      return;
    if (timed_out_) {
      // A client that started a request and stalled hears why; an idle keep-alive just closes.
      if (parser_->got_some() || buffer_.size() > 0)
        return write_error(408, "request timeout");
      return close();
    }
    if (ec == http::error::end_of_stream)
      return close();
    if (ec == http::error::header_limit)
      return write_error(431, "request header fields too large");
    if (ec == http::error::body_limit)
      return write_error(413, "request body too large");
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category())
      return write_error(400, "malformed HTTP request: " + ec.message());
    if (ec)
      return close(); // reset, aborted, ...

    auto& req = parser_->get();
    http_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos)
      r.query = r.target.substr(q + 1);
    for (const auto& f : req) {
      std::string name(f.name_string());
      std::transform(name.begin(), name.end(), name.begin(),
                     [](char c) { return static_cast<char>(std::tolower(static_cast<unsigned char>(c))); });
      r.headers.emplace_back(std::move(name), std::string(f.value()));
    }
    r.body = std::move(req.body());
    r.remote = remote_;
    keep_alive_ = req.keep_alive();
    version_ = req.version();

    // Cheap answers (health) never wait behind the workers.
    if (core_->opts_.inline_handler) {
      std::optional<http_response> now;
      try {
        now = core_->opts_.inline_handler(r);
      } catch (const std::exception&) {
        now = http_response{500, error_json(-1001, "internal error"), "application/json", {}};
      }
      if (now)
        return write_response(std::move(*now), false);
    }

    // 0 queued, 1 taken by a worker, 2 given up (answered 503 by the queue timer).
    auto stage = std::make_shared<std::atomic<int>>(0);
    auto self = shared_from_this();
    bool queued = core_->pool_.submit([self, stage, r = std::move(r)]() mutable {
      int expected = 0;
      if (!stage->compare_exchange_strong(expected, 1))
        return; // already answered 503
      http_response resp;
      try {
        resp = self->core_->handler_(r);
      } catch (const std::exception&) { // the handler's contract is not to throw; never let it kill a worker
        resp = http_response{500, error_json(-1001, "internal error"), "application/json", {}};
      }
      asio::post(self->stream_.get_executor(), [self, resp = std::move(resp)]() mutable {
        self->timer_.cancel();
        self->write_response(std::move(resp), false);
      });
    });
    if (!queued) {
      if (core_->opts_.on_busy)
        core_->opts_.on_busy();
      return write_response(busy_response(), true);
    }
    if (core_->opts_.queue_timeout.count() > 0) {
      // Bounded wait: a request no worker took in time is answered now (every worker is stuck in
      // slow queries); the worker will skip it.
      timer_.expires_after(core_->opts_.queue_timeout);
      timer_.async_wait([self, stage](beast::error_code ec) {
        if (ec)
          return;
        int expected = 0;
        if (!stage->compare_exchange_strong(expected, 2))
          return;
        if (self->core_->opts_.on_busy)
          self->core_->opts_.on_busy();
        self->write_response(busy_response(), false);
      });
    }
  }

  static http_response busy_response() {
    return http_response{503,
                         error_json(-1003, "server busy (all workers occupied), retry later"),
                         "application/json",
                         {{"Retry-After", "1"}}};
  }

  void write_error(int status, const std::string& msg) {
    version_ = 11;
    write_response(http_response{status, error_json(-1000, msg), "application/json", {}}, true);
  }

  void write_response(http_response resp, bool close_after) {
    if (closed_)
      return;
    if (resp.stream && resp.stream->next)
      return start_stream(std::move(resp));
    res_.emplace(static_cast<http::status>(resp.status), version_ ? version_ : 11);
    res_->set(http::field::server, core_->opts_.server_name);
    res_->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers)
      res_->set(k, v);
    close_after_ = close_after || !keep_alive_ || !core_->alive_.load();
    res_->keep_alive(!close_after_);
    res_->body() = std::move(resp.body);
    res_->prepare_payload();
    stream_.expires_after(core_->opts_.read_timeout); // a client that never reads cannot hold us
    http::async_write(stream_, *res_, beast::bind_front_handler(&session::on_write, shared_from_this()));
  }

  void on_write(beast::error_code ec, std::size_t) {
    if (ec || close_after_) {
      beast::error_code ignored;
      stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
      return close();
    }
    res_.reset();
    read_request();
  }

  // --- streaming answers (http_stream): headers, then one piece per tick, until the client goes ---

  void start_stream(http_response resp) {
    stream_src_ = std::move(resp.stream);
    std::string head = "HTTP/1.1 " + std::to_string(resp.status) + " " +
                       std::string(http::obsolete_reason(static_cast<http::status>(resp.status))) +
                       "\r\nServer: " + core_->opts_.server_name + "\r\nContent-Type: " + resp.content_type +
                       "\r\nCache-Control: no-store\r\nConnection: close\r\nX-Accel-Buffering: no\r\n";
    for (auto& [k, v] : resp.headers)
      head += k + ": " + v + "\r\n";
    head += "\r\n" + resp.body;
    last_piece_ = std::chrono::steady_clock::now();
    watch_peer();
    write_piece(std::move(head));
  }

  // The client sends nothing on a stream: any end of its side (EOF, reset) stops the stream.
  void watch_peer() {
    stream_.socket().async_read_some(asio::buffer(sink_),
                                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                                       if (ec)
                                         return self->close();
                                       self->watch_peer();
                                     });
  }

  void write_piece(std::string text) {
    if (closed_)
      return;
    piece_ = std::move(text);
    stream_.expires_after(core_->opts_.read_timeout); // a client that stops reading loses the stream
    asio::async_write(stream_, asio::buffer(piece_), [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec)
        return self->close();
      self->stream_.expires_never();
      self->schedule_tick();
    });
  }

  void schedule_tick() {
    if (closed_)
      return;
    timer_.expires_after(stream_src_->interval);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec || self->closed_)
        return;
      auto src = self->stream_src_;
      bool queued = self->core_->pool_.submit([self, src] {
        std::string text;
        try {
          text = src->next();
        } catch (const std::exception&) { // next() must not throw; a failed piece is skipped
        }
        asio::post(self->stream_.get_executor(),
                   [self, text = std::move(text)]() mutable { self->on_piece(std::move(text)); });
      });
      if (!queued) // every worker busy: skip this tick
        self->on_piece({});
    });
  }

  void on_piece(std::string text) {
    if (closed_)
      return;
    const auto now = std::chrono::steady_clock::now();
    if (text.empty()) {
      if (now - last_piece_ < stream_src_->heartbeat)
        return schedule_tick();
      text = ": keep-alive\n\n";
    }
    last_piece_ = now;
    write_piece(std::move(text));
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    timer_.cancel();
    beast::error_code ignored;
    stream_.socket().close(ignored);
  }

  std::shared_ptr<server_core> core_;
  beast::tcp_stream stream_;
  asio::steady_timer timer_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> res_;
  std::shared_ptr<http_stream> stream_src_; // a streaming answer in progress
  std::string piece_;                       // its piece being written
  std::array<char, 256> sink_{};            // what a streaming client sends (nothing, normally)
  std::chrono::steady_clock::time_point last_piece_;
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool close_after_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  const std::uint64_t id_;
  const std::string remote_;
};

void server_core::do_accept() {
  acceptor_.async_accept(asio::make_strand(ioc_),
                         beast::bind_front_handler(&server_core::on_accept, shared_from_this()));
}

void server_core::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open())
    return;
  if (ec) {
    retry_timer_.expires_after(std::chrono::milliseconds(100)); // e.g. out of descriptors: do not spin
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open())
        self->do_accept();
    });
    return;
  }
  beast::error_code ep_ec;
  const auto peer = socket.remote_endpoint(ep_ec);
  std::shared_ptr<session> s;
  std::optional<tcp::socket> refused; // over max_connections: answered 503 outside the lock
  std::size_t open = 0;
  {
    std::lock_guard lock{mu_};
    if (stopped_)
      return;
    if (opts_.max_connections > 0 && sessions_.size() >= opts_.max_connections) {
      refused.emplace(std::move(socket));
    } else {
      const auto id = next_id_++;
      s = std::make_shared<session>(shared_from_this(), std::move(socket), id,
                                    ep_ec ? std::string{"?"} : endpoint_text(peer));
      sessions_.emplace(id, s);
      open = sessions_.size();
    }
  }
  if (refused) {
    if (opts_.on_refused)
      opts_.on_refused();
    refuse(std::move(*refused));
  } else {
    if (opts_.on_connections)
      opts_.on_connections(open);
    s->start();
  }
  do_accept();
}

/// One refused connection: 503 written, the request (if any) read and dropped so the close does
/// not reset the connection before the client has read why, closed after 1 s at most. At most
/// max_connections refusals are in progress; beyond, a connection is closed without a word.
void server_core::refuse(tcp::socket socket) {
  static const std::string body = error_json(-1003, "too many connections, retry later");
  static const std::string text = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
                                  "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
                                  std::to_string(body.size()) + "\r\n\r\n" + body;
  if (refusing_.load() >= std::max<std::size_t>(opts_.max_connections, 16)) {
    beast::error_code ignored;
    socket.close(ignored);
    return;
  }
  struct refusal {
    tcp::socket socket;
    asio::steady_timer timer;
    std::array<char, 4096> sink{};
    std::atomic<std::size_t>& count;
    refusal(tcp::socket s, std::atomic<std::size_t>& c) : socket(std::move(s)), timer(socket.get_executor()), count(c) {
      ++count;
    }
    ~refusal() { --count; }
    void drain(std::shared_ptr<refusal> self) {
      socket.async_read_some(asio::buffer(sink), [self](beast::error_code ec, std::size_t) {
        if (ec) {
          beast::error_code ignored;
          self->timer.cancel();
          self->socket.close(ignored);
          return;
        }
        self->drain(self);
      });
    }
  };
  auto r = std::make_shared<refusal>(std::move(socket), refusing_);
  r->timer.expires_after(std::chrono::seconds(1));
  r->timer.async_wait([r](beast::error_code ec) {
    if (ec)
      return;
    beast::error_code ignored;
    r->socket.close(ignored);
  });
  asio::async_write(r->socket, asio::buffer(text), [r](beast::error_code ec, std::size_t) {
    beast::error_code ignored;
    if (ec) {
      r->timer.cancel();
      r->socket.close(ignored);
      return;
    }
    r->socket.shutdown(tcp::socket::shutdown_send, ignored);
    r->drain(r);
  });
}

void server_core::stop() {
  std::vector<std::shared_ptr<session>> all;
  {
    std::lock_guard lock{mu_};
    if (stopped_)
      return;
    stopped_ = true;
    for (auto& [id, weak] : sessions_)
      if (auto s = weak.lock())
        all.push_back(std::move(s));
  }
  alive_.store(false);
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
  for (auto& s : all)
    s->shutdown();
}

} // namespace

struct http_server::state : server_core {
  using server_core::server_core;
};

http_server::http_server(boost::asio::io_context& ioc, http_server_options o, http_handler h)
    : state_(std::make_shared<state>(ioc, std::move(o), std::move(h))) {
  state_->start_accepting();
}

http_server::~http_server() {
  state_->stop();
  state_->pool_.stop();
}

std::uint16_t http_server::port() const { return state_->port_; }

void http_server::stop() { state_->stop(); }

} // namespace mi::gw
