// libFuzzer target for the push gateway's client protocol (gateways/push/push_protocol): any text frame a client
// may send. Never a crash, an abort or a hang; a request that parses holds only valid channels or patterns, no
// duplicates, at most the limit, "since" only for channels it names; every error reply is a JSON object with a
// documented code; patterns match only channels of their own shape.
// Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ (scripts/fuzz).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string_view>

#include "gateways/push/push_protocol.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  constexpr std::size_t max_channels = 8;
  auto r = mi::gw::parse_client_message(text, max_channels, 4096);
  if (!r) {
    const auto parts = mi::gw::split_push_error(r.err());
    const std::string_view codes[] = {mi::gw::push_error::bad_json,          mi::gw::push_error::bad_op,
                                      mi::gw::push_error::bad_channel,       mi::gw::push_error::too_many_channels,
                                      mi::gw::push_error::message_too_large, mi::gw::push_error::bad_since};
    if (std::find(std::begin(codes), std::end(codes), parts.code) == std::end(codes))
      std::abort();
    const auto reply = mi::gw::reply_error(r.err());
    if (!reply.starts_with(R"({"op":"error","code":")") || reply.back() != '}')
      std::abort();
    return 0;
  }
  if (r->channels.size() > max_channels)
    std::abort();
  std::set<std::string> seen;
  for (const auto& c : r->channels) {
    if (!mi::gw::is_valid_channel_or_pattern(c) || !seen.insert(c).second)
      std::abort();
    // A pattern's kind allows wildcards; a concrete channel matches itself.
    if (!mi::gw::is_pattern(c) && !mi::gw::channel_matches(c, c))
      std::abort();
  }
  for (const auto& [c, seq] : r->since)
    if (seen.count(c) == 0 || mi::gw::is_pattern(c))
      std::abort();
  // The text itself as a channel: matching never accepts a shape the pattern does not have.
  if (mi::gw::is_valid_channel(text) && !mi::gw::channel_matches(text, text))
    std::abort();
  (void)mi::gw::reply_list(r->channels);
  return 0;
}
