// The REST API and API keys as an operator and a client see them: the real binary, a running
// platform, real sockets.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <csignal>
#include <cstdlib>
#include <sys/stat.h>
#include <sstream>

#include <boost/json.hpp>

#include "gateways/http/auth.hpp"
#include "tests/integration/platform_env.hpp"

namespace {

/// Sends `raw` on a new loopback connection and reads until the server closes or `until` shows up.
std::string exchange(int port, const std::string& raw, const std::string& until = {}) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  timeval tv{20, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(::send(fd, raw.data(), raw.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(raw.size()));
  std::string out;
  char buf[16384];
  for (;;) {
    if (!until.empty() && out.find(until) != std::string::npos)
      break;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string field(const std::string& text, const std::string& name) {
  auto p = text.find(name + ": ");
  REQUIRE_MESSAGE(p != std::string::npos, text);
  p += name.size() + 2;
  return text.substr(p, text.find('\n', p) - p);
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::string signed_get(const std::string& path, const std::string& query, const std::string& key_id,
                       const std::string& secret, const std::string& nonce) {
  const auto ts = std::to_string(now_ms());
  auto params = mi::gw::auth::parse_query(query);
  REQUIRE(params);
  auto sig = mi::gw::auth::hmac_sha256_hex(
    mi::gw::auth::signing_key(key_id, secret),
    mi::gw::auth::string_to_sign(ts, "GET", path, mi::gw::auth::canonical_query(*params)));
  return "GET " + path + (query.empty() ? "" : "?" + query) + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" +
         "X-MI-APIKEY: " + key_id + "\r\nX-MI-TIMESTAMP: " + ts + "\r\nX-MI-NONCE: " + nonce +
         "\r\nX-MI-SIGNATURE: " + sig + "\r\n\r\n";
}

std::string upgrade(const std::string& target) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
}

} // namespace

TEST_CASE("apikey: create prints the secret once, list never shows it, revoke refuses twice and unknown ids") {
  ::setenv("MI_API_MASTER_KEY", mi::test::test_master_key_hex().c_str(), 1);
  mi::test::pg_server pg{mi::test::pg_server_options{true}};
  const auto bin = mi::test::binary();
  const auto dsn = pg.conninfo();
  REQUIRE(mi::test::run({bin, "migrate", "--dsn", dsn}).exit_code == 0);

  auto created = mi::test::run({bin, "apikey", "--dsn", dsn, "create", "--name", "analyst", "--quota-per-minute", "5"});
  REQUIRE_MESSAGE(created.exit_code == 0, created.output);
  const auto id = field(created.output, "key_id");
  const auto secret = field(created.output, "secret");
  CHECK(id.rfind("mik_", 0) == 0);
  CHECK(secret.size() == 64);
  // The table holds neither the secret nor the signing key: only the sealed signing key.
  const auto row = pg.psql("SELECT row_to_json(k)::text FROM api_keys k");
  CHECK(row.find(mi::gw::auth::signing_key(id, secret)) == std::string::npos);
  CHECK(row.find(secret) == std::string::npos);
  CHECK(pg.psql("SELECT count(*) FROM api_keys WHERE signing_key IS NULL AND signing_key_enc LIKE 'v1:%'") == "1");

  auto listed = mi::test::run({bin, "apikey", "--dsn", dsn, "list"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.output.find(id + "\tanalyst\t") != std::string::npos);
  CHECK(listed.output.find("\t-\t5\n") != std::string::npos); // not revoked, quota 5
  CHECK(listed.output.find(secret) == std::string::npos);

  auto revoked = mi::test::run({bin, "apikey", "--dsn", dsn, "revoke", id});
  CHECK_MESSAGE(revoked.exit_code == 0, revoked.output);
  auto after = mi::test::run({bin, "apikey", "--dsn", dsn, "list"});
  CHECK(after.output.find("\t-\t5\n") == std::string::npos);

  auto twice = mi::test::run({bin, "apikey", "--dsn", dsn, "revoke", id}, {}, true);
  CHECK(twice.exit_code != 0);
  CHECK(twice.output.find("already revoked") != std::string::npos);
  auto unknown = mi::test::run({bin, "apikey", "--dsn", dsn, "revoke", "mik_nope"}, {}, true);
  CHECK(unknown.exit_code != 0);
  CHECK(unknown.output.find("no key with id 'mik_nope'") != std::string::npos);
  auto bad_quota =
    mi::test::run({bin, "apikey", "--dsn", dsn, "create", "--name", "x", "--quota-per-minute", "0"}, {}, true);
  CHECK(bad_quota.exit_code != 0);
  CHECK(bad_quota.output.find("--quota-per-minute") != std::string::npos);
}

TEST_CASE("api role: signed requests served by the platform, refusals counted, push upgrade gated by the token") {
  mi::test::platform_env env;
  env.start_platform();
  const auto bin = mi::test::binary();
  auto created = mi::test::run({bin, "apikey", "--dsn", env.pg.conninfo(), "create", "--name", "e2e"});
  REQUIRE_MESSAGE(created.exit_code == 0, created.output);
  const auto id = field(created.output, "key_id");
  const auto secret = field(created.output, "secret");

  auto ok = exchange(env.api_port(), signed_get("/api/v1/symbols", "", id, secret, "e1"));
  CHECK_MESSAGE(ok.rfind("HTTP/1.1 200", 0) == 0, ok);
  auto klines = exchange(env.api_port(),
                         signed_get("/api/v1/klines", "exchange=binance&symbol=BTCUSDT&interval=1m", id, secret, "e2"));
  CHECK_MESSAGE(klines.rfind("HTTP/1.1 200", 0) == 0, klines);
  auto unsigned_req = exchange(env.api_port(), "GET /api/v1/symbols HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(unsigned_req.rfind("HTTP/1.1 401", 0) == 0);
  auto health = exchange(env.api_port(), "GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(health.rfind("HTTP/1.1 200", 0) == 0);

  const auto metrics = env.scrape_metrics();
  CHECK(metrics.find("mi_api_requests_total{route=\"/api/v1/symbols\",status=\"200\"} 1") != std::string::npos);
  CHECK(metrics.find("mi_api_requests_total{route=\"/api/v1/symbols\",status=\"401\"} 1") != std::string::npos);
  CHECK(metrics.find("mi_api_auth_rejections_total{reason=\"missing_credentials\"} 1") != std::string::npos);
  CHECK(metrics.find("mi_api_request_duration_seconds_count{route=\"/api/v1/klines\"} 1") != std::string::npos);

  // Push: anonymous allowed by config; a token, when given, must be valid.
  auto anonymous = exchange(env.push_port(), upgrade("/"), "\r\n\r\n");
  CHECK_MESSAGE(anonymous.rfind("HTTP/1.1 101", 0) == 0, anonymous);
  const auto ts = std::to_string(now_ms());
  const auto sig = mi::gw::auth::hmac_sha256_hex(mi::gw::auth::signing_key(id, secret),
                                                 mi::gw::auth::string_to_sign(ts, "GET", "/", ""));
  auto good = exchange(env.push_port(), upgrade("/?key=" + id + "&ts=" + ts + "&nonce=w1&sig=" + sig), "\r\n\r\n");
  CHECK_MESSAGE(good.rfind("HTTP/1.1 101", 0) == 0, good);
  auto bad = exchange(env.push_port(), upgrade("/?key=" + id + "&ts=" + ts + "&nonce=w2&sig=" + std::string(64, '0')));
  CHECK_MESSAGE(bad.rfind("HTTP/1.1 401", 0) == 0, bad);
  CHECK(bad.find("signature") != std::string::npos);
}

TEST_CASE("api.anonymous_push false: a push client without a token gets 401 before the upgrade") {
  mi::test::platform_env env;
  {
    std::ifstream in(env.config_path());
    std::stringstream text;
    text << in.rdbuf();
    auto yaml = text.str();
    const std::string from = "anonymous_push: true";
    REQUIRE(yaml.find(from) != std::string::npos);
    yaml.replace(yaml.find(from), from.size(), "anonymous_push: false");
    std::ofstream(env.config_path()) << yaml;
  }
  env.start_platform();
  auto anonymous = exchange(env.push_port(), upgrade("/"));
  CHECK_MESSAGE(anonymous.rfind("HTTP/1.1 401", 0) == 0, anonymous);
  CHECK(anonymous.find("missing API key") != std::string::npos);

  auto created = mi::test::run({mi::test::binary(), "apikey", "--dsn", env.pg.conninfo(), "create", "--name", "ws"});
  REQUIRE(created.exit_code == 0);
  const auto id = field(created.output, "key_id");
  const auto secret = field(created.output, "secret");
  const auto ts = std::to_string(now_ms());
  const auto sig = mi::gw::auth::hmac_sha256_hex(mi::gw::auth::signing_key(id, secret),
                                                 mi::gw::auth::string_to_sign(ts, "GET", "/", ""));
  auto good = exchange(env.push_port(), upgrade("/?key=" + id + "&ts=" + ts + "&nonce=w1&sig=" + sig), "\r\n\r\n");
  CHECK_MESSAGE(good.rfind("HTTP/1.1 101", 0) == 0, good);
  CHECK(env.scrape_metrics().find("mi_api_auth_rejections_total{reason=\"missing_credentials\"} 1") !=
        std::string::npos);
}

namespace {

/// A config like `env`'s with other ports for api, push and metrics (a second API process).
std::string second_config(const mi::test::platform_env& env, int api_port) {
  std::ifstream in(env.config_path());
  std::stringstream text;
  text << in.rdbuf();
  auto yaml = text.str();
  auto replace_port = [&](const std::string& section) {
    auto s = yaml.find(section + ":\n  listen: 127.0.0.1:");
    REQUIRE(s != std::string::npos);
    auto p = yaml.find("127.0.0.1:", s) + 10;
    auto e = yaml.find('\n', p);
    yaml.replace(p, e - p, std::to_string(section == "api" ? api_port : mi::test::free_port()));
  };
  replace_port("api");
  replace_port("push");
  replace_port("metrics");
  const auto path = env.dir() + "/config-b.yaml";
  std::ofstream(path) << yaml;
  return path;
}

std::string with_window(const mi::test::platform_env& env, const std::string& window) {
  std::ifstream in(env.config_path());
  std::stringstream text;
  text << in.rdbuf();
  auto yaml = text.str();
  const std::string from = "anonymous_push: true";
  REQUIRE(yaml.find(from) != std::string::npos);
  yaml.replace(yaml.find(from), from.size(), from + "\n  timestamp_window: " + window);
  std::ofstream(env.config_path()) << yaml;
  return yaml;
}

int status_of(const std::string& raw) { return raw.size() >= 12 ? std::stoi(raw.substr(9, 3)) : 0; }

} // namespace

TEST_CASE("api processes share nonces through JetStream: a replay on another process or after a restart is refused") {
  mi::test::platform_env env;
  with_window(env, "60s"); // room for a restart inside the window
  env.start_platform();
  const auto bin = mi::test::binary();
  auto created = mi::test::run({bin, "apikey", "--dsn", env.pg.conninfo(), "create", "--name", "nonces"});
  REQUIRE_MESSAGE(created.exit_code == 0, created.output);
  const auto id = field(created.output, "key_id");
  const auto secret = field(created.output, "secret");

  // Process B: only the api role, same NATS and PostgreSQL, its own port.
  const int b_port = mi::test::free_port(); // called as (exchange)(...): no ADL to std::exchange
  mi::test::child_process b({bin, "run", "--config", second_config(env, b_port), "--roles", "api"},
                            env.dir() + "/b.log");
  REQUIRE_MESSAGE(mi::test::eventually(
                    [&] { return mi::test::read_file(env.dir() + "/b.log").find("\nready\n") != std::string::npos; },
                    std::chrono::seconds(30)),
                  mi::test::read_file(env.dir() + "/b.log"));

  const auto request = signed_get("/api/v1/symbols", "", id, secret, "once");
  auto first = exchange(env.api_port(), request);
  CHECK_MESSAGE(status_of(first) == 200, first);
  auto on_b = (exchange)(b_port, request);
  CHECK_MESSAGE(status_of(on_b) == 401, on_b);
  CHECK(on_b.find("-1025") != std::string::npos);

  // A restarted process still knows the nonce (the bucket is in JetStream, not in memory).
  CHECK(env.stop_platform() == 0);
  env.start_platform();
  auto after_restart = exchange(env.api_port(), request);
  CHECK_MESSAGE(status_of(after_restart) == 401, after_restart);
  CHECK(after_restart.find("-1025") != std::string::npos);
  // Fresh nonces pass on both.
  CHECK(status_of(exchange(env.api_port(), signed_get("/api/v1/symbols", "", id, secret, "fresh1"))) == 200);
  CHECK(status_of((exchange)(b_port, signed_get("/api/v1/symbols", "", id, secret, "fresh2"))) == 200);
  b.signal(SIGTERM);
  CHECK(b.wait_for(std::chrono::seconds(30)) == 0);
}

TEST_CASE("startup without the master key while auth is required is a config error, and a too open key file too") {
  mi::test::platform_env env;
  const auto bin = mi::test::binary();
  auto without = mi::test::run(
    {"/usr/bin/env", "-u", "MI_API_MASTER_KEY", bin, "run", "--config", env.config_path(), "--roles", "api"}, {}, true);
  CHECK(without.exit_code == 2);
  CHECK_MESSAGE(without.output.find("config error: api.master_key_file: a master key is required") != std::string::npos,
                without.output);

  const auto key_file = env.dir() + "/master.key";
  std::ofstream(key_file) << mi::test::test_master_key_hex() << "\n";
  ::chmod(key_file.c_str(), 0644);
  {
    std::ifstream in(env.config_path());
    std::stringstream text;
    text << in.rdbuf();
    auto yaml = text.str();
    yaml.replace(yaml.find("anonymous_push: true"), 20, "anonymous_push: true\n  master_key_file: " + key_file);
    std::ofstream(env.config_path()) << yaml;
  }
  auto too_open = mi::test::run(
    {"/usr/bin/env", "-u", "MI_API_MASTER_KEY", bin, "run", "--config", env.config_path(), "--roles", "api"}, {}, true);
  CHECK(too_open.exit_code == 2);
  CHECK_MESSAGE(too_open.output.find("chmod 600") != std::string::npos, too_open.output);
  CHECK(too_open.output.find(mi::test::test_master_key_hex()) == std::string::npos); // never printed

  // Both a file and the variable: refused as ambiguous.
  ::chmod(key_file.c_str(), 0600);
  auto both = mi::test::run({bin, "run", "--config", env.config_path(), "--roles", "api"}, {}, true);
  CHECK(both.exit_code == 2);
  CHECK(both.output.find("both api.master_key_file and MI_API_MASTER_KEY") != std::string::npos);

  // The file alone (mode 600) is enough: the process starts.
  mi::test::child_process ok(
    {"/usr/bin/env", "-u", "MI_API_MASTER_KEY", bin, "run", "--config", env.config_path(), "--roles", "api"},
    env.dir() + "/ok.log");
  CHECK_MESSAGE(mi::test::eventually(
                  [&] { return mi::test::read_file(env.dir() + "/ok.log").find("\nready\n") != std::string::npos; },
                  std::chrono::seconds(30)),
                mi::test::read_file(env.dir() + "/ok.log"));
  CHECK(mi::test::read_file(env.dir() + "/ok.log").find(mi::test::test_master_key_hex()) == std::string::npos);
  ok.signal(SIGTERM);
  CHECK(ok.wait_for(std::chrono::seconds(30)) == 0);
}

TEST_CASE("a key stored in clear before 0004 is sealed by migrate with the master key, and its client keeps working") {
  mi::test::platform_env env;
  const auto bin = mi::test::binary();
  const auto dsn = env.pg.conninfo();
  REQUIRE(mi::test::run({bin, "migrate", "--dsn", dsn}).exit_code == 0);
  // A key as the previous release stored it: the signing key in clear.
  const std::string id = "mik_00112233445566778899aabb";
  const std::string secret = std::string(64, 'e');
  const auto sk = mi::gw::auth::signing_key(id, secret);
  env.pg.psql("INSERT INTO api_keys (key_id, name, signing_key) VALUES ('" + id + "', 'legacy', '" + sk + "')");

  auto without_key = mi::test::run({"/usr/bin/env", "-u", "MI_API_MASTER_KEY", bin, "migrate", "--dsn", dsn});
  CHECK(without_key.exit_code == 0);
  CHECK(env.pg.psql("SELECT count(*) FROM api_keys WHERE signing_key IS NOT NULL") == "1"); // nothing to seal with

  auto migrated = mi::test::run({bin, "migrate", "--dsn", dsn});
  CHECK_MESSAGE(migrated.exit_code == 0, migrated.output);
  CHECK_MESSAGE(migrated.output.find("sealed 1 API signing key") != std::string::npos, migrated.output);
  CHECK(env.pg.psql("SELECT row_to_json(k)::text FROM api_keys k").find(sk) == std::string::npos);

  env.start_platform();
  auto r = exchange(env.api_port(), signed_get("/api/v1/symbols", "", id, secret, "legacy1"));
  CHECK_MESSAGE(status_of(r) == 200, r);
}

TEST_CASE("api role: GET /api/v1/calendar serves the sessions (signed like every route), 400 on bad input") {
  mi::test::platform_env env;
  env.start_platform();
  const auto bin = mi::test::binary();
  auto created = mi::test::run({bin, "apikey", "--dsn", env.pg.conninfo(), "create", "--name", "cal"});
  REQUIRE_MESSAGE(created.exit_code == 0, created.output);
  const auto id = field(created.output, "key_id");
  const auto secret = field(created.output, "secret");
  auto body_of = [](const std::string& response) {
    auto at = response.find("\r\n\r\n");
    REQUIRE_MESSAGE(at != std::string::npos, response);
    return response.substr(at + 4);
  };

  auto ny = exchange(env.api_port(),
                     signed_get("/api/v1/calendar", "market=XNYS&from=2026-11-25&to=2026-11-29", id, secret, "c1"));
  REQUIRE_MESSAGE(ny.rfind("HTTP/1.1 200", 0) == 0, ny);
  const auto want =
    mi::test::read_file(std::string(MI_SOURCE_DIR) + "/tests/data/calendar_api/xnys_2026-11-25_29.json");
  REQUIRE(!want.empty());
  CHECK(boost::json::parse(body_of(ny)) == boost::json::parse(want));

  auto sh = exchange(env.api_port(),
                     signed_get("/api/v1/calendar", "market=XSHG&from=2026-03-02&to=2026-03-02", id, secret, "c2"));
  REQUIRE_MESSAGE(sh.rfind("HTTP/1.1 200", 0) == 0, sh);
  CHECK(boost::json::parse(body_of(sh)) ==
        boost::json::parse(
          mi::test::read_file(std::string(MI_SOURCE_DIR) + "/tests/data/calendar_api/xshg_2026-03-02.json")));

  auto unknown = exchange(
    env.api_port(), signed_get("/api/v1/calendar", "market=XLON&from=2026-11-25&to=2026-11-29", id, secret, "c3"));
  CHECK_MESSAGE(unknown.rfind("HTTP/1.1 400", 0) == 0, unknown);
  CHECK(unknown.find("unknown market 'XLON'") != std::string::npos);
  auto bad_date = exchange(
    env.api_port(), signed_get("/api/v1/calendar", "market=XNYS&from=2026-11-31&to=2026-12-01", id, secret, "c4"));
  CHECK_MESSAGE(bad_date.rfind("HTTP/1.1 400", 0) == 0, bad_date);
  CHECK(bad_date.find("parameter 'from': '2026-11-31' is not a date YYYY-MM-DD") != std::string::npos);
  auto unsigned_req = exchange(env.api_port(), "GET /api/v1/calendar?market=XNYS&from=2026-11-25&to=2026-11-29 "
                                               "HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  CHECK(unsigned_req.rfind("HTTP/1.1 401", 0) == 0);
}
