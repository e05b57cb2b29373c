#include "gateways/http/nonce_store_kv.hpp"

namespace mi::gw {

mi::result<std::shared_ptr<kv_nonce_store>> kv_nonce_store::open(jetstream& js, std::chrono::milliseconds window,
                                                                 std::string bucket) {
  auto ok = js.kv_ensure(bucket, 2 * std::chrono::duration_cast<std::chrono::nanoseconds>(window));
  if (!ok)
    return mi::error{"API nonce store: " + ok.err().message};
  return std::shared_ptr<kv_nonce_store>(new kv_nonce_store(js, std::move(bucket)));
}

mi::result<auth::nonce_outcome> kv_nonce_store::remember(const std::string& key_id, const std::string& nonce,
                                                         std::int64_t forget_at_ms, std::int64_t /*now_ms*/) {
  // The bucket's TTL, not forget_at_ms, bounds the entry's life: 2 x window >= forget_at - now.
  auto created = js_.kv_create(bucket_, key_id + "." + nonce, std::to_string(forget_at_ms));
  if (!created)
    return created.err();
  return *created ? auth::nonce_outcome::fresh : auth::nonce_outcome::replayed;
}

} // namespace mi::gw
