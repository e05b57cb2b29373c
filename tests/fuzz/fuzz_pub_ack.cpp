// libFuzzer target for the JetStream gateway's reading of a publish answer (gateways/jetstream/pub_ack): whatever
// arrives on a publish's reply subject. Never a crash, an abort or a hang; a stored answer has a stream and a
// sequence, every other answer says what it is.
// Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ (scripts/fuzz).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "gateways/jetstream/pub_ack.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto a = mi::gw::parse_pub_ack(std::string_view(reinterpret_cast<const char*>(data), size));
  if (a.what == mi::gw::pub_ack::kind::stored && (a.seq == 0 || a.stream.empty()))
    std::abort();
  if (a.what != mi::gw::pub_ack::kind::stored && a.error.empty())
    std::abort();
  return 0;
}
