// `market-ingestor apikey create|list|revoke|reseal`: API keys of the REST API and the push gateway.
#include <cstdlib>
#include <iostream>
#include <memory>

#include "app/cli.hpp"
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

command add_apikey(CLI::App& app) {
  auto* apikey = app.add_subcommand("apikey", "manage API keys of the REST API and the push gateway");
  apikey->require_subcommand(1);
  struct opts {
    std::string dsn;
    std::string config;
    std::string master_key;
    std::string name;
    std::int64_t quota = 0;
    std::string id;
    std::string nats;
    std::string old_master_key;
  };
  auto o = std::make_shared<opts>();
  apikey->add_option("--dsn", o->dsn, "PostgreSQL conninfo (default: postgres.dsn of --config)");
  apikey->add_option("--config,-c", o->config, "YAML config file")->check(CLI::ExistingFile);
  apikey->add_option("--master-key-file", o->master_key,
                     "API master key file (default: api.master_key_file of --config, or MI_API_MASTER_KEY)");
  auto* create = apikey->add_subcommand("create", "create a key; prints its id and secret (the secret only once)");
  create->add_option("--name", o->name, "who or what the key is for")->required();
  create->add_option("--quota-per-minute", o->quota, "requests per minute (default: api.default_quota_per_minute)");
  auto* list = apikey->add_subcommand("list", "list keys (never their secrets)");
  auto* revoke = apikey->add_subcommand("revoke", "revoke a key (immediately refused)");
  revoke->add_option("id", o->id, "key id, e.g. mik_...")->required();
  revoke->add_option("--nats", o->nats,
                     "NATS URL to announce the revocation to push gateways (default: nats.url of --config or "
                     "MI_NATS_URL; none: the gateways notice at their next key check)");
  auto* reseal =
    apikey->add_subcommand("reseal", "master key rotation: re-seal every signing key with the current master key");
  reseal->add_option("--old-master-key-file", o->old_master_key, "the master key the keys are sealed with now")
    ->required();
  return {apikey, [o, create, list, reseal] {
            // A NATS URL is "configured" when given explicitly: --nats, a --config file or MI_NATS_URL.
            const bool nats_configured =
              !o->nats.empty() || !o->config.empty() || mi::cfg::process_env().count("MI_NATS_URL") != 0;
            if (o->dsn.empty() || !o->config.empty() || (o->nats.empty() && nats_configured)) {
              const auto cfg = load_config(o->config);
              if (!cfg)
                return 2;
              if (o->dsn.empty())
                o->dsn = cfg->postgres.dsn;
              if (o->master_key.empty())
                o->master_key = cfg->api.master_key_file;
              if (o->nats.empty() && nats_configured)
                o->nats = cfg->nats.url;
            }
            if (*create)
              return run_apikey_create(o->dsn, o->name,
                                       create->count("--quota-per-minute") ? std::optional{o->quota} : std::nullopt,
                                       o->master_key);
            if (*list)
              return run_apikey_list(o->dsn, o->master_key);
            if (*reseal)
              return run_apikey_reseal(o->dsn, o->master_key, o->old_master_key);
            return run_apikey_revoke(o->dsn, o->id, o->master_key, o->nats);
          }};
}

} // namespace mi::app
