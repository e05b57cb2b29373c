#pragma once

// The document sources' actors (issue 14; docs/operations.md "Documents"): one per source, and the store path of
// MARKET_DOC. Thin: the requests and their outcomes are connectors/documents source_poller, the rows
// gateways/postgres document_store.

#include <chrono>
#include <cstdint>
#include <string>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "connectors/documents/source_poller.hpp"

namespace mi::gw {
class jetstream;
class metrics;
} // namespace mi::gw

namespace mi::net {
class io_thread;
}

namespace mi::actors {

/// One document source.
struct document_source_args {
  mi::documents::source_settings settings;
  std::chrono::milliseconds timeout{10000}; ///< one request
  mi::gw::jetstream* js = nullptr;          ///< MARKET_DOC publishes and gap reports
  mi::gw::metrics* metrics = nullptr;
  std::uint64_t seed = 1; ///< the jitter
  /// alpaca: the news WebSocket ("" = polls only) and the io thread its socket runs on (required with a URL).
  std::string stream_url;
  mi::net::io_thread* io = nullptr;
  /// The stream's read deadline: no frame and no ping for this long -> reconnect (news can be quiet for minutes).
  std::chrono::milliseconds stream_read_timeout{600000};
};

/// Detached actor (HTTP calls block their own thread: a slow or broken source never delays another): asks its
/// source_poller what to send, sends it (mi::net::http_fetch / http_post_form), hands the answer back, and publishes
/// each document to market.doc.{source}.{kind} (Nats-Msg-Id `{source}:{native_id}:{revision}`: a repeated item is
/// one message, an update a new one). Counts mi_source_requests_total{source,outcome}, mi_source_circuit_state,
/// mi_documents_published_total; a gap (unreachable beyond the backfill horizon) is published as JSON on
/// market.gap.{source}.documents and counted. With a stream_url (alpaca) it also keeps the news WebSocket: connect,
/// auth, subscribe (connectors/documents news_stream_session), each `n` article published like a polled one
/// (mi_documents_published_total{path="stream"}), reconnect with backoff; while the stream is live the polls pause,
/// and each change of the stream's state triggers one catch-up poll from the last article seen (source_poller).
/// Accepts: (stop_atom) -> quits; ws_open_atom, ws_text_atom, ws_close_atom, connect_atom (its own socket).
caf::actor spawn_document_source(caf::actor_system& sys, document_source_args args);

/// The store path of MARKET_DOC.
struct document_saver_args {
  mi::gw::jetstream* js = nullptr;
  std::string stream = "MARKET_DOC";
  std::string durable = "saver_documents";
  std::string dsn;
  int batch_size = 200;
  mi::gw::metrics* metrics = nullptr;
};

/// Detached actor: durable pull consumer on the stream -> document_store::upsert (a repeated revision changes
/// nothing, a new one replaces the row) -> ack. A message that is not a market.v1.Document is terminated (logged);
/// a database outage leaves the batch un-acked (redelivered). mi_documents_stored_total{result}.
/// Accepts: (stop_atom) -> quits.
caf::actor spawn_document_saver(caf::actor_system& sys, document_saver_args args);

/// The gap report of a source (pure; tests decode it): {"source","from_ns","to_ns","reason"}.
std::string document_gap_json(const std::string& source, const mi::documents::source_gap& g);

} // namespace mi::actors
