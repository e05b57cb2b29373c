#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>
#include <vector>

#include "caf/actor.hpp"
#include "caf/fwd.hpp"

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
};

/// The push gateway's router: one client_session actor per WebSocket client (its protocol,
/// its subscriptions), and the channel index that fans each kline and trade out to the subscribed
/// sessions. A message is encoded to JSON once and shared by every receiver; each client's
/// bounded queue (in gw::push_server) drops that client's newest messages when full. A session
/// confirms each client frame it handled (push_session::text_done), so a client can never have
/// more than the server's max_pending_frames messages in the mailboxes.
/// Accepts: (c_open_atom, session_ptr), (c_text_atom, client_id, std::string),
///          (c_close_atom, client_id) from the server's io thread;
///          (kmsg_atom, std::string subject, std::string payload) from the MARKET_KLINE
///          consumer (new messages only, never history);
///          (dmsg_atom, std::string subject, std::string payload) from the MARKET_DOC consumer: a document to
///          channels doc.{source} and doc.symbol.{symbol};
///          (revoked_atom, std::vector<std::string> key_ids): closes the sessions opened with those
///          keys (1008 "api key revoked"), from `market.control.apikey.revoked` or check_keys;
///          (stop_atom).
/// Sessions are monitored: a session actor that dies with an error is removed from the index,
/// its client closed with 1011, and counted (mi_push_sessions_failed_total).
caf::actor spawn_push_hub(caf::actor_system& sys, push_hub_args args);

} // namespace mi::actors
