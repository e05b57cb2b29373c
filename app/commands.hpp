#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace mi::app {

/// `run`: the platform with the given roles (ingest, kline, store, push, api); returns the exit code.
int run_platform(const std::string& config_path, const std::vector<std::string>& roles);
/// `migrate`: applies the embedded migrations to `dsn`.
int run_migrate(const std::string& dsn);
/// `decode --exchange X`: frames on stdin -> trades on stdout.
int run_decode(const std::string& exchange);
/// `aggregate`: trades on stdin -> final klines on stdout.
int run_aggregate(const std::vector<std::string>& intervals, const std::string& grace);
/// `replay`: rebuilds the klines of [from_ms, to_ms) from MARKET_RAW, publishes and stores them.
int run_replay(const std::string& config_path, const std::string& from, const std::string& to,
               const std::vector<std::string>& symbols);
/// `tail CHANNEL...`: prints what the push gateway sends; stops after `count` data frames (0 = never).
int run_tail(const std::string& url, const std::vector<std::string>& channels, std::uint64_t count);

/// `apikey create --name N [--quota-per-minute Q]`: prints the key id and the secret (once).
int run_apikey_create(const std::string& dsn, const std::string& name, std::optional<std::int64_t> quota_per_minute);
/// `apikey list`: id, name, created, revoked, quota of every key (never a secret).
int run_apikey_list(const std::string& dsn);
/// `apikey revoke ID`.
int run_apikey_revoke(const std::string& dsn, const std::string& key_id);

} // namespace mi::app
