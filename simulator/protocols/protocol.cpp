#include "simulator/protocols/protocol.hpp"
#include "simulator/protocols/derivatives.hpp"

#include <chrono>
#include <cstdio>

#include "connectors/time_text.hpp"
#include "messages/venue_registry.hpp"
#include "messages/util/civil_time.hpp"
#include "messages/util/text.hpp"
#include "messages/util/clock.hpp"

namespace mi::sim {
namespace {

using mi::util::hex_value;

std::string decode_component(std::string_view s) {
  std::string out;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2]));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

} // namespace

query_params parse_query(std::string_view query) {
  query_params out;
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto kv = query.substr(0, amp);
    if (!kv.empty()) {
      const auto eq = kv.find('=');
      out[decode_component(kv.substr(0, eq))] = eq == std::string_view::npos ? "" : decode_component(kv.substr(eq + 1));
    }
    if (amp == std::string_view::npos)
      break;
    query.remove_prefix(amp + 1);
  }
  return out;
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 19)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

const std::vector<std::string_view>& supported_exchanges() {
  static const std::vector<std::string_view> names = [] {
    std::vector<std::string_view> out;
    for (const venue_info& v : venues())
      for (const registered_protocol& r : registered_protocols())
        if (r.name == v.name)
          out.push_back(v.name);
    return out;
  }();
  return names;
}

std::unique_ptr<protocol> make_protocol(std::string_view exchange, const market& m) {
  for (const registered_protocol& r : registered_protocols())
    if (r.name == exchange && find_venue(exchange) != nullptr)
      return r.make(m);
  for (const registered_protocol& r : derivatives_protocols()) // the perpetual-swap venues (protocols/derivatives.cpp)
    if (r.name == exchange && find_derivatives_venue(exchange) != nullptr)
      return r.make(m);
  return nullptr;
}

std::int64_t wall_ns() { return mi::util::now_ns() / 1000 * 1000; }

std::string rfc3339_micros(std::int64_t ns) {
  std::int64_t secs = ns / 1'000'000'000;
  std::int64_t frac = ns % 1'000'000'000;
  if (frac < 0) {
    frac += 1'000'000'000;
    --secs;
  }
  std::string out = mi::util::rfc3339(secs * 1'000'000'000); // "...:SSZ"
  out.pop_back();
  char buf[16];
  std::snprintf(buf, sizeof buf, ".%06lldZ", static_cast<long long>(frac / 1000));
  return out + buf;
}

} // namespace mi::sim
