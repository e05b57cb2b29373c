#pragma once

// Request authentication of the REST API and the push gateway: API-key records, HMAC-SHA256
// signatures over a canonical request string, a timestamp window, nonce replay protection and a
// per-key token-bucket quota. Pure except for `authenticator`'s small in-memory state (thread-safe);
// the current time is always passed in, never read from a clock here. See docs/api.md "Signing".
//
// Key design (docs/api.md, docs/operations.md): `apikey create` draws a random key id and a random
// secret and prints both once. The HMAC key is `signing_key = hex(SHA-256(key_id ":" secret))`
// (the key id is the per-key salt); the client computes the same signing key. The server never
// stores the secret, and stores the signing key only sealed with the master key (key_crypto.hpp),
// so a copy of the `api_keys` table signs nothing.

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "messages/result.hpp"

namespace mi::gw::auth {

/// Lower-case hex of SHA-256(data).
std::string sha256_hex(std::string_view data);
/// Lower-case hex of HMAC-SHA256(key, data).
std::string hmac_sha256_hex(std::string_view key, std::string_view data);
/// `n` bytes from OpenSSL's CSPRNG as lower-case hex (2n characters); error if the RNG fails.
mi::result<std::string> random_hex(std::size_t n);
/// Constant-time comparison of two strings (length leaks, content does not).
bool equal_constant_time(std::string_view a, std::string_view b);
/// Lower-case hex of arbitrary bytes.
std::string hex_encode(std::string_view bytes);
/// Bytes of an even-length hex text (either case); error on anything else.
mi::result<std::string> hex_decode(std::string_view hex);

/// The HMAC key of an API key: hex(SHA-256(key_id ":" secret)). What the server stores and
/// what the client signs with.
std::string signing_key(std::string_view key_id, std::string_view secret);

/// One query parameter, percent-decoded.
struct query_param {
  std::string name;
  std::string value;
  /// Field-wise equality.
  bool operator==(const query_param&) const = default;
};

/// Splits a raw query string ("a=1&b=x%20y", without '?') into decoded parameters, in order.
/// '+' is a literal plus (not a space). Error naming the parameter on bad percent-encoding.
mi::result<std::vector<query_param>> parse_query(std::string_view raw);

/// RFC 3986 percent-encoding: A-Z a-z 0-9 - . _ ~ stay, every other byte becomes %XX (upper case).
std::string percent_encode(std::string_view s);

/// The canonical query: parameters sorted by name then value (byte order), each
/// `percent_encode(name) "=" percent_encode(value)`, joined by '&'. Parameters named in
/// `exclude` (the push token's own key/ts/nonce/sig) are left out.
std::string canonical_query(std::vector<query_param> params, const std::vector<std::string_view>& exclude = {});

/// True when a request target ("/path?query") carries any push-token parameter (key, ts, nonce,
/// sig); such a token is then checked even where anonymous clients are allowed.
bool has_push_token(std::string_view target);

/// The signed text: `timestamp "\n" METHOD "\n" path "\n" canonical_query`.
std::string string_to_sign(std::string_view timestamp, std::string_view method, std::string_view path,
                           std::string_view canonical_query);

/// A stored API key as the verifier needs it.
struct key_record {
  std::string key_id;
  std::string signing_key; ///< hex(SHA-256(key_id ":" secret)), in clear (opened by the caller)
  bool revoked = false;
  std::int64_t quota_per_minute = 0; ///< 0: the configured default
  std::string sealed_signing_key;    ///< as stored (key_crypto.hpp), when read from the database
};

/// Why a request was refused (each has a metrics label and a distinct message).
enum class reject {
  none,
  missing_credentials, ///< a header/parameter is missing
  malformed,           ///< key id not mik_ + 24 hex, timestamp not an integer, nonce not [A-Za-z0-9_-]{1,64},
                       ///< signature not 64 hex digits
  unknown_key,
  revoked_key,
  expired_timestamp, ///< outside the window
  bad_signature,
  replayed_nonce,
  quota_exceeded,          ///< HTTP 429
  nonce_store_unavailable, ///< HTTP 503: the shared nonce store did not answer
};

/// The metrics label of a reason ("bad_signature", ...).
std::string_view reason_label(reject r);

/// True for a key id as `apikey create` issues them: "mik_" followed by 24 lower-case hex digits.
bool valid_key_id(std::string_view id);

/// The credentials a request carries (headers for REST, query for the push token).
struct credentials {
  std::string key_id;
  std::string timestamp; ///< ms since the epoch, decimal text
  std::string nonce;
  std::string signature; ///< hex HMAC-SHA256
};

/// The outcome of `authenticator::check`.
struct decision {
  reject reason = reject::none;
  std::string message;            ///< for the client, names what is wrong
  std::int64_t retry_after_s = 0; ///< quota_exceeded only: seconds until a token is available
  /// True when the request may proceed.
  bool ok() const { return reason == reject::none; }
};

/// What a nonce store says about a (key, nonce).
enum class nonce_outcome {
  fresh,    ///< not seen before; now remembered
  replayed, ///< already remembered: a replay
  full,     ///< the store holds as many nonces of this key as it may (refused like a quota)
};

/// Where accepted nonces are remembered until their timestamp can no longer pass the window.
/// Implementations are thread-safe. The JetStream one (nonce_store_kv.hpp) is shared by every API
/// process and survives restarts; memory_nonce_store is one process's memory.
class nonce_store {
public:
  virtual ~nonce_store() = default;
  /// Remembers (key_id, nonce) until at least `forget_at_ms` unless already remembered; atomic
  /// (two concurrent calls with the same pair: exactly one gets `fresh`). Error: the store did not
  /// answer (the request is refused with 503, never let through).
  virtual mi::result<nonce_outcome> remember(const std::string& key_id, const std::string& nonce,
                                             std::int64_t forget_at_ms, std::int64_t now_ms) = 0;
};

/// Nonces in this process's memory: bounded by `max_per_key` per key (beyond: `full`), each
/// forgotten at its `forget_at_ms`. Thread-safe.
class memory_nonce_store : public nonce_store {
public:
  explicit memory_nonce_store(std::size_t max_per_key = 100000) : max_per_key_(max_per_key) {}
  mi::result<nonce_outcome> remember(const std::string& key_id, const std::string& nonce, std::int64_t forget_at_ms,
                                     std::int64_t now_ms) override;
  /// Nonces remembered now (all keys).
  std::size_t size() const;

private:
  struct key_nonces {
    std::unordered_map<std::string, std::int64_t> expiry;   ///< nonce -> forget after (ms)
    std::deque<std::pair<std::int64_t, std::string>> order; ///< (expiry, nonce), oldest first
  };
  static void prune(key_nonces& kn, std::int64_t now_ms);

