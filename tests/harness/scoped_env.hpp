#pragma once
// An environment variable set for one test's scope (e.g. the Alpaca key the platform reads), unset at its end.

#include <cstdlib>
#include <string>

namespace mi::test {

struct scoped_env {
  std::string name;
  scoped_env(std::string n, const std::string& v) : name(std::move(n)) { ::setenv(name.c_str(), v.c_str(), 1); }
  ~scoped_env() { ::unsetenv(name.c_str()); }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;
};

} // namespace mi::test
