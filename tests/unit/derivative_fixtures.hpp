#pragma once

// Table-driven checks of a derivatives codec (connectors/<venue>/derivatives.*) against tests/data/derivatives/:
// every frame line decodes to exactly the hand-written events of the expected line (tests/data/derivatives/README.md).

#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <fstream>
#include <sstream>
#include <string>

#include "messages/deriv/derivative.hpp"

namespace mi::test {

/// Reads tests/data/derivatives/<name>.
inline std::string derivatives_data(const std::string& name) {
  std::ifstream in(std::string(MI_SOURCE_DIR) + "/tests/data/derivatives/" + name);
  REQUIRE_MESSAGE(in, "tests/data/derivatives/" << name << " is missing");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

/// The events as the expected files write them: a JSON array of mi::deriv::to_json objects.
inline boost::json::value events_json(const std::vector<mi::deriv::derivative>& events) {
  boost::json::array out;
  for (const auto& d : events)
    out.push_back(boost::json::parse(mi::deriv::to_json(d)));
  return out;
}

/// Decodes every line of <set>.frames.jsonl with recv_ns 0 and compares it with the same line of
/// <set>.expected.jsonl; every event also survives the protobuf round trip unchanged. Returns the events seen.
template <class Codec>
std::size_t check_derivative_set(Codec& codec, const std::string& set) {
  std::istringstream frames(derivatives_data(set + ".frames.jsonl"));
  std::istringstream expected(derivatives_data(set + ".expected.jsonl"));
  std::string frame, want;
  std::size_t line = 0, events = 0;
  while (std::getline(frames, frame)) {
    ++line;
    REQUIRE_MESSAGE(std::getline(expected, want), set << ": no expected line " << line);
    CAPTURE(line);
    auto got = codec.decode(frame, 0);
    REQUIRE_MESSAGE(got, (got ? std::string() : got.err().message));
    CHECK(events_json(*got) == boost::json::parse(want));
    for (const auto& d : *got) {
      auto back = mi::deriv::decode_pb(mi::deriv::encode_pb(d));
      REQUIRE(back);
      CHECK(*back == d);
    }
    events += got->size();
  }
  CHECK_FALSE(std::getline(expected, want)); // as many expected lines as frames
  return events;
}

} // namespace mi::test
