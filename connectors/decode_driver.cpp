#include "connectors/decode_driver.hpp"

#include <istream>
#include <ostream>
#include <string>

#include "connectors/binance/codec.hpp"
#include "connectors/bybit/codec.hpp"
#include "connectors/coinbase/codec.hpp"
#include "connectors/kraken/codec.hpp"
#include "connectors/okx/codec.hpp"
#include "messages/codec.hpp"

namespace mi::connectors {

namespace {

/// The decode loop, the same for every exchange's codec.
template <class Codec>
decode_stats decode_with(Codec& codec, std::istream& in, std::ostream& out, std::ostream& err) {
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
  // Codecs without metadata: suffix fallbacks, so the CLI works offline, without REST symbol lists.
  if (exchange == "binance") {
    binance::codec codec;
    return decode_with(codec, in, out, err);
  }
  if (exchange == "okx") {
    okx::codec codec;
    return decode_with(codec, in, out, err);
  }
  if (exchange == "bybit") {
    bybit::codec codec;
    return decode_with(codec, in, out, err);
  }
  if (exchange == "coinbase") {
    coinbase::codec codec;
    return decode_with(codec, in, out, err);
  }
  if (exchange == "kraken") {
    kraken::codec codec;
    return decode_with(codec, in, out, err);
  }
  return mi::error{"unsupported exchange '" + std::string(exchange) +
                   "' (supported: binance, okx, bybit, coinbase, kraken)"};
}

} // namespace mi::connectors
