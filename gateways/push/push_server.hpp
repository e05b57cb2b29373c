#pragma once

// WebSocket push server (Boost.Beast behind a pimpl: this header includes no Asio/Beast).
//
// One session object per client, one write in flight, a bounded write queue (Beast's chat-multi example). The
// sessions are spread over the io threads ("shards": one io_context each, run by exactly one thread, so a session
// needs no strand). The server does not interpret the client protocol (see push_protocol.hpp): it delivers client
// text frames to `on_text` and sends what it is given.
//
// Life of a connection:
//
//   accept ──► read HTTP request (handshake_timeout) ──┬─ Upgrade: websocket ──► [authorize] ──► WS accept ──► open ──►
//   closed
//     │                                                │     └─ over max_connections ──► 503   └─ refused ──► 401/429
//     ──► closed │                                                └─ plain GET ──► /healthz 200 "ok", else 404 ──►
//     closed └─ far over max_connections (a flood) ──► closed at once, no answer
//
// `on_open` fires once the WebSocket handshake completed; `on_close` exactly once per opened session.
//
// Limits a client cannot get around (each reported to `on_limit` with a fixed reason):
//   max_connections     connections in any phase; over it an upgrade gets HTTP 503 + Retry-After ("max_connections")
//   client_rate/burst   client messages per second (token bucket); over it: close 1008 ("rate_limit")
//   max_message_bytes   a bigger client message: close 1009 ("message_too_large")
//   max_pending_frames  messages handed to on_text and not yet confirmed by `push_session::text_done`; at the
//                       limit the server stops reading that socket until the consumer catches up (TCP
//                       back-pressure), so a client can never grow a consumer's queue without bound.
//   queue_limit/bytes   outgoing frames waiting per client, in messages and in bytes; what a full queue does with
//                       one more frame is the frame's slow_policy (drop it, replace the waiting frame of the same
//                       candle, or drop it and close the client after disconnect_after such drops: 1008
//                       "slow consumer", reported as "slow_consumer").
//   idle_timeout        the server pings a silent client at half of it and closes one that answers nothing.
//
// Writers never wait for a client: send() appends (session, frame) to its io thread's list under a short lock
// (push_batch.hpp) and posts one run to that thread when none is pending; the run puts each frame into its
// session's queue and starts the write. A broadcast to 10,000 clients thus wakes each io thread about once, not
// 10,000 strands (docs/performance.md §12); the run's handler memory is the shard's own and the lists are reused (no
// allocation per message in steady state). Frames are shared (std::shared_ptr<const std::string>): one broadcast
// encodes once whatever the number of receivers.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace boost::asio {
class io_context;
} // namespace boost::asio

