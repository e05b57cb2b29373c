#pragma once

// API key administration with its cryptography: a new key's random id and secret, its signing
// key sealed with the master key (key_crypto.hpp), re-sealing on master key rotation. The SQL is
// gateways/postgres/api_key_store.hpp's (listing and revoking need no key material: use it directly).

#include <cstdint>
#include <optional>
#include <string>

#include "gateways/http/auth.hpp"
#include "gateways/http/key_crypto.hpp"
#include "gateways/postgres/api_key_store.hpp"
#include "messages/result.hpp"

namespace mi::gw {

/// A key just created: the only time the secret exists outside the client.
struct created_key {
  std::string key_id; ///< "mik_" + 24 hex digits
  std::string secret; ///< 64 hex digits
};

/// Creates a key (random id and secret from OpenSSL) and stores its signing key sealed with `mk`
/// (never in clear). Error if the name is empty or the quota < 1.
mi::result<created_key> create_api_key(const std::string& conninfo, const std::string& name,
                                       std::optional<std::int64_t> quota_per_minute, const auth::master_key& mk);
/// Seals every signing key still stored in clear (rows from before 0004) with `mk` and clears the
/// clear column; returns how many. Nothing to do (0) when every row is sealed already.
mi::result<std::size_t> seal_clear_api_keys(const std::string& conninfo, const auth::master_key& mk);
/// Master key rotation: re-seals with `new_mk` every key sealed with `old_mk` (and seals clear
/// ones), in one transaction; returns how many rows changed. Error (nothing changed) if a row is
/// sealed with a third master key or does not open.
mi::result<std::size_t> reseal_api_keys(const std::string& conninfo, const auth::master_key& old_mk,
                                        const auth::master_key& new_mk);
} // namespace mi::gw
