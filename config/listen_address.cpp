#include "config/listen_address.hpp"

#include <algorithm>
#include <charconv>

namespace mi::cfg {
namespace {

constexpr std::string_view expected = " (expected host:port, [ipv6]:port or :port, e.g. 127.0.0.1:8080 or [::1]:8080)";

mi::error bad(std::string_view text, std::string_view why) {
  return mi::error{"bad listen address '" + std::string(text) + "': " + std::string(why) + std::string(expected)};
}

bool is_hex_or_colon(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' || c == '.';
}

bool is_host_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' || c == '-';
}

} // namespace

std::string listen_address::text() const { return (ipv6 ? "[" + host + "]" : host) + ":" + std::to_string(port); }

mi::result<listen_address> parse_listen_address(std::string_view text) {
  listen_address a;
  std::string_view port_text;
  if (text.empty())
    return bad(text, "empty");
  if (text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string_view::npos)
      return bad(text, "'[' without ']'");
    auto host = text.substr(1, close - 1);
    if (host.empty())
      return bad(text, "empty IPv6 address in brackets");
    if (!std::all_of(host.begin(), host.end(), is_hex_or_colon) || host.find(':') == std::string_view::npos)
      return bad(text, "'" + std::string(host) + "' is not an IPv6 address");
    if (close + 1 >= text.size() || text[close + 1] != ':')
      return bad(text, "no ':port' after ']'");
    a.host = std::string(host);
    a.ipv6 = true;
    port_text = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
      return bad(text, "no port");
    auto host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos)
      return bad(text, "an IPv6 address must be written in brackets, e.g. [::1]:8080");
    if (host.empty())
      host = "0.0.0.0"; // ":8080": every IPv4 interface
    if (!std::all_of(host.begin(), host.end(), is_host_char))
      return bad(text, "'" + std::string(host) + "' is not an IP address or host name");
    a.host = std::string(host);
    port_text = text.substr(colon + 1);
  }
  unsigned long p = 0;
  auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), p);
  if (port_text.empty() || ec != std::errc() || end != port_text.data() + port_text.size() || p > 65535)
    return bad(text, "port must be a number 0..65535, got '" + std::string(port_text) + "'");
  a.port = static_cast<std::uint16_t>(p);
  return a;
}

} // namespace mi::cfg
