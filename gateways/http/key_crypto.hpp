#pragma once

// Encryption at rest of API signing keys (docs/operations.md "API master key").
//
// The HMAC key of an API key (`signing_key`, auth.hpp) is a credential: whoever holds it can sign
// requests. The database therefore stores it sealed with AES-256-GCM under a master key that
// lives outside the database (a file named by `api.master_key_file`, or the environment variable
// MI_API_MASTER_KEY), with a random 96-bit nonce per key and the key id as associated data (a
// sealed value copied onto another key id does not open). A reader of `api_keys` gets ciphertext.
//
// Sealed text (what the column `api_keys.signing_key_enc` holds):
//
//   v1:<fingerprint: 8 hex>:<nonce: 24 hex>:<ciphertext || 16-byte tag: hex>
//
// The fingerprint names the master key that sealed it (the first 4 bytes of
// SHA-256("mi-api-master-key:" || master key)), so a server with the wrong master key says so
// instead of refusing every signature. It reveals nothing usable about the master key.
//
// Pure functions over OpenSSL EVP; no clock, no I/O except load_master_key (one file read).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "messages/result.hpp"

namespace mi::gw::auth {

/// The 32-byte master key and its public fingerprint. Never print `bytes`.
struct master_key {
  std::array<unsigned char, 32> bytes{};
  std::string fingerprint; ///< 8 lower-case hex digits
};

/// A master key from its text: 64 hex digits (surrounding whitespace ignored), e.g. the output of
/// `openssl rand -hex 32`. The error never contains the text.
mi::result<master_key> parse_master_key(std::string_view text);

/// The master key of this process: from `file` (api.master_key_file; must not be readable by
/// group or others) or from `env_value` (MI_API_MASTER_KEY); nullopt when neither is set; an
/// error when both are set, the file cannot be read, is too open, or does not hold a key.
mi::result<std::optional<master_key>> load_master_key(const std::string& file, const char* env_value);

/// AES-256-GCM: ciphertext || 16-byte tag. `iv` must be 12 bytes. Exposed for the test vectors.
mi::result<std::string> aes_256_gcm_seal(const std::array<unsigned char, 32>& key, std::string_view iv,
                                         std::string_view aad, std::string_view plaintext);
/// Inverse of aes_256_gcm_seal; error when the tag does not verify (wrong key, iv, aad or data).
mi::result<std::string> aes_256_gcm_open(const std::array<unsigned char, 32>& key, std::string_view iv,
                                         std::string_view aad, std::string_view sealed);

/// Seals a signing key for storage (fresh random nonce, key id as associated data).
mi::result<std::string> seal_signing_key(const master_key& mk, std::string_view key_id, std::string_view signing_key);
/// Opens a sealed signing key; the error says whether the master key differs (fingerprint) or the
/// value was tampered with / belongs to another key id.
mi::result<std::string> open_signing_key(const master_key& mk, std::string_view key_id, std::string_view sealed);
/// The fingerprint a sealed value names ("" if it is not sealed text).
std::string sealed_fingerprint(std::string_view sealed);

} // namespace mi::gw::auth
