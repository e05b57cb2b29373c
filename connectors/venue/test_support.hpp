#pragma once

// Test support for the venue tests: making venues, replaying the captured frames, building REST pages.

#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/venue/venue.hpp"
#include "tests/unit/fixtures.hpp"

namespace mi::venue::test {

/// make_venue that must succeed.
inline std::unique_ptr<venue> must_make(std::string_view exchange, const venue_options& o = {}) {
  auto v = make_venue(exchange, o);
  REQUIRE_MESSAGE(v.has_value(), v.err().message);
  return std::move(*v);
}

/// resolve that must succeed.
inline subscription must_resolve(const venue& v, std::string_view unified) {
  auto s = v.resolve(unified);
  REQUIRE_MESSAGE(s.has_value(), s.err().message);
  return *s;
}

/// Replays fixtures/exchanges/<dir>/trades.jsonl through the venue: every frame is kind::trades and
/// matches trades.expected.jsonl (where that line is not null, and `compare`). Returns how many frames were compared.
inline std::size_t replay_trade_fixture(venue& v, const std::string& dir, bool compare = true) {
  const auto frames = mi::test::fixture_lines(dir, "trades.jsonl");
  const auto expected = mi::test::fixture_lines(dir, "trades.expected.jsonl");
  if (frames.empty())
    return 0;
  REQUIRE(frames.size() == expected.size());
  std::size_t compared = 0;
  for (std::size_t i = 0; i < frames.size(); ++i) {
    CAPTURE(i + 1);
    CAPTURE(frames[i]);
    auto r = v.decode(frames[i], 77);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    REQUIRE(r->what == events::kind::trades);
    REQUIRE_FALSE(r->trades.empty());
    for (const auto& t : r->trades)
      CHECK(t.recv_ns == 77);
    if (!compare || expected[i] == "null")
      continue;
    CHECK(mi::test::as_json_array(r->trades) == expected[i]);
    ++compared;
  }
  return compared;
}

/// Counts of each events::kind over the lines of a control fixture (every line must decode).
struct kind_counts {
  std::size_t trades = 0, ack = 0, error = 0, heartbeat = 0, reconnect_notice = 0, ignored = 0;
};

inline kind_counts replay_control_fixture(venue& v, const std::string& dir, const std::string& name = "control.jsonl") {
  kind_counts c;
  for (const auto& line : mi::test::fixture_lines(dir, name)) {
    CAPTURE(line);
    auto r = v.decode(line, 0);
    REQUIRE_MESSAGE(r.has_value(), r.err().message);
    switch (r->what) {
    case events::kind::trades:
      ++c.trades;
      break;
    case events::kind::ack:
      ++c.ack;
      break;
    case events::kind::error:
      ++c.error;
      break;
    case events::kind::heartbeat:
      ++c.heartbeat;
      break;
    case events::kind::reconnect_notice:
      ++c.reconnect_notice;
      break;
    case events::kind::ignored:
      ++c.ignored;
      break;
    }
  }
  return c;
}

/// The numeric ids of trades, in order.
inline std::vector<std::int64_t> ids_of(const std::vector<mi::trade>& trades) {
  std::vector<std::int64_t> out;
  for (const auto& t : trades)
    out.push_back(std::stoll(t.trade_id));
  return out;
}

/// first, first+1, ..., last.
inline std::vector<std::int64_t> id_range(std::int64_t first, std::int64_t last) {
  std::vector<std::int64_t> out;
  for (std::int64_t i = first; i <= last; ++i)
    out.push_back(i);
  return out;
}

/// A JSON array of `render(id)` for the ids, joined by commas (no brackets).
inline std::string join(const std::vector<std::int64_t>& ids, const std::function<std::string(std::int64_t)>& render) {
  std::string out;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (i != 0)
      out += ',';
    out += render(ids[i]);
  }
  return out;
}

/// Runs a whole backfill of `g`: requests pages from `serve` (target -> body) until next is nullopt.
/// Returns the trades collected and the targets requested, in order.
struct backfill_run {
  std::vector<mi::trade> trades;
  std::vector<std::string> targets;
};

inline backfill_run run_backfill(venue& v, const subscription& s, const gap& g,
                                 const std::function<std::string(const std::string&)>& serve) {
  backfill_run out;
  std::optional<rest_request> req = v.history_request(s, g);
  while (req) {
    REQUIRE(out.targets.size() < 50); // a paging rule that never ends fails here, not by hanging
    out.targets.push_back(req->target);
    auto page = v.parse_history(s, g, serve(req->target));
    REQUIRE_MESSAGE(page.has_value(), page.err().message);
    for (auto& t : page->trades)
      out.trades.push_back(std::move(t));
    req = page->next;
  }
  return out;
}

/// The integer value of `key=` in a target's query ("fromId" in "...?symbol=X&fromId=101&limit=1000" -> 101).
inline std::int64_t query_int(const std::string& target, const std::string& key) {
  const auto at = target.find(key + "=");
  REQUIRE(at != std::string::npos);
  return std::stoll(target.substr(at + key.size() + 1));
}

} // namespace mi::venue::test
