// libFuzzer target for the Kraken frame codec (v2 objects and v1 arrays): any input must give a value or an error,
// never a crash, a hang or undefined behaviour. Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++.
// Seed corpus: ../shared/fixtures/exchanges/kraken/**/*.jsonl split one line a file.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "connectors/kraken/codec.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mi::kraken::codec codec; // reused like in production: one parser, many frames
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto r = codec.decode(frame, 42);
  if (r && r->what == mi::kraken::frame_events::kind::trades) {
    for (const auto& t : r->trades) {
      // A v2 trade (numeric id; v1's synthesized ids are not v2 ids) must survive the encoder and decode to itself.
      const bool numeric =
        !t.trade_id.empty() && t.trade_id.size() <= 19 &&
        std::all_of(t.trade_id.begin(), t.trade_id.end(), [](char c) { return c >= '0' && c <= '9'; });
      if (!numeric)
        continue;
      auto again = codec.decode(mi::kraken::encode_trade_frame(t), 42);
      if (!again || again->trades.size() != 1 || !(again->trades[0] == t))
        __builtin_trap();
    }
  }
  return 0;
}
