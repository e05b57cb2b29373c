#include "connectors/decode_driver.hpp"

#include <istream>
#include <ostream>
#include <string>

#include "connectors/binance/codec.hpp"
#include "messages/codec.hpp"

namespace mi::connectors {

mi::result<decode_stats> decode_lines(std::string_view exchange, std::istream& in, std::ostream& out,
                                      std::ostream& err) {
  if (exchange != "binance")
    return mi::error{"unsupported exchange '" + std::string(exchange) + "' (supported: binance)"};
  binance::codec codec; // suffix fallback: the CLI works offline, without exchangeInfo
  decode_stats stats;
  std::string line;
  while (std::getline(in, line)) {
    ++stats.lines;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    // The CLI has no receive time to speak of; decode output does not carry recv_ns.
    mi::result<binance::frame_events> ev = codec.decode(line, 0);
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

} // namespace mi::connectors
