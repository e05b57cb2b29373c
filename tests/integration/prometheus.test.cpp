// deploy/prometheus and deploy/grafana against a real Prometheus (issue 11, item 5): the Debian
// `prometheus` server scrapes a running platform under simulator load with the shipped alert rules;
// every alert rule loads and evaluates without error, every alert expression and every dashboard panel
// query is valid, and every panel query returns at least one series.
#include <doctest/doctest.h>

#include <boost/json.hpp>
#include <csignal>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::platform_env;

namespace {

const std::string deploy_dir = std::string(MI_SOURCE_DIR) + "/deploy";

boost::json::value parse_json(const std::string& text, const std::string& what) {
  boost::system::error_code ec;
  auto v = boost::json::parse(text, ec);
  REQUIRE_MESSAGE(!ec, what << " is not JSON: " << text.substr(0, 2000));
  return v;
}

// GET /api/v1/query?query=... on the Prometheus at `port`: the parsed answer.
boost::json::object query(int port, const std::string& promql) {
  auto r = mi::test::run({"curl", "-sS", "-m", "10", "-G", "--data-urlencode", "query=" + promql,
                          "http://127.0.0.1:" + std::to_string(port) + "/api/v1/query"});
  return parse_json(r.output, "the answer to " + promql).as_object();
}

// Every `expr` of the dashboard's panels' targets.
std::vector<std::string> panel_queries() {
  auto text = mi::test::read_file(deploy_dir + "/grafana/market-ingestor.json");
  REQUIRE_MESSAGE(!text.empty(), "cannot read the dashboard");
  auto d = parse_json(text, "the dashboard");
  std::vector<std::string> out;
  for (const auto& p : d.at("panels").as_array())
    for (const auto& t : p.at("targets").as_array())
      out.emplace_back(t.at("expr").as_string());
  return out;
}

// The number of `- alert:` entries of alerts.yml, counted in the text (not by the server under test).
std::size_t alerts_in_file() {
  auto text = mi::test::read_file(deploy_dir + "/prometheus/alerts.yml");
  std::size_t n = 0;
  for (std::size_t at = 0; (at = text.find("- alert: ", at)) != std::string::npos; ++at)
    ++n;
  return n;
}

} // namespace

TEST_CASE("prometheus: the shipped alert rules and every dashboard query work against a real Prometheus") {
  platform_env env;
  env.start_platform();
  env.start_simulator({"--count", "1000000", "--rate", "300"});

  // A real Prometheus scraping the platform every second with the shipped rules.
  mi::test::temp_dir prom_dir("mi-prometheus");
  const int port = mi::test::free_port();
  {
    std::ofstream cfg(prom_dir.path() + "/prometheus.yml");
    cfg << "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"
        << "rule_files:\n  - " << deploy_dir << "/prometheus/alerts.yml\n"
        << "scrape_configs:\n  - job_name: market-ingestor\n    static_configs:\n"
        << "      - targets: [\"127.0.0.1:" << env.metrics_port() << "\"]\n";
  }
  mi::test::child_process prom({"prometheus", "--config.file=" + prom_dir.path() + "/prometheus.yml",
                                "--storage.tsdb.path=" + prom_dir.path() + "/data",
                                "--web.listen-address=127.0.0.1:" + std::to_string(port)},
                               prom_dir.path() + "/prometheus.log");
  REQUIRE_MESSAGE(mi::test::eventually([&] { return mi::test::http_get(port, "/-/ready").status == 200; }, 30s),
                  "prometheus did not start: " << mi::test::read_file(prom_dir.path() + "/prometheus.log"));

  // Scraped, and long enough for rate(...[1m]) to have several samples of a moving platform.
  REQUIRE(mi::test::eventually(
    [&] {
      auto up = query(port, "up{job=\"market-ingestor\"} == 1");
      return up.at("status").as_string() == "success" && !up.at("data").as_object().at("result").as_array().empty();
    },
    30s));
  REQUIRE(mi::test::eventually(
    [&] {
      auto q = query(port, "sum(mi_rows_written_total) > 0 and sum(mi_trades_published_total) > 0");
      return !q.at("data").as_object().at("result").as_array().empty();
    },
    60s));
  std::this_thread::sleep_for(8s);

  // Every rule of alerts.yml loaded and evaluated without error.
  auto rules_reply = mi::test::http_get(port, "/api/v1/rules");
  REQUIRE(rules_reply.status == 200);
  auto rules = parse_json(rules_reply.body, "/api/v1/rules");
  std::vector<std::string> alert_exprs;
  std::set<std::string> names;
  for (const auto& g : rules.at("data").at("groups").as_array())
    for (const auto& r : g.at("rules").as_array()) {
      const auto& o = r.as_object();
      if (o.at("type").as_string() != "alerting")
        continue;
      names.insert(std::string(o.at("name").as_string()));
      CHECK_MESSAGE(o.at("health").as_string() != "err", o.at("name").as_string() << ": " << o.at("lastError"));
      alert_exprs.emplace_back(o.at("query").as_string());
    }
  CHECK(alert_exprs.size() == alerts_in_file());
  for (const char* a : {"MiIngestionStopped", "MiConsumerLagGrowing", "MiDatabaseErrors", "MiReconnectStorm",
                        "MiUnfillableGaps", "MiPushDrops", "MiDeadLetters", "MiProcessRestarts"})
    CHECK_MESSAGE(names.count(a) == 1, a << " is not among the loaded rules");

  // Each alert expression is valid PromQL over the platform's series.
  for (const auto& e : alert_exprs) {
    auto q = query(port, e);
    CHECK_MESSAGE(q.at("status").as_string() == "success", e << ": " << boost::json::serialize(q));
  }
  // Each dashboard query is valid and returns at least one series.
  auto panels = panel_queries();
  CHECK(panels.size() >= 12);
  for (const auto& e : panels) {
    bool has_series = mi::test::eventually(
      [&] {
        auto q = query(port, e);
        return q.at("status").as_string() == "success" && !q.at("data").as_object().at("result").as_array().empty();
      },
      20s);
    CHECK_MESSAGE(has_series, e << ": " << boost::json::serialize(query(port, e)));
  }
  // Nothing fires on a healthy platform.
  auto firing = query(port, "ALERTS{alertstate=\"firing\"}");
  CHECK_MESSAGE(firing.at("data").as_object().at("result").as_array().empty(), boost::json::serialize(firing));
  prom.signal(SIGTERM);
  prom.wait_for(10s);
  CHECK(env.stop_platform() == 0);
}
