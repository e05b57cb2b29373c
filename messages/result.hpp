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
};

/// "unspecified", "bad_input", "rejected", "unavailable", "timeout", "not_found", "limit".
constexpr const char* to_string(errc c) {
  constexpr const char* names[] = {"unspecified", "bad_input", "rejected", "unavailable",
                                   "timeout",     "not_found", "limit"};
  return names[static_cast<std::uint8_t>(c)];
}

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
