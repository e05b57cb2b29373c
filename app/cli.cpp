// The command line's shared pieces: the config preamble of every command, CSV lists.
#include "app/cli.hpp"

#include <iostream>

namespace mi::app {

std::vector<std::string> split_csv(const std::string& s) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= s.size()) {
    auto end = s.find(',', start);
    auto part = s.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!part.empty())
      out.push_back(part);
    if (end == std::string::npos)
      break;
    start = end + 1;
  }
  return out;
}

std::optional<mi::cfg::config> load_config(const std::string& path) {
  auto loaded = path.empty() ? mi::cfg::load("", mi::cfg::process_env()) : mi::cfg::load_file(path);
  if (auto* errs = std::get_if<std::vector<mi::cfg::config_error>>(&loaded)) {
    std::cerr << mi::cfg::format_errors(*errs);
    return std::nullopt;
  }
  return std::get<mi::cfg::config>(std::move(loaded));
}

} // namespace mi::app
