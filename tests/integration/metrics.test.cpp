// Every metric family the docs list, moved by its event (issue 9, item 12): the whole platform
// (all roles, real nats-server + PostgreSQL) through the simulator's faults, a nats-server
// restart, a PostgreSQL outage, injected late and poison messages, a push client and REST
// requests; then /metrics is compared with the families named in README.md and
// docs/operations.md, so the test follows the docs.
#include <doctest/doctest.h>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "messages/codec.hpp"
#include "tests/integration/platform_env.hpp"

using namespace std::chrono_literals;
using mi::test::platform_env;

namespace {

// Every `mi_*` family named in a document (histogram series suffixes folded into their family).
std::set<std::string> families_in(const std::string& path) {
  auto text = mi::test::read_file(path);
  REQUIRE_MESSAGE(!text.empty(), "cannot read " << path);
  std::set<std::string> out;
  std::regex name("\\bmi_[a-z0-9_]*[a-z0-9]");
  for (auto it = std::sregex_iterator(text.begin(), text.end(), name); it != std::sregex_iterator(); ++it) {
    auto f = it->str();
    if (f.size() > 6 && f.compare(f.size() - 6, 6, "_tests") == 0)
      continue; // a test binary named in the docs (mi_push_tests), not a metric
    if (f.rfind("mi_bench_", 0) == 0)
      continue; // a benchmark binary (tests/bench: mi_bench_e2e), not a metric
    for (const char* suffix : {"_bucket", "_count", "_sum"}) {
      auto n = std::string(suffix).size();
      if (f.size() > n && f.compare(f.size() - n, n, suffix) == 0 && f.find("_seconds") != std::string::npos)
        f.resize(f.size() - n);
    }
    out.insert(f);
  }
  return out;
}

// sample ("name{labels}") -> value of one scrape.
std::map<std::string, double> parse_scrape(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#')
      continue;
    auto sp = line.rfind(' ');
    if (sp == std::string::npos)
      continue;
    out[line.substr(0, sp)] = std::stod(line.substr(sp + 1));
  }
  return out;
}

std::string family_of(const std::string& sample) {
  auto name = sample.substr(0, sample.find('{'));
  for (const char* suffix : {"_bucket", "_count", "_sum"}) {
    auto n = std::string(suffix).size();
    if (name.size() > n && name.compare(name.size() - n, n, suffix) == 0)
      return name.substr(0, name.size() - n);
  }
  return name;
}

// What the run showed of each family: present at all, and the largest value of any of its
// samples (for a histogram: of its _count) over every scrape.
struct seen_family {
  bool present = false;
  double max = 0;
  std::set<std::string> samples;
};

class observer {
public:
  explicit observer(platform_env& env) : env_(env) {}
  void scrape() {
    for (auto& [sample, value] : parse_scrape(env_.scrape_metrics())) {
      auto fam = family_of(sample);
      auto& f = seen_[fam];
      f.present = true;
      f.samples.insert(sample);
      bool bucket_or_sum = sample.find("_bucket") != std::string::npos || sample.find("_sum") != std::string::npos;
      if (!bucket_or_sum)
        f.max = std::max(f.max, value);
      max_sample_[sample] = std::max(max_sample_[sample], value);
    }
  }
  // Scrapes every 200 ms until `done` (or the deadline).
  bool scrape_until(const std::function<bool()>& done, std::chrono::seconds deadline) {
    auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      scrape();
      if (done())
        return true;
      std::this_thread::sleep_for(200ms);
    }
    return done();
  }
  const seen_family& family(const std::string& f) { return seen_[f]; }
  double max_of(const std::string& sample) { return max_sample_.count(sample) ? max_sample_[sample] : -1; }

private:
  platform_env& env_;
  std::map<std::string, seen_family> seen_;
  std::map<std::string, double> max_sample_;
};

void replace_in_file(const std::string& path, const std::string& from, const std::string& to) {
  auto text = mi::test::read_file(path);
  auto at = text.find(from);
  REQUIRE_MESSAGE(at != std::string::npos, "'" << from << "' not in " << path);
  text.replace(at, from.size(), to);
  std::ofstream(path) << text;
}

