#include "gateways/postgres/api_key_store.hpp"

#include <exception>

#include <pqxx/pqxx>

#include "gateways/postgres/db_error.hpp"
#include "gateways/postgres/history_reader.hpp"

namespace mi::gw {
namespace {

using detail::db_error;

api_key_info key_info(const pqxx::row& r) {
  api_key_info k;
  k.key_id = r[0].as<std::string>();
  k.name = r[1].as<std::string>();
  k.created_at = r[2].as<std::string>();
  if (!r[3].is_null())
    k.revoked_at = r[3].as<std::string>();
  if (!r[4].is_null())
    k.quota_per_minute = r[4].as<std::int64_t>();
  return k;
}

constexpr const char* key_info_columns =
  "key_id, name, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z', "
  "to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') || 'Z', quota_per_minute";

} // namespace

mi::result<bool> insert_api_key(const std::string& conninfo, const std::string& key_id, const std::string& name,
                                const std::string& sealed_signing_key, std::optional<std::int64_t> quota_per_minute) {
  try {
    pqxx::connection conn{conninfo};
    pqxx::work w{conn};
    if (quota_per_minute)
      w.exec_params("INSERT INTO api_keys (key_id, name, signing_key_enc, quota_per_minute) VALUES ($1, $2, $3, $4)",
                    key_id, name, sealed_signing_key, *quota_per_minute);
    else
      w.exec_params("INSERT INTO api_keys (key_id, name, signing_key_enc) VALUES ($1, $2, $3)", key_id, name,
                    sealed_signing_key);
    w.commit();
  } catch (const pqxx::undefined_table&) {
    return mi::error{"apikey create: table api_keys does not exist: run `market-ingestor migrate` first"};
  } catch (const std::exception& e) {
    return db_error("apikey create", e);
  }
  return true;
}

mi::result<std::size_t> reseal_api_key_rows(const std::string& conninfo, const char* what, const reseal_fn& change) {
  try {
    pqxx::connection conn{with_connect_timeout(conninfo, std::chrono::seconds(5))};
    pqxx::work w{conn};
    auto rows = w.exec("SELECT key_id, signing_key, signing_key_enc FROM api_keys ORDER BY key_id FOR UPDATE");
    std::size_t n = 0;
    for (const auto& r : rows) {
      const auto id = r[0].as<std::string>();
      std::optional<std::string> clear;
      std::optional<std::string> sealed;
      if (!r[1].is_null())
        clear = r[1].as<std::string>();
      if (!r[2].is_null())
        sealed = r[2].as<std::string>();
      mi::result<std::optional<std::string>> next = change(id, clear, sealed);
      if (!next)
        return mi::error{std::string(what) + ": " + next.err().message + " (nothing changed)"};
      if (!next->has_value())
        continue;
      w.exec_params("UPDATE api_keys SET signing_key = NULL, signing_key_enc = $2 WHERE key_id = $1", id, **next);
      ++n;
    }
    w.commit();
    return n;
  } catch (const pqxx::undefined_column&) {
    return mi::error{std::string(what) + ": api_keys has no signing_key_enc column: run `market-ingestor migrate`"};
  } catch (const pqxx::undefined_table&) {
    return std::size_t{0}; // no keys table yet: nothing to seal
  } catch (const std::exception& e) {
    return db_error(what, e);
  }
}

mi::result<std::vector<api_key_info>> list_api_keys(const std::string& conninfo) {
  try {
    pqxx::connection conn{conninfo};
    pqxx::read_transaction w{conn};
    auto rows = w.exec(std::string("SELECT ") + key_info_columns + " FROM api_keys ORDER BY created_at, key_id");
    std::vector<api_key_info> out;
    for (const auto& r : rows)
      out.push_back(key_info(r));
    return out;
  } catch (const pqxx::undefined_table&) {
    return mi::error{"apikey list: table api_keys does not exist: run `market-ingestor migrate` first"};
  } catch (const std::exception& e) {
    return db_error("apikey list", e);
  }
}

mi::result<api_key_info> revoke_api_key(const std::string& conninfo, const std::string& key_id) {
  try {
    pqxx::connection conn{conninfo};
    pqxx::work w{conn};
    auto rows =
      w.exec_params(std::string("SELECT ") + key_info_columns + " FROM api_keys WHERE key_id = $1 FOR UPDATE", key_id);
    if (rows.empty())
      return mi::error{"apikey revoke: no key with id '" + key_id + "' (see `apikey list`)"};
    if (!rows[0][3].is_null())
      return mi::error{"apikey revoke: key '" + key_id + "' is already revoked (at " + rows[0][3].as<std::string>() +
                       ")"};
    auto updated = w.exec_params(
      std::string("UPDATE api_keys SET revoked_at = now() WHERE key_id = $1 RETURNING ") + key_info_columns, key_id);
    w.commit();
    return key_info(updated[0]);
  } catch (const pqxx::undefined_table&) {
    return mi::error{"apikey revoke: table api_keys does not exist: run `market-ingestor migrate` first"};
  } catch (const std::exception& e) {
    return db_error("apikey revoke", e);
  }
}

} // namespace mi::gw
