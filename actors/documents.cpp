#include "actors/documents.hpp"

#include <thread>

#include <spdlog/spdlog.h>

#include "actors/caf_types.hpp"
#include "actors/inspection.hpp"
#include "actors/ws_events.hpp"
#include "actors/row_saver.hpp"
#include "caf/actor_system.hpp"
#include "caf/event_based_actor.hpp"
#include "caf/stateful_actor.hpp"
#include "connectors/documents/news_stream.hpp"
#include "connectors/transport/backoff.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/jetstream/sync_publish.hpp"
#include "gateways/metrics/metrics.hpp"
#include "gateways/postgres/document_store.hpp"
#include "messages/util/clock.hpp"
#include "messages/util/json_writer.hpp"

namespace mi::actors {
namespace {

namespace docs = mi::documents;
using mi::util::now_ns;

// A publish of a document: three quick attempts; a document lost to a longer outage comes back with the next poll
// (feeds list their recent items every time, and the dedup id makes the repeat harmless).
constexpr mi::gw::retry_policy doc_publish{std::chrono::milliseconds(50), std::chrono::milliseconds(1000), 3};

std::vector<std::string> outcome_names() {
  std::vector<std::string> out;
  for (auto o : docs::all_request_outcomes)
    out.emplace_back(docs::to_string(o));
  return out;
}

struct source_state {
  static inline const char* name = "mi.document_source";
  document_source_args args;
  std::unique_ptr<docs::source_poller> poller;
  mi::gw::source_probe* probe = nullptr;
  // alpaca's news stream (args.stream_url): one connection at a time, numbered; frames of an older one are ignored
  std::shared_ptr<mi::net::ws_client> ws;
  std::uint64_t gen = 0;
  std::optional<docs::news_stream_session> session;
  std::optional<mi::net::backoff> backoff;
  bool stopping = false;

