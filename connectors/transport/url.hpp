#pragma once

#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::net {

/// Parsed ws://, wss://, http://, https:// URL.
struct url {
  bool tls = false;   ///< wss or https
  std::string scheme; ///< lower case: ws, wss, http, https
  std::string host;   ///< name or IPv4 address; an IPv6 literal without its brackets
  std::string port;   ///< decimal; 80/443 by default
  std::string target; ///< path and query, "/" when empty

  /// "host/target" as used in error messages ("api.binance.com/api/v3/ping").
  std::string host_and_target() const;

  friend bool operator==(const url&, const url&) = default;
};

/// Parses a URL: default ports 80/443, target "/" when empty; error on a bad scheme, host or port,
/// user info, or a fragment.
mi::result<url> parse_url(std::string_view text);

} // namespace mi::net
