#pragma once

// Test support for connectors/alpaca: Alpaca's fixtures read in place from ../shared/fixtures/equities/alpaca, the
// hand-written expectations from tests/data/alpaca, and the decoded events as JSON to compare with them.

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "connectors/alpaca/codec.hpp"
#include "messages/codec.hpp"

namespace mi::alpaca::test {

/// The text of fixtures/equities/alpaca/<rel> (MI_FIXTURES_DIR); a missing fixture fails the test.
inline std::string fixture_text(const std::string& rel) {
  const auto path = std::filesystem::path(MI_FIXTURES_DIR) / "equities" / "alpaca" / rel;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    FAIL_CHECK("fixture " << path.string() << " is missing (configure with -DMI_FIXTURES_DIR=...)");
    return {};
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

/// Lines of a text; a missing file fails the test.
inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

/// Lines of tests/data/alpaca/<name>.
inline std::vector<std::string> expected_lines(const std::string& name) {
  const auto path = std::filesystem::path(MI_SOURCE_DIR) / "tests" / "data" / "alpaca" / name;
  std::ifstream in(path);
  if (!in) {
    FAIL_CHECK("expected file " << path.string() << " is missing");
    return {};
  }
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);)
    if (!line.empty())
      out.push_back(line);
  return out;
}

inline boost::json::array strings(const std::vector<std::string>& v) {
  boost::json::array a;
  for (const auto& s : v)
    a.emplace_back(s);
  return a;
}

/// The events of a frame in the expected files' form (only the kinds present).
inline boost::json::value to_json(const frame_events& ev) {
  boost::json::object o;
  if (!ev.trades.empty()) {
    boost::json::array a;
    for (const auto& t : ev.trades)
      a.push_back(boost::json::parse(mi::trade_to_json(t)));
    o["trades"] = std::move(a);
  }
  if (!ev.quotes.empty()) {
    boost::json::array a;
    for (const auto& q : ev.quotes)
      a.push_back(boost::json::object{{"symbol", q.symbol},
                                      {"bx", q.bid_exchange},
                                      {"bp", q.bid_price.to_string()},
                                      {"bs", q.bid_size.to_string()},
                                      {"ax", q.ask_exchange},
                                      {"ap", q.ask_price.to_string()},
                                      {"as", q.ask_size.to_string()},
                                      {"ts_ns", q.ts_ns},
                                      {"c", strings(q.conditions)},
                                      {"z", q.tape}});
    o["quotes"] = std::move(a);
  }
  if (!ev.bars.empty()) {
    boost::json::array a;
    for (const auto& b : ev.bars) {
      boost::json::object j{{"kind", b.what == bar::kind::minute    ? "minute"
                                     : b.what == bar::kind::updated ? "updated"
                                                                    : "daily"},
                            {"symbol", b.symbol},
                            {"o", b.open.to_string()},
                            {"h", b.high.to_string()},
                            {"l", b.low.to_string()},
                            {"c", b.close.to_string()},
                            {"v", b.volume.to_string()},
                            {"ts_ns", b.ts_ns}};
      if (b.trade_count >= 0)
        j["n"] = b.trade_count;
      if (b.vwap)
        j["vw"] = b.vwap->to_string();
      a.push_back(std::move(j));
    }
    o["bars"] = std::move(a);
  }
  if (!ev.corrections.empty()) {
    boost::json::array a;
    for (const auto& c : ev.corrections)
      a.push_back(boost::json::object{{"symbol", c.symbol},
                                      {"x", c.exchange_code},
                                      {"original_trade_id", c.original_trade_id},
                                      {"op", c.original_price.to_string()},
                                      {"os", c.original_size.to_string()},
                                      {"oc", strings(c.original_conditions)},
                                      {"corrected_trade_id", c.corrected_trade_id},
                                      {"cp", c.corrected_price.to_string()},
                                      {"cs", c.corrected_size.to_string()},
                                      {"cc", strings(c.corrected_conditions)},
                                      {"z", c.tape},
                                      {"ts_ns", c.ts_ns}});
    o["corrections"] = std::move(a);
  }
  if (!ev.cancels.empty()) {
    boost::json::array a;
    for (const auto& c : ev.cancels)
      a.push_back(boost::json::object{{"symbol", c.symbol},
                                      {"trade_id", c.trade_id},
                                      {"x", c.exchange_code},
                                      {"p", c.price.to_string()},
                                      {"s", c.size.to_string()},
                                      {"a", c.action},
                                      {"z", c.tape},
                                      {"ts_ns", c.ts_ns}});
    o["cancels"] = std::move(a);
  }
  if (!ev.statuses.empty()) {
    boost::json::array a;
    for (const auto& s : ev.statuses)
      a.push_back(boost::json::object{{"symbol", s.symbol},
                                      {"sc", s.status_code},
                                      {"sm", s.status_message},
                                      {"rc", s.reason_code},
                                      {"rm", s.reason_message},
                                      {"z", s.tape},
                                      {"ts_ns", s.ts_ns},
                                      {"halted", s.halted()}});
    o["statuses"] = std::move(a);
  }
  if (!ev.controls.empty()) {
    boost::json::array a;
    for (const auto& c : ev.controls) {
      using k = control::kind;
      boost::json::object j;
      switch (c.what) {
      case k::connected:
        j["control"] = "connected";
        break;
      case k::authenticated:
        j["control"] = "authenticated";
        break;
      case k::other_success:
        j["control"] = "success";
        break;
      case k::subscription:
        j["control"] = "subscription";
        break;
      case k::error:
        j["control"] = "error";
        j["code"] = c.code;
        j["msg"] = c.message;
        if (is_auth_error(c.code))
          j["auth"] = true;
        break;
      }
      a.push_back(std::move(j));
    }
    o["controls"] = std::move(a);
  }
  if (ev.ignored != 0)
    o["ignored"] = static_cast<std::int64_t>(ev.ignored);
  return o;
}

} // namespace mi::alpaca::test
