#pragma once

// Rate limit for repeated log lines: the first `burst` lines of a kind within a window are written,
// further repeats are counted instead, and one summary line says how many there were ("... (repeated
// 57 times in 10 s)"). The burst keeps a short series of distinct events whole (a supervisor's
// "restart 1 of 3", "2 of 3", "3 of 3"); a flood is cut after it. A kind is the text with every run of digits folded,
// so "batch of 812 rows failed" and "batch of 64 rows failed" are repeats of one another. Pure and single-threaded (the
// log sink that uses it holds its own lock); time is passed in.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace mi::util {

class repeat_limiter {
public:
  using clock = std::chrono::steady_clock;

  /// Repeats held back for one kind of line: the last of them and how many.
  struct summary {
    int level = 0;               ///< the caller's level of the kind (as given to offer)
    std::string text;            ///< "<last repeat> (repeated N times in S s)"
    std::uint64_t repeated = 0;  ///< N
    std::chrono::seconds span{}; ///< S: from the first written line to the last repeat, rounded up, >= 1 s
  };
  /// What to do with one offered line.
  struct verdict {
    bool write = false;          ///< write the line now
    std::optional<summary> held; ///< write this summary first (repeats of the previous window)
  };

  /// `window`: how long repeats of a written line are held back; `burst`: lines of a kind written per
  /// window (at least 1); `max_kinds`: kinds remembered at most (the oldest is forgotten, its held repeats
  /// summarised by the next expire()).
  explicit repeat_limiter(std::chrono::nanoseconds window = std::chrono::seconds(10), std::size_t burst = 3,
                          std::size_t max_kinds = 1024);

  /// A line at `now`. The first `burst` occurrences of its kind in a window (which starts at the first of
  /// them) are written; the others within the window are counted.
  verdict offer(std::string_view text, int level, clock::time_point now);
  /// Summaries of the kinds whose window has ended with held repeats (those kinds are forgotten, so
  /// their next line is written at once). Call it periodically (the log flush does, every second).
  std::vector<summary> expire(clock::time_point now);

  /// The kind of a line: its text with each run of decimal digits replaced by '#'.
  static std::string kind_of(std::string_view text);

private:
  struct entry {
    clock::time_point window_start;
    clock::time_point last;
    std::uint64_t written = 1; // lines of this window written
    std::uint64_t held = 0;
    std::string last_text;
    int level = 0;
  };
  summary summarise(const entry& e) const;

  std::chrono::nanoseconds window_;
  std::uint64_t burst_;
  std::size_t max_kinds_;
  std::unordered_map<std::string, entry> kinds_;
  std::vector<summary> evicted_; // held repeats of kinds forgotten for room, reported by expire()
};

} // namespace mi::util
