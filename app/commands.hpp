#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "messages/result.hpp"
#include "gateways/postgres/partitions.hpp"

namespace mi::app {

/// Milliseconds since the epoch from "1767225600000" or an RFC 3339 time ("2026-11-01T00:00:00Z").
mi::result<std::int64_t> parse_time_ms(const std::string& s);
/// `run`: the platform with the given roles (ingest, kline, store, push, api); returns the exit code.
int run_platform(const std::string& config_path, const std::vector<std::string>& roles);
/// `migrate`: applies the embedded migrations to `dsn`, then maintains the partitions by `policy`
/// (so the partitions ahead exist before the platform's first insert).
int run_migrate(const std::string& dsn, const mi::gw::partition_policy& policy);
/// The partition policy of a configuration (storage.*).
mi::gw::partition_policy storage_policy(const mi::cfg::config& cfg);
/// `audit --from --to`: MARKET_RAW versus market_trades per (exchange, symbol, hour) and kline
/// trade counts; prints each mismatch and a summary. 0 clean, 1 mismatches, 2 usage or connection error.
int run_audit(const std::string& config_path, const std::string& from, const std::string& to);
/// `decode --exchange X`: frames on stdin -> trades on stdout.
int run_decode(const std::string& exchange);
/// `aggregate`: trades on stdin -> final klines on stdout. Exit status 0; 1 when a line was malformed or a
/// trade was skipped as unrepresentable or beyond the clock skew (each named on stderr, the rest goes on); 2 on
/// bad arguments.
int run_aggregate(const std::vector<std::string>& intervals, const std::string& grace);
/// `replay`: rebuilds the klines of [from_ms, to_ms) from MARKET_RAW, publishes and stores them.
int run_replay(const std::string& config_path, const std::string& from, const std::string& to,
               const std::vector<std::string>& symbols);
/// `dlq list|redrive|drop`: lists MARKET_DLQ (one line per dead letter: sequence, original
/// stream/sequence/subject/id, attempts, reason), or republishes the messages `seqs` (or all) to
/// their original subject and deletes them, or deletes them. 0 done, 2 usage or connection error.
int run_dlq(const std::string& config_path, const std::string& action, const std::vector<std::uint64_t>& seqs,
            bool all);
/// `tail CHANNEL...`: prints what the push gateway sends; stops after `count` data frames (0 = never).
int run_tail(const std::string& url, const std::vector<std::string>& channels, std::uint64_t count);

/// `apikey create --name N [--quota-per-minute Q]`: prints the key id and the secret (once).
int run_apikey_create(const std::string& dsn, const std::string& name, std::optional<std::int64_t> quota_per_minute);
/// `apikey list`: id, name, created, revoked, quota of every key (never a secret).
int run_apikey_list(const std::string& dsn);
/// `apikey revoke ID`.
int run_apikey_revoke(const std::string& dsn, const std::string& key_id);

} // namespace mi::app
