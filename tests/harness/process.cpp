#include "tests/harness/process.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <set>
#include <random>
#include <mutex>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

namespace mi::test {
namespace {

void drop_to_user(const std::string& user) {
  if (user.empty())
    return;
  const passwd* pw = getpwnam(user.c_str());
  if (pw == nullptr)
    _exit(126);
  if (initgroups(user.c_str(), pw->pw_gid) != 0 || setgid(pw->pw_gid) != 0 || setuid(pw->pw_uid) != 0)
    _exit(126);
}

[[noreturn]] void exec_argv(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env) {
  std::vector<char*> args;
  for (auto& a : argv)
    args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  for (auto& e : extra_env)
    putenv(const_cast<char*>(e.c_str()));
  execvp(args[0], args.data());
  _exit(127);
}

} // namespace

child_process::child_process(std::vector<std::string> argv, std::string log_path, std::string as_user,
                             std::vector<std::string> extra_env) {
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error(std::string("fork failed: ") + std::strerror(errno));
  if (pid_ == 0) {
    setpgid(0, 0);
    if (!log_path.empty()) {
      int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      dup2(devnull, 0);
      close(devnull);
    }
    drop_to_user(as_user);
    // A test that dies (timeout, crash) must not leave servers behind.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    exec_argv(argv, extra_env);
  }
  setpgid(pid_, pid_);
}

child_process::~child_process() {
  if (!reaped_)
    kill_hard();
}

void child_process::signal(int sig) {
  if (!reaped_)
    ::kill(pid_, sig);
}

int child_process::wait_for(std::chrono::milliseconds timeout) {
  if (reaped_)
    return status_;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    int st = 0;
    pid_t r = waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = st;
      return st;
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return -1;
    struct timespec ts {
      0, 10'000'000
    };
    nanosleep(&ts, nullptr);
  }
}

void child_process::kill_hard() {
  if (reaped_)
    return;
  ::kill(-pid_, SIGKILL);
  ::kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  reaped_ = true;
  status_ = st;
}

bool child_process::running() { return wait_for(std::chrono::milliseconds(0)) == -1; }

run_result run(const std::vector<std::string>& argv, const std::string& stdin_text, bool merge_stderr,
               const std::string& as_user) {
  int in_pipe[2];
  int out_pipe[2];
  if (pipe(in_pipe) != 0 || pipe(out_pipe) != 0)
    throw std::runtime_error("pipe failed");
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(in_pipe[0], 0);
    dup2(out_pipe[1], 1);
    if (merge_stderr)
      dup2(out_pipe[1], 2);
    close(in_pipe[0]);
    close(in_pipe[1]);
    close(out_pipe[0]);
    close(out_pipe[1]);
    drop_to_user(as_user);
    exec_argv(argv, {});
  }
  close(in_pipe[0]);
  close(out_pipe[1]);
  // Write stdin from a helper thread-free loop: interleave writes and reads to avoid deadlock.
  run_result res;
  std::size_t written = 0;
  bool in_open = true;
  if (stdin_text.empty()) {
    close(in_pipe[1]);
    in_open = false;
  } else {
    fcntl(in_pipe[1], F_SETFL, O_NONBLOCK);
  }
  fcntl(out_pipe[0], F_SETFL, O_NONBLOCK);
  char buf[65536];
  for (;;) {
    bool progress = false;
    if (in_open) {
      ssize_t n = write(in_pipe[1], stdin_text.data() + written, stdin_text.size() - written);
      if (n > 0) {
        written += static_cast<std::size_t>(n);
        progress = true;
      } else if (n < 0 && errno != EAGAIN) {
        written = stdin_text.size();
      }
      if (written == stdin_text.size()) {
        close(in_pipe[1]);
        in_open = false;
      }
    }
    ssize_t n = read(out_pipe[0], buf, sizeof buf);
    if (n > 0) {
      res.output.append(buf, static_cast<std::size_t>(n));
      progress = true;
    } else if (n == 0) {
      break;
    }
    if (!progress) {
      struct timespec ts {
        0, 1'000'000
      };
      nanosleep(&ts, nullptr);
    }
  }
  if (in_open)
    close(in_pipe[1]);
  close(out_pipe[0]);
  int st = 0;
  waitpid(pid, &st, 0);
  res.exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  return res;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

namespace {
/// The first port of the kernel's ephemeral range (outgoing connections take their local ports from it).
int ephemeral_start() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int lo = 0;
  if (in >> lo && lo > 11000)
    return lo;
  return 32768;
}

bool can_bind(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}
} // namespace

// Below the ephemeral range: a port taken from it (bind to port 0) could be handed by the kernel to some process's
// outgoing connection (a PostgreSQL or NATS client of a test running beside) before the server meant to listen on it
// binds it ("Address already in use"). Random, so that tests running in parallel rarely pick the same one, and never
// the same one twice in this process.
int free_port() {
  static std::mutex mu;
  static std::set<int> handed;
  static std::mt19937 rng{std::random_device{}()};
  std::lock_guard lock(mu);
  std::uniform_int_distribution<int> pick(10000, ephemeral_start() - 1);
  for (int attempt = 0; attempt < 1000; ++attempt) {
    int port = pick(rng);
    if (handed.count(port) == 0 && can_bind(port)) {
      handed.insert(port);
      return port;
    }
  }
  throw std::runtime_error("no free port below the ephemeral range after 1000 attempts");
}

bool wait_for_port(int port, std::chrono::milliseconds timeout) {
  return eventually(
    [port] {
      int fd = socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      addr.sin_port = htons(static_cast<std::uint16_t>(port));
      bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
      close(fd);
      return ok;
    },
    timeout);
}

temp_dir::temp_dir(const std::string& prefix) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr)
    throw std::runtime_error("mkdtemp failed");
  path_ = buf.data();
  chmod(path_.c_str(), 0755);
}

temp_dir::~temp_dir() {
  // KEEP_TEST_DIRS=1 keeps every test's directory (logs, data) for a post-mortem of a failure.
  if (const char* keep = std::getenv("KEEP_TEST_DIRS"); keep && *keep == '1') {
    std::fprintf(stderr, "kept %s\n", path_.c_str());
    return;
  }
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

} // namespace mi::test
