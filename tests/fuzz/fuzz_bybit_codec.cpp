// libFuzzer target for the Bybit frame codec: any input must give a value or an error, never a
// crash, a hang or undefined behaviour. Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++.
// Seed corpus: ../shared/fixtures/exchanges/bybit/*.jsonl split one line a file.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/bybit/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mi::bybit::codec codec; // reused like in production: one parser, many frames
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto r = codec.decode(frame, 42);
  if (r && r->what == mi::bybit::frame_events::kind::trades) {
    for (const auto& t : r->trades) {
      // A decoded trade must survive the simulator's encoder and decode to itself.
      auto again = codec.decode(mi::bybit::encode_trade_frame(t), 42);
      if (!again || again->trades.size() != 1 || !(again->trades[0] == t))
        __builtin_trap();
    }
  }
  return 0;
}
