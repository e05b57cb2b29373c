#pragma once

// The command line of `market-ingestor`: main() is a table of subcommands, each defined (options,
// then what runs it) in the file of the command (run.cpp, replay.cpp, ...).

#include <CLI/CLI.hpp>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace mi::app {

/// A subcommand: its CLI11 node (its options bound to state the command owns) and what runs it once
/// the command line parsed; run() returns the process's exit status.
struct command {
  CLI::App* sub = nullptr;
  std::function<int()> run;
};

command add_run(CLI::App& app);
command add_simulate(CLI::App& app);
command add_decode(CLI::App& app);
command add_book(CLI::App& app);
command add_aggregate(CLI::App& app);
command add_migrate(CLI::App& app);
command add_replay(CLI::App& app);
command add_audit(CLI::App& app);
command add_dlq(CLI::App& app);
command add_tail(CLI::App& app);
command add_apikey(CLI::App& app);
command add_loadtest(CLI::App& app);
command add_alpaca_daily(CLI::App& app);

/// "a,b,,c" -> {"a", "b", "c"}.
std::vector<std::string> split_csv(const std::string& s);

/// The configuration of a command: the YAML file `path` ("" = defaults), MI_* environment
/// variables over it. When it does not load, prints every error (key and reason) on stderr and
/// returns nullopt: the command then exits 2 before it starts anything.
std::optional<mi::cfg::config> load_config(const std::string& path);

/// decode --exchange: the option's help.
inline constexpr const char* decode_exchanges_help = "binance";

/// The example configuration, the default of --config where a command needs one.
inline constexpr const char* default_config_path = "config/market-ingestor.example.yaml";

} // namespace mi::app
