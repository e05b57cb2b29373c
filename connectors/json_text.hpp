#pragma once

// Shared by the exchange codecs (header only): writing JSON text and ASCII case.

#include <string>
#include <string_view>

#include "messages/util/json_writer.hpp"

namespace mi::connectors::text {

// JSON string writing has one home, messages/util/json_writer.hpp; the codecs reach it as text::.
using mi::util::append_json_string;
using mi::util::append_json_string_array;

/// True for 'A'..'Z' and '0'..'9'.
inline bool is_upper_alnum(char c) { return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }

/// ASCII upper-case.
inline char to_upper(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 'a' + 'A') : c; }

/// ASCII lower-case.
inline char to_lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

} // namespace mi::connectors::text
