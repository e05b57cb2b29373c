// The platform on a 3-node NATS JetStream cluster (issue 16): R3 streams and key-value buckets,
// a member killed with -9 mid-stream and brought back; nothing lost, nothing doubled.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <sstream>
#include <thread>

#include "gateways/jetstream/jetstream.hpp"
#include "tests/harness/nats_server.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::canonical;
using mi::test::nats_cluster;
using mi::test::platform_env;

namespace {

// The member leading `stream` as its monitoring endpoint reports it (`/jsz`: the stream's
// cluster.leader), asked of every running member; "" when none knows.
std::string stream_leader(nats_cluster& c, const std::string& stream) {
  for (int i = 0; i < c.size(); ++i) {
    if (c.node(i).pid() < 0)
      continue;
    auto r = mi::test::run(
      {"curl", "-sS", "--max-time", "2",
       "http://127.0.0.1:" + std::to_string(c.node(i).monitor_port()) + "/jsz?accounts=true&streams=true"});
    std::string text; // pretty-printed JSON without its blanks (names hold none)
    std::copy_if(r.output.begin(), r.output.end(), std::back_inserter(text),
                 [](char ch) { return ch != ' ' && ch != '\n'; });
    auto at = text.find("\"name\":\"" + stream + "\"");
    if (at == std::string::npos)
      continue;
    auto lead = text.find("\"leader\":\"", at);
    if (lead == std::string::npos)
      continue;
    lead += 10;
    return text.substr(lead, text.find('"', lead) - lead);
  }
  return {};
}

// The replica count of `stream` as the cluster reports it (`/jsz` with config), 0 when unknown.
int stream_replicas(nats_cluster& c, const std::string& stream) {
  auto r = mi::test::run(
    {"curl", "-sS", "--max-time", "2",
     "http://127.0.0.1:" + std::to_string(c.node(0).monitor_port()) + "/jsz?accounts=true&streams=true&config=true"});
  std::string text;
  std::copy_if(r.output.begin(), r.output.end(), std::back_inserter(text),
               [](char ch) { return ch != ' ' && ch != '\n'; });
  auto at = text.find("\"name\":\"" + stream + "\"");
  auto n = at == std::string::npos ? at : text.find("\"num_replicas\":", at);
  return n == std::string::npos ? 0 : std::atoi(text.c_str() + n + 15);
}

// Index of the member named `name` ("n1" -> 0), or -1.
int member_index(const std::string& name) { return name.size() == 2 && name[0] == 'n' ? name[1] - '1' : -1; }

} // namespace

TEST_CASE("cluster: an R3 stream keeps every message, once, when its leader is killed -9 mid-publish and comes back") {
  nats_cluster cluster(3);
  std::atomic<std::uint64_t> acked{0}, failed{0};
  mi::gw::jetstream::options o;
  o.url = cluster.urls();
  o.max_retries = 1000; // a message is never given up: the cluster elects a new leader within seconds
  o.on_outcome = [&](const mi::gw::publish_outcome& r) { (r.ok ? acked : failed).fetch_add(1); };
  auto js = mi::gw::jetstream::connect(o);
  REQUIRE_MESSAGE(js, (js ? "" : js.err().message));
  mi::gw::stream_spec spec;
  spec.name = "CLUSTER_TEST";
  spec.subjects = {"cluster.test.>"};
  spec.replicas = 3;
  auto st = (*js)->ensure_stream(spec);
  REQUIRE_MESSAGE(st, (st ? "" : st.err().message));

  constexpr int n = 30000;
  std::string killed;
  for (int i = 0; i < n; ++i) {
    if (i == n / 3) { // the leader dies with messages in flight
      killed = stream_leader(cluster, "CLUSTER_TEST");
      REQUIRE_MESSAGE(member_index(killed) >= 0, "no leader reported for CLUSTER_TEST: '" << killed << "'");
      cluster.node(member_index(killed)).kill_hard();
    }
    if (i == 2 * n / 3) // and comes back while publishing goes on
      cluster.node(member_index(killed)).start();
    mi::gw::outgoing m;
    m.subject = "cluster.test." + std::to_string(i % 7);
    m.msg_id = "m-" + std::to_string(i);
    m.data = std::to_string(i);
    auto r = (*js)->publish_async(m);
    REQUIRE_MESSAGE(r, (r ? "" : r.err().message));
  }
  auto flushed = (*js)->flush(60s);
  CHECK_MESSAGE(flushed, (flushed ? "" : flushed.err().message));
  CHECK(acked.load() == n);
  CHECK(failed.load() == 0);
  auto after = (*js)->state("CLUSTER_TEST");
  REQUIRE(after);
  CHECK(after->messages == n); // n distinct ids acked and n stored: each exactly once
  CHECK(stream_leader(cluster, "CLUSTER_TEST") != "");
  // The member that came back caught up: every member healthy (its replica current) again.
  CHECK_MESSAGE(cluster.wait_healthy(30s), cluster.log_tails());
}

