#include "connectors/transport/url.hpp"

#include <charconv>

namespace mi::net {
namespace {

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool host_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_';
}

} // namespace

std::string url::host_and_target() const { return host + target; }

mi::result<url> parse_url(std::string_view text) {
  url u;
  const auto sep = text.find("://");
  if (sep == std::string_view::npos)
    return mi::error{"URL without scheme: '" + std::string(text) + "'"};
  for (char c : text.substr(0, sep))
    u.scheme += lower(c);
  if (u.scheme == "ws" || u.scheme == "http") {
    u.tls = false;
  } else if (u.scheme == "wss" || u.scheme == "https") {
    u.tls = true;
  } else {
    return mi::error{"unsupported URL scheme '" + u.scheme + "' (ws, wss, http, https)"};
  }
  std::string_view rest = text.substr(sep + 3);
  if (rest.find('#') != std::string_view::npos)
    return mi::error{"URL with a fragment: '" + std::string(text) + "'"};
  const auto path_at = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, path_at);
  std::string_view target = path_at == std::string_view::npos ? std::string_view{} : rest.substr(path_at);
  if (authority.find('@') != std::string_view::npos)
    return mi::error{"URL with user info is not supported"};

  std::string_view host, port;
  if (!authority.empty() && authority.front() == '[') { // IPv6 literal
    const auto close = authority.find(']');
    if (close == std::string_view::npos)
      return mi::error{"URL with an unclosed '[' in the host"};
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return mi::error{"URL with junk after the IPv6 host"};
      port = after.substr(1);
      if (port.empty())
        return mi::error{"URL with an empty port"};
    }
    if (host.empty() || host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos)
      return mi::error{"URL with a bad IPv6 host"};
  } else {
    const auto colon = authority.find(':');
    host = authority.substr(0, colon);
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return mi::error{"URL with an empty port"};
    }
    if (host.empty())
      return mi::error{"URL without host: '" + std::string(text) + "'"};
    for (char c : host)
      if (!host_char(c))
        return mi::error{"URL with a bad host '" + std::string(host) + "'"};
  }
  if (!port.empty()) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc{} || end != port.data() + port.size() || value == 0 || value > 65535)
      return mi::error{"URL with a bad port '" + std::string(port) + "'"};
    u.port = std::to_string(value);
  } else {
    u.port = u.tls ? "443" : "80";
  }
  u.host.reserve(host.size());
  for (char c : host)
    u.host += lower(c);
  if (target.empty()) {
    u.target = "/";
  } else if (target.front() == '?') {
    u.target = "/" + std::string(target);
  } else {
    u.target = std::string(target);
  }
  for (char c : u.target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
      return mi::error{"URL with a space or control character"};
  return u;
}

} // namespace mi::net
