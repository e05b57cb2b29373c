#pragma once

// Every message type and atom of the platform's actors, in one place.
// Messages never leave the process through CAF (JetStream bridges processes and nodes), so
// types holding exact decimals or shared pointers are allowed as local-only message types.

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "caf/allowed_unsafe_message_type.hpp"
#include "caf/atom.hpp"
#include "caf/fwd.hpp"
#include "caf/meta/type_name.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/push/push_server.hpp"
#include "messages/kline.hpp"
#include "messages/trade.hpp"

namespace mi::actors {

// Atom texts are at most 10 characters (CAF 0.17) and prefixed to never collide with CAF's own.
using pub_atom = caf::atom_constant<caf::atom("mi_pub")>;         ///< publish a batch
using resume_atom = caf::atom_constant<caf::atom("mi_resume")>;   ///< in-flight acks fell
using retry_atom = caf::atom_constant<caf::atom("mi_retry")>;     ///< try again after a failure
using connect_atom = caf::atom_constant<caf::atom("mi_connect")>; ///< (re)connect now
using rotate_atom = caf::atom_constant<caf::atom("mi_rotate")>;   ///< planned connection rotation
using ws_open_atom = caf::atom_constant<caf::atom("mi_wsopen")>;
using ws_text_atom = caf::atom_constant<caf::atom("mi_wstext")>;
using ws_close_atom = caf::atom_constant<caf::atom("mi_wsclose")>;
using ws_frames_atom = caf::atom_constant<caf::atom("mi_wsframe")>; ///< frames are waiting in the inbox
using send_atom = caf::atom_constant<caf::atom("mi_send")>;         ///< paced control messages
using close_old_atom = caf::atom_constant<caf::atom("mi_closeol")>;
using raw_atom = caf::atom_constant<caf::atom("mi_raw")>; ///< MARKET_RAW messages wait in the reader's inbox
using trade_atom = caf::atom_constant<caf::atom("mi_trade")>;
using tick_atom = caf::atom_constant<caf::atom("mi_tick")>;
using final_atom = caf::atom_constant<caf::atom("mi_final")>;
using ckpt_atom = caf::atom_constant<caf::atom("mi_ckpt")>;
using global_atom = caf::atom_constant<caf::atom("mi_global")>;
using stop_atom = caf::atom_constant<caf::atom("mi_stop")>; ///< graceful stop request
using restart_atom = caf::atom_constant<caf::atom("mi_restart")>;
using batch_atom = caf::atom_constant<caf::atom("mi_batch")>;
using c_open_atom = caf::atom_constant<caf::atom("mi_copen")>; ///< push client connected
using c_text_atom = caf::atom_constant<caf::atom("mi_ctext")>;
using c_close_atom = caf::atom_constant<caf::atom("mi_cclose")>;
using kmsg_atom = caf::atom_constant<caf::atom("mi_kmsg")>; ///< a MARKET_KLINE message
using chsub_atom = caf::atom_constant<caf::atom("mi_chsub")>;
using chunsub_atom = caf::atom_constant<caf::atom("mi_chunsub")>;
using push_atom = caf::atom_constant<caf::atom("mi_push")>;
using tmsg_atom = caf::atom_constant<caf::atom("mi_tmsg")>;       ///< a MARKET_RAW message for trade.* channels
using revoked_atom = caf::atom_constant<caf::atom("mi_revoked")>; ///< API keys revoked: close their sessions
using keychk_atom = caf::atom_constant<caf::atom("mi_keychk")>;   ///< time to re-check the keys of sessions
using status_atom = caf::atom_constant<caf::atom("mi_status")>;
using close_atom = caf::atom_constant<caf::atom("mi_close")>;      ///< a window's close deadline
using idle_atom = caf::atom_constant<caf::atom("mi_idle")>;        ///< a symbol_window may passivate
using supsd_atom = caf::atom_constant<caf::atom("mi_supsd")>;      ///< a final the stream holds with other values
using gap_atom = caf::atom_constant<caf::atom("mi_gap")>;          ///< backfill a gap of trade ids
using recent_atom = caf::atom_constant<caf::atom("mi_recent")>;    ///< fetch a symbol's recent trades
using page_atom = caf::atom_constant<caf::atom("mi_page")>;        ///< backfill: fetch the next page
using wdog_atom = caf::atom_constant<caf::atom("mi_wdog")>;        ///< connection: heartbeat + watchdog tick
using audit_atom = caf::atom_constant<caf::atom("mi_audit")>;      ///< run the scheduled audit
using bookrest_atom = caf::atom_constant<caf::atom("mi_bookrst")>; ///< a REST order-book snapshot (ask / answer)
using bmsg_atom = caf::atom_constant<caf::atom("mi_bmsg")>;        ///< a MARKET_BOOK or market.bbo.* message
using smsg_atom = caf::atom_constant<caf::atom("mi_smsg")>;        ///< a MARKET_STATUS message for status.* channels
using qmsg_atom = caf::atom_constant<caf::atom("mi_qmsg")>;        ///< a MARKET_QUOTE message for quote.* channels
using dmsg_atom = caf::atom_constant<caf::atom("mi_dmsg")>;        ///< a MARKET_DOC message for doc.* channels
using book_atom = caf::atom_constant<caf::atom("mi_book")>;        ///< a book frame for a client session
using bsnap_atom = caf::atom_constant<caf::atom("mi_bsnap")>;      ///< a session lost a book delta: send a snapshot
using passive_atom = caf::atom_constant<caf::atom("mi_passive")>;  ///< a passivated window's state is stored
using clients_atom = caf::atom_constant<caf::atom("mi_clients")>;  ///< push hub: the clients, most drops first
using kick_atom = caf::atom_constant<caf::atom("mi_kick")>;        ///< push hub: an operator closes a client
using rawgap_atom = caf::atom_constant<caf::atom("mi_rawgap")>; ///< kline stage: is the local feed still missing a seq?
using lease_atom = caf::atom_constant<caf::atom("mi_lease")>;   ///< time for a round of the kline leases
using replay_atom = caf::atom_constant<caf::atom("mi_replay")>; ///< push: read a resumed channel's stored range
using rtick_atom = caf::atom_constant<caf::atom("mi_rtick")>;
using oirest_atom = caf::atom_constant<caf::atom("mi_oirest")>; ///< derivatives: a REST open-interest request / answer
                                                                ///< ///< push: hand replayed frames to the clients

/// Frames to publish: each is already encoded at the edge (protobuf never crosses a mailbox).
using outgoing_batch = std::vector<mi::gw::outgoing>;
using trade_list = std::vector<mi::trade>;
/// A symbol window's trades of one take of the kline reader's inbox, in stream order, with their sequences.
using sequenced_trades = std::vector<std::pair<mi::trade, std::uint64_t>>;
using kline_list = std::vector<mi::kline>;
using session_ptr = std::shared_ptr<mi::gw::push_session>;
using shared_text = std::shared_ptr<const std::string>;

/// A push client's subscribe request as the session hands it to the hub (channels may be patterns).
struct subscribe_request {
  std::vector<std::string> channels;
  std::vector<std::pair<std::string, std::uint64_t>> since; ///< resume points
  bool snapshot = false;                                    ///< the current candle of kline channels first
};

/// A replay worker's answer: the stored messages after the resume point, encoded (oldest first).
struct replay_result {
  bool ok = false;
  std::string error; ///< when !ok
  std::vector<std::pair<std::uint64_t, shared_text>> frames;
  std::uint64_t gap_from = 0, gap_to = 0; ///< gap_to > 0: these sequences are not replayed
};

} // namespace mi::actors

namespace mi::gw {
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, outgoing& x) {
  return f(caf::meta::type_name("outgoing"), x.subject, x.msg_id, x.content_type, x.data);
}
} // namespace mi::gw

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::trade)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::trade_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::sequenced_trades)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::kline_list)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::session_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::shared_text)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::subscribe_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(mi::actors::replay_result)
