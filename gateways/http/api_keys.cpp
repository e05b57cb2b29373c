#include "gateways/http/api_keys.hpp"

namespace mi::gw {

mi::result<created_key> create_api_key(const std::string& conninfo, const std::string& name,
                                       std::optional<std::int64_t> quota_per_minute, const auth::master_key& mk) {
  if (name.empty())
    return mi::error{"apikey create: --name must not be empty"};
  if (quota_per_minute && (*quota_per_minute < 1 || *quota_per_minute > 1'000'000'000))
    return mi::error{"apikey create: --quota-per-minute must be between 1 and 1000000000, got " +
                     std::to_string(*quota_per_minute)};
  auto id = auth::random_hex(12);
  auto secret = auth::random_hex(32);
  if (!id)
    return id.err();
  if (!secret)
    return secret.err();
  created_key k{"mik_" + *id, *secret};
  auto sealed = auth::seal_signing_key(mk, k.key_id, auth::signing_key(k.key_id, k.secret));
  if (!sealed)
    return sealed.err();
  if (auto stored = insert_api_key(conninfo, k.key_id, name, *sealed, quota_per_minute); !stored)
    return stored.err();
  return k;
}

mi::result<std::size_t> seal_clear_api_keys(const std::string& conninfo, const auth::master_key& mk) {
  return reseal_api_key_rows(conninfo, "seal API keys",
                             [&](const std::string& id, const std::optional<std::string>& clear,
                                 const std::optional<std::string>&) -> mi::result<std::optional<std::string>> {
                               if (!clear)
                                 return std::optional<std::string>{};
                               auto s = auth::seal_signing_key(mk, id, *clear);
                               if (!s)
                                 return s.err();
                               return std::optional<std::string>{std::move(*s)};
                             });
}

mi::result<std::size_t> reseal_api_keys(const std::string& conninfo, const auth::master_key& old_mk,
                                        const auth::master_key& new_mk) {
  return reseal_api_key_rows(conninfo, "re-seal API keys",
                             [&](const std::string& id, const std::optional<std::string>& clear,
                                 const std::optional<std::string>& sealed) -> mi::result<std::optional<std::string>> {
                               std::string sk;
                               if (clear) {
                                 sk = *clear;
                               } else if (sealed && auth::sealed_fingerprint(*sealed) == new_mk.fingerprint &&
                                          new_mk.fingerprint != old_mk.fingerprint) {
                                 return std::optional<std::string>{}; // done by an earlier, interrupted run
                               } else {
                                 auto opened = auth::open_signing_key(old_mk, id, sealed.value_or(""));
                                 if (!opened)
                                   return opened.err();
                                 sk = std::move(*opened);
                               }
                               auto s = auth::seal_signing_key(new_mk, id, sk);
                               if (!s)
                                 return s.err();
                               return std::optional<std::string>{std::move(*s)};
                             });
}

} // namespace mi::gw
