// Supervision of the real binary (issue 9, item 6): a role that keeps failing stops the process
// with a non-zero status and a clear line; a symbol window that throws is restarted from its
// checkpoint without changing a final. Faults come from the test-only `testing.fault` key.
#include <doctest/doctest.h>

#include <regex>

#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::canonical;
using mi::test::platform_env;

namespace {

const char* fast_supervision = "supervision:\n  initial_backoff: 100ms\n  max_backoff: 400ms\n  reset_after: 30s\n"
                               "  max_restarts: 3\n  restart_window: 30s\n";

std::size_t count_of(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE(
  "supervision: a kline stage that fails at every start is restarted 3 times with backoff, then the process exits 3") {
  platform_env env({"1s"}, {}, {}, {}, std::string(fast_supervision) + "testing:\n  fault: kline_stage_throws\n");
  auto started = std::chrono::steady_clock::now();
  env.launch_platform();
  int code = env.wait_platform_exit(60s);
  auto took = std::chrono::steady_clock::now() - started;
  auto log = env.platform_log();
  REQUIRE_MESSAGE(code == 3, "exit code " << code << "\n" << log);
  // Restarted after 100, 200 and 400 ms (so at least 0.7 s went by), then given up.
  CHECK(log.find("restart 1 of 3 within 30.0 s in 100 ms") != std::string::npos);
  CHECK(log.find("restart 2 of 3 within 30.0 s in 200 ms") != std::string::npos);
  CHECK(log.find("restart 3 of 3 within 30.0 s in 400 ms") != std::string::npos);
  CHECK_MESSAGE(count_of(log, "kline: kline_stage died (") == 3, log);
  CHECK(took >= 700ms);
  // The line an operator finds in the journal.
  CHECK(log.find("supervision: a role gave up, the process stops with exit status 3 so that its service manager "
                 "restarts it: kline: kline_stage failed 4 times within 30.0 s (limit 3 restarts), last: ") !=
        std::string::npos);
  // The other roles were taken down, not left running: nothing after the exit.
  CHECK(log.find("stopped cleanly") == std::string::npos);
}

TEST_CASE(
  "supervision: a symbol window that throws is restarted from its checkpoint and every final is as without the fault") {
  platform_env env({"1s", "1m"}, {}, {}, {},
                   std::string(fast_supervision) + "testing:\n  fault: symbol_window_throws_once\n"
                                                   "  fault_after_trades: 1500\n");
  env.start_platform();
  env.start_simulator({"--count", "6000", "--rate", "2000"});
  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= 6000; }, 120s));
  REQUIRE(env.recorded_trades().size() == 6000);
  // The reference: the same trades aggregated in one uninterrupted pass (`market-ingestor aggregate`).
  auto want = canonical(env.expected_klines());
  bool same = mi::test::eventually([&] { return canonical(env.stored_klines()) == want; }, 100s);
  auto got = canonical(env.stored_klines());
  CHECK_MESSAGE(same, "klines stored " << got.size() << ", expected " << want.size());
  CHECK(got == want);
  // No final was stored twice with different content, and none was revised by the restart.
  for (const auto& k : env.stored_klines())
    CHECK(k.revision == 0);
  auto log = env.platform_log();
  CHECK(log.find("testing.fault symbol_window_throws_once") != std::string::npos);
  CHECK(std::regex_search(log, std::regex("kline: kline_stage died \\(.*symbol_window_throws_once")));
  CHECK(env.metric("mi_actor_restarts_total{supervisor=\"kline\"}") == 1);
  CHECK(env.stop_platform() == 0);
}

TEST_CASE("supervision: a MARKET_RAW reader that goes silent is restarted after its last sequence and every final is "
          "as without the fault") {
  // The stage reads MARKET_RAW throughout (klines.feed: stream): on the local feed the reader closes at the end of
  // the stream and would never go silent.
  platform_env env({"1s"}, {}, "  feed: stream\n", {},
                   "testing:\n  fault: kline_reader_stalls_once\n  fault_after_trades: 1500\n");
  env.start_platform();
  env.start_simulator({"--count", "6000", "--rate", "2000"});
  REQUIRE(mi::test::eventually([&] { return env.recorded_trades().size() >= 6000; }, 120s));
  REQUIRE(env.recorded_trades().size() == 6000);
  // The reference: the same trades aggregated in one uninterrupted pass (`market-ingestor aggregate`).
  auto want = canonical(env.expected_klines());
  bool same = mi::test::eventually([&] { return canonical(env.stored_klines()) == want; }, 100s);
  auto got = canonical(env.stored_klines());
  CHECK_MESSAGE(same, "klines stored " << got.size() << ", expected " << want.size());
  CHECK(got == want);
  auto log = env.platform_log();
  // The watchdog saw the silence and started the reader again right after the last sequence it delivered.
  CHECK_MESSAGE(std::regex_search(log, std::regex("the MARKET_RAW reader delivered nothing for 5 s while the stream "
                                                  "holds up to seq [0-9]+; restarting it at seq 1501")),
                log);
  // The stage itself did not fail: no restart was counted (the family appears only with a first restart).
  CHECK(env.metric("mi_actor_restarts_total{supervisor=\"kline\"}") <= 0);
  CHECK(env.stop_platform() == 0);
}