  const std::size_t max_per_key_;
  mutable std::mutex mu_;
  std::map<std::string, key_nonces> nonces_; // guarded by mu_
};

/// Limits of the authenticator.
struct auth_options {
  std::chrono::milliseconds window{5000};       ///< |now - timestamp| allowed
  std::int64_t default_quota_per_minute = 1200; ///< token bucket size and refill per minute
};

/// Verifies signed requests. Thread-safe: quota buckets live behind one mutex (held for
/// microseconds); the key lookup happens before, and the nonce store is called after, outside it.
///
/// Cheap checks first: `precheck` needs no key, so a flood of unsigned, malformed or stale
/// requests is refused before anything reaches the database (api.cpp calls it before the key
/// lookup). Only requests with a valid signature from a live key reach the nonce store.
class authenticator {
public:
  /// `nonces`: where accepted nonces go; nullptr: a memory_nonce_store of this process.
  explicit authenticator(auth_options o, std::shared_ptr<nonce_store> nonces = nullptr);

  /// The checks that need no key: credentials present, key id / timestamp / nonce / signature
  /// well-formed, timestamp within the window of `now_ms`.
  decision precheck(const credentials& c, std::int64_t now_ms) const;

  /// Checks `c` for a request `method path?query` at `now_ms`, given the stored key (nullopt:
  /// unknown key id) with its signing key in clear. Order: precheck, key known and not revoked,
  /// signature, quota, nonce unused. A refused request costs no quota and stores no nonce.
  decision check(const credentials& c, const std::optional<key_record>& key, std::string_view method,
                 std::string_view path, std::string_view canonical_query, std::int64_t now_ms);

private:
  struct bucket {
    double tokens = 0;
    std::int64_t last_ms = 0;
    bool initialized = false;
  };

  auth_options opts_;
  std::shared_ptr<nonce_store> nonces_;
  mutable std::mutex mu_;
  std::map<std::string, bucket> buckets_; // guarded by mu_
};

/// A pure token bucket (the quota of one key): `capacity` tokens, refilled at capacity per minute.
/// Exposed for tests. Returns 0 if a token was taken, else the seconds to wait (>= 1).
std::int64_t take_token(double& tokens, std::int64_t& last_ms, std::int64_t capacity, std::int64_t now_ms);

} // namespace mi::gw::auth
