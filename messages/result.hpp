#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <variant>

namespace mi {

/// What kind of failure an error is. Callers decide by the code (reject, retry, give up), never by
/// parsing the message, which is for people. docs/architecture.md, "Errors".
enum class errc : std::uint8_t {
  unspecified, ///< not classified: the message says what happened
  bad_input,   ///< untrusted input that does not parse or breaks a rule: reject it, count it, go on
  rejected,    ///< a server refused this very data (SQLSTATE class 22/23...): the same data fails again
  unavailable, ///< a server or connection is down, lost or shutting down: retry later
  timeout,     ///< no answer in time: retry
  not_found,   ///< what was asked for does not exist
  limit,       ///< a bound was reached (size, rate, quota, in-flight window)
  // Why a parser refused untrusted input (exchange frames and REST bodies, trade and book codecs): each one is
  // a kind of bad_input (is_bad_input), counted by its name (mi_frames_rejected_total{reason}). A closed set:
  // docs/operations.md "Parser error codes".
  malformed_json,      ///< not JSON, truncated, or not the document's shape (an array where an object belongs)
  missing_field,       ///< a required field is absent
  bad_field,           ///< a field of the wrong type, or a value outside its set (side "x", an empty id)
  bad_number,          ///< a price, quantity, id or level that is not a valid number, not positive, out of range
  bad_timestamp,       ///< a time that does not parse or is out of range
  unknown_symbol,      ///< a symbol the venue's instruments (or its naming rules) do not know
  unsupported_message, ///< well-formed, but a kind the codec does not handle where it expected data
};

/// The codes' names, as in the enum ("unspecified", ..., "limit", "malformed_json", ..., "unsupported_message").
constexpr const char* to_string(errc c) {
  constexpr const char* names[] = {"unspecified", "bad_input",     "rejected",       "unavailable",        "timeout",
                                   "not_found",   "limit",         "malformed_json", "missing_field",      "bad_field",
                                   "bad_number",  "bad_timestamp", "unknown_symbol", "unsupported_message"};
  return names[static_cast<std::uint8_t>(c)];
}

/// Every parser error code, in enum order (the label values of mi_frames_rejected_total).
constexpr errc parse_errcs[] = {errc::malformed_json, errc::missing_field,  errc::bad_field,          errc::bad_number,
                                errc::bad_timestamp,  errc::unknown_symbol, errc::unsupported_message};

/// True for bad_input and for the parser codes (malformed_json ... unsupported_message): untrusted input to reject.
constexpr bool is_bad_input(errc c) { return c == errc::bad_input || c >= errc::malformed_json; }

/// An error: a short reason a user can act on, and its kind.
struct error {
  std::string message;
  errc code = errc::unspecified;
};

/// Value-or-error for parse functions (which never throw).
template <class T>
class result {
public:
  result(T value) : v_(std::move(value)) {} // NOLINT: implicit by design
  result(error e) : v_(std::move(e)) {}     // NOLINT
  explicit operator bool() const { return v_.index() == 0; }
  bool has_value() const { return v_.index() == 0; }
  T& operator*() { return std::get<0>(v_); }
  const T& operator*() const { return std::get<0>(v_); }
  T* operator->() { return &std::get<0>(v_); }
  const T* operator->() const { return &std::get<0>(v_); }
  const error& err() const { return std::get<1>(v_); }

private:
  std::variant<T, error> v_;
};

} // namespace mi
