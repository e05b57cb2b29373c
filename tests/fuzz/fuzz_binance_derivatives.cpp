// libFuzzer target for the binance derivatives codec (connectors/binance/derivatives.*):
// tests/fuzz/derivatives_fuzz.hpp. Build: cmake -DMI_FUZZ=ON with clang; scripts/fuzz seeds it with
// tests/data/derivatives/.
#include "connectors/binance/derivatives.hpp"
#include "tests/fuzz/derivatives_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mi::binance::derivatives_codec codec; // reused like in production: one parser, many frames
  return fuzz_derivatives(codec, mi::binance::derivatives_venue, data, size);
}
