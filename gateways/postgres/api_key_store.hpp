#pragma once

// The api_keys table (deploy/sql 0003, 0004): the SQL of `apikey create|list|revoke|reseal` and of
// `migrate`'s sealing of keys stored in clear. The keys' cryptography is the caller's
// (gateways/http/api_keys.hpp): here a signing key is an opaque sealed text.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "messages/result.hpp"

namespace mi::gw {

/// One row of `apikey list` (never the secret or the signing key).
struct api_key_info {
  std::string key_id;
  std::string name;
  std::string created_at;                       ///< "YYYY-MM-DD HH:MM:SS+00"
  std::optional<std::string> revoked_at;        ///< set when revoked
  std::optional<std::int64_t> quota_per_minute; ///< nullopt: the configured default
};

/// Stores a new key with its sealed signing key; `quota_per_minute` nullopt: the configured default.
/// Error naming `what` (e.g. "apikey create"); a missing table says to run `migrate`.
mi::result<bool> insert_api_key(const std::string& conninfo, const std::string& key_id, const std::string& name,
                                const std::string& sealed_signing_key, std::optional<std::int64_t> quota_per_minute);

/// The new sealed signing key of one row, given its id, its clear signing key (a row from before
/// 0004) and its sealed one; nullopt: leave the row as it is; an error stops everything.
using reseal_fn = std::function<mi::result<std::optional<std::string>>(
  const std::string& key_id, const std::optional<std::string>& clear, const std::optional<std::string>& sealed)>;

/// Rewrites the signing key of every row `change` returns a new sealed value for (clearing the clear
/// column), in one transaction with the rows locked; returns how many changed. An error from
/// `change` rolls everything back ("<what>: <error> (nothing changed)"); no api_keys table: 0.
mi::result<std::size_t> reseal_api_key_rows(const std::string& conninfo, const char* what, const reseal_fn& change);

/// Every key, oldest first.
mi::result<std::vector<api_key_info>> list_api_keys(const std::string& conninfo);
/// Revokes a key; error if no such key or already revoked (the message says which).
mi::result<api_key_info> revoke_api_key(const std::string& conninfo, const std::string& key_id);

} // namespace mi::gw
