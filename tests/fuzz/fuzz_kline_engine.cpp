// libFuzzer target for the kline engine (trades in, klines out): random decimals of every size
// (up to 38 digits, any scale, huge products), random times, receive times and ids, duplicates,
// late trades and restarts from a checkpoint. Never a crash, an abort, a hang or undefined
// behaviour, and these must hold for every input:
//   - a final's low <= open, close <= high and trade_count > 0 (filled windows are off);
//   - the checkpoint text decodes and encodes back to itself;
//   - a run restarted from its checkpoint publishes, for every (interval, open, revision), the
//     same final as the uninterrupted run.
// Build: cmake -DMI_FUZZ=ON -DCMAKE_CXX_COMPILER=clang++ (scripts/fuzz).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "messages/codec.hpp"
#include "messages/calendar/calendar.hpp"
#include "messages/kline/kline_engine.hpp"

// Reproducing a finding outside libFuzzer: compile this file with a main() that reads the crash
// file, -DMI_FUZZ_DIFF (prints every add() result and the differing finals) and
// -DMI_FUZZ_DEBUG='(void)std::fprintf(stderr, "%s\n", (text).c_str());' (prints the checkpoint).
#ifndef MI_FUZZ_DEBUG
#define MI_FUZZ_DEBUG(text)
#endif

namespace {

namespace ke = mi::kline_engine;

// Reads the fuzzer's bytes as a stream of small integers (zeros once exhausted).
struct reader {
  const std::uint8_t* p;
  std::size_t n;
  std::uint64_t take(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i) {
      v = (v << 8) | (n > 0 ? *p : 0);
      if (n > 0) {
        ++p;
        --n;
      }
    }
    return v;
  }
  bool done() const { return n == 0; }
};

// A decimal of 1..38 digits at scale 0..40 (sometimes negative or zero: the engine must cope
// with anything decode_trade_pb accepts).
mi::decimal any_decimal(reader& r) {
  const int digits = 1 + static_cast<int>(r.take(1) % 38);
  std::string text;
  const auto kind = r.take(1);
  if (kind % 17 == 0)
    text.push_back('-');
  for (int i = 0; i < digits; ++i)
    text.push_back(static_cast<char>('0' + (i == 0 ? 1 + r.take(1) % 9 : r.take(1) % 10)));
  const int scale = static_cast<int>(r.take(1) % 41);
  if (scale > 0 && scale < digits)
    text.insert(text.end() - scale, '.');
  else if (scale >= digits)
    text = (text[0] == '-' ? "-0." : "0.") + std::string(static_cast<std::size_t>(scale - digits), '0') +
           text.substr(text[0] == '-' ? 1 : 0);
  auto d = mi::decimal::parse(text);
  return d ? *d : mi::decimal::parse("1").value();
}

// A Shanghai-like calendar (lunch break, both auctions, a holiday) built from text: no files in a fuzzer.
const mi::calendar::calendar& shanghai() {
  static const auto cal = [] {
    auto c = mi::calendar::parse_calendar("market XFZZ\ntime_zone Asia/Shanghai\nopening_auction 09:15 09:25\n"
                                          "session 09:30 11:30\nsession 13:00 15:00\nclosing_auction 14:57 15:00\n"
                                          "years 2026\nholiday 2026-03-04\n",
                                          "fuzz.cal");
    if (!c)
      __builtin_trap();
    return *c;
  }();
  return cal;
}

std::vector<mi::trade> trades_of(reader& r, bool sessions) {
  std::vector<mi::trade> out;
  // With sessions: from 2026-03-02 09:20 Shanghai, steps 20 times longer (400 trades reach days later).
  std::int64_t ts_ms = sessions ? 1'772'414'400'000 : 1'700'000'000'000;
  const std::int64_t step_ms = sessions ? 740 : 37;
  while (!r.done() && out.size() < 400) {
    const auto op = r.take(1);
    if (op % 11 == 0 && !out.empty()) { // a duplicate of an earlier trade
      out.push_back(out[r.take(2) % out.size()]);
      continue;
    }
    mi::trade t;
    t.exchange = "binance";
    t.symbol = "BTCUSDT";
    t.base = "BTC";
    t.quote = "USDT";
    const auto id = r.take(2);
    t.set_id(op % 7 == 0 ? "x" + std::to_string(id) : std::to_string(id));
    const bool small = op % 5 != 0;
    t.price = small
                ? *mi::decimal::from_parts(static_cast<std::int64_t>(1 + r.take(2)), static_cast<int>(r.take(1) % 9))
                : any_decimal(r);
    t.quantity = small
                   ? *mi::decimal::from_parts(static_cast<std::int64_t>(1 + r.take(2)), static_cast<int>(r.take(1) % 9))
                   : any_decimal(r);
    t.taker_side = static_cast<mi::side>(r.take(1) % 3);
    // Mostly forward in time, sometimes late (back up to ~9 min) or far away (any 64-bit time).
    const auto step = r.take(1);
    if (step < 200)
      ts_ms += static_cast<std::int64_t>(step) * step_ms;
    std::int64_t ts = ts_ms;
    if (step >= 200 && step < 250)
      ts -= static_cast<std::int64_t>(r.take(2)) * 9;
    t.ts_ns = ts * 1'000'000 + static_cast<std::int64_t>(r.take(1));
    if (step >= 250)
      t.ts_ns = static_cast<std::int64_t>(r.take(8));
    const auto recv = r.take(1);
    t.recv_ns = recv % 4 == 0 ? 0 : (recv % 4 == 1 ? static_cast<std::int64_t>(r.take(8)) : ts_ms * 1'000'000);
    out.push_back(std::move(t));
  }
  return out;
}

