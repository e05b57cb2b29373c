#pragma once

// The process's log (docs/operations.md, "Logs"): text or one JSON object per line (log.format), with
// repeated warnings and errors rate-limited (messages/util/repeat_limiter.hpp): the first 3 lines of a
// kind within 10 s are written, its further repeats become one "... (repeated N times in S s)" line.

#include <memory>

#include "config/config.hpp"

namespace spdlog {
class formatter;
}

namespace mi::app {

/// Replaces the default logger: stdout, `format`, warnings and errors rate-limited, flushed (and the
/// held repeats summarised) every second.
void setup_logging(mi::cfg::log_format format);

/// The JSON line formatter: {"ts":"2026-12-02T14:00:00.123Z","level":"warn","msg":"..."} and '\n'.
std::unique_ptr<spdlog::formatter> make_json_formatter();

} // namespace mi::app