TEST_CASE("cluster: the platform on 3 nats-servers with R3 streams and buckets loses nothing when MARKET_RAW's leader "
          "is killed -9 and restarted mid-stream") {
  nats_cluster cluster(3, MI_SOURCE_DIR "/deploy/nats/nats-server.conf"); // the deploy kit's member config
  platform_env env({"1s", "1m"});
  std::string replicas;
  for (const char* s : {"raw", "kline", "gap", "dlq", "rejected"})
    replicas += std::string("    ") + s + ":\n      replicas: 3\n";
  env.use_nats(cluster.urls(), "  kv_replicas: 3\n  streams:\n" + replicas);
  env.start_platform();
  env.start_simulator({"--count", "20000", "--rate", "2500"});
  REQUIRE(mi::test::eventually([&] { return env.stream_messages("MARKET_RAW") >= 4000; }, 60s));
  // What config asked for: streams and the kline checkpoints' bucket on all three members.
  CHECK(stream_replicas(cluster, "MARKET_RAW") == 3);
  CHECK(stream_replicas(cluster, "MARKET_KLINE") == 3);
  CHECK(stream_replicas(cluster, "KV_MI_KLINE_STATE") == 3);

  auto leader = stream_leader(cluster, "MARKET_RAW");
  REQUIRE_MESSAGE(member_index(leader) >= 0, "no leader reported for MARKET_RAW: '" << leader << "'");
  cluster.node(member_index(leader)).kill_hard();
  std::this_thread::sleep_for(5s); // the outage: publishing, the kline stage and the savers carry on without it
  cluster.node(member_index(leader)).start();

  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= 20000; }, 120s));
  auto want = canonical(env.recorded_trades());
  REQUIRE(want.size() == 20000);
  bool stored = mi::test::eventually([&] { return env.stored_trades().size() >= want.size(); }, 90s);
  CHECK_MESSAGE(stored, "stored " << env.stored_trades().size() << " of " << want.size());
  CHECK(canonical(env.stored_trades()) == want);
  CHECK(env.stream_messages("MARKET_RAW") == want.size());
  auto want_klines = canonical(env.expected_klines());
  CHECK(mi::test::eventually([&] { return canonical(env.stored_klines()) == want_klines; }, 100s));
  CHECK_MESSAGE(cluster.wait_healthy(30s), cluster.log_tails());
  CHECK(env.stop_platform() == 0);
}

namespace {

// A copy of the platform's config for one more node: its own node id and metrics port.
std::string node_config(platform_env& env, const std::string& node_id, int metrics_port) {
  auto text = mi::test::read_file(env.config_path());
  const std::string key = "metrics:\n  listen: 127.0.0.1:";
  auto at = text.find(key);
  REQUIRE(at != std::string::npos);
  auto end = text.find('\n', at + key.size());
  text.replace(at + key.size(), end - at - key.size(), std::to_string(metrics_port));
  text += "runtime:\n  node_id: " + node_id + "\n";
  auto path = env.dir() + "/" + node_id + ".yaml";
  std::ofstream(path) << text;
  return path;
}

// The command line of the deploy kit's systemd unit for `role` (deploy/systemd/market-ingestor@.service,
// instance %i), with the built binary and `config` in place of the installed paths.
std::vector<std::string> unit_command(const std::string& role, const std::string& config) {
  auto unit = mi::test::read_file(MI_SOURCE_DIR "/deploy/systemd/market-ingestor@.service");
  auto at = unit.find("\nExecStart=");
  REQUIRE(at != std::string::npos);
  std::istringstream line(unit.substr(at + 11, unit.find('\n', at + 1) - at - 11));
  std::vector<std::string> argv;
  for (std::string word; line >> word;)
    argv.push_back(word == "/usr/bin/market-ingestor"           ? mi::test::binary()
                   : word == "/etc/market-ingestor/config.yaml" ? config
                   : word == "%i"                               ? role
                                                                : word);
  REQUIRE(argv.size() >= 2);
  return argv;
}

// Node `node_id` started with the systemd unit's command line for `role`, /metrics on `metrics_port`,
// waited for until ready.
std::unique_ptr<mi::test::child_process> start_node(platform_env& env, const std::string& node_id,
                                                    const std::string& role, int metrics_port) {
  auto log = env.dir() + "/" + node_id + ".log";
  auto before = mi::test::read_file(log).size();
  auto p = std::make_unique<mi::test::child_process>(unit_command(role, node_config(env, node_id, metrics_port)), log);
  REQUIRE_MESSAGE(mi::test::eventually(
                    [&] { return mi::test::has_ready_line(mi::test::read_file(log), before) || !p->running(); }, 30s),
                  mi::test::read_file(log));
  REQUIRE_MESSAGE(p->running(), mi::test::read_file(log));
  return p;
}

// The value of `sample` in the /metrics of the process on `port` (-1: absent).
double metric_at(int port, const std::string& sample) {
  auto text = mi::test::run({"curl", "-fsS", "http://127.0.0.1:" + std::to_string(port) + "/metrics"}).output;
  auto at = text.find("\n" + sample + " ");
  return at == std::string::npos ? -1 : std::stod(text.substr(at + sample.size() + 2));
}

} // namespace

