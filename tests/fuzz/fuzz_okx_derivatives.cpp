// libFuzzer target for the okx derivatives codec (connectors/okx/derivatives.*): tests/fuzz/derivatives_fuzz.hpp.
// Build: cmake -DMI_FUZZ=ON with clang; scripts/fuzz seeds it with tests/data/derivatives/.
#include "connectors/okx/derivatives.hpp"
#include "tests/fuzz/derivatives_fuzz.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static mi::okx::derivatives_codec codec; // reused like in production: one parser, many frames
  return fuzz_derivatives(codec, mi::okx::derivatives_venue, data, size);
}
