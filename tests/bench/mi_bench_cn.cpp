// A-share benchmarks (issue 13; docs/performance.md "A-share polling"):
//  1. codec: Tencent and Sina answers of 60 symbols (GBK, from the A-share simulator) parsed to snapshots, lines/s on
//     one core, against a raw baseline that only scans the same bytes for the separators (the least any parser does);
//  2. polling: the quote poller with the default per-source limits against the simulator over real loopback HTTP,
//     symbols answered per second (Tencent serving; then Tencent down and Sina serving everything).
// Usage: mi_bench_cn [seconds per polling run, default 10]. Prints medians of 5 codec runs.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "connectors/cn/poller.hpp"
#include "connectors/transport/io_thread.hpp"
#include "connectors/transport/url.hpp"
#include "connectors/transport/ws_client.hpp"
#include "simulator/cn/cn_sim_server.hpp"

namespace {

using clk = std::chrono::steady_clock;

std::int64_t wall_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
    .count();
}

std::vector<std::string> symbols(int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) {
    char b[16];
    std::snprintf(b, sizeof b, "%06d.%s", (i % 2 ? 600000 : 1) + i, i % 2 ? "SH" : "SZ");
    out.emplace_back(b);
  }
  return out;
}

template <class F>
double median_rate(F f, std::size_t per_call) {
  std::vector<double> rates;
  for (int run = 0; run < 5; ++run) {
    std::size_t calls = 0;
    const auto t0 = clk::now();
    while (clk::now() - t0 < std::chrono::milliseconds(400)) {
      for (int i = 0; i < 100; ++i)
        f();
      calls += 100;
    }
    const double s = std::chrono::duration<double>(clk::now() - t0).count();
    rates.push_back(static_cast<double>(calls * per_call) / s);
  }
  std::sort(rates.begin(), rates.end());
  return rates[2];
}

void codec() {
  const auto syms = symbols(60);
  mi::sim::cn::cn_sim sim(syms, wall_ns());
  std::string codes;
  for (const auto& s : syms)
    codes += (codes.empty() ? "" : ",") + mi::cn::source_code(*mi::cn::parse_symbol(s));
  (void)sim.handle("/q=" + codes, ""); // past the pre-open line: every line has trades
  for (auto src : mi::cn::all_quote_sources) {
    const std::string body =
      sim.handle(std::string(src == mi::cn::quote_source::tencent ? "/q=" : "/list=") + codes, "").body;
    const char sep = src == mi::cn::quote_source::tencent ? '~' : ',';
    std::size_t sink = 0;
    const double raw = median_rate(
      [&] {
        for (char c : body)
          sink += (c == sep) + (c == '\n');
      },
      60);
    const double parsed =
      median_rate([&] { sink += mi::cn::parse_quotes(src, body, mi::cn::text_encoding::gbk, 1).quotes.size(); }, 60);
    std::printf("codec %-7s %zu bytes/answer: parse %.0f lines/s, raw separator scan %.0f lines/s (%.1f%%)%s\n",
                std::string(mi::cn::to_string(src)).c_str(), body.size(), parsed, raw, 100.0 * parsed / raw,
                sink == 0 ? " (!)" : "");
  }
}

void polling(double seconds, bool tencent_down) {
  const auto syms = symbols(600);
  mi::sim::cn::cn_sim sim(syms, wall_ns());
  mi::net::io_thread io;
  mi::sim::cn::cn_sim_server server(io.context(), sim);
  if (tencent_down)
    sim.set_faults("tencent", {0, 503, 0, 0, 0, true});
  mi::cn::poller_settings s; // the defaults of equities.cn (config.hpp): Tencent 2/s burst 2, Sina 1/s, 60 a batch
  for (const auto& x : syms)
    s.symbols.push_back(*mi::cn::parse_symbol(x));
  s.tencent.url = s.sina.url = server.base_url();
  s.tencent.requests_per_second = 2;
  s.tencent.burst = 2;
  s.sina.requests_per_second = 1;
  s.sina.burst = 1;
  s.interval_ns = 3'000'000'000;
  s.sessions_only = false;
  mi::cn::quote_poller p(s, nullptr, 1, wall_ns());
  std::size_t answered = 0, requests = 0;
  const auto t0 = clk::now();
  while (std::chrono::duration<double>(clk::now() - t0).count() < seconds) {
    auto n = p.next(wall_ns());
    if (auto* w = std::get_if<std::int64_t>(&n)) {
      std::this_thread::sleep_for(std::chrono::nanoseconds(std::min<std::int64_t>(*w, 100'000'000)));
      continue;
    }
    const auto& req = std::get<mi::cn::poll_request>(n);
    auto r = mi::net::http_fetch(*mi::net::parse_url(req.url), std::chrono::milliseconds(2000), req.headers);
    auto st =
      p.on_response(req, r ? std::optional<int>(static_cast<int>(r->status)) : std::nullopt,
                    r ? r->body : std::string(), "", r ? "" : r.err().message, mi::cn::text_encoding::gbk, wall_ns());
    ++requests;
    answered += st.quotes.size();
  }
  const double s_el = std::chrono::duration<double>(clk::now() - t0).count();
  std::printf("polling 600 symbols, %s: %.1f symbols/s answered, %.2f requests/s over %.1f s (tencent %llu, sina %llu "
              "requests at the simulator)\n",
              tencent_down ? "Tencent down, Sina serving" : "Tencent serving", answered / s_el, requests / s_el, s_el,
              static_cast<unsigned long long>(sim.requests("tencent")),
              static_cast<unsigned long long>(sim.requests("sina")));
}

} // namespace

int main(int argc, char** argv) {
  const double seconds = argc > 1 ? std::atof(argv[1]) : 10.0;
  codec();
  polling(seconds, false);
  polling(seconds, true);
}
