// `market-ingestor apikey create|list|revoke`: API keys of the REST API and the push gateway.
#include <iostream>

#include "app/commands.hpp"
#include "gateways/http/history.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/push/push_protocol.hpp"

namespace mi::app {

int run_apikey_create(const std::string& dsn, const std::string& name, std::optional<std::int64_t> quota_per_minute) {
  auto k = mi::gw::create_api_key(dsn, name, quota_per_minute);
  if (!k) {
    std::cerr << k.err().message << "\n";
    return 1;
  }
  std::cout << "key_id: " << k->key_id << "\n"
            << "secret: " << k->secret << "\n"
            << "The secret is shown only this once; the server keeps only SHA-256(key_id \":\" secret).\n";
  return 0;
}

int run_apikey_list(const std::string& dsn) {
  auto keys = mi::gw::list_api_keys(dsn);
  if (!keys) {
    std::cerr << keys.err().message << "\n";
    return 1;
  }
  std::cout << "key_id\tname\tcreated\trevoked\tquota_per_minute\n";
  for (const auto& k : *keys)
    std::cout << k.key_id << "\t" << k.name << "\t" << k.created_at << "\t" << k.revoked_at.value_or("-") << "\t"
              << (k.quota_per_minute ? std::to_string(*k.quota_per_minute) : std::string("default")) << "\n";
  return 0;
}

int run_apikey_revoke(const std::string& dsn, const std::string& key_id, const std::string& nats_url) {
  auto k = mi::gw::revoke_api_key(dsn, key_id);
  if (!k) {
    std::cerr << k.err().message << "\n";
    return 1;
  }
  std::cout << "revoked " << k->key_id << " (" << k->name << ") at " << k->revoked_at.value_or("?") << "\n";
  if (nats_url.empty())
    return 0;
  // The key is revoked either way; the announcement only makes push gateways act at once.
  mi::gw::jetstream::options o;
  o.url = nats_url;
  o.name = "market-ingestor apikey";
  o.connect_timeout = std::chrono::seconds(3);
  auto js = mi::gw::jetstream::connect(o);
  auto sent = js ? (*js)->publish_core(std::string(mi::gw::apikey_revoked_subject), k->key_id)
                 : mi::result<bool>(js.err());
  if (!sent) {
    std::cerr << "warning: could not announce the revocation on " << mi::gw::apikey_revoked_subject << ": "
              << sent.err().message << "\n"
              << "push sessions opened with this key close at the gateways' next key check "
                 "(push.key_check_interval)\n";
    return 0;
  }
  std::cout << "announced on " << mi::gw::apikey_revoked_subject << "\n";
  return 0;
}

} // namespace mi::app