  source_state() = default;
  source_state(const source_state&) = delete;
  source_state& operator=(const source_state&) = delete;
  ~source_state() {
    if (ws)
      ws->close();
  }
};
using source_actor = caf::stateful_actor<source_state>;

// Publishes documents to MARKET_DOC; returns how many JetStream acknowledged.
std::uint64_t publish_documents(source_actor* self, const std::vector<mi::document>& documents) {
  auto& st = self->state;
  std::uint64_t published = 0;
  for (const auto& d : documents) {
    mi::gw::outgoing m;
    m.subject = mi::doc_subject(d.source, d.kind);
    m.msg_id = mi::dedup_id(d);
    m.content_type = std::string(mi::document_content_type);
    m.data = mi::encode_document_pb(d);
    m.event_ts_ns = d.published_at_ns;
    if (auto r = mi::gw::publish_acked(*st.args.js, m, doc_publish); r)
      ++published;
    else
      spdlog::warn("documents {}: publish {}: {}", st.args.settings.source, m.msg_id, r.err().message);
  }
  return published;
}

// One request (blocking), its answer to the poller, its documents to JetStream; returns the wait before the next.
std::chrono::nanoseconds step(source_actor* self) {
  auto& st = self->state;
  auto next = st.poller->next(now_ns());
  if (auto* wait = std::get_if<std::int64_t>(&next))
    return std::chrono::nanoseconds(std::max<std::int64_t>(*wait, 1'000'000));
  const auto& req = std::get<docs::source_request>(next);
  std::optional<docs::source_response> res;
  std::string network_error;
  if (auto u = mi::net::parse_url(req.url); !u) {
    network_error = u.err().message;
  } else {
    auto r = mi::net::http_post_form(*u, st.args.timeout, req.headers, req.form ? &*req.form : nullptr);
    if (!r) {
      network_error = r.err().message;
    } else {
      res = docs::source_response{static_cast<int>(r->status), std::move(r->body), std::string(r->header("etag")),
                                  std::string(r->header("last-modified")), std::string(r->header("retry-after"))};
    }
  }
  const std::string& source = st.args.settings.source;
  auto out = st.poller->on_response(req, res, network_error, now_ns());
  st.probe->request(static_cast<std::size_t>(out.outcome));
  st.probe->circuit(static_cast<int>(st.poller->state()));
  inspect_state(self, to_string(st.poller->state()));
  if (!out.error.empty()) {
    spdlog::warn("documents {}: {} {}: {} (circuit {})", source, req.what, req.item.empty() ? req.url : req.item,
                 out.error, to_string(st.poller->state()));
    inspect_error(self, out.error);
  }
  st.probe->published(publish_documents(self, out.documents));
  if (out.gap) {
    st.probe->gap();
    mi::gw::outgoing g;
    g.subject = "market.gap." + source + ".documents";
    g.msg_id = "gap:" + source + ":" + std::to_string(out.gap->from_ns) + ":" + std::to_string(out.gap->to_ns);
    g.content_type = "application/json";
    g.data = document_gap_json(source, *out.gap);
    if (auto r = mi::gw::publish_acked(*st.args.js, g, doc_publish); !r)
      spdlog::warn("documents {}: gap report: {}", source, r.err().message);
    spdlog::warn("documents {}: unreachable for longer than its backfill horizon: {}", source, g.data);
  }
  return std::chrono::nanoseconds(0);
}

// The news stream (alpaca): a new connection; its events come back as messages tagged with its number.
void open_stream(source_actor* self) {
  auto& st = self->state;
  auto u = mi::net::parse_url(st.args.stream_url);
  if (!u) { // validated at config load: a programming error
    spdlog::error("documents {}: stream_url: {}", st.args.settings.source, u.err().message);
    return;
  }
  const std::uint64_t gen = ++st.gen;
  caf::actor me = caf::actor_cast<caf::actor>(self);
  auto h = ws_events(me, gen);
  mi::net::ws_options o;
  o.connect_timeout = st.args.timeout;
  o.read_timeout = st.args.stream_read_timeout;
  st.session.emplace(st.args.settings.key_id, st.args.settings.secret_key, st.args.settings.items);
  st.ws = mi::net::ws_client::create(st.args.io->context(), *u, o, std::move(h));
  st.ws->start();
  spdlog::info("documents {}: news stream connecting to {}", st.args.settings.source, st.args.stream_url);
}

void on_stream_text(source_actor* self, const std::string& text, std::int64_t recv_ns) {
  auto& st = self->state;
  const std::string& source = st.args.settings.source;
  auto step = st.session->on_frame(text, recv_ns);
  for (auto& f : step.send)
    st.ws->send(std::move(f)); // the auth frame holds the secret: never logged
  if (step.subscribed) {
    st.backoff->on_connected(now_ns());
    st.poller->stream_up(now_ns());
    spdlog::info("documents {}: news stream live (polls paused)", source);
    inspect_state(self, "streaming");
  }
  if (!step.error.empty()) {
    spdlog::warn("documents {}: news stream: {}", source, step.error);
    inspect_error(self, step.error);
  }
  if (!step.documents.empty()) {
    st.probe->published(publish_documents(self, step.documents), true);
    for (const auto& d : step.documents)
      st.poller->stream_seen(d, recv_ns);
  }
  if (step.fatal)
    st.ws->close(); // on_close reconnects with backoff
}

void on_stream_close(source_actor* self, const std::string& reason) {
  auto& st = self->state;
  st.ws.reset();
  st.session.reset();
  if (st.stopping)
    return;
  const bool was_live = st.poller->stream_live();
  st.poller->stream_down(now_ns());
  st.backoff->on_disconnected(now_ns());
  const auto delay = st.backoff->next_delay();
  spdlog::warn("documents {}: news stream closed ({}){}; reconnecting in {} ms", st.args.settings.source, reason,
               was_live ? ", polls catch up" : "", delay.count());
  inspect_state(self, "stream down");
  self->delayed_send(self, delay, connect_atom::value);
}

caf::behavior document_source(source_actor* self, document_source_args args) {
  auto& st = self->state;
  st.args = std::move(args);
  st.poller = std::make_unique<docs::source_poller>(st.args.settings, st.args.seed, now_ns());
  st.probe = &st.args.metrics->source(st.args.settings.source, outcome_names());
  st.probe->circuit(0);
  self->send(self, tick_atom::value);
  const std::string name = st.args.settings.source;
  caf::behavior handlers{
    [self](tick_atom) {
      const auto wait = step(self);
      // At most a second's sleep at a time: stop is never kept waiting longer.
      const auto capped = std::min<std::chrono::nanoseconds>(wait, std::chrono::seconds(1));
      if (capped.count() == 0)
        self->send(self, tick_atom::value);
      else
        self->delayed_send(self, std::chrono::ceil<std::chrono::milliseconds>(capped), tick_atom::value);
    },
    [self](connect_atom) {
      if (!self->state.stopping && !self->state.ws)
        open_stream(self);
    },
    [self](ws_open_atom, std::uint64_t gen) {
      if (gen == self->state.gen)
        spdlog::info("documents {}: news stream connected", self->state.args.settings.source);
    },
    [self](ws_text_atom, std::uint64_t gen, const std::string& text, std::int64_t recv_ns) {
      if (gen == self->state.gen && self->state.ws)
        on_stream_text(self, text, recv_ns);
    },
    [self](ws_close_atom, std::uint64_t gen, const std::string& reason) {
      if (gen == self->state.gen)
        on_stream_close(self, reason);
    },
    [self](stop_atom) {
      self->state.stopping = true;
      if (self->state.ws)
        self->state.ws->close();
      self->quit();
    },
  };
  if (!st.args.stream_url.empty() && st.args.io != nullptr) {
    st.backoff.emplace(std::chrono::seconds(1), std::chrono::seconds(60), std::chrono::seconds(30), st.args.seed);
    open_stream(self);
  }
  return inspected(self, "document_source", name, std::move(handlers));
}

} // namespace

std::string document_gap_json(const std::string& source, const mi::documents::source_gap& g) {
  std::string out = "{\"source\":";
  mi::util::append_json_string(out, source);
  out += ",\"from_ns\":" + std::to_string(g.from_ns) + ",\"to_ns\":" + std::to_string(g.to_ns);
  out += ",\"reason\":\"unreachable beyond the backfill horizon\"}";
  return out;
}

caf::actor spawn_document_source(caf::actor_system& sys, document_source_args args) {
  return sys.spawn<caf::detached>(document_source, std::move(args));
}

caf::actor spawn_document_saver(caf::actor_system& sys, document_saver_args args) {
  auto rows = std::make_shared<std::vector<mi::document>>();
  auto store = std::make_shared<std::unique_ptr<mi::gw::document_store>>(); // connected at the first write
  row_saver_args r;
  r.what = "documents saver";
  r.actor = "document_saver";
  r.js = args.js;
  r.stream = args.stream;
  r.durable = args.durable;
  r.batch = args.batch_size;
  r.wait = std::chrono::milliseconds(500);
  r.max_ack_pending = 4 * args.batch_size + 100;
  r.backoff_min = std::chrono::milliseconds(200);
  r.add = [rows](const mi::gw::js_message& m) -> mi::result<bool> {
    auto d = mi::decode_document_pb(m.data());
    if (!d)
      return d.err();
    rows->push_back(std::move(*d));
    return true;
  };
  r.write = [rows, store, dsn = args.dsn, metrics = args.metrics]() -> mi::result<bool> {
    struct clear_rows {
      std::vector<mi::document>& v;
      ~clear_rows() { v.clear(); }
    } clear{*rows};
    if (!*store) {
      auto s = mi::gw::document_store::connect(dsn);
      if (!s)
        return s.err();
      *store = std::move(*s);
    }
    auto w = (*store)->upsert(*rows);
    if (!w) {
      if (w.err().code == mi::errc::unavailable)
        store->reset(); // reconnect at the next write
      return w.err();
    }
    metrics->storage().documents_stored(w->inserted, w->revised, w->unchanged);
    return true;
  };
  return spawn_row_saver(sys, std::move(r));
}

} // namespace mi::actors
