// The small commands: decode, aggregate, migrate, tail.
#include <atomic>
#include <csignal>
#include <iostream>
#include <mutex>
#include <condition_variable>
#include <spdlog/spdlog.h>

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
#include "messages/util/clock.hpp"

namespace mi::app {

int run_decode(const std::string& exchange) {
  std::ios::sync_with_stdio(false);
  auto r = mi::connectors::decode_lines(exchange, std::cin, std::cout, std::cerr);
  std::cout.flush();
  if (!r) {
    std::cerr << "decode: " << r.err().message << "\n";
    return 2;
  }
  return r->errors > 0 ? 1 : 0;
}

int run_aggregate(const std::vector<std::string>& intervals, const std::string& grace) {
  std::ios::sync_with_stdio(false);
  mi::kline_engine::options o;
  for (const auto& name : intervals) {
    auto iv = mi::kline_engine::parse_interval(name);
    if (!iv) {
      std::cerr << "aggregate: " << iv.err().message << "\n";
      return 2;
    }
    o.intervals.push_back(*iv);
  }
  auto g = mi::cfg::parse_duration(grace);
  if (!g) {
    std::cerr << "aggregate: --grace: " << g.err().message << "\n";
    return 2;
  }
  o.grace_ms = g->count();
  mi::kline_engine::batch_aggregator agg(o);
  std::vector<mi::kline> finals;
  std::string line;
  std::uint64_t n = 0;
  std::uint64_t errors = 0;
  std::uint64_t late = 0;
  auto flush = [&] {
    for (auto& k : finals)
      std::cout << mi::kline_to_json(k) << '\n';
    finals.clear();
  };
  while (std::getline(std::cin, line)) {
    ++n;
    if (line.empty())
      continue;
    auto t = mi::trade_from_json(line);
    if (!t) {
      ++errors;
      std::cerr << "line " << n << ": " << t.err().message << "\n";
      continue;
    }
    auto r = agg.add(*t, finals);
    if (r.rejected != mi::reject_reason::none) {
      // Skipped whole; the rest of the input goes on (exit status 1 at the end).
      ++errors;
      std::cerr << "line " << n << ": trade " << t->trade_id << " skipped (" << mi::to_string(r.rejected) << "): "
                << (r.rejected == mi::reject_reason::unrepresentable
                      ? "its amounts cannot be summed exactly in 128 bits"
                      : "its time is beyond the clock skew of its receive time")
                << "\n";
    }
    late += static_cast<std::uint64_t>(r.late > 0);
    flush();
  }
  agg.finish(finals);
  flush();
  if (late > 0)
    std::cerr << "aggregate: " << late << " late trades dropped (their window was already final)\n";
  return errors > 0 ? 1 : 0;
}

int run_migrate(const std::string& dsn, const mi::gw::partition_policy& policy, const std::string& master_key_file) {
  auto mk = command_master_key(master_key_file);
  if (!mk) {
    std::cerr << "migrate: " << mk.err().message << "\n";
    return 2;
  }
  std::vector<std::string> warnings;
  auto r = mi::gw::migrate(dsn, &warnings);
  for (const auto& w : warnings)
    std::cerr << "migrate: warning: " << w << "\n";
  if (!r) {
    std::cerr << "migrate: " << r.err().message << "\n";
    return 1;
  }
  if (r->empty())
    std::cout << "migrate: schema is up to date\n";
  for (const auto& v : *r)
    std::cout << "migrate: applied " << v << "\n";
  if (mk->has_value()) {
    auto sealed = mi::gw::seal_clear_api_keys(dsn, **mk);
    if (!sealed) {
      std::cerr << "migrate: " << sealed.err().message << "\n";
      return 1;
    }
    std::cout << "migrate: sealed " << *sealed << " API signing key(s) stored in clear (master key "
              << (*mk)->fingerprint << ")\n";
  }
  auto p = mi::gw::maintain_partitions(dsn, policy, mi::util::now_ns());
  if (!p) {
    std::cerr << "migrate: " << p.err().message << "\n";
    return 1;
  }
  if (p->timescale)
    std::cout << "migrate: TimescaleDB hypertables (chunks are created by TimescaleDB)\n";
  for (const auto& n : p->created)
    std::cout << "migrate: created partition " << n << "\n";
  for (const auto& n : p->dropped)
    std::cout << "migrate: dropped partition " << n << " (retention)\n";
  return 0;
}

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

} // namespace mi::app
