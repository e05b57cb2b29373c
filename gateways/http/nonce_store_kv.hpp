#pragma once

// Nonces shared by every API process and surviving restarts: a JetStream key-value bucket whose
// entries expire after 2 x api.timestamp_window (docs/api.md "Nonces").
//
// One key per accepted request, `<key id>.<nonce>` (both are legal KV key tokens: the precheck
// allows only mik_ + hex and [A-Za-z0-9_-]), written with kvStore_Create: the server stores it
// only if the key holds no value, so of two API processes that receive the same signed request
// exactly one accepts it. The TTL is twice the window because a timestamp up to one window ahead
// of the server clock is accepted and stays acceptable until one window after itself.

#include <chrono>
#include <memory>
#include <string>

#include "gateways/http/auth.hpp"
#include "gateways/jetstream/jetstream.hpp"

namespace mi::gw {

/// The bucket's default name.
inline constexpr const char* api_nonce_bucket = "MI_API_NONCES";

/// auth::nonce_store over a JetStream KV bucket. Thread-safe (nats.c is).
class kv_nonce_store : public auth::nonce_store {
public:
  /// Creates the bucket (or sets its TTL to 2 x window); `js` must outlive the store.
  static mi::result<std::shared_ptr<kv_nonce_store>> open(jetstream& js, std::chrono::milliseconds window,
                                                          std::string bucket = api_nonce_bucket);

  mi::result<auth::nonce_outcome> remember(const std::string& key_id, const std::string& nonce,
                                           std::int64_t forget_at_ms, std::int64_t now_ms) override;

private:
  kv_nonce_store(jetstream& js, std::string bucket) : js_(js), bucket_(std::move(bucket)) {}
  jetstream& js_;
  const std::string bucket_;
};

} // namespace mi::gw
