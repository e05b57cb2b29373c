#include "gateways/jetstream/jetstream.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>

#include <nats/nats.h>

#include "messages/util/text.hpp"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <shared_mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateways/jetstream/ack_ring.hpp"
#include "gateways/jetstream/header_block.hpp"
#include "gateways/jetstream/pub_ack.hpp"
#include "gateways/jetstream/sequence_follower.hpp"

#include <spdlog/spdlog.h>

namespace mi::gw {

namespace {

// --- C handles, each in a unique_ptr with its deleter ---------------------------------------

struct options_deleter {
  void operator()(natsOptions* p) const { natsOptions_Destroy(p); }
};
struct connection_deleter {
  void operator()(natsConnection* p) const {
    natsConnection_Close(p);
    natsConnection_Destroy(p);
  }
};
struct js_deleter {
  void operator()(jsCtx* p) const { jsCtx_Destroy(p); }
};
// --- nats.c 3.4 internals: two functions libnats exports but declares only in its private msg.h ------------------
// Read against src/msg.c of v3.4.1 and used only with that release (natsMsg_Destroy and natsMsgHeader_Set otherwise);
// docs/performance.md §28 measures both.
// - natsMsg_free frees a message on the calling thread. natsMsg_Destroy hands every message to nats.c's collector
//   thread under its lock, signalling it whenever it sleeps: at 20,000 trades/s (two messages per publish, one per
//   delivery) that hand-off ping-pongs between two threads. natsMsg_Destroy differs from natsMsg_free only for
//   messages nats.c marks as its own, which are those it passes to an auto-acking js_Subscribe callback: this gateway
//   subscribes through JetStream only with ordered consumers, which ack nothing, so every message it frees is its own.
// - natsMsg_create takes the header block already encoded before the payload, as a received message carries it
//   (header_block.hpp): one allocation per message, where natsMsgHeader_Set allocates a hash, a key and a value per
//   header, the publish encodes them and the free destroys them.
#if NATS_VERSION_MAJOR == 3 && NATS_VERSION_MINOR == 4
#define MI_NATS_INTERNALS 1
extern "C" {
void natsMsg_free(void* object);
natsStatus natsMsg_create(natsMsg** newMsg, const char* subject, int subjLen, const char* reply, int replyLen,
                          const char* buf, int bufLen, int hdrLen);
}
void free_msg(natsMsg* m) {
  if (m != nullptr)
    natsMsg_free(m);
}
#else
#define MI_NATS_INTERNALS 0
void free_msg(natsMsg* m) { natsMsg_Destroy(m); }
#endif
struct msg_deleter {
  void operator()(natsMsg* p) const { free_msg(p); }
};
// The subscriptions this gateway made, each with what it is for. nats.c 3.4.1 posts an asynchronous error with the
// subscription's pointer without holding the subscription, so it may be destroyed before the error handler runs (a
// kline node crashed in natsSubscription_GetSubject on an ordered consumer the stage had just restarted): the handler
// names a subscription from here and never touches the nats.c object.
class named_subscriptions {
public:
  void add(const natsSubscription* sub, std::string what) {
    std::lock_guard lock(mu_);
    names_[sub] = std::move(what);
  }
  void remove(const natsSubscription* sub) {
    std::lock_guard lock(mu_);
    names_.erase(sub);
  }
  std::string name_of(const natsSubscription* sub) const {
    std::lock_guard lock(mu_);
    auto it = names_.find(sub);
    return it != names_.end() ? it->second : "a subscription already closed, or nats.c's own";
  }

private:
  mutable std::mutex mu_;
  std::unordered_map<const natsSubscription*, std::string> names_;
};

named_subscriptions& subscriptions() {
  static named_subscriptions s;
  return s;
}

struct sub_deleter {
  void operator()(natsSubscription* p) const {
    subscriptions().remove(p); // before it is freed: the error handler no longer finds it
    natsSubscription_Destroy(p);
  }
};
using sub_ptr = std::unique_ptr<natsSubscription, sub_deleter>;
/// Takes `raw` into `slot`, named for the async error handler (sub_deleter forgets the name when it destroys it).
void adopt(sub_ptr& slot, natsSubscription* raw, std::string what) {
  subscriptions().add(raw, std::move(what));
  slot.reset(raw);
}
/// A fresh inbox, "_INBOX.<nuid>": the prefix of a subscription's reply subjects (`<inbox>.<number>`).
std::optional<std::string> new_inbox() {
  natsInbox* raw = nullptr;
  if (natsInbox_Create(&raw) != NATS_OK)
    return std::nullopt;
  std::string inbox = raw;
  natsInbox_Destroy(raw);
  return inbox;
}
/// Nothing waits in `sub`'s queue: a reader that sleeps now lets the next messages gather without being woken for
/// each (nats.c signals only a waiting reader).
bool none_queued(natsSubscription* sub) {
  int queued = 0;
  return natsSubscription_GetPending(sub, &queued, nullptr) == NATS_OK && queued == 0;
}
struct kv_deleter {
  void operator()(kvStore* p) const { kvStore_Destroy(p); }
};
struct stream_info_deleter {
  void operator()(jsStreamInfo* p) const { jsStreamInfo_Destroy(p); }
};
struct consumer_info_deleter {
  void operator()(jsConsumerInfo* p) const { jsConsumerInfo_Destroy(p); }
};
struct pub_ack_deleter {
  void operator()(jsPubAck* p) const { jsPubAck_Destroy(p); }
};
struct kv_entry_deleter {
  void operator()(kvEntry* p) const { kvEntry_Destroy(p); }
};

using msg_ptr = std::unique_ptr<natsMsg, msg_deleter>;
using stream_info_ptr = std::unique_ptr<jsStreamInfo, stream_info_deleter>;
using consumer_info_ptr = std::unique_ptr<jsConsumerInfo, consumer_info_deleter>;

// --- errors: a nats status is turned into mi::error once, here -------------------------------

std::string status_text(natsStatus s) {
  std::string text = natsStatus_GetText(s);
  // The thread's last error carries the server's description ("stream name already in use").
  if (const char* last = nats_GetLastError(nullptr); last != nullptr && *last != '\0' && text != last)
    text += std::string(" (") + last + ")";
  return text;
}

// The kind of a nats status, for callers that retry or give up by it.
mi::errc code_of(natsStatus s, jsErrCode jerr) {
  if (jerr == JSStreamNotFoundErr || jerr == JSConsumerNotFoundErr || s == NATS_NOT_FOUND)
    return mi::errc::not_found;
  switch (s) {
  case NATS_TIMEOUT:
    return mi::errc::timeout;
  case NATS_NO_SERVER:
  case NATS_NO_RESPONDERS:
  case NATS_CONNECTION_CLOSED:
  case NATS_CONNECTION_DISCONNECTED:
  case NATS_STALE_CONNECTION:
  case NATS_IO_ERROR:
  case NATS_DRAINING:
    return mi::errc::unavailable;
  case NATS_MAX_PAYLOAD:
  case NATS_SLOW_CONSUMER:
  case NATS_INSUFFICIENT_BUFFER:
    return mi::errc::limit;
  default:
    return mi::errc::unspecified;
  }
}

mi::error fail(const std::string& what, natsStatus s, jsErrCode jerr = jsErrCode(0)) {
  std::string m = what + ": " + status_text(s);
  if (jerr != 0)
    m += " [jetstream error " + std::to_string(int(jerr)) + "]";
  return mi::error{m, code_of(s, jerr)};
}

std::int64_t to_ms(std::chrono::milliseconds d) { return static_cast<std::int64_t>(d.count()); }

// Builds a message with our headers; `reply`: where the server answers (an async publish's ack subject), or none.
mi::result<bool> make_msg(msg_ptr& out, const outgoing& m, const char* reply = nullptr) {
  if (m.subject.empty())
    return mi::error{"cannot publish a message without a subject", mi::errc::bad_input};
  thread_local std::string block; // the header block, then the payload
  block.clear();
  if (block.capacity() > (std::size_t{1} << 16))
    std::string().swap(block); // a large message does not keep its memory on this thread
  auto header_len = append_header_block(block, m);
  if (!header_len)
    return header_len.err();
  natsMsg* raw = nullptr;
  natsStatus s = NATS_OK;
#if MI_NATS_INTERNALS
  std::string_view body = m.data;
  if (*header_len > 0)
    body = block.append(m.data);
  s = natsMsg_create(&raw, m.subject.data(), static_cast<int>(m.subject.size()), reply,
                     reply != nullptr ? static_cast<int>(std::strlen(reply)) : 0, body.data(),
                     static_cast<int>(body.size()), static_cast<int>(*header_len));
  out.reset(raw);
#else
  s = natsMsg_Create(&raw, m.subject.c_str(), reply, m.data.data(), static_cast<int>(m.data.size()));
  out.reset(raw);
  if (s == NATS_OK && !m.msg_id.empty())
    s = natsMsgHeader_Set(raw, "Nats-Msg-Id", m.msg_id.c_str());
  if (s == NATS_OK && !m.content_type.empty())
    s = natsMsgHeader_Set(raw, "Content-Type", m.content_type.c_str());
  for (const auto& [name, value] : m.headers)
    if (s == NATS_OK)
      s = natsMsgHeader_Set(raw, name.c_str(), value.c_str());
#endif
  if (s != NATS_OK)
    return fail("cannot build message for " + m.subject, s);
  return true;
}

// The same message (subject, headers, payload) with another reply subject: a retried publish waits for its ack
// under a new id.
natsStatus copy_with_reply(msg_ptr& out, natsMsg* src, const char* reply) {
  natsMsg* raw = nullptr;
  natsStatus s = natsMsg_Create(&raw, natsMsg_GetSubject(src), reply, natsMsg_GetData(src), natsMsg_GetDataLength(src));
  out.reset(raw);
  const char** keys = nullptr;
  int count = 0;
  if (s == NATS_OK) {
    natsStatus k = natsMsgHeader_Keys(src, &keys, &count);
    if (k != NATS_OK && k != NATS_NOT_FOUND)
      s = k;
  }
  for (int i = 0; s == NATS_OK && i < count; ++i) {
    const char** values = nullptr;
    int n = 0;
    s = natsMsgHeader_Values(src, keys[i], &values, &n);
    for (int j = 0; s == NATS_OK && j < n; ++j)
      s = natsMsgHeader_Add(raw, keys[i], values[j]);
    std::free(static_cast<void*>(values));
  }
  std::free(static_cast<void*>(keys));
  return s;
}

stream_state to_state(const jsStreamInfo& si) {
  return stream_state{si.State.Msgs, si.State.FirstSeq, si.State.LastSeq, si.State.Bytes};
}

} // namespace

// --- js_message -------------------------------------------------------------------------------

struct js_message::handle {
  msg_ptr msg;
  std::uint64_t seq = 0;
  std::uint64_t delivered = 0;
  std::uint64_t pending = 0;
  std::int64_t ts = 0;
  natsConnection* nc = nullptr; ///< set for pulled messages: acks are published to the reply subject
};

namespace {

// A message delivered by a consumer: its metadata is in the reply subject.
js_message from_consumer(natsMsg* raw) {
  auto h = std::make_unique<js_message::handle>();
  h->msg.reset(raw);
  jsMsgMetaData* md = nullptr;
  if (natsMsg_GetMetaData(&md, raw) == NATS_OK && md != nullptr) {
    h->seq = md->Sequence.Stream;
    h->delivered = md->NumDelivered;
    h->pending = md->NumPending;
    h->ts = md->Timestamp;
    jsMsgMetaData_Destroy(md);
  }
  return js_message(std::move(h));
}

// A message read directly from the stream (js_GetMsg / js_GetLastMsg).
js_message from_direct(natsMsg* raw) {
  auto h = std::make_unique<js_message::handle>();
  h->msg.reset(raw);
  h->seq = natsMsg_GetSequence(raw);
  h->ts = natsMsg_GetTime(raw);
  return js_message(std::move(h));
}

} // namespace

js_message::js_message(std::unique_ptr<handle> h) noexcept : h_(std::move(h)) {}
js_message::~js_message() = default;
js_message::js_message(js_message&&) noexcept = default;
js_message& js_message::operator=(js_message&&) noexcept = default;

std::string_view js_message::subject() const {
  const char* s = natsMsg_GetSubject(h_->msg.get());
  return s ? std::string_view(s) : std::string_view();
}

std::string_view js_message::data() const {
  const char* d = natsMsg_GetData(h_->msg.get());
  return d ? std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(h_->msg.get()))) : std::string_view();
}

