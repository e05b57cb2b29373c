// The exchange-facing client transport: ws_client (async, on the caller's io_context) and
// http_get (blocking, on a private io_context). This is one of the few Beast translation units
// of the project (compile cost); everything Beast stays in here.
#include "connectors/transport/ws_client.hpp"
#include "messages/util/clock.hpp"

#include <chrono>
#include <concepts>
#include <deque>
#include <optional>
#include <utility>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

namespace mi::net {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using error_code = boost::system::error_code;

constexpr std::string_view user_agent = "market-ingestor/1";

using mi::util::now_ns;

bool is_ip_literal(const std::string& host) {
  error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

/// A TLS client context: system trust store (+ an optional extra CA file), peer verification.
mi::result<std::shared_ptr<ssl::context>> make_tls_context(const std::string& ca_file) {
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
  error_code ec;
  ctx->set_default_verify_paths(ec);
  if (ec)
    return mi::error{"TLS: cannot load the system trust store: " + ec.message()};
  if (!ca_file.empty()) {
    ctx->load_verify_file(ca_file, ec);
    if (ec)
      return mi::error{"TLS: cannot load CA file '" + ca_file + "': " + ec.message()};
  }
  ctx->set_verify_mode(ssl::verify_peer);
  return ctx;
}

/// SNI (names only, never IP literals, RFC 6066) and OpenSSL's own host name / IP check, so a
/// mismatch reports X509_V_ERR_HOSTNAME_MISMATCH / X509_V_ERR_IP_ADDRESS_MISMATCH by name.
mi::result<bool> prepare_tls(SSL* ssl_handle, const std::string& host) {
  if (is_ip_literal(host)) {
    if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl_handle), host.c_str()) != 1)
      return mi::error{"TLS: cannot set the expected IP address " + host};
  } else {
    if (SSL_set_tlsext_host_name(ssl_handle, host.c_str()) != 1)
      return mi::error{"TLS: cannot set SNI to " + host};
    if (SSL_set1_host(ssl_handle, host.c_str()) != 1)
      return mi::error{"TLS: cannot set the expected host " + host};
  }
  return true;
}

/// "certificate verify failed (SSL routines): self-signed certificate".
std::string tls_error(const error_code& ec, SSL* ssl_handle) {
  std::string msg = ec.message();
  const long v = SSL_get_verify_result(ssl_handle);
  if (v != X509_V_OK) {
    msg += ": ";
    msg += X509_verify_cert_error_string(v);
  }
  return msg;
}

std::string host_header(const url& u) {
  const bool default_port = (u.tls && u.port == "443") || (!u.tls && u.port == "80");
  std::string h = u.host.find(':') != std::string::npos ? "[" + u.host + "]" : u.host;
  if (!default_port)
    h += ":" + u.port;
  return h;
}

template <class Stream>
struct stream_traits;

template <>
struct stream_traits<beast::tcp_stream> {
  static constexpr bool tls = false;
};

template <>
struct stream_traits<beast::ssl_stream<beast::tcp_stream>> {
  static constexpr bool tls = true;
};

} // namespace

// ---------------------------------------------------------------------------------------------
// ws_client

struct ws_client::impl {
  virtual ~impl() = default;
  virtual void start() = 0;
  virtual void send(std::string text) = 0;
  virtual void close() = 0;
  virtual void pause_reading() = 0;
  virtual void resume_reading() = 0;

  std::weak_ptr<ws_client> owner; ///< handlers keep the owner (and so this) alive
};

namespace {

template <class Stream>
class session final : public ws_client::impl {
public:
  session(asio::io_context& ioc, url u, ws_options o, ws_handlers h, std::shared_ptr<ssl::context> tls)
      : strand_(asio::make_strand(ioc)), u_(std::move(u)), o_(std::move(o)), h_(std::move(h)), tls_(std::move(tls)),
        resolver_(strand_), ws_(make_stream()), deadline_(strand_) {}

  void start() override {
    run([this] { do_start(); });
  }
  void send(std::string text) override {
    run([this, t = std::move(text)]() mutable { do_send(std::move(t)); });
  }
  void close() override {
    run([this] { do_close(); });
  }
  void pause_reading() override {
    run([this] {
      paused_ = true;
      if (state_ == state::open)
        deadline_.cancel();
    });
  }
  void resume_reading() override {
    run([this] {
      if (!paused_)
        return;
      paused_ = false;
      if (state_ != state::open)
        return;
      last_activity_ = steady::now();
      arm(last_activity_ + o_.read_timeout);
      do_read();
    });
  }

private:
  enum class state { idle, connecting, open, closing, closed };

