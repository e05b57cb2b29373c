#pragma once

// The wall clock as the platform's integers (header only). Parsers never read it: the receive
// time is passed in (STYLE.md); actors and tools read it here.

#include <chrono>
#include <cstdint>

namespace mi::util {

/// Now, in nanoseconds since the Unix epoch (system clock, UTC).
inline std::int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Now, in milliseconds since the Unix epoch (system clock, UTC).
inline std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace mi::util
