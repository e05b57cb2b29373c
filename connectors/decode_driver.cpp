#include "connectors/decode_driver.hpp"

#include <istream>
#include <ostream>
#include <string>

#include "connectors/venue/venue.hpp"
#include "messages/codec.hpp"
#include "messages/venue_registry.hpp"

namespace mi::connectors {

namespace {

/// The decode loop, the same for every venue.
decode_stats decode_with(mi::venue::venue& codec, std::istream& in, std::ostream& out, std::ostream& err) {
  decode_stats stats;
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos)
      continue;
    // The CLI has no receive time to speak of; decode output does not carry recv_ns.
    auto ev = codec.decode(line, 0);
    if (!ev) {
      ++stats.errors;
      err << "line " << stats.lines << ": " << ev.err().message << '\n';
      continue;
    }
    ++stats.frames_ok;
    for (const mi::trade& t : ev->trades) {
      out << mi::trade_to_json(t) << '\n';
      ++stats.trades;
    }
  }
  out.flush();
  return stats;
}

} // namespace

mi::result<decode_stats> decode_lines(std::string_view exchange, std::istream& in, std::ostream& out,
                                      std::ostream& err) {
  // Venues without instruments: their codecs' suffix fallbacks, so the CLI works offline, without REST symbol lists.
  if (mi::find_venue(exchange) == nullptr)
    return mi::error{"unsupported exchange '" + std::string(exchange) + "' (supported: " + mi::venue_names_joined() +
                     ")"};
  auto v = mi::venue::make_venue(exchange);
  if (!v)
    return v.err();
  return decode_with(**v, in, out, err);
}

} // namespace mi::connectors
