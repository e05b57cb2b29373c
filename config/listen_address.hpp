#pragma once

// Listen addresses of our servers (push.listen, api.listen, metrics.listen): one parser for all.
//
//   "127.0.0.1:8080"  IPv4 literal or host name, then the port
//   "[::1]:8080"      IPv6 literal in brackets (RFC 3986), then the port
//   ":8080"           every IPv4 interface (the same as "0.0.0.0:8080"); "[::]:8080" for every IPv6 one
//
// The port is 0..65535 (0: any free port). An IPv6 literal without brackets ("::1:8080") is refused:
// its last colon is ambiguous.

#include <cstdint>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::cfg {

/// A parsed listen address.
struct listen_address {
  std::string host;       ///< without brackets: "::1", "127.0.0.1", "localhost"
  std::uint16_t port = 0; ///< 0: any free port
  bool ipv6 = false;      ///< host is an IPv6 literal (it was written in brackets)

  /// "host:port", with the host in brackets for IPv6 ("[::1]:8080"): the form users write, and the
  /// form prometheus-cpp's listener (civetweb) expects.
  std::string text() const;
  /// Field-wise equality.
  bool operator==(const listen_address&) const = default;
};

/// Parses a listen address; the error says what is wrong and shows the expected form.
mi::result<listen_address> parse_listen_address(std::string_view text);

} // namespace mi::cfg
