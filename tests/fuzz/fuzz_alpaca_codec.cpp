// libFuzzer target for the Alpaca stream codec and REST page parsers: any input must give a value or an error, never
// a crash, a hang or undefined behaviour; every decoded trade is exact (price and size > 0) and survives the
// simulator's encoder. Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++.
// Seed corpus: ../shared/fixtures/equities/alpaca/ws/*.jsonl split one line a file, and rest/*.json.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "connectors/alpaca/codec.hpp"
#include "connectors/alpaca/rest.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mi::alpaca::codec codec; // reused like in production: one parser, many frames
  const std::string_view frame(reinterpret_cast<const char*>(data), size);
  auto r = codec.decode(frame, 42);
  if (r) {
    for (const auto& t : r->trades) {
      if (t.price.signum() <= 0 || t.quantity.signum() <= 0 || t.exchange_code.empty())
        __builtin_trap();
      const auto dash = t.trade_id.find('-');
      if (dash == std::string::npos)
        __builtin_trap();
      const auto id = std::stoull(t.trade_id.substr(0, dash));
      auto again = codec.decode("[" + mi::alpaca::encode_trade_object(t, id, t.exchange_code) + "]", 42);
      if (!again || again->trades.size() != 1 || again->trades[0].trade_id != t.trade_id ||
          !(again->trades[0].price == t.price) || !(again->trades[0].quantity == t.quantity) ||
          again->trades[0].ts_ns != t.ts_ns)
        __builtin_trap();
    }
  }
  (void)mi::alpaca::parse_trades_page(frame, 42);
  (void)mi::alpaca::parse_bars_page(frame, false);
  (void)mi::alpaca::parse_bars_page(frame, true); // the daily job's 1Day pages
  (void)mi::alpaca::parse_assets(frame);
  return 0;
}
