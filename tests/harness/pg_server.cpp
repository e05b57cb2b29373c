#include "tests/harness/pg_server.hpp"

#include <csignal>
#include <filesystem>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <unistd.h>

namespace mi::test {
namespace {

const std::string pg_bin = "/usr/lib/postgresql/15/bin/";
constexpr auto ready_timeout = std::chrono::seconds(60);
constexpr int start_attempts = 3; // a fresh port each time: free_port() can race with others

void make_owned_dir(const std::string& path, const passwd& pw) {
  std::filesystem::create_directories(path);
  if (chown(path.c_str(), pw.pw_uid, pw.pw_gid) != 0)
    throw std::runtime_error("pg_server: cannot chown " + path + " to postgres");
}

} // namespace

pg_server::pg_server(pg_server_options options)
    : options_(options), dir_("mi-pg"), data_dir_(dir_.path() + "/data"), socket_dir_(dir_.path() + "/sock"),
      log_path_(dir_.path() + "/postgres.log") {
  const passwd* pw = getpwnam("postgres");
  if (pw == nullptr)
    throw std::runtime_error("pg_server: no `postgres` system user (apt-get install postgresql-15)");
  make_owned_dir(data_dir_, *pw);
  make_owned_dir(socket_dir_, *pw);

  auto init = run({pg_bin + "initdb", "-D", data_dir_, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                   "--locale=C.UTF-8", "--no-sync"},
                  {}, true, "postgres");
  if (init.exit_code != 0)
    throw std::runtime_error("pg_server: initdb failed (exit " + std::to_string(init.exit_code) + "):\n" + init.output);

  for (int attempt = 1;; ++attempt) {
    port_ = free_port();
    if (try_start())
      return;
    if (attempt == start_attempts)
      throw std::runtime_error("pg_server: postgres did not start on 127.0.0.1; log tail:\n" + log_tail());
  }
}

pg_server::~pg_server() {
  try {
    stop_immediate();
  } catch (...) {
    // The child_process destructor still kills the group; nothing else to do here.
  }
}

bool pg_server::try_start() {
  std::vector<std::string> argv{pg_bin + "postgres",
                                "-D",
                                data_dir_,
                                "-p",
                                std::to_string(port_),
                                "-k",
                                socket_dir_,
                                "-c",
                                "listen_addresses=127.0.0.1",
                                "-c",
                                "max_connections=50",
                                "-c",
                                "logging_collector=off"};
  if (options_.fast_unsafe) {
    for (const char* setting : {"fsync=off", "synchronous_commit=off", "full_page_writes=off"}) {
      argv.emplace_back("-c");
      argv.emplace_back(setting);
    }
  }
  postmaster_ = std::make_unique<child_process>(argv, log_path_, "postgres");
  bool ready = eventually(
    [&] {
      if (!postmaster_->running())
        return true; // stop polling: it exited
      auto r = run({pg_bin + "pg_isready", "-q", "-h", "127.0.0.1", "-p", std::to_string(port_), "-U", "postgres"});
      return r.exit_code == 0;
    },
    ready_timeout);
  if (ready && postmaster_->running())
    return true;
  postmaster_->kill_hard();
  postmaster_.reset();
  return false;
}

void pg_server::stop_immediate() {
  if (!postmaster_)
    return;
  // SIGQUIT is what `pg_ctl stop -m immediate` sends: no checkpoint, crash recovery on start.
  postmaster_->signal(SIGQUIT);
  if (postmaster_->wait_for(std::chrono::seconds(30)) == -1)
    postmaster_->kill_hard();
  postmaster_.reset();
}

void pg_server::start() {
  if (postmaster_)
    return;
  if (!try_start())
    throw std::runtime_error("pg_server: restart on port " + std::to_string(port_) + " failed; log tail:\n" +
                             log_tail());
}

std::string pg_server::conninfo(const std::string& db) const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=postgres dbname=" + db;
}

std::string pg_server::psql(const std::string& sql, const std::string& db) const {
  // Only errors on stderr, so the merged output is the result unless the command failed.
  auto r = run({pg_bin + "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d",
                conninfo(db) + " options='-c client_min_messages=error'", "-c", sql},
               {}, true);
  if (r.exit_code != 0)
    throw std::runtime_error("psql failed (exit " + std::to_string(r.exit_code) + "): " + r.output + "\nSQL: " + sql);
  while (!r.output.empty() && r.output.back() == '\n')
    r.output.pop_back();
  return r.output;
}

std::string pg_server::log_tail(std::size_t max_bytes) const {
  std::ifstream in(log_path_, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string all = ss.str();
  return all.size() > max_bytes ? all.substr(all.size() - max_bytes) : all;
}

int pg_server::postmaster_pid() const { return postmaster_ ? postmaster_->pid() : -1; }

} // namespace mi::test
