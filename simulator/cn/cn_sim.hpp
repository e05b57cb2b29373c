#pragma once

// A loopback stand-in for the A-share sources (issue 13; docs/simulator.md "A-share sources"): Tencent's
// `/q=sh600000,...`, Sina's `/list=sh600000,...` and Eastmoney's `/api/qt/stock/kline/get?...` in their real formats
// (GBK bytes, `~`- and `,`-separated statements, kline JSON), so the platform's codecs and poller run unchanged
// against it; faults per source at run time. Pure state and rendering here; the HTTP server in cn_sim_server.hpp.
//
// The market: per symbol a sequence of snapshots 0, 1, 2, ... Snapshot 0 is the pre-open line (no trade yet: last,
// open, high, low 0, volume 0, levels from the previous close). Each further one is a trade of the market generator
// (simulator/generator.hpp: price walk in ticks of 0.01, size turned into lots), its time one second after the
// last (the sources' resolution is the second). The market steps once after every answered quote request that
// held the symbol (or on the `step` command), so a poller that reads every answer sees every snapshot exactly once
// unless a fault makes it miss one; `history()` lists them for the tests.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "connectors/cn/quotes.hpp"
#include "simulator/generator.hpp"

namespace mi::sim::cn {

/// A source's answer.
struct cn_reply {
  int status = 200;
  std::string body;
  std::string content_type = "text/html; charset=GBK";
  std::vector<std::pair<std::string, std::string>> headers{};
  int delay_ms = 0; ///< the server waits this long before answering (a timeout fault)
};

/// Faults of one source ("tencent", "sina", "eastmoney"), consumed one per request.
struct cn_faults {
  int fail = 0; ///< answer `fail_status` to the next N requests
  int fail_status = 503;
  int timeout = 0; ///< wait `timeout_ms`, then answer 503, to the next N requests
  int timeout_ms = 3000;
  int empty = 0;     ///< answer 200 with an empty body to the next N requests
  bool down = false; ///< answer 503 until cleared (`recover`)
};

/// One snapshot the market produced (for the tests).
struct cn_snapshot {
  std::string symbol; ///< "600000.SH"
  int seq = 0;        ///< 0 = pre-open
  std::int64_t ts_ns = 0;
  mi::decimal last, volume, turnover; ///< shares, CNY
};

/// The simulated A-share market and its three sources; thread-safe.
class cn_sim {
public:
  /// `symbols` in the venue's form ("600000.SH"); snapshot 0 is stamped `start_ns` (whole seconds).
  cn_sim(const std::vector<std::string>& symbols, std::int64_t start_ns, std::uint64_t seed = 7);

  /// The answer to GET `path` (+ `query`); `/sim/cn?...` runs a command: source=S&action=fail&count=N&status=C,
  /// timeout&count=N&ms=M, empty&count=N, down, recover; action=step (every symbol one snapshot on);
  /// action=requests&source=S ({"requests":N}).
  cn_reply handle(std::string_view path, std::string_view query);

  void set_faults(const std::string& source, cn_faults f);
  std::uint64_t requests(const std::string& source) const;
  /// Every snapshot produced so far, per symbol in order.
  std::vector<cn_snapshot> history(const std::string& symbol) const;
  /// The daily bars Eastmoney serves for every symbol: three days, adjusted forward (as traded) and backward
  /// (prices x 2); volume 1000 + day lots, amount 10,000 x (day + 1) CNY.
  static constexpr int daily_bar_days = 3;

private:
  struct symbol_state {
    mi::cn::symbol sym;
    std::string name; ///< UTF-8
    mi::sim::symbol_generator gen;
    std::vector<cn_snapshot> history;
    mi::decimal prev_close, open, high, low;
  };
  cn_reply quotes(mi::cn::quote_source s, std::string_view codes);
  cn_reply klines(std::string_view query) const;
  void step(symbol_state& st);
  std::string tencent_line(const symbol_state& st) const;
  std::string sina_line(const symbol_state& st) const;
  /// A fault to apply to a request of `source`, if any (consumes it).
  bool fault(const std::string& source, cn_reply& out);

  mutable std::mutex mu_;
  std::map<std::string, symbol_state> symbols_; ///< by source code ("sh600000")
  std::map<std::string, cn_faults> faults_;
  std::map<std::string, std::uint64_t> requests_;
};

} // namespace mi::sim::cn