  websocket::stream<Stream> make_stream() {
    if constexpr (stream_traits<Stream>::tls) {
      return websocket::stream<Stream>(strand_, *tls_);
    } else {
      return websocket::stream<Stream>(strand_);
    }
  }

  /// Runs f on the strand with the owner kept alive; inline when already on the strand, so a
  /// pause_reading() or close() from inside on_text takes effect before the next read.
  template <class F>
  void run(F&& f) {
    auto self = owner.lock();
    if (!self)
      return;
    asio::dispatch(strand_, [self = std::move(self), f = std::forward<F>(f)]() mutable { f(); });
  }

  /// A completion handler bound to this session: keeps the owner alive.
  template <class F>
  auto bind(F&& f) {
    // Constrained, so that overloaded initiating functions (async_connect) can tell the signature.
    return [ self = owner.lock(),
             f = std::forward<F>(f) ]<class... A>(A && ... args) mutable requires std::invocable<F&, A...> {
      f(std::forward<A>(args)...);
    };
  }

  void do_start() {
    if (state_ != state::idle)
      return;
    state_ = state::connecting;
    connect_deadline_ = steady::now() + o_.connect_timeout;
    arm(connect_deadline_);
    resolver_.async_resolve(u_.host, u_.port, bind([this](error_code ec, tcp::resolver::results_type results) {
                              on_resolve(ec, std::move(results));
                            }));
  }

  void on_resolve(error_code ec, tcp::resolver::results_type results) {
    if (state_ != state::connecting)
      return;
    if (ec)
      return fail("resolve " + u_.host + ": " + ec.message());
    beast::get_lowest_layer(ws_).async_connect(results,
                                               bind([this](error_code e, const tcp::endpoint&) { on_connect(e); }));
  }

  void on_connect(error_code ec) {
    if (state_ != state::connecting)
      return;
    if (ec)
      return fail("connect " + u_.host + ":" + u_.port + ": " + ec.message());
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ec);
    if constexpr (stream_traits<Stream>::tls) {
      auto ok = prepare_tls(ws_.next_layer().native_handle(), u_.host);
      if (!ok)
        return fail(ok.err().message);
      ws_.next_layer().async_handshake(ssl::stream_base::client, bind([this](error_code e) {
                                         if (state_ != state::connecting)
                                           return;
                                         if (e)
                                           return fail("TLS handshake with " + u_.host + ": " +
                                                       tls_error(e, ws_.next_layer().native_handle()));
                                         ws_handshake();
                                       }));
    } else {
      ws_handshake();
    }
  }

  void ws_handshake() {
    // Our own timer enforces the connect and read deadlines; Beast's handshake timeout bounds
    // the closing handshake too. Beast's idle timeout stays off so that pause_reading() can
    // suspend the deadline.
    websocket::stream_base::timeout t{};
    t.handshake_timeout = o_.connect_timeout;
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.set_option(websocket::stream_base::decorator(
      [](websocket::request_type& req) { req.set(http::field::user_agent, user_agent); }));
    ws_.read_message_max(o_.max_message_bytes);
    ws_.auto_fragment(false);
    ws_.control_callback([this](websocket::frame_type, beast::string_view) { last_activity_ = steady::now(); });
    ws_.async_handshake(host_header(u_), u_.target, bind([this](error_code ec) { on_handshake(ec); }));
  }

  void on_handshake(error_code ec) {
    if (state_ != state::connecting)
      return;
    if (ec)
      return fail("WebSocket handshake with " + u_.host_and_target() + ": " + ec.message());
    state_ = state::open;
    last_activity_ = steady::now();
    if (!paused_)
      arm(last_activity_ + o_.read_timeout);
    else
      deadline_.cancel();
    if (h_.on_open)
      h_.on_open();
    if (state_ != state::open)
      return; // closed from inside on_open
    do_read();
    do_write();
  }

