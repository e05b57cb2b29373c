#pragma once

#include <chrono>
#include <string>
#include <sys/types.h>
#include <vector>

namespace mi::test {

/// A child process started with fork/exec in its own process group; killed (SIGKILL to the
/// group) when destroyed unless it already exited.
class child_process {
public:
  /// Starts argv[0] (searched in PATH) with the arguments; stdout/stderr go to `log_path`
  /// (appended) when given, else are inherited. `as_user`: run as that user (via setuid) when
  /// non-empty (PostgreSQL refuses root). Throws std::runtime_error if the fork/exec fails.
  explicit child_process(std::vector<std::string> argv, std::string log_path = {}, std::string as_user = {},
                         std::vector<std::string> extra_env = {});
  child_process(const child_process&) = delete;
  child_process& operator=(const child_process&) = delete;
  ~child_process();

  pid_t pid() const { return pid_; }
  /// Sends a signal to the process (not the group).
  void signal(int sig);
  /// Waits for exit up to `timeout`; returns the exit status (as from waitpid) or -1 on timeout.
  int wait_for(std::chrono::milliseconds timeout);
  /// SIGKILL to the whole group and reap.
  void kill_hard();
  bool running();

private:
  pid_t pid_ = -1;
  bool reaped_ = false;
  int status_ = 0;
};

/// Runs a command to completion; returns its exit code and captures stdout (stderr too when
/// `merge_stderr`). Throws on fork failure.
struct run_result {
  int exit_code = -1;
  std::string output;
};
run_result run(const std::vector<std::string>& argv, const std::string& stdin_text = {}, bool merge_stderr = false,
               const std::string& as_user = {});

/// A free TCP port on 127.0.0.1, below the kernel's ephemeral range (so no outgoing connection takes it before a
/// server binds it), random, never the same twice in a process.
int free_port();

/// A fresh directory under $TMPDIR (or /tmp), mode 0755, removed recursively on destruction.
class temp_dir {
public:
  explicit temp_dir(const std::string& prefix = "mi-test");
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

/// Polls `pred` every 20 ms until it holds or `timeout` passes; returns the last value.
template <class Pred>
bool eventually(Pred pred, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (pred())
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    struct timespec ts {
      0, 20'000'000
    };
    nanosleep(&ts, nullptr);
  }
}

/// The whole content of a file ("" if it cannot be read).
std::string read_file(const std::string& path);

/// Waits until something accepts TCP connections on 127.0.0.1:port.
bool wait_for_port(int port, std::chrono::milliseconds timeout);

} // namespace mi::test
