#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"
#include "gateways/push/push_protocol.hpp"
#include "gateways/push/push_server.hpp"

namespace mi::gw {
class metrics;
class jetstream;
} // namespace mi::gw

namespace mi::actors {

struct push_hub_args {
  mi::gw::metrics* metrics = nullptr;
  std::size_t max_channels = 100; ///< per client
  /// MARKET_RAW for trade.* channels: one ordered consumer per subscribed symbol (new messages only),
  /// opened at the channel's first subscriber and closed after its last. nullptr: trade channels get nothing.
  mi::gw::jetstream* js = nullptr;
  std::string raw_stream = "MARKET_RAW";
  std::size_t max_trade_feeds = 1000; ///< server-wide: trade channels with a feed open at once
  /// Asks which of these API key ids are revoked or gone (blocking work: run it elsewhere), and
  /// answers the hub with (revoked_atom, std::vector<std::string>) at `reply_to`. Empty: no re-check.
  std::function<void(std::vector<std::string> key_ids, caf::actor reply_to)> check_keys;
  std::chrono::milliseconds key_check_interval{30000}; ///< how often check_keys runs over open sessions
  /// What a client's full queue does with one more message, by mi::gw::channel_kind (kline, trade, book, bbo, doc,
  /// quote, status).
  /// Book channels always conflate by a fresh snapshot (the session's book logic); the entry is unused. Documents
  /// are each their own: drop, never conflate.
  std::array<mi::gw::slow_policy, std::size(mi::gw::channel_kinds)> policies{
    mi::gw::slow_policy::conflate, mi::gw::slow_policy::drop, mi::gw::slow_policy::conflate,
    mi::gw::slow_policy::conflate, mi::gw::slow_policy::drop, mi::gw::slow_policy::conflate,
    mi::gw::slow_policy::conflate};
  /// MARKET_KLINE: kline channels resume from it ({"since":...}); trade channels from raw_stream.
  std::string kline_stream = "MARKET_KLINE";
  std::size_t resume_max = 10000; ///< stored messages replayed per channel at most (older: a gap message)
  std::size_t queue_limit = 256;  ///< the server's per-client queue: a replay keeps at most half of it filled
};

/// The push gateway's router: one client_session actor per WebSocket client (its protocol,
/// its subscriptions), and the channel index that fans each kline, trade and BBO out to the subscribed
/// sessions. A message is encoded to JSON once and shared by every receiver, and the hub hands it to each
/// client's queue directly (push_session::send_data: no mailbox message per client); each client's bounded
/// queue (in gw::push_server) applies the channel kind's slow_policy when full. A session
/// confirms each client frame it handled (push_session::text_done), so a client can never have
/// more than the server's max_pending_frames messages in the mailboxes.
/// Wildcard subscriptions ("kline.binance.*.1m") are expanded against the channels the hub has seen and each
/// new channel it sees; resumes ({"since":...}) are read by a detached replay worker and spliced with the live
/// messages by stream sequence (gw::resume_splice), paced by the client's queue.
/// Accepts: (c_open_atom, session_ptr), (c_text_atom, client_id, std::string),
///          (c_close_atom, client_id) from the server's io thread;
///          (kmsg_atom, std::string subject, std::string payload, std::uint64_t stream_seq, std::int64_t ts_ns)
///          from the MARKET_KLINE consumer (new messages only, never history) and market.partial.> (seq 0);
///          (tmsg_atom, subject, payload, stream_seq, ts_ns) from the trade feeds it opens itself;
///          (dmsg_atom, std::string subject, std::string payload) from the MARKET_DOC consumer: a document to
///          channels doc.{source} and doc.symbol.{symbol} (documents are never conflated: policy `drop`);
///          (revoked_atom, std::vector<std::string> key_ids): closes the sessions opened with those
///          keys (1008 "api key revoked"), from `market.control.apikey.revoked` or check_keys;
///          (clients_atom) -> std::string: the clients as JSON, most messages dropped first (the console's push
///          section: [{"id","peer","key_id","dropped"}], at most 20);
///          (kick_atom, client_id) -> bool: closes that client (1008 "disconnected by an operator"), false if unknown;
///          (stop_atom).
/// Sessions are monitored: a session actor that dies with an error is removed from the index,
/// its client closed with 1011, and counted (mi_push_sessions_failed_total).
caf::actor spawn_push_hub(caf::actor_system& sys, push_hub_args args);

} // namespace mi::actors
