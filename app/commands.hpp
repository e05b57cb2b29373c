#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "messages/result.hpp"
#include "gateways/http/key_crypto.hpp"
#include "gateways/postgres/partitions.hpp"

namespace mi::gw {
class jetstream;
class js_message;
} // namespace mi::gw

namespace mi::app {

/// Milliseconds since the epoch from "1767225600000" or an RFC 3339 time ("2026-11-01T00:00:00Z").
mi::result<std::int64_t> parse_time_ms(const std::string& s);
/// `run`: the platform with the given roles (ingest, kline, store, push, api); returns the exit code.
/// `roles_given` false: `roles` is the default set, to which `documents` is added when a document source is enabled.
int run_platform(const std::string& config_path, std::vector<std::string> roles, bool roles_given = true);
/// `migrate`: applies the embedded migrations to `dsn`, then maintains the partitions by `policy`
/// (so the partitions ahead exist before the platform's first insert).
/// With a master key at hand (`master_key_file` or MI_API_MASTER_KEY) it also seals API signing
/// keys still stored in clear.
int run_migrate(const std::string& dsn, const mi::gw::partition_policy& policy, const std::string& master_key_file);
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
int run_aggregate(const std::vector<std::string>& intervals, const std::string& grace, const std::string& market = "",
                  const std::string& calendars_dir = "");
/// `replay`: rebuilds the klines of [from_ms, to_ms) from MARKET_RAW, publishes and stores them.
int run_replay(const std::string& config_path, const std::string& from, const std::string& to,
               const std::vector<std::string>& symbols);
/// Publishes the dead letter `msg` (sequence `seq` of `dlq_stream`) to its original subject again and deletes it from
/// the DLQ (`dlq redrive`, the console's redrive action): where it went, "subject (seq N)".
mi::result<std::string> redrive_dead_letter(mi::gw::jetstream& js, const std::string& dlq_stream,
                                            const mi::gw::js_message& msg, std::uint64_t seq);
/// `dlq list|redrive|drop`: lists MARKET_DLQ (one line per dead letter: sequence, original
/// stream/sequence/subject/id, attempts, reason), or republishes the messages `seqs` (or all) to
/// their original subject and deletes them, or deletes them. 0 done, 2 usage or connection error.
int run_dlq(const std::string& config_path, const std::string& action, const std::vector<std::uint64_t>& seqs,
            bool all);
/// `tail CHANNEL...`: prints what the push gateway sends; stops after `count` data frames (0 = never).
int run_tail(const std::string& url, const std::vector<std::string>& channels, std::uint64_t count);

/// The master key of a command: `file` (--master-key-file or api.master_key_file) or MI_API_MASTER_KEY.
mi::result<std::optional<mi::gw::auth::master_key>> command_master_key(const std::string& file);
/// `apikey create --name N [--quota-per-minute Q]`: prints the key id and the secret (once); stores
/// the signing key sealed with the master key (required). Every `apikey` command also seals keys
/// still stored in clear when the master key is at hand.
int run_apikey_create(const std::string& dsn, const std::string& name, std::optional<std::int64_t> quota_per_minute,
                      const std::string& master_key_file);
/// `apikey list`: id, name, created, revoked, quota of every key (never a secret).
int run_apikey_list(const std::string& dsn, const std::string& master_key_file);
/// `apikey revoke ID`: marks the key revoked, then (when `nats_url` is not empty) announces the key id on
/// `market.control.apikey.revoked` so push gateways close its sessions at once.
int run_apikey_revoke(const std::string& dsn, const std::string& key_id, const std::string& master_key_file,
                      const std::string& nats_url);
/// `apikey reseal --old-master-key-file F`: master key rotation (every key re-sealed, one transaction).
int run_apikey_reseal(const std::string& dsn, const std::string& master_key_file, const std::string& old_key_file);

} // namespace mi::app
