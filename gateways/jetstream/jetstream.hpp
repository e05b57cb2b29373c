#pragma once

// JetStream gateway: nats.c wrapped behind plain C++ types. nats.h stays in jetstream.cpp.
//
// Threads: nats.c runs its own threads. `jetstream::options::on_outcome` and the
// `ordered_consumer` callback run on them; everything else is called from the user's threads
// and is thread-safe as nats.c is.

#include "messages/result.hpp"

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mi::gw {

/// Configuration of one stream; `ensure_stream` creates or updates the stream to it.
struct stream_spec {
  /// Stream name, e.g. `MARKET_RAW`.
  std::string name;
  /// Subjects captured, e.g. `market.raw.>`.
  std::vector<std::string> subjects;
  /// File storage (true) or memory storage.
  bool file_storage = true;
  /// Maximum message age; 0 = unlimited.
  std::chrono::nanoseconds max_age{0};
  /// Maximum stream size in bytes; -1 = unlimited.
  std::int64_t max_bytes = -1;
  /// Replica count (1 on a single server).
  int replicas = 1;
  /// Nats-Msg-Id de-duplication window.
  std::chrono::nanoseconds duplicate_window{120'000'000'000};
};

/// A stream's counters as reported by the server.
struct stream_state {
  /// Messages stored.
  std::uint64_t messages = 0;
  /// Sequence of the oldest stored message (0 when empty).
  std::uint64_t first_seq = 0;
  /// Sequence of the newest stored message (0 when never written).
  std::uint64_t last_seq = 0;
  /// Bytes stored.
  std::uint64_t bytes = 0;
};

/// A consumer's state as reported by the server.
struct consumer_state {
  std::string name;                ///< durable name
  std::uint64_t pending = 0;       ///< messages not yet delivered
  std::uint64_t ack_pending = 0;   ///< delivered, not yet acked
  std::uint64_t redelivered = 0;   ///< delivered more than once and not yet acked
  std::uint64_t delivered_seq = 0; ///< the stream sequence delivered last
  std::uint64_t ack_floor = 0;     ///< the stream sequence up to which everything is acked
  std::string filter_subject;      ///< "" when the consumer takes the whole stream
};

/// One received JetStream message; owns the natsMsg; ack/nak/term are thread-safe and
/// never throw.
class js_message {
public:
  /// Opaque owner of the underlying natsMsg.
  struct handle;
  /// Used by the gateway; takes ownership of `h`.
  explicit js_message(std::unique_ptr<handle> h) noexcept;
  ~js_message();
  js_message(js_message&&) noexcept;
  js_message& operator=(js_message&&) noexcept;

  /// Subject the message was published on.
  std::string_view subject() const;
  /// Payload bytes.
  std::string_view data() const;
  /// Value of a header, nullopt when absent.
  std::optional<std::string> header(const char* key) const;
  /// Stream sequence.
  std::uint64_t stream_seq() const;
  /// How many times this message was delivered to the consumer (1 on first delivery; 0 when
  /// the message was read directly rather than through a consumer).
  std::uint64_t num_delivered() const;
  /// Messages still pending for the consumer after this one (0 when read directly).
  std::uint64_t num_pending() const;
  /// Time the server stored the message, ns since the Unix epoch.
  std::int64_t timestamp_ns() const;
  /// Acknowledges (for explicit-ack consumers); an error when the ack could not be sent or the
  /// message did not come from an acking consumer.
  mi::result<bool> ack();
  /// Negative ack: redeliver now.
  void nak();
  /// Terminate: never redeliver.
  void term();

private:
  std::unique_ptr<handle> h_;
};

/// More headers of a publish (name, value), e.g. the Mi-Dlq-* headers of a dead letter.
using header_list = std::vector<std::pair<std::string, std::string>>;

/// Headers + payload of one publish.
struct outgoing {
  /// Subject, e.g. `market.raw.binance.BTCUSDT`.
  std::string subject;
  /// `Nats-Msg-Id` header (dedup id); not sent when empty.
  std::string msg_id;
  /// `Content-Type` header; not sent when empty.
  std::string content_type;
  /// Payload.
  std::string data;
  /// More headers (e.g. Mi-Reject-Reason of a quarantined trade); usually none.
  header_list headers{};
  /// The payload's event time (a trade's ts_ns), handed back in its publish_outcome for the
  /// latency metric, so nobody decodes the payload again; 0: none. Not sent.
  std::int64_t event_ts_ns = 0;
};

/// Ack outcome delivered to the listener on a nats.c thread.
struct publish_outcome {
  /// Stored (or recognized as a duplicate of a stored message).
  bool ok = false;
  /// The server already had this Nats-Msg-Id (nothing new stored).
  bool duplicate = false;
  /// Stream sequence of the stored message (0 on failure).
  std::uint64_t seq = 0;
  /// Subject published to: valid during the callback only (as `stream` and `data`).
  std::string_view subject;
  /// outgoing::event_ts_ns of the message (0: none).
  std::int64_t event_ts_ns = 0;
  /// Why it failed, when !ok.
  std::string error;
  /// The stream that stored it (empty on failure) and the payload published: valid during the callback only.
  std::string_view stream;
  std::string_view data;
};

/// A connection with a JetStream context. All methods thread-safe as nats.c is.
class jetstream {
public:
  /// Connection and async-publish settings.
  struct options {
    /// Server URL(s), comma separated, e.g. `nats://127.0.0.1:4222`.
    std::string url;
    /// Connection name shown by the server.
    std::string name = "market-ingestor";
    /// Timeout of the initial connect.
    std::chrono::milliseconds connect_timeout{5000};
    /// nats.c async limit (keep above the platform's in-flight limit); publish_async blocks
    /// up to ack_timeout when it is reached.
    int max_pending = 8192;
    /// Wait for an async publish's ack; a timed-out publish is RETRIED with the same msg id
    /// (counted in retries()).
    std::chrono::milliseconds ack_timeout{5000};
    /// Called once per message when it is finally acked or fails permanently (after
    /// retries), on a nats.c thread. Must not throw, nor create or destroy a jetstream.
    std::function<void(const publish_outcome&)> on_outcome;
    /// Called on the retry thread each time a message is re-published with the same msg id
    /// (after an ack timeout or "no responders"), with its subject. Must not throw.
    std::function<void(std::string_view subject)> on_retry;
    /// Retries of one message (timeouts, no responders) before it fails permanently.
    int max_retries = 10;
    /// Bytes buffered by nats.c while disconnected (reconnects forever, every 100 ms).
    int reconnect_buffer_bytes = 256 * 1024 * 1024;
    /// Replicas of a key-value bucket this connection creates (an existing bucket keeps its own).
    int kv_replicas = 1;
    /// When the ack thread has answered every publish ack that came, it waits this long before it looks again, so
    /// the acks of that time are taken in one go (one wake-up of the thread, and none of nats.c's reader, instead of
    /// one per ack). Adds at most this to an ack's way to on_outcome; 0: no wait.
    std::chrono::microseconds ack_linger{1000};
  };

  /// Connects; error "cannot connect to nats://...: <nats status text>".
  static mi::result<std::unique_ptr<jetstream>> connect(options o);
  /// Drains pending acks up to 5 s, then closes; publishes still unacknowledged then are
  /// reported to on_outcome as failed. Consumers must be destroyed first.
  ~jetstream();
  jetstream(const jetstream&) = delete;
  jetstream& operator=(const jetstream&) = delete;

  /// Creates the stream or, if it exists, updates it to the spec (error if an update is
  /// refused, e.g. storage type change).
  mi::result<stream_state> ensure_stream(const stream_spec& s);
  /// Current counters of a stream.
  mi::result<stream_state> state(const std::string& stream);
  /// Every consumer of a stream (js_Consumers), by name.
  mi::result<std::vector<consumer_state>> consumers(const std::string& stream);
  /// The connection is up now (not reconnecting, not closed): nats.c's cached status, never waits.
  bool connected() const;
  /// Async publish with Nats-Msg-Id and Content-Type headers; returns once handed to nats.c
  /// (never waits for the ack). An error means nats.c did not take the message (no outcome
  /// will be reported for it).
  mi::result<bool> publish_async(const outgoing& m);
  /// Published, not yet finally acked or failed (atomic).
  std::int64_t in_flight() const;
  /// Re-publications after a timeout or a transient error, since connect.
  std::uint64_t retries() const;
  /// Waits until every async publish is acked or failed, up to timeout; error if some are
  /// still pending.
  mi::result<bool> flush(std::chrono::milliseconds timeout);
  /// Synchronous publish, one attempt (tests, tools); returns (seq, duplicate). The platform's
  /// synchronous callers go through publish_acked (sync_publish.hpp): one retry policy.
  mi::result<std::pair<std::uint64_t, bool>> publish_sync(const outgoing& m);
  /// Last message stored on an exact subject, nullopt if none.
  mi::result<std::optional<js_message>> last_message(const std::string& stream, const std::string& subject);
  /// Message at a stream sequence, nullopt if none (deleted or beyond the end).
  mi::result<std::optional<js_message>> get_message(const std::string& stream, std::uint64_t seq);
  /// Deletes the message at a stream sequence (true; false when it was not there).
  mi::result<bool> delete_message(const std::string& stream, std::uint64_t seq);
  /// Creates the key-value bucket if missing (history 1, file storage): small durable state.
  mi::result<bool> kv_ensure(const std::string& bucket);
  /// Creates the bucket if missing with entries that expire `ttl` after they were written (0:
  /// never); an existing bucket gets this TTL (its stream's max age) if it had another.
  mi::result<bool> kv_ensure(const std::string& bucket, std::chrono::nanoseconds ttl);
  /// Stores `value` under `key` only if the key holds no value (kvStore_Create): true when stored,
  /// false when the key already had a value (atomic on the server: of two concurrent creates of
  /// one key exactly one gets true).
  mi::result<bool> kv_create(const std::string& bucket, const std::string& key, std::string_view value);
  /// Value of a key, nullopt if absent or deleted.
  mi::result<std::optional<std::string>> kv_get(const std::string& bucket, const std::string& key);
  /// A key's value with its revision (the bucket stream's sequence of that write).
  struct kv_entry {
    std::string value;
    std::uint64_t revision = 0;
  };
  /// Value and revision of a key, nullopt if absent, deleted or expired. Served by any replica of the bucket
  /// (nats.c reads with direct get where the bucket allows it): on a cluster it may be a moment behind the last
  /// write. Decisions that compare revisions (leases) read with kv_get_latest.
  mi::result<std::optional<kv_entry>> kv_get_entry(const std::string& bucket, const std::string& key);
  /// As kv_get_entry, answered by the bucket stream's leader (the stream's "last message for subject" API): never
  /// older than a write acknowledged before the call.
  mi::result<std::optional<kv_entry>> kv_get_latest(const std::string& bucket, const std::string& key);
  /// Revision-checked write (compare and swap on the server): `expected` 0 stores only where the key holds no
  /// value (kvStore_Create), otherwise only where its current revision is `expected` (kvStore_Update). The new
  /// revision when stored; nullopt when refused because the key changed (of two concurrent writes at one
  /// revision exactly one is stored); an error when the server could not be asked.
  mi::result<std::optional<std::uint64_t>> kv_swap(const std::string& bucket, const std::string& key,
                                                   std::string_view value, std::uint64_t expected);
  /// Deletes a key (a delete marker: kv_get no longer sees it, kv_keys still lists it; kv_create may store it again).
  mi::result<bool> kv_delete(const std::string& bucket, const std::string& key);
  /// Stores a value (bucket created if missing).
  mi::result<bool> kv_put(const std::string& bucket, const std::string& key, std::string_view value);
  /// Core NATS publish (no JetStream, no ack, at most once to the subscribers of that moment),
  /// flushed to the server before it returns: control messages such as
  /// `market.control.apikey.revoked`. Error when the server is not reachable within `timeout`.
  mi::result<bool> publish_core(const std::string& subject, std::string_view data,
                                std::chrono::milliseconds timeout = std::chrono::seconds(2));
  /// Core NATS publish of `m` with its headers (Content-Type, Nats-Msg-Id when set, more headers), no
  /// JetStream, no ack, NOT flushed: handed to nats.c's write buffer, which its flusher sends at
  /// once; at most once to the subscribers of that moment (best effort: live partial candles on
  /// `market.partial.>`). Error when nats.c refuses it (e.g. its reconnect buffer is full).
  mi::result<bool> publish_core_buffered(const outgoing& m);
  /// Every key of a bucket that has a message: a value, or the marker a delete or purge left (read a key with
  /// kv_get_latest to tell). Sorted; empty when none. One stream-info request to the bucket stream's leader.
  mi::result<std::vector<std::string>> kv_keys(const std::string& bucket);

  /// Opaque nats.c state.
  struct impl;
  /// Used by the consumers in this gateway.
  impl& internals() { return *impl_; }

private:
  explicit jetstream(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// A durable pull consumer created explicitly (js_AddConsumer: survives restarts and
/// unsubscribe) and bound by name.
class pull_consumer {
public:
  /// Consumer configuration (explicit acks).
  struct spec {
    /// Stream name.
    std::string stream;
    /// Durable name (no `.`).
    std::string durable;
    /// Subject filter, e.g. `market.raw.>`; empty = the whole stream. A filter that is the stream's only subject is
    /// left out when the consumer is created (the same messages, without nats-server's filtered pending count).
    std::string filter_subject;
    /// Redelivery delay of an un-acked message.
    std::chrono::nanoseconds ack_wait{30'000'000'000};
    /// Maximum delivered-but-unacked messages.
    int max_ack_pending = 20000;
    /// Maximum deliveries of one message; -1 = unlimited.
    int max_deliver = -1;
    /// Ack policy: AckAll (the ack of a stream sequence acks every pending message up to it: see
    /// actors/ack_frontier.hpp for the rule that makes it safe) instead of explicit acks. nats-server cannot change an
    /// existing durable's policy: a durable with the other one is deleted and created again after its ack floor
    /// (what was delivered above the floor and not acked is delivered again).
    bool ack_all = false;
  };
  /// Creates (or updates) the durable consumer and binds to it.
  static mi::result<std::unique_ptr<pull_consumer>> create(jetstream& js, spec s);
  /// Blocking fetch of up to `max` messages, waiting up to timeout; empty vector on timeout
  /// (not an error). `gather` > 0: once the first message is in, the rest is collected in slices of
  /// that length (the call returns up to `gather` after the batch filled, never after `timeout`)
  /// instead of waking the calling thread for every delivery; 0: woken per delivery.
  mi::result<std::vector<js_message>> fetch(int max, std::chrono::milliseconds timeout,
                                            std::chrono::milliseconds gather = std::chrono::milliseconds(0));
  /// Messages not yet delivered to this consumer + ack pending (consumer info), for lag
  /// metrics.
  mi::result<std::uint64_t> pending();
  /// The stream sequence up to which everything is acked (consumer info).
  mi::result<std::uint64_t> ack_floor();
  /// The consumer's ack policy is AckAll (spec::ack_all).
  bool acks_all() const;
  /// Unbinds; the durable consumer stays on the server.
  ~pull_consumer();
  pull_consumer(const pull_consumer&) = delete;
  pull_consumer& operator=(const pull_consumer&) = delete;

  /// Opaque nats.c state.
  struct impl;

private:
  explicit pull_consumer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// What an ordered consumer does about stream sequences it never received. nats.c recreates the
/// consumer on gaps in its own delivery count, but was seen to skip a few stream messages across
/// a cluster member's death (issue 16).
enum class stream_gaps {
  ignore, ///< a filtered consumer: the sequences between its messages are other subjects'
  fill,   ///< the filter covers the whole stream: a skipped sequence is read directly from the
          ///< stream and delivered in order (a deleted one is passed over); a redelivered one dropped
};

/// An ordered push consumer (no acks, flow control, auto-recreated on gaps), delivering on a
/// nats.c thread.
class ordered_consumer {
public:
  /// start: deliver only new messages (start_seq == 0) or from a stream sequence.
  /// `filter_subject` empty = the stream's only subject. `on_message` runs on a nats.c thread,
  /// one message at a time, and must not throw. `gaps`: see stream_gaps (fill only when every
  /// message of the stream is one the consumer wants).
  static mi::result<std::unique_ptr<ordered_consumer>> start(jetstream& js, const std::string& stream,
                                                             const std::string& filter_subject, std::uint64_t start_seq,
                                                             std::function<void(js_message&&)> on_message,
                                                             stream_gaps gaps = stream_gaps::ignore);
  /// Like start, from the first message the server stored at or after `start_ns` (ns since the
  /// Unix epoch; server store time, not the payload's time).
  static mi::result<std::unique_ptr<ordered_consumer>> start_at_time(jetstream& js, const std::string& stream,
                                                                     const std::string& filter_subject,
                                                                     std::int64_t start_ns,
                                                                     std::function<void(js_message&&)> on_message);
  /// Unsubscribes; no callback runs after the destructor returns. Never call it from the
  /// callback itself.
  ~ordered_consumer();
  ordered_consumer(const ordered_consumer&) = delete;
  ordered_consumer& operator=(const ordered_consumer&) = delete;

  /// Opaque nats.c state.
  struct impl;
  /// Used by the gateway: wraps a started subscription.
  static std::unique_ptr<ordered_consumer> make(std::unique_ptr<impl> p);

private:
  explicit ordered_consumer(std::unique_ptr<impl> p);
  std::unique_ptr<impl> impl_;
};

/// A core NATS subscription (no JetStream): the messages published on `subject` (wildcards
/// allowed) while it exists, delivered on a nats.c thread. Messages a slow callback cannot take
/// are dropped by nats.c (its pending limits), never queued without bound.
class core_subscription {
public:
  /// Subscribes; `on_message` runs on a nats.c thread, one message at a time, and must not throw.
  static mi::result<std::unique_ptr<core_subscription>> start(jetstream& js, const std::string& subject,
                                                              std::function<void(js_message&&)> on_message);
  /// Unsubscribes; no callback runs after the destructor returns. Never call it from the callback.
  ~core_subscription();
  core_subscription(const core_subscription&) = delete;
  core_subscription& operator=(const core_subscription&) = delete;

private:
  explicit core_subscription(std::unique_ptr<ordered_consumer> same_lifecycle);
  std::unique_ptr<ordered_consumer> sub_; // the same callback-and-completion life as an ordered consumer
};

} // namespace mi::gw
