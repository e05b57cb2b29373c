#pragma once

// Shared body of the derivatives codec fuzzers (tests/fuzz/fuzz_<venue>_derivatives.cpp): any input gives events or an
// error, never a crash; every event names the codec's venue and a symbol that is a NATS token, carries canonical
// decimals (prices never negative) and survives the protobuf round trip unchanged.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "messages/deriv/derivative.hpp"

template <class Codec>
int fuzz_derivatives(Codec& codec, std::string_view venue, const std::uint8_t* data, std::size_t size) {
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto r = codec.decode(frame, 42);
  if (!r)
    return 0;
  for (const auto& d : *r) {
    if (d.exchange != venue || d.symbol.empty() || d.recv_ns != 42)
      __builtin_trap();
    for (char c : d.symbol)
      if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
        __builtin_trap();
    auto back = mi::deriv::decode_pb(mi::deriv::encode_pb(d)); // refuses non-canonical or negative prices
    if (!back || !(*back == d))
      __builtin_trap();
    if (d.what == mi::deriv::channel::liquidation && (d.price.empty() || d.quantity.empty()))
      __builtin_trap();
  }
  return 0;
}