TEST_CASE("cluster: two ingest nodes carry the same subscriptions, JetStream keeps one copy of each trade, and "
          "killing either mid-stream loses nothing") {
  nats_cluster cluster(3, MI_SOURCE_DIR "/deploy/nats/nats-server.conf");
  platform_env env({"1s", "1m"});
  std::string replicas;
  for (const char* s : {"raw", "kline", "gap", "dlq", "rejected"})
    replicas += std::string("    ") + s + ":\n      replicas: 3\n";
  env.use_nats(cluster.urls(), "  kv_replicas: 3\n  streams:\n" + replicas);
  env.start_platform({"--roles", "kline,store"});
  const int port_a = mi::test::free_port(), port_b = mi::test::free_port();
  auto a = start_node(env, "ingest-a", "ingest", port_a);
  auto b = start_node(env, "ingest-b", "ingest", port_b);
  // Both nodes are connected under their own names (node identity in config).
  auto connz = mi::test::run(
    {"curl", "-sS", "http://127.0.0.1:" + std::to_string(cluster.node(0).monitor_port()) + "/connz?limit=1000"});
  for (int i = 1; i < cluster.size(); ++i)
    connz.output +=
      mi::test::run(
        {"curl", "-sS", "http://127.0.0.1:" + std::to_string(cluster.node(i).monitor_port()) + "/connz?limit=1000"})
        .output;
  CHECK(connz.output.find("market-ingestor ingest-a") != std::string::npos);
  CHECK(connz.output.find("market-ingestor ingest-b") != std::string::npos);

  env.start_simulator({"--count", "20000", "--rate", "2500", "--linger-ms", "600000"});
  REQUIRE(mi::test::eventually([&] { return env.stream_messages("MARKET_RAW") >= 5000; }, 60s));
  // Both nodes received the same trades (so most of them were published twice: the stream keeps one).
  const std::string received = "mi_trades_received_total{exchange=\"binance\"}";
  CHECK(metric_at(port_a, received) >= 4000);
  CHECK(metric_at(port_b, received) >= 4000);
  a->kill_hard(); // node a dies: b carries on alone
  REQUIRE(mi::test::eventually([&] { return env.stream_messages("MARKET_RAW") >= 10000; }, 60s));
  a = start_node(env, "ingest-a", "ingest", port_a); // a comes back, then b dies
  std::this_thread::sleep_for(2s);                   // a resubscribed (its trades flow again) before b goes
  b->kill_hard();

  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= 20000; }, 120s));
  auto want = canonical(env.recorded_trades());
  REQUIRE(want.size() == 20000);
  bool stored = mi::test::eventually([&] { return env.stored_trades().size() >= want.size(); }, 90s);
  CHECK_MESSAGE(stored, "stored " << env.stored_trades().size() << " of " << want.size());
  CHECK(canonical(env.stored_trades()) == want);
  CHECK(env.stream_messages("MARKET_RAW") == want.size()); // one copy of each, though two nodes published most
  auto want_klines = canonical(env.expected_klines());
  CHECK(mi::test::eventually([&] { return canonical(env.stored_klines()) == want_klines; }, 100s));
  CHECK(env.stop_platform() == 0);
}

TEST_CASE(
  "cluster: two store nodes share the durable consumers, and killing one mid-stream stores every trade and candle "
  "once") {
  platform_env env({"1s", "1m"});
  env.start_platform({"--roles", "ingest,kline"});
  const int port_a = mi::test::free_port(), port_b = mi::test::free_port();
  auto a = start_node(env, "store-a", "store", port_a);
  auto b = start_node(env, "store-b", "store", port_b);
  env.start_simulator({"--count", "20000", "--rate", "2500"});
  // Both nodes write: the durable consumers hand each batch to one of them.
  const std::string rows = "mi_rows_written_total{table=\"market_trades\"}";
  REQUIRE(mi::test::eventually([&] { return metric_at(port_a, rows) > 0 && metric_at(port_b, rows) > 0; }, 60s));
  a->kill_hard(); // store-a dies with batches in hand: they are redelivered to store-b after the ack wait

  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= 20000; }, 120s));
  auto want = canonical(env.recorded_trades());
  REQUIRE(want.size() == 20000);
  bool stored = mi::test::eventually([&] { return env.stored_trades().size() >= want.size(); }, 120s);
  CHECK_MESSAGE(stored, "stored " << env.stored_trades().size() << " of " << want.size());
  CHECK(canonical(env.stored_trades()) == want);
  auto want_klines = canonical(env.expected_klines());
  CHECK(mi::test::eventually([&] { return canonical(env.stored_klines()) == want_klines; }, 120s));
  CHECK(env.stop_platform() == 0);
}
