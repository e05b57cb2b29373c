#pragma once
// JetStream's answer to one publish, read from the JSON the server sends to the publish's reply subject:
//   {"stream":"MARKET_RAW","seq":17}                    stored
//   {"stream":"MARKET_RAW","seq":17,"duplicate":true}   the stream already had this Nats-Msg-Id
//   {"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"},"stream":"…"}
// ("domain" may accompany a stored answer). Outside input for the gateway: anything else is `malformed`, never an
// exception.
#include <cstdint>
#include <string>
#include <string_view>

namespace mi::gw {

struct pub_ack {
  enum class kind { stored, refused, malformed };
  kind what = kind::malformed;
  bool duplicate = false; ///< stored: nothing new, the stream had this Nats-Msg-Id
  std::uint64_t seq = 0;  ///< stored: the stream sequence
  std::string stream;     ///< stored: the stream's name
  int code = 0;           ///< refused: the API error's code (e.g. 503)
  int err_code = 0;       ///< refused: JetStream's error number (e.g. 10077)
  std::string error;      ///< refused: the server's description; malformed: what is wrong with the answer
};

/// Reads one publish answer. Thread-safe (each thread keeps its own parser).
pub_ack parse_pub_ack(std::string_view json);

} // namespace mi::gw