std::optional<std::string> js_message::header(const char* key) const {
  const char* value = nullptr;
  if (natsMsgHeader_Get(h_->msg.get(), key, &value) != NATS_OK || value == nullptr)
    return std::nullopt;
  return std::string(value);
}

std::uint64_t js_message::stream_seq() const { return h_->seq; }
std::uint64_t js_message::num_delivered() const { return h_->delivered; }
std::uint64_t js_message::num_pending() const { return h_->pending; }
std::int64_t js_message::timestamp_ns() const { return h_->ts; }

namespace {
natsStatus reply_ack(const js_message::handle& h, const char* what) {
  const char* reply = natsMsg_GetReply(h.msg.get());
  if (reply == nullptr)
    return NATS_INVALID_ARG;
  return natsConnection_Publish(h.nc, reply, what, static_cast<int>(std::strlen(what)));
}
} // namespace

mi::result<bool> js_message::ack() {
  if (!h_)
    return mi::error{"ack: moved-from message"};
  natsStatus s = h_->nc != nullptr ? reply_ack(*h_, "+ACK") : natsMsg_Ack(h_->msg.get(), nullptr);
  if (s != NATS_OK)
    return fail("ack of stream seq " + std::to_string(h_->seq), s);
  return true;
}

void js_message::nak() {
  if (h_)
    h_->nc != nullptr ? reply_ack(*h_, "-NAK") : natsMsg_Nak(h_->msg.get(), nullptr);
}

void js_message::term() {
  if (h_)
    h_->nc != nullptr ? reply_ack(*h_, "+TERM") : natsMsg_Term(h_->msg.get(), nullptr);
}

// --- jetstream --------------------------------------------------------------------------------

// One async publish waiting for its ack: the message (its reply subject ends in its ack_ring id), the event time the
// caller gave, and how often it was published again.
struct sent {
  natsMsg* msg = nullptr;
  std::int64_t event_ts = 0;
  int retries = 0;
};

struct jetstream::impl {
  options opts;
  std::uint64_t id = 0; // the ack subscription's closure: looked up, never dereferenced
  std::unique_ptr<natsConnection, connection_deleter> nc;
  std::unique_ptr<jsCtx, js_deleter> js;

  std::atomic<std::int64_t> in_flight{0};
  std::atomic<std::uint64_t> retries{0};
  std::mutex flush_mu;
  std::condition_variable flush_cv;

  // Async publishes. Each goes out with a reply subject of our own, reply_prefix + its id in `waiting`; JetStream
  // answers there and ack_sub's thread matches the answer by that id. (nats.c's own async publish parses each answer
  // into allocated objects, keeps a hash of pending replies and a timer message per publish: several times the
  // work per trade.) The timer thread expires publishes unanswered for ack_timeout and sends retries.
  std::mutex mu;
  std::condition_variable room_cv;  // publish_async waits here while max_pending publishes are waiting
  std::condition_variable timer_cv; // the timer thread waits here
  int stalled = 0;                  // publish_async calls waiting for room
  std::string reply_prefix;         // "_INBOX.<nuid>.": set once, before ack_sub exists
  sub_ptr ack_sub;                  // made by the first publish_async
  ack_ring<sent> waiting;
  std::multimap<std::chrono::steady_clock::time_point, sent> retry_queue; // by when to publish again
  bool stopping = false;
  std::thread timer_thread;

  std::mutex kv_mu;
  std::map<std::string, std::unique_ptr<kvStore, kv_deleter>> kv;

  mi::result<bool> ensure_ack_subscription(); // with mu held
  /// Sends `msg` (its reply subject made for waiting.next_id()) as `e`, with mu held; unlocks around the publish.
  /// False: not sent, `e` (with `msg` in it) is the caller's again.
  bool send(std::unique_lock<std::mutex>& lock, sent& e, msg_ptr msg, natsStatus& s);
  void handle_reply(natsMsg* reply);
  /// Schedules `e` again, or fails it for good (false: the caller finishes it, without mu).
  bool retry_later(sent& e, std::chrono::milliseconds delay);
  /// Tells on_outcome and frees the message.
  void finish(sent& e, bool ok, bool duplicate, std::uint64_t seq, std::string error, std::string_view stream = {});
  void timer_loop();
  /// One publish less in flight; flush() hears when none is left.
  void one_done();
  mi::result<kvStore*> bucket(const std::string& name, std::chrono::nanoseconds ttl = std::chrono::nanoseconds{-1});
};

