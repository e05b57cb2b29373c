#pragma once

// HTTP/1.1 server for the REST API (Boost.Beast behind a pimpl: this header includes no Asio/Beast).
//
// Threads: all socket work runs on the given io_context (one strand per connection); every request
// that parses is handed to a small worker pool (`workers` threads) which runs the handler, so a
// handler may block (PostgreSQL) without stalling other clients' I/O; the response is posted back
// to the connection's strand. One request per connection at a time (no pipelining of handlers):
// Beast reads the next request only after the previous response was written.
//
//   accept ─(max_connections reached: 503, close)
//     └─► read request (read_timeout, header/body limits) ─┬─ parsed ─► worker: handler ─► write ─► keep-alive? ─► read
//                                                              ├─ too big ─► 413 / 431 ─► close
//                                                              ├─ garbage ─► 400 ─► close
//                                                              └─ timeout with a partial request ─► 408 ─► close
//                                                                 (an idle keep-alive connection just closes)
//
// A handler may answer with a stream (http_stream: server-sent events): the connection then carries that
// one answer until the client goes, a timer on its strand asking a worker for each next piece.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace mi::gw {

/// A parsed request as the handler sees it.
struct http_request {
  std::string method;                                       ///< "GET", "POST", ...
  std::string target;                                       ///< as sent: "/api/v1/klines?symbol=BTCUSDT"
  std::string path;                                         ///< target before '?'
  std::string query;                                        ///< target after '?' (raw, not decoded)
  std::vector<std::pair<std::string, std::string>> headers; ///< names lower-cased, in order
  std::string body;
  std::string remote; ///< "127.0.0.1:53422"

  /// The first header with this lower-case name, or "".
  std::string header(std::string_view lower_name) const;
};

/// A streaming answer (server-sent events): the server writes the status line and headers (no
/// Content-Length; the stream ends when the connection closes), then, every `interval`, hands `next` to a
/// worker and writes what it returns. When `next` has had nothing to say for `heartbeat`, a comment line
/// (": keep-alive") is written, so proxies and the client see the stream alive. The stream stops when the
/// client closes its side or a write fails or times out (read_timeout), or the server stops; `next` is
/// then never called again. A tick whose worker is busy is skipped, never queued twice.
struct http_stream {
  std::chrono::milliseconds interval{1000};   ///< between two calls of `next`
  std::chrono::milliseconds heartbeat{15000}; ///< longest silence
  /// Runs on a worker thread (may block briefly); the bytes to send now, "" for nothing.
  std::function<std::string()> next;
};

/// The handler's answer.
struct http_response {
  http_response() = default;
  /// {status, body, content type, headers[, stream]}: the brace form every handler uses.
  http_response(int s, std::string b, std::string type = "application/json",
                std::vector<std::pair<std::string, std::string>> h = {}, std::shared_ptr<http_stream> st = nullptr)
      : status(s), body(std::move(b)), content_type(std::move(type)), headers(std::move(h)), stream(std::move(st)) {}

  int status = 200;
  std::string body; ///< with `stream`: written first, right after the headers
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers; ///< extra headers (e.g. Retry-After)
  std::shared_ptr<http_stream> stream;                      ///< set: a streaming answer (see http_stream)
};

/// Runs on a worker thread; must not throw (an exception becomes a 500).
using http_handler = std::function<http_response(const http_request&)>;
/// Runs on the I/O thread before a request is queued for the workers: answers the requests that
/// must not wait for a worker (health) and returns nullopt for the others. Must not block.
using http_inline_handler = std::function<std::optional<http_response>(const http_request&)>;

/// Limits and threads.
struct http_server_options {
  std::string host = "127.0.0.1";                ///< listen address
  std::uint16_t port = 0;                        ///< 0: any free port
  std::size_t workers = 2;                       ///< handler threads
  std::size_t header_limit = 8192;               ///< request line + headers, bytes (431 beyond)
  std::size_t body_limit = 16384;                ///< request body bytes (413 beyond)
  std::chrono::milliseconds read_timeout{10000}; ///< per request, from its first byte or the keep-alive wait
  std::size_t max_queued = 1024;                 ///< requests waiting for a worker before 503
  /// A request not taken by a worker within this time gets 503 (Retry-After: 1); 0: no bound.
  std::chrono::milliseconds queue_timeout{0};
  /// Open connections at most; one more is answered 503 and closed at once. 0: no limit.
  std::size_t max_connections = 0;
  std::string server_name = "market-ingestor-api";
  /// Optional: answers cheap requests on the I/O thread (see http_inline_handler).
  http_inline_handler inline_handler;
  /// Optional, called on any thread: the number of open connections after each change.
  std::function<void(std::size_t open)> on_connections;
  /// Optional, called on the I/O thread for each connection refused at max_connections.
  std::function<void()> on_refused;
  /// Optional, called for each request answered 503 because no worker took it in time or the
  /// queue was full.
  std::function<void()> on_busy;
};

/// Beast HTTP/1.1 server with keep-alive. Hostile clients (garbage, huge headers, slow writers)
/// get a 4xx and lose their connection; nothing they send stops the server.
class http_server {
public:
  /// Binds and listens at once (throws std::runtime_error naming the address on failure), starts
  /// the workers. Accepts once `ioc` runs.
  http_server(boost::asio::io_context& ioc, http_server_options o, http_handler h);
  /// stop(), then joins the workers.
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// The bound port.
  std::uint16_t port() const;
  /// Stops accepting, closes connections; thread-safe.
  void stop();

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace mi::gw
