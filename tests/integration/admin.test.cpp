// The admin API (issue 11, item 1): GET /admin/api/actors on admin.listen shows the real actor tree of a
// running platform — the connection, kline and saver actors under their role supervisors under the
// root — and a request without the right bearer token gets 401 and nothing else.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <functional>
#include <string>

#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::platform_env;

namespace {

const std::string token = "admin-token-for-the-integration-test-7f3a";

// The first node (depth first) whose name satisfies `pred`, or null.
const boost::json::object* find_node(const boost::json::array& nodes,
                                     const std::function<bool(const std::string&)>& pred) {
  for (const auto& n : nodes) {
    const auto& o = n.as_object();
    if (pred(std::string(o.at("name").as_string())))
      return &o;
    if (const auto* c = find_node(o.at("children").as_array(), pred))
      return c;
  }
  return nullptr;
}

const boost::json::object* child_named(const boost::json::object& parent, const std::string& name) {
  for (const auto& c : parent.at("children").as_array())
    if (c.as_object().at("name").as_string() == name)
      return &c.as_object();
  return nullptr;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

} // namespace

TEST_CASE(
  "admin: /admin/api/actors shows connection, kline and saver actors under their supervisors, and a bad token gets "
  "401") {
  const int admin_port = mi::test::free_port();
  ::setenv("MI_ADMIN_TOKEN", token.c_str(), 1); // the documented way; the child inherits it
  platform_env env({"1s", "1m"}, {}, {}, {}, "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) + "\n");
  env.start_platform({"--roles", "ingest,kline,store,push,api,admin"});
  ::unsetenv("MI_ADMIN_TOKEN");
  env.start_simulator({"--count", "3000", "--rate", "1000"});
  const std::string bearer = "Authorization: Bearer " + token;

  // The tree once trades have flowed through every stage.
  boost::json::value tree;
  auto complete = [&] {
    auto r = mi::test::http_get(admin_port, "/admin/api/actors", {bearer});
    if (r.status != 200)
      return false;
    boost::system::error_code ec;
    tree = boost::json::parse(r.body, ec);
    if (ec)
      return false;
    const auto& roots = tree.at("actors").as_array();
    const auto* conn = find_node(roots, [](const std::string& n) { return starts_with(n, "connection.binance."); });
    const auto* window = find_node(roots, [](const std::string& n) { return n == "binance.BTCUSDT"; });
    const auto* saver = find_node(roots, [](const std::string& n) { return n == "saver_trades"; });
    return conn != nullptr && conn->at("handled").as_int64() > 0 && window != nullptr &&
           window->at("handled").as_int64() > 0 && saver != nullptr && saver->at("handled").as_int64() > 0;
  };
  REQUIRE_MESSAGE(mi::test::eventually(complete, 60s), boost::json::serialize(tree));

  const auto& roots = tree.at("actors").as_array();
  const boost::json::object* root = nullptr;
  for (const auto& r : roots)
    if (r.as_object().at("name").as_string() == "root")
      root = &r.as_object();
  REQUIRE(root != nullptr);
  CHECK(root->at("kind").as_string() == "supervisor");
  for (const char* role : {"push", "publish", "store", "kline", "ingest"}) {
    const auto* sup = child_named(*root, role);
    REQUIRE_MESSAGE(sup != nullptr, role << " missing under root");
    CHECK(sup->at("kind").as_string() == "supervisor");
    CHECK(sup->at("parent").as_int64() == root->at("id").as_int64());
  }
  // ingest: the exchange's connection (connected, with messages handled) and its backfill actor.
  const auto* ingest = child_named(*root, "ingest");
  const auto* conn = find_node(ingest->at("children").as_array(),
                               [](const std::string& n) { return starts_with(n, "connection.binance."); });
  REQUIRE(conn != nullptr);
  CHECK(conn->at("kind").as_string() == "connection");
  CHECK(conn->at("state").as_string() == "connected");
  CHECK(conn->at("parent").as_int64() == ingest->at("id").as_int64());
  CHECK(child_named(*ingest, "backfill.binance") != nullptr);
  // kline: the stage's router, its sink and one window per symbol under it.
  const auto* stage = child_named(*child_named(*root, "kline"), "kline_stage");
  REQUIRE(stage != nullptr);
  CHECK(stage->at("kind").as_string() == "kline_router");
  CHECK(child_named(*stage, "kline_sink") != nullptr);
  CHECK(child_named(*stage, "binance.BTCUSDT") != nullptr);
  CHECK(child_named(*stage, "binance.ETHUSDT") != nullptr);
  CHECK(child_named(*stage, "binance.BTCUSDT")->at("kind").as_string() == "symbol_window");
  // store: both savers and the storage maintainer.
  const auto* store = child_named(*root, "store");
  for (const char* name : {"saver_trades", "saver_klines", "storage"})
    CHECK_MESSAGE(child_named(*store, name) != nullptr, name << " missing under store");
  CHECK(child_named(*store, "saver_trades")->at("kind").as_string() == "batch_saver");
  CHECK(child_named(*child_named(*root, "publish"), "publisher") != nullptr);

  // Without the right token: 401, and the body says nothing of the tree.
  for (const std::vector<std::string>& headers : {std::vector<std::string>{},
                                                  {"Authorization: Bearer wrong-token-wrong-token"},
                                                  {"Authorization: Bearer " + token + "x"},
                                                  {"Authorization: Basic " + token}}) {
    auto r = mi::test::http_get(admin_port, "/admin/api/actors", headers);
    CHECK(r.status == 401);
    CHECK(r.body.find("connection") == std::string::npos);
    CHECK(r.body.find("supervisor") == std::string::npos);
  }
  CHECK(env.stop_platform() == 0);
  CHECK(env.platform_log().find(token) == std::string::npos); // never logged
}

TEST_CASE("admin: role admin without admin.token is a config error (exit 2)") {
  platform_env env;
  env.launch_platform({"--roles", "kline,admin"});
  CHECK(env.wait_platform_exit(30s) == 2);
  CHECK(env.platform_log().find("admin.token") != std::string::npos);
}

TEST_CASE("admin: a restart of the kline stage shows under the kline supervisor with its time and reason, and the new "
          "stage replaces the old one") {
  const int admin_port = mi::test::free_port();
  platform_env env({"1s"}, {}, {}, {},
                   "admin:\n  listen: 127.0.0.1:" + std::to_string(admin_port) + "\n  token: " + token +
                     "\ntesting:\n  fault: symbol_window_throws_once\n  fault_after_trades: 500\n");
  const auto before_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  env.start_platform({"--roles", "ingest,kline,admin"});
  env.start_simulator({"--count", "3000", "--rate", "1000"});
  const std::string bearer = "Authorization: Bearer " + token;

  boost::json::value tree;
  auto restarted = [&] {
    auto r = mi::test::http_get(admin_port, "/admin/api/actors", {bearer});
    boost::system::error_code ec;
    tree = boost::json::parse(r.body, ec);
    if (r.status != 200 || ec)
      return false;
    const auto* kline = find_node(tree.at("actors").as_array(), [](const std::string& n) { return n == "kline"; });
    return kline != nullptr && !kline->at("restarts").as_array().empty() &&
           child_named(*kline, "kline_stage") != nullptr;
  };
  REQUIRE_MESSAGE(mi::test::eventually(restarted, 60s), boost::json::serialize(tree));
  const auto* kline = find_node(tree.at("actors").as_array(), [](const std::string& n) { return n == "kline"; });
  const auto& rs = kline->at("restarts").as_array();
  REQUIRE(rs.size() == 1); // the fault fires once per process
  const auto& r = rs[0].as_object();
  CHECK(r.at("child").as_string() == "kline_stage");
  CHECK(std::string(r.at("reason").as_string()).find("symbol_window_throws_once") != std::string::npos);
  const auto now_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  CHECK(r.at("at_ms").as_int64() >= before_ms);
  CHECK(r.at("at_ms").as_int64() <= now_ms);
  CHECK(std::string(kline->at("last_error").as_string()).find("kline_stage: ") == 0);
  // Exactly one stage under the supervisor: the dead one left the tree.
  int stages = 0;
  for (const auto& c : kline->at("children").as_array())
    stages += c.as_object().at("name").as_string() == "kline_stage" ? 1 : 0;
  CHECK(stages == 1);
  CHECK(env.stop_platform() == 0);
}
