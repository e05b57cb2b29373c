#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "connectors/transport/url.hpp"
#include "messages/result.hpp"

namespace boost::asio {
class io_context;
}

namespace mi::net {

/// Connection settings of a ws_client (and of http_get's TLS).
struct ws_options {
  /// Resolve + TCP connect + TLS handshake + WebSocket handshake, all together.
  std::chrono::milliseconds connect_timeout{5000};
  /// No frame and no ping from the peer for this long -> on_close("read timeout").
  std::chrono::milliseconds read_timeout{60000};
  /// Extra trusted CA certificate file (PEM) on top of the system store; empty: system store only.
  std::string ca_file;
  /// Largest accepted message; bigger ones close the connection.
  std::size_t max_message_bytes = 16 * 1024 * 1024;
};

/// Event callbacks; they run on the io_context thread and must not block (the platform forwards them into actors).
struct ws_handlers {
  std::function<void()> on_open;                                         ///< handshake done
  std::function<void(std::string&& text, std::int64_t recv_ns)> on_text; ///< one text frame, recv time stamped at read
  std::function<void(std::string reason)> on_close; ///< any end: error, remote close, read deadline, close(); once
};

/// One WebSocket client connection: TLS with SNI, certificate verification against the system store
/// and host name verification for wss://, plain for ws://. Answers pings (Beast does), enforces a read
/// deadline (no frame or ping for read_timeout -> on_close("read timeout")), one write in flight with
/// a queue. All public methods are thread-safe (they post to the connection's strand). Not reusable:
/// reconnecting means creating a new ws_client.
///
///   created --start()--> connecting --handshakes--> open --close()/error/deadline--> closed
///                           |                                                          ^
///                           +---------------------- error/timeout/close() ------------+
class ws_client : public std::enable_shared_from_this<ws_client> {
public:
  /// A connection object; nothing happens before start().
  static std::shared_ptr<ws_client> create(boost::asio::io_context& ioc, url u, ws_options o, ws_handlers h);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Resolve, connect, TLS, WS handshake (within connect_timeout), then the read loop.
  void start();
  /// Queues one text frame; dropped silently once the connection is closing or closed.
  void send(std::string text);
  /// Graceful close (close frame, bounded by connect_timeout); on_close fires once with "closed".
  void close();
  /// Stops issuing reads (TCP back-pressure to the peer); the read deadline is suspended. A read
  /// already in flight still delivers its frame.
  void pause_reading();
  /// Issues reads again and restarts the read deadline.
  void resume_reading();

  /// Opaque implementation (in ws_client.cpp); public only so the .cpp can name it.
  struct impl;

private:
  explicit ws_client(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// Blocking HTTP(S) GET with a total timeout (for REST metadata at start; call it from a worker
/// thread, never from the io thread). 2xx -> the body; non-2xx -> error "HTTP 503 from host/target";
/// connection, TLS and timeout failures -> an error naming the step.
mi::result<std::string> http_get(const url& u, std::chrono::milliseconds timeout, const std::string& ca_file = {});

/// Extra request headers (name, value); values may be secrets (Alpaca's key headers): never logged.
using request_headers = std::vector<std::pair<std::string, std::string>>;

/// http_get with extra request headers.
mi::result<std::string> http_get(const url& u, std::chrono::milliseconds timeout, const request_headers& headers,
                                 const std::string& ca_file = {});

/// An HTTP answer of any status.
struct http_response {
  unsigned status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers; ///< names in lower case, in order received
  /// The first header named `lower_name` (lower case), "" when absent.
  std::string_view header(std::string_view lower_name) const;
};

/// Like http_get, but any status is an answer (the REST backfill reads 429 / 418 and their Retry-After);
/// only connection, TLS and timeout failures are errors.
mi::result<http_response> http_fetch(const url& u, std::chrono::milliseconds timeout, const std::string& ca_file = {});
/// http_fetch with extra request headers.
mi::result<http_response> http_fetch(const url& u, std::chrono::milliseconds timeout, const request_headers& headers,
                                     const std::string& ca_file = {});

/// http_fetch as a POST of an application/x-www-form-urlencoded `form` (cninfo's announcement query); a null `form`
/// is a GET.
mi::result<http_response> http_post_form(const url& u, std::chrono::milliseconds timeout,
                                         const request_headers& headers, const std::string* form,
                                         const std::string& ca_file = {});

} // namespace mi::net
