// `market-ingestor tail`: prints what the push gateway sends for some channels.
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <condition_variable>
#include <spdlog/spdlog.h>

#include "app/cli.hpp"
#include "app/commands.hpp"
#include "gateways/http/api_keys.hpp"
#include "config/config.hpp"
#include "connectors/decode_driver.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "gateways/postgres/partitions.hpp"
#include "gateways/postgres/postgres.hpp"
#include "messages/codec.hpp"
#include "messages/kline/kline_engine.hpp"

namespace mi::app {

int run_tail(const std::string& url_text, const std::vector<std::string>& channels, std::uint64_t count) {
  auto u = mi::net::parse_url(url_text);
  if (!u) {
    std::cerr << "tail: " << u.err().message << "\n";
    return 2;
  }
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  std::string close_reason;
  std::atomic<std::uint64_t> data_frames{0};
  mi::net::io_thread io;
  std::shared_ptr<mi::net::ws_client> client;
  std::string subscribe = R"({"op":"subscribe","channels":[)";
  for (std::size_t i = 0; i < channels.size(); ++i)
    subscribe += (i ? ",\"" : "\"") + channels[i] + "\"";
  subscribe += "]}";
  mi::net::ws_handlers h;
  h.on_open = [&] { client->send(subscribe); };
  h.on_text = [&](std::string&& text, std::int64_t) {
    std::cout << text << std::endl;
    if (text.rfind("{\"channel\":", 0) == 0 && count > 0 && ++data_frames >= count) {
      std::lock_guard<std::mutex> lock(mu);
      done = true;
      cv.notify_all();
    }
  };
  h.on_close = [&](std::string reason) {
    std::lock_guard<std::mutex> lock(mu);
    close_reason = std::move(reason);
    done = true;
    cv.notify_all();
  };
  mi::net::ws_options o;
  o.read_timeout = std::chrono::hours(24 * 365); // a quiet channel is fine for a terminal client
  client = mi::net::ws_client::create(io.context(), *u, o, std::move(h));
  client->start();
  // SIGINT/SIGTERM end the tail; they are blocked and waited for on a helper thread.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&set, &sig);
    std::lock_guard<std::mutex> lock(mu);
    done = true;
    cv.notify_all();
  });
  waiter.detach();
  std::unique_lock<std::mutex> lock(mu);
  cv.wait(lock, [&] { return done; });
  lock.unlock();
  client->close();
  io.stop();
  if (!close_reason.empty() && close_reason != "closed" && !(count > 0 && data_frames >= count)) {
    std::cerr << "tail: connection ended: " << close_reason << "\n";
    return 1;
  }
  return 0;
}

command add_tail(CLI::App& app) {
  auto* sub = app.add_subcommand("tail", "print what the push gateway sends for CHANNEL...");
  struct opts {
    std::vector<std::string> channels;
    std::string url = "ws://127.0.0.1:8080/";
    std::uint64_t count = 0;
  };
  auto o = std::make_shared<opts>();
  sub->add_option("channels", o->channels, "e.g. kline.binance.BTCUSDT.1m")->required();
  sub->add_option("--url", o->url, "push gateway URL");
  sub->add_option("--count", o->count, "exit after this many data messages (0 = run until Ctrl-C)");
  return {sub, [o] { return run_tail(o->url, o->channels, o->count); }};
}

} // namespace mi::app
