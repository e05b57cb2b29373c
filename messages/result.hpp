#pragma once

#include <string>
#include <utility>
#include <variant>

namespace mi {

/// An error for untrusted input: a short reason a user can act on.
struct error {
  std::string message;
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