mi::trade make_trade(std::string id, std::int64_t ts_ns) {
  mi::trade t;
  t.exchange = "binance";
  t.symbol = "BTCUSDT";
  t.base = "BTC";
  t.quote = "USDT";
  t.trade_id = std::move(id);
  t.price = *mi::decimal::parse("100");
  t.quantity = *mi::decimal::parse("1");
  t.taker_side = mi::side::buy;
  t.ts_ns = ts_ns;
  t.recv_ns = ts_ns;
  return t;
}

} // namespace

TEST_CASE("metrics: every family README.md and docs/operations.md list moves where its event happens") {
  const std::string src = MI_SOURCE_DIR;
  auto documented = families_in(src + "/README.md");
  for (auto& f : families_in(src + "/docs/operations.md"))
    documented.insert(f);
  REQUIRE(documented.size() >= 30);

  platform_env env({"1s"}, "    silence_timeout: 1s\n    backfill_max_trades: 100\n", {}, "  max_attempts: 2\n",
                   "audit:\n  interval: 1s\nsupervision:\n  initial_backoff: 100ms\n  max_backoff: 400ms\n"
                   "testing:\n  fault: symbol_window_throws_once\n  fault_after_trades: 2000\n");
  replace_in_file(env.config_path(), "symbols: [BTC/USDT, ETH/USDT]", "symbols: [BTC/USDT, ETH/USDT, DOGE/USDT]");
  replace_in_file(env.config_path(), "nats:\n  url: " + env.nats.url() + "\n",
                  "nats:\n  url: " + env.nats.url() + "\n  ack_timeout: 1s\n");
  // The exchange (started first: its instrument list is read at the platform's start; it waits for a
  // subscriber before it trades): a dropped connection with a resent block, malformed frames, a stall the
  // watchdog notices, skipped ids (more than backfill_max_trades: partly reported as unfilled), an
  // unlisted symbol.
  env.start_simulator(
    {"--count",           "24000", "--rate",        "2000",     "--drop-after", "3000",    "--resend",     "200",
     "--malformed-every", "1500",  "--stall-after", "6000",     "--stall-ms",   "2500",    "--skip-after", "10000",
     "--skip-count",      "300",   "--reject",      "DOGEUSDT", "--first-id",   "1000000", "--linger-ms",  "600000"});
  env.start_platform();
  observer obs(env);

  // A push client: subscribes, then sends a malformed request.
  auto tail_log = env.dir() + "/tail.log";
  mi::test::child_process tail({mi::test::binary(), "tail", "kline.binance.BTCUSDT.1s", "trade.binance.BTCUSDT",
                                "--url", "ws://127.0.0.1:" + std::to_string(env.push_port()) + "/"},
                               tail_log);
  REQUIRE(
    mi::test::eventually([&] { return mi::test::read_file(tail_log).find("subscribed") != std::string::npos; }, 10s));
  // A raw client sends a malformed request (the push gateway answers with an error and counts it).
  mi::net::io_thread io;
  std::atomic<bool> got_error{false};
  mi::net::ws_handlers h;
  std::shared_ptr<mi::net::ws_client> raw_client;
  h.on_open = [&] { raw_client->send("{this is not json"); };
  h.on_text = [&](std::string&& t, std::int64_t) {
    if (t.find("\"error\"") != std::string::npos)
      got_error = true;
  };
  std::atomic<bool> closed{false};
  h.on_close = [&](std::string) { closed = true; };
  raw_client = mi::net::ws_client::create(
    io.context(), *mi::net::parse_url("ws://127.0.0.1:" + std::to_string(env.push_port()) + "/"), {}, std::move(h));
  raw_client->start();
  REQUIRE(mi::test::eventually([&] { return got_error.load(); }, 10s));
  // Then a message over push.max_message_bytes: the gateway closes it (1009) and counts the rejection.
  raw_client->send(std::string(70000, 'x'));
  REQUIRE(mi::test::eventually([&] { return closed.load(); }, 10s));
  // REST: an unsigned request (401, an auth rejection) and a health check.
  auto api = "http://127.0.0.1:" + std::to_string(env.api_port());
  mi::test::run({"curl", "-s", "-o", "/dev/null", api + "/api/v1/klines?exchange=binance&symbol=BTCUSDT&interval=1s"});
  mi::test::run({"curl", "-s", "-o", "/dev/null", api + "/health"});

  REQUIRE(obs.scrape_until([&] { return env.stored_trades().size() >= 4000; }, 60s));

  // NATS dies mid-stream (kill -9: the publishes it had read but not acked lose their acks, which a clean SIGTERM
  // shutdown may still have sent, so the retry did not always happen): acks time out and are retried with the same id.
  env.nats.kill_hard();
  obs.scrape_until([] { return false; }, 3s); // the outage itself (in-flight publishes pile up)
  env.nats.start();
  REQUIRE(obs.scrape_until([&] { return env.metric("mi_publish_retries_total") > 0; }, 60s));

  // PostgreSQL away for 3 s: batches fail and are retried.
  env.pg.stop_immediate();
  obs.scrape_until([] { return false; }, 3s);
  env.pg.start();

  // Injected into MARKET_RAW: a trade for a window already final (revised), one older than any
  // window kept (late, dropped: 2 minutes > 16 kept 1 s windows), and an undecodable message
  // (dead-lettered by the saver).
  {
    mi::gw::jetstream::options o;
    o.url = env.nats.url();
    auto js = mi::gw::jetstream::connect(o);
    REQUIRE(js);
    auto now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    // Ids below the simulator's first id: no collision with a live trade's dedup id.
    for (auto& t : {make_trade("5", now_ns - 5'000'000'000), make_trade("6", now_ns - 120'000'000'000)}) {
      mi::gw::outgoing m{mi::raw_subject(t.exchange, t.symbol), mi::dedup_id(t), std::string(mi::trade_content_type),
                         mi::encode_trade_pb(t)};
      REQUIRE((*js)->publish_sync(m));
    }
    REQUIRE((*js)->publish_sync({"market.raw.binance.BTCUSDT", "poison-1", "", "not a protobuf trade"}));
  }

  REQUIRE(obs.scrape_until([&] { return env.recorded_trades().size() >= 24000; }, 120s));
  // Stored or reported lost (the part of the skipped range beyond backfill_max_trades).
  auto accounted = [&] {
    auto missing = std::max(0.0, env.metric("mi_gap_missing_trades_total{exchange=\"binance\"}"));
    return static_cast<double>(env.stored_trades().size()) + missing >=
           static_cast<double>(env.recorded_trades().size());
  };
  bool stored = obs.scrape_until(accounted, 120s);
  CHECK_MESSAGE(stored, "stored " << env.stored_trades().size() << " of " << env.recorded_trades().size());
  obs.scrape_until([&] { return obs.family("mi_dead_letters_total").max > 0; }, 30s);
  // Quiet again: nothing awaits an ack, and the gauge says so (it used to keep its last value).
  CHECK(obs.scrape_until([&] { return env.metric("mi_publish_in_flight") == 0; }, 30s));

  // What each documented family must show, and why where it cannot move in this run.
  using check = std::function<bool()>;
  auto moved = [&](const std::string& f) { return [&obs, f] { return obs.family(f).max > 0; }; };
  auto present = [&](const std::string& f) { return [&obs, f] { return obs.family(f).present; }; };
  std::map<std::string, check> expect{
    {"mi_trades_received_total", moved("mi_trades_received_total")},
    {"mi_trades_published_total", moved("mi_trades_published_total")},
    {"mi_ingest_latency_seconds", moved("mi_ingest_latency_seconds")},
    {"mi_frames_rejected_total", moved("mi_frames_rejected_total")},
    {"mi_reconnects_total", moved("mi_reconnects_total")},
    {"mi_exchange_connections", moved("mi_exchange_connections")},
    {"mi_symbols_rejected_total", moved("mi_symbols_rejected_total")},
    {"mi_symbol_up",
     [&] {
       return obs.max_of("mi_symbol_up{exchange=\"binance\",symbol=\"BTC/USDT\"}") == 1 &&
              obs.max_of("mi_symbol_up{exchange=\"binance\",symbol=\"DOGE/USDT\"}") == 0;
     }},
    {"mi_gaps_detected_total", moved("mi_gaps_detected_total")},
    {"mi_backfilled_trades_total", moved("mi_backfilled_trades_total")},
    {"mi_gaps_unfilled_total", moved("mi_gaps_unfilled_total")},
    {"mi_gap_missing_trades_total", moved("mi_gap_missing_trades_total")},
    {"mi_watchdog_actions_total", moved("mi_watchdog_actions_total")},
    {"mi_publish_in_flight", moved("mi_publish_in_flight")}, // non-zero while NATS was away
    {"mi_publish_retries_total", moved("mi_publish_retries_total")},
    {"mi_klines_final_total", moved("mi_klines_final_total")},
    {"mi_late_trades_total", moved("mi_late_trades_total")},
    {"mi_late_trades_revised_total", moved("mi_late_trades_revised_total")},
    {"mi_kline_final_latency_seconds", moved("mi_kline_final_latency_seconds")},
    {"mi_symbol_windows", moved("mi_symbol_windows")},
    {"mi_kline_reader_switches_total", moved("mi_kline_reader_switches_total")}, // to=local on this ingest node
    {"mi_rows_written_total", moved("mi_rows_written_total")},
    {"mi_batch_duration_seconds", moved("mi_batch_duration_seconds")},
    {"mi_batch_failures_total", moved("mi_batch_failures_total")},
    {"mi_dead_letters_total", moved("mi_dead_letters_total")},
    {"mi_consumer_lag", moved("mi_consumer_lag")}, // the PostgreSQL outage lets it rise
    // Stored messages waiting above a hole (saver.acks: batch): 0 when every stored run is acked at once, as here;
    // present = the saver reports it. Moved by storage test 'a message another saver holds keeps the acks above it
    // back'.
    {"mi_saver_acks_held", present("mi_saver_acks_held")},
    // A gauge of rows without a partition: 0 when every row has its partition (as here); present
    // means the maintenance ran and reported.
    {"mi_partition_default_rows", present("mi_partition_default_rows")},
    {"mi_audit_mismatches", present("mi_audit_mismatches")}, // 0 on a clean run: present = the audit reported
    {"mi_audit_last_run_timestamp_seconds", moved("mi_audit_last_run_timestamp_seconds")},
    // Cells compared by the last audit: the previous complete hour, empty in a fresh run (0); present
    // means the scheduled audit reported.
    {"mi_audit_checked", present("mi_audit_checked")},
    {"mi_push_trade_feeds", moved("mi_push_trade_feeds")},           // the tail client's trade channel
    {"mi_push_rejections_total", moved("mi_push_rejections_total")}, // the oversized message
    {"mi_push_clients", moved("mi_push_clients")},
    {"mi_push_bad_requests_total", moved("mi_push_bad_requests_total")},
    {"mi_api_requests_total", moved("mi_api_requests_total")},
    {"mi_api_request_duration_seconds", moved("mi_api_request_duration_seconds")},
    {"mi_api_auth_rejections_total", moved("mi_api_auth_rejections_total")},
    {"mi_actor_restarts_total", moved("mi_actor_restarts_total")}, // the symbol window fault
    {"mi_api_database_up", moved("mi_api_database_up")},           // the prober saw PostgreSQL up
    {"mi_api_connections", present("mi_api_connections")},         // open connections: 0 between requests
    // The platform's start, within this test's run (it started minutes ago, not in the future).
    {"mi_process_start_time_seconds",
     [&] {
       const double now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
       const double v = obs.max_of("mi_process_start_time_seconds");
       return v > now - 3600 && v <= now;
     }},
    // What the allocations hold: at least a MiB (the engine, the clients, the buffers), far below the box's memory.
    {"mi_process_heap_bytes",
     [&] {
       const double v = obs.max_of("mi_process_heap_bytes");
       return v > 1 << 20 && v < 4.0 * (1 << 30);
     }},
  };
  // Families that cannot move in this run, with the reason (each is tested where it can).
  std::map<std::string, std::string> cannot{
    {"mi_publish_failures_total", "trades and finals are retried forever (nats.max_retries unbounded), so nothing "
                                  "fails permanently; labels tested in actors/publisher.test.cpp"},
    {"mi_push_dropped_messages_total", "needs a client that stops reading for megabytes of frames; "
                                       "gateways/push/push_server.test.cpp drives a non-reading client"},
    {"mi_push_sessions_failed_total", "needs a client_session actor to crash; actors/push_hub.test.cpp"},
    {"mi_trades_rejected_total", "needs trades the admission refuses; exchanges test 'far-future, too old and "
                                 "unrepresentable trades are quarantined'"},
    {"mi_kline_trades_skipped_total", "needs a far-future trade already in MARKET_RAW; kline_revision.test.cpp"},
    {"mi_kline_finals_superseded_total", "needs a final MARKET_KLINE already holds with other values under its dedup "
                                         "id; kline_revision.test.cpp 'a final the stream already holds with other "
                                         "values'"},
    {"mi_kline_trades_outside_session_total", "needs a venue whose market has sessions (alpaca: XNYS) trading "
                                              "outside them; messages/kline session tests count them"},
    {"mi_exchange_errors_total", "needs an exchange's error reply; exchanges test 'alpaca with wrong credentials' "
                                 "checks it"},
    {"mi_backfill_throttled_total", "needs the simulator's 429 fault; exchanges test 'REST backfill answered 429'"},
    {"mi_saver_redelivered_total", "needs a trade message redelivered after its batch committed (a lost ack); "
                                   "gateways/postgres tests 'a redelivered batch is recognised by its stream "
                                   "sequences' count the skips"},
    {"mi_saver_key_fallbacks_total", "needs a stored trade arriving under a new stream sequence; gateways/postgres "
                                     "test 'a trade published again under new sequences' counts the fallback"},
    {"mi_api_key_lookups_total", "needs a well-formed signed request; gateways/http api tests count lookups"},
    {"mi_api_busy_total", "needs every API worker stuck; gateways/http test 'every worker stuck in slow queries'"},
    {"mi_api_connections_refused_total", "needs more than api.max_connections at once; gateways/http "
                                         "'max_connections' test"},
    {"mi_book_resyncs_total", "books are off in this run; tests/integration/books.test.cpp checks one resync per "
                              "fault, by reason"},
    {"mi_book_valid", "books are off in this run; tests/integration/books.test.cpp"},
    {"mi_book_messages_total", "books are off in this run; tests/integration/books.test.cpp publishes them"},
    {"mi_push_book_resnapshots_total", "needs a book client whose queue overflows; actors/push_hub.test.cpp"},
    {"mi_book_samples_total", "storage.books is off in this run; books.test.cpp stores samples and reads them back "
                              "through the API"},
    {"mi_admin_actions_total", "needs role admin and an operator; tests/integration/console.test.cpp counts the "
                               "browser's pause"},
    {"mi_push_conflated_messages_total", "needs a kline client whose queue holds a candle twice; "
                                         "gateways/push/push_server.test.cpp conflates"},
    {"mi_push_replayed_messages_total", "needs a client that resumes; push.test.cpp 'push resume' checks it"},
    {"mi_push_resume_gaps_total", "needs a resume beyond push.resume_max; actors/push_hub.test.cpp"},
    {"mi_source_requests_total", "document sources are off in this run; tests/integration/documents.test.cpp"},
    {"mi_source_circuit_state", "document sources are off in this run; tests/integration/documents.test.cpp"},
    {"mi_source_gaps_total", "document sources are off in this run; tests/integration/documents.test.cpp"},
    {"mi_documents_published_total", "document sources are off in this run; tests/integration/documents.test.cpp"},
    {"mi_documents_stored_total", "document sources are off in this run; tests/integration/documents.test.cpp"},
    {"mi_trade_amendments_total", "needs Alpaca corrections and cancels; tests/integration/alpaca_amendments.test.cpp "
                                  "checks applied and unmatched"},
    {"mi_calendar_refreshes_total", "needs calendars.alpaca_refresh against Alpaca's /v2/calendar; "
                                    "tests/integration/calendar_refresh.test.cpp counts a changed and a failed one"},
    {"mi_daily_bar_mismatches_total",
     "needs the role daily against Alpaca's bars; tests/integration/alpaca_daily.test.cpp "
     "counts the deliberately different volume"},
  };

  for (const auto& f : documented) {
    CAPTURE(f);
    if (cannot.count(f)) {
      MESSAGE(f << " not checked: " << cannot[f]);
      continue;
    }
    auto it = expect.find(f);
    REQUIRE_MESSAGE(it != expect.end(), f << " is documented but this test has no expectation for it");
    CHECK_MESSAGE(it->second(),
                  f << " did not move (present: " << obs.family(f).present << ", max " << obs.family(f).max << ")");
  }
  CHECK(env.stop_platform() == 0);
}