namespace {

// Live jetstream objects by id. The ack subscription's callback runs on a nats.c thread that may outlive the object
// (nats.c detaches subscription threads); looking the id up under a shared lock makes a late callback harmless.
std::shared_mutex& registry_mu() {
  static std::shared_mutex mu;
  return mu;
}
std::unordered_map<std::uint64_t, jetstream::impl*>& registry() {
  static std::unordered_map<std::uint64_t, jetstream::impl*> r;
  return r;
}
std::atomic<std::uint64_t> next_id{1};

void on_ack_reply(natsConnection*, natsSubscription* sub, natsMsg* reply, void* closure) {
  auto id = static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(closure));
  std::chrono::microseconds linger{0};
  {
    std::shared_lock lock(registry_mu());
    auto it = registry().find(id);
    if (it == registry().end()) {
      free_msg(reply);
      return;
    }
    it->second->handle_reply(reply);
    linger = it->second->opts.ack_linger;
  }
  // Every answer that came is handled: let the next answers gather (options::ack_linger; while this thread sleeps,
  // nats.c's reader queues them without waking anyone).
  if (linger.count() > 0 && none_queued(sub))
    std::this_thread::sleep_for(linger);
}

// The reply subject of publish `id`: prefix + decimal id, in `buf`.
const char* reply_subject(std::string& buf, const std::string& prefix, std::uint64_t id) {
  char digits[24];
  auto [end, ec] = std::to_chars(std::begin(digits), std::end(digits), id);
  buf.assign(prefix);
  buf.append(digits, end);
  return buf.c_str();
}

} // namespace

mi::result<bool> jetstream::impl::ensure_ack_subscription() {
  if (ack_sub)
    return true;
  auto inbox = new_inbox();
  if (!inbox)
    return mi::error{"cannot make the publish ack inbox"};
  reply_prefix = *inbox + "."; // before the subscription: its thread reads it
  natsSubscription* raw = nullptr;
  natsStatus s = natsConnection_Subscribe(&raw, nc.get(), (reply_prefix + "*").c_str(), on_ack_reply,
                                          reinterpret_cast<void*>(static_cast<std::uintptr_t>(id)));
  if (s != NATS_OK)
    return fail("cannot subscribe to publish acks", s);
  // Bounded by max_pending (publish_async waits beyond it), so no slow-consumer limit that could drop acks.
  natsSubscription_SetPendingLimits(raw, -1, -1);
  adopt(ack_sub, raw, "the publish acks");
  return true;
}

bool jetstream::impl::send(std::unique_lock<std::mutex>& lock, sent& e, msg_ptr msg, natsStatus& s) {
  e.msg = msg.release();
  natsMsg* out = e.msg;
  const auto id = waiting.add(e, std::chrono::steady_clock::now() + opts.ack_timeout);
  lock.unlock();
  s = natsConnection_PublishMsg(nc.get(), out);
  lock.lock();
  if (s == NATS_OK)
    return true;
  // Not sent (closed, reconnect buffer full): the caller's again, unless the timer took it meanwhile.
  auto back = waiting.take(id);
  if (!back)
    return true; // the timer sends it again or fails it
  e = *back;
  return false;
}

void jetstream::impl::handle_reply(natsMsg* reply) {
  std::uint64_t id = 0;
  const char* subject = natsMsg_GetSubject(reply);
  const std::size_t len = subject != nullptr ? std::strlen(subject) : 0;
  const std::size_t skip = reply_prefix.size(); // set before the first publish, never changed after
  if (len <= skip || std::from_chars(subject + skip, subject + len, id).ec != std::errc{}) {
    free_msg(reply);
    return;
  }
  const bool no_responders = natsMsg_IsNoResponders(reply);
  pub_ack ack;
  if (!no_responders) {
    const char* d = natsMsg_GetData(reply);
    ack = parse_pub_ack(d != nullptr ? std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(reply)))
                                     : std::string_view());
  }
  free_msg(reply);

  std::unique_lock lock(mu);
  auto e = waiting.take(id);
  if (!e)
    return; // late: it timed out and was sent again or failed
  if (stalled > 0 && waiting.live() < static_cast<std::size_t>(std::max(opts.max_pending, 1)))
    room_cv.notify_all();
  if (no_responders) {
    // Nobody stores the subject yet (the server starting, the stream being created or its leader moving): again
    // after a pause that grows with each try.
    if (retry_later(*e, std::chrono::milliseconds(100 * std::min(e->retries + 1, 10))))
      return;
    lock.unlock();
    finish(*e, false, false, 0, "no responders (after " + std::to_string(e->retries) + " retries)");
    return;
  }
  lock.unlock();
  switch (ack.what) {
  case pub_ack::kind::stored:
    finish(*e, true, ack.duplicate, ack.seq, {}, ack.stream);
    break;
  case pub_ack::kind::refused: // limits, wrong expectations: final
    finish(*e, false, false, 0, ack.error + " [jetstream error " + std::to_string(ack.err_code) + "]");
    break;
  case pub_ack::kind::malformed:
    finish(*e, false, false, 0, ack.error);
    break;
  }
}

bool jetstream::impl::retry_later(sent& e, std::chrono::milliseconds delay) {
  if (stopping || e.retries >= opts.max_retries)
    return false;
  retry_queue.emplace(std::chrono::steady_clock::now() + delay, e);
  timer_cv.notify_one();
  return true;
}

void jetstream::impl::finish(sent& e, bool ok, bool duplicate, std::uint64_t seq, std::string error,
                             std::string_view stream) {
  if (opts.on_outcome) {
    publish_outcome o;
    o.ok = ok;
    o.duplicate = duplicate;
    o.seq = seq;
    const char* subj = natsMsg_GetSubject(e.msg);
    o.subject = subj != nullptr ? std::string_view(subj) : std::string_view();
    o.event_ts_ns = e.event_ts;
    o.error = std::move(error);
    o.stream = stream;
    if (const char* d = natsMsg_GetData(e.msg); d != nullptr)
      o.data = std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(e.msg)));
    opts.on_outcome(o);
  }
  free_msg(std::exchange(e.msg, nullptr));
  one_done();
}

void jetstream::impl::one_done() {
  if (in_flight.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    std::lock_guard lock(flush_mu);
    flush_cv.notify_all();
  }
}

void jetstream::impl::timer_loop() {
  using clock = std::chrono::steady_clock;
  std::unique_lock lock(mu);
  std::vector<sent> failed;
  std::string reply;
  while (!stopping) {
    const auto now = clock::now();
    // Unanswered for ack_timeout: published again at once (the wait was the ack timeout), or failed.
    waiting.expire(now, [&](sent&& e) {
      if (!retry_later(e, std::chrono::milliseconds(0)))
        failed.push_back(e);
    });
    if (stalled > 0)
      room_cv.notify_all();
    while (!stopping && !retry_queue.empty() && retry_queue.begin()->first <= clock::now()) {
      sent e = retry_queue.begin()->second;
      retry_queue.erase(retry_queue.begin());
      ++e.retries;
      retries.fetch_add(1, std::memory_order_relaxed);
      if (opts.on_retry) {
        const char* subj = natsMsg_GetSubject(e.msg);
        lock.unlock();
        opts.on_retry(subj != nullptr ? subj : "");
        lock.lock();
      }
      // The same message under a new id: an answer to the old one that still comes finds nothing.
      msg_ptr copy;
      natsStatus s = copy_with_reply(copy, e.msg, reply_subject(reply, reply_prefix, waiting.next_id()));
      if (s == NATS_OK) {
        sent again{nullptr, e.event_ts, e.retries};
        if (send(lock, again, std::move(copy), s)) {
          free_msg(e.msg);
          continue;
        }
        free_msg(again.msg); // the copy did not go out: keep the original
      }
      // Not sent (closed, reconnect buffer full): later, or give up.
      if (!retry_later(e, opts.ack_timeout / 4)) {
        lock.unlock();
        finish(e, false, false, 0,
               "republish failed after " + std::to_string(e.retries) + " retries: " + status_text(s));
        lock.lock();
      }
    }
    if (!failed.empty()) {
      auto gone = std::move(failed);
      failed.clear();
      lock.unlock();
      for (auto& e : gone)
        finish(e, false, false, 0,
               "Timeout: no publish ack within " + std::to_string(opts.ack_timeout.count()) + " ms (after " +
                 std::to_string(e.retries) + " retries)");
      lock.lock();
      continue;
    }
    auto wake = now + opts.ack_timeout; // a publish made while this waits has its deadline after it
    if (auto d = waiting.next_deadline(); d && *d < wake)
      wake = *d;
    if (!retry_queue.empty() && retry_queue.begin()->first < wake)
      wake = retry_queue.begin()->first;
    timer_cv.wait_until(lock, wake);
  }
}

