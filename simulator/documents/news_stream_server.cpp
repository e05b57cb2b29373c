#include "simulator/documents/news_stream_server.hpp"

#include <atomic>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

namespace mi::sim::documents {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

constexpr const char* news_path = "/v1beta1/news";

} // namespace

class news_session;

struct news_stream_server::core {
  explicit core(asio::io_context& c) : ioc(c), acceptor(asio::make_strand(c)) {}
  asio::io_context& ioc;
  tcp::acceptor acceptor;
  std::mutex mu;
  std::vector<std::weak_ptr<news_session>> sessions;
  std::atomic<bool> refusing{false};
  std::atomic<bool> stopped{false};
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::uint64_t> frames{0};

  std::vector<std::shared_ptr<news_session>> live() {
    std::lock_guard lock(mu);
    std::vector<std::shared_ptr<news_session>> out;
    std::erase_if(sessions, [](const auto& w) { return w.expired(); });
    for (auto& w : sessions)
      if (auto s = w.lock())
        out.push_back(std::move(s));
    return out;
  }
};

/// One client: an upgrade read, then the protocol; a write queue with one write in flight, all on its strand.
class news_session : public std::enable_shared_from_this<news_session> {
public:
  news_session(tcp::socket&& s, std::shared_ptr<news_stream_server::core> c) : ws_(std::move(s)), core_(std::move(c)) {}

  void run() {
    beast::get_lowest_layer(ws_).expires_after(std::chrono::seconds(10));
    http::async_read(beast::get_lowest_layer(ws_), buffer_, req_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_request(ec); });
  }

  /// From any thread.
  void push(const sim_item& item) {
    asio::post(ws_.get_executor(), [self = shared_from_this(), item] {
      if (self->ended_)
        return;
      if (auto f = self->proto_.news_frame(item)) {
        self->send(std::move(*f));
        self->core_->frames.fetch_add(1);
      }
    });
  }

  /// From any thread: closes the TCP connection at once (no close frame).
  void drop() {
    asio::post(ws_.get_executor(), [self = shared_from_this()] { self->end(); });
  }

  bool subscribed() const { return subscribed_.load(); }

private:
  void on_request(error_code ec) {
    if (ec)
      return end();
    const std::string target(req_.target());
    if (!websocket::is_upgrade(req_) || target.substr(0, target.find('?')) != news_path || core_->refusing.load()) {
      res_.emplace(core_->refusing.load() ? http::status::service_unavailable : http::status::not_found,
                   req_.version());
      res_->set(http::field::content_type, "application/json");
      res_->body() = R"({"message":"no news stream here now"})";
      res_->keep_alive(false);
      res_->prepare_payload();
      http::async_write(beast::get_lowest_layer(ws_), *res_,
                        [self = shared_from_this()](error_code, std::size_t) { self->end(); });
      return;
    }
    beast::get_lowest_layer(ws_).expires_never();
    websocket::stream_base::timeout t{};
    t.handshake_timeout = std::chrono::seconds(10);
    t.idle_timeout = websocket::stream_base::none();
    t.keep_alive_pings = false;
    ws_.set_option(t);
    ws_.read_message_max(64 * 1024);
    ws_.async_accept(req_, [self = shared_from_this()](error_code e) {
      if (e)
        return self->end();
      self->ws_.text(true);
      self->core_->connections.fetch_add(1);
      self->send(news_stream_protocol::greeting());
      self->do_read();
    });
  }

  void do_read() {
    ws_.async_read(buffer_, [self = shared_from_this()](error_code ec, std::size_t) {
      if (ec || self->ended_)
        return self->end();
      const std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      for (auto& f : self->proto_.on_text(text))
        self->send(std::move(f));
      self->subscribed_.store(self->proto_.subscribed());
      self->do_read();
    });
  }

  void send(std::string frame) {
    if (ended_)
      return;
    queue_.push_back(std::move(frame));
    do_write();
  }

  void do_write() {
    if (writing_ || queue_.empty() || ended_)
      return;
    writing_ = true;
    ws_.async_write(asio::buffer(queue_.front()), [self = shared_from_this()](error_code ec, std::size_t) {
      self->writing_ = false;
      if (ec)
        return self->end();
      self->queue_.pop_front();
      self->do_write();
    });
  }

  void end() {
    if (ended_)
      return;
    ended_ = true;
    subscribed_.store(false);
    error_code ignored;
    beast::get_lowest_layer(ws_).socket().shutdown(tcp::socket::shutdown_both, ignored);
    beast::get_lowest_layer(ws_).close();
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::shared_ptr<news_stream_server::core> core_;
  beast::flat_buffer buffer_;
  http::request<http::string_body> req_;
  std::optional<http::response<http::string_body>> res_;
  news_stream_protocol proto_;
  std::deque<std::string> queue_;
  bool writing_ = false;
  bool ended_ = false;
  std::atomic<bool> subscribed_{false};
};

namespace {

void do_accept(const std::shared_ptr<news_stream_server::core>& c) {
  c->acceptor.async_accept(asio::make_strand(c->ioc), [c](error_code ec, tcp::socket socket) {
    if (c->stopped.load())
      return;
    if (!ec) {
      auto s = std::make_shared<news_session>(std::move(socket), c);
      {
        std::lock_guard lock(c->mu);
        c->sessions.push_back(s);
      }
      s->run();
    }
    do_accept(c);
  });
}

} // namespace

news_stream_server::news_stream_server(asio::io_context& ioc, document_sim& sim, std::uint16_t port)
    : core_(std::make_shared<core>(ioc)), sim_(sim) {
  const tcp::endpoint ep(asio::ip::make_address("127.0.0.1"), port);
  core_->acceptor.open(ep.protocol());
  core_->acceptor.set_option(asio::socket_base::reuse_address(true));
  core_->acceptor.bind(ep);
  core_->acceptor.listen();
  do_accept(core_);
  std::weak_ptr<core> weak = core_;
  sim_.set_listener([weak](const std::string& source, const sim_item& item) {
    if (source != "alpaca")
      return;
    if (auto c = weak.lock())
      for (auto& s : c->live())
        s->push(item);
  });
}

news_stream_server::~news_stream_server() {
  sim_.set_listener(nullptr);
  core_->stopped.store(true);
  for (auto& s : core_->live())
    s->drop();
  asio::post(core_->acceptor.get_executor(), [c = core_] {
    error_code ignored;
    c->acceptor.close(ignored);
  });
}

std::uint16_t news_stream_server::port() const { return core_->acceptor.local_endpoint().port(); }

std::string news_stream_server::url() const { return "ws://127.0.0.1:" + std::to_string(port()) + news_path; }

void news_stream_server::drop_all() {
  for (auto& s : core_->live())
    s->drop();
}

void news_stream_server::refuse(bool on) { core_->refusing.store(on); }

std::uint64_t news_stream_server::connections() const { return core_->connections.load(); }

std::uint64_t news_stream_server::subscribed() const {
  std::uint64_t n = 0;
  for (auto& s : core_->live())
    n += s->subscribed() ? 1 : 0;
  return n;
}

std::uint64_t news_stream_server::news_frames_sent() const { return core_->frames.load(); }

} // namespace mi::sim::documents
