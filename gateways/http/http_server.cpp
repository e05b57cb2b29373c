// The only translation unit of the REST server that includes Asio/Beast (compile cost: STYLE.md).
#include "gateways/http/http_server.hpp"
#include "gateways/http/worker_pool.hpp"

#include <algorithm>
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
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace mi::gw {

std::string http_request::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers)
    if (k == lower_name) return v;
  return {};
}

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

std::string endpoint_text(const tcp::endpoint& ep) {
  if (ep.address().is_v6()) return "[" + ep.address().to_string() + "]:" + std::to_string(ep.port());
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
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) throw std::runtime_error("api server: cannot listen on " + endpoint_text(ep) + ": " + ec.message());
    port_ = acceptor_.local_endpoint(ec).port();
  }

  void start_accepting() {
    asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] { self->do_accept(); });
  }
  void stop();
  void unregister(std::uint64_t id) {
    std::lock_guard lock{mu_};
    sessions_.erase(id);
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

  std::mutex mu_;
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
    if (closed_) return;
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(core_->opts_.header_limit));
    parser_->body_limit(core_->opts_.body_limit);
    timed_out_ = false;
    stream_.expires_never();
    timer_.expires_after(core_->opts_.read_timeout);
    timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
      if (ec) return; // cancelled: the read finished first
      self->timed_out_ = true;
      beast::error_code ignored;
      self->stream_.socket().cancel(ignored);
    });
    http::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&session::on_read, shared_from_this()));
  }

  void on_read(beast::error_code ec, std::size_t) {
    timer_.cancel();
    if (closed_) return;
    if (timed_out_) {
      // A client that started a request and stalled hears why; an idle keep-alive just closes.
      if (parser_->got_some() || buffer_.size() > 0) return write_error(408, "request timeout");
      return close();
    }
    if (ec == http::error::end_of_stream) return close();
    if (ec == http::error::header_limit) return write_error(431, "request header fields too large");
    if (ec == http::error::body_limit) return write_error(413, "request body too large");
    if (ec && ec.category() == http::make_error_code(http::error::bad_target).category())
      return write_error(400, "malformed HTTP request: " + ec.message());
    if (ec) return close(); // reset, aborted, ...

    auto& req = parser_->get();
    http_request r;
    r.method = std::string(req.method_string());
    r.target = std::string(req.target());
    auto q = r.target.find('?');
    r.path = r.target.substr(0, q);
    if (q != std::string::npos) r.query = r.target.substr(q + 1);
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

    auto self = shared_from_this();
    bool queued = core_->pool_.submit([self, r = std::move(r)]() mutable {
      http_response resp;
      try {
        resp = self->core_->handler_(r);
      } catch (const std::exception&) { // the handler's contract is not to throw; never let it kill a worker
        resp = http_response{500, error_json(-1001, "internal error"), "application/json", {}};
      }
      asio::post(self->stream_.get_executor(),
                 [self, resp = std::move(resp)]() mutable { self->write_response(std::move(resp), false); });
    });
    if (!queued) write_response(http_response{503, error_json(-1003, "server busy, retry later"), "application/json", {{"Retry-After", "1"}}}, true);
  }

  void write_error(int status, const std::string& msg) {
    version_ = 11;
    write_response(http_response{status, error_json(-1000, msg), "application/json", {}}, true);
  }

  void write_response(http_response resp, bool close_after) {
    if (closed_) return;
    res_.emplace(static_cast<http::status>(resp.status), version_ ? version_ : 11);
    res_->set(http::field::server, core_->opts_.server_name);
    res_->set(http::field::content_type, resp.content_type);
    for (auto& [k, v] : resp.headers) res_->set(k, v);
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

  void close() {
    if (closed_) return;
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
  unsigned version_ = 11;
  bool keep_alive_ = false;
  bool close_after_ = false;
  bool timed_out_ = false;
  bool closed_ = false;
  const std::uint64_t id_;
  const std::string remote_;
};

void server_core::do_accept() {
  acceptor_.async_accept(asio::make_strand(ioc_), beast::bind_front_handler(&server_core::on_accept, shared_from_this()));
}

void server_core::on_accept(beast::error_code ec, tcp::socket socket) {
  if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
  if (ec) {
    retry_timer_.expires_after(std::chrono::milliseconds(100)); // e.g. out of descriptors: do not spin
    retry_timer_.async_wait([self = shared_from_this()](beast::error_code wait_ec) {
      if (!wait_ec && self->acceptor_.is_open()) self->do_accept();
    });
    return;
  }
  beast::error_code ep_ec;
  const auto peer = socket.remote_endpoint(ep_ec);
  std::shared_ptr<session> s;
  {
    std::lock_guard lock{mu_};
    if (stopped_) return;
    const auto id = next_id_++;
    s = std::make_shared<session>(shared_from_this(), std::move(socket), id, ep_ec ? std::string{"?"} : endpoint_text(peer));
    sessions_.emplace(id, s);
  }
  s->start();
  do_accept();
}

void server_core::stop() {
  std::vector<std::shared_ptr<session>> all;
  {
    std::lock_guard lock{mu_};
    if (stopped_) return;
    stopped_ = true;
    for (auto& [id, weak] : sessions_)
      if (auto s = weak.lock()) all.push_back(std::move(s));
  }
  alive_.store(false);
  asio::dispatch(acceptor_.get_executor(), [self = shared_from_this()] {
    beast::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_timer_.cancel();
  });
  for (auto& s : all) s->shutdown();
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
