// mi_bench_decode: Binance frames/s of mi::binance::codec::decode vs a plain simdjson ondemand
// parse of the same frames extracting the same fields, in the same run.
//
//   mi_bench_decode [--rounds R] [--passes P] [--file PATH]   (defaults: 5 rounds, 200 passes)
//
// Input: the recorded combined @aggTrade stream in /work/shared/fixtures (read in place; the
// benchmark prints a notice and exits 0 when it is absent). Each round decodes every line P
// times with both (alternating which goes first). The baseline gets the frame already padded
// (no copy) and extracts stream, e, E, s, a, p, q, T, m as string_views/ints (no decimal parse,
// no mi::trade); "plain+trade" is the same parse plus decimal::parse of p/q and building an
// mi::trade (strings included), i.e. the unavoidable part of what the codec does; the codec
// also validates every field, resolves the symbol and copies the frame into a padded buffer.

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "connectors/alpaca/codec.hpp"
#include "connectors/binance/codec.hpp"
#include "connectors/bybit/codec.hpp"
#include "connectors/coinbase/codec.hpp"
#include "connectors/kraken/codec.hpp"
#include "connectors/okx/codec.hpp"
#include "messages/decimal.hpp"
#include "messages/trade.hpp"

namespace {

// Time on this thread's CPU, not wall time: on a shared, overloaded machine it leaves out the
// time the benchmark waits for a core (cache and memory contention from other work still count).
struct cpu_clock {
  using duration = std::chrono::nanoseconds;
  using rep = duration::rep;
  using period = duration::period;
  using time_point = std::chrono::time_point<cpu_clock>;
  static constexpr bool is_steady = true;
  static time_point now() {
    timespec ts{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return time_point(duration(static_cast<rep>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec));
  }
};

namespace od = simdjson::ondemand;

struct plain_fields {
  std::string_view stream, e, s, p, q;
  std::int64_t E = 0, a = 0, T = 0;
  bool m = false;
};

// Returns false on any error (the fixture has none).
bool plain_parse(od::parser& parser, const std::string& line, plain_fields& f) {
  auto doc = parser.iterate(simdjson::padded_string_view(line.data(), line.size(), line.capacity()));
  od::object root;
  if (doc.get_object().get(root))
    return false;
  od::object data;
  for (auto field : root) {
    std::string_view key;
    if (field.unescaped_key().get(key))
      return false;
    if (key == "stream") {
      if (field.value().get_string().get(f.stream))
        return false;
    } else if (key == "data") {
      if (field.value().get_object().get(data))
        return false;
      for (auto df : data) {
        std::string_view k;
        if (df.unescaped_key().get(k))
          return false;
        auto v = df.value();
        simdjson::error_code ec = simdjson::SUCCESS;
        if (k == "e")
          ec = v.get_string().get(f.e);
        else if (k == "E")
          ec = v.get_int64().get(f.E);
        else if (k == "s")
          ec = v.get_string().get(f.s);
        else if (k == "a")
          ec = v.get_int64().get(f.a);
        else if (k == "p")
          ec = v.get_string().get(f.p);
        else if (k == "q")
          ec = v.get_string().get(f.q);
        else if (k == "T")
          ec = v.get_int64().get(f.T);
        else if (k == "m")
          ec = v.get_bool().get(f.m);
        if (ec)
          return false;
      }
    }
  }
  return true;
}

std::vector<std::string> read_lines(const std::string& path) {
  std::vector<std::string> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      continue;
    line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
    lines.push_back(std::move(line));
  }
  return lines;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  auto n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

} // namespace

int main(int argc, char** argv) {
  int rounds = 5;
  int passes = 200;
  bool per_exchange = true;
  std::string path = std::string(MI_FIXTURES_DIR) + "/exchanges/binance/aggTrade_stream_2021-04-04.jsonl";
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--rounds")
      rounds = std::atoi(argv[i + 1]);
    else if (a == "--passes")
      passes = std::atoi(argv[i + 1]);
    else if (a == "--file")
      path = argv[i + 1];
    else if (a == "--per-exchange")
      per_exchange = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr, "usage: %s [--rounds R] [--passes P] [--file PATH] [--per-exchange 0|1]\n", argv[0]);
      return 2;
    }
  }
  std::ifstream in(path);
  if (!in) {
    std::printf("mi_bench_decode: %s not found, skipped\n", path.c_str());
    return 0;
  }
  std::vector<std::string> lines;
  std::size_t bytes = 0;
  for (std::string line; std::getline(in, line);) {
    if (line.empty())
      continue;
    line.reserve(line.size() + simdjson::SIMDJSON_PADDING);
    bytes += line.size();
    lines.push_back(std::move(line));
  }
  if (lines.empty()) {
    std::printf("mi_bench_decode: %s is empty, skipped\n", path.c_str());
    return 0;
  }
  const double frames = static_cast<double>(lines.size()) * passes;
  std::printf("mi_bench_decode: %zu frames (%zu B avg) x %d passes, %d rounds (rates per thread CPU second)\n",
              lines.size(), bytes / lines.size(), passes, rounds);

  mi::binance::codec codec;
  od::parser parser;
  std::uint64_t sink = 0;
  auto run_codec = [&] {
    auto t0 = cpu_clock::now();
    for (int p = 0; p < passes; ++p)
      for (const auto& l : lines) {
        auto r = codec.decode(l, 0);
        if (!r || r->what != mi::binance::frame_events::kind::trades || r->trades.size() != 1)
          throw std::runtime_error("codec rejected a fixture frame: " + l);
        sink += r->trades.front().trade_id.size();
      }
    return frames / std::chrono::duration<double>(cpu_clock::now() - t0).count();
  };
  auto run_plain = [&] {
    auto t0 = cpu_clock::now();
    plain_fields f;
    for (int p = 0; p < passes; ++p)
      for (const auto& l : lines) {
        if (!plain_parse(parser, l, f))
          throw std::runtime_error("simdjson rejected a fixture frame: " + l);
        sink += f.p.size() + static_cast<std::uint64_t>(f.a);
      }
    return frames / std::chrono::duration<double>(cpu_clock::now() - t0).count();
  };

  auto run_plain_trade = [&] {
    auto t0 = cpu_clock::now();
    plain_fields f;
    for (int p = 0; p < passes; ++p)
      for (const auto& l : lines) {
        if (!plain_parse(parser, l, f))
          throw std::runtime_error("simdjson rejected a fixture frame: " + l);
        mi::trade t;
        t.exchange = "binance";
        t.symbol = f.s;
        t.base = f.s.substr(0, f.s.size() - 4);
        t.quote = f.s.substr(f.s.size() - 4);
        t.trade_id = std::to_string(f.a);
        auto price = mi::decimal::parse(f.p);
        auto qty = mi::decimal::parse(f.q);
        if (!price || !qty)
          throw std::runtime_error("bad decimal in " + l);
        t.price = *price;
        t.quantity = *qty;
        t.taker_side = f.m ? mi::side::sell : mi::side::buy;
        t.ts_ns = f.T * 1'000'000;
        sink += t.trade_id.size() + t.base.size();
      }
    return frames / std::chrono::duration<double>(cpu_clock::now() - t0).count();
  };

  std::vector<double> ours, plain, plain_trade;
  try {
    for (int r = 0; r < rounds; ++r) {
      double o = 0, b = 0, bt = 0;
      if (r % 2 == 0) {
        o = run_codec();
        b = run_plain();
        bt = run_plain_trade();
      } else {
        bt = run_plain_trade();
        b = run_plain();
        o = run_codec();
      }
      ours.push_back(o);
      plain.push_back(b);
      plain_trade.push_back(bt);
      std::printf("round %d: codec %9.0f frames/s   plain simdjson %9.0f   plain+trade %9.0f   codec/plain %.2f\n",
                  r + 1, o, b, bt, o / b);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "mi_bench_decode: %s\n", e.what());
    return 1;
  }
  std::printf("median: codec %.0f frames/s, plain simdjson %.0f frames/s, plain+trade %.0f frames/s, codec/plain %.2f, "
              "codec/plain+trade %.2f (sink %llu)\n",
              median(ours), median(plain), median(plain_trade), median(ours) / median(plain),
              median(ours) / median(plain_trade), static_cast<unsigned long long>(sink % 10));

  if (!per_exchange)
    return 0;
  // -- every exchange: the fixture trade frames, codec vs a plain simdjson DOM parse --------------
  // The baseline parses the whole frame into simdjson's DOM (every value, no field extraction).
  const std::string fixtures = path.substr(0, path.rfind("/binance/"));
  struct source {
    const char* name;
    std::string file;
  };
  const std::vector<source> sources = {
    {"binance", fixtures + "/binance/trades.jsonl"},
    {"okx", fixtures + "/okx/trades.jsonl"},
    {"bybit", fixtures + "/bybit/trades.jsonl"},
    {"coinbase", fixtures + "/coinbase/trades.jsonl"},
    {"coinbase legacy", fixtures + "/coinbase/legacy_exchange/trades.jsonl"},
    {"kraken v2", fixtures + "/kraken/trades.jsonl"},
    {"kraken v1", fixtures + "/kraken/v1/trades.jsonl"},
    // Alpaca's recorded stream frames (equities fixtures beside exchanges/): all 8 (trades, quote batches, a bar),
    // and its trade frames alone (a 1-trade and a 3-trade batch).
    {"alpaca", fixtures + "/../equities/alpaca/ws/data_frames.jsonl"},
    {"alpaca trades", fixtures + "/../equities/alpaca/ws/data_frames.jsonl"},
  };
  simdjson::dom::parser dom;
  std::printf("\nper exchange (fixture trade frames, %d rounds, ~%d frames per run):\n", rounds, passes * 1910);
  std::printf("%-16s %6s %6s %14s %14s %14s %8s\n", "exchange", "frames", "trades", "codec frames/s", "codec trades/s",
              "DOM frames/s", "codec/DOM");
  for (const auto& src : sources) {
    auto frames_in = read_lines(src.file);
    if (std::string(src.name) == "alpaca trades")
      frames_in.erase(std::remove_if(frames_in.begin(), frames_in.end(),
                                     [](const std::string& l) { return l.find(R"("T":"t")") == std::string::npos; }),
                      frames_in.end());
    if (frames_in.empty()) {
      std::printf("%-16s (no fixture %s)\n", src.name, src.file.c_str());
      continue;
    }
    const int ex_passes = std::max(1, passes * 1910 / static_cast<int>(frames_in.size()));
    const double n_frames = static_cast<double>(frames_in.size()) * ex_passes;
    std::size_t trades_per_pass = 0;
    auto time_it = [&](auto&& decode_one) {
      auto t0 = cpu_clock::now();
      for (int p = 0; p < ex_passes; ++p)
        for (const auto& l : frames_in)
          decode_one(l);
      return n_frames / std::chrono::duration<double>(cpu_clock::now() - t0).count();
    };
    auto run_dom = [&] {
      return time_it([&](const std::string& l) {
        simdjson::dom::element e;
        if (dom.parse(l.data(), l.size(), false).get(e))
          throw std::runtime_error(std::string(src.name) + ": simdjson rejected " + l);
        sink += static_cast<std::uint64_t>(e.type());
      });
    };
    auto count_trades = [&](auto& c) {
      std::size_t n = 0;
      for (const auto& l : frames_in) {
        auto r = c.decode(l, 0);
        if (!r)
          throw std::runtime_error(std::string(src.name) + ": codec rejected " + l + ": " + r.err().message);
        n += r->trades.size();
      }
      return n;
    };
    auto run_with = [&](auto& c) {
      trades_per_pass = count_trades(c);
      return time_it([&](const std::string& l) {
        auto r = c.decode(l, 0);
        if (!r)
          throw std::runtime_error(std::string(src.name) + ": codec rejected " + l);
        sink += r->trades.size();
      });
    };
    mi::binance::codec bc;
    mi::okx::codec oc;
    mi::bybit::codec yc;
    mi::coinbase::codec cc;
    mi::kraken::codec kc;
    mi::alpaca::codec ac;
    const std::string n = src.name;
    auto run_codec_ex = [&] {
      if (n == "binance")
        return run_with(bc);
      if (n == "okx")
        return run_with(oc);
      if (n == "bybit")
        return run_with(yc);
      if (n.rfind("coinbase", 0) == 0)
        return run_with(cc);
      if (n.rfind("alpaca", 0) == 0)
        return run_with(ac);
      return run_with(kc);
    };
    std::vector<double> ex_codec, ex_dom;
    try {
      for (int r = 0; r < rounds; ++r) {
        if (r % 2 == 0) {
          ex_codec.push_back(run_codec_ex());
          ex_dom.push_back(run_dom());
        } else {
          ex_dom.push_back(run_dom());
          ex_codec.push_back(run_codec_ex());
        }
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "mi_bench_decode: %s\n", e.what());
      return 1;
    }
    const double fc = median(ex_codec), fd = median(ex_dom);
    const double tpf = static_cast<double>(trades_per_pass) / static_cast<double>(frames_in.size());
    std::printf("%-16s %6zu %6zu %14.0f %14.0f %14.0f %8.2f\n", src.name, frames_in.size(), trades_per_pass, fc,
                fc * tpf, fd, fc / fd);
    std::fflush(stdout);
  }
  return 0;
}
