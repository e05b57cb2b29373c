#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "messages/document.hpp"

/// The client side of Alpaca's news WebSocket (wss://stream.data.alpaca.markets/v1beta1/news), pure: frames in,
/// frames to send and documents out; the socket, the reconnects and the publishing are the document source actor's
/// (actors/documents.cpp). docs/protocols.md "Alpaca news stream".
///
///   connecting --[{"T":"success","msg":"connected"}]--> send auth --> authenticating
///   authenticating --[{"T":"success","msg":"authenticated"}]--> send subscribe --> subscribing
///   subscribing --[{"T":"subscription","news":[...]}]--> streaming (live: step::subscribed)
///   streaming --[{"T":"n",...}]--> documents
///   any --[{"T":"error",...}] or a frame out of order--> failed (step::fatal: close, reconnect with backoff)
namespace mi::documents {

class news_stream_session {
public:
  enum class phase { connecting, authenticating, subscribing, streaming, failed };

  /// What one frame gave.
  struct step {
    std::vector<std::string> send;       ///< frames to send now, in order (auth carries the secret: never log them)
    std::vector<mi::document> documents; ///< `n` messages, in frame order
    bool subscribed = false;             ///< this frame made the stream live
    std::string error;                   ///< why a frame was refused ("" when none), for the log and a counter
    bool fatal = false;                  ///< the connection is of no use (auth failed, server error): close it
  };

  /// `symbols`: the news subscription ("*": all news). Key and secret: APCA key id and secret key.
  news_stream_session(std::string key_id, std::string secret_key, std::vector<std::string> symbols);

  /// One text frame received at `recv_ns`. A malformed frame or article is refused (step::error) without ending the
  /// session; an `error` message or a control message out of order ends it (step::fatal).
  step on_frame(std::string_view frame, std::int64_t recv_ns);

  phase state() const { return phase_; }

private:
  std::string key_id_, secret_key_;
  std::vector<std::string> symbols_;
  phase phase_ = phase::connecting;
};

/// "connecting", "authenticating", "subscribing", "streaming", "failed".
std::string_view to_string(news_stream_session::phase p);

} // namespace mi::documents
