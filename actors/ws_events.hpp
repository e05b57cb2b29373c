#pragma once

// The WebSocket client's callbacks as messages to an actor, tagged with the connection generation they belong to
// (an old connection's late events are then recognised and ignored): (ws_open_atom, gen),
// (ws_text_atom, gen, text, recv_ns), (ws_close_atom, gen, reason). Used by every actor that owns a ws_client.

#include <cstdint>
#include <memory>
#include <string>

#include "actors/caf_types.hpp"
#include "actors/inbox.hpp"
#include "caf/actor.hpp"
#include "caf/send.hpp"
#include "connectors/transport/ws_client.hpp"

namespace mi::actors {

inline mi::net::ws_handlers ws_events(caf::actor me, std::uint64_t gen) {
  mi::net::ws_handlers h;
  h.on_open = [me, gen] { caf::anon_send(me, ws_open_atom::value, gen); };
  h.on_text = [me, gen](std::string&& text, std::int64_t recv_ns) {
    caf::anon_send(me, ws_text_atom::value, gen, std::move(text), recv_ns);
  };
  h.on_close = [me, gen](std::string reason) { caf::anon_send(me, ws_close_atom::value, gen, std::move(reason)); };
  return h;
}

/// A text frame as the I/O thread read it.
struct ws_frame {
  std::string text;
  std::int64_t recv_ns = 0;
};
using frame_inbox = inbox<ws_frame>;

/// Like ws_events, but text frames go into `frames` and only a frame that finds it empty sends
/// (ws_frames_atom, gen, frames): the actor takes every frame queued when it gets to the message (actors/inbox.hpp).
inline mi::net::ws_handlers ws_inbox_events(caf::actor me, std::uint64_t gen, std::shared_ptr<frame_inbox> frames) {
  auto h = ws_events(me, gen);
  h.on_text = [me, gen, frames = std::move(frames)](std::string&& text, std::int64_t recv_ns) {
    if (frames->put(ws_frame{std::move(text), recv_ns}))
      caf::anon_send(me, ws_frames_atom::value, gen, frames);
  };
  return h;
}

} // namespace mi::actors

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(std::shared_ptr<mi::actors::frame_inbox>)