  void do_read() {
    if (state_ != state::open || paused_ || reading_)
      return;
    reading_ = true;
    ws_.async_read(buffer_, bind([this](error_code ec, std::size_t n) { on_read(ec, n); }));
  }

  void on_read(error_code ec, std::size_t n) {
    reading_ = false;
    if (ec) {
      if (state_ == state::closed)
        return;
      if (state_ == state::closing)
        return fail("closed");
      if (ec == websocket::error::closed) {
        const auto& r = ws_.reason();
        std::string why = "remote close: code " + std::to_string(r.code);
        if (!r.reason.empty())
          why += " " + std::string(r.reason.data(), r.reason.size());
        return fail(why);
      }
      return fail("read: " + ec.message());
    }
    const auto recv_ns = now_ns();
    last_activity_ = steady::now();
    if (ws_.got_text() && h_.on_text) {
      std::string text = beast::buffers_to_string(buffer_.data());
      buffer_.consume(n);
      h_.on_text(std::move(text), recv_ns);
    } else {
      buffer_.consume(n);
    }
    do_read();
  }

  void do_send(std::string text) {
    if (state_ == state::closing || state_ == state::closed)
      return;
    queue_.push_back(std::move(text));
    do_write();
  }

  void do_write() {
    if (state_ != state::open || writing_ || queue_.empty())
      return;
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(queue_.front()), bind([this](error_code ec, std::size_t) {
                      writing_ = false;
                      if (state_ == state::closed)
                        return;
                      if (ec) {
                        if (state_ == state::closing)
                          return;
                        return fail("write: " + ec.message());
                      }
                      queue_.pop_front();
                      do_write();
                    }));
  }

  void do_close() {
    switch (state_) {
    case state::idle:
    case state::connecting:
      return fail("closed");
    case state::open:
      state_ = state::closing;
      // Unsent frames are dropped; the one in flight (queue_.front()) must outlive its write.
      queue_.erase(writing_ ? std::next(queue_.begin()) : queue_.begin(), queue_.end());
      arm(steady::now() + o_.connect_timeout);
      ws_.async_close(websocket::close_code::normal, bind([this](error_code) { fail("closed"); }));
      return;
    case state::closing:
    case state::closed:
      return;
    }
  }

  void arm(steady::time_point at) {
    deadline_.expires_at(at);
    deadline_.async_wait(bind([this](error_code ec) { on_deadline(ec); }));
  }

  void on_deadline(error_code ec) {
    if (ec == asio::error::operation_aborted)
      return; // re-armed or cancelled: a newer wait exists or none is due
    const auto now = steady::now();
    switch (state_) {
    case state::connecting:
      if (now >= connect_deadline_)
        return fail("connect timeout after " + std::to_string(o_.connect_timeout.count()) + " ms");
      return arm(connect_deadline_);
    case state::open: {
      if (paused_)
        return;
      const auto due = last_activity_ + o_.read_timeout;
      if (now >= due)
        return fail("read timeout");
      return arm(due);
    }
    case state::closing:
      if (deadline_.expiry() <= now)
        return fail("closed");
      return;
    default:
      return;
    }
  }

  /// The one way to the closed state: tears everything down and fires on_close once.
  void fail(std::string reason) {
    if (state_ == state::closed)
      return;
    state_ = state::closed;
    deadline_.cancel();
    resolver_.cancel();
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
    auto on_close = std::move(h_.on_close);
    // Drop the user's callbacks: they may hold the client and would otherwise keep it alive.
    h_ = {};
    if (on_close)
      on_close(std::move(reason));
  }

  asio::strand<asio::io_context::executor_type> strand_;
  url u_;
  ws_options o_;
  ws_handlers h_;
  std::shared_ptr<ssl::context> tls_; // before ws_: the stream refers to it
  tcp::resolver resolver_;
  websocket::stream<Stream> ws_;
  asio::steady_timer deadline_;
  beast::flat_buffer buffer_;
  std::deque<std::string> queue_;
  state state_ = state::idle;
  steady::time_point connect_deadline_{};
  steady::time_point last_activity_{};
  bool paused_ = false;
  bool reading_ = false;
  bool writing_ = false;
};