namespace mi::gw {

/// Identifies one client connection for the life of a server (never reused).
using client_id = std::uint64_t;

/// What a client's full queue does with one more data frame (push.slow.{kind} in config).
enum class slow_policy : std::uint8_t {
  drop,       ///< the newest frame is dropped and counted
  conflate,   ///< a frame waiting with the same key (the same candle) is replaced by the newer one; else drop
  disconnect, ///< drop, and close the client (1008 "slow consumer") after disconnect_after drops
};

/// A connected client's outgoing side; thread-safe. Hold it weakly if you may outlive the connection:
/// after the client is gone, `send` and `close` do nothing.
class push_session {
public:
  /// Queues one text frame (shared immutable payload, so one broadcast encodes once). Bounded queue:
  /// when `queue_limit` frames are waiting, the NEWEST (this one) is dropped and counted. Never blocks;
  /// posts to the session's executor.
  virtual void send(std::shared_ptr<const std::string> text) = 0;
  /// Queues one data frame under `policy`. With `conflate` and `key` != 0, a frame still waiting (not being
  /// written) with the same key is replaced by this one, whether or not the queue is full: the client gets the
  /// newest state of that key. Never blocks.
  virtual void send_data(std::shared_ptr<const std::string> text, slow_policy policy, std::uint64_t key) {
    (void)policy;
    (void)key;
    send(std::move(text));
  }
  /// Frames replaced by a newer one of the same key (conflate).
  virtual std::uint64_t conflated() const { return 0; }
  /// Frames waiting in the queue now (a replay paces itself by it).
  virtual std::size_t queued() const { return 0; }
  /// Drops the frames still waiting, then closes the WebSocket with `code` and `reason` (at most 123 bytes).
  virtual void close(std::uint16_t code, std::string reason) = 0;
  /// Frames dropped because the queue was full.
  virtual std::uint64_t dropped() const = 0;
  /// This client's id.
  virtual client_id id() const = 0;
  /// The peer's address, e.g. "127.0.0.1:53422".
  virtual std::string remote() const = 0;
  /// The request target of the WebSocket upgrade, e.g. "/?key=mik_..&ts=..&nonce=..&sig=..".
  virtual std::string target() const = 0;
  /// The consumer finished one message given to `on_text` (see push_server_options::max_pending_frames);
  /// thread-safe. Call it once per message.
  virtual void text_done() = 0;
  virtual ~push_session() = default;
};

/// Callbacks, all called on the io_context's thread (keep them short: hand work to an actor).
struct push_handlers {
  /// A client completed the WebSocket handshake.
  std::function<void(std::shared_ptr<push_session>)> on_open;
  /// Every client text frame, in order. Confirm each with `push_session::text_done()` once handled.
  std::function<void(client_id, std::string&& text)> on_text;
  /// The client is gone; exactly once per opened session.
  std::function<void(client_id)> on_close;
  /// Optional gate before the WebSocket upgrade (e.g. the signed API-key token of docs/api.md).
  /// Gets the request target ("/?key=..&ts=..&nonce=..&sig=.."); must call `done` exactly once,
  /// from any thread (so it may hand blocking checks to another thread): status 0 upgrades,
  /// any other HTTP status (401, 429, 503) is sent with `body` (JSON) and the connection closes.
  std::function<void(std::string target, std::function<void(int status, std::string body)> done)> authorize;
  /// A limit acted: "max_connections" (refused), "rate_limit" (closed 1008), "message_too_large" (closed 1009).
  std::function<void(std::string_view reason)> on_limit;
};

/// Listening and per-client limits.
struct push_server_options {
  std::string host = "127.0.0.1";                ///< listen address (IP literal or resolvable name)
  std::uint16_t port = 0;                        ///< 0: any free port (see push_server::port())
  std::size_t queue_limit = 256;                 ///< frames waiting per client before drops
  std::size_t queue_bytes = 1 << 20;             ///< bytes waiting per client before drops (one frame always fits)
  std::uint32_t disconnect_after = 100;          ///< drops of `disconnect` frames before the client is closed
  std::chrono::milliseconds idle_timeout{30000}; ///< ping at half, close a silent client after; 0 = never
  bool compression = false;                      ///< offer permessage-deflate (costs memory and CPU per client)
  /// SO_SNDBUF of each client socket; 0 = the kernel's (auto-tuned, up to tcp_wmem's maximum). A small one makes a
  /// slow client's backlog wait in its queue, where its policy applies, rather than in kernel memory.
  std::size_t send_buffer = 0;
  std::size_t max_message_bytes = 65536;             ///< bigger client frames close the client with 1009
  std::chrono::milliseconds handshake_timeout{5000}; ///< HTTP request + WebSocket handshake deadline
  std::size_t max_connections = 10000;               ///< connections in any phase; 0 = unlimited
  std::uint32_t client_rate = 0;                     ///< client messages per second; 0 = unlimited
  std::uint32_t client_burst = 0;                    ///< messages at once (token bucket size); 0 = client_rate
  std::size_t max_pending_frames = 64;               ///< on_text messages not yet text_done(); 0 = unlimited
};

/// Beast WebSocket server. Also serves plain HTTP GET on the same port: /healthz -> 200 "ok",
/// everything else 404. Binary frames from clients get an error reply and are not delivered.
/// Hostile input (garbage bytes, huge frames, clients that never read) affects only that client.
class push_server {
public:
  /// Binds and listens at once; throws std::runtime_error naming the address if that fails
  /// (e.g. the port is taken). Accepts once `ioc` runs. The sessions live on `ioc` too: run it on ONE thread.
  push_server(boost::asio::io_context& ioc, push_server_options o, push_handlers h);
  /// The same, with the sessions spread round robin over `shards` (push.io_threads): each of them must be run by
  /// exactly one thread (its sessions have no strand). `ioc` runs the acceptor and may be one of them.
  push_server(boost::asio::io_context& ioc, const std::vector<boost::asio::io_context*>& shards, push_server_options o,
              push_handlers h);
  /// Stops (see stop()); no handler is called after the destructor returned. Destroy it on the
  /// io_context's thread or after that thread stopped.
  ~push_server();
  push_server(const push_server&) = delete;
  push_server& operator=(const push_server&) = delete;

  /// The bound port.
  std::uint16_t port() const;
  /// Open WebSocket sessions right now.
  std::size_t clients() const;
  /// Connections right now in any phase (HTTP, handshake, open), as counted for max_connections.
  std::size_t connections() const;
  /// Stops accepting and closes every session with 1001 (going away). Thread-safe, asynchronous.
  void stop();

private:
  struct state;
  std::shared_ptr<state> state_;
};

} // namespace mi::gw
