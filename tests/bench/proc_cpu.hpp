#pragma once

// CPU seconds (utime + stime) a process has used, from /proc/<pid>/stat (10 ms resolution): the benchmarks' reading
// of a server's cost (mi_bench_saver: the PostgreSQL backend; mi_bench_lagging_pull: nats-server).

#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>

namespace mi::bench {

inline double proc_cpu(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  auto close = text.rfind(')'); // the command name may hold spaces and parentheses
  if (close == std::string::npos)
    throw std::runtime_error("cannot read /proc/" + std::to_string(pid) + "/stat");
  std::istringstream in(text.substr(close + 2)); // fields from 3 (state) on
  std::string tok;
  double utime = 0, stime = 0;
  for (int field = 3; field <= 15 && (in >> tok); ++field) {
    if (field == 14)
      utime = std::stod(tok);
    if (field == 15)
      stime = std::stod(tok);
  }
  return (utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

} // namespace mi::bench
