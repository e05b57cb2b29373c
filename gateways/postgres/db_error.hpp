#pragma once

// The error text of a failed libpqxx call (internal to gateways/postgres): "<what>: <server message>",
// marked when PostgreSQL cancelled the statement at statement_timeout (is_statement_timeout).

#include <exception>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::gw::detail {

/// Starts the text of an error that is PostgreSQL cancelling a statement at statement_timeout.
inline constexpr std::string_view timeout_marker = "statement timeout: ";

/// "<what>: <e.what() trimmed>", prefixed with the statement-timeout marker for SQLSTATE 57014.
mi::error db_error(const std::string& what, const std::exception& e);

} // namespace mi::gw::detail
