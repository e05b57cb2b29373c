#include "connectors/cn/symbols.hpp"
#include "messages/polled_venues.hpp"

namespace mi::cn {
namespace {

bool six_digits(std::string_view s) {
  return s.size() == 6 && s.find_first_not_of("0123456789") == std::string_view::npos;
}

} // namespace

mi::result<symbol> parse_symbol(std::string_view s) {
  const auto dot = s.find('.');
  if (dot == std::string_view::npos || !six_digits(s.substr(0, dot)))
    return mi::error{"A-share symbol '" + std::string(s) + "' is not six digits and .SH or .SZ", errc::bad_field};
  const auto suffix = s.substr(dot + 1);
  if (suffix == "SH")
    return symbol{std::string(s.substr(0, dot)), exchange::sh};
  if (suffix == "SZ")
    return symbol{std::string(s.substr(0, dot)), exchange::sz};
  return mi::error{"A-share symbol '" + std::string(s) + "': the exchange must be SH or SZ", errc::bad_field};
}

std::optional<symbol> from_source_code(std::string_view code) {
  if (code.size() != 8 || !six_digits(code.substr(2)))
    return std::nullopt;
  if (code.starts_with("sh"))
    return symbol{std::string(code.substr(2)), exchange::sh};
  if (code.starts_with("sz"))
    return symbol{std::string(code.substr(2)), exchange::sz};
  return std::nullopt;
}

std::string to_string(const symbol& s) { return s.code + (s.ex == exchange::sh ? ".SH" : ".SZ"); }
std::string source_code(const symbol& s) { return (s.ex == exchange::sh ? "sh" : "sz") + s.code; }
std::string eastmoney_secid(const symbol& s) { return (s.ex == exchange::sh ? "1." : "0.") + s.code; }
std::string subject_token(const symbol& s) { return mi::subject_token(to_string(s)); }
std::string_view market_of(const symbol& s) {
  // The registry's line names the markets (messages/venue_registry.cpp); every parsed symbol has a listed suffix.
  static const mi::polled_venue_info* cn = mi::find_polled_venue(venue_name);
  return mi::market_of_symbol(*cn, to_string(s)).value_or("XSHG");
}
bool volume_in_shares(const symbol& s) {
  return s.ex == exchange::sh && (s.code.starts_with("688") || s.code.starts_with("689"));
}

} // namespace mi::cn