/// A session that can only report why it could not be made (bad CA file, ...).
class failed_session final : public ws_client::impl {
public:
  failed_session(asio::io_context& ioc, ws_handlers h, std::string why)
      : strand_(asio::make_strand(ioc)), h_(std::move(h)), why_(std::move(why)) {}
  void start() override { fire(); }
  void send(std::string) override {}
  void close() override { fire(); }
  void pause_reading() override {}
  void resume_reading() override {}

private:
  void fire() {
    auto self = owner.lock();
    asio::dispatch(strand_, [this, self] {
      auto on_close = std::move(h_.on_close);
      h_ = {};
      if (on_close)
        on_close(why_);
    });
  }
  asio::strand<asio::io_context::executor_type> strand_;
  ws_handlers h_;
  std::string why_;
};

} // namespace

ws_client::ws_client(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
ws_client::~ws_client() = default;

std::shared_ptr<ws_client> ws_client::create(boost::asio::io_context& ioc, url u, ws_options o, ws_handlers h) {
  std::unique_ptr<impl> p;
  if (u.tls) {
    auto ctx = make_tls_context(o.ca_file);
    if (!ctx) {
      p = std::make_unique<failed_session>(ioc, std::move(h), ctx.err().message);
    } else {
      p = std::make_unique<session<beast::ssl_stream<beast::tcp_stream>>>(ioc, std::move(u), std::move(o), std::move(h),
                                                                          std::move(*ctx));
    }
  } else {
    p = std::make_unique<session<beast::tcp_stream>>(ioc, std::move(u), std::move(o), std::move(h), nullptr);
  }
  impl* raw = p.get();
  std::shared_ptr<ws_client> c(new ws_client(std::move(p)));
  raw->owner = c;
  return c;
}

void ws_client::start() { impl_->start(); }
void ws_client::send(std::string text) { impl_->send(std::move(text)); }
void ws_client::close() { impl_->close(); }
void ws_client::pause_reading() { impl_->pause_reading(); }
void ws_client::resume_reading() { impl_->resume_reading(); }

// ---------------------------------------------------------------------------------------------
// http_get

namespace {

/// Runs `ioc` until `done` or the deadline; on the deadline calls `cancel` and drains.
template <class Cancel>
bool run_step(asio::io_context& ioc, const bool& done, steady::time_point deadline, Cancel cancel) {
  ioc.restart();
  ioc.run_until(deadline);
  if (done)
    return true;
  cancel();
  ioc.restart();
  ioc.run();
  return false;
}

template <class Stream>
mi::result<http_response> get_with(asio::io_context& ioc, Stream& stream, const url& u, steady::time_point deadline,
                                   std::chrono::milliseconds timeout, const request_headers& headers,
                                   const std::string* post_form = nullptr) {
  const std::string timeout_text = "timeout after " + std::to_string(timeout.count()) + " ms";
  auto& tcp_layer = beast::get_lowest_layer(stream);
  auto cancel = [&] { tcp_layer.close(); };
  error_code ec;
  bool done = false;

  tcp::resolver resolver(ioc);
  tcp::resolver::results_type endpoints;
  resolver.async_resolve(u.host, u.port, [&](error_code e, tcp::resolver::results_type r) {
    ec = e;
    endpoints = std::move(r);
    done = true;
  });
  if (!run_step(ioc, done, deadline, [&] { resolver.cancel(); }))
    return mi::error{"resolve " + u.host + ": " + timeout_text};
  if (ec)
    return mi::error{"resolve " + u.host + ": " + ec.message()};

  tcp_layer.expires_at(deadline);
  done = false;
  tcp_layer.async_connect(endpoints, [&](error_code e, const tcp::endpoint&) {
    ec = e;
    done = true;
  });
  run_step(ioc, done, deadline + std::chrono::seconds(1), cancel);
  if (ec == beast::error::timeout)
    return mi::error{"connect " + u.host + ":" + u.port + ": " + timeout_text};
  if (ec)
    return mi::error{"connect " + u.host + ":" + u.port + ": " + ec.message()};

  if constexpr (stream_traits<Stream>::tls) {
    auto ok = prepare_tls(stream.native_handle(), u.host);
    if (!ok)
      return ok.err();
    done = false;
    stream.async_handshake(ssl::stream_base::client, [&](error_code e) {
      ec = e;
      done = true;
    });
    run_step(ioc, done, deadline + std::chrono::seconds(1), cancel);
    if (ec == beast::error::timeout)
      return mi::error{"TLS handshake with " + u.host + ": " + timeout_text};
    if (ec)
      return mi::error{"TLS handshake with " + u.host + ": " + tls_error(ec, stream.native_handle())};
  }

  http::request<http::string_body> req{post_form ? http::verb::post : http::verb::get, u.target, 11};
  req.set(http::field::host, host_header(u));
  req.set(http::field::user_agent, user_agent);
  req.set(http::field::accept, "application/json");
  req.set(http::field::connection, "close");
  if (post_form) {
    req.set(http::field::content_type, "application/x-www-form-urlencoded; charset=UTF-8");
    req.body() = *post_form;
    req.prepare_payload();
  }
  for (const auto& [name, value] : headers)
    req.set(name, value);
  done = false;
  http::async_write(stream, req, [&](error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_step(ioc, done, deadline + std::chrono::seconds(1), cancel);
  if (ec == beast::error::timeout)
    return mi::error{"GET " + u.host_and_target() + ": " + timeout_text};
  if (ec)
    return mi::error{"GET " + u.host_and_target() + ": write: " + ec.message()};

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 * 1024 * 1024);
  done = false;
  http::async_read(stream, buffer, parser, [&](error_code e, std::size_t) {
    ec = e;
    done = true;
  });
  run_step(ioc, done, deadline + std::chrono::seconds(1), cancel);
  if (ec == ssl::error::stream_truncated && parser.is_header_done() && !parser.is_done()) {
    // A TLS peer that closed without close_notify, on a body delimited by the end of the stream.
    error_code eof_ec;
    parser.put_eof(eof_ec);
    if (!eof_ec)
      ec = {};
  }
  if (ec == beast::error::timeout)
    return mi::error{"GET " + u.host_and_target() + ": " + timeout_text};
  if (ec && !(ec == ssl::error::stream_truncated && parser.is_done()))
    return mi::error{"GET " + u.host_and_target() + ": read: " + ec.message()};
  tcp_layer.close();

  auto res = parser.release();
  http_response out;
  out.status = res.result_int();
  for (const auto& f : res) {
    std::string name(f.name_string());
    for (char& c : name)
      c = (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
    out.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  out.body = std::move(res.body());
  return out;
}

} // namespace

std::string_view http_response::header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers)
    if (name == lower_name)
      return value;
  return {};
}

mi::result<std::string> http_get(const url& u, std::chrono::milliseconds timeout, const std::string& ca_file) {
  return http_get(u, timeout, request_headers{}, ca_file);
}

mi::result<std::string> http_get(const url& u, std::chrono::milliseconds timeout, const request_headers& headers,
                                 const std::string& ca_file) {
  auto r = http_fetch(u, timeout, headers, ca_file);
  if (!r)
    return r.err();
  if (r->status < 200 || r->status > 299)
    return mi::error{"HTTP " + std::to_string(r->status) + " from " + u.host_and_target()};
  return std::move(r->body);
}

mi::result<http_response> http_fetch(const url& u, std::chrono::milliseconds timeout, const std::string& ca_file) {
  return http_fetch(u, timeout, request_headers{}, ca_file);
}

mi::result<http_response> http_fetch(const url& u, std::chrono::milliseconds timeout, const request_headers& headers,
                                     const std::string& ca_file) {
  return http_post_form(u, timeout, headers, nullptr, ca_file);
}

mi::result<http_response> http_post_form(const url& u, std::chrono::milliseconds timeout,
                                         const request_headers& headers, const std::string* form,
                                         const std::string& ca_file) {
  const auto deadline = steady::now() + timeout;
  asio::io_context ioc{1};
  try {
    if (u.tls) {
      auto ctx = make_tls_context(ca_file);
      if (!ctx)
        return ctx.err();
      beast::ssl_stream<beast::tcp_stream> stream(ioc, **ctx);
      return get_with(ioc, stream, u, deadline, timeout, headers, form);
    }
    beast::tcp_stream stream(ioc);
    return get_with(ioc, stream, u, deadline, timeout, headers, form);
  } catch (const std::exception& e) { // allocation failure and the like: never escape a blocking helper
    return mi::error{"GET " + u.host_and_target() + ": " + e.what()};
  }
}

} // namespace mi::net
