#include "connectors/okx/instruments.hpp"

#include <algorithm>
#include <vector>

#include "connectors/json_text.hpp"

namespace mi::okx {
namespace {

bool is_asset(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), mi::connectors::text::is_upper_alnum);
}

std::string upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s)
    out += mi::connectors::text::to_upper(c);
  return out;
}

} // namespace

mi::result<instrument> from_unified(std::string_view unified) {
  const auto slash = unified.find('/');
  if (slash == std::string_view::npos || unified.find('/', slash + 1) != std::string_view::npos)
    return mi::error{"symbol '" + std::string(unified) + "' must be BASE/QUOTE, e.g. BTC/USDT"};
  std::string base = upper(unified.substr(0, slash));
  std::string quote = upper(unified.substr(slash + 1));
  if (!is_asset(base) || !is_asset(quote))
    return mi::error{"symbol '" + std::string(unified) +
                     "': base and quote must be non-empty letters and digits, e.g. BTC/USDT"};
  return instrument{base + "-" + quote, base + quote, base, quote};
}

mi::result<instrument> from_inst_id(std::string_view inst_id) {
  std::vector<std::string_view> parts;
  for (std::size_t begin = 0;;) {
    const auto dash = inst_id.find('-', begin);
    parts.push_back(inst_id.substr(begin, dash == std::string_view::npos ? std::string_view::npos : dash - begin));
    if (dash == std::string_view::npos)
      break;
    begin = dash + 1;
  }
  if (parts.size() < 2 || !std::all_of(parts.begin(), parts.end(), is_asset))
    return mi::error{"instId '" + std::string(inst_id) + "' must be BASE-QUOTE[-...] in upper-case letters and digits"};
  instrument out{std::string(inst_id), {}, std::string(parts[0]), std::string(parts[1])};
  for (std::string_view p : parts)
    out.symbol += p;
  return out;
}

std::string inst_id_of(std::string_view symbol, std::string_view base, std::string_view quote) {
  std::string out;
  out.reserve(symbol.size() + 2);
  out += base;
  out += '-';
  out += quote;
  const std::size_t head = base.size() + quote.size();
  if (symbol.size() > head && symbol.substr(0, base.size()) == base &&
      symbol.substr(base.size(), quote.size()) == quote) {
    out += '-';
    out += symbol.substr(head);
  }
  return out;
}

} // namespace mi::okx
