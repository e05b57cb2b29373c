// `market-ingestor loadtest`: N push clients against a running gateway (gw::load_test), optionally with a stand-in
// publisher of final klines into JetStream; prints delivery latency, losses, reconnects and server memory.
#include <iostream>
#include <thread>

#include "app/cli.hpp"
#include "gateways/jetstream/jetstream.hpp"
#include "gateways/push/push_loadtest.hpp"
#include "gateways/push/push_protocol.hpp"
#include "messages/codec.hpp"
#include "messages/kline.hpp"

namespace mi::app {
namespace {

struct loadtest_opts {
  std::string host = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t clients = 100;
  std::size_t slow_clients = 0;
  std::string channels = "kline.binance.BTCUSDT.1m";
  std::string duration = "10s";
  std::string settle = "1s";
  std::size_t source_addresses = 4;
  unsigned threads = 1;
  int pid = 0;
  std::string nats;        // stand-in publisher: publish final klines of the channels into JetStream
  double publish_rate = 1; // messages per second per channel
};

// The final kline the stand-in publisher sends as message `i` of `channel` (kline.{exchange}.{symbol}.{interval}):
// distinct open times within a run and a revision of the run's own (`run`), so JetStream's dedup window never
// swallows one, not even one of an earlier run.
mi::gw::outgoing stand_in_final(const std::string& channel, std::int64_t base_ms, std::uint64_t i, std::uint32_t run) {
  std::vector<std::string> t;
  for (std::size_t start = 0;;) {
    auto dot = channel.find('.', start);
    t.push_back(channel.substr(start, dot - start));
    if (dot == std::string::npos)
      break;
    start = dot + 1;
  }
  mi::kline k;
  k.exchange = t[1];
  k.symbol = t[2];
  k.interval = t[3];
  k.open_time_ms = base_ms + static_cast<std::int64_t>(i) * 1000;
  k.close_time_ms = k.open_time_ms + 999;
  const auto one = *mi::decimal::parse("1");
  k.open = k.high = k.low = k.close = k.vwap = one;
  k.volume = k.quote_volume = k.taker_buy_volume = k.taker_buy_quote_volume = one;
  k.trade_count = 1;
  k.first_trade_id = k.last_trade_id = std::to_string(i);
  k.is_final = true;
  k.revision = run;
  mi::gw::outgoing m;
  m.subject = mi::kline_subject(k);
  m.msg_id = mi::dedup_id(k);
  m.content_type = "application/x-protobuf; proto=market.v1.Kline";
  m.data = mi::encode_kline_pb(k);
  return m;
}

int run_loadtest(const loadtest_opts& o) {
  auto duration = mi::cfg::parse_duration(o.duration);
  auto settle = mi::cfg::parse_duration(o.settle);
  if (!duration || !settle) {
    std::cerr << "loadtest: --duration and --settle take durations like 10s or 500ms\n";
    return 2;
  }
  mi::gw::load_options lo;
  lo.host = o.host;
  lo.port = o.port;
  lo.clients = o.clients;
  lo.slow_clients = o.slow_clients;
  lo.channels = split_csv(o.channels);
  lo.source_addresses = o.source_addresses;
  lo.threads = o.threads;
  for (const auto& c : lo.channels)
    if (!mi::gw::is_valid_channel_or_pattern(c)) {
      std::cerr << "loadtest: invalid channel " << c << "\n";
      return 2;
    }
  std::unique_ptr<mi::gw::jetstream> js;
  if (!o.nats.empty()) {
    for (const auto& c : lo.channels)
      if (mi::gw::kind_of(c) != mi::gw::channel_kind::kline || mi::gw::is_pattern(c)) {
        std::cerr << "loadtest: the stand-in publisher publishes kline channels only, not " << c << "\n";
        return 2;
      }
    mi::gw::jetstream::options jo;
    jo.url = o.nats;
    jo.name = "market-ingestor-loadtest";
    auto j = mi::gw::jetstream::connect(jo);
    if (!j) {
      std::cerr << "loadtest: " << j.err().message << "\n";
      return 2;
    }
    js = std::move(*j);
  }
  const int pid = o.pid > 0 ? o.pid : mi::gw::pid_listening_on(o.port).value_or(0);
  // 0: unknown (plain integers: GCC 12 sees optionals here as maybe uninitialized)
  const std::uint64_t rss_before = pid > 0 ? mi::gw::rss_kib(pid).value_or(0) : 0;

  mi::gw::load_test lt(lo);
  const bool all = lt.connect();
  auto r = lt.report();
  std::cout << "clients: " << r.subscribed << " subscribed of " << (o.clients + o.slow_clients) << " ("
            << o.slow_clients << " never read) in " << r.connect_time.count() << " ms, " << r.connect_failures
            << " failed\n";
  std::this_thread::sleep_for(*settle); // the server settles its per-connection state
  const std::uint64_t rss_after = pid > 0 ? mi::gw::rss_kib(pid).value_or(0) : 0;
  lt.reset_stats();

  // The measured phase: the platform's own messages, or the stand-in publisher's at --publish-rate per channel.
  std::uint64_t published = 0, publish_failures = 0, duplicates = 0;
  const auto t0 = std::chrono::steady_clock::now();
  if (js) {
    const auto now_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
    const auto base_ms = now_ms / 1000 * 1000;
    const auto run = static_cast<std::uint32_t>(now_ms % 1'000'000'000); // a run's own dedup ids
    const auto period = std::chrono::duration<double>(1.0 / std::max(0.001, o.publish_rate));
    for (std::uint64_t i = 0;; ++i) {
      const auto at = t0 + std::chrono::duration_cast<std::chrono::steady_clock::duration>(period * i);
      if (at - t0 >= *duration)
        break;
      std::this_thread::sleep_until(at);
      for (const auto& c : lo.channels) {
        if (auto p = js->publish_sync(stand_in_final(c, base_ms, i, run)); !p)
          ++publish_failures;
        else if (p->second)
          ++duplicates; // stored before: no subscriber gets it again
      }
      ++published;
    }
  } else {
    std::this_thread::sleep_for(*duration);
  }
  std::this_thread::sleep_for(*settle); // the last deliveries
  r = lt.report();
  lt.close();

  std::cout << "messages: " << r.messages << " received by " << o.clients << " clients (per client min "
            << r.min_per_client << " max " << r.max_per_client << "), " << r.errors << " error replies\n";
  if (js) {
    const std::uint64_t expected = published * lo.channels.size() - publish_failures - duplicates;
    const std::uint64_t want = expected * o.clients;
    std::cout << "published: " << published << " per channel, " << publish_failures << " failed, " << duplicates
              << " duplicates; expected per client " << expected << "\n";
    std::cout << "lost: " << (want > r.messages ? want - r.messages : 0) << "\n";
  }
  std::cout << "latency_us: p50 " << r.latency.p50_us << " p99 " << r.latency.p99_us << " max " << r.latency.max_us
            << " (" << r.latency.count << " frames)\n";
  std::cout << "last_delivery_us: p50 " << r.last_delivery.p50_us << " p99 " << r.last_delivery.p99_us << " max "
            << r.last_delivery.max_us << " (" << r.last_delivery.count << " messages)\n";
  std::cout << "reconnects: " << r.reconnects << "\n";
  if (rss_before > 0 && rss_after > 0) {
    const double per = (static_cast<double>(rss_after) - static_cast<double>(rss_before)) /
                       static_cast<double>(std::max<std::size_t>(1, o.clients + o.slow_clients));
    std::cout << "server_rss_kib: pid " << pid << " before " << rss_before << " after " << rss_after
              << " per_connection " << per << "\n";
  } else {
    std::cout << "server_rss_kib: unknown (no process found listening on port " << o.port << "; give --pid)\n";
  }
  return all ? 0 : 1;
}

} // namespace

command add_loadtest(CLI::App& app) {
  auto* sub = app.add_subcommand("loadtest", "open many push clients against a gateway and measure delivery");
  auto o = std::make_shared<loadtest_opts>();
  sub->add_option("--host", o->host, "the push gateway's IPv4 address");
  sub->add_option("--port", o->port, "the push gateway's port");
  sub->add_option("--clients", o->clients, "clients that read everything");
  sub->add_option("--slow-clients", o->slow_clients, "more clients that subscribe and never read");
  sub->add_option("--channels", o->channels, "comma-separated channels every client subscribes to");
  sub->add_option("--duration", o->duration, "measured time after every client subscribed (e.g. 10s)");
  sub->add_option("--settle", o->settle, "wait after connecting (memory reading) and after the run (last frames)");
  sub->add_option("--source-addresses", o->source_addresses, "clients bind 127.0.0.1 .. 127.0.0.N (ports per address)");
  sub->add_option("--threads", o->threads, "io threads of the clients");
  sub->add_option("--pid", o->pid, "the server's pid for its memory (default: the process listening on --port)");
  sub->add_option("--nats", o->nats, "stand-in publisher: publish final klines of --channels to this NATS server");
  sub->add_option("--publish-rate", o->publish_rate, "stand-in publisher: messages per second per channel");
  return {sub, [o] { return run_loadtest(*o); }};
}

} // namespace mi::app