jetstream::jetstream(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

namespace {
/// nats.c reports what happens off the caller's path here (a slow consumer dropping messages, an
/// ordered consumer that missed heartbeats or failed to re-create itself): without this handler it
/// is silent. Logged, paced: a slow consumer reports every dropped batch.
void on_async_error(natsConnection*, natsSubscription* sub, natsStatus err, void*) {
  static std::atomic<std::uint64_t> count{0};
  auto n = count.fetch_add(1);
  if (n >= 20 && n % 1000 != 0)
    return;
  const std::string what = sub != nullptr ? subscriptions().name_of(sub) : "the connection";
  spdlog::warn("nats: asynchronous error on {}: {} ({} so far)", what, natsStatus_GetText(err), n + 1);
}

// One log line per change of the connection's state (nats.c reconnects by itself, forever).
void on_disconnected(natsConnection* nc, void*) {
  if (natsConnection_IsClosed(nc))
    return; // closing on purpose (shutdown)
  spdlog::warn("nats: disconnected, reconnecting");
}

void on_reconnected(natsConnection* nc, void*) {
  char url[256] = {0};
  if (natsConnection_GetConnectedUrl(nc, url, sizeof url) != NATS_OK)
    url[0] = 0;
  spdlog::info("nats: reconnected to {}", url);
}
} // namespace

mi::result<std::unique_ptr<jetstream>> jetstream::connect(options o) {
  auto p = std::make_unique<impl>();
  p->opts = std::move(o);
  const auto& opts = p->opts;
  const std::string where = "cannot connect to " + opts.url;

  natsOptions* raw_opts = nullptr;
  natsStatus s = natsOptions_Create(&raw_opts);
  std::unique_ptr<natsOptions, options_deleter> nopts(raw_opts);
  // nats.c takes a list of servers (a cluster's seeds) only through SetServers: SetURL would try
  // the whole comma-separated text as one URL.
  std::vector<std::string> urls;
  for (std::string_view rest = opts.url; !rest.empty();) {
    auto comma = rest.find(',');
    auto one = mi::util::trim(rest.substr(0, comma));
    if (!one.empty())
      urls.emplace_back(one);
    rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
  }
  std::vector<const char*> url_ptrs;
  for (const auto& u : urls)
    url_ptrs.push_back(u.c_str());
  if (s == NATS_OK)
    s = natsOptions_SetServers(raw_opts, url_ptrs.data(), static_cast<int>(url_ptrs.size()));
  if (s == NATS_OK)
    s = natsOptions_SetName(raw_opts, opts.name.c_str());
  if (s == NATS_OK)
    s = natsOptions_SetTimeout(raw_opts, to_ms(opts.connect_timeout));
  // Reconnect forever, quickly, buffering publishes meanwhile: the retry path relies on it.
  if (s == NATS_OK)
    s = natsOptions_SetMaxReconnect(raw_opts, -1);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectWait(raw_opts, 100);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectBufSize(raw_opts, opts.reconnect_buffer_bytes);
  if (s == NATS_OK)
    s = natsOptions_SetErrorHandler(raw_opts, on_async_error, nullptr);
  if (s == NATS_OK)
    s = natsOptions_SetDisconnectedCB(raw_opts, on_disconnected, nullptr);
  if (s == NATS_OK)
    s = natsOptions_SetReconnectedCB(raw_opts, on_reconnected, nullptr);
  if (s != NATS_OK)
    return fail(where, s);

  natsConnection* raw_nc = nullptr;
  s = natsConnection_Connect(&raw_nc, raw_opts);
  if (s != NATS_OK)
    return mi::error{where + ": " + natsStatus_GetText(s), code_of(s, jsErrCode(0))};
  p->nc.reset(raw_nc);

  p->id = next_id.fetch_add(1);
  {
    std::unique_lock lock(registry_mu());
    registry()[p->id] = p.get();
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jsCtx* raw_js = nullptr;
  s = natsConnection_JetStream(&raw_js, raw_nc, &jo);
  if (s != NATS_OK) {
    std::unique_lock lock(registry_mu());
    registry().erase(p->id);
    return fail("jetstream context on " + opts.url, s);
  }
  p->js.reset(raw_js);
  p->timer_thread = std::thread([ip = p.get()] { ip->timer_loop(); });
  return std::unique_ptr<jetstream>(new jetstream(std::move(p)));
}

jetstream::~jetstream() {
  (void)flush(std::chrono::seconds(5));
  {
    std::lock_guard lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->timer_cv.notify_all();
  impl_->room_cv.notify_all();
  if (impl_->timer_thread.joinable())
    impl_->timer_thread.join();
  {
    // Waits for a running ack callback; later ones find no entry.
    std::unique_lock lock(registry_mu());
    registry().erase(impl_->id);
  }
  impl_->ack_sub.reset();
  // Publishes still waiting for their ack after the drain, or for a retry: failed.
  std::vector<std::pair<sent, const char*>> left;
  {
    std::lock_guard lock(impl_->mu);
    impl_->waiting.take_all([&](sent&& e) { left.emplace_back(e, "connection closed before the ack arrived"); });
    for (auto& [when, e] : impl_->retry_queue)
      left.emplace_back(e, "connection closed before the retry");
    impl_->retry_queue.clear();
  }
  for (auto& [e, why] : left)
    impl_->finish(e, false, false, 0, why);
  impl_->kv.clear();
  impl_->js.reset();
  impl_->nc.reset();
}

mi::result<stream_state> jetstream::ensure_stream(const stream_spec& spec) {
  std::vector<const char*> subjects;
  for (const auto& s : spec.subjects)
    subjects.push_back(s.c_str());
  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = spec.name.c_str();
  sc.Subjects = subjects.data();
  sc.SubjectsLen = static_cast<int>(subjects.size());
  sc.Storage = spec.file_storage ? js_FileStorage : js_MemoryStorage;
  sc.MaxAge = spec.max_age.count();
  sc.MaxBytes = spec.max_bytes;
  sc.Replicas = spec.replicas;
  sc.Duplicates = spec.duplicate_window.count();

  jsErrCode jerr = jsErrCode(0);
  jsStreamInfo* raw = nullptr;
  natsStatus s = js_GetStreamInfo(&raw, impl_->js.get(), spec.name.c_str(), nullptr, &jerr);
  stream_info_ptr existing(raw);
  raw = nullptr;
  if (s == NATS_NOT_FOUND) {
    jerr = jsErrCode(0);
    s = js_AddStream(&raw, impl_->js.get(), &sc, nullptr, &jerr);
    stream_info_ptr created(raw);
    if (s != NATS_OK)
      return fail("cannot create stream " + spec.name, s, jerr);
    return to_state(*created);
  }
  if (s != NATS_OK)
    return fail("cannot look up stream " + spec.name, s, jerr);
  jerr = jsErrCode(0);
  s = js_UpdateStream(&raw, impl_->js.get(), &sc, nullptr, &jerr);
  stream_info_ptr updated(raw);
  if (s != NATS_OK)
    return fail("cannot update stream " + spec.name, s, jerr);
  return to_state(*updated);
}

bool jetstream::connected() const {
  return impl_->nc && natsConnection_Status(impl_->nc.get()) == NATS_CONN_STATUS_CONNECTED;
}

mi::result<stream_state> jetstream::state(const std::string& stream) {
  jsErrCode jerr = jsErrCode(0);
  jsStreamInfo* raw = nullptr;
  natsStatus s = js_GetStreamInfo(&raw, impl_->js.get(), stream.c_str(), nullptr, &jerr);
  stream_info_ptr si(raw);
  if (s != NATS_OK)
    return fail("cannot read stream " + stream, s, jerr);
  return to_state(*si);
}

mi::result<std::vector<consumer_state>> jetstream::consumers(const std::string& stream) {
  jsErrCode jerr = jsErrCode(0);
  jsConsumerInfoList* raw = nullptr;
  natsStatus s = js_Consumers(&raw, impl_->js.get(), stream.c_str(), nullptr, &jerr);
  std::unique_ptr<jsConsumerInfoList, void (*)(jsConsumerInfoList*)> list(raw, jsConsumerInfoList_Destroy);
  if (s == NATS_NOT_FOUND) // a stream without consumers
    return std::vector<consumer_state>{};
  if (s != NATS_OK)
    return fail("cannot list the consumers of " + stream, s, jerr);
  std::vector<consumer_state> out;
  for (int i = 0; list && i < list->Count; ++i) {
    const auto& c = *list->List[i];
    out.push_back({c.Name != nullptr ? c.Name : "", c.NumPending, static_cast<std::uint64_t>(c.NumAckPending),
                   static_cast<std::uint64_t>(c.NumRedelivered), c.Delivered.Stream, c.AckFloor.Stream,
                   c.Config != nullptr && c.Config->FilterSubject != nullptr ? c.Config->FilterSubject : ""});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

mi::result<bool> jetstream::publish_async(const outgoing& m) {
  auto& p = *impl_;
  std::unique_lock lock(p.mu);
  if (p.stopping)
    return mi::error{"cannot publish to " + m.subject + ": the connection is closing", mi::errc::unavailable};
  if (auto sub = p.ensure_ack_subscription(); !sub)
    return sub.err();
  const auto limit = static_cast<std::size_t>(std::max(p.opts.max_pending, 1));
  if (p.waiting.live() >= limit) {
    ++p.stalled;
    const bool room =
      p.room_cv.wait_for(lock, p.opts.ack_timeout, [&] { return p.stopping || p.waiting.live() < limit; });
    --p.stalled;
    if (!room || p.stopping)
      return mi::error{"cannot publish to " + m.subject + ": stalled, " + std::to_string(p.waiting.live()) +
                         " publishes unacknowledged for " + std::to_string(p.opts.ack_timeout.count()) + " ms",
                       mi::errc::timeout};
  }
  thread_local std::string reply;
  msg_ptr msg;
  if (auto made = make_msg(msg, m, reply_subject(reply, p.reply_prefix, p.waiting.next_id())); !made)
    return made.err();
  natsStatus s = NATS_OK;
  p.in_flight.fetch_add(1, std::memory_order_acq_rel);
  sent e{nullptr, m.event_ts_ns, 0};
  if (p.send(lock, e, std::move(msg), s))
    return true;
  lock.unlock();
  free_msg(e.msg);
  p.one_done();
  return fail("cannot publish to " + m.subject, s);
}

std::int64_t jetstream::in_flight() const { return impl_->in_flight.load(); }

std::uint64_t jetstream::retries() const { return impl_->retries.load(); }

mi::result<bool> jetstream::flush(std::chrono::milliseconds timeout) {
  std::unique_lock lock(impl_->flush_mu);
  if (impl_->flush_cv.wait_for(lock, timeout, [this] { return impl_->in_flight.load() <= 0; }))
    return true;
  return mi::error{std::to_string(impl_->in_flight.load()) + " publishes still unacknowledged after " +
                   std::to_string(timeout.count()) + " ms"};
}

mi::result<std::pair<std::uint64_t, bool>> jetstream::publish_sync(const outgoing& m) {
  msg_ptr msg;
  if (auto made = make_msg(msg, m); !made)
    return made.err();
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = to_ms(impl_->opts.ack_timeout);
  jsPubAck* raw = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_PublishMsg(&raw, impl_->js.get(), msg.get(), &po, &jerr);
  std::unique_ptr<jsPubAck, pub_ack_deleter> pa(raw);
  if (s != NATS_OK)
    return fail("cannot publish to " + m.subject, s, jerr);
  return std::pair<std::uint64_t, bool>{pa->Sequence, pa->Duplicate};
}

mi::result<std::optional<js_message>> jetstream::last_message(const std::string& stream, const std::string& subject) {
  natsMsg* raw = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_GetLastMsg(&raw, impl_->js.get(), stream.c_str(), subject.c_str(), nullptr, &jerr);
  if (s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
    return std::optional<js_message>{};
  if (s != NATS_OK)
    return fail("cannot read the last message of " + subject + " in " + stream, s, jerr);
  return std::optional<js_message>{from_direct(raw)};
}

mi::result<std::optional<js_message>> jetstream::get_message(const std::string& stream, std::uint64_t seq) {
  natsMsg* raw = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_GetMsg(&raw, impl_->js.get(), stream.c_str(), seq, nullptr, &jerr);
  if (s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
    return std::optional<js_message>{};
  if (s != NATS_OK)
    return fail("cannot read message " + std::to_string(seq) + " of " + stream, s, jerr);
  return std::optional<js_message>{from_direct(raw)};
}

mi::result<bool> jetstream::delete_message(const std::string& stream, std::uint64_t seq) {
  jsErrCode jerr = jsErrCode(0);
  natsStatus s = js_DeleteMsg(impl_->js.get(), stream.c_str(), seq, nullptr, &jerr);
  if (s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr)
    return false;
  if (s != NATS_OK)
    return fail("cannot delete message " + std::to_string(seq) + " of " + stream, s, jerr);
  return true;
}

// ttl < 0: as the bucket is (created without one when missing); otherwise created with it, or an
// existing bucket's stream (KV_<name>) updated to it.
mi::result<kvStore*> jetstream::impl::bucket(const std::string& name, std::chrono::nanoseconds ttl) {
  std::lock_guard lock(kv_mu);
  if (auto it = kv.find(name); it != kv.end() && ttl.count() < 0)
    return it->second.get();
  kvStore* raw = nullptr;
  natsStatus s = js_KeyValue(&raw, js.get(), name.c_str());
  if (s == NATS_NOT_FOUND) {
    kvConfig cfg;
    kvConfig_Init(&cfg);
    cfg.Bucket = name.c_str();
    cfg.History = 1;
    cfg.StorageType = js_FileStorage;
    cfg.Replicas = opts.kv_replicas;
    if (ttl.count() > 0)
      cfg.TTL = static_cast<int64_t>(ttl.count());
    s = js_CreateKeyValue(&raw, js.get(), &cfg);
  } else if (s == NATS_OK && ttl.count() >= 0) {
    const std::string stream = "KV_" + name;
    jsStreamInfo* si_raw = nullptr;
    jsErrCode jerr = jsErrCode(0);
    natsStatus si_s = js_GetStreamInfo(&si_raw, js.get(), stream.c_str(), nullptr, &jerr);
    stream_info_ptr si(si_raw);
    if (si_s != NATS_OK) {
      kvStore_Destroy(raw);
      return fail("cannot read key-value bucket " + name, si_s, jerr);
    }
    if (si->Config->MaxAge != static_cast<int64_t>(ttl.count())) {
      si->Config->MaxAge = static_cast<int64_t>(ttl.count());
      // The server refuses a duplicate window longer than the max age (nats.c caps it likewise on create).
      if (ttl.count() > 0 && si->Config->Duplicates > si->Config->MaxAge)
        si->Config->Duplicates = si->Config->MaxAge;
      jsStreamInfo* upd = nullptr;
      si_s = js_UpdateStream(&upd, js.get(), si->Config, nullptr, &jerr);
      stream_info_ptr upd_ptr(upd);
      if (si_s != NATS_OK) {
        kvStore_Destroy(raw);
        return fail("cannot change the TTL of key-value bucket " + name, si_s, jerr);
      }
    }
  }
  if (s != NATS_OK)
    return fail("cannot open key-value bucket " + name, s);
  if (auto it = kv.find(name); it != kv.end()) { // other threads may hold the cached handle
    kvStore_Destroy(raw);
    return it->second.get();
  }
  auto* result = raw;
  kv.emplace(name, std::unique_ptr<kvStore, kv_deleter>(raw));
  return result;
}

mi::result<bool> jetstream::kv_ensure(const std::string& bucket, std::chrono::nanoseconds ttl) {
  auto kv = impl_->bucket(bucket, ttl);
  if (!kv)
    return kv.err();
  return true;
}

mi::result<bool> jetstream::kv_create(const std::string& bucket, const std::string& key, std::string_view value) {
  auto kv = impl_->bucket(bucket);
  if (!kv)
    return kv.err();
  std::uint64_t rev = 0;
  natsStatus s = kvStore_Create(&rev, *kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s == NATS_OK)
    return true;
  // nats.c reports an existing key as a failed "last sequence" update, not as a status of its
  // own: ask whether the key holds a value. It does: not created (a replay); it does not: the
  // create failed for another reason.
  const std::string why = status_text(s);
  kvEntry* raw = nullptr;
  natsStatus g = kvStore_Get(&raw, *kv, key.c_str());
  std::unique_ptr<kvEntry, kv_entry_deleter> entry(raw);
  if (g == NATS_OK)
    return false;
  return mi::error{"cannot create " + bucket + "/" + key + ": " + why};
}

mi::result<bool> jetstream::kv_ensure(const std::string& bucket) {
  return kv_ensure(bucket, std::chrono::nanoseconds{-1}); // -1: an existing bucket keeps its TTL
}

mi::result<std::optional<std::string>> jetstream::kv_get(const std::string& bucket, const std::string& key) {
  auto e = kv_get_entry(bucket, key);
  if (!e)
    return e.err();
  if (!*e)
    return std::optional<std::string>{};
  return std::optional<std::string>{std::move((*e)->value)};
}

mi::result<std::optional<jetstream::kv_entry>> jetstream::kv_get_entry(const std::string& bucket,
                                                                       const std::string& key) {
  auto kv = impl_->bucket(bucket);
  if (!kv)
    return kv.err();
  kvEntry* raw = nullptr;
  natsStatus s = kvStore_Get(&raw, *kv, key.c_str());
  std::unique_ptr<kvEntry, kv_entry_deleter> entry(raw);
  if (s == NATS_NOT_FOUND)
    return std::optional<kv_entry>{};
  if (s != NATS_OK)
    return fail("cannot read " + bucket + "/" + key, s);
  const auto* data = static_cast<const char*>(kvEntry_Value(raw));
  return std::optional<kv_entry>{
    kv_entry{std::string(data ? data : "", static_cast<std::size_t>(kvEntry_ValueLen(raw))), kvEntry_Revision(raw)}};
}

mi::result<std::optional<jetstream::kv_entry>> jetstream::kv_get_latest(const std::string& bucket,
                                                                        const std::string& key) {
  auto m = last_message("KV_" + bucket, "$KV." + bucket + "." + key);
  if (!m)
    return m.err();
  if (!*m)
    return std::optional<kv_entry>{};
  // A delete or purge leaves a marker message (header KV-Operation: DEL / PURGE): the key holds no value.
  if (auto op = (*m)->header("KV-Operation"); op && (*op == "DEL" || *op == "PURGE"))
    return std::optional<kv_entry>{};
  return std::optional<kv_entry>{kv_entry{std::string((*m)->data()), (*m)->stream_seq()}};
}

mi::result<std::optional<std::uint64_t>> jetstream::kv_swap(const std::string& bucket, const std::string& key,
                                                            std::string_view value, std::uint64_t expected) {
  auto kv = impl_->bucket(bucket);
  if (!kv)
    return kv.err();
  std::uint64_t rev = 0;
  const auto len = static_cast<int>(value.size());
  natsStatus s = expected == 0 ? kvStore_Create(&rev, *kv, key.c_str(), value.data(), len)
                               : kvStore_Update(&rev, *kv, key.c_str(), value.data(), len, expected);
  if (s == NATS_OK)
    return std::optional<std::uint64_t>{rev};
  // nats.c reports a revision mismatch as a failed "last sequence" update, not as a status of its own: ask what
  // the key holds. Not what `expected` said: refused; as expected: the write failed for another reason.
  const std::string why = status_text(s);
  auto now = kv_get_latest(bucket, key);
  if (!now)
    return mi::error{"cannot write " + bucket + "/" + key + ": " + why};
  const std::uint64_t current = *now ? (*now)->revision : 0;
  if (current != expected)
    return std::optional<std::uint64_t>{};
  return mi::error{"cannot write " + bucket + "/" + key + ": " + why};
}

mi::result<bool> jetstream::kv_delete(const std::string& bucket, const std::string& key) {
  auto kv = impl_->bucket(bucket);
  if (!kv)
    return kv.err();
  natsStatus s = kvStore_Delete(*kv, key.c_str());
  if (s != NATS_OK)
    return fail("cannot delete " + bucket + "/" + key, s);
  return true;
}

mi::result<bool> jetstream::kv_put(const std::string& bucket, const std::string& key, std::string_view value) {
  auto kv = impl_->bucket(bucket);
  if (!kv)
    return kv.err();
  std::uint64_t rev = 0;
  natsStatus s = kvStore_Put(&rev, *kv, key.c_str(), value.data(), static_cast<int>(value.size()));
  if (s != NATS_OK)
    return fail("cannot write " + bucket + "/" + key, s);
  return true;
}

mi::result<std::vector<std::string>> jetstream::kv_keys(const std::string& bucket) {
  // One stream-info request for the subjects of the bucket's stream (answered by its leader, bounded by the request
  // timeout). Not kvStore_Keys: its watcher was seen to wait for over 30 s, without returning, while a cluster member
  // restarted, and it stopped the kline lease keeper for that long (docs/architecture.md "Kline partitions").
  jsOptions o;
  jsOptions_Init(&o);
  const std::string prefix = "$KV." + bucket + ".";
  const std::string filter = prefix + ">";
  o.Stream.Info.SubjectsFilter = filter.c_str();
  jsErrCode jerr = jsErrCode(0);
  jsStreamInfo* raw = nullptr;
  natsStatus s = js_GetStreamInfo(&raw, impl_->js.get(), ("KV_" + bucket).c_str(), &o, &jerr);
  stream_info_ptr si(raw);
  std::vector<std::string> keys;
  if (s == NATS_NOT_FOUND)
    return keys;
  if (s != NATS_OK)
    return fail("cannot list the keys of " + bucket, s, jerr);
  if (const auto* subjects = si->State.Subjects; subjects != nullptr)
    for (int i = 0; i < subjects->Count; ++i)
      if (std::string_view subject(subjects->List[i].Subject); subject.substr(0, prefix.size()) == prefix)
        keys.emplace_back(subject.substr(prefix.size()));
  std::sort(keys.begin(), keys.end());
  return keys;
}

// --- pull_consumer ----------------------------------------------------------------------------

struct pull_consumer::impl {
  jetstream* owner = nullptr;
  spec cfg;
  sub_ptr sub;               ///< core subscription on inbox.*
  std::string inbox;         ///< "_INBOX.<nuid>"
  std::string next_subject;  ///< $JS.API.CONSUMER.MSG.NEXT.<stream>.<durable>
  std::uint64_t request = 0; ///< number of the current pull request
};

namespace {

// Metadata of a pulled message from its reply subject:
// $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ts>.<pending>, or the newer
// form with <domain>.<account hash> after $JS.ACK (and a trailing token).
void parse_ack_subject(std::string_view reply, js_message::handle& h) {
  // At most 12 tokens are read (no allocation per message: this runs for every delivery).
  std::array<std::string_view, 12> t{};
  std::size_t n = 0;
  while (!reply.empty()) {
    if (n == t.size())
      return; // not a form we know
    auto dot = reply.find('.');
    t[n++] = reply.substr(0, dot);
    reply = dot == std::string_view::npos ? std::string_view{} : reply.substr(dot + 1);
  }
  if (n < 9 || t[0] != "$JS" || t[1] != "ACK")
    return;
  const std::size_t base = n == 9 ? 4 : 6; // index of <delivered>
  if (n < base + 5)
    return;
  auto num = [](std::string_view v) {
    std::uint64_t x = 0;
    std::from_chars(v.data(), v.data() + v.size(), x);
    return x;
  };
  h.delivered = num(t[base]);
  h.seq = num(t[base + 1]);
  h.ts = static_cast<std::int64_t>(num(t[base + 3]));
  h.pending = num(t[base + 4]);
}

} // namespace

pull_consumer::pull_consumer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

mi::result<std::unique_ptr<pull_consumer>> pull_consumer::create(jetstream& js, spec sp) {
  jsCtx* ctx = js.internals().js.get();
  jsConsumerConfig cc;
  jsConsumerConfig_Init(&cc);
  cc.Durable = sp.durable.c_str();
  cc.AckPolicy = sp.ack_all ? js_AckAll : js_AckExplicit;
  cc.DeliverPolicy = js_DeliverAll;
  // A filter that is the stream's only subject selects every message: the consumer is created without it. nats-server
  // 2.9 counts a filtered consumer's pending messages by reading them (fileStore.FilteredState), and a consumer far
  // behind had that count redone while it was served: most of a core for ~1,000 deliveries a second
  // (docs/performance.md §23). Unfiltered, the count is the stream's own.
  std::string filter = sp.filter_subject;
  if (!filter.empty()) {
    jsErrCode serr = jsErrCode(0);
    jsStreamInfo* si_raw = nullptr;
    natsStatus ss = js_GetStreamInfo(&si_raw, ctx, sp.stream.c_str(), nullptr, &serr);
    stream_info_ptr si(si_raw);
    if (ss == NATS_OK && si->Config != nullptr && si->Config->SubjectsLen == 1 && filter == si->Config->Subjects[0])
      filter.clear();
  }
  cc.FilterSubject = filter.empty() ? nullptr : filter.c_str();
  cc.AckWait = sp.ack_wait.count();
  cc.MaxAckPending = sp.max_ack_pending;
  cc.MaxDeliver = sp.max_deliver;

  const std::string what = "consumer " + sp.durable + " on " + sp.stream;
  jsErrCode jerr = jsErrCode(0);
  jsConsumerInfo* raw = nullptr;
  natsStatus s = js_GetConsumerInfo(&raw, ctx, sp.stream.c_str(), sp.durable.c_str(), nullptr, &jerr);
  consumer_info_ptr existing(raw);
  raw = nullptr;
  const bool absent = s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr;
  if (!absent && s != NATS_OK)
    return fail("cannot look up " + what, s, jerr);
  // nats-server cannot change a durable's ack policy: one with the other policy is created again where it stands.
  // Everything up to its ack floor was acked; what was delivered above it and not acked is delivered again (the
  // savers recognise what they stored by its stream sequence or key).
  const bool recreate = !absent && existing->Config != nullptr && existing->Config->AckPolicy != cc.AckPolicy;
  const std::uint64_t floor = recreate ? existing->AckFloor.Stream : 0;
  if (recreate) {
    jerr = jsErrCode(0);
    s = js_DeleteConsumer(ctx, sp.stream.c_str(), sp.durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK && s != NATS_NOT_FOUND)
      return fail("cannot delete " + what + " to change its ack policy", s, jerr);
    cc.DeliverPolicy = js_DeliverByStartSequence;
    cc.OptStartSeq = floor + 1;
  }
  jerr = jsErrCode(0);
  if (absent || recreate) {
    s = js_AddConsumer(&raw, ctx, sp.stream.c_str(), &cc, nullptr, &jerr);
    consumer_info_ptr created(raw);
    if (s != NATS_OK)
      return fail("cannot create " + what, s, jerr);
    if (recreate)
      spdlog::warn("{}: ack policy changed to {} (created again after its ack floor {})", what,
                   sp.ack_all ? "AckAll" : "explicit", floor);
  } else {
    s = js_UpdateConsumer(&raw, ctx, sp.stream.c_str(), &cc, nullptr, &jerr);
    consumer_info_ptr updated(raw); // a durable created with the filter loses it here, keeping its position
    if (s != NATS_OK)
      return fail("cannot update " + what, s, jerr);
  }

  // Pull requests are plain NATS requests to the consumer's "next" API with our own inbox:
  // nats.c 3.4.1's natsSubscription_Fetch can write past its message array when messages of
  // an earlier (expired) pull are still queued, which corrupted the heap under load.
  auto p = std::make_unique<impl>();
  p->owner = &js;
  auto inbox = new_inbox();
  if (!inbox)
    return mi::error{"cannot create an inbox for " + what};
  p->inbox = std::move(*inbox);
  p->next_subject = "$JS.API.CONSUMER.MSG.NEXT." + sp.stream + "." + sp.durable;
  natsSubscription* raw_sub = nullptr;
  s = natsConnection_SubscribeSync(&raw_sub, js.internals().nc.get(), (p->inbox + ".*").c_str());
  if (s != NATS_OK)
    return fail("cannot subscribe for " + what, s);
  // A pull delivers at most max_ack_pending messages; let them all queue without slow-consumer drops.
  natsSubscription_SetPendingLimits(raw_sub, -1, -1);
  p->cfg = std::move(sp);
  adopt(p->sub, raw_sub, "the pull requests of " + what);
  return std::unique_ptr<pull_consumer>(new pull_consumer(std::move(p)));
}

mi::result<std::vector<js_message>> pull_consumer::fetch(int max, std::chrono::milliseconds timeout,
                                                         std::chrono::milliseconds gather) {
  std::vector<js_message> out;
  if (max <= 0)
    return out;
  auto& im = *impl_;
  natsConnection* nc = im.owner->internals().nc.get();
  // The server ends the request a little before we stop waiting, so its 408 usually arrives.
  const auto expires = std::max<std::int64_t>(1, timeout.count() - 20) * 1'000'000;
  const std::string reply = im.inbox + "." + std::to_string(++im.request);
  const std::string body = "{\"batch\":" + std::to_string(max) + ",\"expires\":" + std::to_string(expires) + "}";
  natsStatus s = natsConnection_PublishRequestString(nc, im.next_subject.c_str(), reply.c_str(), body.c_str());
  if (s != NATS_OK)
    return fail("fetch from " + im.cfg.durable, s);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (static_cast<int>(out.size()) < max) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline)
      break;
    // Rounded up: truncated, the last millisecond read as 0 and the fetch returned at once without waiting, so a
    // caller looping until its own deadline sent a pull request every few µs in that millisecond (docs/performance.md
    // 17b: ~1,900 requests a second at the end of the trade saver's batch windows).
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    if (gather.count() > 0 && !out.empty()) {
      // Once the batch has begun, wait for the rest in slices instead of waking up for each delivery (nats.c
      // signals a waiting reader per message: a thread switch per message at a steady trickle).
      if (none_queued(im.sub.get())) {
        std::this_thread::sleep_for(std::min(left, gather));
        continue;
      }
    }
    natsMsg* raw = nullptr;
    s = natsSubscription_NextMsg(&raw, im.sub.get(), left.count());
    if (s == NATS_TIMEOUT)
      continue; // nats.c's wait ends on its millisecond clock's tick, up to 1 ms early: the loop checks the deadline
    if (s != NATS_OK) {
      if (out.empty())
        return fail("fetch from " + im.cfg.durable, s);
      break;
    }
    msg_ptr m(raw);
    const char* status = nullptr;
    if (natsMsg_GetDataLength(raw) == 0 && natsMsgHeader_Get(raw, "Status", &status) == NATS_OK && status) {
      // 100: heartbeat; 404/408/409: this (or an older) request is over.
      if (std::strcmp(status, "100") == 0)
        continue;
      if (reply == natsMsg_GetSubject(raw))
        break;
      continue; // the end of an older request
    }
    // A delivery, possibly for an older request that the server filled late: still ours to ack.
    auto h = std::make_unique<js_message::handle>();
    if (const char* r = natsMsg_GetReply(raw))
      parse_ack_subject(r, *h);
    h->nc = nc;
    h->msg = std::move(m);
    out.push_back(js_message(std::move(h)));
  }
  return out;
}

namespace {
mi::result<consumer_info_ptr> consumer_info(pull_consumer::impl& im) {
  jsErrCode jerr = jsErrCode(0);
  jsConsumerInfo* raw = nullptr;
  natsStatus s = js_GetConsumerInfo(&raw, im.owner->internals().js.get(), im.cfg.stream.c_str(), im.cfg.durable.c_str(),
                                    nullptr, &jerr);
  consumer_info_ptr ci(raw);
  if (s != NATS_OK)
    return fail("cannot read consumer " + im.cfg.durable, s, jerr);
  return ci;
}
} // namespace

mi::result<std::uint64_t> pull_consumer::pending() {
  auto ci = consumer_info(*impl_);
  if (!ci)
    return ci.err();
  return (*ci)->NumPending + static_cast<std::uint64_t>((*ci)->NumAckPending);
}

mi::result<std::uint64_t> pull_consumer::ack_floor() {
  auto ci = consumer_info(*impl_);
  if (!ci)
    return ci.err();
  return (*ci)->AckFloor.Stream;
}

bool pull_consumer::acks_all() const { return impl_->cfg.ack_all; } // create() made the policy so

pull_consumer::~pull_consumer() {
  // The consumer was created explicitly, so unsubscribing leaves it on the server.
  if (impl_->sub)
    natsSubscription_Unsubscribe(impl_->sub.get());
}

// --- ordered_consumer -------------------------------------------------------------------------

struct ordered_consumer::impl {
  std::function<void(js_message&&)> on_message;
  sub_ptr sub;
  std::mutex mu;
  std::condition_variable cv;
  bool complete = false;
  // stream_gaps::fill: the stream read from directly (nullptr: gaps ignored).
  jetstream* js = nullptr;
  std::string stream;
  sequence_follower follower;
  /// Delivers the skipped sequences (on the consumer's thread, before the message after them).
  void fill(const sequence_follower::step& gap);
};

void ordered_consumer::impl::fill(const sequence_follower::step& gap) {
  // Every skipped sequence is read back, one request each (a handful was seen); the warning says how long it took.
  std::uint64_t delivered = 0, deleted = 0, unreadable = 0;
  const auto started = std::chrono::steady_clock::now();
  for (std::uint64_t seq = gap.missing_from; seq < gap.missing_from + gap.missing_count; ++seq) {
    auto got = js->get_message(stream, seq);
    for (int attempt = 1; !got && attempt < 5; ++attempt) { // the stream's leader may be moving
      std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
      got = js->get_message(stream, seq);
    }
    if (!got) {
      ++unreadable;
      spdlog::error("nats: {} message {} skipped by the consumer cannot be read: {}", stream, seq, got.err().message);
    } else if (!got->has_value()) {
      ++deleted;
    } else {
      ++delivered;
      on_message(std::move(**got));
    }
  }
  spdlog::warn(
    "nats: the ordered consumer of {} skipped {} message(s) from sequence {}: {} read from the stream, {} "
    "deleted, {} unreadable ({} ms)",
    stream, gap.missing_count, gap.missing_from, delivered, deleted, unreadable,
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started).count());
}

namespace {

void on_ordered_msg(natsConnection*, natsSubscription*, natsMsg* msg, void* closure) {
  auto* p = static_cast<ordered_consumer::impl*>(closure);
  js_message m = from_consumer(msg);
  if (p->js != nullptr) {
    auto step = p->follower.arrive(m.stream_seq());
    if (step.duplicate)
      return;
    if (step.missing_count > 0)
      p->fill(step);
  }
  p->on_message(std::move(m));
}

void on_ordered_complete(void* closure) {
  auto* p = static_cast<ordered_consumer::impl*>(closure);
  std::lock_guard lock(p->mu);
  p->complete = true;
  p->cv.notify_all();
}

} // namespace

ordered_consumer::ordered_consumer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}

std::unique_ptr<ordered_consumer> ordered_consumer::make(std::unique_ptr<impl> p) {
  return std::unique_ptr<ordered_consumer>(new ordered_consumer(std::move(p)));
}

namespace {
/// Where an ordered consumer starts: a sequence (0 = new messages only) or a store time.
struct ordered_start {
  std::uint64_t seq = 0;
  std::int64_t time_ns = -1;
};
mi::result<std::unique_ptr<ordered_consumer>> start_ordered(jetstream& js, const std::string& stream,
                                                            const std::string& filter_subject, ordered_start from,
                                                            std::function<void(js_message&&)> on_message,
                                                            stream_gaps gaps = stream_gaps::ignore);
} // namespace

mi::result<std::unique_ptr<ordered_consumer>>
ordered_consumer::start(jetstream& js, const std::string& stream, const std::string& filter_subject,
                        std::uint64_t start_seq, std::function<void(js_message&&)> on_message, stream_gaps gaps) {
  return start_ordered(js, stream, filter_subject, {start_seq, -1}, std::move(on_message), gaps);
}

mi::result<std::unique_ptr<ordered_consumer>>
ordered_consumer::start_at_time(jetstream& js, const std::string& stream, const std::string& filter_subject,
                                std::int64_t start_ns, std::function<void(js_message&&)> on_message) {
  return start_ordered(js, stream, filter_subject, {0, start_ns}, std::move(on_message));
}

namespace {
mi::result<std::unique_ptr<ordered_consumer>> start_ordered(jetstream& js, const std::string& stream,
                                                            const std::string& filter_subject, ordered_start from,
                                                            std::function<void(js_message&&)> on_message,
                                                            stream_gaps gaps) {
  const std::uint64_t start_seq = from.seq;
  std::string subject = filter_subject;
  if (subject.empty()) {
    // An ordered consumer needs a subject: the stream's own, when it has exactly one.
    jsErrCode jerr = jsErrCode(0);
    jsStreamInfo* raw = nullptr;
    natsStatus s = js_GetStreamInfo(&raw, js.internals().js.get(), stream.c_str(), nullptr, &jerr);
    stream_info_ptr si(raw);
    if (s != NATS_OK)
      return fail("cannot read stream " + stream, s, jerr);
    if (si->Config == nullptr || si->Config->SubjectsLen != 1)
      return mi::error{"ordered consumer on " + stream + " needs a filter subject"};
    subject = si->Config->Subjects[0];
  }
  auto p = std::make_unique<ordered_consumer::impl>();
  p->on_message = std::move(on_message);
  if (gaps == stream_gaps::fill) {
    p->js = &js;
    p->stream = stream;
  }

  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream.c_str();
  so.Ordered = true;
  if (from.time_ns >= 0) {
    so.Config.DeliverPolicy = js_DeliverByStartTime;
    so.Config.OptStartTime = from.time_ns;
  } else if (start_seq == 0) {
    so.Config.DeliverPolicy = js_DeliverNew;
  } else {
    so.Config.DeliverPolicy = js_DeliverByStartSequence;
    so.Config.OptStartSeq = start_seq;
  }
  natsSubscription* raw_sub = nullptr;
  jsErrCode jerr = jsErrCode(0);
  natsStatus s =
    js_Subscribe(&raw_sub, js.internals().js.get(), subject.c_str(), on_ordered_msg, p.get(), nullptr, &so, &jerr);
  if (s != NATS_OK)
    return fail("cannot start ordered consumer on " + stream + " (" + subject + ")", s, jerr);
  adopt(p->sub, raw_sub, "an ordered consumer on " + stream + " (" + subject + ")");
  s = natsSubscription_SetOnCompleteCB(raw_sub, on_ordered_complete, p.get());
  if (s != NATS_OK) {
    natsSubscription_Unsubscribe(raw_sub);
    // Without the completion callback we cannot know when the last callback returned.
    return fail("cannot watch ordered consumer on " + stream, s);
  }
  return ordered_consumer::make(std::move(p));
}
} // namespace

ordered_consumer::~ordered_consumer() {
  natsStatus s = natsSubscription_Unsubscribe(impl_->sub.get());
  std::unique_lock lock(impl_->mu);
  if (s == NATS_OK) {
    impl_->cv.wait(lock, [this] { return impl_->complete; });
  } else {
    // Already closed with its connection: its thread completes on its own.
    impl_->cv.wait_for(lock, std::chrono::seconds(5), [this] { return impl_->complete; });
  }
}

mi::result<bool> jetstream::publish_core(const std::string& subject, std::string_view data,
                                         std::chrono::milliseconds timeout) {
  natsStatus s = natsConnection_Publish(impl_->nc.get(), subject.c_str(), data.data(), static_cast<int>(data.size()));
  if (s == NATS_OK)
    s = natsConnection_FlushTimeout(impl_->nc.get(), timeout.count());
  if (s != NATS_OK)
    return fail("cannot publish on " + subject, s);
  return true;
}

mi::result<bool> jetstream::publish_core_buffered(const outgoing& m) {
  msg_ptr msg;
  if (auto made = make_msg(msg, m); !made)
    return made.err();
  natsStatus s = natsConnection_PublishMsg(impl_->nc.get(), msg.get());
  if (s != NATS_OK)
    return fail("cannot publish on " + m.subject, s);
  return true;
}

core_subscription::core_subscription(std::unique_ptr<ordered_consumer> same_lifecycle)
    : sub_(std::move(same_lifecycle)) {}

core_subscription::~core_subscription() = default;

mi::result<std::unique_ptr<core_subscription>> core_subscription::start(jetstream& js, const std::string& subject,
                                                                        std::function<void(js_message&&)> on_message) {
  auto p = std::make_unique<ordered_consumer::impl>();
  p->on_message = std::move(on_message);
  natsSubscription* raw_sub = nullptr;
  natsStatus s = natsConnection_Subscribe(&raw_sub, js.internals().nc.get(), subject.c_str(), on_ordered_msg, p.get());
  if (s != NATS_OK)
    return fail("cannot subscribe to " + subject, s);
  adopt(p->sub, raw_sub, "the subscription to " + subject);
  s = natsSubscription_SetOnCompleteCB(raw_sub, on_ordered_complete, p.get());
  if (s != NATS_OK) {
    natsSubscription_Unsubscribe(raw_sub);
    return fail("cannot watch subscription " + subject, s);
  }
  // Make sure the server knows the subscription before we report it as started.
  natsConnection_FlushTimeout(js.internals().nc.get(), 2000);
  return std::unique_ptr<core_subscription>(new core_subscription(ordered_consumer::make(std::move(p))));
}

} // namespace mi::gw
