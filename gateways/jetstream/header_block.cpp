#include "gateways/jetstream/header_block.hpp"

#include <optional>
#include <string_view>

namespace mi::gw {

namespace {

constexpr std::string_view version_line = "NATS/1.0\r\n";
constexpr std::string_view crlf = "\r\n";

bool good_name(std::string_view n) {
  if (n.empty())
    return false;
  for (char c : n)
    if (c < '!' || c > '~' || c == ':')
      return false;
  return true;
}

bool good_value(std::string_view v) {
  for (char c : v) // not find_first_of: libstdc++ calls memchr on the set once per character
    if (c == '\r' || c == '\n')
      return false;
  return true;
}

} // namespace

mi::result<std::size_t> append_header_block(std::string& out, const outgoing& m) {
  const std::size_t start = out.size();
  std::optional<std::string_view> bad; // the first header that cannot be sent
  bool any = false;
  auto put = [&](std::string_view name, std::string_view value) {
    if (bad)
      return;
    if (!good_name(name) || !good_value(value)) {
      bad = name;
      return;
    }
    if (!any)
      out.append(version_line);
    any = true;
    out.append(name);
    out.append(": ");
    out.append(value);
    out.append(crlf);
  };
  if (!m.msg_id.empty())
    put("Nats-Msg-Id", m.msg_id);
  if (!m.content_type.empty())
    put("Content-Type", m.content_type);
  for (const auto& [name, value] : m.headers)
    put(name, value);
  if (bad) {
    out.resize(start);
    return mi::error{"cannot send header '" + std::string(*bad) + "' of a message to " + m.subject +
                       ": a name needs printable characters other than ':', a value no CR or LF",
                     mi::errc::bad_input};
  }
  if (any)
    out.append(crlf);
  return out.size() - start;
}

} // namespace mi::gw
