// `market-ingestor apikey create|list|revoke|reseal`: API keys of the REST API and the push gateway.
#include <cstdlib>
#include <iostream>

#include "app/commands.hpp"
#include "gateways/http/api_keys.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/push/push_protocol.hpp"
#include "gateways/http/key_crypto.hpp"

namespace mi::app {
namespace {

/// Seals keys still stored in clear when the master key is at hand; says what it did.
bool seal_clear_keys(const std::string& dsn, const std::optional<mi::gw::auth::master_key>& mk, const char* who) {
  if (!mk)
    return true;
  auto n = mi::gw::seal_clear_api_keys(dsn, *mk);
  if (!n) {
    std::cerr << who << ": " << n.err().message << "\n";
    return false;
  }
  if (*n > 0)
    std::cerr << who << ": sealed " << *n << " signing key(s) stored in clear with master key " << mk->fingerprint
              << "\n";
  return true;
}

} // namespace

mi::result<std::optional<mi::gw::auth::master_key>> command_master_key(const std::string& file) {
  return mi::gw::auth::load_master_key(file, std::getenv("MI_API_MASTER_KEY"));
}

int run_apikey_create(const std::string& dsn, const std::string& name, std::optional<std::int64_t> quota_per_minute,
                      const std::string& master_key_file) {
  auto mk = command_master_key(master_key_file);
  if (!mk) {
    std::cerr << "apikey create: " << mk.err().message << "\n";
    return 2;
  }
  if (!mk->has_value()) {
    std::cerr << "apikey create: no master key: set MI_API_MASTER_KEY, or api.master_key_file in --config, or pass "
                 "--master-key-file (docs/operations.md \"API master key\")\n";
    return 2;
  }
  auto k = mi::gw::create_api_key(dsn, name, quota_per_minute, **mk);
  if (!k) {
    std::cerr << k.err().message << "\n";
    return 1;
  }
  seal_clear_keys(dsn, *mk, "apikey create");
  std::cout << "key_id: " << k->key_id << "\n"
            << "secret: " << k->secret << "\n"
            << "The secret is shown only this once; the server keeps SHA-256(key_id \":\" secret) sealed with master "
               "key "
            << (*mk)->fingerprint << ".\n";
  return 0;
}

int run_apikey_list(const std::string& dsn, const std::string& master_key_file) {
  auto mk = command_master_key(master_key_file);
  if (!mk) {
    std::cerr << "apikey list: " << mk.err().message << "\n";
    return 2;
  }
  if (!seal_clear_keys(dsn, *mk, "apikey list"))
    return 1;
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

int run_apikey_revoke(const std::string& dsn, const std::string& key_id, const std::string& master_key_file,
                      const std::string& nats_url) {
  auto mk = command_master_key(master_key_file);
  if (mk)
    seal_clear_keys(dsn, *mk, "apikey revoke"); // revoking never depends on the master key
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
  auto sent =
    js ? (*js)->publish_core(std::string(mi::gw::apikey_revoked_subject), k->key_id) : mi::result<bool>(js.err());
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

int run_apikey_reseal(const std::string& dsn, const std::string& master_key_file, const std::string& old_key_file) {
  auto mk = command_master_key(master_key_file);
  if (!mk || !mk->has_value()) {
    std::cerr << "apikey reseal: the new master key: "
              << (mk ? std::string("none given (MI_API_MASTER_KEY, api.master_key_file or --master-key-file)")
                     : mk.err().message)
              << "\n";
    return 2;
  }
  auto old_mk = mi::gw::auth::load_master_key(old_key_file, nullptr);
  if (!old_mk || !old_mk->has_value()) {
    std::cerr << "apikey reseal: the old master key (--old-master-key-file): "
              << (old_mk ? std::string("not given") : old_mk.err().message) << "\n";
    return 2;
  }
  auto n = mi::gw::reseal_api_keys(dsn, **old_mk, **mk);
  if (!n) {
    std::cerr << n.err().message << "\n";
    return 1;
  }
  std::cout << "re-sealed " << *n << " signing key(s): master key " << (*old_mk)->fingerprint << " -> "
            << (*mk)->fingerprint << "\n";
  return 0;
}

} // namespace mi::app