using finals_map = std::map<std::tuple<std::string, std::int64_t, std::uint32_t>, std::string>;

void record(const std::vector<mi::kline>& ks, finals_map& m) {
  for (const auto& k : ks) {
    if (k.trade_count == 0 || k.low > k.open || k.low > k.close || k.high < k.open || k.high < k.close ||
        k.low > k.high)
      __builtin_trap();
    auto json = mi::kline_to_json(k);
    auto [it, fresh] = m.emplace(std::make_tuple(k.interval, k.open_time_ms, k.revision), json);
    if (!fresh && it->second != json)
      __builtin_trap(); // the same final published twice with different values
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  reader r{data, size};
  ke::options o;
  static const char* names[] = {"1s", "1m", "5m", "1h", "1d", "1w", "1M"};
  const auto mask = r.take(1);
  for (int i = 0; i < 7; ++i)
    if ((mask >> i) & 1)
      o.intervals.push_back(*ke::parse_interval(names[i]));
  if (o.intervals.empty())
    o.intervals.push_back(*ke::parse_interval("1m"));
  o.grace_ms = static_cast<std::int64_t>(r.take(1)) * 50;
  // Off, or larger than any input: a ring that forgets ids is an approximation (a restart
  // replays with the ids it still had at the checkpoint), so equality is only promised without
  // forgetting (kline_engine.hpp, checkpoint::recent_ids).
  o.dedup_ids = r.take(1) % 2 == 0 ? 0 : 1024;
  o.keep_finals = r.take(1) % 20;
  const std::size_t crash_at = r.take(2);
  // Sometimes on a calendar with sessions (the session mapper), with 3d added to the interval choice.
  const bool sessions = (mask >> 7) & 1;
  const mi::calendar::calendar* cal = sessions ? &shanghai() : nullptr;
  if (sessions && (mask & 0x40) == 0)
    o.intervals.push_back(*ke::parse_interval("3d"));
  const auto trades = trades_of(r, sessions);

  finals_map want;
  {
    ke::symbol_windows sw("binance", "BTCUSDT", o, nullptr, cal);
    std::vector<mi::kline> out;
    for (std::size_t i = 0; i < trades.size(); ++i) {
      auto rr = sw.add(trades[i], i + 1);
#ifdef MI_FUZZ_DIFF
      std::fprintf(stderr, "A seq %zu id %s ts %lld acc %d late %d rev %d rep %d dup %d rej %d\n", i + 1,
                   trades[i].trade_id.c_str(), (long long)(trades[i].ts_ns / 1000000), rr.accepted, rr.late, rr.revised,
                   rr.replayed, rr.duplicate, (int)rr.rejected);
#endif
      sw.close_by_event_time(out);
      if (i % 50 == 49)
        sw.take_partials(static_cast<std::int64_t>(i) * 1000, out);
    }
    sw.close_all(out);
    std::vector<mi::kline> finals;
    for (auto& k : out)
      if (k.is_final)
        finals.push_back(k);
    record(finals, want);
  }
  // The same trades with a restart from a checkpoint after trade `crash_at`.
  if (trades.empty())
    return 0;
  const std::size_t cut = crash_at % (trades.size() + 1);
  finals_map got;
  std::vector<mi::kline> out;
  ke::checkpoint cp;
  {
    ke::symbol_windows sw("binance", "BTCUSDT", o, nullptr, cal);
    for (std::size_t i = 0; i < cut; ++i) {
      sw.add(trades[i], i + 1);
      sw.close_by_event_time(out);
    }
    const auto text = sw.current_checkpoint().encode();
    MI_FUZZ_DEBUG(text);
    auto decoded = ke::checkpoint::decode(text);
    if (!decoded || decoded->encode() != text)
      __builtin_trap();
    cp = *decoded;
  }
  ke::symbol_windows sw("binance", "BTCUSDT", o, &cp, cal);
  for (std::size_t i = cp.min_resume_seq() - 1; i < trades.size(); ++i) {
    auto rr = sw.add(trades[i], i + 1);
#ifdef MI_FUZZ_DIFF
    std::fprintf(stderr, "B seq %zu id %s ts %lld acc %d late %d rev %d rep %d dup %d rej %d\n", i + 1,
                 trades[i].trade_id.c_str(), (long long)(trades[i].ts_ns / 1000000), rr.accepted, rr.late, rr.revised,
                 rr.replayed, rr.duplicate, (int)rr.rejected);
#endif
    sw.close_by_event_time(out);
  }
  sw.close_all(out);
  record(out, got);
#ifdef MI_FUZZ_DIFF
  for (auto& [k, v] : want)
    if (got[k] != v)
      std::fprintf(stderr, "want %s\n got %s\n", v.c_str(), got[k].c_str());
  for (auto& [k, v] : got)
    if (!want.count(k))
      std::fprintf(stderr, "extra %s\n", v.c_str());
#endif
  if (got != want)
    __builtin_trap(); // a restart changed what is published
  return 0;
}
